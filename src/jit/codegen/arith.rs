//! Templates of arithmetic, conversions and builtins.

use super::{pow2_shift, Gen, Val};
use crate::jit::helpers;
use crate::jit::ir::{ArithOp, Convert, DeoptReason, MathOp, TExpr, Ty};
use grizzly_arch::{Cond, FloatOp, Helper, IntOp, MacroAssembler, Src};

impl<M: MacroAssembler> Gen<'_, M> {
    pub(super) fn int_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) {
        self.expr(a);
        if let (ArithOp::Div | ArithOp::Rem, Some(shift)) = (op, pow2_shift(b)) {
            let r = self.pop_gpr();
            self.m.int_div_pow2(op == ArithOp::Rem, r, shift);
            self.push(Val::Gpr(r), Ty::Int);
            return;
        }
        self.expr(b);
        // A constant left operand of `+` or `*` goes right, where it is an immediate
        // (constants have no effects, so the order of evaluation is kept).
        let n = self.stack.len();
        if matches!(op, ArithOp::Add | ArithOp::Mul) && matches!(self.stack[n - 2].val, Val::Imm(_))
        {
            self.stack.swap(n - 2, n - 1);
        }
        let rhs = self.pop();
        let l = self.pop_gpr();
        let r = self.src(rhs.val);
        let overflow = self.deopt(DeoptReason::Overflow);
        match op {
            ArithOp::Add => self.m.int_op(IntOp::Add, l, r, overflow),
            ArithOp::Sub => self.m.int_op(IntOp::Sub, l, r, overflow),
            ArithOp::Mul => self.m.int_op(IntOp::Mul, l, r, overflow),
            ArithOp::Div | ArithOp::Rem => {
                let zero = self.deopt(DeoptReason::DivisionByZero);
                self.m.int_div(op == ArithOp::Rem, l, r, zero, overflow);
            }
        }
        self.release(rhs.val);
        self.push(Val::Gpr(l), Ty::Int);
    }

    pub(super) fn float_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) {
        self.expr(a);
        self.expr(b);
        if op == ArithOp::Rem {
            self.float_helper(Helper::Binary(helpers::fmod), 2);
            return;
        }
        let rhs = self.pop();
        let l = self.pop_fpr();
        let r = self.fsrc(rhs.val);
        let fop = match op {
            ArithOp::Add => FloatOp::Add,
            ArithOp::Sub => FloatOp::Sub,
            ArithOp::Mul => FloatOp::Mul,
            _ => FloatOp::Div,
        };
        self.m.float_op(fop, l, r);
        self.release_fsrc(rhs.val, r);
        self.push(Val::Fpr(l), Ty::Float);
    }

    /// Calls a Rust helper on the top one or two float entries.
    pub(super) fn float_helper(&mut self, helper: Helper, arity: usize) {
        // The call clobbers every register: nothing below may stay in one.
        let n = self.stack.len();
        for i in 0..n.saturating_sub(arity) {
            self.spill_entry(i);
        }
        let rhs = if arity == 2 {
            Some(self.pop_fpr())
        } else {
            None
        };
        let l = self.pop_fpr();
        self.m.float_call(helper, l, rhs);
        self.reload_homes();
        if let Some(r) = rhs {
            self.free_fprs.push(r);
        }
        self.push(Val::Fpr(l), Ty::Float);
    }

    pub(super) fn convert(&mut self, c: Convert) {
        match c {
            Convert::IntToFloat | Convert::BoolToFloat => {
                let v = self.pop();
                let s = self.src(v.val);
                let r = self.fpr();
                self.m.int_to_float(r, s);
                self.release(v.val);
                self.push(Val::Fpr(r), Ty::Float);
            }
            Convert::FloatToInt => {
                let x = self.pop_fpr();
                let r = self.gpr();
                let fail = self.deopt(DeoptReason::Cast);
                self.m.float_to_int(r, x, fail);
                self.free_fprs.push(x);
                self.push(Val::Gpr(r), Ty::Int);
            }
            Convert::BoolToInt => {
                let v = self.pop();
                self.push(v.val, Ty::Int);
            }
        }
    }

    pub(super) fn math(&mut self, op: MathOp) {
        match op {
            MathOp::IntAbs => {
                let r = self.pop_gpr();
                let done = self.m.new_label();
                let overflow = self.deopt(DeoptReason::Overflow);
                self.m.branch_int(Cond::Ge, r, Src::Imm(0), done);
                self.m.int_neg(r, overflow);
                self.m.bind(done);
                self.push(Val::Gpr(r), Ty::Int);
            }
            MathOp::IntMin | MathOp::IntMax => {
                let rhs = self.pop();
                let l = self.pop_gpr();
                let r = self.src(rhs.val);
                let keep = self.m.new_label();
                // min: b < a picks b, i.e. keep a when a <= b; max: keep a when a >= b.
                let c = if op == MathOp::IntMin {
                    Cond::Le
                } else {
                    Cond::Ge
                };
                self.m.branch_int(c, l, r, keep);
                self.m.mov(l, r);
                self.m.bind(keep);
                self.release(rhs.val);
                self.push(Val::Gpr(l), Ty::Int);
            }
            MathOp::FloatMin | MathOp::FloatMax => {
                let rhs = self.pop();
                let l = self.pop_fpr();
                let r = self.fsrc(rhs.val);
                let keep = self.m.new_label();
                // min picks b when a > b; max when a < b; NaN keeps a.
                let c = if op == MathOp::FloatMin {
                    Cond::Gt
                } else {
                    Cond::Lt
                };
                self.m.branch_float(c, l, r, false, keep);
                self.m.fmov(l, r);
                self.m.bind(keep);
                self.release_fsrc(rhs.val, r);
                self.push(Val::Fpr(l), Ty::Float);
            }
            MathOp::FloatAbs => {
                let r = self.pop_fpr();
                self.m.float_abs(r);
                self.push(Val::Fpr(r), Ty::Float);
            }
            MathOp::Sqrt => {
                let r = self.pop_fpr();
                self.m.float_sqrt(r);
                self.push(Val::Fpr(r), Ty::Float);
            }
            MathOp::Floor => self.float_helper(Helper::Unary(helpers::floor), 1),
            MathOp::Ceil => self.float_helper(Helper::Unary(helpers::ceil), 1),
            MathOp::Round => self.float_helper(Helper::Unary(helpers::round), 1),
            MathOp::Pow => self.float_helper(Helper::Binary(helpers::pow), 2),
        }
    }
}
