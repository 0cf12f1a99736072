//! Calls out of compiled code (compiled callees and Rust helpers) and self tail calls.
//!
//! `Gen::call_out` is the only place that emits a call: it spills what the call
//! clobbers at the call itself (Winch's `codegen/call.rs`), so an operation that
//! calls cannot forget to. A test below checks that no other code calls the
//! assembler's call templates.

use super::homes::Home;
use super::moves::ValueMove;
use super::stack::Val;
use super::{Gen, R};
use crate::jit::ir::{DeoptReason, SpecKey, TExpr, Ty};
use grizzly_arch::{EmitError, Fpr, Gpr, Helper, HelperArg, MacroAssembler, Mem};

/// What a call calls, with the registers of its operands and result.
pub(super) enum Callee<L> {
    /// A compiled function through its entry slot; the result's bits go to the register.
    Slot(*const usize, Gpr),
    /// This function's own entry.
    Label(L, Gpr),
    /// A Rust helper on the first register (and the second), leaving its result in the first.
    Helper(Helper, Fpr, Option<Fpr>),
    /// A Rust function at an address, on integer arguments; its results are left in
    /// the return registers.
    Rust(usize, Vec<HArg>),
}

/// An argument of a [`Callee::Rust`], read once the call has spilled the value stack.
#[derive(Clone, Copy)]
pub(super) enum HArg {
    Ctx,
    Imm(i64),
    /// A frame word.
    Word(Mem),
    /// The address of a slot of the value frame.
    Value(u32),
    /// The value stack's entry this far below the top (0: the top): a machine value's
    /// bits, or a generic value's address.
    Entry(usize),
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// Emits a call. The call clobbers every allocatable register but its result's:
    /// the value stack's registers are spilled and the loop homes written back to
    /// their frame words first, and the homes are stale after (see `homes.rs`). The
    /// operands and the result register are the caller's, off the value stack.
    pub(super) fn call_out(&mut self, callee: Callee<M::Label>) -> R {
        self.spill_all();
        self.write_back_homes();
        match callee {
            Callee::Slot(..) | Callee::Label(..) => {
                let exceeded = self.deopt(DeoptReason::Depth);
                self.m.depth_enter(exceeded);
                match callee {
                    Callee::Slot(slot, dst) => self.m.call_slot(slot, dst),
                    Callee::Label(label, dst) => self.m.call_label(label, dst),
                    Callee::Helper(..) | Callee::Rust(..) => unreachable!(),
                }
                self.m.depth_leave();
            }
            Callee::Helper(helper, dst, rhs) => self.m.float_call(helper, dst, rhs),
            Callee::Rust(address, args) => {
                let mut words = Vec::with_capacity(args.len());
                for a in args {
                    words.push(self.helper_arg(a)?);
                }
                self.m.call_helper(address, &words)?;
            }
        }
        self.clobber_homes();
        Ok(())
    }

    /// A helper argument, once the value stack holds no registers.
    pub(super) fn helper_arg(&self, a: HArg) -> R<HelperArg> {
        Ok(match a {
            HArg::Ctx => HelperArg::Ctx,
            HArg::Imm(i) => HelperArg::Imm(i),
            HArg::Word(m) => HelperArg::Word(m),
            HArg::Value(k) => self.value_address(k)?,
            HArg::Entry(d) => {
                let e = self
                    .stack
                    .len()
                    .checked_sub(d + 1)
                    .and_then(|i| self.stack.get(i))
                    .ok_or_else(|| EmitError("value stack underflow".into()))?;
                match e.val {
                    Val::Imm(i) => HelperArg::Imm(i),
                    Val::FImm(f) => HelperArg::Imm(f.to_bits() as i64),
                    // Homes were written back: the frame word is current.
                    Val::Slot(s) => HelperArg::Word(self.frame.slot(s)),
                    Val::Spill(s) => HelperArg::Word(Mem::Local(s)),
                    Val::V(k) | Val::VLocal(k) => self.value_address(k)?,
                    Val::VConst(p) => HelperArg::Imm(p as i64),
                    Val::VParam(i) => HelperArg::Word(Mem::Param(i)),
                    Val::Gpr(_) | Val::Fpr(_) => {
                        return Err(EmitError("a register operand at a helper call".into()))
                    }
                }
            }
        })
    }

    /// A call of a compiled specialization: arguments in the outgoing words.
    pub(super) fn call(&mut self, callee: &SpecKey, args: &[TExpr], ty: Ty) -> R {
        for a in args {
            self.expr(a)?;
        }
        let n = args.len() as u32;
        for i in (0..n).rev() {
            self.pop_to(Mem::Out(i))?;
        }
        let target = if *callee == self.f.key {
            None
        } else {
            let slot = self.link.slot(callee).ok_or_else(|| {
                EmitError(format!("no entry slot for a callee of spec {}", self.spec))
            })?;
            Some(slot)
        };
        let dst = self.gpr()?;
        match target {
            None => self.call_out(Callee::Label(self.entry, dst))?,
            Some(slot) => self.call_out(Callee::Slot(slot, dst))?,
        }
        if ty == Ty::Value {
            self.regs.gprs.free(dst);
            return self.take_result();
        }
        if ty == Ty::Float {
            let f = self.fpr()?;
            self.m.bits_to_float(f, dst);
            self.regs.gprs.free(dst);
            self.push(Val::Fpr(f), Ty::Float);
        } else {
            self.push(Val::Gpr(dst), ty);
        }
        Ok(())
    }

    /// A self tail call's generic arguments (the entries from `first` up) become their
    /// parameters' values: each is made a slot of its own (cloning a `LET`'s, a
    /// parameter's or a constant), then swapped into the parameter's slot. Done first,
    /// before any home is written, since each is a helper call; the old values end up
    /// in the argument slots, dropped when those are next written or at return.
    fn pass_generic_args(&mut self, first: usize) -> R {
        let generic: Vec<usize> = (first..self.stack.len())
            .filter(|&i| self.stack[i].ty == Ty::Value)
            .collect();
        for &i in &generic {
            if !matches!(self.stack[i].val, Val::V(_)) {
                let k = self.value_slot()?;
                let below_top = self.stack.len() - 1 - i;
                self.move_value(ValueMove::Clone(HArg::Value(k), HArg::Entry(below_top)))?;
                self.stack[i].val = Val::V(k);
            }
        }
        for &i in &generic {
            let (Val::V(k), Some(Some(Val::VLocal(p)))) =
                (self.stack[i].val, self.value_params.get(i - first).copied())
            else {
                return Err(EmitError(
                    "a generic argument of a parameter without a slot".into(),
                ));
            };
            self.move_value(ValueMove::Swap(HArg::Value(p), HArg::Value(k)))?;
        }
        Ok(())
    }

    /// A call of host function `id`'s machine-word entry on the `n` machine values on
    /// top of the stack (their bits), giving `ty`; its failure is the `Raised` exit's.
    pub(super) fn host_native(&mut self, id: u32, n: usize, ty: Ty) -> R {
        let host = self.link.host(id);
        let native = host
            .as_ref()
            .and_then(|h| h.native.as_ref())
            .filter(|native| native.params.len() == n && n <= 4)
            .ok_or_else(|| EmitError(format!("host function {id} has no entry for {n} words")))?;
        let mut args = vec![HArg::Imm(native.data as i64)];
        args.extend((0..n).rev().map(HArg::Entry));
        args.resize(5, HArg::Imm(0));
        let failed = self.deopt(DeoptReason::Raised);
        self.call_out(Callee::Rust(native.entry, args))?;
        self.m.jump_if_not_zero(M::RETS[1], failed);
        for _ in 0..n {
            let v = self.pop()?;
            self.release(v.val);
        }
        let r = self.gpr()?;
        self.m.move_reg(r.0, M::RETS[0]);
        let val = if ty == Ty::Float {
            let f = self.fpr()?;
            self.m.bits_to_float(f, r);
            self.release(Val::Gpr(r));
            Val::Fpr(f)
        } else {
            Val::Gpr(r)
        };
        // The code holds the entry's data address: the host function lives as long.
        self.hosts.extend(host);
        self.push(val, ty);
        Ok(())
    }

    /// A self tail call: the arguments become the parameters (in their homes, or
    /// their frame words), and the body restarts at the loop head.
    pub(super) fn self_tail(&mut self, args: &[TExpr]) -> R {
        for a in args {
            self.expr(a)?;
        }
        let n = args.len();
        let first = self.stack.len() - n;
        self.pass_generic_args(first)?;
        // Every argument must be read before any parameter is overwritten.
        let params = self.frame.params();
        for i in first..self.stack.len() {
            if let Val::Slot(s) = self.stack[i].val {
                let unchanged = s as usize == i - first;
                if (s as usize) < params && !unchanged {
                    if self.stack[i].ty == Ty::Float {
                        let r = self.fpr()?;
                        let from = self.fsrc(Val::Slot(s))?;
                        self.m.fmov(r, from);
                        self.stack[i].val = Val::Fpr(r);
                    } else {
                        let r = self.gpr()?;
                        let from = self.src(Val::Slot(s))?;
                        self.m.mov(r, from);
                        self.stack[i].val = Val::Gpr(r);
                    }
                }
            }
        }
        // A parameter passed on unchanged keeps its home, which must be loaded.
        let keeps = (first..self.stack.len())
            .any(|i| matches!(self.stack[i].val, Val::Slot(s) if s as usize == i - first));
        if keeps {
            self.ensure_homes();
        }
        for i in (0..n).rev() {
            let top = self.stack[self.stack.len() - 1];
            if top.ty == Ty::Value || matches!(top.val, Val::Slot(s) if s as usize == i) {
                // (A generic argument is in its parameter's slot already.)
                self.pop()?;
                continue;
            }
            match self.homes.of(i) {
                None => self.pop_to(Mem::Param(i as u32))?,
                Some(Home::G(h)) => {
                    let v = self.pop()?;
                    let s = self.src(v.val)?;
                    self.m.mov(h, s);
                    self.release(v.val);
                }
                Some(Home::F(h)) => {
                    let v = self.pop()?;
                    match v.val {
                        Val::FImm(x) => self.m.fconst(h, x),
                        other => {
                            let s = self.fsrc(other)?;
                            self.m.fmov(h, s);
                            self.release_fsrc(other, s);
                        }
                    }
                }
            }
        }
        // The new values are in the homes only: the loop head is entered dirty.
        self.enter_loop();
        self.m.jump(self.restart);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// Every call goes through `call_out` (which spills and writes homes back): no
    /// other code of the generator may emit one.
    #[test]
    fn only_call_out_emits_calls() {
        let files = [
            ("mod.rs", include_str!("mod.rs")),
            ("walk.rs", include_str!("walk.rs")),
            ("stack.rs", include_str!("stack.rs")),
            ("arith.rs", include_str!("arith.rs")),
            ("homes.rs", include_str!("homes.rs")),
            ("frame.rs", include_str!("frame.rs")),
            ("exits.rs", include_str!("exits.rs")),
            ("regs.rs", include_str!("regs.rs")),
            ("generic.rs", include_str!("generic.rs")),
        ];
        let calls = [
            ".call_slot(",
            ".call_label(",
            ".float_call(",
            ".call_helper(",
        ];
        for (name, text) in files {
            for c in calls {
                assert!(
                    !text.contains(c),
                    "{name} emits a call ({c}) outside call_out"
                );
            }
        }
        let here = include_str!("calls.rs");
        let body = here.split("fn call_out").nth(1).unwrap();
        let body = &body[..body.find("\n    }\n").unwrap()];
        for c in calls {
            assert_eq!(here.matches(c).count(), body.matches(c).count() + 1, "{c}");
        }
    }
}
