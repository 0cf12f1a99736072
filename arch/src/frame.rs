//! The frame of a compiled function, laid out once for every ISA and convention.
//!
//! Every function keeps a frame pointer, so that the frame's size need not be known
//! before its code is: the prologue reserves a stack area whose size is patched in
//! by `finish`, once the code has said which words it uses (Winch's
//! `PatchableAddToReg`). From the frame pointer down:
//!
//! ```text
//!   fp + PARAMS_FROM_FP + 8i   Param(i), compiled code's convention: the caller's outgoing area
//!   fp + 0                     the frame record (saved frame pointer, return address)
//!   fp - 8(1 + i)              Param(i) of a native or batch function (stored by its prologue)
//!   fp - 8(1 + own + i)        Local(i): LETs and spilled temporaries
//!   ...
//!   sp + 8i                    Out(i): the arguments of the call being prepared
//! ```
//!
//! The area between the frame pointer and the stack pointer is a multiple of 16
//! bytes, and the frame record keeps the stack pointer 16-byte aligned at calls on
//! both ISAs.

use crate::{Convention, EmitError, Mem, BATCH_ARGS, DIRECT_ARGS, NATIVE_FRAME};

/// A machine register, as its ISA numbers it.
pub type Reg = u8;

/// Frames above this size are refused (every ISA reserves up to it in two
/// instructions, and offsets within it fit an `i32`).
pub const MAX_FRAME: u32 = 1 << 24;

/// What the shared conventions know of the function being emitted: its convention,
/// the words its code used, where its frame size goes, and its row loop.
#[derive(Debug)]
pub struct FrameState<L> {
    convention: Convention,
    /// Local and outgoing words used (the highest index plus one).
    locals: u64,
    out: u64,
    /// Code offsets where each prologue's stack reservation is patched.
    patches: Vec<usize>,
    /// What a native function asked for that it cannot have (`finish` fails).
    misuse: Option<&'static str>,
    /// A batch function's row loop: its head and its end.
    rows: Option<(L, L)>,
}

impl<L: Copy> Default for FrameState<L> {
    fn default() -> Self {
        FrameState {
            convention: Convention::Jit,
            locals: 0,
            out: 0,
            patches: Vec::new(),
            misuse: None,
            rows: None,
        }
    }
}

impl<L: Copy> FrameState<L> {
    pub fn convention(&self) -> Convention {
        self.convention
    }

    pub fn set_convention(&mut self, convention: Convention) {
        self.convention = convention;
    }

    /// Argument words kept in this frame (a native or batch function's).
    fn own_params(&self) -> u64 {
        match self.convention {
            Convention::Jit => 0,
            Convention::Native { params } | Convention::Batch { params } => params as u64,
        }
    }

    /// The base register (`fp` or `sp`) and offset of a word, which counts as used.
    /// An offset out of range is clamped: `finish` refuses such a frame anyway.
    pub fn addr(&mut self, m: Mem, fp: Reg, sp: Reg, params_from_fp: i32) -> (Reg, i32) {
        let clamp = |v: i64| v.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        let own = self.own_params();
        match m {
            Mem::Param(i) if own > 0 => (fp, clamp(-8 * (1 + i as i64))),
            Mem::Param(i) => (fp, clamp(params_from_fp as i64 + 8 * i as i64)),
            Mem::Local(i) => {
                self.locals = self.locals.max(i as u64 + 1);
                (fp, clamp(-8 * (1 + own as i64 + i as i64)))
            }
            Mem::Out(i) => {
                self.out = self.out.max(i as u64 + 1);
                (sp, clamp(8 * i as i64))
            }
        }
    }

    /// Records where a prologue's stack reservation is patched.
    pub fn patch_at(&mut self, offset: usize) {
        self.patches.push(offset);
    }

    pub fn rows(&self) -> Option<(L, L)> {
        self.rows
    }

    pub fn set_rows(&mut self, head: L, done: L) {
        self.rows = Some((head, done));
    }

    /// Records that the code asked for `what`, which only compiled code's own
    /// convention may hold (a call, a depth check).
    pub fn jit_only(&mut self, what: &'static str) {
        if self.convention != Convention::Jit {
            self.misuse.get_or_insert(what);
        }
    }

    /// The bytes the prologues reserve below the frame record, and where to patch
    /// them in; fails for what the convention cannot hold.
    pub fn layout(&self) -> Result<(u32, &[usize]), EmitError> {
        let (params, most) = match self.convention {
            Convention::Jit => (0, usize::MAX),
            Convention::Native { params } => (params, DIRECT_ARGS),
            Convention::Batch { params } => (params, BATCH_ARGS),
        };
        if params as usize > most {
            return Err(EmitError(format!(
                "a native function of {params} arguments"
            )));
        }
        if let Some(what) = self.misuse {
            return Err(EmitError(format!("a native function cannot hold {what}")));
        }
        let words = self.own_params() + self.locals + self.out;
        let bytes = words.saturating_mul(8).next_multiple_of(16);
        if bytes >= MAX_FRAME as u64 {
            return Err(EmitError(format!("a frame of {bytes} bytes")));
        }
        let bytes = bytes as u32;
        if self.convention != Convention::Jit && bytes > NATIVE_FRAME {
            return Err(EmitError(format!(
                "a native function's frame of {bytes} bytes is over {NATIVE_FRAME}"
            )));
        }
        Ok((bytes, &self.patches))
    }
}
