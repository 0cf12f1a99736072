//! Syntax: tokens, the parser (chumsky), the syntax tree and its pretty-printer.

pub mod ast;
