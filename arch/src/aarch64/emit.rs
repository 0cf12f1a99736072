//! The AArch64 assembler's building blocks: the frame layout, immediates (checked
//! before dynasm sees them), memory operands and flag conditions.

use super::*;

#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub(super) locals: u32,
    pub(super) out: u32,
    /// Whether the parameters are in this frame, above the locals (a native
    /// function's), rather than in the caller's outgoing area.
    pub(super) own_params: bool,
    /// What the prologue subtracts from `sp`: the words and the saved link register,
    /// rounded up to 16 bytes.
    pub(super) bytes: u32,
}

impl Frame {
    pub(super) fn new(locals: u32, out: u32, convention: Convention) -> Option<Frame> {
        let params = convention.own_params();
        let words = (locals as u64 + out as u64 + params as u64 + 1) * 8;
        let bytes = u32::try_from(words.next_multiple_of(16)).ok()?;
        (bytes < MAX_FRAME).then_some(Frame {
            locals,
            out,
            own_params: convention != Convention::Jit,
            bytes,
        })
    }

    pub(super) fn empty() -> Frame {
        Frame {
            locals: 0,
            out: 0,
            own_params: false,
            bytes: 16,
        }
    }

    /// The offset from `sp` of a word.
    pub(super) fn offset(self, m: Mem) -> u32 {
        match m {
            Mem::Param(i) if self.own_params => 8 * (self.out + self.locals + i),
            Mem::Param(i) => self.bytes + 8 * i,
            Mem::Local(i) => 8 * (self.out + i),
            Mem::Out(i) => 8 * i,
        }
    }
}

/// An `imm12` for `add`/`sub`/`cmp`: `Some((value, negated))`.
pub(super) fn arith_imm(v: i64) -> Option<(u32, bool)> {
    match v {
        0..=4095 => Some((v as u32, false)),
        -4095..=-1 => Some(((-v) as u32, true)),
        _ => None,
    }
}

impl Aarch64Masm {
    pub(super) fn frame(&self) -> Frame {
        // `set_frame` comes first; a missing frame is caught by `finish`.
        self.frame.unwrap_or_else(Frame::empty)
    }

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

    /// `ldr`/`str` of a general register at `sp + offset`.
    pub(super) fn word(&mut self, load: bool, reg: u8, offset: u32) {
        if offset <= MAX_LDR_OFFSET {
            if load {
                asm!(self.ops; ldr X(reg), [sp, #offset]);
            } else {
                asm!(self.ops; str X(reg), [sp, #offset]);
            }
        } else {
            self.load_imm(X17, offset as i64);
            if load {
                asm!(self.ops; ldr X(reg), [sp, X(X17)]);
            } else {
                asm!(self.ops; str X(reg), [sp, X(X17)]);
            }
        }
    }

    /// `ldr`/`str` of a float register at `sp + offset`.
    pub(super) fn fword(&mut self, load: bool, reg: u8, offset: u32) {
        if offset <= MAX_LDR_OFFSET {
            if load {
                asm!(self.ops; ldr D(reg), [sp, #offset]);
            } else {
                asm!(self.ops; str D(reg), [sp, #offset]);
            }
        } else {
            self.load_imm(X17, offset as i64);
            if load {
                asm!(self.ops; ldr D(reg), [sp, X(X17)]);
            } else {
                asm!(self.ops; str D(reg), [sp, X(X17)]);
            }
        }
    }

    /// Moves `sp` by `bytes` (below [`MAX_FRAME`]): down for a prologue, up for an epilogue.
    pub(super) fn move_sp(&mut self, down: bool, bytes: u32) {
        let (high, low) = (bytes >> 12, bytes & 0xfff);
        if high > 0 {
            if down {
                asm!(self.ops; sub sp, sp, #high, lsl #12);
            } else {
                asm!(self.ops; add sp, sp, #high, lsl #12);
            }
        }
        if low > 0 || high == 0 {
            if down {
                asm!(self.ops; sub sp, sp, #low);
            } else {
                asm!(self.ops; add sp, sp, #low);
            }
        }
    }

    /// Returns (the result already in `x0`); a native function also returns `site`
    /// in `x1`.
    pub(super) fn epilogue(&mut self, site: u64) {
        if self.convention != Convention::Jit {
            self.load_imm(1, site as i64);
        }
        let frame = self.frame();
        self.word(true, 30, frame.bytes - 8);
        self.move_sp(false, frame.bytes);
        if let Convention::Batch { .. } = self.convention {
            asm!(self.ops
                ; ldp x21, x22, [sp, #16]
                ; ldp x19, x20, [sp], #32
            );
        }
        asm!(self.ops; ret);
    }

    /// A batch function returns the rows done (the current row) and `site`.
    pub(super) fn batch_exit(&mut self, site: u64) {
        asm!(self.ops; mov x0, x19);
        self.epilogue(site);
    }

    /// Returns the result in `x0`: a batch function stores it and goes on with the
    /// next row.
    pub(super) fn return_x0(&mut self) {
        match self.rows {
            Some((head, _)) => asm!(self.ops
                ; str x0, [x21, x19, lsl #3]
                ; add x19, x19, #1
                ; b =>head
            ),
            None => self.epilogue(NO_DEOPT),
        }
    }

    /// Records that a native function's code asked for `what`.
    pub(super) fn jit_only(&mut self, what: &'static str) {
        if self.convention != Convention::Jit {
            self.misuse.get_or_insert(what);
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
                let offset = self.frame().offset(m);
                self.word(true, dst, offset);
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
                let offset = self.frame().offset(m);
                self.fword(true, D_SCRATCH, offset);
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
