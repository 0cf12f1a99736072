//! The x86-64 frame, and the ways into and out of a function in each convention:
//! compiled code's own, native (C ABI) and batch (a row loop around the body).

use super::{X64Masm, ARGS, RDX, RSP};
use crate::{ctx, Convention, MacroAssembler, Mem, Src, NO_DEOPT};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub(super) locals: u32,
    pub(super) out: u32,
    /// Whether the parameters are in this frame, above the locals (a native
    /// function's), rather than in the caller's outgoing area.
    pub(super) own_params: bool,
    /// What the prologue subtracts from `rsp`: the words, rounded so that `rsp` is
    /// 16-byte aligned at calls (it is 8 off on entry, after the return address).
    pub(super) bytes: i32,
}

impl Frame {
    pub(super) fn new(locals: u32, out: u32, convention: Convention) -> Option<Frame> {
        let params = convention.own_params();
        let words = (locals as u64 + out as u64 + params as u64) * 8;
        let bytes = i32::try_from(words.next_multiple_of(16) + 8).ok()?;
        Some(Frame {
            locals,
            out,
            own_params: convention != Convention::Jit,
            bytes,
        })
    }
}

/// No frame pointer: everything is addressed from `rsp`, which moves only in the
/// prologue and epilogue.
pub(super) fn addr(frame: Frame, m: Mem) -> (u8, i32) {
    match m {
        Mem::Param(i) if frame.own_params => (RSP, 8 * (frame.out + frame.locals + i) as i32),
        Mem::Param(i) => (RSP, frame.bytes + 8 + 8 * i as i32),
        Mem::Local(i) => (RSP, 8 * (frame.out + i) as i32),
        Mem::Out(i) => (RSP, 8 * i as i32),
    }
}

impl X64Masm {
    /// Builds the frame; in each convention, what its entry needs.
    pub(super) fn enter(&mut self, stack_deopt: DynamicLabel) {
        let bytes = self.frame.map_or(8, |f| f.bytes);
        if let Convention::Batch { .. } = self.convention {
            // Four pushes keep `rsp` 8 mod 16, as a call leaves it.
            asm!(self.ops; push rbx; push rbp; push r12; push r13);
        }
        asm!(self.ops; sub rsp, DWORD bytes);
        match self.convention {
            Convention::Jit => asm!(self.ops
                ; cmp rsp, QWORD [r15 + ctx::STACK_LIMIT]
                ; jb =>stack_deopt
            ),
            Convention::Native { params } => {
                for (i, &r) in ARGS.iter().enumerate().take(params as usize) {
                    let (b, d) = self.addr(Mem::Param(i as u32));
                    asm!(self.ops; mov QWORD [Rq(b) + d], Rq(r));
                }
            }
            Convention::Batch { params } => {
                let (head, done) = (self.new_label(), self.new_label());
                self.rows = Some((head, done));
                asm!(self.ops
                    ; xor ebx, ebx
                    ; mov rbp, rsi
                    ; mov r12, rdx
                    ; mov r13, rdi
                    ; =>head
                    ; cmp rbx, rbp
                    ; jae =>done
                );
                for i in 0..params {
                    let (b, d) = self.addr(Mem::Param(i));
                    let column = 8 * i as i32;
                    asm!(self.ops
                        ; mov rax, QWORD [r13 + column]
                        ; mov rax, QWORD [rax + rbx * 8]
                        ; mov QWORD [Rq(b) + d], rax
                    );
                }
            }
        }
    }

    /// Returns (the result already in `rax`); a native function also returns
    /// `site` in `rdx`.
    pub(super) fn epilogue(&mut self, site: u64) {
        if self.convention != Convention::Jit {
            self.load(RDX, Src::Imm(site as i64));
        }
        let bytes = self.frame.map_or(8, |f| f.bytes);
        asm!(self.ops; add rsp, DWORD bytes);
        if let Convention::Batch { .. } = self.convention {
            asm!(self.ops; pop r13; pop r12; pop rbp; pop rbx);
        }
        asm!(self.ops; ret);
    }

    /// A batch function returns the rows done (the current row) and `site`.
    pub(super) fn batch_exit(&mut self, site: u64) {
        asm!(self.ops; mov rax, rbx);
        self.epilogue(site);
    }

    /// Returns the result in `rax`: a batch function stores it and goes on with the
    /// next row.
    pub(super) fn return_rax(&mut self) {
        match self.rows {
            Some((head, _)) => asm!(self.ops
                ; mov QWORD [r12 + rbx * 8], rax
                ; add rbx, 1
                ; jmp =>head
            ),
            None => self.epilogue(NO_DEOPT),
        }
    }

    /// Records that a native function's code asked for `what`.
    pub(super) fn jit_only(&mut self, what: &'static str) {
        if self.convention != Convention::Jit {
            self.misuse.get_or_insert(what);
        }
    }

    /// Leaves a deopt exit: to the entry stub's landing pad, or (native code having
    /// no compiled frame but this one) returning the site.
    pub(super) fn leave_deoptimized(&mut self, site: u64) {
        match self.convention {
            Convention::Native { .. } => return self.epilogue(site),
            Convention::Batch { .. } => return self.batch_exit(site),
            Convention::Jit => {}
        }
        asm!(self.ops
            ; mov rax, QWORD site as i64
            ; mov QWORD [r15 + ctx::DEOPT_SITE], rax
            ; jmp QWORD [r15 + ctx::LANDING]
        );
    }
}
