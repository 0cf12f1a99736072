//! What a real `fork` does to code memory mapped twice: the chunks the two processes
//! share take no new code in either (not even into released lines), are unmapped when
//! their last piece goes, and are not recycled. Alone in its test binary, so that no
//! other test's arena sees the fork.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use grizzly_arch::arena::{CodeArena, CodeHandle, Mapping, DEFAULT_LIMIT};

/// `mov eax, v; ret`.
fn ret_imm(v: i32) -> Vec<u8> {
    let mut code = vec![0xB8];
    code.extend_from_slice(&v.to_le_bytes());
    code.push(0xC3);
    code
}

fn call(arena: &CodeArena, h: CodeHandle) -> i32 {
    let entry = arena.entry(h);
    assert!(!entry.is_null());
    // SAFETY: pieces built by `ret_imm`, complete functions with the C ABI, installed in a
    // live arena.
    let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(entry) };
    f()
}

/// The inode of the memory object mapped at `addr` (each `memfd` has its own).
fn inode_at(addr: usize) -> u64 {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (s, e) = fields[0].split_once('-').unwrap();
        let range = usize::from_str_radix(s, 16).unwrap()..usize::from_str_radix(e, 16).unwrap();
        if range.contains(&addr) {
            return fields[4].parse().unwrap();
        }
    }
    panic!("{addr:#x} is not mapped")
}

/// Forks a child that exits at once: the parent's side of a fork.
fn fork_a_child() {
    // SAFETY: the child only calls `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
}

/// One test, so that nothing runs beside the forks.
#[test]
fn a_fork_retires_the_shared_chunks() {
    a_dropped_arenas_chunk_is_reused();
    let mut arena = CodeArena::with_mapping(DEFAULT_LIMIT, Mapping::Dual);
    let old = arena.install_one(&ret_imm(1)).unwrap();
    let freed = arena.install_one(&ret_imm(2)).unwrap();
    assert_eq!(arena.mapping(), Mapping::Dual);
    let shared = inode_at(arena.entry(old) as usize);
    arena.release(freed);
    let reserved = arena.reserved();

    fork_a_child();
    let new = arena.install_one(&ret_imm(3)).unwrap();
    assert_ne!(
        inode_at(arena.entry(new) as usize),
        shared,
        "new code went into memory shared with the child"
    );
    assert!(arena.reserved() > reserved, "a new chunk");
    assert_eq!(call(&arena, old), 1);
    assert_eq!(call(&arena, new), 3);

    let with_both = arena.reserved();
    arena.release(old);
    assert!(
        arena.reserved() < with_both,
        "the retired chunk is unmapped"
    );
    assert_eq!(call(&arena, new), 3);

    // A chunk recycled before a fork is not reused after it.
    let limit = 41 << 12;
    let mut before = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = before.install_one(&ret_imm(4)).unwrap();
    let recycled = inode_at(before.entry(h) as usize);
    drop(before);
    fork_a_child();
    let mut after = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = after.install_one(&ret_imm(5)).unwrap();
    assert_ne!(inode_at(after.entry(h) as usize), recycled);
    assert_eq!(call(&after, h), 5);
}

/// Without a fork, a dropped arena's chunk is reused by the next arena of its size.
fn a_dropped_arenas_chunk_is_reused() {
    let limit = 43 << 12;
    let mut first = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = first.install_one(&ret_imm(6)).unwrap();
    let inode = inode_at(first.entry(h) as usize);
    drop(first);
    let mut second = CodeArena::with_mapping(limit, Mapping::Dual);
    let h = second.install_one(&ret_imm(7)).unwrap();
    assert_eq!(inode_at(second.entry(h) as usize), inode);
    assert_eq!(call(&second, h), 7);
}
