//! The value frame's entry, return and call results inline: what `grz_enter`,
//! `grz_leave` and `grz_take` do, for the common case, without a call.
//!
//! - Entry: the frame is `top..top + size` if it fits below `values_end`; every slot
//!   gets a zero first word (a zero tag byte is a whole `null`).
//! - Return: a fresh result slot moves to `value_ret` (two words, then the slot is
//!   `null`); then, when no slot holds a string and no frame is left above this one,
//!   the top goes back to the frame's base. Anything else (a string to drop,
//!   `value_ret` holding one) takes `grz_leave`, which is the semantics.
//! - A call's generic result: `value_ret` moves to the call's slot, unless the slot
//!   holds a string (from a loop's earlier iteration), which `grz_take` drops.
//!
//! Frames of more than [`INLINE_SLOTS`] slots call the helpers throughout.

use super::calls::{Callee, HArg};
use super::generic::SLOT;
use super::stack::Val;
use super::{Gen, R};
use crate::jit::values::{self, TAG_STR};
use grizzly_arch::{ctx, Cond, MacroAssembler, Mem, Src};

/// Frames of at most this many slots are taken and left inline (a load, a compare
/// and a branch per slot on return).
pub(super) const INLINE_SLOTS: u32 = 16;

impl<M: MacroAssembler> Gen<'_, M> {
    /// Takes a frame of `size` slots inline, its address stored to `base`, or jumps
    /// to `full` when it does not fit. False (nothing emitted) when the helper must.
    pub(super) fn enter_frame_inline(&mut self, size: u32, base: Mem, full: M::Label) -> R<bool> {
        self.spill_all();
        if size > INLINE_SLOTS || self.regs.gprs.len() < 2 {
            return Ok(false);
        }
        let bytes = size as i32 * SLOT;
        let (top, t) = (self.gpr()?, self.gpr()?);
        self.m.load_word(top.0, M::CTX, ctx::VALUES_TOP);
        self.m.load_word(t.0, M::CTX, ctx::VALUES_END);
        self.m.add_imm(t.0, -bytes);
        // Addresses are below 2^63: the signed compare is the unsigned one.
        self.m.branch_int(Cond::Gt, top, Src::Reg(t), full);
        self.m.move_imm(t.0, 0);
        for k in 0..size {
            self.m.store_word(top.0, k as i32 * SLOT, t.0);
        }
        self.m.store_frame(base, top.0);
        self.m.add_imm(top.0, bytes);
        self.m.store_word(M::CTX, ctx::VALUES_TOP, top.0);
        self.regs.gprs.free(top);
        self.regs.gprs.free(t);
        Ok(true)
    }

    /// Leaves the frame of `size` slots at `base` before a return, moving slot
    /// `result` (a fresh one) to `value_ret`. False (nothing emitted) when the helper must.
    pub(super) fn leave_frame_inline(
        &mut self,
        size: u32,
        base: Mem,
        result: Option<u32>,
    ) -> R<bool> {
        self.spill_all();
        if size > INLINE_SLOTS || self.regs.gprs.len() < 3 {
            return Ok(false);
        }
        self.write_back_homes();
        let (moved, drop, done) = (self.m.new_label(), self.m.new_label(), self.m.new_label());
        let (frame, t, r) = (self.gpr()?, self.gpr()?, self.gpr()?);
        self.m.mov(frame, Src::Mem(base));
        if let Some(k) = result {
            self.m.load_word(r.0, M::CTX, ctx::VALUE_RET);
            self.m.load_word(t.0, r.0, 0);
            self.m.branch_low_byte(t, TAG_STR, true, moved);
            for word in [0, 8] {
                self.m.load_word(t.0, frame.0, k as i32 * SLOT + word);
                self.m.store_word(r.0, word, t.0);
            }
            self.m.move_imm(t.0, 0);
            self.m.store_word(frame.0, k as i32 * SLOT, t.0);
        }
        for k in 0..size {
            self.m.load_word(t.0, frame.0, k as i32 * SLOT);
            self.m.branch_low_byte(t, TAG_STR, true, drop);
        }
        // No frame left above this one (a deopt or a caught error released those).
        self.m.move_reg(r.0, frame.0);
        self.m.add_imm(r.0, size as i32 * SLOT);
        self.m.load_word(t.0, M::CTX, ctx::VALUES_TOP);
        self.m.branch_int(Cond::Ne, t, Src::Reg(r), drop);
        self.m.store_word(M::CTX, ctx::VALUES_TOP, frame.0);
        self.m.jump(done);
        for g in [frame, t, r] {
            self.regs.gprs.free(g);
        }
        let leave = values::grz_leave as *const () as usize;
        if let Some(k) = result {
            // `value_ret` holds a string: the helper moves the result and drops it.
            self.m.bind(moved);
            let args = vec![HArg::Ctx, HArg::Word(base), HArg::Value(k)];
            self.call_out(Callee::Rust(leave, args))?;
            self.m.jump(done);
        }
        self.m.bind(drop);
        let args = vec![HArg::Ctx, HArg::Word(base), HArg::Imm(0)];
        self.call_out(Callee::Rust(leave, args))?;
        self.m.bind(done);
        Ok(true)
    }

    /// After a call that returned a generic value: takes it into a fresh slot.
    pub(super) fn take_result(&mut self) -> R {
        let k = self.value_slot()?;
        self.spill_all();
        let take = values::grz_take as *const () as usize;
        if self.regs.gprs.len() < 3 {
            self.call_out(Callee::Rust(take, vec![HArg::Ctx, HArg::Value(k)]))?;
            self.push(Val::V(k), crate::jit::ir::Ty::Value);
            return Ok(());
        }
        self.write_back_homes();
        let (slow, done) = (self.m.new_label(), self.m.new_label());
        let (dst, t, r) = (self.gpr()?, self.gpr()?, self.gpr()?);
        self.load_value_address(Val::V(k), dst)?;
        self.m.load_word(t.0, dst.0, 0);
        self.m.branch_low_byte(t, TAG_STR, true, slow);
        self.m.load_word(r.0, M::CTX, ctx::VALUE_RET);
        for word in [0, 8] {
            self.m.load_word(t.0, r.0, word);
            self.m.store_word(dst.0, word, t.0);
        }
        self.m.move_imm(t.0, 0);
        self.m.store_word(r.0, 0, t.0);
        self.m.jump(done);
        for g in [dst, t, r] {
            self.regs.gprs.free(g);
        }
        self.m.bind(slow);
        self.call_out(Callee::Rust(take, vec![HArg::Ctx, HArg::Value(k)]))?;
        self.m.bind(done);
        self.clobber_homes();
        self.push(Val::V(k), crate::jit::ir::Ty::Value);
        Ok(())
    }
}
