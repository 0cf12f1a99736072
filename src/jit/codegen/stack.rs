//! The value stack: operands as immediates, frame slots, registers or spill slots
//! (Winch's `CodeGenContext`), and the register allocation behind it.
//!
//! Every allocation returns a `Result`: when no register can be had the compile is
//! refused, with no placeholder operand.

use super::homes::Home;
use super::{Gen, R};
use crate::jit::ir::Ty;
use crate::resolve::Slot;
use grizzly_arch::{EmitError, FSrc, Fpr, Gpr, MacroAssembler, Mem, Src};

#[derive(Clone, Copy, Debug)]
pub(super) enum Val {
    Imm(i64),
    FImm(f64),
    /// A parameter (in its home if it has one) or a `LET`, read in place.
    Slot(Slot),
    Gpr(Gpr),
    Fpr(Fpr),
    /// A local word holding a spilled temporary.
    Spill(u32),
    /// A generic value in a slot of the value frame that this entry alone uses (a
    /// node's result, see `generic.rs`).
    V(u32),
    /// A generic value in a slot that belongs to a `LET` or a parameter (read only).
    VLocal(u32),
    /// A generic constant at this address (read only).
    VConst(usize),
    /// A generic argument, at the address in this parameter's frame word (the caller's
    /// value, read only; in functions without self tail calls).
    VParam(u32),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    pub(super) val: Val,
    pub(super) ty: Ty,
}

fn refuse<T>(what: &str) -> R<T> {
    Err(EmitError(what.into()))
}

impl<M: MacroAssembler> Gen<'_, M> {
    // ---- registers ----

    pub(super) fn gpr(&mut self) -> R<Gpr> {
        if let Some(r) = self.regs.gprs.take() {
            return Ok(r);
        }
        self.spill_one(true);
        self.regs
            .gprs
            .take()
            .ok_or_else(|| EmitError("out of registers".into()))
    }

    pub(super) fn fpr(&mut self) -> R<Fpr> {
        if let Some(r) = self.regs.fprs.take() {
            return Ok(r);
        }
        self.spill_one(false);
        self.regs
            .fprs
            .take()
            .ok_or_else(|| EmitError("out of float registers".into()))
    }

    /// Spills the deepest register entry of the wanted class.
    fn spill_one(&mut self, gpr: bool) {
        let at = self.stack.iter().position(|e| match e.val {
            Val::Gpr(_) => gpr,
            Val::Fpr(_) => !gpr,
            _ => false,
        });
        if let Some(i) = at {
            self.spill_entry(i);
        }
    }

    fn spill_entry(&mut self, i: usize) {
        match self.stack[i].val {
            Val::Gpr(r) => {
                let s = self.frame.spill_slot();
                self.m.store(Mem::Local(s), Src::Reg(r));
                self.regs.gprs.free(r);
                self.stack[i].val = Val::Spill(s);
            }
            Val::Fpr(r) => {
                let s = self.frame.spill_slot();
                self.m.fstore(Mem::Local(s), r);
                self.regs.fprs.free(r);
                self.stack[i].val = Val::Spill(s);
            }
            _ => {}
        }
    }

    /// Moves every register entry to a spill slot (before a split or a call).
    pub(super) fn spill_all(&mut self) {
        for i in 0..self.stack.len() {
            self.spill_entry(i);
        }
    }

    // ---- entries ----

    pub(super) fn push(&mut self, val: Val, ty: Ty) {
        self.stack.push(Entry { val, ty });
    }

    pub(super) fn pop(&mut self) -> R<Entry> {
        self.stack
            .pop()
            .ok_or_else(|| EmitError("value stack underflow".into()))
    }

    /// Gives back what an entry occupies (after its last use).
    pub(super) fn release(&mut self, v: Val) {
        match v {
            Val::Gpr(r) => self.regs.gprs.free(r),
            Val::Fpr(r) => self.regs.fprs.free(r),
            Val::Spill(s) => self.frame.free_spill(s),
            _ => {}
        }
    }

    /// An integer operand for one instruction; `release` the value after it.
    pub(super) fn src(&mut self, v: Val) -> R<Src> {
        Ok(match v {
            Val::Imm(i) => Src::Imm(i),
            Val::FImm(f) => Src::Imm(f.to_bits() as i64),
            Val::Slot(s) => match self.homes.of(s as usize) {
                Some(Home::G(r)) => {
                    self.ensure_homes();
                    Src::Reg(r)
                }
                // Its frame word may be out of date: a bug here must refuse, not misread.
                Some(Home::F(_)) => return refuse("a float parameter's home read as an integer"),
                None => Src::Mem(self.frame.slot(s)),
            },
            Val::Gpr(r) => Src::Reg(r),
            Val::Spill(s) => Src::Mem(Mem::Local(s)),
            Val::Fpr(_) => return refuse("float operand used as an integer"),
            Val::V(_) | Val::VLocal(_) | Val::VConst(_) | Val::VParam(_) => {
                return refuse("a generic value used as an integer")
            }
        })
    }

    /// A float operand for one instruction (a constant is loaded into a register);
    /// `release_fsrc` it after.
    pub(super) fn fsrc(&mut self, v: Val) -> R<FSrc> {
        Ok(match v {
            Val::Fpr(r) => FSrc::Reg(r),
            Val::Slot(s) => match self.homes.of(s as usize) {
                Some(Home::F(r)) => {
                    self.ensure_homes();
                    FSrc::Reg(r)
                }
                Some(Home::G(_)) => return refuse("an integer parameter's home read as a float"),
                None => FSrc::Mem(self.frame.slot(s)),
            },
            Val::Spill(s) => FSrc::Mem(Mem::Local(s)),
            Val::FImm(f) => {
                let r = self.fpr()?;
                self.m.fconst(r, f);
                FSrc::Reg(r)
            }
            Val::Imm(_) | Val::Gpr(_) => return refuse("integer operand used as a float"),
            Val::V(_) | Val::VLocal(_) | Val::VConst(_) | Val::VParam(_) => {
                return refuse("a generic value used as a float")
            }
        })
    }

    /// Releases an operand obtained with `fsrc` (including a register it loaded).
    pub(super) fn release_fsrc(&mut self, v: Val, s: FSrc) {
        match (v, s) {
            (Val::FImm(_), FSrc::Reg(r)) => self.regs.fprs.free(r),
            _ => self.release(v),
        }
    }

    /// Pops the top entry as a register to read only: its own register, a parameter's
    /// home, or a fresh one. `release` the returned value after the read.
    pub(super) fn pop_read_gpr(&mut self) -> R<(Gpr, Val)> {
        if let Some(Entry {
            val: Val::Slot(s), ..
        }) = self.stack.last().copied()
        {
            if let Some(Home::G(r)) = self.homes.of(s as usize) {
                self.ensure_homes();
                self.pop()?;
                return Ok((r, Val::Slot(s)));
            }
        }
        let r = self.pop_gpr()?;
        Ok((r, Val::Gpr(r)))
    }

    pub(super) fn pop_read_fpr(&mut self) -> R<(Fpr, Val)> {
        if let Some(Entry {
            val: Val::Slot(s), ..
        }) = self.stack.last().copied()
        {
            if let Some(Home::F(r)) = self.homes.of(s as usize) {
                self.ensure_homes();
                self.pop()?;
                return Ok((r, Val::Slot(s)));
            }
        }
        let r = self.pop_fpr()?;
        Ok((r, Val::Fpr(r)))
    }

    /// Pops the top entry into a register of its own (to be the destination).
    pub(super) fn pop_gpr(&mut self) -> R<Gpr> {
        let e = self.pop()?;
        if let Val::Gpr(r) = e.val {
            return Ok(r);
        }
        let r = self.gpr()?;
        let s = self.src(e.val)?;
        self.m.mov(r, s);
        self.release(e.val);
        Ok(r)
    }

    pub(super) fn pop_fpr(&mut self) -> R<Fpr> {
        let e = self.pop()?;
        match e.val {
            Val::Fpr(r) => Ok(r),
            Val::FImm(f) => {
                let r = self.fpr()?;
                self.m.fconst(r, f);
                Ok(r)
            }
            v => {
                let r = self.fpr()?;
                let s = self.fsrc(v)?;
                self.m.fmov(r, s);
                self.release(v);
                Ok(r)
            }
        }
    }

    /// Stores the top entry into a frame word.
    pub(super) fn pop_to(&mut self, dst: Mem) -> R {
        let e = self.pop()?;
        match e.val {
            // A generic value is passed by its address.
            v @ (Val::V(_) | Val::VLocal(_) | Val::VConst(_) | Val::VParam(_)) => {
                let r = self.value_into(v)?;
                self.m.store(dst, Src::Reg(r));
                self.regs.gprs.free(r);
            }
            Val::Fpr(r) => {
                self.m.fstore(dst, r);
                self.regs.fprs.free(r);
            }
            Val::FImm(f) => self.m.store(dst, Src::Imm(f.to_bits() as i64)),
            // A float parameter may live in a float home, which `src` does not read.
            Val::Slot(s) if e.ty == Ty::Float => match self.fsrc(Val::Slot(s))? {
                FSrc::Reg(r) => self.m.fstore(dst, r),
                FSrc::Mem(m) => self.m.store(dst, Src::Mem(m)),
            },
            v => {
                let s = self.src(v)?;
                self.m.store(dst, s);
                self.release(v);
            }
        }
        Ok(())
    }

    // ---- operations: pop, emit, release, push, written once ----

    /// A two-operand integer operation: the left operand in a register of its own
    /// (the destination), the right as an operand; the result is pushed as `ty`.
    pub(super) fn int_binop(&mut self, ty: Ty, emit: impl FnOnce(&mut M, Gpr, Src)) -> R {
        let rhs = self.pop()?;
        let dst = self.pop_gpr()?;
        let r = self.src(rhs.val)?;
        emit(&mut self.m, dst, r);
        self.release(rhs.val);
        self.push(Val::Gpr(dst), ty);
        Ok(())
    }

    /// A two-operand float operation, as `int_binop`.
    pub(super) fn float_binop(&mut self, emit: impl FnOnce(&mut M, Fpr, FSrc)) -> R {
        let rhs = self.pop()?;
        let dst = self.pop_fpr()?;
        let r = self.fsrc(rhs.val)?;
        emit(&mut self.m, dst, r);
        self.release_fsrc(rhs.val, r);
        self.push(Val::Fpr(dst), Ty::Float);
        Ok(())
    }

    /// A float comparison into a bool.
    pub(super) fn float_compare(&mut self, emit: impl FnOnce(&mut M, Gpr, Fpr, FSrc)) -> R {
        let rhs = self.pop()?;
        let l = self.pop_fpr()?;
        let r = self.fsrc(rhs.val)?;
        let dst = self.gpr()?;
        emit(&mut self.m, dst, l, r);
        self.release_fsrc(rhs.val, r);
        self.regs.fprs.free(l);
        self.push(Val::Gpr(dst), Ty::Bool);
        Ok(())
    }

    /// A one-operand integer operation in place; the result is pushed as `ty`.
    pub(super) fn int_unop(&mut self, ty: Ty, emit: impl FnOnce(&mut M, Gpr)) -> R {
        let r = self.pop_gpr()?;
        emit(&mut self.m, r);
        self.push(Val::Gpr(r), ty);
        Ok(())
    }

    pub(super) fn float_unop(&mut self, emit: impl FnOnce(&mut M, Fpr)) -> R {
        let r = self.pop_fpr()?;
        emit(&mut self.m, r);
        self.push(Val::Fpr(r), Ty::Float);
        Ok(())
    }
}
