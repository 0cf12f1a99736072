//! Tokens and the (hand-written) lexer, plus the line-break rule that turns some
//! line breaks into item separators.
//!
//! The lexer never stops at an error: a bad character, number or escape is reported
//! and lexing goes on, so that one run reports every lexical error of a file. Bad
//! characters and numbers become [`Token::Error`], which the parser skips over
//! without reporting them a second time.

use crate::error::{Error, ErrorKind};
use crate::syntax::ast::Span;
use chumsky::span::SimpleSpan;

pub use crate::syntax::token::{Spanned, Token, TOKEN_KINDS};

const KEYWORDS: [(&str, Token<'static>); 16] = [
    ("CREATE", Token::Create),
    ("OR", Token::Or),
    ("REPLACE", Token::Replace),
    ("FUNCTION", Token::Function),
    ("RETURNS", Token::Returns),
    ("LET", Token::Let),
    ("IF", Token::If),
    ("ELSE", Token::Else),
    ("TRY", Token::Try),
    ("CATCH", Token::Catch),
    ("AND", Token::And),
    ("NOT", Token::Not),
    ("AS", Token::As),
    ("TRUE", Token::True),
    ("FALSE", Token::False),
    ("NULL", Token::Null),
];

/// What the lexer found.
#[derive(Debug, Default)]
pub struct Lexed<'s> {
    pub tokens: Vec<Spanned<'s>>,
    pub errors: Vec<Error>,
    /// A string literal runs to the end of the text.
    pub unterminated_string: bool,
    /// Start offsets of the literals whose value is exactly 2^63 (valid only negated).
    pub min_literals: Vec<u32>,
}

fn err(span: std::ops::Range<usize>, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Parse, message).at(Span::new(span.start, span.end))
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `text` into tokens. Comments are dropped; line breaks are kept as
/// [`Token::Newline`] (see [`apply_line_breaks`]).
pub fn lex(text: &str) -> Lexed<'_> {
    let bytes = text.as_bytes();
    let mut out = Lexed::default();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let single = |t: Token<'static>| (t, 1);
        let (tok, len) = match b {
            b'\n' => single(Token::Newline),
            b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' => {
                i = lex_string(text, i, &mut out);
                continue;
            }
            b'0'..=b'9' => {
                i = lex_number(text, i, &mut out);
                continue;
            }
            _ if is_ident_start(b) => {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| !is_ident_char(c))
                    .map_or(bytes.len(), |n| i + n);
                let word = &text[i..end];
                let tok = KEYWORDS
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(word))
                    .map_or(Token::Ident(word), |&(_, t)| t);
                (tok, end - i)
            }
            _ => {
                let next = bytes.get(i + 1).copied();
                match (b, next) {
                    (b'=', Some(b'=')) => (Token::EqEq, 2),
                    (b'=', Some(b'>')) => (Token::Arrow, 2),
                    (b'!', Some(b'=')) => (Token::NotEq, 2),
                    (b'<', Some(b'=')) => (Token::Le, 2),
                    (b'>', Some(b'=')) => (Token::Ge, 2),
                    (b'&', Some(b'&')) => (Token::AndAnd, 2),
                    (b'|', Some(b'|')) => (Token::OrOr, 2),
                    (b'?', Some(b'?')) => (Token::Coalesce, 2),
                    (b':', Some(b':')) => (Token::ColonColon, 2),
                    (b'+', _) => single(Token::Plus),
                    (b'-', _) => single(Token::Minus),
                    (b'*', _) => single(Token::Star),
                    (b'/', _) => single(Token::Slash),
                    (b'%', _) => single(Token::Percent),
                    (b'<', _) => single(Token::Lt),
                    (b'>', _) => single(Token::Gt),
                    (b'!', _) => single(Token::Bang),
                    (b'=', _) => single(Token::Assign),
                    (b',', _) => single(Token::Comma),
                    (b'(', _) => single(Token::LParen),
                    (b')', _) => single(Token::RParen),
                    (b'{', _) => single(Token::LBrace),
                    (b'}', _) => single(Token::RBrace),
                    (b';', _) => single(Token::Semi),
                    (b':', _) => single(Token::Colon),
                    (b'.', _) => single(Token::Dot),
                    _ => {
                        i = lex_unknown(text, i, &mut out);
                        continue;
                    }
                }
            }
        };
        out.tokens.push((tok, SimpleSpan::from(start..start + len)));
        i = start + len;
    }
    out
}

/// True if a token, a space or a comment can begin at byte `i`.
fn starts_something(bytes: &[u8], i: usize) -> bool {
    let b = bytes[i];
    match b {
        b'&' | b'|' | b'?' => bytes.get(i + 1) == Some(&b),
        _ => b.is_ascii_alphanumeric() || b"_\"#+-*/%<>!=,(){};:. \t\r\n\x0b\x0c".contains(&b),
    }
}

/// A run of characters that begin no token: one error for the whole run. Unicode
/// spaces are taken as spaces.
fn lex_unknown(text: &str, start: usize, out: &mut Lexed<'_>) -> usize {
    let first = text[start..].chars().next().unwrap_or(' ');
    if first.is_whitespace() {
        return start + first.len_utf8();
    }
    let mut end = start + first.len_utf8();
    for c in text[end..].chars() {
        if c.is_whitespace() || starts_something(text.as_bytes(), end) {
            break;
        }
        end += c.len_utf8();
    }
    let bad = &text[start..end];
    let shown: String = bad
        .chars()
        .map(|c| match c {
            c if c.is_control() => c.escape_debug().to_string(),
            c => c.to_string(),
        })
        .collect();
    let msg = if bad.chars().count() == 1 {
        format!("unexpected character `{shown}`")
    } else {
        format!("unexpected characters `{shown}`")
    };
    let hint = match bad {
        "&" => "did you mean `&&`?",
        "|" => "did you mean `||`?",
        "?" => "did you mean `??`?",
        "'" => "strings use double quotes",
        _ => "this is not part of the language",
    };
    out.errors.push(err(start..end, msg).with_label(hint));
    out.tokens
        .push((Token::Error, SimpleSpan::from(start..end)));
    end
}

/// `digits[.digits][e[+-]digits]`; returns where the literal ends.
fn lex_number(text: &str, start: usize, out: &mut Lexed<'_>) -> usize {
    let bytes = text.as_bytes();
    let digits_from = |i: usize| {
        bytes[i..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(bytes.len(), |n| i + n)
    };
    let mut end = digits_from(start);
    let mut is_float = false;
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits_from(end + 1);
        is_float = true;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            end = digits_from(j);
            is_float = true;
        }
    }
    // Letters or digits glued to a number (`12ab`, `1e`, `1.5x`) make it invalid.
    if bytes.get(end).is_some_and(|&b| is_ident_char(b)) {
        let bad_end = bytes[end..]
            .iter()
            .position(|&c| !is_ident_char(c))
            .map_or(bytes.len(), |n| end + n);
        let bad = &text[start..bad_end];
        out.errors.push(
            err(start..bad_end, format!("invalid number `{bad}`"))
                .with_label("a number cannot be followed by letters"),
        );
        out.tokens
            .push((Token::Error, SimpleSpan::from(start..bad_end)));
        return bad_end;
    }
    let lit = &text[start..end];
    let tok = if is_float {
        // Rust's parser rounds correctly; too large gives infinity.
        Token::Float(lit.parse::<f64>().unwrap_or(f64::INFINITY))
    } else {
        const MIN_MAGNITUDE: u64 = 1 << 63;
        match lit.parse::<u64>() {
            Ok(v) if v < MIN_MAGNITUDE => Token::Int(v),
            Ok(MIN_MAGNITUDE) => {
                out.min_literals.push(start as u32);
                Token::Int(MIN_MAGNITUDE)
            }
            _ => {
                out.errors.push(
                    err(start..end, "integer literal too large")
                        .with_label("the largest integer is 9223372036854775807"),
                );
                Token::Error
            }
        }
    };
    out.tokens.push((tok, SimpleSpan::from(start..end)));
    end
}

/// A string literal starting at the quote `start`; returns where it ends.
fn lex_string<'s>(text: &'s str, start: usize, out: &mut Lexed<'s>) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    loop {
        // Jump to the next quote or backslash.
        match bytes[i..].iter().position(|&c| c == b'"' || c == b'\\') {
            None => {
                out.errors.push(
                    err(start..start + 1, "unterminated string")
                        .with_label("this string is never closed"),
                );
                out.unterminated_string = true;
                return bytes.len();
            }
            Some(n) if bytes[i + n] == b'"' => {
                let end = i + n + 1;
                out.tokens.push((
                    Token::Str(&text[start + 1..end - 1]),
                    SimpleSpan::from(start..end),
                ));
                return end;
            }
            Some(n) => {
                let esc = i + n;
                match text[esc + 1..].chars().next() {
                    Some('\\' | '"' | 'n' | 't' | 'r') => i = esc + 2,
                    Some(c) => {
                        let end = esc + 1 + c.len_utf8();
                        out.errors.push(
                            err(
                                esc..end,
                                format!("unknown escape `\\{}` in string", c.escape_debug()),
                            )
                            .with_label(r#"valid escapes are \\ \" \n \t \r"#),
                        );
                        i = end;
                    }
                    None => i = esc + 1,
                }
            }
        }
    }
}

/// The contents of a string literal with its escapes resolved (`raw` is what
/// [`Token::Str`] holds; an unknown escape, already reported, keeps its character).
pub fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut s = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            s.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => s.push('\n'),
            Some('t') => s.push('\t'),
            Some('r') => s.push('\r'),
            Some(other) => s.push(other),
            None => {}
        }
    }
    s
}

/// Applies the line-break rule: a line break ends an item only outside all brackets,
/// when the token before it can end an expression and the token after it can begin
/// an item. Such breaks stay (one per run of blank lines); all others are dropped.
pub fn apply_line_breaks<'s>(tokens: Vec<Spanned<'s>>) -> Vec<Spanned<'s>> {
    let mut out: Vec<Spanned<'s>> = Vec::with_capacity(tokens.len());
    let mut depth = 0usize;
    let mut pending: Option<SimpleSpan> = None;
    for (tok, span) in tokens {
        if tok == Token::Newline {
            if depth == 0 && pending.is_none() {
                pending = Some(span);
            }
            continue;
        }
        if let Some(nl) = pending.take() {
            let before_ends = out.last().is_some_and(|(t, _)| t.can_end_expr());
            if before_ends && tok.can_begin_item() {
                out.push((Token::Newline, nl));
            }
        }
        match tok {
            Token::LParen | Token::LBrace => depth += 1,
            Token::RParen | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.push((tok, span));
    }
    out
}

/// The bracket depth at the end of the tokens (unmatched closers ignored).
pub fn open_brackets(tokens: &[Spanned<'_>]) -> usize {
    tokens.iter().fold(0usize, |depth, (t, _)| match t {
        Token::LParen | Token::LBrace => depth + 1,
        Token::RParen | Token::RBrace => depth.saturating_sub(1),
        _ => depth,
    })
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
