#![allow(clippy::useless_conversion)] // dynasm's register expressions

//! x86-64: the [`MacroAssembler`] with dynasm.
//!
//! Registers: `rax`, `rdx` and `r11` are scratch (division, immediates, results);
//! `r14` holds the depth budget and `r15` the [`JitContext`](crate::JitContext);
//! `rbp` is the frame pointer (the frame is laid out in [`crate::frame`]);
//! `xmm0` and `xmm15` are float scratch. `rsp` stays 16-byte aligned at every call,
//! as the System V ABI wants for the helpers.
//!
//! The conventions' x86-64 facts are in `isa.rs`: a native function's arguments come
//! in `rdi`, `rsi`, `rdx`, `rcx`, its result and deopt site go back in `rax:rdx`; a
//! batch function keeps its row loop in `rbx`, `r12`, `r13` and `r14`.

use crate::frame::FrameState;
use crate::{Cond, FSrc, FloatOp, Fpr, Gpr, Helper, IntOp, Isa, MacroAssembler, Mem, Src};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

const RAX: u8 = 0;
const RDX: u8 = 2;
const R11: u8 = 11;
const RSP: u8 = 4;
const XMM_SCRATCH: u8 = 15;

// After `asm!`: the modules use it.
mod isa;

pub struct X64;

impl crate::Backend for X64 {
    type Masm = X64Masm;
    const NAME: &'static str = "x86-64";

    fn masm() -> X64Masm {
        X64Masm {
            ops: crate::code_buffer(),
            frame: FrameState::new(<X64Masm as Isa>::FRAME),
        }
    }
}

type Ops = VecAssembler<X64Relocation>;

pub struct X64Masm {
    ops: Ops,
    /// What the shared conventions know of the function being emitted.
    frame: FrameState<DynamicLabel>,
}

fn fits_i32(v: i64) -> bool {
    v == v as i32 as i64
}

impl X64Masm {
    /// `d = d / r11` or `d % r11` for a divisor that is neither 0 nor -1. When both
    /// are in [0, 2^32) a 32-bit unsigned divide gives the same result several times
    /// faster than the 64-bit signed one (the check LLVM emits for x86-64 too).
    fn divide(&mut self, rem: bool, d: u8) {
        let (wide, got) = (self.new_label(), self.new_label());
        asm!(self.ops
            ; mov rax, Rq(d)
            ; mov rdx, rax
            ; or rdx, r11
            ; shr rdx, 32
            ; jnz =>wide
            ; xor edx, edx
            ; div r11d
            ; jmp =>got
            ; =>wide
            ; cqo
            ; idiv r11
            ; =>got
        );
        if rem {
            asm!(self.ops; mov Rq(d), rdx);
        } else {
            asm!(self.ops; mov Rq(d), rax);
        }
    }

    /// Emits one instruction that accesses frame word `m`, whose displacement is its
    /// last field but `trailing` immediate bytes, and records that displacement if it
    /// grows with the frame (`finish` checks it is where it was recorded).
    fn frame_op(&mut self, m: Mem, trailing: usize, emit: impl FnOnce(&mut Ops, u8, i32)) {
        let a = self.addr(m);
        emit(&mut self.ops, a.base, a.offset);
        let at = self.offset() - 4 - trailing;
        self.frame.displaced(at, a);
    }

    /// Loads `src` into a register, using `r11` for anything but a register.
    fn reg_of(&mut self, src: Src) -> u8 {
        match src {
            Src::Reg(r) => r.0,
            other => {
                self.load(R11, other);
                R11
            }
        }
    }

    fn load(&mut self, dst: u8, src: Src) {
        match src {
            Src::Reg(r) => {
                if r.0 != dst {
                    asm!(self.ops; mov Rq(dst), Rq(r.0));
                }
            }
            Src::Imm(0) => asm!(self.ops; xor Rd(dst), Rd(dst)),
            Src::Imm(v) if fits_i32(v) => asm!(self.ops; mov Rq(dst), DWORD v as i32),
            Src::Imm(v) => asm!(self.ops; mov Rq(dst), QWORD v),
            Src::Mem(m) => self.frame_op(m, 0, |ops, b, d| {
                asm!(ops; mov Rq(dst), QWORD [Rq(b) + d]);
            }),
        }
    }

    /// The float operand in a register, using `xmm15` for memory.
    fn freg_of(&mut self, src: FSrc) -> u8 {
        match src {
            FSrc::Reg(r) => r.0,
            FSrc::Mem(m) => {
                self.frame_op(m, 0, |ops, b, d| {
                    asm!(ops; movsd Rx(XMM_SCRATCH), QWORD [Rq(b) + d]);
                });
                XMM_SCRATCH
            }
        }
    }

    fn jcc(&mut self, cond: Cond, target: DynamicLabel) {
        match cond {
            Cond::Eq => asm!(self.ops; je =>target),
            Cond::Ne => asm!(self.ops; jne =>target),
            Cond::Lt => asm!(self.ops; jl =>target),
            Cond::Le => asm!(self.ops; jle =>target),
            Cond::Gt => asm!(self.ops; jg =>target),
            Cond::Ge => asm!(self.ops; jge =>target),
        }
    }

    fn cmp(&mut self, a: Gpr, b: Src) {
        match b {
            Src::Imm(v) if fits_i32(v) => asm!(self.ops; cmp Rq(a.0), DWORD v as i32),
            Src::Mem(m) => self.frame_op(m, 0, |ops, b, d| {
                asm!(ops; cmp Rq(a.0), QWORD [Rq(b) + d]);
            }),
            other => {
                let r = self.reg_of(other);
                asm!(self.ops; cmp Rq(a.0), Rq(r));
            }
        }
    }

    /// `ucomisd` ordered so that `Lt`/`Le` become "above" tests (false on NaN).
    fn fcompare(&mut self, cond: Cond, a: Fpr, b: FSrc) {
        let b = self.freg_of(b);
        match cond {
            Cond::Lt | Cond::Le => asm!(self.ops; ucomisd Rx(b), Rx(a.0)),
            _ => asm!(self.ops; ucomisd Rx(a.0), Rx(b)),
        }
    }
}

impl MacroAssembler for X64Masm {
    // rcx, rsi, rdi, r8, r9, r10.
    const LEAF_GPRS: &'static [Gpr] = &[Gpr(1), Gpr(6), Gpr(7), Gpr(8), Gpr(9), Gpr(10)];
    // rbx, rcx, rsi, rdi, r8, r9, r10, r12, r13.
    const GPRS: &'static [Gpr] = &[
        Gpr(3),
        Gpr(1),
        Gpr(6),
        Gpr(7),
        Gpr(8),
        Gpr(9),
        Gpr(10),
        Gpr(12),
        Gpr(13),
    ];
    const FPRS: &'static [Fpr] = &[
        Fpr(1),
        Fpr(2),
        Fpr(3),
        Fpr(4),
        Fpr(5),
        Fpr(6),
        Fpr(7),
        Fpr(8),
        Fpr(9),
        Fpr(10),
        Fpr(11),
        Fpr(12),
        Fpr(13),
        Fpr(14),
    ];

    fn mov(&mut self, dst: Gpr, src: Src) {
        self.load(dst.0, src);
    }
    fn store(&mut self, dst: Mem, src: Src) {
        match src {
            Src::Imm(v) if fits_i32(v) => self.frame_op(dst, 4, |ops, b, d| {
                asm!(ops; mov QWORD [Rq(b) + d], DWORD v as i32);
            }),
            other => {
                let r = self.reg_of(other);
                self.frame_op(dst, 0, |ops, b, d| {
                    asm!(ops; mov QWORD [Rq(b) + d], Rq(r));
                });
            }
        }
    }
    fn fmov(&mut self, dst: Fpr, src: FSrc) {
        match src {
            FSrc::Reg(r) if r == dst => {}
            FSrc::Reg(r) => asm!(self.ops; movaps Rx(dst.0), Rx(r.0)),
            FSrc::Mem(m) => self.frame_op(m, 0, |ops, b, d| {
                asm!(ops; movsd Rx(dst.0), QWORD [Rq(b) + d]);
            }),
        }
    }
    fn fstore(&mut self, dst: Mem, src: Fpr) {
        self.frame_op(dst, 0, |ops, b, d| {
            asm!(ops; movsd QWORD [Rq(b) + d], Rx(src.0));
        });
    }
    fn fconst(&mut self, dst: Fpr, value: f64) {
        if value.to_bits() == 0 {
            asm!(self.ops; xorps Rx(dst.0), Rx(dst.0));
        } else {
            asm!(self.ops; mov r11, QWORD value.to_bits() as i64; movq Rx(dst.0), r11);
        }
    }

    fn int_op(&mut self, op: IntOp, dst: Gpr, rhs: Src, overflow: DynamicLabel) {
        let d = dst.0;
        match (op, rhs) {
            (IntOp::Add, Src::Imm(v)) if fits_i32(v) => asm!(self.ops; add Rq(d), DWORD v as i32),
            (IntOp::Sub, Src::Imm(v)) if fits_i32(v) => asm!(self.ops; sub Rq(d), DWORD v as i32),
            (IntOp::Mul, Src::Imm(v)) if fits_i32(v) => {
                asm!(self.ops; imul Rq(d), Rq(d), DWORD v as i32)
            }
            (_, Src::Mem(m)) => self.frame_op(m, 0, |ops, b, o| match op {
                IntOp::Add => asm!(ops; add Rq(d), QWORD [Rq(b) + o]),
                IntOp::Sub => asm!(ops; sub Rq(d), QWORD [Rq(b) + o]),
                IntOp::Mul => asm!(ops; imul Rq(d), QWORD [Rq(b) + o]),
            }),
            (_, other) => {
                let r = self.reg_of(other);
                match op {
                    IntOp::Add => asm!(self.ops; add Rq(d), Rq(r)),
                    IntOp::Sub => asm!(self.ops; sub Rq(d), Rq(r)),
                    IntOp::Mul => asm!(self.ops; imul Rq(d), Rq(r)),
                }
            }
        }
        asm!(self.ops; jo =>overflow);
    }

    fn int_neg(&mut self, dst: Gpr, overflow: DynamicLabel) {
        asm!(self.ops; neg Rq(dst.0); jo =>overflow);
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
        match rhs {
            Src::Imm(0) => asm!(self.ops; jmp =>zero),
            Src::Imm(-1) if rem => asm!(self.ops; xor Rd(d), Rd(d)),
            Src::Imm(-1) => asm!(self.ops; neg Rq(d); jo =>overflow),
            Src::Imm(v) => {
                asm!(self.ops; mov r11, QWORD v);
                self.divide(rem, d);
            }
            other => {
                self.load(R11, other);
                let (minus_one, done) = (self.new_label(), self.new_label());
                asm!(self.ops
                    ; test r11, r11
                    ; jz =>zero
                    ; cmp r11, -1
                    ; je =>minus_one
                );
                self.divide(rem, d);
                if rem {
                    asm!(self.ops; jmp =>done; =>minus_one; xor Rd(d), Rd(d));
                } else {
                    asm!(self.ops; jmp =>done; =>minus_one; neg Rq(d); jo =>overflow);
                }
                asm!(self.ops; =>done);
            }
        }
    }

    fn int_div_pow2(&mut self, rem: bool, dst: Gpr, shift: u8) {
        let d = dst.0;
        // Negative dividends are biased by 2^shift - 1 so that the shift truncates toward zero.
        if shift == 1 {
            // The bias is 1 exactly for negative dividends: the sign bit.
            asm!(self.ops; mov rax, Rq(d); shr rax, 63; add rax, Rq(d));
        } else {
            asm!(self.ops
                ; mov rax, Rq(d)
                ; sar rax, 63
                ; shr rax, (64 - shift) as i8
                ; add rax, Rq(d)
            );
        }
        if rem {
            let mask = -(1i64 << shift);
            if fits_i32(mask) {
                asm!(self.ops; and rax, DWORD mask as i32);
            } else {
                asm!(self.ops; mov r11, QWORD mask; and rax, r11);
            }
            asm!(self.ops; sub Rq(d), rax);
        } else {
            asm!(self.ops; sar rax, shift as i8; mov Rq(d), rax);
        }
    }

    fn not(&mut self, dst: Gpr) {
        asm!(self.ops; xor Rd(dst.0), 1);
    }

    fn float_op(&mut self, op: FloatOp, dst: Fpr, rhs: FSrc) {
        let d = dst.0;
        match rhs {
            FSrc::Reg(r) => match op {
                FloatOp::Add => asm!(self.ops; addsd Rx(d), Rx(r.0)),
                FloatOp::Sub => asm!(self.ops; subsd Rx(d), Rx(r.0)),
                FloatOp::Mul => asm!(self.ops; mulsd Rx(d), Rx(r.0)),
                FloatOp::Div => asm!(self.ops; divsd Rx(d), Rx(r.0)),
            },
            FSrc::Mem(m) => self.frame_op(m, 0, |ops, b, o| match op {
                FloatOp::Add => asm!(ops; addsd Rx(d), QWORD [Rq(b) + o]),
                FloatOp::Sub => asm!(ops; subsd Rx(d), QWORD [Rq(b) + o]),
                FloatOp::Mul => asm!(ops; mulsd Rx(d), QWORD [Rq(b) + o]),
                FloatOp::Div => asm!(ops; divsd Rx(d), QWORD [Rq(b) + o]),
            }),
        }
    }
    fn float_neg(&mut self, dst: Fpr) {
        asm!(self.ops
            ; mov r11, QWORD i64::MIN
            ; movq Rx(XMM_SCRATCH), r11
            ; xorpd Rx(dst.0), Rx(XMM_SCRATCH)
        );
    }
    fn float_abs(&mut self, dst: Fpr) {
        asm!(self.ops
            ; mov r11, QWORD i64::MAX
            ; movq Rx(XMM_SCRATCH), r11
            ; andpd Rx(dst.0), Rx(XMM_SCRATCH)
        );
    }
    fn float_sqrt(&mut self, dst: Fpr) {
        asm!(self.ops; sqrtsd Rx(dst.0), Rx(dst.0));
    }
    fn float_call(&mut self, helper: Helper, dst: Fpr, rhs: Option<Fpr>) {
        let address = match helper {
            Helper::Unary(f) => f as usize,
            Helper::Binary(f) => f as usize,
        };
        if let Some(r) = rhs {
            asm!(self.ops; movaps Rx(XMM_SCRATCH), Rx(r.0));
        }
        asm!(self.ops; movaps xmm0, Rx(dst.0));
        if rhs.is_some() {
            asm!(self.ops; movaps xmm1, Rx(XMM_SCRATCH));
        }
        asm!(self.ops
            ; mov rax, QWORD address as i64
            ; call rax
            ; movaps Rx(dst.0), xmm0
        );
    }
    fn int_to_float(&mut self, dst: Fpr, src: Src) {
        let r = self.reg_of(src);
        // xorps breaks the false dependency cvtsi2sd has on the destination's old value.
        asm!(self.ops; xorps Rx(dst.0), Rx(dst.0); cvtsi2sd Rx(dst.0), Rq(r));
    }
    fn float_to_int(&mut self, dst: Gpr, src: Fpr, fail: DynamicLabel) {
        let ok = self.new_label();
        // cvttsd2si gives i64::MIN for anything out of range or NaN; i64::MIN itself is
        // valid only when the input is exactly -2^63.
        asm!(self.ops
            ; cvttsd2si Rq(dst.0), Rx(src.0)
            ; mov r11, QWORD i64::MIN
            ; cmp Rq(dst.0), r11
            ; jne =>ok
            ; mov r11, QWORD (-9_223_372_036_854_775_808.0f64).to_bits() as i64
            ; movq Rx(XMM_SCRATCH), r11
            ; ucomisd Rx(src.0), Rx(XMM_SCRATCH)
            ; jp =>fail
            ; jne =>fail
            ; =>ok
        );
    }

    fn branch_int(&mut self, cond: Cond, a: Gpr, b: Src, target: DynamicLabel) {
        self.cmp(a, b);
        self.jcc(cond, target);
    }
    fn branch_float(&mut self, cond: Cond, a: Fpr, b: FSrc, when: bool, target: DynamicLabel) {
        self.fcompare(cond, a, b);
        match (cond, when) {
            (Cond::Lt | Cond::Gt, true) => asm!(self.ops; ja =>target),
            (Cond::Lt | Cond::Gt, false) => asm!(self.ops; jbe =>target),
            (Cond::Le | Cond::Ge, true) => asm!(self.ops; jae =>target),
            (Cond::Le | Cond::Ge, false) => asm!(self.ops; jb =>target),
            (Cond::Eq, true) | (Cond::Ne, false) => {
                let skip = self.new_label();
                asm!(self.ops; jp =>skip; je =>target; =>skip);
            }
            (Cond::Eq, false) | (Cond::Ne, true) => asm!(self.ops; jp =>target; jne =>target),
        }
    }
    fn branch_mask(&mut self, a: Gpr, mask: i64, zero: bool, target: DynamicLabel) {
        if fits_i32(mask) {
            asm!(self.ops; test Rq(a.0), DWORD mask as i32);
        } else {
            asm!(self.ops; mov r11, QWORD mask; test Rq(a.0), r11);
        }
        if zero {
            asm!(self.ops; je =>target);
        } else {
            asm!(self.ops; jne =>target);
        }
    }
    fn branch_low_byte(&mut self, a: Gpr, byte: u8, equal: bool, target: DynamicLabel) {
        asm!(self.ops; cmp Rb(a.0), BYTE byte as i8);
        if equal {
            asm!(self.ops; je =>target);
        } else {
            asm!(self.ops; jne =>target);
        }
    }
    fn branch_bool(&mut self, a: Src, when: bool, target: DynamicLabel) {
        match a {
            Src::Imm(v) => {
                if (v != 0) == when {
                    asm!(self.ops; jmp =>target);
                }
                return;
            }
            Src::Reg(r) => asm!(self.ops; test Rq(r.0), Rq(r.0)),
            Src::Mem(m) => self.frame_op(m, 4, |ops, b, d| {
                asm!(ops; cmp QWORD [Rq(b) + d], DWORD 0);
            }),
        }
        if when {
            asm!(self.ops; jne =>target);
        } else {
            asm!(self.ops; je =>target);
        }
    }
    fn set_int(&mut self, cond: Cond, dst: Gpr, a: Gpr, b: Src) {
        self.cmp(a, b);
        let d = dst.0;
        match cond {
            Cond::Eq => asm!(self.ops; sete Rb(d)),
            Cond::Ne => asm!(self.ops; setne Rb(d)),
            Cond::Lt => asm!(self.ops; setl Rb(d)),
            Cond::Le => asm!(self.ops; setle Rb(d)),
            Cond::Gt => asm!(self.ops; setg Rb(d)),
            Cond::Ge => asm!(self.ops; setge Rb(d)),
        }
        asm!(self.ops; movzx Rq(d), Rb(d));
    }
    fn set_float(&mut self, cond: Cond, dst: Gpr, a: Fpr, b: FSrc) {
        self.fcompare(cond, a, b);
        let d = dst.0;
        match cond {
            Cond::Lt | Cond::Gt => asm!(self.ops; seta Rb(d)),
            Cond::Le | Cond::Ge => asm!(self.ops; setae Rb(d)),
            Cond::Eq => asm!(self.ops; sete Rb(d); setnp r11b; and Rb(d), r11b),
            Cond::Ne => asm!(self.ops; setne Rb(d); setp r11b; or Rb(d), r11b),
        }
        asm!(self.ops; movzx Rq(d), Rb(d));
    }
    fn bits_to_float(&mut self, dst: Fpr, src: Gpr) {
        asm!(self.ops; movq Rx(dst.0), Rq(src.0));
    }
}

// Scratch registers the allocatable set must not contain.
const _: () = {
    let mut i = 0;
    while i < X64Masm::GPRS.len() {
        let r = X64Masm::GPRS[i].0;
        assert!(r != RAX && r != RDX && r != R11 && r != RSP && r != 5 && r != 14 && r != 15);
        i += 1;
    }
    // The leaf registers are allocatable and caller-saved in System V.
    let mut i = 0;
    while i < X64Masm::LEAF_GPRS.len() {
        let r = X64Masm::LEAF_GPRS[i].0;
        assert!(r == 1 || r == 6 || r == 7 || r == 8 || r == 9 || r == 10);
        i += 1;
    }
};
