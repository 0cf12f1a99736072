//! Generic values (`Ty::Value`): the function's frame on the value stack, and the
//! templates of generic nodes, which call the helpers of `jit/values.rs`.
//!
//! A generic value is a slot of the function's value frame, named by its index: each
//! generic node writes the slot the walk gives it (a fresh one per node, so no slot is
//! written by two nodes, and a loop's next iteration overwrites its own), a `LET` names
//! its value's slot, and a generic parameter gets a slot of its own at entry, a clone
//! of the caller's value. Constants are read in place, from the compiled code's pool.
//! Helpers write slots by assignment, so a slot always holds a valid value and nothing
//! but the frame's release (`grz_leave`, or the entry's on any other exit) frees them.

use super::calls::{Callee, HArg};
use super::moves::ValueMove;
use super::stack::Val;
use super::{Gen, R};
use crate::builtins::Builtin;
use crate::jit::ir::{DeoptReason, GenericOp, TExpr, Ty};
use crate::jit::values::{self, BOX_BOOL, BOX_FLOAT, BOX_INT};
use crate::value::Value;
use grizzly_arch::{EmitError, MacroAssembler, Mem, Src};

/// The function's frame on the value stack.
pub(super) struct ValueFrame {
    /// The frame word holding the frame's address.
    pub(super) base: Mem,
    /// Slots taken at entry; the walk refuses to use more.
    size: u32,
    next: u32,
}

/// Bytes of one slot.
pub(super) const SLOT: i32 = std::mem::size_of::<Value>() as i32;

impl<M: MacroAssembler> Gen<'_, M> {
    /// After the prologue: takes the value frame (when the function needs slots),
    /// clones the generic arguments of a loop into it (other functions read them where
    /// the caller keeps them) and checks their annotations.
    pub(super) fn enter_values(&mut self) -> R {
        let f = self.f;
        // Outside a loop a generic argument is read where the caller keeps it.
        let borrowed = !f.facts.self_tail;
        for (i, &ty) in f.params.iter().enumerate() {
            if ty == Ty::Value && borrowed {
                self.value_params[i] = Some(Val::VParam(i as u32));
            }
        }
        let size = f.facts.value_slots.saturating_add(f.checks.len() as u32);
        if size == 0 {
            return Ok(());
        }
        if size >= (i32::MAX / SLOT) as u32 {
            return Err(EmitError("too many generic values".into()));
        }
        let base = Mem::Local(self.frame.spill_slot());
        let full = self.deopt(DeoptReason::ValueStack);
        if !self.enter_frame_inline(size, base, full)? {
            let enter = values::grz_enter as *const () as usize;
            self.call_out(Callee::Rust(enter, vec![HArg::Ctx, HArg::Imm(size as i64)]))?;
            self.m.jump_if_zero(M::RETS[0], full);
            self.m.store_frame(base, M::RETS[0]);
        }
        self.values = Some(ValueFrame {
            base,
            size,
            next: 0,
        });
        for (i, &ty) in f.params.iter().enumerate() {
            if ty != Ty::Value {
                continue;
            }
            if borrowed {
                if let Some(&(_, ty)) = f.checks.iter().find(|(p, _)| *p == i) {
                    self.push(Val::VParam(i as u32), Ty::Value);
                    let checked = match self.generic_op(GenericOp::Annotate(ty), 1, Ty::Value)? {
                        Val::V(k) => Val::VLocal(k),
                        v => v,
                    };
                    self.pop()?;
                    self.value_params[i] = Some(checked);
                }
                continue;
            }
            let k = self.value_slot()?;
            let word = HArg::Word(Mem::Param(i as u32));
            self.move_value(match f.entry.get(i).copied().unwrap_or(Ty::Value) {
                // The caller's value, by its address.
                Ty::Value => ValueMove::Clone(HArg::Value(k), word),
                // A machine value a loop of this function makes generic.
                ty => ValueMove::Box(HArg::Value(k), box_tag(ty)?, word),
            })?;
            let mut val = Val::VLocal(k);
            if let Some(&(_, ty)) = f.checks.iter().find(|(p, _)| *p == i) {
                self.push(val, Ty::Value);
                val = match self.generic_op(GenericOp::Annotate(ty), 1, Ty::Value)? {
                    Val::V(k) => Val::VLocal(k),
                    v => v,
                };
                self.pop()?;
            }
            self.value_params[i] = Some(val);
        }
        Ok(())
    }

    /// A fresh slot of the value frame.
    pub(super) fn value_slot(&mut self) -> R<u32> {
        let frame = self.values.as_mut().ok_or_else(|| {
            EmitError("a generic value in a function without a value frame".into())
        })?;
        if frame.next >= frame.size {
            return Err(EmitError("more generic values than counted".into()));
        }
        frame.next += 1;
        Ok(frame.next - 1)
    }

    /// The address of a slot, as a helper argument.
    pub(super) fn value_address(&self, k: u32) -> R<grizzly_arch::HelperArg> {
        let frame = self.values.as_ref().ok_or_else(|| {
            EmitError("a generic value in a function without a value frame".into())
        })?;
        Ok(grizzly_arch::HelperArg::Address(
            frame.base,
            k as i32 * SLOT,
        ))
    }

    /// Loads the address of a generic operand into a register of its own.
    pub(super) fn value_into(&mut self, v: Val) -> R<grizzly_arch::Gpr> {
        let r = self.gpr()?;
        self.load_value_address(v, r)?;
        Ok(r)
    }

    /// Loads the address of a generic operand into `r`.
    pub(super) fn load_value_address(&mut self, v: Val, r: grizzly_arch::Gpr) -> R {
        match v {
            Val::V(k) | Val::VLocal(k) => {
                let base = self.values.as_ref().map(|f| f.base).ok_or_else(|| {
                    EmitError("a generic value in a function without a value frame".into())
                })?;
                self.m.mov(r, Src::Mem(base));
                self.m.add_imm(r.0, k as i32 * SLOT);
            }
            Val::VConst(p) => self.m.mov(r, Src::Imm(p as i64)),
            Val::VParam(i) => self.m.mov(r, Src::Mem(Mem::Param(i))),
            _ => return Err(EmitError("a machine value used as a generic one".into())),
        }
        Ok(())
    }

    /// A generic constant: read in place from the pool, which the code owns.
    pub(super) fn constant(&mut self, v: &Value) {
        let boxed = Box::new(v.clone());
        let at = &*boxed as *const Value as usize;
        self.constants.push(boxed);
        self.push(Val::VConst(at), Ty::Value);
    }

    /// A machine value (on the stack) as a generic value.
    pub(super) fn box_(&mut self, ty: Ty) -> R {
        let tag = box_tag(ty)?;
        let k = self.value_slot()?;
        self.move_value(ValueMove::Box(HArg::Value(k), tag, HArg::Entry(0)))?;
        let v = self.pop()?;
        self.release(v.val);
        self.push(Val::V(k), Ty::Value);
        Ok(())
    }

    /// An operation on the `n` generic operands on top of the stack, giving `ty`.
    /// Returns the result's value (also pushed).
    pub(super) fn generic_op(&mut self, op: GenericOp, n: usize, ty: Ty) -> R<Val> {
        if n == 0 || n > 2 || self.stack.len() < n {
            return Err(EmitError(
                "a generic operation of other than one or two operands".into(),
            ));
        }
        if let Some(v) = self.null_compare(op, ty)? {
            return Ok(v);
        }
        let dst = match (op, ty) {
            (GenericOp::NotNull, _) => None,
            (_, Ty::Value) => Some(self.value_slot()?),
            _ => None,
        };
        // A machine result goes to this register on both paths.
        let result = match (op, dst) {
            (GenericOp::NotNull, _) | (_, Some(_)) => None,
            _ => {
                if !matches!(ty, Ty::Int | Ty::Bool) {
                    return Err(EmitError(format!(
                        "a generic operation giving {}",
                        ty.name()
                    )));
                }
                Some(self.gpr()?)
            }
        };
        let fast = self.fast_path(op, dst, result)?;
        let (helper, args) = if op == GenericOp::Builtin(Builtin::Len) {
            (values::grz_len as *const () as usize, vec![HArg::Entry(0)])
        } else {
            let mut args = vec![
                HArg::Imm(values::op_code(op) as i64),
                match dst {
                    Some(k) => HArg::Value(k),
                    None => HArg::Imm(0),
                },
                HArg::Entry(n - 1),
            ];
            args.push(if n == 2 { HArg::Entry(0) } else { HArg::Imm(0) });
            (values::grz_op as *const () as usize, args)
        };
        let failed = self.deopt(DeoptReason::Raised);
        self.call_out(Callee::Rust(helper, args))?;
        self.m.jump_if_not_zero(M::RETS[1], failed);
        let mut operands = Vec::with_capacity(n);
        for _ in 0..n {
            operands.push(self.pop()?);
        }
        let val = match (op, dst, result) {
            (GenericOp::NotNull, _, _) => operands[0].val,
            (_, Some(k), _) => Val::V(k),
            (_, None, Some(r)) => {
                self.m.move_reg(r.0, M::RETS[0]);
                Val::Gpr(r)
            }
            (_, None, None) => return Err(EmitError("a generic result without a place".into())),
        };
        if let Some(done) = fast {
            self.join_fast_path(done);
        }
        self.push(val, ty);
        Ok(val)
    }

    /// The generic node `op` on `args`.
    pub(super) fn generic(&mut self, op: GenericOp, args: &[TExpr], ty: Ty) -> R {
        for a in args {
            self.expr(a)?;
        }
        if let GenericOp::Host(id) = op {
            return self.host_call(id, args.len());
        }
        self.generic_op(op, args.len(), ty).map(|_| ())
    }

    /// A call of host function `id` on the `n` generic operands on top of the stack,
    /// straight to Rust (`grz_host`): its error is the `Raised` exit's.
    fn host_call(&mut self, id: u32, n: usize) -> R {
        let host = self
            .link
            .host(id)
            .filter(|h| h.arity == n && n <= 4)
            .ok_or_else(|| EmitError(format!("host function {id} of {n} arguments")))?;
        let dst = self.value_slot()?;
        let mut args = vec![
            HArg::Imm(std::sync::Arc::as_ptr(&host) as i64),
            HArg::Value(dst),
        ];
        args.extend((0..n).rev().map(HArg::Entry));
        args.resize(6, HArg::Imm(0));
        let failed = self.deopt(DeoptReason::Raised);
        self.call_out(Callee::Rust(values::grz_host as *const () as usize, args))?;
        self.m.jump_if_not_zero(M::RETS[1], failed);
        for _ in 0..n {
            self.pop()?;
        }
        // The code holds its address: it lives as long.
        self.hosts.push(host);
        self.push(Val::V(dst), Ty::Value);
        Ok(())
    }

    /// The top entry as a slot that belongs to the caller alone (a node's fresh slot),
    /// cloning a `LET`'s, a parameter's or a constant into a new one.
    pub(super) fn own_top(&mut self) -> R<u32> {
        let top = self.pop()?;
        match top.val {
            Val::V(k) => Ok(k),
            v @ (Val::VLocal(_) | Val::VConst(_) | Val::VParam(_)) => {
                let k = self.value_slot()?;
                self.push(v, Ty::Value);
                self.move_value(ValueMove::Clone(HArg::Value(k), HArg::Entry(0)))?;
                self.pop()?;
                Ok(k)
            }
            _ => Err(EmitError("a machine value used as a generic one".into())),
        }
    }

    /// Moves the generic value on top of the stack into slot `dst` (a join's).
    pub(super) fn move_value_to(&mut self, dst: u32) -> R {
        let top = *self
            .stack
            .last()
            .ok_or_else(|| EmitError("value stack underflow".into()))?;
        let (dst, src) = (HArg::Value(dst), HArg::Entry(0));
        self.move_value(match top.val {
            Val::V(_) => ValueMove::Swap(dst, src),
            _ => ValueMove::Clone(dst, src),
        })?;
        self.pop()?;
        Ok(())
    }

    /// Leaves the value frame before a return: a generic result (on top of the stack)
    /// goes to the context's `value_ret`.
    pub(super) fn leave_values(&mut self, result: Ty) -> R {
        let Some(frame) = &self.values else {
            return Ok(());
        };
        let (base, size) = (frame.base, frame.size);
        let result = match result {
            Ty::Value => {
                let k = self.own_top()?;
                self.push(Val::V(k), Ty::Value);
                Some(k)
            }
            _ => None,
        };
        if self.leave_frame_inline(size, base, result)? {
            return Ok(());
        }
        let result = match result {
            Some(_) => HArg::Entry(0),
            None => HArg::Imm(0),
        };
        let args = vec![HArg::Ctx, HArg::Word(base), result];
        self.call_out(Callee::Rust(values::grz_leave as *const () as usize, args))?;
        Ok(())
    }

    /// At a compiled handler's landing: drops the values of the frames the error
    /// unwound (above the top saved when the handler was entered).
    pub(super) fn unwind_values(&mut self, saved_top: Mem) -> R {
        let args = vec![HArg::Ctx, HArg::Word(saved_top)];
        self.call_out(Callee::Rust(values::grz_unwind as *const () as usize, args))
    }
}

/// The tag `grz_box` takes for a machine type.
fn box_tag(ty: Ty) -> R<u64> {
    match ty {
        Ty::Int => Ok(BOX_INT),
        Ty::Float => Ok(BOX_FLOAT),
        Ty::Bool => Ok(BOX_BOOL),
        _ => Err(EmitError(format!("boxing a {}", ty.name()))),
    }
}
