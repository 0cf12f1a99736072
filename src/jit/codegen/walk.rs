//! The tree walk: bodies, tail positions, conditions and expressions.

use super::homes::HomeState;
use super::stack::Val;
use super::{cond_of, divisibility, Gen, R};
use crate::jit::depth::descend;
use crate::jit::ir::{CmpOp, DeoptReason, TBody, TExpr, TKind, Ty};
use grizzly_arch::{EmitError, FSrc, MacroAssembler, Mem, Src, HANDLER_WORDS};

impl<M: MacroAssembler> Gen<'_, M> {
    pub(super) fn body(&mut self, b: &TBody, tail: bool) -> R {
        for (slot, e) in &b.lets {
            self.expr(e)?;
            if e.ty == Ty::Value {
                // The `LET` names its value's slot (read only from now on).
                let v = match self.pop()?.val {
                    Val::V(k) => Val::VLocal(k),
                    v => v,
                };
                let at = self
                    .value_params
                    .get_mut(*slot as usize)
                    .ok_or_else(|| EmitError("a LET slot out of range".into()))?;
                *at = Some(v);
                continue;
            }
            let dst = self.frame.slot(*slot);
            self.pop_to(dst)?;
        }
        if tail {
            self.tail(&b.result)
        } else {
            self.expr(&b.result)
        }
    }

    /// Emits a condition at a split, returning the homes' state on each edge out of
    /// it: loaded (every edge reloads them), and no dirtier than before.
    fn split(&mut self, c: &TExpr, when: bool, target: M::Label) -> R<HomeState> {
        let before = self.homes.state();
        self.cond(c, when, target)?;
        let after = HomeState {
            stale: false,
            dirty: before.dirty,
        };
        self.homes.set_state(after);
        Ok(after)
    }

    /// An expression in tail position: its value is returned.
    fn tail(&mut self, e: &TExpr) -> R {
        descend!(self, self.tail_inner(e))
    }

    fn tail_inner(&mut self, e: &TExpr) -> R {
        match &e.kind {
            TKind::If(c, then, other) => {
                self.note(e.span);
                self.spill_all();
                let else_ = self.m.new_label();
                let split = self.split(c, false, else_)?;
                self.body(then, true)?;
                self.homes.set_state(split);
                self.m.bind(else_);
                self.body(other, true)
            }
            TKind::SelfTail(args) => {
                self.note(e.span);
                self.self_tail(args)
            }
            _ => {
                self.expr(e)?;
                self.ret()
            }
        }
    }

    fn ret(&mut self) -> R {
        let ty = self
            .stack
            .last()
            .map(|e| e.ty)
            .ok_or_else(|| EmitError("value stack underflow".into()))?;
        self.leave_values(ty)?;
        let e = self.pop()?;
        if e.ty == Ty::Value {
            // The value is in the context's `value_ret`.
            self.m.ret(Src::Imm(0));
        } else if e.ty == Ty::Float {
            let r = match e.val {
                Val::Fpr(r) => r,
                _ => {
                    self.push(e.val, e.ty);
                    self.pop_fpr()?
                }
            };
            self.m.fret(r);
            self.regs.fprs.free(r);
        } else {
            let s = self.src(e.val)?;
            self.m.ret(s);
            self.release(e.val);
        }
        Ok(())
    }

    /// Jumps to `target` when the bool `e` equals `when`; falls through otherwise.
    /// The value stack must hold no registers (callers spill first). Every edge out of
    /// a condition leaves the homes loaded (see `homes.rs`).
    fn cond(&mut self, e: &TExpr, when: bool, target: M::Label) -> R {
        descend!(self, self.cond_inner(e, when, target))
    }

    fn cond_inner(&mut self, e: &TExpr, when: bool, target: M::Label) -> R {
        match &e.kind {
            TKind::Bool(b) => {
                self.ensure_homes();
                if *b == when {
                    self.m.jump(target);
                }
                Ok(())
            }
            TKind::Not(x) => self.cond(x, !when, target),
            TKind::And(a, b) | TKind::Or(a, b) => {
                let and = matches!(e.kind, TKind::And(..));
                if and != when {
                    // AND jumping when false / OR jumping when true: either operand decides.
                    self.cond(a, when, target)?;
                    self.cond(b, when, target)
                } else {
                    // `skip` joins edges from `a` with the fall-through after `b`: a call
                    // in `b` leaves the homes clean, but an edge from `a` may be dirty.
                    // Nothing in a condition makes them dirtier, and every edge out of
                    // one leaves them loaded.
                    let before = self.homes.state();
                    let skip = self.m.new_label();
                    self.cond(a, !when, skip)?;
                    self.cond(b, when, target)?;
                    self.m.bind(skip);
                    self.homes.set_state(HomeState {
                        stale: false,
                        dirty: before.dirty,
                    });
                    Ok(())
                }
            }
            TKind::Compare(op, a, b) => {
                self.note(e.span);
                if let Some((x, mask)) = divisibility(*op, a, b) {
                    // `x % 2^k == 0` is a test of the low bits (for negative x too).
                    self.expr(x)?;
                    let (l, held) = self.pop_read_gpr()?;
                    let zero = (*op == CmpOp::Eq) == when;
                    self.ensure_homes();
                    self.m.branch_mask(l, mask, zero, target);
                    self.release(held);
                    return Ok(());
                }
                self.expr(a)?;
                self.expr(b)?;
                let rhs = self.pop()?;
                if a.ty == Ty::Float {
                    let (l, held) = self.pop_read_fpr()?;
                    let r = self.fsrc(rhs.val)?;
                    self.ensure_homes();
                    self.m.branch_float(cond_of(*op), l, r, when, target);
                    self.release_fsrc(rhs.val, r);
                    self.release(held);
                } else {
                    let (l, held) = self.pop_read_gpr()?;
                    let r = self.src(rhs.val)?;
                    let c = if when {
                        cond_of(*op)
                    } else {
                        cond_of(*op).negate()
                    };
                    self.ensure_homes();
                    self.m.branch_int(c, l, r, target);
                    self.release(rhs.val);
                    self.release(held);
                }
                Ok(())
            }
            _ => {
                self.expr(e)?;
                let v = self.pop()?;
                let s = self.src(v.val)?;
                self.ensure_homes();
                self.m.branch_bool(s, when, target);
                self.release(v.val);
                Ok(())
            }
        }
    }

    pub(super) fn expr(&mut self, e: &TExpr) -> R {
        descend!(self, self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &TExpr) -> R {
        match &e.kind {
            TKind::Int(v) => self.push(Val::Imm(*v), Ty::Int),
            TKind::Bool(b) => self.push(Val::Imm(*b as i64), Ty::Bool),
            TKind::Float(f) => self.push(Val::FImm(*f), Ty::Float),
            TKind::Local(s) if e.ty == Ty::Value => {
                let v = self
                    .value_params
                    .get(*s as usize)
                    .copied()
                    .flatten()
                    .ok_or_else(|| EmitError("a generic local without a value".into()))?;
                self.push(v, Ty::Value);
            }
            TKind::Local(s) => self.push(Val::Slot(*s), e.ty),
            TKind::Const(v) => self.constant(v),
            TKind::Box(a) => {
                self.expr(a)?;
                self.note(e.span);
                return self.box_(a.ty);
            }
            TKind::Generic(op, args) => {
                self.note(e.span);
                return self.generic(*op, args, e.ty);
            }
            TKind::Arith(op, a, b) => {
                self.note(e.span);
                return if e.ty == Ty::Float {
                    self.float_arith(*op, a, b)
                } else {
                    self.int_arith(*op, a, b)
                };
            }
            TKind::Neg(a) => {
                self.expr(a)?;
                self.note(e.span);
                return if e.ty == Ty::Float {
                    self.float_unop(|m, r| m.float_neg(r))
                } else {
                    let overflow = self.deopt(DeoptReason::Overflow);
                    self.int_unop(Ty::Int, |m, r| m.int_neg(r, overflow))
                };
            }
            TKind::Not(a) => {
                self.expr(a)?;
                return self.int_unop(Ty::Bool, |m, r| m.not(r));
            }
            TKind::Compare(op, a, b) => {
                self.note(e.span);
                self.expr(a)?;
                self.expr(b)?;
                let c = cond_of(*op);
                return if a.ty == Ty::Float {
                    self.float_compare(|m, d, l, r| m.set_float(c, d, l, r))
                } else {
                    self.int_binop(Ty::Bool, |m, l, r| m.set_int(c, l, l, r))
                };
            }
            TKind::And(..) | TKind::Or(..) => {
                self.spill_all();
                let (no, done) = (self.m.new_label(), self.m.new_label());
                self.split(e, false, no)?;
                let r = self.gpr()?;
                self.m.mov(r, Src::Imm(1));
                self.m.jump(done);
                self.m.bind(no);
                self.m.mov(r, Src::Imm(0));
                self.m.bind(done);
                self.push(Val::Gpr(r), Ty::Bool);
            }
            TKind::Convert(c, a) => {
                self.expr(a)?;
                self.note(e.span);
                return self.convert(*c);
            }
            TKind::Math(op, args) => {
                for a in args {
                    self.expr(a)?;
                }
                self.note(e.span);
                return self.math(*op);
            }
            TKind::Call { callee, args } => {
                self.note(e.span);
                return self.call(callee, args, e.ty);
            }
            TKind::Host { host, args } => {
                for a in args {
                    self.expr(a)?;
                }
                self.note(e.span);
                return self.host_native(*host, args.len(), e.ty);
            }
            TKind::SelfTail(_) => {
                // The type pass puts self tail calls in tail position only.
                return Err(EmitError("self tail call outside tail position".into()));
            }
            TKind::If(c, then, other) => {
                self.note(e.span);
                self.spill_all();
                let join = self.join_slot(e.ty)?;
                let (else_, done) = (self.m.new_label(), self.m.new_label());
                let split = self.split(c, false, else_)?;
                self.body(then, false)?;
                self.move_to_join(e.ty, join)?;
                self.end_branch(split);
                let after_then = self.homes.state();
                self.m.jump(done);
                self.m.bind(else_);
                self.homes.set_state(split);
                self.body(other, false)?;
                self.move_to_join(e.ty, join)?;
                self.end_branch(split);
                let joined = self.homes.state().join(after_then);
                self.homes.set_state(joined);
                self.m.bind(done);
                self.push_join(e.ty, join);
            }
            TKind::Try(a, b) => {
                self.note(e.span);
                return self.try_(a, b, e.ty);
            }
            TKind::Deopt(reason) => {
                self.note(e.span);
                let l = self.deopt(*reason);
                self.m.jump(l);
                // Nothing follows at run time; the entry stands for the missing value.
                self.push(Val::Imm(0), Ty::Never);
            }
        }
        Ok(())
    }

    /// `TRY a CATCH b`: the guards of errors in `a`'s own code jump to a handler that
    /// computes `b`; when `a` calls, the handler is also registered in the context for
    /// the callees' errors (`handler_enter`), which drop their frames to reach it. The
    /// handler starts from the state before `a`: the same value stack (no registers),
    /// the same free registers and spill slots, and the homes stale with their frame
    /// words current (written back before `a`, which cannot write parameters: it holds
    /// no self tail call, and calls write them back).
    fn try_(&mut self, a: &TExpr, b: &TExpr, ty: Ty) -> R {
        self.spill_all();
        self.write_back_homes();
        let join = self.join_slot(ty)?;
        let saved = if calls(a) {
            let s = [(); HANDLER_WORDS].map(|_| Mem::Local(self.frame.spill_slot()));
            Some(s)
        } else {
            None
        };
        let (depth, regs, spills) = (
            self.stack.len(),
            self.regs.clone(),
            self.frame.free_spills(),
        );
        let (handler, done) = (self.m.new_label(), self.m.new_label());
        if let Some(saved) = saved {
            self.m.handler_enter(handler, saved);
        }
        self.begin_handler(handler);
        let a_done = self.expr(a);
        let caught = self.end_handler() || saved.is_some();
        a_done?;
        if !caught {
            // Nothing in `a` raises: `b` is never needed.
            if a.ty == Ty::Never && ty != Ty::Never {
                // `a` always leaves; stand in for the value that never comes.
                let v = self.pop()?;
                self.release(v.val);
                let dummy = match (ty, join) {
                    (Ty::Float, _) => Val::FImm(0.0),
                    (_, Some(k)) => Val::V(k),
                    _ => Val::Imm(0),
                };
                self.push(dummy, ty);
            }
            return Ok(());
        }
        if let Some(saved) = saved {
            if a.ty != Ty::Never {
                self.m.handler_leave(saved);
            }
        }
        self.move_to_join(ty, join)?;
        let after_a = self.homes.state();
        self.m.jump(done);
        match saved {
            Some(saved) => self.m.handler_landing(handler, saved),
            None => self.m.bind(handler),
        }
        self.stack.truncate(depth);
        self.regs = regs;
        self.frame.set_free_spills(spills);
        self.homes.set_state(HomeState {
            stale: false,
            dirty: false,
        });
        self.clobber_homes();
        if let Some(saved) = saved {
            // The frames the error dropped leave their generic values behind.
            self.unwind_values(saved[HANDLER_WORDS - 1])?;
        }
        self.expr(b)?;
        self.move_to_join(ty, join)?;
        let joined = self.homes.state().join(after_a);
        self.homes.set_state(joined);
        self.m.bind(done);
        self.push_join(ty, join);
        if let Some(saved) = saved {
            for m in saved {
                if let Mem::Local(slot) = m {
                    self.frame.free_spill(slot);
                }
            }
        }
        Ok(())
    }

    /// The slot where both paths of a generic `IF` or `TRY` leave their value.
    fn join_slot(&mut self, ty: Ty) -> R<Option<u32>> {
        match ty {
            Ty::Value => self.value_slot().map(Some),
            _ => Ok(None),
        }
    }

    /// Pushes the join register of `ty` (claimed), or the join slot of a generic
    /// value, where both paths of an `IF` or a `TRY` left the value.
    fn push_join(&mut self, ty: Ty, join: Option<u32>) {
        if let Some(k) = join {
            self.push(Val::V(k), Ty::Value);
        } else if ty == Ty::Float {
            let r = self.regs.join_fpr;
            self.regs.fprs.claim(r);
            self.push(Val::Fpr(r), Ty::Float);
        } else {
            // (A `Never` join is never reached: its register stands for nothing.)
            let r = self.regs.join_gpr;
            self.regs.gprs.claim(r);
            self.push(Val::Gpr(r), ty);
        }
    }

    /// Moves a branch's result into the join register (every register is free at the
    /// end of a branch, the stack below having been spilled).
    fn move_to_join(&mut self, ty: Ty, join: Option<u32>) -> R {
        if self.stack.last().is_some_and(|e| e.ty == Ty::Never) {
            // The branch always deoptimizes: nothing reaches the join from it.
            let v = self.pop()?;
            self.release(v.val);
            return Ok(());
        }
        if let Some(k) = join {
            self.move_value_to(k)?;
        } else if ty == Ty::Float {
            let r = self.pop_fpr()?;
            self.m.fmov(self.regs.join_fpr, FSrc::Reg(r));
            self.regs.fprs.free(r);
        } else {
            let v = self.pop()?;
            let s = self.src(v.val)?;
            self.m.mov(self.regs.join_gpr, s);
            self.release(v.val);
        }
        Ok(())
    }
}

/// Whether `e` calls a compiled function (walked iteratively: trees can be deep).
fn calls(e: &TExpr) -> bool {
    let mut work = vec![e];
    while let Some(e) = work.pop() {
        if matches!(e.kind, TKind::Call { .. }) {
            return true;
        }
        e.push_children(&mut work);
    }
    false
}
