//! The parser's internal error type and the messages made from it.
//!
//! Chumsky reports, for the furthest position it reached, the set of things it
//! expected there. [`PErr`] keeps that set as a bit set over token kinds and
//! [`Expect`] labels (so errors are cheap to build and merge while parsing), plus
//! the innermost [`Ctx`] the error happened in. [`PErr::into_error`] turns it into a
//! sentence a person can read ("expected `)` after the arguments of `add`").

use crate::error::{Error, ErrorKind};
use crate::syntax::ast::Span;
use crate::syntax::lexer::{Spanned, Token, TOKEN_KINDS};
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
    fn without(self, other: Bits) -> Bits {
        Bits([self.0[0] & !other.0[0], self.0[1] & !other.0[1]])
    }
    fn intersects(self, other: Bits) -> bool {
        self.0[0] & other.0[0] != 0 || self.0[1] & other.0[1] != 0
    }
    fn is_empty(self) -> bool {
        self.0 == [0, 0]
    }
}

fn bit(n: u8) -> Bits {
    Bits::of(n)
}

fn expect_bit(e: Expect) -> Bits {
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

    fn expects(&self, e: Expect) -> bool {
        self.expected.has(e as u8)
    }

    fn expects_token(&self, t: Token<'_>) -> bool {
        self.expected.has(t.kind())
    }

    fn found_is(&self, t: Token<'_>) -> bool {
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
        if self.custom.is_none() {
            self.custom = other.custom;
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

/// Where the caret goes.
enum At {
    /// On the token found.
    Found,
    /// Just after the token before it (for something missing at the end of a line).
    AfterPrevious,
}

/// What a message needs to know about the tokens around an error.
struct Around<'a, 's> {
    tokens: &'a [Spanned<'s>],
    text: &'a str,
    /// Index of the first token at or after the error.
    index: usize,
}

impl<'s> Around<'_, 's> {
    fn previous(&self) -> Option<&Spanned<'s>> {
        self.index.checked_sub(1).and_then(|i| self.tokens.get(i))
    }

    /// "`+`", or "the start" when there is nothing before.
    fn previous_text(&self) -> String {
        match self.previous() {
            Some((t, s)) => match t {
                Token::Str(_) | Token::Int(_) | Token::Float(_) => {
                    format!("`{}`", &self.text[s.start..s.end])
                }
                t => t.to_string(),
            },
            None => "the start".to_string(),
        }
    }

    /// True if the error position is on a later line than the token before it.
    fn on_new_line(&self, span: SimpleSpan) -> bool {
        match self.previous() {
            Some((_, p)) => self.text[p.end..span.start.max(p.end)].contains('\n'),
            None => false,
        }
    }

    /// The name that a context's span starts at (or just after).
    fn name(&self, ctx: Option<(Ctx, u32)>) -> String {
        let Some((ctx, start)) = ctx else {
            return "the function".to_string();
        };
        let i = self
            .tokens
            .partition_point(|(_, s)| s.start < start as usize);
        let i = match ctx {
            Ctx::Function => i,
            Ctx::Call => i.wrapping_sub(1),
            Ctx::Let => i + 1,
            Ctx::Paren | Ctx::If => return "the function".to_string(),
        };
        match self.tokens.get(i) {
            Some((Token::Ident(n), _)) => format!("`{n}`"),
            _ => "the function".to_string(),
        }
    }
}

fn describe(e: Expect) -> &'static str {
    use Expect::*;
    match e {
        Expr | BodyResult => "an expression",
        Operator => "an operator",
        EndOfInput => "end of input",
        Something => "something else",
        TypeName => "a type",
        FnName | MethodName => "a function name",
        ParamName => "a parameter name",
        LetName => "a name",
        OpenParams => "`(`",
        CloseParams | CloseCall | CloseParen => "`)`",
        OpenFnBody | OpenThen => "`{`",
        FnArrow => "`=>`",
        CloseFnBody | CloseThen | CloseElse => "`}`",
        OpenElse => "`{` or `IF`",
        ElseRequired => "`ELSE`",
        CatchRequired => "`CATCH`",
        LetAssign => "`=`",
        LetSemi => "`;`",
        ItemEnd => "`;` or a line break",
    }
}

const OPERATOR_KINDS: [Token<'static>; 19] = [
    Token::Plus,
    Token::Minus,
    Token::Star,
    Token::Slash,
    Token::Percent,
    Token::EqEq,
    Token::NotEq,
    Token::Lt,
    Token::Le,
    Token::Gt,
    Token::Ge,
    Token::AndAnd,
    Token::OrOr,
    Token::And,
    Token::Or,
    Token::Coalesce,
    Token::As,
    Token::ColonColon,
    Token::Dot,
];

/// "A, B or C" from the expected set (operators summarised).
fn expected_list(expected: Bits) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut expected = expected;
    let ops = OPERATOR_KINDS
        .iter()
        .fold(Bits::default(), |acc, t| acc.or(bit(t.kind())));
    if expected.intersects(ops) {
        expected = expected.without(ops).or(expect_bit(Expect::Operator));
    }
    for n in 0..128u8 {
        if !expected.has(n) {
            continue;
        }
        let text = if n < TOKEN_KINDS {
            match Token::of_kind(n) {
                Token::Ident(_) => "a name".to_string(),
                Token::Int(_) | Token::Float(_) => "a number".to_string(),
                Token::Newline => "a line break".to_string(),
                t => t.to_string(),
            }
        } else {
            let e = ALL_EXPECT.iter().find(|e| **e as u8 == n);
            e.map_or("something else", |e| describe(*e)).to_string()
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    parts.truncate(6);
    match parts.len() {
        0 => "something else".to_string(),
        1 => parts.remove(0),
        n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

const ALL_EXPECT: [Expect; 26] = {
    use Expect::*;
    [
        Expr,
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
    ]
};

impl PErr {
    /// The error a person reads; `None` for an error at a token the lexer already
    /// reported.
    pub fn into_error(self, tokens: &[Spanned<'_>], text: &str) -> Option<Error> {
        if self.found_is(Token::Error) {
            return None;
        }
        let index = tokens.partition_point(|(_, s)| s.start < self.start as usize);
        // The span of the token found (chumsky's can be empty for some failures).
        let here = match tokens.get(index) {
            Some((_, s)) if self.found != NO_TOKEN => *s,
            _ => SimpleSpan::from(text.len()..text.len()),
        };
        let this = PErr {
            start: here.start as u32,
            end: here.end as u32,
            ..self
        };
        let around = Around {
            tokens,
            text,
            index,
        };
        let (message, label, at) = this.message(&around);
        let span = match at {
            At::AfterPrevious => match around.previous() {
                Some((_, p)) if this.found == NO_TOKEN || around.on_new_line(here) => {
                    let next = text[p.end..].chars().next().map_or(0, char::len_utf8);
                    SimpleSpan::from(p.end..p.end + next)
                }
                _ => here,
            },
            At::Found => here,
        };
        Some(
            Error::new(ErrorKind::Parse, message)
                .at(Span::new(span.start, span.end))
                .with_label(label),
        )
    }

    fn found_text(&self, text: &str) -> String {
        if self.found == NO_TOKEN {
            return "end of input".to_string();
        }
        match Token::of_kind(self.found) {
            Token::Ident(_) | Token::Int(_) | Token::Float(_) => {
                let s = text.get(self.start as usize..self.end as usize).unwrap_or("");
                format!("`{s}`")
            }
            t => t.to_string(),
        }
    }

    fn message(&self, a: &Around<'_, '_>) -> (String, String, At) {
        use Expect::*;
        if let Some(c) = &self.custom {
            return (c.0.clone(), c.1.clone(), At::Found);
        }
        let found = self.found_text(a.text);
        let here = SimpleSpan::from(self.start as usize..self.end as usize);
        let missing = |msg: String, what: &str| (msg, format!("expected {what}"), At::AfterPrevious);
        let same_line = !a.on_new_line(here);
        let found_tok = (self.found != NO_TOKEN).then(|| Token::of_kind(self.found));
        let starts_expr = found_tok.is_some_and(|t| t.can_begin_expr()) && same_line;
        let at_end = matches!(found_tok, None | Some(Token::Newline | Token::Semi));
        let name = a.name(self.ctx);
        if self.expects(ElseRequired) {
            return missing("`ELSE` is required after the `IF` branch".into(), "`ELSE`");
        }
        if self.expects(CatchRequired) {
            return missing("expected `CATCH` after the `TRY` expression".into(), "`CATCH`");
        }
        if self.expects(CloseCall) {
            if starts_expr {
                let msg = format!("expected `,` or `)` after an argument of {name}");
                return (msg, "expected `,` or `)` before this".into(), At::Found);
            }
            return missing(format!("expected `)` after the arguments of {name}"), "`)`");
        }
        if self.expects(CloseParams) {
            if self.found_is(Token::Ident("")) && same_line {
                let msg = format!("expected `,` between the parameters of {name}");
                return (msg, "expected `,` before this".into(), At::Found);
            }
            return missing(format!("expected `)` after the parameters of {name}"), "`)`");
        }
        if self.expects(CloseParen) {
            return missing("expected `)` to close the parenthesis".into(), "`)`");
        }
        let brace_label = |what: &str| {
            if self.found_is(Token::Semi) {
                "the result expression is not followed by `;`".to_string()
            } else {
                format!("expected {what}")
            }
        };
        if self.expects(CloseFnBody) {
            let msg = format!("expected `}}` to close the body of {name}");
            return (msg, brace_label("`}`"), At::AfterPrevious);
        }
        if self.expects(CloseThen) || self.expects(CloseElse) {
            let branch = if self.expects(CloseThen) { "IF" } else { "ELSE" };
            let msg = format!("expected `}}` to close the `{branch}` branch");
            return (msg, brace_label("`}`"), At::AfterPrevious);
        }
        if self.expects(LetSemi) {
            let msg = format!("expected `;` after `LET {} = …`", name.trim_matches('`'));
            return (msg, "each `LET` in a body ends with `;`".into(), At::AfterPrevious);
        }
        if self.expects(LetAssign) {
            return missing(format!("expected `=` after `LET {}`", name.trim_matches('`')), "`=`");
        }
        if self.expects(OpenParams) {
            return missing(format!("expected `(` and the parameters of {name}"), "`(`");
        }
        if self.expects(OpenFnBody) {
            let what = if self.expects_token(Token::Returns) { "`RETURNS` or `{`" } else { "`{`" };
            return missing(format!("expected `{{` to begin the body of {name}"), what);
        }
        if self.expects(FnArrow) {
            let msg = format!("expected `=>` after the parameters of {name}");
            if self.found_is(Token::LBrace) {
                let label = "a body in braces needs `CREATE FUNCTION`; `FUNCTION f(..)` is followed by `=> expr`";
                return (msg, label.into(), At::Found);
            }
            return missing(msg, "`=>`");
        }
        if self.expects(OpenThen) {
            return missing("expected `{` after the `IF` condition".into(), "`{`");
        }
        if self.expects(OpenElse) {
            return missing("expected `{` or `IF` after `ELSE`".into(), "`{` or `IF`");
        }
        let prev = a.previous_text();
        let name_of = |what: &str| missing(format!("expected {what} after {prev}"), what);
        if self.expects(TypeName) {
            let msg = format!("expected a type (int, float, bool or string) after {prev}");
            return (msg, "expected a type".into(), At::AfterPrevious);
        }
        if self.expects(FnName) || self.expects(MethodName) {
            return name_of("a function name");
        }
        if self.expects(ParamName) {
            return name_of("a parameter name");
        }
        if self.expects(LetName) {
            return name_of("a name");
        }
        if self.expects(BodyResult) && self.found_is(Token::RBrace) {
            let msg = "a body must end with a result expression".to_string();
            return (msg, "expected an expression before `}`".into(), At::AfterPrevious);
        }
        if self.expects(Expr) || self.expects(BodyResult) {
            if at_end {
                return name_of("an expression");
            }
            return (format!("unexpected {found}"), "expected an expression".into(), At::Found);
        }
        if self.expects(ItemEnd) {
            let label = if self.expects(Operator) || !self.expected.without(expect_bit(ItemEnd)).is_empty() {
                "expected an operator, `;` or a line break before this"
            } else {
                "expected `;` or a line break before this"
            };
            return (format!("unexpected {found}"), label.into(), At::Found);
        }
        let list = expected_list(self.expected);
        (
            format!("expected {list}, found {found}"),
            format!("expected {list}"),
            At::Found,
        )
    }
}
