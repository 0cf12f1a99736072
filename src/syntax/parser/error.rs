//! The parser's internal error type.
//!
//! Chumsky reports, for the furthest position it reached, the set of things it
//! expected there. [`PErr`] keeps that set as a bit set over token kinds and
//! [`Expect`] labels (so errors are cheap to build and merge while parsing), plus
//! the innermost [`Ctx`] the error happened in. `PErr::into_error` (in
//! `messages.rs`) turns it into a sentence a person can read.

use crate::syntax::lexer::{Token, TOKEN_KINDS};
use chumsky::error::LabelError;
use chumsky::input::Input;
use chumsky::span::SimpleSpan;
use chumsky::util::MaybeRef;
use chumsky::DefaultExpected;

/// Things the parser can expect besides single tokens (used with `labelled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Expr = TOKEN_KINDS as isize,
    Operator,
    EndOfInput,
    Something,
    TypeName,
    FnName,
    ParamName,
    LetName,
    MethodName,
    OpenParams,
    CloseParams,
    CloseCall,
    CloseParen,
    OpenFnBody,
    FnArrow,
    CloseFnBody,
    OpenThen,
    CloseThen,
    OpenElse,
    CloseElse,
    ElseRequired,
    CatchRequired,
    LetAssign,
    LetSemi,
    BodyResult,
    ItemEnd,
    OrReplace,
}

/// The construct an error happened in (used with `labelled(..).as_context()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// The arguments of a call: starts at `(`, just after the callee's name.
    Call,
    /// Starts at `(`.
    Paren,
    /// Starts at the function's name.
    Function,
    /// Starts at `IF`.
    If,
    /// Starts at `LET`.
    Let,
}

/// A parse error as chumsky builds it. Kept small: chumsky creates, moves and
/// merges one for every alternative that fails.
#[derive(Clone, Debug)]
pub struct PErr {
    pub start: u32,
    pub end: u32,
    /// The kind of token found ([`NO_TOKEN`] for the end of the input).
    pub found: u8,
    /// Bits: token kinds and [`Expect`] labels.
    pub expected: Bits,
    /// The innermost context and where it starts.
    pub ctx: Option<(Ctx, u32)>,
    /// A complete message (and label), when the parser knows better than "expected".
    pub custom: Option<Box<(String, String)>>,
}

/// `found` at the end of the input.
pub const NO_TOKEN: u8 = u8::MAX;

/// A set of token kinds and [`Expect`] labels (bit n is kind n; labels follow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits([u64; 2]);

impl Bits {
    pub fn of(n: u8) -> Bits {
        let mut b = Bits::default();
        b.0[usize::from(n / 64) & 1] = 1 << (n % 64);
        b
    }
    pub fn has(self, n: u8) -> bool {
        self.0[usize::from(n / 64) & 1] & (1 << (n % 64)) != 0
    }
    pub fn or(self, other: Bits) -> Bits {
        Bits([self.0[0] | other.0[0], self.0[1] | other.0[1]])
    }
    pub(super) fn without(self, other: Bits) -> Bits {
        Bits([self.0[0] & !other.0[0], self.0[1] & !other.0[1]])
    }
    pub(super) fn is_empty(self) -> bool {
        self.0 == [0, 0]
    }
}

pub(super) fn bit(n: u8) -> Bits {
    Bits::of(n)
}

pub(super) fn expect_bit(e: Expect) -> Bits {
    bit(e as u8)
}

fn found_kind(found: Option<MaybeRef<'_, Token<'_>>>) -> u8 {
    found.map_or(NO_TOKEN, |t| t.kind())
}

impl PErr {
    /// An error at `span` that found `found` and expected `expected`.
    pub fn new(span: SimpleSpan, found: u8, expected: Bits) -> Self {
        PErr {
            start: span.start as u32,
            end: span.end as u32,
            found,
            expected,
            ctx: None,
            custom: None,
        }
    }

    /// An error with its own message.
    pub fn custom(span: SimpleSpan, message: impl Into<String>, label: impl Into<String>) -> Self {
        PErr {
            custom: Some(Box::new((message.into(), label.into()))),
            ..PErr::new(span, NO_TOKEN, Bits::default())
        }
    }

    pub(super) fn expects(&self, e: Expect) -> bool {
        self.expected.has(e as u8)
    }

    pub(super) fn expects_token(&self, t: Token<'_>) -> bool {
        self.expected.has(t.kind())
    }

    pub(super) fn found_is(&self, t: Token<'_>) -> bool {
        self.found == t.kind()
    }
}

fn expected_bits<'s, E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(expected: E) -> Bits {
    expected.into_iter().fold(Bits::default(), |acc, e| {
        acc.or(match e {
            DefaultExpected::Token(t) => bit(t.kind()),
            DefaultExpected::EndOfInput => expect_bit(Expect::EndOfInput),
            _ => expect_bit(Expect::Something),
        })
    })
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> chumsky::error::Error<'s, I> for PErr {
    fn merge(mut self, other: Self) -> Self {
        if self.custom.is_none() && other.custom.is_some() {
            self.custom = other.custom;
            (self.start, self.end) = (other.start, other.end);
        }
        self.expected = self.expected.or(other.expected);
        self.ctx = match (self.ctx, other.ctx) {
            (Some(a), Some(b)) if b.1 > a.1 => Some(b),
            (None, b) => b,
            (a, _) => a,
        };
        self
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>>
    LabelError<'s, I, DefaultExpected<'s, Token<'s>>> for PErr
{
    fn expected_found<E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(
        expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        PErr::new(span, found_kind(found), expected_bits(expected))
    }

    fn merge_expected_found<E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(
        mut self,
        expected: E,
        _found: Option<MaybeRef<'s, Token<'s>>>,
        _span: SimpleSpan,
    ) -> Self {
        self.expected = self.expected.or(expected_bits(expected));
        self
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> LabelError<'s, I, Expect> for PErr {
    fn expected_found<E: IntoIterator<Item = Expect>>(
        expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        let bits = expected
            .into_iter()
            .fold(Bits::default(), |acc, e| acc.or(expect_bit(e)));
        PErr::new(span, found_kind(found), bits)
    }

    fn label_with(&mut self, label: Expect) {
        if self.custom.is_none() {
            self.expected = expect_bit(label);
        }
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> LabelError<'s, I, Ctx> for PErr {
    fn expected_found<E: IntoIterator<Item = Ctx>>(
        _expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        PErr::new(span, found_kind(found), Bits::default())
    }

    fn in_context(&mut self, label: Ctx, span: SimpleSpan) {
        if self.ctx.is_none() {
            self.ctx = Some((label, span.start as u32));
        }
    }
}
