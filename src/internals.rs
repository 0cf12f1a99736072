//! **Unstable, not part of the API**: the engine's own parts that its tests and
//! fuzzers use, behind the `internals` feature. Anything here may change or go in
//! any release. Nothing here can break memory safety: the syntax tree, the parser
//! and printer, a few limits, and attaching a source to an error; nothing of the
//! interpreter's or the JIT's state.

/// The syntax tree, the parser and the pretty printer.
pub mod syntax {
    pub use crate::syntax::{ast, parse, parse_program, pretty};
}

/// Specializations one function may hold at once.
#[cfg(feature = "jit")]
pub const MAX_SPECS: usize = crate::jit::MAX_SPECS;
/// Deopts after which a specialization may be discarded.
#[cfg(feature = "jit")]
pub const DEOPT_LIMIT: u64 = crate::jit::DEOPT_LIMIT;

/// Attaches `source` to an error (and the errors joined to it) that has none, as the
/// engine does when it runs a program: then `Error::report` renders it on its own.
pub fn in_source(error: crate::Error, source: &std::sync::Arc<crate::Source>) -> crate::Error {
    error.in_source(source)
}
