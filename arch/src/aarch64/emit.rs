//! The AArch64 assembler's building blocks: immediates (checked before dynasm sees
//! them), memory operands and flag conditions.

use super::*;

/// An `imm12` for `add`/`sub`/`cmp`: `Some((value, negated))`.
pub(super) fn arith_imm(v: i64) -> Option<(u32, bool)> {
    match v {
        0..=4095 => Some((v as u32, false)),
        -4095..=-1 => Some(((-v) as u32, true)),
        _ => None,
    }
}

impl Aarch64Masm {
    /// Loads a 64-bit constant with `movz`/`movn` and `movk`, one instruction per
    /// halfword that differs from the background (all zeros or all ones).
    pub(super) fn load_imm(&mut self, dst: u8, v: i64) {
        let u = v as u64;
        let halves = [0u32, 1, 2, 3].map(|i| ((u >> (16 * i)) & 0xffff) as u32);
        let ones = halves.iter().filter(|&&h| h == 0xffff).count();
        let zeros = halves.iter().filter(|&&h| h == 0).count();
        let (background, inverted) = if ones > zeros {
            (0xffff, true)
        } else {
            (0, false)
        };
        let mut first = true;
        for (i, &h) in halves.iter().enumerate() {
            if h == background && !(first && i == 3) {
                continue;
            }
            if first {
                let imm = if inverted { !h & 0xffff } else { h };
                match (inverted, i) {
                    (false, 0) => asm!(self.ops; movz X(dst), #imm),
                    (false, 1) => asm!(self.ops; movz X(dst), #imm, lsl #16),
                    (false, 2) => asm!(self.ops; movz X(dst), #imm, lsl #32),
                    (false, _) => asm!(self.ops; movz X(dst), #imm, lsl #48),
                    (true, 0) => asm!(self.ops; movn X(dst), #imm),
                    (true, 1) => asm!(self.ops; movn X(dst), #imm, lsl #16),
                    (true, 2) => asm!(self.ops; movn X(dst), #imm, lsl #32),
                    (true, _) => asm!(self.ops; movn X(dst), #imm, lsl #48),
                }
                first = false;
            } else {
                match i {
                    0 => asm!(self.ops; movk X(dst), #h),
                    1 => asm!(self.ops; movk X(dst), #h, lsl #16),
                    2 => asm!(self.ops; movk X(dst), #h, lsl #32),
                    _ => asm!(self.ops; movk X(dst), #h, lsl #48),
                }
            }
        }
    }

    /// `ldr`/`str` of a general register at `base + offset` (`base` may be `sp`).
    pub(super) fn word(&mut self, load: bool, reg: u8, base: u8, offset: i32) {
        match offset {
            0..=MAX_LDR_OFFSET if offset % 8 == 0 => {
                let o = offset as u32;
                if load {
                    asm!(self.ops; ldr X(reg), [XSP(base), #o]);
                } else {
                    asm!(self.ops; str X(reg), [XSP(base), #o]);
                }
            }
            -256..=255 => {
                if load {
                    asm!(self.ops; ldur X(reg), [XSP(base), #offset]);
                } else {
                    asm!(self.ops; stur X(reg), [XSP(base), #offset]);
                }
            }
            _ => {
                self.load_imm(X17, offset as i64);
                if load {
                    asm!(self.ops; ldr X(reg), [XSP(base), X(X17)]);
                } else {
                    asm!(self.ops; str X(reg), [XSP(base), X(X17)]);
                }
            }
        }
    }

    /// `ldr`/`str` of a float register at `base + offset`.
    pub(super) fn fword(&mut self, load: bool, reg: u8, base: u8, offset: i32) {
        match offset {
            0..=MAX_LDR_OFFSET if offset % 8 == 0 => {
                let o = offset as u32;
                if load {
                    asm!(self.ops; ldr D(reg), [XSP(base), #o]);
                } else {
                    asm!(self.ops; str D(reg), [XSP(base), #o]);
                }
            }
            -256..=255 => {
                if load {
                    asm!(self.ops; ldur D(reg), [XSP(base), #offset]);
                } else {
                    asm!(self.ops; stur D(reg), [XSP(base), #offset]);
                }
            }
            _ => {
                self.load_imm(X17, offset as i64);
                if load {
                    asm!(self.ops; ldr D(reg), [XSP(base), X(X17)]);
                } else {
                    asm!(self.ops; str D(reg), [XSP(base), X(X17)]);
                }
            }
        }
    }

    pub(super) fn load(&mut self, dst: u8, src: Src) {
        match src {
            Src::Reg(r) => {
                if r.0 != dst {
                    asm!(self.ops; mov X(dst), X(r.0));
                }
            }
            Src::Imm(v) => self.load_imm(dst, v),
            Src::Mem(m) => {
                let crate::frame::Addr { base, offset, .. } = self.addr(m);
                self.word(true, dst, base, offset);
            }
        }
    }

    /// The operand in a register, using `x16` for anything but a register.
    pub(super) fn reg_of(&mut self, src: Src) -> u8 {
        match src {
            Src::Reg(r) => r.0,
            other => {
                self.load(X16, other);
                X16
            }
        }
    }

    /// The float operand in a register, using `d31` for memory.
    pub(super) fn freg_of(&mut self, src: FSrc) -> u8 {
        match src {
            FSrc::Reg(r) => r.0,
            FSrc::Mem(m) => {
                let crate::frame::Addr { base, offset, .. } = self.addr(m);
                self.fword(true, D_SCRATCH, base, offset);
                D_SCRATCH
            }
        }
    }

    pub(super) fn cmp(&mut self, a: Gpr, b: Src) {
        match b {
            Src::Imm(v) => match arith_imm(v) {
                Some((imm, false)) => asm!(self.ops; cmp XSP(a.0), #imm),
                Some((imm, true)) => asm!(self.ops; cmn XSP(a.0), #imm),
                None => {
                    self.load_imm(X16, v);
                    asm!(self.ops; cmp X(a.0), x16);
                }
            },
            other => {
                let r = self.reg_of(other);
                asm!(self.ops; cmp X(a.0), X(r));
            }
        }
    }

    /// Branches on the flags of an integer comparison.
    pub(super) fn b_cond(&mut self, cond: Cond, target: DynamicLabel) {
        match cond {
            Cond::Eq => asm!(self.ops; b.eq =>target),
            Cond::Ne => asm!(self.ops; b.ne =>target),
            Cond::Lt => asm!(self.ops; b.lt =>target),
            Cond::Le => asm!(self.ops; b.le =>target),
            Cond::Gt => asm!(self.ops; b.gt =>target),
            Cond::Ge => asm!(self.ops; b.ge =>target),
        }
    }

    pub(super) fn fcmp(&mut self, a: Fpr, b: FSrc) {
        let b = self.freg_of(b);
        asm!(self.ops; fcmp D(a.0), D(b));
    }
}

/// After `fcmp`, an unordered result sets C and V: `mi`, `ls`, `gt`, `ge` and `eq` are
/// false on NaN, their inverses true, which is what the contract's `Ne` wants.
#[derive(Clone, Copy)]
pub(super) enum FloatFlags {
    Mi,
    Ls,
    Gt,
    Ge,
    Eq,
    Ne,
    Pl,
    Hi,
    Le,
    Lt,
}

pub(super) fn float_flags(cond: Cond, when: bool) -> FloatFlags {
    use FloatFlags as F;
    match (cond, when) {
        (Cond::Lt, true) => F::Mi,
        (Cond::Le, true) => F::Ls,
        (Cond::Gt, true) => F::Gt,
        (Cond::Ge, true) => F::Ge,
        (Cond::Eq, true) | (Cond::Ne, false) => F::Eq,
        (Cond::Ne, true) | (Cond::Eq, false) => F::Ne,
        (Cond::Lt, false) => F::Pl,
        (Cond::Le, false) => F::Hi,
        (Cond::Gt, false) => F::Le,
        (Cond::Ge, false) => F::Lt,
    }
}
