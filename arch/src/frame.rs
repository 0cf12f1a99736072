//! The frame of a compiled function, laid out once for every ISA and convention.
//!
//! The code is emitted in one pass, before the frame's size is known: the prologue
//! reserves a stack area whose size `finish` patches in once the code has said which
//! words it uses (Winch's `PatchableAddToReg`). An ISA addresses the frame in one of
//! two ways ([`FrameBase`]):
//!
//! - **from a frame pointer** (AArch64, where the frame record costs nothing more):
//!   offsets do not depend on the frame's size.
//!
//!   ```text
//!     fp + PARAMS_OFFSET + 8i    Param(i), compiled code's convention: the caller's outgoing area
//!     fp + 0                     the frame record (saved frame pointer, return address)
//!     fp - 8(1 + i)              Param(i) of a native or batch function (stored by its prologue)
//!     fp - 8(1 + own + i)        Local(i): LETs and spilled temporaries
//!     sp + 8i                    Out(i): the arguments of the call being prepared
//!   ```
//!
//! - **from the stack pointer** (x86-64, where a frame pointer costs a call-heavy
//!   function several percent): the words above the outgoing area have
//!   displacements that grow with the frame ([`Grows`]); the ISA records where each
//!   one is in the code and `finish` adds what it grows by.
//!
//!   ```text
//!     sp + bytes + PARAMS_OFFSET + 8i   Param(i), compiled code's convention (above the return address)
//!     sp + 8(out + locals + i)          Param(i) of a native or batch function
//!     sp + 8(out + i)                   Local(i)
//!     sp + 8i                           Out(i)
//!   ```
//!
//! Either way the stack pointer is 16-byte aligned at calls.

use crate::{Convention, EmitError, Mem, BATCH_ARGS, DIRECT_ARGS, NATIVE_FRAME};

/// A machine register, as its ISA numbers it.
pub type Reg = u8;

/// Frames above this size are refused (every ISA reserves up to it in two
/// instructions, and offsets within it fit an `i32`).
pub const MAX_FRAME: u32 = 1 << 24;

/// How an ISA addresses its frame (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameBase {
    /// From a frame pointer, the frame record pushed by the prologue.
    FramePointer,
    /// From the stack pointer; `entry_misalign` is the stack pointer modulo 16 on
    /// entry (8 on x86-64, after the return address).
    StackPointer { entry_misalign: u32 },
}

/// What a displacement from the stack pointer grows by once the frame is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grows {
    /// The outgoing words below it (a local).
    Out,
    /// The outgoing and local words below it (a native function's parameter).
    OutLocals,
    /// The whole frame (a parameter in the caller's outgoing area).
    Frame,
}

/// A frame word's address: a base register, an offset, and whether the offset
/// grows with the frame (then the ISA must record where it put it, with
/// [`FrameState::displaced`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub base: Reg,
    pub offset: i32,
    pub grows: Option<Grows>,
}

/// What the shared conventions know of the function being emitted: its convention,
/// the words its code used, where its frame size goes, and its row loop.
#[derive(Debug)]
pub struct FrameState<L> {
    base: FrameBase,
    convention: Convention,
    /// Local and outgoing words used (the highest index plus one).
    locals: u64,
    out: u64,
    /// Code offsets where each prologue's and epilogue's stack reservation is patched.
    patches: Vec<usize>,
    /// Displacements that grow with the frame: where (a 32-bit little-endian field),
    /// by what, and the offset first written there.
    displaced: Vec<(usize, Grows, i32)>,
    /// Addresses handed out that grow with the frame: each must be recorded.
    growing: usize,
    /// What a native function asked for that it cannot have (`finish` fails).
    misuse: Option<&'static str>,
    /// A batch function's row loop: its head and its end.
    rows: Option<(L, L)>,
}

impl<L: Copy> FrameState<L> {
    pub fn new(base: FrameBase) -> Self {
        FrameState {
            base,
            convention: Convention::Jit,
            locals: 0,
            out: 0,
            patches: Vec::new(),
            displaced: Vec::new(),
            growing: 0,
            misuse: None,
            rows: None,
        }
    }

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

    /// The address of a word, which counts as used. An offset out of range is
    /// clamped: `finish` refuses such a frame anyway.
    pub fn addr(&mut self, m: Mem, fp: Reg, sp: Reg, params_offset: i32) -> Addr {
        let clamp = |v: i64| v.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        let own = self.own_params();
        match m {
            Mem::Local(i) => self.locals = self.locals.max(i as u64 + 1),
            Mem::Out(i) => self.out = self.out.max(i as u64 + 1),
            Mem::Param(_) => {}
        }
        let (base, offset, grows) = match (self.base, m) {
            (_, Mem::Out(i)) => (sp, 8 * i as i64, None),
            (FrameBase::FramePointer, Mem::Param(i)) if own > 0 => (fp, -8 * (1 + i as i64), None),
            (FrameBase::FramePointer, Mem::Param(i)) => {
                (fp, params_offset as i64 + 8 * i as i64, None)
            }
            (FrameBase::FramePointer, Mem::Local(i)) => {
                (fp, -8 * (1 + own as i64 + i as i64), None)
            }
            (FrameBase::StackPointer { .. }, Mem::Param(i)) if own > 0 => {
                (sp, 8 * i as i64, Some(Grows::OutLocals))
            }
            (FrameBase::StackPointer { .. }, Mem::Param(i)) => {
                (sp, params_offset as i64 + 8 * i as i64, Some(Grows::Frame))
            }
            (FrameBase::StackPointer { .. }, Mem::Local(i)) => (sp, 8 * i as i64, Some(Grows::Out)),
        };
        if grows.is_some() {
            self.growing += 1;
        }
        Addr {
            base,
            offset: clamp(offset),
            grows,
        }
    }

    /// Records that the 32-bit little-endian field at `at` holds `addr`'s offset,
    /// to grow with the frame.
    pub fn displaced(&mut self, at: usize, addr: Addr) {
        if let Some(grows) = addr.grows {
            self.displaced.push((at, grows, addr.offset));
        }
    }

    /// Records where a prologue's or epilogue's stack reservation is patched.
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

    /// The frame's size in bytes; fails for what the convention cannot hold or a
    /// frame too large (a refused compile).
    pub fn size(&self) -> Result<u32, EmitError> {
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
        let words = (self.own_params() + self.locals + self.out).saturating_mul(8);
        let bytes = match self.base {
            FrameBase::FramePointer => words.next_multiple_of(16),
            // Reserving `entry_misalign` more aligns the stack pointer again.
            FrameBase::StackPointer { entry_misalign } => {
                words.next_multiple_of(16) + entry_misalign as u64
            }
        };
        if bytes >= MAX_FRAME as u64 {
            return Err(EmitError(format!("a frame of {bytes} bytes")));
        }
        if self.convention != Convention::Jit && bytes > NATIVE_FRAME as u64 {
            return Err(EmitError(format!(
                "a native function's frame of {bytes} bytes is over {NATIVE_FRAME}"
            )));
        }
        Ok(bytes as u32)
    }

    /// Patches the frame's size into `code`: each stack reservation (by the ISA's
    /// `patch_frame`) and each displacement that grows with it. Fails as
    /// [`FrameState::size`] does, or for a displacement not where it was recorded (a
    /// refused compile, never wrong code).
    pub fn patch(
        &self,
        code: &mut [u8],
        patch_frame: fn(&mut [u8], usize, u32),
    ) -> Result<(), EmitError> {
        let bytes = self.size()?;
        let (locals, out) = (self.locals, self.out);
        if self.growing != self.displaced.len() {
            return Err(EmitError("a frame displacement was not recorded".into()));
        }
        for &at in &self.patches {
            patch_frame(code, at, bytes);
        }
        for &(at, grows, offset) in &self.displaced {
            let by = match grows {
                Grows::Out => 8 * out,
                Grows::OutLocals => 8 * (out + locals),
                Grows::Frame => bytes as u64,
            };
            let field = code
                .get_mut(at..at + 4)
                .ok_or_else(|| EmitError("a frame displacement outside the code".into()))?;
            let written = i32::from_le_bytes([field[0], field[1], field[2], field[3]]);
            let grown = i32::try_from(offset as i64 + by as i64);
            match grown {
                Ok(v) if written == offset => field.copy_from_slice(&v.to_le_bytes()),
                _ => {
                    return Err(EmitError(
                        "a frame displacement is not where it was recorded".into(),
                    ))
                }
            }
        }
        Ok(())
    }
}
