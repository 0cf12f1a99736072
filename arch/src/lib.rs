//! Machine-code backends for Grizzly's template JIT.
//!
//! This crate knows machine code and a small set of operations; it never sees the
//! PL-GRIZZLY syntax tree. The code generator in `grizzly` drives it through one
//! trait, [`MacroAssembler`] (modelled on wasmtime Winch's `masm.rs`), with one
//! implementation per architecture. [`CodeArena`](arena::CodeArena) holds the
//! resulting code in W^X pages.
//!
//! ## The calling convention of compiled code
//! Compiled functions call each other with their own convention (every JIT does; the
//! platform ABI is respected wherever Rust code is involved: the [`Backend::trampoline`]
//! that enters compiled code from Rust, and calls of Rust helpers from compiled code):
//! - arguments are 64-bit words on the stack, written by the caller into its
//!   outgoing area ([`Mem::Out`]), read by the callee as [`Mem::Param`]; the result comes
//!   back in the return register (floats as their bits);
//! - two registers are pinned: the [`JitContext`] pointer and the depth budget (how
//!   many more nested calls the call-depth limit allows);
//! - every other register is caller-saved.
//!
//! A failed guard jumps to a deopt exit, which records its site in the context and
//! returns from the trampoline at once with [`STATUS_DEOPT`], discarding every compiled
//! frame above it: compiled code holds no resources, and the interpreter reruns the
//! outermost compiled call from its start (the language is pure).
//!
//! A leaf function (no calls but of Rust helpers) can also be compiled in the
//! platform's own convention, [`Convention::Native`], and called from Rust like any
//! `extern "C"` function ([`NativeEntry`]): what typed handles use, with no entry stub;
//! or, [`Convention::Batch`], as its body in a loop over rows of argument columns
//! ([`NativeBatch`]): what batch calls use.

pub mod aarch64;
pub mod arena;
mod entry;
pub mod frame;
pub mod host;
mod masm;
pub mod x64;

pub use frame::Reg;
pub use masm::{HelperArg, Isa, MacroAssembler, HANDLER_WORDS};

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod masm_tests;

/// A general-purpose register chosen by the code generator from [`MacroAssembler::GPRS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gpr(pub u8);

/// A floating-point register chosen from [`MacroAssembler::FPRS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fpr(pub u8);

/// A 64-bit word in the current frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mem {
    /// The i-th argument of this call (also written by a self tail call).
    Param(u32),
    /// The i-th local word (`LET`s and spilled temporaries).
    Local(u32),
    /// The i-th argument of the call being prepared.
    Out(u32),
}

/// An integer (or bool) operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    Reg(Gpr),
    Imm(i64),
    Mem(Mem),
}

/// A float operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FSrc {
    Reg(Fpr),
    Mem(Mem),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A comparison. For floats every comparison with NaN is false except `Ne`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cond {
    /// The comparison that is true exactly when this one is false (for integers only:
    /// with NaN both `a < b` and `a >= b` are false).
    pub fn negate(self) -> Cond {
        match self {
            Cond::Eq => Cond::Ne,
            Cond::Ne => Cond::Eq,
            Cond::Lt => Cond::Ge,
            Cond::Le => Cond::Gt,
            Cond::Gt => Cond::Le,
            Cond::Ge => Cond::Lt,
        }
    }
}

/// A Rust function compiled code may call, with the platform's C calling convention.
#[derive(Clone, Copy, Debug)]
pub enum Helper {
    /// `extern "C" fn(f64) -> f64`
    Unary(extern "C" fn(f64) -> f64),
    /// `extern "C" fn(f64, f64) -> f64`
    Binary(extern "C" fn(f64, f64) -> f64),
}

/// Shared between Rust and compiled code for one entry: the machine-level contract.
#[repr(C)]
#[derive(Debug, Default)]
pub struct JitContext {
    /// The address of the stack limit word: compiled code deoptimizes (`HostStack`)
    /// rather than grow the host stack below the word's value. The host may set the
    /// word to `usize::MAX` from another thread: compiled code then deoptimizes at its
    /// next entry or loop iteration (how an interrupt stops it at no extra cost).
    pub stack_limit: usize,
    /// Nested calls the depth limit still allows (loaded into the pinned register).
    pub depth_budget: u64,
    /// The trampoline's stack pointer, restored by a deopt exit.
    pub saved_sp: usize,
    /// Where a deopt exit jumps: the trampoline's landing pad.
    pub landing: usize,
    /// Set by a deopt exit: the site's number as the code generator chose it.
    pub deopt_site: u64,
    /// The innermost compiled `TRY` handler that calls may raise an error to: its
    /// address (0: none; the entry stubs clear it), and the stack and frame pointers of
    /// its function's frame.
    pub handler: usize,
    pub handler_sp: usize,
    pub handler_fp: usize,
    /// The value stack of generic values (see `grizzly`'s `jit/values.rs`): its first
    /// free slot and its end. Compiled code reads only the top, to save it when a
    /// handler is entered; helpers move both.
    pub values_top: usize,
    pub values_end: usize,
    /// Where a function returning a generic value leaves it for its caller.
    pub value_ret: usize,
}

/// Offsets of [`JitContext`]'s fields, for the backends.
pub mod ctx {
    pub const STACK_LIMIT: i32 = 0;
    pub const DEPTH_BUDGET: i32 = 8;
    pub const SAVED_SP: i32 = 16;
    pub const LANDING: i32 = 24;
    pub const DEOPT_SITE: i32 = 32;
    pub const HANDLER: i32 = 40;
    pub const HANDLER_SP: i32 = 48;
    pub const HANDLER_FP: i32 = 56;
    pub const VALUES_TOP: i32 = 64;
    pub const VALUES_END: i32 = 72;
    pub const VALUE_RET: i32 = 80;
}

/// Status the trampoline returns.
pub const STATUS_OK: u64 = 0;
pub const STATUS_DEOPT: u64 = 1;

/// What the trampoline is: `entry` is a compiled function, `args` its arguments,
/// `result` receives its result's bits; returns [`STATUS_OK`] or [`STATUS_DEOPT`].
pub type Trampoline = unsafe extern "C" fn(
    entry: *const u8,
    args: *const u64,
    nargs: usize,
    ctx: *mut JitContext,
    result: *mut u64,
) -> u64;

/// Arguments the [`DirectEntry`] passes in registers.
pub const DIRECT_ARGS: usize = 4;

/// What [`Backend::direct_entry`] is: enters compiled function `entry` with up to
/// [`DIRECT_ARGS`] argument words in registers (unused ones are ignored) and returns
/// its result's bits. A deopt returns at once, with `ctx.deopt_site` overwritten: the
/// caller sets it to [`NO_DEOPT`] before and checks it after.
///
/// The typed handles' way in: no argument array, no result pointer, no status word.
pub type DirectEntry = unsafe extern "C" fn(
    ctx: *mut JitContext,
    entry: *const u8,
    a0: u64,
    a1: u64,
    a2: u64,
    a3: u64,
) -> u64;

/// Arguments a batch entry takes at most.
pub const BATCH_ARGS: usize = 8;

/// What [`Backend::batch_entry`] is, for functions of `nargs` arguments: calls
/// compiled function `entry` once per row, `rows` times; row `i`'s arguments are
/// `columns[j][i]` for `j < nargs`, and its result goes to row `i` of `out` (its bits,
/// or the generic value it returned: see [`BatchOut`]). Returns the
/// number of rows done: fewer than `rows` when the next row deoptimized (its site is
/// in `ctx.deopt_site`).
///
/// Batch calls' way in: one entry for a whole column, no Rust between rows.
pub type BatchEntry = unsafe extern "C" fn(
    ctx: *mut JitContext,
    entry: *const u8,
    columns: *const *const u64,
    rows: usize,
    out: *mut u64,
) -> usize;

/// What a batch entry does with each row's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchOut {
    /// Stores the result's bits (a machine value): `out` is one word per row.
    Words,
    /// Moves the generic value the row left in `ctx.value_ret` (whose slot must hold
    /// `null` on entry; it does again after each row): `out` is two words per row,
    /// each pair a `Value` afterwards.
    Values,
}

impl BatchOut {
    /// The bytes of `out` per row.
    pub const fn stride(self) -> i32 {
        match self {
            BatchOut::Words => 8,
            BatchOut::Values => 16,
        }
    }
}

/// A deopt site no code generator uses (see [`DirectEntry`]).
pub const NO_DEOPT: u64 = u64::MAX;

/// How a function is entered and left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// Compiled code's own (see the crate documentation): entered from compiled code
    /// or through an entry stub.
    Jit,
    /// The platform's C ABI, for a leaf function of `params` argument words (at most
    /// [`DIRECT_ARGS`]): see [`NativeEntry`]. Only calls of Rust helpers, only
    /// [`MacroAssembler::LEAF_GPRS`], no context, no stack check: its frame is small
    /// (under [`NATIVE_FRAME`] bytes), as a Rust function's may be without a stack
    /// probe. Emitting a call or a depth check in it makes `finish` fail.
    Native { params: u32 },
    /// As `Native`, but the body runs once per row of argument columns (at most
    /// [`BATCH_ARGS`]), each return storing the row's result and going on with the
    /// next row: see [`NativeBatch`].
    Batch { params: u32 },
}

/// The largest frame a [`Convention::Native`] function may have: less than a page,
/// so that, like a Rust function's frame of that size, it needs no stack probe (the
/// guard page catches an overflow).
pub const NATIVE_FRAME: u32 = 2048;

/// What a [`Convention::Native`] function returns: its result's bits, and
/// [`NO_DEOPT`] or the site of the deopt exit it left by (then `bits` is meaningless).
/// Two words: returned in `rax:rdx` (System V) or `x0:x1` (AAPCS64).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeResult {
    pub bits: u64,
    pub site: u64,
}

/// A function compiled with [`Convention::Native`]: its argument words in the first
/// integer argument registers (unused ones ignored), called straight from Rust.
pub type NativeEntry = unsafe extern "C" fn(a0: u64, a1: u64, a2: u64, a3: u64) -> NativeResult;

/// A function compiled with [`Convention::Batch`]: row `i`'s arguments are
/// `columns[j][i]`, its result's bits go to `out[i]`, for `i < rows`. Returns the rows
/// done in `bits`, and in `site` [`NO_DEOPT`] or the site where the next row deoptimized.
pub type NativeBatch =
    unsafe extern "C" fn(columns: *const *const u64, rows: usize, out: *mut u64) -> NativeResult;

/// Errors of code generation (a refused compile, never a crash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitError(pub String);

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The assembler buffer a backend starts a function with: room for a typical function's
/// code, labels and label references, so that emitting rarely grows a vector.
fn code_buffer<R: dynasmrt::relocations::Relocation>() -> dynasmrt::VecAssembler<R> {
    dynasmrt::VecAssembler::new_with_capacity(0, 1024, 0, 0, 32, 0, 64)
}

/// An architecture: its name, and a fresh assembler. The entry stubs are written
/// once, in `entry.rs`, over its [`Isa`].
pub trait Backend {
    type Masm: MacroAssembler;
    const NAME: &'static str;
    /// A fresh assembler for one function.
    fn masm() -> Self::Masm;
    /// The trampoline's code (position independent; see [`Trampoline`]).
    fn trampoline() -> Result<Vec<u8>, EmitError> {
        entry::trampoline(Self::masm())
    }
    /// The direct entry's code (position independent; see [`DirectEntry`]).
    fn direct_entry() -> Result<Vec<u8>, EmitError> {
        entry::direct_entry(Self::masm())
    }
    /// The batch entry's code for functions of `nargs` arguments, at most
    /// [`BATCH_ARGS`], giving `results` (position independent; see [`BatchEntry`]).
    fn batch_entry(nargs: usize, results: BatchOut) -> Result<Vec<u8>, EmitError> {
        entry::batch_entry(Self::masm(), nargs, results)
    }
}

#[cfg(test)]
mod context_layout {
    use super::{ctx, JitContext};
    use std::mem::offset_of;

    /// Compiled code reads and writes the context at these offsets.
    #[test]
    fn offsets_match_the_struct() {
        let fields = [
            (offset_of!(JitContext, stack_limit), ctx::STACK_LIMIT),
            (offset_of!(JitContext, depth_budget), ctx::DEPTH_BUDGET),
            (offset_of!(JitContext, saved_sp), ctx::SAVED_SP),
            (offset_of!(JitContext, landing), ctx::LANDING),
            (offset_of!(JitContext, deopt_site), ctx::DEOPT_SITE),
            (offset_of!(JitContext, handler), ctx::HANDLER),
            (offset_of!(JitContext, handler_sp), ctx::HANDLER_SP),
            (offset_of!(JitContext, handler_fp), ctx::HANDLER_FP),
            (offset_of!(JitContext, values_top), ctx::VALUES_TOP),
            (offset_of!(JitContext, values_end), ctx::VALUES_END),
            (offset_of!(JitContext, value_ret), ctx::VALUE_RET),
        ];
        for (actual, constant) in fields {
            assert_eq!(actual, constant as usize);
        }
    }
}
