//! Inline fast paths of generic operations: when both operands of `+ - *` or of a
//! comparison are ints (or both floats), compiled code reads their payloads from
//! the value slots, computes, and writes the result's tag and payload itself; any
//! other pair of tags (and an int overflow, and a destination slot holding a string,
//! which must be dropped) takes the helper call, which is the semantics.
//!
//! `Value` is `repr(C, u8)`: its tag byte (the variant's index) at offset 0 and its
//! payload at offset 8 (`jit/values.rs` checks the layout in a test).

use super::stack::Val;
use super::{cond_of, Gen, R};
use crate::jit::ir::{CmpOp, GenericOp};
use crate::jit::values::{PAYLOAD, TAG_FLOAT, TAG_INT, TAG_STR};
use crate::syntax::ast::BinaryOp;
use grizzly_arch::{FSrc, FloatOp, Gpr, IntOp, MacroAssembler, Src};

/// What a fast path computes.
#[derive(Clone, Copy)]
enum Fast {
    Int(IntOp),
    Float(FloatOp),
    Compare(CmpOp),
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// Emits the fast path of `op` on the two generic operands on top of the stack
    /// (read, not popped), writing slot `dst` or register `result`. Returns the label
    /// the slow path (emitted next, falling through to it) must end at, or `None` when
    /// the operation has no fast path. Every register entry is spilled and the homes
    /// written back first, so that both paths leave the same state.
    pub(super) fn fast_path(
        &mut self,
        op: GenericOp,
        dst: Option<u32>,
        result: Option<Gpr>,
    ) -> R<Option<M::Label>> {
        let GenericOp::Binary(b) = op else {
            return Ok(None);
        };
        let (ints, floats) = match b {
            BinaryOp::Add => (Fast::Int(IntOp::Add), Some(Fast::Float(FloatOp::Add))),
            BinaryOp::Sub => (Fast::Int(IntOp::Sub), Some(Fast::Float(FloatOp::Sub))),
            BinaryOp::Mul => (Fast::Int(IntOp::Mul), Some(Fast::Float(FloatOp::Mul))),
            BinaryOp::Eq => (Fast::Compare(CmpOp::Eq), Some(Fast::Compare(CmpOp::Eq))),
            BinaryOp::Ne => (Fast::Compare(CmpOp::Ne), Some(Fast::Compare(CmpOp::Ne))),
            BinaryOp::Lt => (Fast::Compare(CmpOp::Lt), Some(Fast::Compare(CmpOp::Lt))),
            BinaryOp::Le => (Fast::Compare(CmpOp::Le), Some(Fast::Compare(CmpOp::Le))),
            BinaryOp::Gt => (Fast::Compare(CmpOp::Gt), Some(Fast::Compare(CmpOp::Gt))),
            BinaryOp::Ge => (Fast::Compare(CmpOp::Ge), Some(Fast::Compare(CmpOp::Ge))),
            _ => return Ok(None),
        };
        let n = self.stack.len();
        if n < 2 {
            return Ok(None);
        }
        let (a, b) = (self.stack[n - 2].val, self.stack[n - 1].val);
        self.spill_all();
        if self.regs.gprs.len() < 4 {
            // The loop's homes hold the rest: the helper alone.
            return Ok(None);
        }
        self.write_back_homes();
        let (slow, float, done) = (self.m.new_label(), self.m.new_label(), self.m.new_label());
        let ra = self.value_into(a)?;
        let rb = self.value_into(b)?;
        let t = self.gpr()?;
        // Ints?
        self.m.load_word(t.0, ra.0, 0);
        self.m.branch_low_byte(t, TAG_INT, false, float);
        self.m.load_word(t.0, rb.0, 0);
        self.m.branch_low_byte(t, TAG_INT, false, slow);
        self.compute(ints, ra, rb, t, dst, result, TAG_INT, slow)?;
        self.m.jump(done);
        // Floats?
        self.m.bind(float);
        match floats {
            Some(f) => {
                self.m.branch_low_byte(t, TAG_FLOAT, false, slow);
                self.m.load_word(t.0, rb.0, 0);
                self.m.branch_low_byte(t, TAG_FLOAT, false, slow);
                self.compute(f, ra, rb, t, dst, result, TAG_FLOAT, slow)?;
                self.m.jump(done);
            }
            None => self.m.jump(slow),
        }
        for r in [ra, rb, t] {
            self.regs.gprs.free(r);
        }
        self.m.bind(slow);
        Ok(Some(done))
    }

    /// After the slow path: where the fast path joins it. The homes are stale on the
    /// slow path (a call), and current in their frame words on both.
    pub(super) fn join_fast_path(&mut self, done: M::Label) {
        self.m.bind(done);
        self.clobber_homes();
    }

    /// The fast path's computation on payloads of `tag` at `ra` and `rb` (`t` free to
    /// use): jumps to `slow` where it cannot finish.
    #[allow(clippy::too_many_arguments)]
    fn compute(
        &mut self,
        fast: Fast,
        ra: Gpr,
        rb: Gpr,
        t: Gpr,
        dst: Option<u32>,
        result: Option<Gpr>,
        tag: u8,
        slow: M::Label,
    ) -> R {
        let float = tag == TAG_FLOAT;
        let y = self.gpr()?;
        self.m.load_word(t.0, ra.0, PAYLOAD);
        self.m.load_word(y.0, rb.0, PAYLOAD);
        let out = match fast {
            Fast::Compare(c) => {
                let r = result
                    .ok_or_else(|| super::EmitError("a comparison without a register".into()))?;
                if float {
                    let (fx, fy) = (self.fpr()?, self.fpr()?);
                    self.m.bits_to_float(fx, t);
                    self.m.bits_to_float(fy, y);
                    self.m.set_float(cond_of(c), r, fx, FSrc::Reg(fy));
                    self.regs.fprs.free(fx);
                    self.regs.fprs.free(fy);
                } else {
                    self.m.set_int(cond_of(c), r, t, Src::Reg(y));
                }
                None
            }
            Fast::Int(op) => {
                self.m.int_op(op, t, Src::Reg(y), slow);
                Some(t)
            }
            Fast::Float(op) => {
                let (fx, fy) = (self.fpr()?, self.fpr()?);
                self.m.bits_to_float(fx, t);
                self.m.bits_to_float(fy, y);
                self.m.float_op(op, fx, FSrc::Reg(fy));
                self.m.float_bits(t.0, fx);
                self.regs.fprs.free(fx);
                self.regs.fprs.free(fy);
                Some(t)
            }
        };
        if let (Some(bits), Some(k)) = (out, dst) {
            // The slot's old value is dropped by assignment: the helper does that
            // for a string.
            let rd = ra;
            self.load_value_address(Val::V(k), rd)?;
            self.m.load_word(y.0, rd.0, 0);
            self.m.branch_low_byte(y, TAG_STR, true, slow);
            self.m.store_word(rd.0, PAYLOAD, bits.0);
            self.m.move_imm(y.0, tag as i64);
            self.m.store_word(rd.0, 0, y.0);
        }
        self.regs.gprs.free(y);
        Ok(())
    }
}
