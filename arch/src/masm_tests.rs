//! The host architecture's templates run on the machine, through the trampoline,
//! against Rust's own arithmetic: every guard must fire exactly when the contract says.
//! Every case also runs through the direct entry, compiled as a native (C ABI)
//! function called straight from Rust, and as a batch function over three rows: all
//! must agree.

#[cfg(target_arch = "aarch64")]
use crate::aarch64::{Aarch64 as Native, Aarch64Masm as NativeMasm};
use crate::arena::CodeArena;
#[cfg(target_arch = "x86_64")]
use crate::x64::{X64Masm as NativeMasm, X64 as Native};
use crate::*;
use dynasmrt::DynamicLabel;

/// Runs a function built by `body` (after the prologue; it must return) on `args`.
/// Returns the status and the result bits; the deopt site is 7 for every guard.
fn run(args: &[u64], body: impl Fn(&mut NativeMasm, DynamicLabel)) -> (u64, u64) {
    run_with(0, args, body)
}

fn run_with(
    stack_limit: usize,
    args: &[u64],
    body: impl Fn(&mut NativeMasm, DynamicLabel),
) -> (u64, u64) {
    let mut m = Native::masm();
    let deopt = m.new_label();
    m.prologue(deopt);
    body(&mut m, deopt);
    m.deopt_exit(deopt, 7);
    let code = m.finish().expect("assembles");
    // The host stack is not checked by native code: only with no limit do they agree.
    let leaf = |convention| {
        (stack_limit == 0 && args.len() <= DIRECT_ARGS)
            .then(|| native_code(convention, &body))
            .flatten()
    };
    let params = args.len() as u32;
    let native = leaf(Convention::Native { params });
    let batch = leaf(Convention::Batch { params });
    let tramp = Native::trampoline().expect("trampoline assembles");
    let direct = Native::direct_entry().expect("direct entry assembles");
    let mut arena = CodeArena::new(1 << 20);
    let handles = arena.install(&[&tramp, &code, &direct]).expect("installs");
    // SAFETY: the first piece is the trampoline, which has the `Trampoline` ABI.
    let f: Trampoline = unsafe { std::mem::transmute(arena.entry(handles[0])) };
    let limit_word = stack_limit;
    let mut ctx = JitContext {
        stack_limit: &limit_word as *const usize as usize,
        depth_budget: 100,
        ..JitContext::default()
    };
    let mut result = 0u64;
    // SAFETY: the second piece is a complete function in the compiled-code convention
    // reading at most `args.len()` parameters; ctx and result outlive the call.
    let status = unsafe {
        f(
            arena.entry(handles[1]),
            args.as_ptr(),
            args.len(),
            &mut ctx,
            &mut result,
        )
    };
    if status == STATUS_DEOPT {
        assert_eq!(ctx.deopt_site, 7);
    }
    if args.len() <= DIRECT_ARGS {
        // The direct entry must agree with the trampoline on every case.
        // SAFETY: the third piece is the direct entry, which has the `DirectEntry` ABI.
        let direct: DirectEntry = unsafe { std::mem::transmute(arena.entry(handles[2])) };
        let mut ctx = JitContext {
            stack_limit: &limit_word as *const usize as usize,
            depth_budget: 100,
            deopt_site: NO_DEOPT,
            ..JitContext::default()
        };
        let mut words = [0u64; DIRECT_ARGS];
        words[..args.len()].copy_from_slice(args);
        let [a0, a1, a2, a3] = words;
        // SAFETY: as for the trampoline call; the arguments are passed by value.
        let bits = unsafe { direct(&mut ctx, arena.entry(handles[1]), a0, a1, a2, a3) };
        if status == STATUS_DEOPT {
            assert_eq!(ctx.deopt_site, 7, "the direct entry deoptimizes too");
        } else {
            assert_eq!(ctx.deopt_site, NO_DEOPT, "the direct entry returns");
            assert_eq!(bits, result, "the direct entry's result");
        }
    }
    if let Some(native) = native {
        let installed = arena.install(&[&native]).expect("installs")[0];
        // SAFETY: the piece is a complete native function of `args.len()` words.
        let f: NativeEntry = unsafe { std::mem::transmute(arena.entry(installed)) };
        let mut words = [0u64; DIRECT_ARGS];
        words[..args.len()].copy_from_slice(args);
        let [a0, a1, a2, a3] = words;
        // SAFETY: a C-ABI function taking four words by value.
        let got = unsafe { f(a0, a1, a2, a3) };
        if status == STATUS_DEOPT {
            assert_eq!(got.site, 7, "the native function deoptimizes too");
        } else {
            assert_eq!(
                got,
                NativeResult {
                    bits: result,
                    site: NO_DEOPT
                },
                "native"
            );
        }
    }
    if let Some(batch) = batch {
        let installed = arena.install(&[&batch]).expect("installs")[0];
        // SAFETY: the piece is a complete batch function of `args.len()` words.
        let f: NativeBatch = unsafe { std::mem::transmute(arena.entry(installed)) };
        // Three rows of the same arguments.
        let columns: Vec<[u64; 3]> = args.iter().map(|&a| [a; 3]).collect();
        let pointers: Vec<*const u64> = columns.iter().map(|c| c.as_ptr()).collect();
        let mut out = [0u64; 3];
        // SAFETY: every column holds three words and `out` has room for three.
        let got = unsafe { f(pointers.as_ptr(), 3, out.as_mut_ptr()) };
        if status == STATUS_DEOPT {
            assert_eq!((got.bits, got.site), (0, 7), "the first row deoptimizes");
        } else {
            assert_eq!((got.bits, got.site), (3, NO_DEOPT), "every row returns");
            assert_eq!(out, [result; 3], "batch results");
        }
    }
    (status, result)
}

/// `body` as a native or batch function, or `None` when it may not be one (it
/// calls, or its frame is too large): `finish` must say so, not emit it.
fn native_code(
    convention: Convention,
    body: &dyn Fn(&mut NativeMasm, DynamicLabel),
) -> Option<Vec<u8>> {
    let mut m = Native::masm();
    m.set_convention(convention);
    let deopt = m.new_label();
    m.prologue(deopt);
    body(&mut m, deopt);
    m.deopt_exit(deopt, 7);
    match m.finish() {
        Ok(code) => Some(code),
        Err(EmitError(e)) => {
            assert!(
                e.contains("cannot hold") || e.contains("frame of"),
                "unexpected refusal: {e}"
            );
            None
        }
    }
}

// Registers both conventions may use.
const A: Gpr = NativeMasm::LEAF_GPRS[0];
const B: Gpr = NativeMasm::LEAF_GPRS[1];
const X: Fpr = NativeMasm::FPRS[0];

fn int_binary(op: &dyn Fn(&mut NativeMasm, DynamicLabel), x: i64, y: i64) -> Option<i64> {
    let (status, r) = run(&[x as u64, y as u64], |m, deopt| {
        m.mov(A, Src::Mem(Mem::Param(0)));
        let _ = deopt;
        op(m, deopt);
        m.ret(Src::Reg(A));
    });
    (status == STATUS_OK).then_some(r as i64)
}

const EDGES: [i64; 11] = [
    0,
    1,
    -1,
    2,
    -2,
    7,
    -7,
    1 << 40,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
];

#[test]
fn checked_add_sub_mul_match_rust() {
    for &x in &EDGES {
        for &y in &EDGES {
            for (op, want) in [
                (IntOp::Add, x.checked_add(y)),
                (IntOp::Sub, x.checked_sub(y)),
                (IntOp::Mul, x.checked_mul(y)),
            ] {
                let from_mem =
                    int_binary(&|m, d| m.int_op(op, A, Src::Mem(Mem::Param(1)), d), x, y);
                assert_eq!(from_mem, want, "{op:?} {x} {y} (memory operand)");
                let from_imm = int_binary(&|m, d| m.int_op(op, A, Src::Imm(y), d), x, y);
                assert_eq!(from_imm, want, "{op:?} {x} {y} (immediate)");
            }
        }
    }
}

#[test]
fn division_guards_and_truncation() {
    for &x in &EDGES {
        for &y in &EDGES {
            let div = if y == 0 { None } else { x.checked_div(y) };
            let rem = if y == 0 {
                None
            } else {
                Some(x.wrapping_rem(y))
            };
            for (is_rem, want) in [(false, div), (true, rem)] {
                let reg = int_binary(
                    &|m, d| {
                        m.mov(B, Src::Mem(Mem::Param(1)));
                        m.int_div(is_rem, A, Src::Reg(B), d, d);
                    },
                    x,
                    y,
                );
                assert_eq!(reg, want, "rem={is_rem} {x} {y} (register divisor)");
                let imm = int_binary(&|m, d| m.int_div(is_rem, A, Src::Imm(y), d, d), x, y);
                assert_eq!(imm, want, "rem={is_rem} {x} {y} (immediate divisor)");
            }
        }
    }
}

#[test]
fn power_of_two_division_truncates_toward_zero() {
    for &x in &EDGES {
        for shift in [1u8, 2, 5, 31, 32, 62] {
            let d = 1i64 << shift;
            let q = int_binary(&|m, _| m.int_div_pow2(false, A, shift), x, 0);
            assert_eq!(q, Some(x / d), "{x} / 2^{shift}");
            let r = int_binary(&|m, _| m.int_div_pow2(true, A, shift), x, 0);
            assert_eq!(r, Some(x % d), "{x} % 2^{shift}");
        }
    }
}

#[test]
fn negation_overflows_only_on_min() {
    for &x in &EDGES {
        assert_eq!(int_binary(&|m, d| m.int_neg(A, d), x, 0), x.checked_neg());
    }
}

fn float_to_int(x: f64) -> Option<i64> {
    let (status, r) = run(&[x.to_bits()], |m, deopt| {
        m.fmov(X, FSrc::Mem(Mem::Param(0)));
        m.float_to_int(A, X, deopt);
        m.ret(Src::Reg(A));
    });
    (status == STATUS_OK).then_some(r as i64)
}

#[test]
fn float_to_int_fails_outside_the_range() {
    let min = -9_223_372_036_854_775_808.0f64;
    for (x, want) in [
        (1.9, Some(1)),
        (-1.9, Some(-1)),
        (min, Some(i64::MIN)),
        (9_223_372_036_854_774_784.0, Some(9_223_372_036_854_774_784)),
        (9_223_372_036_854_775_808.0, None),
        (f64::from_bits(min.to_bits() + 1), None),
        (f64::NAN, None),
        (f64::INFINITY, None),
        (f64::NEG_INFINITY, None),
    ] {
        assert_eq!(float_to_int(x), want, "{x:?}");
    }
}

fn float_compare(cond: Cond, x: f64, y: f64) -> (bool, bool) {
    let branch = |when: bool| {
        let (_, r) = run(&[x.to_bits(), y.to_bits()], |m, _| {
            let yes = m.new_label();
            m.fmov(X, FSrc::Mem(Mem::Param(0)));
            m.branch_float(cond, X, FSrc::Mem(Mem::Param(1)), when, yes);
            m.ret(Src::Imm(0));
            m.bind(yes);
            m.ret(Src::Imm(1));
        });
        r == 1
    };
    let (_, set) = run(&[x.to_bits(), y.to_bits()], |m, _| {
        m.fmov(X, FSrc::Mem(Mem::Param(0)));
        m.set_float(cond, A, X, FSrc::Mem(Mem::Param(1)));
        m.ret(Src::Reg(A));
    });
    assert_eq!(
        branch(true),
        !branch(false),
        "{cond:?} {x} {y}: branches disagree"
    );
    (branch(true), set == 1)
}

#[test]
fn float_comparisons_follow_ieee() {
    let values = [0.0, -0.0, 1.0, -1.5, f64::INFINITY, f64::NAN];
    for &x in &values {
        for &y in &values {
            for (cond, want) in [
                (Cond::Eq, x == y),
                (Cond::Ne, x != y),
                (Cond::Lt, x < y),
                (Cond::Le, x <= y),
                (Cond::Gt, x > y),
                (Cond::Ge, x >= y),
            ] {
                assert_eq!(float_compare(cond, x, y), (want, want), "{cond:?} {x} {y}");
            }
        }
    }
}

#[test]
fn depth_budget_and_host_stack_guards() {
    // A stack limit above the stack pointer: the prologue itself deoptimizes.
    let (status, _) = run_with(usize::MAX, &[], |m, _| m.ret(Src::Imm(5)));
    assert_eq!(status, STATUS_DEOPT);
    // A budget of 100 allows 100 nested calls; the 101st deoptimizes.
    let (status, _) = run(&[], |m, deopt| {
        for _ in 0..100 {
            m.depth_enter(deopt);
        }
        m.ret(Src::Imm(5));
    });
    assert_eq!(status, STATUS_OK);
    let (status, _) = run(&[], |m, deopt| {
        for _ in 0..101 {
            m.depth_enter(deopt);
        }
        m.ret(Src::Imm(5));
    });
    assert_eq!(status, STATUS_DEOPT);
}

#[test]
fn immediates_of_every_size_load_exactly() {
    for v in [
        0,
        1,
        -1,
        i32::MAX as i64,
        i32::MIN as i64,
        1 << 40,
        i64::MIN,
        i64::MAX,
        0xffff,
        0x1_0000,
        -0x1_0000,
        0xffff_0000_ffff,
        0x1234_5678_9abc_def0,
        -0x1234_5678_9abc_def0,
        0x7fff_0000_0000_0000,
    ] {
        let (status, r) = run(&[], |m, deopt| {
            m.store(Mem::Local(3), Src::Imm(v));
            m.mov(A, Src::Mem(Mem::Local(3)));
            m.ret(Src::Reg(A));
            let _ = deopt;
        });
        assert_eq!((status, r as i64), (STATUS_OK, v));
    }
}

/// Immediates that fit an instruction and immediates that do not (4095 is AArch64's
/// largest `cmp`/`add` immediate, 2^31 - 1 x86-64's).
const IMMEDIATES: [i64; 12] = [
    0,
    1,
    -1,
    4095,
    4096,
    -4095,
    -4096,
    i32::MAX as i64,
    i32::MIN as i64,
    1 << 40,
    i64::MAX,
    i64::MIN,
];

#[test]
fn integer_comparisons_with_immediates_match_rust() {
    for &x in &IMMEDIATES {
        for &y in &IMMEDIATES {
            for (cond, want) in [
                (Cond::Eq, x == y),
                (Cond::Ne, x != y),
                (Cond::Lt, x < y),
                (Cond::Le, x <= y),
                (Cond::Gt, x > y),
                (Cond::Ge, x >= y),
            ] {
                let set = int_binary(&|m, _| m.set_int(cond, A, A, Src::Imm(y)), x, y);
                assert_eq!(set, Some(want as i64), "set {cond:?} {x} {y}");
                let (_, r) = run(&[x as u64], |m, _| {
                    let yes = m.new_label();
                    m.mov(A, Src::Mem(Mem::Param(0)));
                    m.branch_int(cond, A, Src::Imm(y), yes);
                    m.ret(Src::Imm(0));
                    m.bind(yes);
                    m.ret(Src::Imm(1));
                });
                assert_eq!(r == 1, want, "branch {cond:?} {x} {y}");
            }
        }
        for &y in &IMMEDIATES {
            let add = int_binary(&|m, d| m.int_op(IntOp::Add, A, Src::Imm(y), d), x, y);
            assert_eq!(add, x.checked_add(y), "{x} + {y}");
            let sub = int_binary(&|m, d| m.int_op(IntOp::Sub, A, Src::Imm(y), d), x, y);
            assert_eq!(sub, x.checked_sub(y), "{x} - {y}");
        }
    }
}

#[test]
fn bit_masks_of_every_shape_test_exactly() {
    // Masks AArch64 can encode as logical immediates (runs of ones) and ones it cannot.
    for mask in [1i64, 3, 0xff, 0x5, 0x1234_5678, -1, i64::MIN, 0x8000_0000] {
        for &x in &IMMEDIATES {
            for zero in [true, false] {
                let (_, r) = run(&[x as u64], |m, _| {
                    let yes = m.new_label();
                    m.mov(A, Src::Mem(Mem::Param(0)));
                    m.branch_mask(A, mask, zero, yes);
                    m.ret(Src::Imm(0));
                    m.bind(yes);
                    m.ret(Src::Imm(1));
                });
                assert_eq!(
                    r == 1,
                    (x & mask == 0) == zero,
                    "{x} & {mask:#x}, zero={zero}"
                );
            }
        }
    }
}

#[test]
fn low_byte_tests_ignore_the_other_bytes() {
    // A value's tag is its low byte; the bytes above it are padding, anything at all.
    for x in [
        2u64,
        0x402,
        0xffff_ffff_ffff_ff02,
        3,
        0x0302,
        0,
        0xff,
        0x100,
    ] {
        for byte in [0u8, 2, 3, 4, 0xff] {
            for equal in [true, false] {
                let (_, r) = run(&[x], |m, _| {
                    let yes = m.new_label();
                    m.mov(A, Src::Mem(Mem::Param(0)));
                    m.branch_low_byte(A, byte, equal, yes);
                    m.ret(Src::Imm(0));
                    m.bind(yes);
                    m.ret(Src::Imm(1));
                });
                assert_eq!(
                    r == 1,
                    ((x & 0xff) as u8 == byte) == equal,
                    "{x:#x} {byte} {equal}"
                );
            }
        }
    }
}

#[test]
fn every_form_of_a_template_reads_and_writes_frame_words() {
    // Parameters and locals as memory operands of each instruction form (on x86-64
    // their displacements are patched once the frame is known: an immediate after
    // the displacement must not be mistaken for it).
    for (p, want) in [(0u64, 7), (1, 12)] {
        let (status, r) = run(&[p, 5], |m, d| {
            let (yes, no) = (m.new_label(), m.new_label());
            m.store(Mem::Local(2), Src::Imm(7));
            m.store(Mem::Local(3), Src::Imm(-(1 << 40)));
            m.branch_bool(Src::Mem(Mem::Param(0)), true, yes);
            m.mov(A, Src::Imm(0));
            m.branch_int(Cond::Lt, A, Src::Mem(Mem::Local(3)), no);
            m.ret(Src::Mem(Mem::Local(2)));
            m.bind(yes);
            m.mov(A, Src::Mem(Mem::Param(1)));
            m.int_op(IntOp::Add, A, Src::Mem(Mem::Local(2)), d);
            m.store(Mem::Local(1), Src::Reg(A));
            m.branch_bool(Src::Mem(Mem::Local(1)), false, no);
            m.ret(Src::Mem(Mem::Local(1)));
            m.bind(no);
            m.ret(Src::Imm(-1));
        });
        assert_eq!((status, r as i64), (STATUS_OK, want), "p = {p}");
    }
}

#[test]
fn a_large_frame_addresses_every_word() {
    // Offsets around AArch64's unscaled 9-bit `ldur` range (256 bytes below the frame
    // pointer), beyond its scaled 12-bit `ldr` range (32,760 bytes) and x86-64's
    // 8-bit displacements.
    for local in [0u32, 15, 30, 31, 32, 4094, 4095, 5000, 9999] {
        let (status, r) = run(&[41, 1], |m, d| {
            m.mov(A, Src::Mem(Mem::Param(0)));
            m.store(Mem::Local(local), Src::Reg(A));
            m.mov(A, Src::Mem(Mem::Param(1)));
            m.int_op(IntOp::Add, A, Src::Mem(Mem::Local(local)), d);
            m.fmov(X, FSrc::Mem(Mem::Param(0)));
            m.fstore(Mem::Local(local / 2), X);
            m.ret(Src::Reg(A));
        });
        assert_eq!((status, r), (STATUS_OK, 42), "local {local}");
    }
}

extern "C" fn hypot_helper(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[test]
fn helpers_calls_and_conversions() {
    let (status, r) = run(&[3.0f64.to_bits(), 4.0f64.to_bits()], |m, _| {
        let y = NativeMasm::FPRS[1];
        m.fmov(X, FSrc::Mem(Mem::Param(0)));
        m.fmov(y, FSrc::Mem(Mem::Param(1)));
        m.float_call(Helper::Binary(hypot_helper), X, Some(y));
        m.fret(X);
    });
    assert_eq!((status, f64::from_bits(r)), (STATUS_OK, 5.0));
    // A direct call of a second function in the same code, with one argument.
    let (status, r) = run(&[20], |m, deopt| {
        let callee = m.new_label();
        m.mov(A, Src::Mem(Mem::Param(0)));
        m.int_op(IntOp::Add, A, Src::Imm(1), deopt);
        m.store(Mem::Out(0), Src::Reg(A));
        m.depth_enter(deopt);
        m.call_label(callee, B);
        m.depth_leave();
        m.ret(Src::Reg(B));
        m.bind(callee);
        m.prologue(deopt);
        m.mov(A, Src::Mem(Mem::Param(0)));
        m.int_op(IntOp::Mul, A, Src::Imm(2), deopt);
        m.ret(Src::Reg(A));
    });
    assert_eq!((status, r), (STATUS_OK, 42));
    for v in [0i64, -7, 1 << 53, i64::MIN, i64::MAX] {
        let (_, r) = run(&[v as u64], |m, _| {
            m.int_to_float(X, Src::Mem(Mem::Param(0)));
            m.fret(X);
        });
        assert_eq!(f64::from_bits(r), v as f64, "{v} as float");
    }
    for b in [0i64, 1] {
        let (_, r) = run(&[b as u64], |m, _| {
            m.mov(A, Src::Mem(Mem::Param(0)));
            m.not(A);
            m.ret(Src::Reg(A));
        });
        assert_eq!(r as i64, 1 - b);
    }
}

mod batch;
mod native;
