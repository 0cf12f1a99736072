//! The ways in from Rust (the trampoline, the direct entry, the batch entries): the
//! only AArch64 code that follows AAPCS64 on entry, saving every callee-saved
//! register compiled code may use.

use super::{Aarch64, Aarch64Masm};
use crate::{ctx, Backend, EmitError};
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

type Ops = VecAssembler<Aarch64Relocation>;

/// Opens a `frame`-byte frame (a multiple of 16, at least 96) holding the frame
/// record and x19-x28, all of which compiled code may clobber; the bytes from 96 on
/// are the stub's. Compiled code uses no callee-saved float register (d8-d15).
fn save_registers(ops: &mut Ops, frame: u32) {
    asm!(ops
        ; sub sp, sp, #frame
        ; stp x29, x30, [sp]
        ; mov x29, sp
        ; stp x19, x20, [sp, #16]
        ; stp x21, x22, [sp, #32]
        ; stp x23, x24, [sp, #48]
        ; stp x25, x26, [sp, #64]
        ; stp x27, x28, [sp, #80]
    );
}

/// Closes the frame [`save_registers`] opened (found from x29, wherever `sp` is)
/// and returns.
fn restore_registers_and_return(ops: &mut Ops, frame: u32) {
    asm!(ops
        ; mov sp, x29
        ; ldp x19, x20, [sp, #16]
        ; ldp x21, x22, [sp, #32]
        ; ldp x23, x24, [sp, #48]
        ; ldp x25, x26, [sp, #64]
        ; ldp x27, x28, [sp, #80]
        ; ldp x29, x30, [sp]
        ; add sp, sp, #frame
        ; ret
    );
}

impl Backend for Aarch64 {
    type Masm = Aarch64Masm;
    const NAME: &'static str = "aarch64";

    fn masm() -> Aarch64Masm {
        Aarch64Masm {
            ops: VecAssembler::new(0),
            frame: Default::default(),
        }
    }

    fn trampoline() -> Result<Vec<u8>, EmitError> {
        let mut ops: Ops = VecAssembler::new(0);
        // AAPCS64: x0 = entry, x1 = args, x2 = nargs, x3 = ctx, x4 = result (kept
        // at [x29 + 96]).
        save_registers(&mut ops, 112);
        asm!(ops
            ; str x4, [sp, #96]
            ; mov x28, x3
            ; ldr x27, [x28, #ctx::DEPTH_BUDGET as u32]
            ; mov x16, sp
            ; str x16, [x28, #ctx::SAVED_SP as u32]
            ; adr x16, ->landing
            ; str x16, [x28, #ctx::LANDING as u32]
            // The outgoing area: nargs words rounded up to 16 bytes.
            ; add x16, x2, #1
            ; lsr x16, x16, #1
            ; lsl x16, x16, #4
            ; mov x17, sp
            ; sub x17, x17, x16
            ; mov sp, x17
            ; mov x9, xzr
            ; ->copy:
            ; cmp x9, x2
            ; b.hs ->copied
            ; ldr x16, [x1, x9, lsl #3]
            ; str x16, [sp, x9, lsl #3]
            ; add x9, x9, #1
            ; b ->copy
            ; ->copied:
            ; blr x0
            ; ldr x4, [x29, #96]
            ; str x0, [x4]
            ; mov x0, xzr
            ; b ->exit
            // A deopt exit jumps here from any depth of compiled frames.
            ; ->landing:
            ; ldr x16, [x28, #ctx::SAVED_SP as u32]
            ; mov sp, x16
            ; mov x29, sp
            ; movz x0, #1
            ; ->exit:
        );
        restore_registers_and_return(&mut ops, 112);
        ops.finalize()
            .map_err(|e| EmitError(format!("trampoline: {e}")))
    }

    fn direct_entry() -> Result<Vec<u8>, EmitError> {
        let mut ops: Ops = VecAssembler::new(0);
        // AAPCS64: x0 = ctx, x1 = entry, x2-x5 = the argument words.
        save_registers(&mut ops, 96);
        asm!(ops
            ; mov x28, x0
            ; ldr x27, [x28, #ctx::DEPTH_BUDGET as u32]
            ; sub sp, sp, #32
            ; mov x16, sp
            ; str x16, [x28, #ctx::SAVED_SP as u32]
            ; adr x16, ->landing
            ; str x16, [x28, #ctx::LANDING as u32]
            ; stp x2, x3, [sp]
            ; stp x4, x5, [sp, #16]
            ; blr x1
            ; b ->exit
            // A deopt exit jumps here from any depth of compiled frames, having
            // written its site into the context; x29 is a compiled frame's.
            ; ->landing:
            ; ldr x16, [x28, #ctx::SAVED_SP as u32]
            ; add x29, x16, #32
            ; ->exit:
        );
        restore_registers_and_return(&mut ops, 96);
        ops.finalize()
            .map_err(|e| EmitError(format!("direct entry: {e}")))
    }

    fn batch_entry(nargs: usize) -> Result<Vec<u8>, EmitError> {
        if nargs > crate::BATCH_ARGS {
            return Err(EmitError(format!("a batch entry for {nargs} arguments")));
        }
        let mut ops: Ops = VecAssembler::new(0);
        // AAPCS64: x0 = ctx, x1 = entry, x2 = columns, x3 = rows, x4 = out. Compiled
        // code keeps x28 (the context) and x29 (restoring it on return), so the loop's state lives below the
        // saved registers: the outgoing arguments at sp, then the entry, the row
        // count, `out`, the current row and the column addresses. Every offset is a
        // multiple of 8 under 4096: all fit `ldr`/`str` and `sub` immediates.
        let n = nargs as u32;
        let entry = 8 * n;
        let (rows, out, row, columns) = (entry + 8, entry + 16, entry + 24, entry + 32);
        let frame = (columns + 8 * n).next_multiple_of(16);
        save_registers(&mut ops, 96);
        asm!(ops
            ; sub sp, sp, #frame
            ; mov x28, x0
            ; str x1, [sp, #entry]
            ; str x3, [sp, #rows]
            ; str x4, [sp, #out]
            ; str xzr, [sp, #row]
        );
        for j in 0..n {
            asm!(ops
                ; ldr x9, [x2, #8 * j]
                ; str x9, [sp, #columns + 8 * j]
            );
        }
        asm!(ops
            ; mov x16, sp
            ; str x16, [x28, #ctx::SAVED_SP as u32]
            ; adr x16, ->landing
            ; str x16, [x28, #ctx::LANDING as u32]
            ; ->row:
            ; ldr x9, [sp, #row]
            ; ldr x10, [sp, #rows]
            ; cmp x9, x10
            ; b.hs ->done
            ; ldr x27, [x28, #ctx::DEPTH_BUDGET as u32]
        );
        for j in 0..n {
            asm!(ops
                ; ldr x10, [sp, #columns + 8 * j]
                ; ldr x10, [x10, x9, lsl #3]
                ; str x10, [sp, #8 * j]
            );
        }
        asm!(ops
            ; ldr x16, [sp, #entry]
            ; blr x16
            ; ldr x9, [sp, #row]
            ; ldr x10, [sp, #out]
            ; str x0, [x10, x9, lsl #3]
            ; add x9, x9, #1
            ; str x9, [sp, #row]
            ; b ->row
            // A deopt exit jumps here from any depth of compiled frames, having
            // written its site into the context; the row it was on is not done.
            ; ->landing:
            ; ldr x16, [x28, #ctx::SAVED_SP as u32]
            ; mov sp, x16
            // x29 is a compiled frame's: this frame's record is right above.
            ; add x29, sp, #frame
            ; ->done:
            ; ldr x0, [sp, #row]
        );
        restore_registers_and_return(&mut ops, 96);
        ops.finalize()
            .map_err(|e| EmitError(format!("batch entry: {e}")))
    }
}
