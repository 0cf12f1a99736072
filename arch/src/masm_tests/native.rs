//! Native and batch functions (`Convention::Native`, `Convention::Batch`) as the
//! platform's C ABI sees them: results and deopt sites, the caller's saved registers,
//! rows, and what they refuse to hold.

use super::*;

/// A native function of two words that adds them through every leaf register and a
/// helper call, deoptimizing (site 9) on overflow.
fn native_sum() -> Vec<u8> {
    leaf_sum(Convention::Native { params: 2 })
}

fn leaf_sum(convention: Convention) -> Vec<u8> {
    let mut m = Native::masm();
    m.set_convention(convention);
    let deopt = m.new_label();
    m.prologue(deopt);
    m.fmov(X, FSrc::Mem(Mem::Param(0)));
    m.float_call(Helper::Binary(hypot_helper), X, Some(X));
    // Every leaf register holds x, then x - x, added to x: x.
    for &r in NativeMasm::LEAF_GPRS {
        m.mov(r, Src::Mem(Mem::Param(0)));
    }
    for &r in &NativeMasm::LEAF_GPRS[1..] {
        m.int_op(IntOp::Sub, r, Src::Reg(A), deopt);
        m.int_op(IntOp::Add, A, Src::Reg(r), deopt);
    }
    m.int_op(IntOp::Add, A, Src::Mem(Mem::Param(1)), deopt);
    m.ret(Src::Reg(A));
    m.deopt_exit(deopt, 9);
    m.finish().expect("a native leaf assembles")
}

#[test]
fn a_native_function_is_a_c_function_with_a_deopt_word() {
    let mut arena = CodeArena::new(1 << 20);
    let h = arena.install(&[&native_sum()]).expect("installs")[0];
    // SAFETY: the piece is a native function of two words.
    let f: NativeEntry = unsafe { std::mem::transmute(arena.entry(h)) };
    // SAFETY: a C-ABI function taking four words by value.
    let call = |x: i64, y: i64| unsafe { f(x as u64, y as u64, 0, 0) };
    assert_eq!(
        call(40, 2),
        NativeResult {
            bits: 42,
            site: NO_DEOPT
        }
    );
    assert_eq!(
        call(-7, 7),
        NativeResult {
            bits: 0,
            site: NO_DEOPT
        }
    );
    assert_eq!(call(i64::MAX, 1).site, 9);
    assert_eq!(call(i64::MIN, -1).site, 9);
}

#[test]
fn a_native_function_keeps_the_callers_saved_registers() {
    let mut arena = CodeArena::new(1 << 20);
    let h = arena.install(&[&native_sum()]).expect("installs")[0];
    let f = arena.entry(h);
    let sentinels: [u64; 4] = std::array::from_fn(|i| 0x5eed_0000 + i as u64);
    let (mut s0, mut s1, mut s2, mut s3) = (sentinels[0], sentinels[1], sentinels[2], sentinels[3]);
    let (bits, site): (u64, u64);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `f` is a native function (C ABI) of two words; the block follows the C
    // ABI around the call (`clobber_abi`); `asm!` without `nostack` aligns the stack.
    unsafe {
        std::arch::asm!(
            "call {f}",
            f = in(reg) f,
            in("rdi") 40u64,
            in("rsi") 2u64,
            inout("r12") s0, inout("r13") s1, inout("r14") s2, inout("r15") s3,
            lateout("rax") bits, lateout("rdx") site,
            clobber_abi("C"),
        );
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!(
            "blr {f}",
            f = in(reg) f,
            in("x0") 40u64,
            in("x1") 2u64,
            inout("x20") s0, inout("x24") s1, inout("x27") s2, inout("x28") s3,
            lateout("x0") bits, lateout("x1") site,
            clobber_abi("C"),
        );
    }
    assert_eq!((bits, site), (42, NO_DEOPT));
    assert_eq!([s0, s1, s2, s3], sentinels);

    // The batch function, which keeps its loop in callee-saved registers.
    let h = arena
        .install(&[&leaf_sum(Convention::Batch { params: 2 })])
        .expect("installs")[0];
    let f = arena.entry(h);
    let (xs, ys) = ([40u64, 1], [2u64, 2]);
    let columns = [xs.as_ptr(), ys.as_ptr()];
    let mut out = [0u64; 2];
    let (done, site): (u64, u64);
    // SAFETY: as above, for a batch function of two columns of two rows.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!(
            "call {f}",
            f = in(reg) f,
            in("rdi") columns.as_ptr(),
            in("rsi") 2usize,
            in("rdx") out.as_mut_ptr(),
            inout("r12") s0, inout("r13") s1, inout("r14") s2, inout("r15") s3,
            lateout("rax") done, lateout("rdx") site,
            clobber_abi("C"),
        );
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!(
            "blr {f}",
            f = in(reg) f,
            in("x0") columns.as_ptr(),
            in("x1") 2usize,
            in("x2") out.as_mut_ptr(),
            inout("x20") s0, inout("x21") s1, inout("x22") s2, inout("x28") s3,
            lateout("x0") done, lateout("x1") site,
            clobber_abi("C"),
        );
    }
    assert_eq!((done, site, out), (2, NO_DEOPT, [42, 3]));
    assert_eq!([s0, s1, s2, s3], sentinels);
}

#[test]
fn a_batch_function_stops_at_the_row_that_deoptimizes() {
    let mut arena = CodeArena::new(1 << 20);
    let h = arena
        .install(&[&leaf_sum(Convention::Batch { params: 2 })])
        .expect("installs")[0];
    // SAFETY: the piece is a batch function of two columns.
    let f: NativeBatch = unsafe { std::mem::transmute(arena.entry(h)) };
    let xs = [1i64, 2, i64::MAX, 4].map(|x| x as u64);
    let ys = [10u64, 20, 1, 40];
    let columns = [xs.as_ptr(), ys.as_ptr()];
    let mut out = [0u64; 4];
    // SAFETY: two columns of four words, `out` of four.
    let r = unsafe { f(columns.as_ptr(), 4, out.as_mut_ptr()) };
    assert_eq!((r.bits, r.site), (2, 9));
    assert_eq!(out, [11, 22, 0, 0]);
    // From the row after it, to the end; and no rows at all.
    let columns = [xs[3..].as_ptr(), ys[3..].as_ptr()];
    // SAFETY: two columns of one word, `out` of one from its fourth.
    let r = unsafe { f(columns.as_ptr(), 1, out[3..].as_mut_ptr()) };
    assert_eq!((r.bits, r.site, out[3]), (1, NO_DEOPT, 44));
    // SAFETY: no row is read or written.
    let r = unsafe { f(columns.as_ptr(), 0, out.as_mut_ptr()) };
    assert_eq!((r.bits, r.site), (0, NO_DEOPT));
}

#[test]
fn native_functions_refuse_calls_large_frames_and_many_arguments() {
    let refusal = |params: u32, locals: u32, body: &dyn Fn(&mut NativeMasm, DynamicLabel)| {
        let mut m = Native::masm();
        m.set_convention(Convention::Native { params });
        let deopt = m.new_label();
        m.prologue(deopt);
        body(&mut m, deopt);
        // The frame holds every word the code uses.
        if let Some(last) = locals.checked_sub(1) {
            m.store(Mem::Local(last), Src::Imm(0));
        }
        m.ret(Src::Imm(0));
        m.deopt_exit(deopt, 7);
        m.finish().expect_err("refused").0
    };
    let call = |m: &mut NativeMasm, d: DynamicLabel| {
        let l = m.new_label();
        m.depth_enter(d);
        m.call_label(l, A);
        m.bind(l);
    };
    assert!(refusal(1, 1, &call).contains("cannot hold a depth check"));
    let e = refusal(1, 1, &|m, _| m.call_slot(std::ptr::null(), A));
    assert!(e.contains("cannot hold a call"), "{e}");
    let e = refusal(1, NATIVE_FRAME / 8, &|_, _| {});
    assert!(e.contains("frame of"), "{e}");
    let e = refusal(DIRECT_ARGS as u32 + 1, 1, &|_, _| {});
    assert!(e.contains("5 arguments"), "{e}");
}
