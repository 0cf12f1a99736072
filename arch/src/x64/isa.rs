//! What x86-64 supplies to the shared conventions (`crate::masm`): its ABI facts
//! and the instructions frames, row loops and deopt exits are made of.

use super::{X64Masm, RAX, RDX, RSP};
use crate::frame::{FrameBase, FrameState, Reg};
use crate::{ctx, EmitError, Fpr, Isa, Mem, Src};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

const RBP: u8 = 5;

impl Isa for X64Masm {
    type Label = DynamicLabel;
    // System V: rdi, rsi, rdx, rcx, r8, r9.
    const ARGS: [Reg; 6] = [7, 6, 2, 1, 8, 9];
    const RETS: [Reg; 2] = [RAX, RDX];
    // A frame pointer's push, move and pop cost a call-heavy function several
    // percent: frames are addressed from rsp, their displacements patched.
    const FRAME: FrameBase = FrameBase::StackPointer { entry_misalign: 8 };
    // Only the entry stubs keep a frame pointer.
    const FP: Reg = RBP;
    const SP: Reg = RSP;
    // The return address.
    const PARAMS_OFFSET: i32 = 8;
    // rbx, r12, r13, r14: callee-saved, and none of them is a leaf register.
    const BATCH_REGS: [Reg; 4] = [3, 12, 13, 14];
    const SCRATCH: Reg = RAX;
    const SCRATCH2: Reg = 11;
    const CTX: Reg = 15;
    const DEPTH: Reg = 14;

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
        asm!(self.ops; jmp =>target);
    }

    fn save(&mut self, regs: [Reg; 4]) {
        for r in regs {
            asm!(self.ops; push Rq(r));
        }
    }
    fn restore(&mut self, regs: [Reg; 4]) {
        for r in regs.into_iter().rev() {
            asm!(self.ops; pop Rq(r));
        }
    }
    fn enter_frame(&mut self) -> usize {
        // `sub rsp, imm32` spelled out, so that its immediate is always 32 bits wide.
        let at = self.offset() + 3;
        self.ops.extend([0x48, 0x81, 0xec, 0, 0, 0, 0]);
        at
    }
    fn patch_frame(code: &mut [u8], at: usize, bytes: u32) {
        if let Some(imm) = code.get_mut(at..at + 4) {
            imm.copy_from_slice(&bytes.to_le_bytes());
        }
    }
    fn leave_frame(&mut self) -> Option<usize> {
        // `add rsp, imm32`, patched like the prologue's.
        let at = self.offset() + 3;
        self.ops.extend([0x48, 0x81, 0xc4, 0, 0, 0, 0]);
        Some(at)
    }
    fn store_frame(&mut self, dst: Mem, src: Reg) {
        self.frame_op(dst, 0, |ops, b, d| {
            asm!(ops; mov QWORD [Rq(b) + d], Rq(src));
        });
    }
    fn return_to_caller(&mut self) {
        asm!(self.ops; ret);
    }
    fn load_word(&mut self, dst: Reg, base: Reg, offset: i32) {
        asm!(self.ops; mov Rq(dst), QWORD [Rq(base) + offset]);
    }
    fn store_word(&mut self, base: Reg, offset: i32, src: Reg) {
        asm!(self.ops; mov QWORD [Rq(base) + offset], Rq(src));
    }
    fn load_row(&mut self, dst: Reg, column: Reg, row: Reg) {
        asm!(self.ops; mov Rq(dst), QWORD [Rq(column) + Rq(row) * 8]);
    }
    fn store_row(&mut self, column: Reg, row: Reg, src: Reg) {
        asm!(self.ops; mov QWORD [Rq(column) + Rq(row) * 8], Rq(src));
    }
    fn move_reg(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            asm!(self.ops; mov Rq(dst), Rq(src));
        }
    }
    fn move_imm(&mut self, dst: Reg, value: i64) {
        self.load(dst, Src::Imm(value));
    }
    fn increment(&mut self, reg: Reg) {
        asm!(self.ops; add Rq(reg), 1);
    }
    fn jump_if_not_below(&mut self, a: Reg, b: Reg, target: DynamicLabel) {
        asm!(self.ops; cmp Rq(a), Rq(b); jae =>target);
    }
    fn check_stack(&mut self, deopt: DynamicLabel) {
        asm!(self.ops
            ; mov rax, QWORD [r15 + ctx::STACK_LIMIT]
            ; cmp rsp, QWORD [rax]
            ; jb =>deopt
        );
    }
    fn exit_to_landing(&mut self, site: u64) {
        asm!(self.ops
            ; mov rax, QWORD site as i64
            ; mov QWORD [r15 + ctx::DEOPT_SITE], rax
            ; jmp QWORD [r15 + ctx::LANDING]
        );
    }
    fn float_bits(&mut self, dst: Reg, src: Fpr) {
        asm!(self.ops; movq Rq(dst), Rx(src.0));
    }
    fn load_src(&mut self, dst: Reg, src: Src) {
        self.load(dst, src);
    }
    fn call_indirect(&mut self, slot: *const usize) {
        asm!(self.ops
            ; mov rax, QWORD slot as i64
            ; call QWORD [rax]
        );
    }
    fn call_local(&mut self, target: DynamicLabel) {
        asm!(self.ops; call =>target);
    }
    fn label_address(&mut self, dst: Reg, label: DynamicLabel) {
        asm!(self.ops; lea Rq(dst), [=>label]);
    }
    fn read_sp(&mut self, dst: Reg) {
        asm!(self.ops; mov Rq(dst), rsp);
    }
    fn jump_if_zero(&mut self, reg: Reg, target: DynamicLabel) {
        asm!(self.ops; test Rq(reg), Rq(reg); jz =>target);
    }
    fn jump_if_not_zero(&mut self, reg: Reg, target: DynamicLabel) {
        asm!(self.ops; test Rq(reg), Rq(reg); jnz =>target);
    }
    fn add_imm(&mut self, reg: Reg, value: i32) {
        asm!(self.ops; add Rq(reg), value);
    }
    fn call_address(&mut self, address: usize) {
        asm!(self.ops; mov rax, QWORD address as i64; call rax);
    }
    fn unwind_to_handler(&mut self) {
        asm!(self.ops
            ; mov rsp, QWORD [r15 + ctx::HANDLER_SP]
            ; mov rbp, QWORD [r15 + ctx::HANDLER_FP]
            ; jmp QWORD [r15 + ctx::HANDLER]
        );
    }
    fn depth_decrement(&mut self, exceeded: DynamicLabel) {
        asm!(self.ops; sub r14, 1; jb =>exceeded);
    }
    fn depth_increment(&mut self) {
        asm!(self.ops; add r14, 1);
    }
    fn enter_stub(&mut self, bytes: u32) -> i32 {
        asm!(self.ops
            ; push rbp
            ; mov rbp, rsp
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
        );
        // Entry rsp was 8 mod 16; after six pushes it is 8 mod 16 again.
        let own = bytes.next_multiple_of(16) as i32 + 8;
        asm!(self.ops; sub rsp, DWORD own);
        40 + own
    }
    fn leave_stub(&mut self) {
        asm!(self.ops
            ; lea rsp, [rbp - 40]
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
            ; pop rbp
            ; ret
        );
    }
    fn save_sp_to_ctx(&mut self) {
        asm!(self.ops; mov QWORD [r15 + ctx::SAVED_SP], rsp);
    }
    fn store_label_to_ctx(&mut self, label: DynamicLabel) {
        asm!(self.ops
            ; lea rax, [=>label]
            ; mov QWORD [r15 + ctx::LANDING], rax
        );
    }
    fn restore_sp_from_ctx(&mut self, fp_above: i32) {
        asm!(self.ops
            ; mov rsp, QWORD [r15 + ctx::SAVED_SP]
            ; lea rbp, [rsp + fp_above]
        );
    }
    fn reserve_words(&mut self, words: Reg) {
        asm!(self.ops
            ; lea rax, [Rq(words) * 8 + 15]
            ; and rax, -16
            ; sub rsp, rax
        );
    }
    fn call_reg(&mut self, target: Reg) {
        asm!(self.ops; call Rq(target));
    }
    fn finalize(self) -> Result<Vec<u8>, EmitError> {
        self.ops
            .finalize()
            .map_err(|e| EmitError(format!("x86-64 assembler: {e}")))
    }
}
