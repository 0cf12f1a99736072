//! Grizzly: an engine for PL-GRIZZLY, a small SQL-flavoured functional language.

pub mod builtins;
pub mod cli;
pub mod error;
pub mod interp;
#[cfg(feature = "jit")]
pub mod jit;
pub mod ops;
pub mod resolve;
pub mod syntax;
pub mod value;

pub use error::{Error, ErrorKind, Result, Source};
pub use value::{Text, Value, ValueType};

pub mod engine;
pub use engine::{Engine, EngineBuilder, JitMode, JitStats, NativeArgs, NativeType, TypedFunc};
