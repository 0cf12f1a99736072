//! Inline fast paths of generic operations: when both operands of `+ - * / %` or of a
//! comparison are ints (or floats, or an int and a float, but for `%`), compiled code reads their payloads from
//! the value slots, computes, and writes the result's tag and payload itself; any
//! other pair of tags (and an int overflow, and a destination slot holding a string,
//! which must be dropped) takes the helper call, which is the semantics.
//!
//! `Value` is `repr(C, u8)`: its tag byte (the variant's index) at offset 0 and its
//! payload at offset 8 (`jit/values.rs` checks the layout in a test).

use super::stack::Val;
use super::{cond_of, Gen, R};
use crate::jit::ir::Ty;
use crate::jit::ir::{CmpOp, GenericOp};
use crate::jit::values::{PAYLOAD, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_NULL, TAG_STR};
use crate::syntax::ast::{BinaryOp, TypeName};
use grizzly_arch::{FSrc, FloatOp, Fpr, Gpr, IntOp, MacroAssembler, Src};

/// What a fast path computes.
#[derive(Clone, Copy)]
enum Fast {
    Int(IntOp),
    /// `/` (false) or `%` (true) on ints: a zero divisor, and `MIN / -1`, take the slow path.
    IntDiv(bool),
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
        let b = match op {
            GenericOp::Binary(b) => b,
            GenericOp::Annotate(ty) => return self.annotate_fast_path(ty, dst),
            _ => return Ok(None),
        };
        let (ints, floats) = match b {
            BinaryOp::Add => (Fast::Int(IntOp::Add), Some(Fast::Float(FloatOp::Add))),
            BinaryOp::Sub => (Fast::Int(IntOp::Sub), Some(Fast::Float(FloatOp::Sub))),
            BinaryOp::Mul => (Fast::Int(IntOp::Mul), Some(Fast::Float(FloatOp::Mul))),
            BinaryOp::Div => (Fast::IntDiv(false), Some(Fast::Float(FloatOp::Div))),
            BinaryOp::Rem => (Fast::IntDiv(true), None),
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
        let (slow, done) = (self.m.new_label(), self.m.new_label());
        let (a_float, int_other, float_other) =
            (self.m.new_label(), self.m.new_label(), self.m.new_label());
        let ra = self.value_into(a)?;
        let rb = self.value_into(b)?;
        let t = self.gpr()?;
        let no = [false, false];
        // An int and ...
        self.m.load_word(t.0, ra.0, 0);
        self.m.branch_low_byte(t, TAG_INT, false, a_float);
        self.m.load_word(t.0, rb.0, 0);
        self.m.branch_low_byte(t, TAG_INT, false, int_other);
        self.compute(ints, ra, rb, t, dst, result, TAG_INT, no, slow)?;
        self.m.jump(done);
        // ... a float: the int converted, as `ops` does for a mixed pair.
        self.m.bind(int_other);
        self.float_case(floats, t, TAG_FLOAT, slow)?;
        self.compute_float(floats, ra, rb, t, dst, result, [true, false], slow, done)?;
        // A float and ...
        self.m.bind(a_float);
        self.float_case(floats, t, TAG_FLOAT, slow)?;
        self.m.load_word(t.0, rb.0, 0);
        self.m.branch_low_byte(t, TAG_FLOAT, false, float_other);
        self.compute_float(floats, ra, rb, t, dst, result, no, slow, done)?;
        // ... an int.
        self.m.bind(float_other);
        self.float_case(floats, t, TAG_INT, slow)?;
        self.compute_float(floats, ra, rb, t, dst, result, [false, true], slow, done)?;
        for r in [ra, rb, t] {
            self.regs.gprs.free(r);
        }
        self.m.bind(slow);
        Ok(Some(done))
    }

    /// The fast path of an annotation check (`x: int`, `RETURNS int`) on the generic
    /// value on top of the stack, into slot `dst`: a value the annotation keeps as it
    /// is (`null`, or of the annotated type, a string aside: its copy needs a
    /// reference) is copied, no helper. A conversion (an int for `float`), a string
    /// and a mismatch take the helper.
    fn annotate_fast_path(&mut self, ty: TypeName, dst: Option<u32>) -> R<Option<M::Label>> {
        let (Some(k), Some(top)) = (dst, self.stack.last()) else {
            return Ok(None);
        };
        let a = top.val;
        let kept: &[u8] = match ty {
            TypeName::Int => &[TAG_NULL, TAG_INT],
            TypeName::Float => &[TAG_NULL, TAG_FLOAT],
            TypeName::Number => &[TAG_NULL, TAG_INT, TAG_FLOAT],
            TypeName::Bool => &[TAG_NULL, TAG_BOOL],
            TypeName::Str => &[TAG_NULL],
        };
        self.spill_all();
        if self.regs.gprs.len() < 4 {
            return Ok(None);
        }
        self.write_back_homes();
        let (slow, done, keep) = (self.m.new_label(), self.m.new_label(), self.m.new_label());
        let ra = self.value_into(a)?;
        let t = self.gpr()?;
        let rd = self.gpr()?;
        self.m.load_word(t.0, ra.0, 0);
        for &tag in kept {
            self.m.branch_low_byte(t, tag, true, keep);
        }
        self.m.jump(slow);
        self.m.bind(keep);
        // The slot's old value is dropped by assignment: the helper does that for a
        // string.
        self.load_value_address(Val::V(k), rd)?;
        self.m.load_word(t.0, rd.0, 0);
        self.m.branch_low_byte(t, TAG_STR, true, slow);
        for half in [0, PAYLOAD] {
            self.m.load_word(t.0, ra.0, half);
            self.m.store_word(rd.0, half, t.0);
        }
        self.m.jump(done);
        for r in [ra, t, rd] {
            self.regs.gprs.free(r);
        }
        self.m.bind(slow);
        Ok(Some(done))
    }

    /// `x == null` or `x != null` (either operand the constant `null`, the other
    /// generic): the other's tag byte alone decides, no helper. The result (a bool
    /// in a register) is pushed and returned; `None` when this is not such a test.
    pub(super) fn null_compare(&mut self, op: GenericOp, ty: Ty) -> R<Option<Val>> {
        let (GenericOp::Binary(cmp @ (BinaryOp::Eq | BinaryOp::Ne)), Ty::Bool) = (op, ty) else {
            return Ok(None);
        };
        let n = self.stack.len();
        if n < 2 {
            return Ok(None);
        }
        let (a, b) = (self.stack[n - 2].val, self.stack[n - 1].val);
        let other = match (self.is_null_constant(a), self.is_null_constant(b)) {
            (_, true) => a,
            (true, false) => b,
            (false, false) => return Ok(None),
        };
        let r = self.gpr()?;
        let t = self.value_into(other)?;
        let done = self.m.new_label();
        self.m.load_word(t.0, t.0, 0);
        // Not null ...
        self.m.move_imm(r.0, i64::from(cmp == BinaryOp::Ne));
        self.m.branch_low_byte(t, TAG_NULL, false, done);
        // ... or null.
        self.m.move_imm(r.0, i64::from(cmp == BinaryOp::Eq));
        self.m.bind(done);
        self.regs.gprs.free(t);
        self.pop()?;
        self.pop()?;
        self.push(Val::Gpr(r), Ty::Bool);
        Ok(Some(Val::Gpr(r)))
    }

    /// Whether `v` is the constant `null` of this code's pool.
    fn is_null_constant(&self, v: Val) -> bool {
        let Val::VConst(at) = v else {
            return false;
        };
        self.constants
            .iter()
            .any(|c| std::ptr::eq(&**c, at as *const crate::value::Value) && c.is_null())
    }

    /// After the slow path: where the fast path joins it. The homes are stale on the
    /// slow path (a call), and current in their frame words on both.
    pub(super) fn join_fast_path(&mut self, done: M::Label) {
        self.m.bind(done);
        self.clobber_homes();
    }

    /// Goes on when the tag in `t` is `tag` and the operation has a float case, else
    /// jumps to `slow`.
    fn float_case(&mut self, floats: Option<Fast>, t: Gpr, tag: u8, slow: M::Label) -> R {
        match floats {
            Some(_) => self.m.branch_low_byte(t, tag, false, slow),
            None => self.m.jump(slow),
        }
        Ok(())
    }

    /// The float case (if the operation has one), then a jump to `done`.
    #[allow(clippy::too_many_arguments)]
    fn compute_float(
        &mut self,
        floats: Option<Fast>,
        ra: Gpr,
        rb: Gpr,
        t: Gpr,
        dst: Option<u32>,
        result: Option<Gpr>,
        from_int: [bool; 2],
        slow: M::Label,
        done: M::Label,
    ) -> R {
        if let Some(f) = floats {
            self.compute(f, ra, rb, t, dst, result, TAG_FLOAT, from_int, slow)?;
            self.m.jump(done);
        }
        Ok(())
    }

    /// The fast path's computation on payloads of `tag` at `ra` and `rb` (`t` free to
    /// use), converting an int payload to float where `from_int` says: jumps to `slow`
    /// where it cannot finish.
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
        from_int: [bool; 2],
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
                    self.floats_of(fx, fy, t, y, from_int);
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
            Fast::IntDiv(rem) => {
                self.m.int_div(rem, t, Src::Reg(y), slow, slow);
                Some(t)
            }
            Fast::Float(op) => {
                let (fx, fy) = (self.fpr()?, self.fpr()?);
                self.floats_of(fx, fy, t, y, from_int);
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

    /// The payloads in `t` and `y` as floats in `fx` and `fy`.
    fn floats_of(&mut self, fx: Fpr, fy: Fpr, t: Gpr, y: Gpr, from_int: [bool; 2]) {
        for (f, r, int) in [(fx, t, from_int[0]), (fy, y, from_int[1])] {
            if int {
                self.m.int_to_float(f, Src::Reg(r));
            } else {
                self.m.bits_to_float(f, r);
            }
        }
    }
}
