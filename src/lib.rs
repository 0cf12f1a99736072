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
//! The modules not documented here (the syntax, the interpreter, the JIT) are the
//! engine's own parts, public for its command line, tests and fuzzers; they are not
//! part of the API and may change at any time.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod builtins;
#[doc(hidden)]
pub mod cli;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod interp;
#[doc(hidden)]
#[cfg(feature = "jit")]
pub mod jit;
#[doc(hidden)]
pub mod ops;
#[doc(hidden)]
pub mod resolve;
#[doc(hidden)]
pub mod syntax;
pub mod value;

pub use engine::{Engine, EngineBuilder, JitMode, JitStats, NativeArgs, NativeType, TypedFunc};
pub use error::{Error, ErrorKind, Result, Source};
pub use syntax::ast::Span;
pub use value::{Text, Value, ValueType};
