//! Moves of generic values between slots, inline: what `grz_swap`, `grz_clone` and
//! `grz_box` do, without a call where no string is involved.
//!
//! - A swap exchanges two slots' two words: always inline (it drops nothing).
//! - A clone copies the two words when neither the source nor the destination holds
//!   a string (a string's clone counts a reference; the destination's string must be
//!   dropped); else the helper.
//! - Boxing an int or a float writes its tag and payload when the destination holds
//!   no string; else (and a bool, whose payload is a byte) the helper.
//!
//! The helper is the semantics; the inline path is taken only where it does exactly
//! what the helper would.

use super::calls::{Callee, HArg};
use super::{Gen, R};
use crate::jit::values::{self, BOX_FLOAT, BOX_INT, PAYLOAD, TAG_FLOAT, TAG_INT, TAG_STR};
use grizzly_arch::{Gpr, HelperArg, MacroAssembler, Src};

/// A move of a generic value, with its helper's arguments.
#[derive(Clone, Copy)]
pub(super) enum ValueMove {
    /// `grz_swap(a, b)`.
    Swap(HArg, HArg),
    /// `grz_clone(dst, src)`.
    Clone(HArg, HArg),
    /// `grz_box(dst, tag, bits)`.
    Box(HArg, u64, HArg),
}

impl ValueMove {
    fn helper(self) -> (usize, Vec<HArg>) {
        match self {
            ValueMove::Swap(a, b) => (values::grz_swap as *const () as usize, vec![a, b]),
            ValueMove::Clone(d, s) => (values::grz_clone as *const () as usize, vec![d, s]),
            ValueMove::Box(d, tag, bits) => (
                values::grz_box as *const () as usize,
                vec![d, HArg::Imm(tag as i64), bits],
            ),
        }
    }
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// Emits `mv`: inline where it can, else (or on its slow path) the helper call.
    pub(super) fn move_value(&mut self, mv: ValueMove) -> R {
        self.spill_all();
        let boxes_bool =
            matches!(mv, ValueMove::Box(_, tag, _) if tag != BOX_INT && tag != BOX_FLOAT);
        if self.regs.gprs.len() < 4 || boxes_bool {
            let (address, args) = mv.helper();
            return self.call_out(Callee::Rust(address, args));
        }
        self.write_back_homes();
        let regs = [self.gpr()?, self.gpr()?, self.gpr()?, self.gpr()?];
        let [a, b, t, u] = regs;
        let (slow, done) = (self.m.new_label(), self.m.new_label());
        let needs_slow = match mv {
            ValueMove::Swap(x, y) => {
                self.arg_into(x, a)?;
                self.arg_into(y, b)?;
                for word in [0, PAYLOAD] {
                    self.m.load_word(t.0, a.0, word);
                    self.m.load_word(u.0, b.0, word);
                    self.m.store_word(a.0, word, u.0);
                    self.m.store_word(b.0, word, t.0);
                }
                false
            }
            ValueMove::Clone(dst, src) => {
                self.arg_into(dst, a)?;
                self.arg_into(src, b)?;
                self.m.load_word(t.0, b.0, 0);
                self.m.branch_low_byte(t, TAG_STR, true, slow);
                self.m.load_word(u.0, a.0, 0);
                self.m.branch_low_byte(u, TAG_STR, true, slow);
                self.m.store_word(a.0, 0, t.0);
                self.m.load_word(t.0, b.0, PAYLOAD);
                self.m.store_word(a.0, PAYLOAD, t.0);
                true
            }
            ValueMove::Box(dst, tag, bits) => {
                self.arg_into(dst, a)?;
                self.arg_into(bits, b)?;
                self.m.load_word(t.0, a.0, 0);
                self.m.branch_low_byte(t, TAG_STR, true, slow);
                self.m.store_word(a.0, PAYLOAD, b.0);
                let tag = if tag == BOX_INT { TAG_INT } else { TAG_FLOAT };
                self.m.move_imm(t.0, tag as i64);
                self.m.store_word(a.0, 0, t.0);
                true
            }
        };
        for r in regs {
            self.regs.gprs.free(r);
        }
        if needs_slow {
            self.m.jump(done);
            self.m.bind(slow);
            let (address, args) = mv.helper();
            self.call_out(Callee::Rust(address, args))?;
            self.m.bind(done);
            self.clobber_homes();
        }
        Ok(())
    }

    /// Loads a helper argument into `r` (the value stack holds no registers).
    fn arg_into(&mut self, a: HArg, r: Gpr) -> R {
        match self.helper_arg(a)? {
            HelperArg::Ctx => self.m.move_reg(r.0, M::CTX),
            HelperArg::Imm(i) => self.m.move_imm(r.0, i),
            HelperArg::Word(m) => self.m.mov(r, Src::Mem(m)),
            HelperArg::Address(m, d) => {
                self.m.mov(r, Src::Mem(m));
                self.m.add_imm(r.0, d);
            }
        }
        Ok(())
    }
}
