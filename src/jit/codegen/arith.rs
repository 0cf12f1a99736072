//! Templates of arithmetic, conversions and builtins.

use super::calls::Callee;
use super::stack::Val;
use super::{pow2_shift, Gen, R};
use crate::jit::helpers;
use crate::jit::ir::{ArithOp, Convert, DeoptReason, MathOp, TExpr, Ty};
use grizzly_arch::{Cond, FloatOp, Helper, IntOp, MacroAssembler, Src};

impl<M: MacroAssembler> Gen<'_, M> {
    pub(super) fn int_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) -> R {
        self.expr(a)?;
        if let (ArithOp::Div | ArithOp::Rem, Some(shift)) = (op, pow2_shift(b)) {
            let rem = op == ArithOp::Rem;
            return self.int_unop(Ty::Int, |m, r| m.int_div_pow2(rem, r, shift));
        }
        self.expr(b)?;
        // A constant left operand of `+` or `*` goes right, where it is an immediate
        // (constants have no effects, so the order of evaluation is kept).
        let n = self.stack.len();
        if matches!(op, ArithOp::Add | ArithOp::Mul) && matches!(self.stack[n - 2].val, Val::Imm(_))
        {
            self.stack.swap(n - 2, n - 1);
        }
        let overflow = self.deopt(DeoptReason::Overflow);
        match op {
            ArithOp::Add => self.int_binop(Ty::Int, |m, l, r| m.int_op(IntOp::Add, l, r, overflow)),
            ArithOp::Sub => self.int_binop(Ty::Int, |m, l, r| m.int_op(IntOp::Sub, l, r, overflow)),
            ArithOp::Mul => self.int_binop(Ty::Int, |m, l, r| m.int_op(IntOp::Mul, l, r, overflow)),
            ArithOp::Div | ArithOp::Rem => {
                let zero = self.deopt(DeoptReason::DivisionByZero);
                let rem = op == ArithOp::Rem;
                self.int_binop(Ty::Int, |m, l, r| m.int_div(rem, l, r, zero, overflow))
            }
        }
    }

    pub(super) fn float_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) -> R {
        self.expr(a)?;
        self.expr(b)?;
        let fop = match op {
            ArithOp::Add => FloatOp::Add,
            ArithOp::Sub => FloatOp::Sub,
            ArithOp::Mul => FloatOp::Mul,
            ArithOp::Div => FloatOp::Div,
            ArithOp::Rem => return self.float_helper(Helper::Binary(helpers::fmod)),
        };
        self.float_binop(|m, l, r| m.float_op(fop, l, r))
    }

    /// Calls a Rust helper on the top one or two float entries.
    fn float_helper(&mut self, helper: Helper) -> R {
        let rhs = match helper {
            Helper::Binary(_) => Some(self.pop_fpr()?),
            Helper::Unary(_) => None,
        };
        let l = self.pop_fpr()?;
        self.call_out(Callee::Helper(helper, l, rhs))?;
        if let Some(r) = rhs {
            self.regs.fprs.free(r);
        }
        self.push(Val::Fpr(l), Ty::Float);
        Ok(())
    }

    pub(super) fn convert(&mut self, c: Convert) -> R {
        match c {
            Convert::IntToFloat | Convert::BoolToFloat => {
                let v = self.pop()?;
                let s = self.src(v.val)?;
                let r = self.fpr()?;
                self.m.int_to_float(r, s);
                self.release(v.val);
                self.push(Val::Fpr(r), Ty::Float);
            }
            Convert::FloatToInt => {
                let x = self.pop_fpr()?;
                let r = self.gpr()?;
                let fail = self.deopt(DeoptReason::Cast);
                self.m.float_to_int(r, x, fail);
                self.regs.fprs.free(x);
                self.push(Val::Gpr(r), Ty::Int);
            }
            Convert::BoolToInt => {
                let v = self.pop()?;
                self.push(v.val, Ty::Int);
            }
        }
        Ok(())
    }

    pub(super) fn math(&mut self, op: MathOp) -> R {
        match op {
            MathOp::IntAbs => {
                let overflow = self.deopt(DeoptReason::Overflow);
                self.int_unop(Ty::Int, |m, r| {
                    let done = m.new_label();
                    m.branch_int(Cond::Ge, r, Src::Imm(0), done);
                    m.int_neg(r, overflow);
                    m.bind(done);
                })
            }
            MathOp::IntMin | MathOp::IntMax => {
                // min: b < a picks b, i.e. keep a when a <= b; max: keep a when a >= b.
                let c = if op == MathOp::IntMin {
                    Cond::Le
                } else {
                    Cond::Ge
                };
                self.int_binop(Ty::Int, |m, l, r| {
                    let keep = m.new_label();
                    m.branch_int(c, l, r, keep);
                    m.mov(l, r);
                    m.bind(keep);
                })
            }
            MathOp::FloatMin | MathOp::FloatMax => {
                // min picks b when a > b; max when a < b; NaN keeps a.
                let c = if op == MathOp::FloatMin {
                    Cond::Gt
                } else {
                    Cond::Lt
                };
                self.float_binop(|m, l, r| {
                    let keep = m.new_label();
                    m.branch_float(c, l, r, false, keep);
                    m.fmov(l, r);
                    m.bind(keep);
                })
            }
            MathOp::FloatAbs => self.float_unop(|m, r| m.float_abs(r)),
            MathOp::Sqrt => self.float_unop(|m, r| m.float_sqrt(r)),
            MathOp::Floor => self.float_helper(Helper::Unary(helpers::floor)),
            MathOp::Ceil => self.float_helper(Helper::Unary(helpers::ceil)),
            MathOp::Round => self.float_helper(Helper::Unary(helpers::round)),
            MathOp::Pow => self.float_helper(Helper::Binary(helpers::pow)),
        }
    }
}
