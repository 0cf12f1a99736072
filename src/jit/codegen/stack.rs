//! Registers, homes and the value stack of the code generator.

use super::{Entry, Gen, Home, Val, MAX_HOMES, MIN_TEMPS};
use crate::jit::ir::{DeoptReason, Ty};
use crate::resolve::Slot;
use grizzly_arch::{EmitError, FSrc, Fpr, Gpr, MacroAssembler, Mem, Src};

impl<M: MacroAssembler> Gen<'_, M> {
    pub(super) fn deopt(&mut self, reason: DeoptReason) -> M::Label {
        if let Some(&(_, l)) = self.deopts.iter().find(|(r, _)| *r == reason) {
            return l;
        }
        let l = self.m.new_label();
        self.deopts.push((reason, l));
        l
    }

    pub(super) fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(EmitError(message));
        }
    }

    /// Gives the first parameters registers of their own, leaving `MIN_TEMPS` of each
    /// class to temporaries (and the join registers, the first of each class, free).
    pub(super) fn assign_homes(&mut self) {
        for i in 0..self.params {
            if self.homes.iter().flatten().count() >= MAX_HOMES {
                break;
            }
            self.homes[i] = if self.f.params[i] == Ty::Float {
                (self.free_fprs.len() > MIN_TEMPS).then(|| Home::F(self.free_fprs.remove(0)))
            } else {
                (self.free_gprs.len() > MIN_TEMPS).then(|| Home::G(self.free_gprs.remove(0)))
            };
        }
    }

    /// Loads every home from its parameter's frame word.
    pub(super) fn load_homes(&mut self) {
        for i in 0..self.params {
            match self.homes[i] {
                Some(Home::G(r)) => self.m.mov(r, Src::Mem(Mem::Param(i as u32))),
                Some(Home::F(r)) => self.m.fmov(r, FSrc::Mem(Mem::Param(i as u32))),
                None => {}
            }
        }
    }

    /// After a call: homes were clobbered; they are reloaded from the frame (kept
    /// current when there are calls) at their next use.
    pub(super) fn reload_homes(&mut self) {
        if self.mirror {
            self.stale = true;
        }
    }

    /// Reloads the homes if a call clobbered them.
    pub(super) fn ensure_homes(&mut self) {
        if self.stale {
            self.load_homes();
            self.stale = false;
        }
    }

    pub(super) fn local(&self, slot: Slot) -> Mem {
        let s = slot as usize;
        if s < self.params {
            Mem::Param(s as u32)
        } else {
            Mem::Local((s - self.params) as u32)
        }
    }

    // ---- registers and the value stack ----

    pub(super) fn gpr(&mut self) -> Gpr {
        if let Some(r) = self.free_gprs.pop() {
            return r;
        }
        self.spill_one(true);
        match self.free_gprs.pop() {
            Some(r) => r,
            None => {
                self.fail("out of registers".into());
                self.gprs[0]
            }
        }
    }

    pub(super) fn fpr(&mut self) -> Fpr {
        if let Some(r) = self.free_fprs.pop() {
            return r;
        }
        self.spill_one(false);
        match self.free_fprs.pop() {
            Some(r) => r,
            None => {
                self.fail("out of float registers".into());
                M::FPRS[0]
            }
        }
    }

    pub(super) fn spill_slot(&mut self) -> u32 {
        self.free_spills.pop().unwrap_or_else(|| {
            self.spills += 1;
            self.lets + self.spills - 1
        })
    }

    /// Spills the deepest register entry of the wanted class.
    pub(super) fn spill_one(&mut self, gpr: bool) {
        let at = self.stack.iter().position(|e| match e.val {
            Val::Gpr(_) => gpr,
            Val::Fpr(_) => !gpr,
            _ => false,
        });
        if let Some(i) = at {
            self.spill_entry(i);
        }
    }

    pub(super) fn spill_entry(&mut self, i: usize) {
        match self.stack[i].val {
            Val::Gpr(r) => {
                let s = self.spill_slot();
                self.m.store(Mem::Local(s), Src::Reg(r));
                self.free_gprs.push(r);
                self.stack[i].val = Val::Spill(s);
            }
            Val::Fpr(r) => {
                let s = self.spill_slot();
                self.m.fstore(Mem::Local(s), r);
                self.free_fprs.push(r);
                self.stack[i].val = Val::Spill(s);
            }
            _ => {}
        }
    }

    pub(super) fn spill_all(&mut self) {
        for i in 0..self.stack.len() {
            self.spill_entry(i);
        }
    }

    pub(super) fn push(&mut self, val: Val, ty: Ty) {
        self.stack.push(Entry { val, ty });
    }

    pub(super) fn pop(&mut self) -> Entry {
        match self.stack.pop() {
            Some(e) => e,
            None => {
                self.fail("value stack underflow".into());
                Entry {
                    val: Val::Imm(0),
                    ty: Ty::Never,
                }
            }
        }
    }

    /// Gives back what an entry occupies (after its last use).
    pub(super) fn release(&mut self, v: Val) {
        match v {
            Val::Gpr(r) => self.free_gprs.push(r),
            Val::Fpr(r) => self.free_fprs.push(r),
            Val::Spill(s) => self.free_spills.push(s),
            _ => {}
        }
    }

    /// An integer operand for one instruction; call `release` on the returned value after it.
    pub(super) fn src(&mut self, v: Val) -> Src {
        match v {
            Val::Imm(i) => Src::Imm(i),
            Val::FImm(f) => Src::Imm(f.to_bits() as i64),
            Val::Slot(s) => match self.homes.get(s as usize).copied() {
                Some(Some(Home::G(r))) => {
                    self.ensure_homes();
                    Src::Reg(r)
                }
                // Its frame word may be stale: a bug here must refuse, not misread.
                Some(Some(Home::F(_))) => {
                    self.fail("a float parameter's home read as an integer".into());
                    Src::Imm(0)
                }
                _ => Src::Mem(self.local(s)),
            },
            Val::Gpr(r) => Src::Reg(r),
            Val::Spill(s) => Src::Mem(Mem::Local(s)),
            Val::Fpr(_) => {
                self.fail("float operand used as an integer".into());
                Src::Imm(0)
            }
        }
    }

    pub(super) fn fsrc(&mut self, v: Val) -> FSrc {
        match v {
            Val::Fpr(r) => FSrc::Reg(r),
            Val::Slot(s) => match self.homes.get(s as usize).copied() {
                Some(Some(Home::F(r))) => {
                    self.ensure_homes();
                    FSrc::Reg(r)
                }
                Some(Some(Home::G(_))) => {
                    self.fail("an integer parameter's home read as a float".into());
                    FSrc::Mem(self.local(s))
                }
                _ => FSrc::Mem(self.local(s)),
            },
            Val::Spill(s) => FSrc::Mem(Mem::Local(s)),
            Val::FImm(f) => {
                let r = self.fpr();
                self.m.fconst(r, f);
                FSrc::Reg(r)
            }
            Val::Imm(_) | Val::Gpr(_) => {
                self.fail("integer operand used as a float".into());
                FSrc::Mem(Mem::Local(0))
            }
        }
    }

    /// Releases an operand obtained with `fsrc` (including a register it loaded).
    pub(super) fn release_fsrc(&mut self, v: Val, s: FSrc) {
        match (v, s) {
            (Val::FImm(_), FSrc::Reg(r)) => self.free_fprs.push(r),
            _ => self.release(v),
        }
    }

    /// Pops the top entry as a register to read only: its own register, a parameter's
    /// home, or a fresh one. Give it back with `release_read`.
    pub(super) fn pop_read_gpr(&mut self) -> (Gpr, Val) {
        let top = self.stack.last().map(|e| e.val);
        if let Some(Val::Slot(s)) = top {
            if let Some(Some(Home::G(r))) = self.homes.get(s as usize).copied() {
                self.ensure_homes();
                self.pop();
                return (r, Val::Slot(s));
            }
        }
        let r = self.pop_gpr();
        (r, Val::Gpr(r))
    }

    pub(super) fn pop_read_fpr(&mut self) -> (Fpr, Val) {
        let top = self.stack.last().map(|e| e.val);
        if let Some(Val::Slot(s)) = top {
            if let Some(Some(Home::F(r))) = self.homes.get(s as usize).copied() {
                self.ensure_homes();
                self.pop();
                return (r, Val::Slot(s));
            }
        }
        let r = self.pop_fpr();
        (r, Val::Fpr(r))
    }

    /// Pops the top entry into a register of its own (to be the destination).
    pub(super) fn pop_gpr(&mut self) -> Gpr {
        let e = self.pop();
        if let Val::Gpr(r) = e.val {
            return r;
        }
        let r = self.gpr();
        let s = self.src(e.val);
        self.m.mov(r, s);
        self.release(e.val);
        r
    }

    pub(super) fn pop_fpr(&mut self) -> Fpr {
        let e = self.pop();
        if let Val::Fpr(r) = e.val {
            return r;
        }
        if let Val::FImm(f) = e.val {
            let r = self.fpr();
            self.m.fconst(r, f);
            return r;
        }
        let r = self.fpr();
        let s = self.fsrc(e.val);
        self.m.fmov(r, s);
        self.release(e.val);
        r
    }

    /// Stores the top entry into a frame word.
    pub(super) fn pop_to(&mut self, dst: Mem) {
        let e = self.pop();
        match e.val {
            Val::Fpr(r) => {
                self.m.fstore(dst, r);
                self.free_fprs.push(r);
            }
            Val::FImm(f) => self.m.store(dst, Src::Imm(f.to_bits() as i64)),
            // A float parameter may live in a float home, which `src` does not know.
            Val::Slot(s) if e.ty == Ty::Float => match self.fsrc(Val::Slot(s)) {
                FSrc::Reg(r) => self.m.fstore(dst, r),
                FSrc::Mem(m) => self.m.store(dst, Src::Mem(m)),
            },
            v => {
                let s = self.src(v);
                self.m.store(dst, s);
                self.release(v);
            }
        }
    }
}
