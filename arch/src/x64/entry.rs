//! The ways in from Rust (the trampoline, the direct entry, the batch entries): the
//! only x86-64 code that follows the System V ABI on entry, saving every callee-saved
//! register compiled code may use.

use super::{X64Masm, X64};
use crate::{ctx, Backend, EmitError};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

type Ops = VecAssembler<X64Relocation>;

/// Saves every callee-saved register compiled code may clobber (`rbp` included, for
/// safety), leaving `rsp` 8 mod 16 as at the entry.
fn push_registers(ops: &mut Ops) {
    asm!(ops
        ; push rbp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
        ; push r15
    );
}

/// Undoes [`push_registers`] (with `rsp` back where it left it) and returns.
fn pop_registers_and_return(ops: &mut Ops) {
    asm!(ops
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );
}

impl Backend for X64 {
    type Masm = X64Masm;
    const NAME: &'static str = "x86-64";

    fn masm() -> X64Masm {
        X64Masm {
            ops: VecAssembler::new(0),
            frame: Default::default(),
        }
    }

    fn trampoline() -> Result<Vec<u8>, EmitError> {
        let mut ops: Ops = VecAssembler::new(0);
        // System V: rdi = entry, rsi = args, rdx = nargs, rcx = ctx, r8 = result.
        asm!(ops
            ; push rbp
            ; mov rbp, rsp
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; push r8
            // rsp = rbp - 48: 16-byte aligned (entry rsp was 8 mod 16).
            ; mov r15, rcx
            ; mov r14, QWORD [r15 + ctx::DEPTH_BUDGET]
            ; mov QWORD [r15 + ctx::SAVED_SP], rsp
            ; lea rax, [->landing]
            ; mov QWORD [r15 + ctx::LANDING], rax
            // The outgoing area: nargs words, rounded up to keep the alignment.
            ; lea rax, [rdx * 8 + 15]
            ; and rax, -16
            ; sub rsp, rax
            ; xor ecx, ecx
            ; ->copy:
            ; cmp rcx, rdx
            ; jae ->copied
            ; mov r11, QWORD [rsi + rcx * 8]
            ; mov QWORD [rsp + rcx * 8], r11
            ; inc rcx
            ; jmp ->copy
            ; ->copied:
            ; call rdi
            // Recover rbp from the saved rsp rather than trust it after compiled code.
            ; mov rbp, QWORD [r15 + ctx::SAVED_SP]
            ; lea rbp, [rbp + 48]
            ; mov r8, QWORD [rbp - 48]
            ; mov QWORD [r8], rax
            ; xor eax, eax
            ; jmp ->exit
            // A deopt exit jumps here from any depth of compiled frames.
            ; ->landing:
            ; mov rsp, QWORD [r15 + ctx::SAVED_SP]
            ; lea rbp, [rsp + 48]
            ; mov eax, 1
            ; ->exit:
            ; lea rsp, [rbp - 48]
            ; pop r8
        );
        pop_registers_and_return(&mut ops);
        ops.finalize()
            .map_err(|e| EmitError(format!("trampoline: {e}")))
    }

    fn direct_entry() -> Result<Vec<u8>, EmitError> {
        let mut ops: Ops = VecAssembler::new(0);
        // System V: rdi = ctx, rsi = entry, rdx, rcx, r8, r9 = the argument words.
        push_registers(&mut ops);
        asm!(ops
            // Entry rsp was 8 mod 16; after six pushes and 40 bytes it is 0 mod 16.
            ; sub rsp, 40
            ; mov r15, rdi
            ; mov r14, QWORD [r15 + ctx::DEPTH_BUDGET]
            ; mov QWORD [r15 + ctx::SAVED_SP], rsp
            ; lea rax, [->landing]
            ; mov QWORD [r15 + ctx::LANDING], rax
            ; mov QWORD [rsp], rdx
            ; mov QWORD [rsp + 8], rcx
            ; mov QWORD [rsp + 16], r8
            ; mov QWORD [rsp + 24], r9
            ; call rsi
            ; ->exit:
            ; add rsp, 40
        );
        pop_registers_and_return(&mut ops);
        asm!(ops
            // A deopt exit jumps here from any depth of compiled frames, having
            // written its site into the context.
            ; ->landing:
            ; mov rsp, QWORD [r15 + ctx::SAVED_SP]
            ; jmp ->exit
        );
        ops.finalize()
            .map_err(|e| EmitError(format!("direct entry: {e}")))
    }

    fn batch_entry(nargs: usize) -> Result<Vec<u8>, EmitError> {
        if nargs > crate::BATCH_ARGS {
            return Err(EmitError(format!("a batch entry for {nargs} arguments")));
        }
        let mut ops: Ops = VecAssembler::new(0);
        // System V: rdi = ctx, rsi = entry, rdx = columns, rcx = rows, r8 = out.
        // Compiled code keeps only r15 (the context), so the loop's state lives in
        // the frame: the outgoing arguments at rsp, then the entry, the row count,
        // `out`, the current row and the column addresses.
        let n = nargs as i32;
        let entry = 8 * n;
        let (rows, out, row, columns) = (entry + 8, entry + 16, entry + 24, entry + 32);
        // Entry rsp was 8 mod 16 and six registers are pushed: the frame is 8 mod 16.
        let frame = columns + 8 * n + 8;
        push_registers(&mut ops);
        asm!(ops
            ; sub rsp, frame
            ; mov r15, rdi
            ; mov QWORD [rsp + entry], rsi
            ; mov QWORD [rsp + rows], rcx
            ; mov QWORD [rsp + out], r8
            ; mov QWORD [rsp + row], 0
        );
        for j in 0..n {
            asm!(ops
                ; mov rax, QWORD [rdx + 8 * j]
                ; mov QWORD [rsp + columns + 8 * j], rax
            );
        }
        asm!(ops
            ; mov QWORD [r15 + ctx::SAVED_SP], rsp
            ; lea rax, [->landing]
            ; mov QWORD [r15 + ctx::LANDING], rax
            ; ->row:
            ; mov rax, QWORD [rsp + row]
            ; cmp rax, QWORD [rsp + rows]
            ; jae ->done
            ; mov r14, QWORD [r15 + ctx::DEPTH_BUDGET]
        );
        for j in 0..n {
            asm!(ops
                ; mov rdx, QWORD [rsp + columns + 8 * j]
                ; mov rdx, QWORD [rdx + rax * 8]
                ; mov QWORD [rsp + 8 * j], rdx
            );
        }
        asm!(ops
            ; call QWORD [rsp + entry]
            ; mov rcx, QWORD [rsp + row]
            ; mov rdx, QWORD [rsp + out]
            ; mov QWORD [rdx + rcx * 8], rax
            ; inc rcx
            ; mov QWORD [rsp + row], rcx
            ; jmp ->row
            // A deopt exit jumps here from any depth of compiled frames, having
            // written its site into the context; the row it was on is not done.
            ; ->landing:
            ; mov rsp, QWORD [r15 + ctx::SAVED_SP]
            ; ->done:
            ; mov rax, QWORD [rsp + row]
            ; add rsp, frame
        );
        pop_registers_and_return(&mut ops);
        ops.finalize()
            .map_err(|e| EmitError(format!("batch entry: {e}")))
    }
}
