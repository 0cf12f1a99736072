//! Syntax: tokens, the parser (chumsky), the syntax tree and its pretty-printer.

// Public only through the unstable `internals` (and `Span`, which is documented).
#[allow(missing_docs)]
pub mod ast;
pub mod lexer;
pub mod parser;
// Used by its tests, and by the engine's tests and fuzzers through `internals`.
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub mod pretty;
pub mod token;

pub use parser::{needs_more_input, parse_program};

/// Parses a whole program; all errors recovery finds come back in one [`crate::Error`].
pub fn parse(text: &str) -> Result<ast::Program, crate::Error> {
    parse_program(text)
}
