//! Tests of the code arena (`arena/`), in both kinds of code memory.

use super::*;

fn page() -> usize {
    region::page::size()
}

/// A function returning `v`: x86-64 `mov eax, v; ret`.
#[cfg(not(target_arch = "aarch64"))]
fn ret_imm(v: i32) -> Vec<u8> {
    let mut code = vec![0xB8];
    code.extend_from_slice(&v.to_le_bytes());
    code.push(0xC3);
    code
}

/// A function returning `v`: AArch64 `movz w0, lo; movk w0, hi, lsl 16; ret`.
#[cfg(target_arch = "aarch64")]
fn ret_imm(v: i32) -> Vec<u8> {
    use dynasmrt::{dynasm, DynasmApi};
    let (lo, hi) = (v as u32 & 0xffff, v as u32 >> 16);
    let mut ops = dynasmrt::VecAssembler::<dynasmrt::aarch64::Aarch64Relocation>::new(0);
    dynasm!(ops ; .arch aarch64 ; movz w0, #lo ; movk w0, #hi, lsl #16 ; ret);
    ops.finalize().expect("assembles")
}

/// Calls the piece as an `extern "C" fn() -> i32`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn call(arena: &CodeArena, h: CodeHandle) -> i32 {
    let entry = arena.entry(h);
    assert!(!entry.is_null(), "calling a stale handle");
    arena.prepare_for_execution(h);
    // SAFETY: the tests only call pieces built by `ret_imm`, a complete function with
    // the C ABI, installed in read-execute pages of a live arena.
    let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(entry) };
    f()
}

/// A fresh arena of each kind of memory this platform supports.
fn arenas(limit: usize) -> Vec<CodeArena> {
    let mut all = vec![CodeArena::with_mapping(limit, Mapping::Protect)];
    if Mapping::preferred() == Mapping::Dual {
        all.push(CodeArena::with_mapping(limit, Mapping::Dual));
    }
    all
}

/// A fresh arena of each kind, with a limit in its own unit, and that unit.
fn arenas_sized(limit: impl Fn(usize) -> usize) -> Vec<(CodeArena, usize)> {
    arenas(0)
        .into_iter()
        .map(|a| {
            let u = unit(&a);
            (CodeArena::with_mapping(limit(u), a.mapping()), u)
        })
        .collect()
}

/// What a run is rounded to: a page with `Protect`, a 64-byte line with `Dual`.
fn unit(arena: &CodeArena) -> usize {
    match arena.mapping() {
        Mapping::Protect => page(),
        Mapping::Dual => PIECE_ALIGN,
    }
}

/// Address space a chunk of `len` bytes of runs takes: whole pages.
fn pages_for(len: usize) -> usize {
    len.div_ceil(page()) * page()
}

/// The `mprotect` calls one install (or one reclaimed run) costs in this arena.
fn protects(arena: &CodeArena) -> u64 {
    u64::from(arena.mapping() == Mapping::Protect)
}

/// A piece of `len` bytes, not meant to be run.
fn blob(len: usize, byte: u8) -> Vec<u8> {
    vec![byte; len]
}

#[test]
fn new_arena_maps_nothing() {
    let arena = CodeArena::new(DEFAULT_LIMIT);
    assert_eq!(arena.limit(), DEFAULT_LIMIT);
    assert_eq!(arena.used(), 0);
    assert_eq!(arena.reserved(), 0);
    assert_eq!(CodeArena::default().limit(), 64 << 20);
}

#[test]
fn arena_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CodeArena>();
    assert_send_sync::<CodeHandle>();
    assert_send_sync::<ArenaError>();
}

#[test]
fn installs_and_runs_one_function() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let u = unit(&arena);
        let code = ret_imm(42);
        let h = arena.install_one(&code).unwrap();
        assert!(arena.is_live(h));
        assert_eq!(arena.code(h), &code);
        assert_eq!(arena.entry(h) as usize % PIECE_ALIGN, 0);
        assert_eq!(arena.used(), u);
        assert_eq!(arena.live_pieces(), 1);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, h), 42);
    }
}

#[test]
fn a_batch_shares_one_run_and_one_protection_round() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let u = unit(&arena);
        let codes: Vec<Vec<u8>> = (0..5).map(|i| ret_imm(100 + i)).collect();
        // A longer piece (not a multiple of 16) in the middle shifts its successors.
        let mut pieces: Vec<&[u8]> = codes.iter().map(|c| c.as_slice()).collect();
        let long = blob(37, 0x90);
        pieces.insert(2, &long);

        let before = arena.stats();
        let handles = arena.install(&pieces).unwrap();
        let after = arena.stats();
        assert_eq!(
            after.protect_calls - before.protect_calls,
            protects(&arena),
            "one mprotect per batch (none with two views)"
        );
        assert_eq!(after.icache_syncs - before.icache_syncs, 1);
        assert_eq!(after.batches - before.batches, 1);
        assert_eq!(after.pieces - before.pieces, 6);

        assert_eq!(handles.len(), pieces.len());
        assert_eq!(
            arena.used(),
            u.max(6 * PIECE_ALIGN),
            "six small pieces fit in one unit"
        );
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (h, p) in handles.iter().zip(&pieces) {
            assert_eq!(arena.code(*h), *p);
            let at = arena.entry(*h) as usize;
            assert_eq!(at % PIECE_ALIGN, 0);
            spans.push((at, at + p.len()));
        }
        for w in spans.windows(2) {
            assert!(
                w[0].1 <= w[1].0,
                "pieces overlap or are out of order: {spans:?}"
            );
        }
        // Padding after the 37-byte piece traps: int3 on x86, udf #0 (a zero word) on AArch64.
        let pad = spans[2].1;
        // SAFETY: the padding byte lies in the same live, readable run.
        assert_eq!(unsafe { *(pad as *const u8) }, FILL);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        for (i, h) in handles.iter().enumerate().filter(|&(i, _)| i != 2) {
            let v = if i < 2 { i } else { i - 1 };
            assert_eq!(call(&arena, *h), 100 + v as i32);
        }
    }
}

#[test]
fn the_icache_is_synchronised_over_every_installed_byte() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let a = ret_imm(1);
        let b = blob(100, 0x90);
        let handles = arena.install(&[&a, &b]).unwrap();
        assert_eq!(arena.stats().icache_syncs, 1);
        let (start, len) = arena.last_icache_sync;
        for h in handles {
            let at = arena.entry(h) as usize;
            assert!(at >= start && at + arena.code(h).len() <= start + len);
        }
    }
}

#[test]
fn a_multi_page_batch_is_one_run() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let u = unit(&arena);
        let big = blob(u + 1, 0x90);
        let small = ret_imm(5);
        let hs = arena.install(&[&big, &small]).unwrap();
        // The small piece follows the big one on the next 64-byte boundary.
        let end = (u + 1).next_multiple_of(PIECE_ALIGN) + small.len();
        assert_eq!(arena.used(), end.next_multiple_of(u));
        assert_eq!(arena.code(hs[0]).len(), u + 1);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, hs[1]), 5);
    }
}

#[test]
fn exhaustion_is_an_error_and_the_arena_keeps_working() {
    for (mut arena, u) in arenas_sized(|u| 2 * u) {
        let too_big = blob(2 * u + 1, 0x90);
        match arena.install(&[&too_big]) {
            Err(ArenaError::Full {
                limit,
                used,
                needed,
            }) => {
                assert_eq!((limit, used, needed), (2 * u, 0, 3 * u));
            }
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(arena.used(), 0);

        let a = arena.install_one(&ret_imm(1)).unwrap();
        let b = arena.install_one(&ret_imm(2)).unwrap();
        assert_eq!(arena.used(), 2 * u);
        let err = arena.install_one(&ret_imm(3)).unwrap_err();
        assert_eq!(
            err,
            ArenaError::Full {
                limit: 2 * u,
                used: 2 * u,
                needed: u
            }
        );
        // All or nothing: a batch that does not fit installs nothing.
        assert_eq!(arena.live_pieces(), 2);
        assert_eq!(arena.used(), 2 * u);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            assert_eq!(call(&arena, a), 1);
            assert_eq!(call(&arena, b), 2);
        }
        assert!(arena.is_live(a) && arena.is_live(b));
    }
}

#[test]
fn a_zero_limit_refuses_everything_but_the_empty_batch() {
    for mut arena in arenas(0) {
        assert!(arena.install(&[]).unwrap().is_empty());
        assert!(matches!(
            arena.install_one(&ret_imm(1)),
            Err(ArenaError::Full { .. })
        ));
        assert_eq!(arena.reserved(), 0);
    }
}

#[test]
fn empty_batches_map_nothing_and_empty_pieces_are_fine() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let u = unit(&arena);
        assert!(arena.install(&[]).unwrap().is_empty());
        assert_eq!(arena.reserved(), 0);
        let hs = arena.install(&[&[], &ret_imm(9), &[]]).unwrap();
        assert_eq!(arena.code(hs[0]), &[] as &[u8]);
        assert!(!arena.entry(hs[0]).is_null());
        assert_eq!(arena.used(), u);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, hs[1]), 9);
    }
}

#[test]
fn release_reclaims_pages_for_later_installs() {
    // The run of a batch of two small pieces, and room for one more small piece.
    let pair = |u: usize| (PIECE_ALIGN + ret_imm(0).len()).next_multiple_of(u);
    for (mut arena, u) in arenas_sized(|u| pair(u) + u) {
        let a = arena.install(&[&ret_imm(1), &ret_imm(11)]).unwrap();
        let b = arena.install_one(&ret_imm(2)).unwrap();
        assert!(arena.install_one(&ret_imm(3)).is_err());
        let reserved = arena.reserved();
        let old_entry = arena.entry(a[0]);

        // Half a batch: its run stays.
        arena.release(a[0]);
        assert!(!arena.is_live(a[0]));
        assert!(arena.entry(a[0]).is_null());
        assert!(arena.code(a[0]).is_empty());
        assert_eq!(arena.used(), pair(u) + u);
        assert!(arena.install_one(&ret_imm(3)).is_err());
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, a[1]), 11);

        // The whole batch: its page comes back and is reused.
        let before = arena.stats();
        arena.release(a[1]);
        assert_eq!(arena.used(), u);
        assert_eq!(arena.stats().runs_reclaimed - before.runs_reclaimed, 1);
        assert_eq!(
            arena.stats().protect_calls - before.protect_calls,
            protects(&arena)
        );
        let c = arena.install_one(&ret_imm(3)).unwrap();
        assert_eq!(arena.used(), 2 * u);
        assert_eq!(arena.reserved(), reserved, "no new mapping");
        assert_eq!(arena.entry(c), old_entry, "first fit reuses the freed page");
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            assert_eq!(call(&arena, c), 3);
            assert_eq!(call(&arena, b), 2);
        }

        // Releasing twice, or a stale handle, changes nothing.
        arena.release(a[0]);
        arena.release(a[1]);
        assert_eq!(arena.used(), 2 * u);
        assert!(arena.is_live(c));
    }
}

#[test]
fn free_runs_coalesce() {
    for (mut arena, u) in arenas_sized(|u| 4 * u) {
        let hs: Vec<CodeHandle> = (0..4)
            .map(|i| arena.install_one(&ret_imm(i)).unwrap())
            .collect();
        let reserved = arena.reserved();
        assert_eq!(reserved, pages_for(4 * u));
        arena.release(hs[1]);
        arena.release(hs[2]);
        // Two neighbouring free pages hold a two-page batch.
        let two = arena.install_one(&blob(u + 1, 0x90)).unwrap();
        assert_eq!(arena.entry(two), arena.entry(hs[0]).wrapping_add(u));
        arena.release(two);
        arena.release(hs[0]);
        arena.release(hs[3]);
        assert_eq!(arena.used(), 0);
        // Everything is one free run again.
        let four = arena.install_one(&blob(3 * u + 1, 0x90)).unwrap();
        assert_eq!(arena.used(), 4 * u);
        assert_eq!(arena.reserved(), reserved);
        assert!(arena.is_live(four));
    }
}

#[test]
fn clear_unmaps_everything_and_invalidates_handles() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let old = arena.install(&[&ret_imm(1), &ret_imm(2)]).unwrap();
        arena.clear();
        assert_eq!(arena.used(), 0);
        assert_eq!(arena.reserved(), 0);
        assert_eq!(arena.live_pieces(), 0);
        for h in &old {
            assert!(!arena.is_live(*h));
            assert!(arena.entry(*h).is_null());
            assert!(arena.code(*h).is_empty());
        }
        // New pieces take the same slots, yet old handles do not name them.
        let new = arena.install(&[&ret_imm(3), &ret_imm(4)]).unwrap();
        for (o, n) in old.iter().zip(&new) {
            assert_ne!(o, n);
            assert!(!arena.is_live(*o));
        }
        arena.release(old[0]);
        assert!(
            arena.is_live(new[0]),
            "a stale release must not free a new piece"
        );
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            assert_eq!(call(&arena, new[0]), 3);
            assert_eq!(call(&arena, new[1]), 4);
        }
    }
}

#[test]
fn handles_of_another_arena_are_stale() {
    let mut a = CodeArena::new(DEFAULT_LIMIT);
    let mut b = CodeArena::new(DEFAULT_LIMIT);
    let ha = a.install_one(&ret_imm(1)).unwrap();
    let hb = b.install_one(&ret_imm(2)).unwrap();
    assert!(!b.is_live(ha));
    assert!(!a.is_live(hb));
    b.release(ha);
    assert!(b.is_live(hb));
}

#[test]
fn set_limit_up_and_down() {
    // Mappings appear and go by page: with `Protect` (`Dual` maps a page for a line).
    let u = page();
    {
        let mut arena = CodeArena::with_mapping(u, Mapping::Protect);
        let a = arena.install_one(&ret_imm(1)).unwrap();
        assert!(arena.install_one(&ret_imm(2)).is_err());

        // Raising the limit works with live code: a second mapping appears.
        arena.set_limit(3 * u);
        let b = arena.install_one(&blob(u + 1, 0x90)).unwrap();
        assert_eq!(arena.used(), 3 * u);
        assert_eq!(arena.reserved(), 3 * u);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, a), 1);

        // Lowering it keeps installed code but refuses new code until enough is released.
        arena.set_limit(u);
        assert!(arena.is_live(a) && arena.is_live(b));
        assert!(arena.install_one(&ret_imm(3)).is_err());
        arena.release(b);
        // The emptied mapping beyond the limit is unmapped.
        assert_eq!(arena.reserved(), u);
        assert!(arena.install_one(&ret_imm(3)).is_err());
        arena.release(a);
        let c = arena.install_one(&ret_imm(3)).unwrap();
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, c), 3);
        assert!(arena.reserved() <= arena.limit());
    }
}

/// With two views the limit counts 64-byte lines.
#[test]
fn set_limit_counts_lines_with_two_views() {
    if Mapping::preferred() != Mapping::Dual {
        return;
    }
    let mut arena = CodeArena::with_mapping(PIECE_ALIGN, Mapping::Dual);
    let a = arena.install_one(&ret_imm(1)).unwrap();
    assert!(arena.install_one(&ret_imm(2)).is_err());
    arena.set_limit(3 * PIECE_ALIGN);
    let b = arena.install_one(&blob(PIECE_ALIGN + 1, 0x90)).unwrap();
    assert_eq!(arena.used(), 3 * PIECE_ALIGN);
    arena.set_limit(PIECE_ALIGN);
    assert!(arena.install_one(&ret_imm(3)).is_err());
    arena.release(b);
    assert!(arena.install_one(&ret_imm(3)).is_err());
    arena.release(a);
    let c = arena.install_one(&ret_imm(3)).unwrap();
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    assert_eq!(call(&arena, c), 3);
}

#[test]
fn unaligned_limits_round_down_to_pages() {
    for (mut arena, u) in arenas_sized(|u| 2 * u + u / 2) {
        arena.install_one(&ret_imm(1)).unwrap();
        arena.install_one(&ret_imm(2)).unwrap();
        assert!(arena.install_one(&ret_imm(3)).is_err());
        assert_eq!(arena.reserved(), pages_for(2 * u));
    }
}

#[test]
fn errors_explain_themselves() {
    let full = ArenaError::Full {
        limit: 8192,
        used: 4096,
        needed: 8192,
    };
    assert_eq!(
        full.to_string(),
        "code arena full: the batch needs 8192 bytes of code pages, \
         but 4096 of the 8192-byte limit are already in use"
    );
    assert!(ArenaError::Protect("EACCES".into())
        .to_string()
        .contains("protection"));
    assert!(ArenaError::Map("ENOMEM".into()).to_string().contains("map"));
}

/// `(start, end, perms)` of every mapping of this process.
#[cfg(target_os = "linux")]
fn mappings() -> Vec<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next().unwrap();
            let perms = fields.next().unwrap().to_string();
            let (s, e) = range.split_once('-').unwrap();
            (
                usize::from_str_radix(s, 16).unwrap(),
                usize::from_str_radix(e, 16).unwrap(),
                perms,
            )
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn perms_at(addr: usize) -> String {
    mappings()
        .into_iter()
        .find(|(s, e, _)| (*s..*e).contains(&addr))
        .map(|(_, _, p)| p)
        .unwrap_or_else(|| panic!("{addr:#x} is not mapped"))
}

#[cfg(target_os = "linux")]
#[test]
fn no_page_is_writable_and_executable() {
    for mut arena in arenas(DEFAULT_LIMIT) {
        let dual = arena.mapping() == Mapping::Dual;
        let hs = arena.install(&[&ret_imm(1), &ret_imm(2)]).unwrap();
        let other = arena.install_one(&ret_imm(3)).unwrap();
        assert_eq!(arena.mapping() == Mapping::Dual, dual, "no fallback");

        for (s, e, p) in mappings() {
            assert!(
                !(p.contains('w') && p.contains('x')),
                "mapping {s:#x}-{e:#x} is {p}: writable and executable"
            );
        }
        // Code runs from a read-execute mapping: private pages flipped by `mprotect`, or
        // the shared execute view of the memory object.
        let code_perms = if dual { "r-xs" } else { "r-xp" };
        for h in hs.iter().chain([&other]) {
            let p = perms_at(arena.entry(*h) as usize);
            assert_eq!(p, code_perms, "code lies in a {p} mapping");
        }
        // The rest of the reservation is free: read-write, never executable (Protect), or
        // the unwritten part of the execute view (Dual).
        let free = arena.entry(other) as usize + page();
        assert_eq!(perms_at(free), if dual { "r-xs" } else { "rw-p" });

        // A reclaimed run is read-write again (Protect), and the other run stays
        // read-execute.
        let freed = arena.entry(hs[0]) as usize;
        for h in hs {
            arena.release(h);
        }
        assert_eq!(perms_at(freed), if dual { "r-xs" } else { "rw-p" });
        assert_eq!(perms_at(arena.entry(other) as usize), code_perms);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(call(&arena, other), 3);
    }
}

/// Code rewritten into reused pages of the execute view runs as the new code.
#[test]
fn reused_pages_run_their_new_code() {
    for (mut arena, _) in arenas_sized(|u| u) {
        for v in 0..50 {
            let h = arena.install_one(&ret_imm(v)).unwrap();
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            assert_eq!(call(&arena, h), v);
            arena.release(h);
        }
        assert_eq!(arena.stats().runs_reclaimed, 50);
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn the_default_on_linux_x86_64_is_two_views_without_syscalls() {
    let chosen = std::env::var_os("GRIZZLY_JIT_MEMORY").is_none()
        && !std::env::var("LD_PRELOAD").is_ok_and(|p| p.contains("vgpreload"));
    if chosen {
        assert_eq!(Mapping::for_this_process(), Mapping::Dual);
    }
    let mut arena = CodeArena::with_mapping(DEFAULT_LIMIT, Mapping::Dual);
    let h = arena.install_one(&ret_imm(7)).unwrap();
    arena.release(h);
    let h = arena.install_one(&ret_imm(8)).unwrap();
    assert_eq!(arena.mapping(), Mapping::Dual);
    assert_eq!(arena.stats().protect_calls, 0);
    assert_eq!(call(&arena, h), 8);
    // Batches share pages: the next one starts on the next line.
    let next = arena.install_one(&ret_imm(9)).unwrap();
    assert_eq!(
        arena.entry(next) as usize,
        arena.entry(h) as usize + PIECE_ALIGN
    );
    assert_eq!(call(&arena, next), 9);
}

/// A dropped arena's two-view chunk is reused by the next arena of the same size: same
/// addresses, no new mapping, and the new code runs.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_dropped_arenas_chunk_is_reused() {
    // A size no other test uses, so that parallel tests do not take the chunk.
    let limit = 37 * page();
    let mut first = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = first.install_one(&ret_imm(1)).unwrap();
    let at = first.entry(h);
    drop(first);
    let mut second = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = second.install_one(&ret_imm(2)).unwrap();
    assert_eq!(second.entry(h), at, "the recycled chunk's first line");
    assert_eq!(call(&second, h), 2);
}
