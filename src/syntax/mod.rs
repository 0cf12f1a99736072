//! Syntax: tokens, the parser (chumsky), the syntax tree and its pretty-printer.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod pretty;
pub mod token;

pub use parser::{needs_more_input, parse_program};

/// Parses a whole program; all errors recovery finds come back in one [`crate::Error`].
pub fn parse(text: &str) -> Result<ast::Program, crate::Error> {
    parse_program(text)
}
