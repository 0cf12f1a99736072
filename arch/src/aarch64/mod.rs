#![allow(clippy::useless_conversion)] // dynasm's register expressions

//! AArch64: the [`MacroAssembler`] with dynasm.
//!
//! Registers: `x0` carries results, `x16` and `x17` (the ABI's intra-procedure scratch
//! registers) are scratch; `x27` holds the depth budget and `x28` the
//! [`JitContext`](crate::JitContext); `x29` is the frame pointer (the frame is laid
//! out in [`crate::frame`]); `d0`, `d1` pass helper arguments and `d31` is float
//! scratch. `x18` (the platform register) is never touched. `sp` stays 16-byte
//! aligned at all times, as AAPCS64 requires.
//!
//! The conventions' AArch64 facts are in `isa.rs`: a native function's arguments
//! come in `x0`-`x3`, its result and deopt site go back in `x0:x1`; a batch function
//! keeps its row loop in `x19`-`x22`.
//!
//! dynasm panics on an immediate it cannot encode, so every immediate computed at run
//! time is range-checked here first, falling back to a scratch register.

use crate::frame::FrameState;
use crate::{Cond, FSrc, FloatOp, Fpr, Gpr, Helper, IntOp, Isa, MacroAssembler, Mem, Src};
use dynasmrt::aarch64::{encode_logical_immediate_64bit, Aarch64Relocation};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}

const X0: u8 = 0;
const X16: u8 = 16;
const X17: u8 = 17;
const D_SCRATCH: u8 = 31;
/// The largest offset `ldr`/`str` encode for a 64-bit word (12 bits, scaled by 8).
const MAX_LDR_OFFSET: i32 = 4095 * 8;

pub struct Aarch64;

impl crate::Backend for Aarch64 {
    type Masm = Aarch64Masm;
    const NAME: &'static str = "aarch64";

    fn masm() -> Aarch64Masm {
        Aarch64Masm {
            ops: crate::code_buffer(),
            frame: FrameState::new(<Aarch64Masm as Isa>::FRAME),
        }
    }
}

pub struct Aarch64Masm {
    ops: VecAssembler<Aarch64Relocation>,
    /// What the shared conventions know of the function being emitted.
    frame: FrameState<DynamicLabel>,
}

// After `asm!`: the modules use it.
mod emit;
mod isa;

use emit::{arith_imm, float_flags, FloatFlags};

impl MacroAssembler for Aarch64Masm {
    // x9-x15.
    const LEAF_GPRS: &'static [Gpr] =
        &[Gpr(9), Gpr(10), Gpr(11), Gpr(12), Gpr(13), Gpr(14), Gpr(15)];
    // x9-x15 (caller-saved) and x19-x26 (saved by the trampoline).
    const GPRS: &'static [Gpr] = &[
        Gpr(9),
        Gpr(10),
        Gpr(11),
        Gpr(12),
        Gpr(13),
        Gpr(14),
        Gpr(15),
        Gpr(19),
        Gpr(20),
        Gpr(21),
        Gpr(22),
        Gpr(23),
        Gpr(24),
        Gpr(25),
        Gpr(26),
    ];
    // d2-d7 and d16-d23: caller-saved, so helpers may clobber them (the code
    // generator spills around calls) and the trampoline need not save d8-d15.
    const FPRS: &'static [Fpr] = &[
        Fpr(2),
        Fpr(3),
        Fpr(4),
        Fpr(5),
        Fpr(6),
        Fpr(7),
        Fpr(16),
        Fpr(17),
        Fpr(18),
        Fpr(19),
        Fpr(20),
        Fpr(21),
        Fpr(22),
        Fpr(23),
    ];

    fn mov(&mut self, dst: Gpr, src: Src) {
        self.load(dst.0, src);
    }
    fn store(&mut self, dst: Mem, src: Src) {
        let r = match src {
            Src::Imm(0) => 31, // xzr
            other => self.reg_of(other),
        };
        let crate::frame::Addr { base, offset, .. } = self.addr(dst);
        self.word(false, r, base, offset);
    }
    fn fmov(&mut self, dst: Fpr, src: FSrc) {
        match src {
            FSrc::Reg(r) if r == dst => {}
            FSrc::Reg(r) => asm!(self.ops; fmov D(dst.0), D(r.0)),
            FSrc::Mem(m) => {
                let crate::frame::Addr { base, offset, .. } = self.addr(m);
                self.fword(true, dst.0, base, offset);
            }
        }
    }
    fn fstore(&mut self, dst: Mem, src: Fpr) {
        let crate::frame::Addr { base, offset, .. } = self.addr(dst);
        self.fword(false, src.0, base, offset);
    }
    fn fconst(&mut self, dst: Fpr, value: f64) {
        if value.to_bits() == 0 {
            asm!(self.ops; fmov D(dst.0), xzr);
        } else {
            self.load_imm(X16, value.to_bits() as i64);
            asm!(self.ops; fmov D(dst.0), x16);
        }
    }

    fn int_op(&mut self, op: IntOp, dst: Gpr, rhs: Src, overflow: DynamicLabel) {
        let d = dst.0;
        let small = match rhs {
            Src::Imm(v) if op != IntOp::Mul => arith_imm(v),
            _ => None,
        };
        if let Some((imm, negated)) = small {
            // Adding -k is subtracting k: same result, same overflow.
            if (op == IntOp::Add) != negated {
                asm!(self.ops; adds X(d), XSP(d), #imm);
            } else {
                asm!(self.ops; subs X(d), XSP(d), #imm);
            }
            asm!(self.ops; b.vs =>overflow);
            return;
        }
        match (op, rhs) {
            (IntOp::Add, other) => {
                let r = self.reg_of(other);
                asm!(self.ops; adds X(d), X(d), X(r); b.vs =>overflow);
            }
            (IntOp::Sub, other) => {
                let r = self.reg_of(other);
                asm!(self.ops; subs X(d), X(d), X(r); b.vs =>overflow);
            }
            (IntOp::Mul, other) => {
                let r = self.reg_of(other);
                // The product fits when its high half is the sign extension of its low half.
                asm!(self.ops
                    ; smulh x17, X(d), X(r)
                    ; mul X(d), X(d), X(r)
                    ; cmp x17, X(d), asr #63
                    ; b.ne =>overflow
                );
            }
        }
    }

    fn int_neg(&mut self, dst: Gpr, overflow: DynamicLabel) {
        asm!(self.ops; negs X(dst.0), X(dst.0); b.vs =>overflow);
    }

    fn int_div(
        &mut self,
        rem: bool,
        dst: Gpr,
        rhs: Src,
        zero: DynamicLabel,
        overflow: DynamicLabel,
    ) {
        let d = dst.0;
        let divide = |s: &mut Self, r: u8| {
            // sdiv neither traps nor fails here: the divisor is neither 0 nor -1.
            asm!(s.ops; sdiv x17, X(d), X(r));
            if rem {
                asm!(s.ops; msub X(d), x17, X(r), X(d));
            } else {
                asm!(s.ops; mov X(d), x17);
            }
        };
        match rhs {
            Src::Imm(0) => asm!(self.ops; b =>zero),
            Src::Imm(-1) if rem => asm!(self.ops; mov X(d), xzr),
            Src::Imm(-1) => asm!(self.ops; negs X(d), X(d); b.vs =>overflow),
            Src::Imm(v) => {
                self.load_imm(X16, v);
                divide(self, X16);
            }
            other => {
                let r = self.reg_of(other);
                let (minus_one, done) = (self.new_label(), self.new_label());
                asm!(self.ops
                    ; cbz X(r), =>zero
                    ; cmn XSP(r), #1
                    ; b.eq =>minus_one
                );
                divide(self, r);
                asm!(self.ops; b =>done; =>minus_one);
                if rem {
                    asm!(self.ops; mov X(d), xzr);
                } else {
                    asm!(self.ops; negs X(d), X(d); b.vs =>overflow);
                }
                asm!(self.ops; =>done);
            }
        }
    }

    fn int_div_pow2(&mut self, rem: bool, dst: Gpr, shift: u8) {
        let d = dst.0;
        let shift = u32::from(shift.clamp(1, 62));
        // Negative dividends are biased by 2^shift - 1 so that the shift truncates toward zero.
        if shift == 1 {
            asm!(self.ops; add x16, X(d), X(d), lsr #63);
        } else {
            let bias = 64 - shift;
            asm!(self.ops
                ; asr x16, X(d), #63
                ; add x16, X(d), x16, lsr #bias
            );
        }
        if rem {
            asm!(self.ops
                ; asr x16, x16, #shift
                ; sub X(d), X(d), x16, lsl #shift
            );
        } else {
            asm!(self.ops; asr X(d), x16, #shift);
        }
    }

    fn not(&mut self, dst: Gpr) {
        asm!(self.ops; eor XSP(dst.0), X(dst.0), #1);
    }

    fn float_op(&mut self, op: FloatOp, dst: Fpr, rhs: FSrc) {
        let (d, r) = (dst.0, self.freg_of(rhs));
        match op {
            FloatOp::Add => asm!(self.ops; fadd D(d), D(d), D(r)),
            FloatOp::Sub => asm!(self.ops; fsub D(d), D(d), D(r)),
            FloatOp::Mul => asm!(self.ops; fmul D(d), D(d), D(r)),
            FloatOp::Div => asm!(self.ops; fdiv D(d), D(d), D(r)),
        }
    }
    fn float_neg(&mut self, dst: Fpr) {
        asm!(self.ops; fneg D(dst.0), D(dst.0));
    }
    fn float_abs(&mut self, dst: Fpr) {
        asm!(self.ops; fabs D(dst.0), D(dst.0));
    }
    fn float_sqrt(&mut self, dst: Fpr) {
        asm!(self.ops; fsqrt D(dst.0), D(dst.0));
    }
    fn float_call(&mut self, helper: Helper, dst: Fpr, rhs: Option<Fpr>) {
        let address = match helper {
            Helper::Unary(f) => f as usize,
            Helper::Binary(f) => f as usize,
        };
        if let Some(r) = rhs {
            asm!(self.ops; fmov D(D_SCRATCH), D(r.0));
        }
        asm!(self.ops; fmov d0, D(dst.0));
        if rhs.is_some() {
            asm!(self.ops; fmov d1, D(D_SCRATCH));
        }
        self.load_imm(X16, address as i64);
        asm!(self.ops; blr x16; fmov D(dst.0), d0);
    }
    fn int_to_float(&mut self, dst: Fpr, src: Src) {
        let r = self.reg_of(src);
        asm!(self.ops; scvtf D(dst.0), X(r));
    }
    fn float_to_int(&mut self, dst: Gpr, src: Fpr, fail: DynamicLabel) {
        // In range means -2^63 <= src < 2^63; `lt` is also true for NaN (unordered).
        self.load_imm(X16, (-9_223_372_036_854_775_808.0f64).to_bits() as i64);
        asm!(self.ops
            ; fmov D(D_SCRATCH), x16
            ; fcmp D(src.0), D(D_SCRATCH)
            ; b.lt =>fail
            ; fneg D(D_SCRATCH), D(D_SCRATCH)
            ; fcmp D(src.0), D(D_SCRATCH)
            ; b.ge =>fail
            ; fcvtzs X(dst.0), D(src.0)
        );
    }

    fn branch_int(&mut self, cond: Cond, a: Gpr, b: Src, target: DynamicLabel) {
        self.cmp(a, b);
        self.b_cond(cond, target);
    }
    fn branch_float(&mut self, cond: Cond, a: Fpr, b: FSrc, when: bool, target: DynamicLabel) {
        self.fcmp(a, b);
        match float_flags(cond, when) {
            FloatFlags::Mi => asm!(self.ops; b.mi =>target),
            FloatFlags::Ls => asm!(self.ops; b.ls =>target),
            FloatFlags::Gt => asm!(self.ops; b.gt =>target),
            FloatFlags::Ge => asm!(self.ops; b.ge =>target),
            FloatFlags::Eq => asm!(self.ops; b.eq =>target),
            FloatFlags::Ne => asm!(self.ops; b.ne =>target),
            FloatFlags::Pl => asm!(self.ops; b.pl =>target),
            FloatFlags::Hi => asm!(self.ops; b.hi =>target),
            FloatFlags::Le => asm!(self.ops; b.le =>target),
            FloatFlags::Lt => asm!(self.ops; b.lt =>target),
        }
    }
    fn branch_mask(&mut self, a: Gpr, mask: i64, zero: bool, target: DynamicLabel) {
        if encode_logical_immediate_64bit(mask as u64).is_some() {
            asm!(self.ops; tst X(a.0), #mask as u64);
        } else {
            self.load_imm(X16, mask);
            asm!(self.ops; tst X(a.0), x16);
        }
        if zero {
            asm!(self.ops; b.eq =>target);
        } else {
            asm!(self.ops; b.ne =>target);
        }
    }
    fn branch_low_byte(&mut self, a: Gpr, byte: u8, equal: bool, target: DynamicLabel) {
        asm!(self.ops
            ; and x16, X(a.0), #0xff
            ; cmp x16, #byte as u32
        );
        if equal {
            asm!(self.ops; b.eq =>target);
        } else {
            asm!(self.ops; b.ne =>target);
        }
    }
    fn branch_bool(&mut self, a: Src, when: bool, target: DynamicLabel) {
        let r = match a {
            Src::Imm(v) => {
                if (v != 0) == when {
                    asm!(self.ops; b =>target);
                }
                return;
            }
            other => self.reg_of(other),
        };
        if when {
            asm!(self.ops; cbnz X(r), =>target);
        } else {
            asm!(self.ops; cbz X(r), =>target);
        }
    }
    fn set_int(&mut self, cond: Cond, dst: Gpr, a: Gpr, b: Src) {
        self.cmp(a, b);
        let d = dst.0;
        match cond {
            Cond::Eq => asm!(self.ops; cset X(d), eq),
            Cond::Ne => asm!(self.ops; cset X(d), ne),
            Cond::Lt => asm!(self.ops; cset X(d), lt),
            Cond::Le => asm!(self.ops; cset X(d), le),
            Cond::Gt => asm!(self.ops; cset X(d), gt),
            Cond::Ge => asm!(self.ops; cset X(d), ge),
        }
    }
    fn set_float(&mut self, cond: Cond, dst: Gpr, a: Fpr, b: FSrc) {
        self.fcmp(a, b);
        let d = dst.0;
        match float_flags(cond, true) {
            FloatFlags::Mi => asm!(self.ops; cset X(d), mi),
            FloatFlags::Ls => asm!(self.ops; cset X(d), ls),
            FloatFlags::Gt => asm!(self.ops; cset X(d), gt),
            FloatFlags::Ge => asm!(self.ops; cset X(d), ge),
            FloatFlags::Eq => asm!(self.ops; cset X(d), eq),
            FloatFlags::Ne => asm!(self.ops; cset X(d), ne),
            FloatFlags::Pl => asm!(self.ops; cset X(d), pl),
            FloatFlags::Hi => asm!(self.ops; cset X(d), hi),
            FloatFlags::Le => asm!(self.ops; cset X(d), le),
            FloatFlags::Lt => asm!(self.ops; cset X(d), lt),
        }
    }
    fn bits_to_float(&mut self, dst: Fpr, src: Gpr) {
        asm!(self.ops; fmov D(dst.0), X(src.0));
    }
}

// Scratch and pinned registers the allocatable sets must not contain.
const _: () = {
    let mut i = 0;
    while i < Aarch64Masm::GPRS.len() {
        let r = Aarch64Masm::GPRS[i].0;
        assert!(r != X0 && r != X16 && r != X17 && r != 18 && r >= 9 && r <= 26);
        i += 1;
    }
    // The leaf registers are caller-saved in AAPCS64 (x9-x15).
    let mut i = 0;
    while i < Aarch64Masm::LEAF_GPRS.len() {
        let r = Aarch64Masm::LEAF_GPRS[i].0;
        assert!(r >= 9 && r <= 15);
        i += 1;
    }
    let mut i = 0;
    while i < Aarch64Masm::FPRS.len() {
        let r = Aarch64Masm::FPRS[i].0;
        assert!(r > 1 && r != D_SCRATCH && !(r >= 8 && r <= 15));
        i += 1;
    }
};
