//! What AArch64 supplies to the shared conventions (`crate::masm`): its ABI facts
//! and the instructions frames, row loops and deopt exits are made of.

use super::{Aarch64Masm, X0, X16};
use crate::frame::{FrameBase, FrameState, Reg};
use crate::{ctx, EmitError, Fpr, Isa, Mem, Src};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

/// `sub sp, sp, #0, lsl #12` and `sub sp, sp, #0`: the frame's reservation, whose
/// 12-bit immediates (bits 10-21) are patched in.
const SUB_SP_HIGH: u32 = 0xd140_03ff;
const SUB_SP_LOW: u32 = 0xd100_03ff;

impl Isa for Aarch64Masm {
    type Label = DynamicLabel;
    const ARGS: [Reg; 6] = [0, 1, 2, 3, 4, 5];
    const RETS: [Reg; 2] = [X0, 1];
    // The frame record (x29, x30) costs nothing over saving x30 alone.
    const FRAME: FrameBase = FrameBase::FramePointer;
    const FP: Reg = 29;
    const SP: Reg = 31;
    // The frame record: the saved x29 and x30.
    const PARAMS_OFFSET: i32 = 16;
    // x19-x22: callee-saved, and none of them is a leaf register.
    const BATCH_REGS: [Reg; 4] = [19, 20, 21, 22];
    const SCRATCH: Reg = X16;
    const SCRATCH2: Reg = 17;
    const CTX: Reg = 28;
    const DEPTH: Reg = 27;

    fn frame_state(&mut self) -> &mut FrameState<DynamicLabel> {
        &mut self.frame
    }
    fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }
    fn bind(&mut self, label: DynamicLabel) {
        asm!(self.ops; =>label);
    }
    fn offset(&self) -> usize {
        self.ops.offset().0
    }
    fn jump(&mut self, target: DynamicLabel) {
        asm!(self.ops; b =>target);
    }

    fn save(&mut self, [a, b, c, d]: [Reg; 4]) {
        asm!(self.ops
            ; stp X(a), X(b), [sp, #-32]!
            ; stp X(c), X(d), [sp, #16]
        );
    }
    fn restore(&mut self, [a, b, c, d]: [Reg; 4]) {
        asm!(self.ops
            ; ldp X(c), X(d), [sp, #16]
            ; ldp X(a), X(b), [sp], #32
        );
    }
    fn enter_frame(&mut self) -> usize {
        asm!(self.ops
            ; stp x29, x30, [sp, #-16]!
            ; mov x29, sp
        );
        let at = self.offset();
        self.ops.extend(SUB_SP_HIGH.to_le_bytes());
        self.ops.extend(SUB_SP_LOW.to_le_bytes());
        at
    }
    fn patch_frame(code: &mut [u8], at: usize, bytes: u32) {
        // `finish` refuses frames of 2^24 bytes or more: two immediates hold the rest.
        let halves = [(SUB_SP_HIGH, bytes >> 12), (SUB_SP_LOW, bytes & 0xfff)];
        for (i, (insn, imm)) in halves.into_iter().enumerate() {
            let word = insn | ((imm & 0xfff) << 10);
            if let Some(w) = code.get_mut(at + 4 * i..at + 4 * i + 4) {
                w.copy_from_slice(&word.to_le_bytes());
            }
        }
    }
    fn leave_frame(&mut self) -> Option<usize> {
        asm!(self.ops
            ; mov sp, x29
            ; ldp x29, x30, [sp], #16
        );
        None
    }
    fn store_frame(&mut self, dst: Mem, src: Reg) {
        // From the frame pointer: no offset grows with the frame.
        let a = self.addr(dst);
        self.word(false, src, a.base, a.offset);
    }
    fn return_to_caller(&mut self) {
        asm!(self.ops; ret);
    }
    fn load_word(&mut self, dst: Reg, base: Reg, offset: i32) {
        self.word(true, dst, base, offset);
    }
    fn store_word(&mut self, base: Reg, offset: i32, src: Reg) {
        self.word(false, src, base, offset);
    }
    fn load_row(&mut self, dst: Reg, column: Reg, row: Reg) {
        asm!(self.ops; ldr X(dst), [XSP(column), X(row), lsl #3]);
    }
    fn store_row(&mut self, column: Reg, row: Reg, src: Reg) {
        asm!(self.ops; str X(src), [XSP(column), X(row), lsl #3]);
    }
    fn move_reg(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            asm!(self.ops; mov X(dst), X(src));
        }
    }
    fn move_imm(&mut self, dst: Reg, value: i64) {
        self.load_imm(dst, value);
    }
    fn increment(&mut self, reg: Reg) {
        asm!(self.ops; add XSP(reg), XSP(reg), #1);
    }
    fn jump_if_not_below(&mut self, a: Reg, b: Reg, target: DynamicLabel) {
        asm!(self.ops; cmp X(a), X(b); b.hs =>target);
    }
    fn check_stack(&mut self, deopt: DynamicLabel) {
        asm!(self.ops
            ; ldr x16, [x28, #ctx::STACK_LIMIT as u32]
            ; ldr x16, [x16]
            ; mov x17, sp
            ; cmp x17, x16
            ; b.lo =>deopt
        );
    }
    fn exit_to_landing(&mut self, site: u64) {
        self.load_imm(X16, site as i64);
        asm!(self.ops
            ; str x16, [x28, #ctx::DEOPT_SITE as u32]
            ; ldr x16, [x28, #ctx::LANDING as u32]
            ; br x16
        );
    }
    fn float_bits(&mut self, dst: Reg, src: Fpr) {
        asm!(self.ops; fmov X(dst), D(src.0));
    }
    fn load_src(&mut self, dst: Reg, src: Src) {
        self.load(dst, src);
    }
    fn call_indirect(&mut self, slot: *const usize) {
        self.load_imm(X16, slot as i64);
        asm!(self.ops
            ; ldr x16, [x16]
            ; blr x16
        );
    }
    fn call_local(&mut self, target: DynamicLabel) {
        asm!(self.ops; bl =>target);
    }
    fn label_address(&mut self, dst: Reg, label: DynamicLabel) {
        asm!(self.ops; adr X(dst), =>label);
    }
    fn read_sp(&mut self, dst: Reg) {
        asm!(self.ops; mov XSP(dst), sp);
    }
    fn jump_if_zero(&mut self, reg: Reg, target: DynamicLabel) {
        asm!(self.ops; cbz X(reg), =>target);
    }
    fn jump_if_not_zero(&mut self, reg: Reg, target: DynamicLabel) {
        asm!(self.ops; cbnz X(reg), =>target);
    }
    fn add_imm(&mut self, reg: Reg, value: i32) {
        if (0..4096).contains(&value) {
            asm!(self.ops; add XSP(reg), XSP(reg), #value as u32);
        } else {
            self.load_imm(X16, value as i64);
            asm!(self.ops; add X(reg), X(reg), x16);
        }
    }
    fn call_address(&mut self, address: usize) {
        self.load_imm(X16, address as i64);
        asm!(self.ops; blr x16);
    }
    fn unwind_to_handler(&mut self) {
        asm!(self.ops
            ; ldr x16, [x28, #ctx::HANDLER_SP as u32]
            ; mov sp, x16
            ; ldr x29, [x28, #ctx::HANDLER_FP as u32]
            ; ldr x16, [x28, #ctx::HANDLER as u32]
            ; br x16
        );
    }
    fn depth_decrement(&mut self, exceeded: DynamicLabel) {
        // `lo` (carry clear) is a borrow: the budget was 0.
        asm!(self.ops; subs x27, x27, #1; b.lo =>exceeded);
    }
    fn depth_increment(&mut self) {
        asm!(self.ops; add x27, x27, #1);
    }
    fn enter_stub(&mut self, bytes: u32) -> i32 {
        // Compiled code uses no callee-saved float register (d8-d15).
        asm!(self.ops
            ; stp x29, x30, [sp, #-16]!
            ; mov x29, sp
            ; stp x19, x20, [sp, #-16]!
            ; stp x21, x22, [sp, #-16]!
            ; stp x23, x24, [sp, #-16]!
            ; stp x25, x26, [sp, #-16]!
            ; stp x27, x28, [sp, #-16]!
        );
        // A stub's own words are few: the size fits an immediate.
        let own = bytes.next_multiple_of(16).min(4080);
        asm!(self.ops; sub sp, sp, #own);
        80 + own as i32
    }
    fn leave_stub(&mut self) {
        asm!(self.ops
            ; sub sp, x29, #80
            ; ldp x27, x28, [sp], #16
            ; ldp x25, x26, [sp], #16
            ; ldp x23, x24, [sp], #16
            ; ldp x21, x22, [sp], #16
            ; ldp x19, x20, [sp], #16
            ; ldp x29, x30, [sp], #16
            ; ret
        );
    }
    fn save_sp_to_ctx(&mut self) {
        asm!(self.ops
            ; mov x16, sp
            ; str x16, [x28, #ctx::SAVED_SP as u32]
        );
    }
    fn store_label_to_ctx(&mut self, label: DynamicLabel) {
        asm!(self.ops
            ; adr x16, =>label
            ; str x16, [x28, #ctx::LANDING as u32]
        );
    }
    fn restore_sp_from_ctx(&mut self, fp_above: i32) {
        asm!(self.ops
            ; ldr x16, [x28, #ctx::SAVED_SP as u32]
            ; mov sp, x16
        );
        // A stub's frame is small: the offset fits an immediate.
        let above = fp_above.clamp(0, 4095) as u32;
        asm!(self.ops; add x29, sp, #above);
    }
    fn reserve_words(&mut self, words: Reg) {
        // sp -= ((words + 1) / 2) * 16
        asm!(self.ops
            ; add x16, XSP(words), #1
            ; lsr x16, x16, #1
            ; lsl x16, x16, #4
            ; mov x17, sp
            ; sub x17, x17, x16
            ; mov sp, x17
        );
    }
    fn call_reg(&mut self, target: Reg) {
        asm!(self.ops; blr X(target));
    }
    fn finalize(self) -> Result<Vec<u8>, EmitError> {
        self.ops
            .finalize()
            .map_err(|e| EmitError(format!("AArch64 assembler: {e}")))
    }
}
