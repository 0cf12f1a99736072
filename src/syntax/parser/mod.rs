//! Source text to [`Program`]: the lexer, the line-break rule, then the chumsky
//! grammar in [`grammar`]. All errors found are reported together.

mod error;
mod grammar;
mod messages;

use crate::error::{Error, ErrorKind};
use crate::syntax::ast::{Expr, ExprKind, Item, Program};
use crate::syntax::lexer::{self, Spanned, Token};
use chumsky::input::Input as _;
use chumsky::span::SimpleSpan;
use chumsky::Parser as _;
use error::NO_TOKEN;
use std::rc::Rc;

/// At most this many errors are reported for one text (random bytes would give
/// one per line otherwise).
const MAX_ERRORS: usize = 100;

/// Parses a whole program. On failure, every error found (lexical and syntactic,
/// in source order) is joined with [`Error::many`]; no source is attached.
pub fn parse_program(text: &str) -> Result<Program, Error> {
    let Parsed { items, errors, .. } = parse_inner(text);
    if errors.is_empty() {
        Ok(Program { items })
    } else {
        Err(Error::many(errors))
    }
}

/// For the interactive session: true when `text` is an unfinished item, so the
/// next line should be added to it: brackets are still open, a string is
/// unterminated, the last token cannot end an item (`1 +`, `LET x =`), or the only
/// parse errors are at the end of the text (`IF c { 1 }` still waits for `ELSE`).
pub fn needs_more_input(text: &str) -> bool {
    let lexed = lexer::lex(text);
    if lexed.unterminated_string {
        return true;
    }
    if !lexed.errors.is_empty() {
        return false;
    }
    let tokens = lexer::apply_line_breaks(lexed.tokens);
    let Some((last, _)) = tokens.last() else {
        return false;
    };
    if lexer::open_brackets(&tokens) > 0 {
        return true;
    }
    if *last == Token::Semi {
        return false;
    }
    if !last.can_end_expr() {
        return true;
    }
    let parsed = parse_inner(text);
    !parsed.errors.is_empty() && parsed.only_at_end
}

struct Parsed {
    items: Vec<Item>,
    errors: Vec<Error>,
    /// Every error is a syntax error that found the end of the input.
    only_at_end: bool,
}

fn parse_inner(text: &str) -> Parsed {
    let lexed = lexer::lex(text);
    let tokens = lexer::apply_line_breaks(lexed.tokens);
    let mut errors = lexed.errors;
    let min_literals: Rc<[u32]> = lexed.min_literals.into();

    let eoi = SimpleSpan::from(text.len()..text.len());
    let input = tokens.as_slice().map(eoi, |(t, s): &Spanned<'_>| (t, s));
    let (items, parse_errors) = grammar::program(min_literals.clone())
        .parse(input)
        .into_output_errors();
    let items = items.unwrap_or_default();
    let only_at_end = errors.is_empty()
        && !parse_errors.is_empty()
        && parse_errors.iter().all(|e| e.found == NO_TOKEN);
    errors.extend(
        parse_errors
            .into_iter()
            .filter_map(|e| e.into_error(&tokens, text)),
    );
    if !min_literals.is_empty() {
        unnegated_min_literals(&items, &min_literals, &mut errors);
    }
    errors.sort_by_key(|e| e.span().map(|s| (s.start, s.end)));
    errors.dedup_by(|a, b| a.span() == b.span() && a.message() == b.message());
    errors.truncate(MAX_ERRORS);
    Parsed {
        items,
        errors,
        only_at_end,
    }
}

/// `9223372036854775808` is valid only as the operand of `-`; the grammar folds
/// those, so any left (still `Int(i64::MIN)` spanning just the literal) are errors.
fn unnegated_min_literals(items: &[Item], min_literals: &[u32], errors: &mut Vec<Error>) {
    let mut stack: Vec<&Expr> = Vec::new();
    for item in items {
        match item {
            Item::Function(f) => {
                stack.extend(f.body.lets.iter().map(|l| &l.value));
                stack.push(&f.body.result);
            }
            Item::Let(l) => stack.push(&l.value),
            Item::Expr(e) => stack.push(e),
        }
    }
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Int(i64::MIN) if min_literals.binary_search(&e.span.start).is_ok() => {
                errors.push(
                    Error::new(ErrorKind::Parse, "integer literal too large")
                        .at(e.span)
                        .with_label("9223372036854775808 is only valid after `-`"),
                );
            }
            ExprKind::Unary(_, a) | ExprKind::Cast(a, _) => stack.push(a),
            ExprKind::Binary(_, a, b) | ExprKind::Try(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            ExprKind::Call(_, args) => stack.extend(args.iter()),
            ExprKind::If(c, t, o) => {
                stack.push(c);
                for b in [t, o] {
                    stack.extend(b.lets.iter().map(|l| &l.value));
                    stack.push(&b.result);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
