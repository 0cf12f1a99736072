//! Grizzly: an engine for PL-GRIZZLY, a small SQL-flavoured functional language,
//! made to be embedded in Rust programs.
//!
//! Programs run in a reference interpreter; hot functions are compiled to x86-64 or
//! AArch64 machine code by a template JIT, specialized to the argument types seen,
//! and deoptimized back to the interpreter when a guard fails: results and errors
//! are always the interpreter's.
//!
//! ```
//! use grizzly::{Engine, Value};
//!
//! let mut engine = Engine::new();
//! // Run a program: definitions, and the values of its expressions.
//! let values = engine.run("FUNCTION sq(x) => x * x\nsq(12)").unwrap();
//! assert_eq!(values, [Value::Int(144)]);
//! // Call a function with values...
//! assert_eq!(engine.call("sq", &[Value::Float(1.5)]).unwrap(), Value::Float(2.25));
//! // ...or through a typed handle, straight into its compiled code.
//! let sq = engine.typed::<(i64,), i64>("sq").unwrap();
//! assert_eq!(sq.call(&mut engine, (7,)).unwrap(), 49);
//! // Or over whole columns.
//! assert_eq!(sq.call_batch(&mut engine, (&[1, 2, 3],)).unwrap(), [1, 4, 9]);
//! ```
//!
//! What is `Send` and `Sync`: an [`Engine`] is `Send` (it may move to another
//! thread between calls) but not `Sync` (calls need `&mut Engine`); [`Value`],
//! [`Error`] and [`TypedFunc`] are `Send` and `Sync`.
//!
//! The engine's own parts (the syntax, the interpreter, the JIT) are private to the
//! crate: nothing outside it can reach compiled code or its addresses, only calls
//! through [`Engine`] and [`TypedFunc`], which check that the code is live first.
//! This does not compile:
//!
//! ```compile_fail,E0603
//! let mut jit = grizzly::jit::Jit::new(1 << 20);
//! let entry = grizzly::jit::TypedEntry { id: 0, code: 0x4141_4141, native: 0x4141_4141, batch: 0x4141_4141 };
//! let _ = jit.run_native(entry, [0; 4]);
//! ```
//!
//! The `grizzly` command line is built on this API alone. The `internals` feature
//! adds a module `grizzly::internals` (the syntax tree, parser and printer, and a few
//! limits) for the engine's own tests and fuzzers: it is unstable, not part of the
//! API, and holds nothing that could break memory safety.

#![warn(missing_docs)]

mod builtins;
pub mod engine;
pub mod error;
mod interp;
#[cfg(feature = "jit")]
mod jit;
mod ops;
mod resolve;
mod syntax;
pub mod value;

#[cfg(feature = "internals")]
pub mod internals;

pub use engine::{
    Annotation, BorrowedStr, Column, ColumnFunc, ColumnType, Declaration, Engine, EngineBuilder,
    HostArg, HostFn, HostRet, InterruptHandle, JitMode, JitStats, NativeArg, NativeArgs,
    NativeType, NullableColumn, TypedFunc, Validity,
};
pub use error::{Error, ErrorKind, Result, Source};
pub use syntax::ast::Span;
pub use value::{Text, Value, ValueType};

/// For an interactive session: true when `source` is an unfinished item, so the
/// next line should be added to it before running it: brackets are still open, a
/// string is unterminated, the last token cannot end an item (`1 +`, `LET x =`),
/// or the only parse errors are at the end of the text (`IF c { 1 }` still waits
/// for `ELSE`). A complete item, or one with an error before its end, is not.
///
/// ```
/// assert!(grizzly::needs_more_input("FUNCTION f(x) => (x +"));
/// assert!(grizzly::needs_more_input("IF TRUE { 1 }"));
/// assert!(!grizzly::needs_more_input("FUNCTION f(x) => x + 1"));
/// assert!(!grizzly::needs_more_input("1 + )"));
/// ```
pub fn needs_more_input(source: &str) -> bool {
    syntax::needs_more_input(source)
}
