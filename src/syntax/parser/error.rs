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

/// A parse error as chumsky builds it.
#[derive(Clone, Debug)]
pub struct PErr<'s> {
    pub span: SimpleSpan,
    /// `None` is the end of the input.
    pub found: Option<Token<'s>>,
    /// Bits: token kinds and [`Expect`] labels.
    pub expected: u128,
    /// A complete message (and label), when the parser knows better than "expected".
    pub custom: Option<Box<(String, String)>>,
    /// The innermost context and the span from its start to the error.
    pub ctx: Option<(Ctx, SimpleSpan)>,
}

fn bit(n: u8) -> u128 {
    1u128 << n
}

fn expect_bit(e: Expect) -> u128 {
    bit(e as u8)
}

impl<'s> PErr<'s> {
    /// An error with its own message.
    pub fn custom(span: SimpleSpan, message: impl Into<String>, label: impl Into<String>) -> Self {
        PErr {
            span,
            found: None,
            expected: 0,
            custom: Some(Box::new((message.into(), label.into()))),
            ctx: None,
        }
    }

    fn expects(&self, e: Expect) -> bool {
        self.expected & expect_bit(e) != 0
    }

    fn expects_token(&self, t: Token<'_>) -> bool {
        self.expected & bit(t.kind()) != 0
    }
}

fn expected_bits<'s, E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(expected: E) -> u128 {
    expected.into_iter().fold(0, |acc, e| {
        acc | match e {
            DefaultExpected::Token(t) => bit(t.kind()),
            DefaultExpected::EndOfInput => expect_bit(Expect::EndOfInput),
            _ => expect_bit(Expect::Something),
        }
    })
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> chumsky::error::Error<'s, I>
    for PErr<'s>
{
    fn merge(mut self, other: Self) -> Self {
        if self.custom.is_none() {
            self.custom = other.custom;
        }
        self.expected |= other.expected;
        self.ctx = match (self.ctx, other.ctx) {
            (Some(a), Some(b)) if b.1.start > a.1.start => Some(b),
            (None, b) => b,
            (a, _) => a,
        };
        self
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>>
    LabelError<'s, I, DefaultExpected<'s, Token<'s>>> for PErr<'s>
{
    fn expected_found<E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(
        expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        PErr {
            span,
            found: found.map(|t| *t),
            expected: expected_bits(expected),
            custom: None,
            ctx: None,
        }
    }

    fn merge_expected_found<E: IntoIterator<Item = DefaultExpected<'s, Token<'s>>>>(
        mut self,
        expected: E,
        _found: Option<MaybeRef<'s, Token<'s>>>,
        _span: SimpleSpan,
    ) -> Self {
        self.expected |= expected_bits(expected);
        self
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> LabelError<'s, I, Expect>
    for PErr<'s>
{
    fn expected_found<E: IntoIterator<Item = Expect>>(
        expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        PErr {
            span,
            found: found.map(|t| *t),
            expected: expected.into_iter().fold(0, |acc, e| acc | expect_bit(e)),
            custom: None,
            ctx: None,
        }
    }

    fn label_with(&mut self, label: Expect) {
        if self.custom.is_none() {
            self.expected = expect_bit(label);
        }
    }
}

impl<'s, I: Input<'s, Token = Token<'s>, Span = SimpleSpan>> LabelError<'s, I, Ctx> for PErr<'s> {
    fn expected_found<E: IntoIterator<Item = Ctx>>(
        _expected: E,
        found: Option<MaybeRef<'s, Token<'s>>>,
        span: SimpleSpan,
    ) -> Self {
        PErr {
            span,
            found: found.map(|t| *t),
            expected: 0,
            custom: None,
            ctx: None,
        }
    }

    fn in_context(&mut self, label: Ctx, span: SimpleSpan) {
        if self.ctx.is_none() {
            self.ctx = Some((label, span));
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
    fn name(&self, ctx: Option<(Ctx, SimpleSpan)>) -> String {
        let Some((ctx, span)) = ctx else {
            return "the function".to_string();
        };
        let i = self.tokens.partition_point(|(_, s)| s.start < span.start);
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
fn expected_list(expected: u128) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut expected = expected;
    let ops = OPERATOR_KINDS.iter().fold(0, |acc, t| acc | bit(t.kind()));
    if expected & ops != 0 {
        expected = (expected & !ops) | expect_bit(Expect::Operator);
    }
    for n in 0..128u8 {
        if expected & bit(n) == 0 {
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

impl<'s> PErr<'s> {
    /// The error a person reads; `None` for an error at a token the lexer already
    /// reported.
    pub fn into_error(self, tokens: &[Spanned<'s>], text: &str) -> Option<Error> {
        if self.found == Some(Token::Error) {
            return None;
        }
        let index = tokens.partition_point(|(_, s)| s.start < self.span.start);
        let around = Around {
            tokens,
            text,
            index,
        };
        let (message, label, at) = self.message(&around);
        let span = match at {
            At::AfterPrevious => match around.previous() {
                Some((_, p)) if self.found.is_none() || around.on_new_line(self.span) => {
                    let next = text[p.end..].chars().next().map_or(0, char::len_utf8);
                    SimpleSpan::from(p.end..p.end + next)
                }
                _ => self.span,
            },
            At::Found => self.span,
        };
        Some(
            Error::new(ErrorKind::Parse, message)
                .at(Span::new(span.start, span.end))
                .with_label(label),
        )
    }

    fn found_text(&self) -> String {
        self.found
            .map_or_else(|| "end of input".to_string(), |t| t.to_string())
    }

    fn message(&self, a: &Around<'_, 's>) -> (String, String, At) {
        use Expect::*;
        if let Some(c) = &self.custom {
            return (c.0.clone(), c.1.clone(), At::Found);
        }
        let found = self.found_text();
        let missing = |msg: String, what: &str| (msg, format!("expected {what}"), At::AfterPrevious);
        let same_line = !a.on_new_line(self.span);
        let starts_expr = self.found.is_some_and(|t| t.can_begin_expr()) && same_line;
        let at_end = matches!(self.found, None | Some(Token::Newline | Token::Semi));
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
            if matches!(self.found, Some(Token::Ident(_))) && same_line {
                let msg = format!("expected `,` between the parameters of {name}");
                return (msg, "expected `,` before this".into(), At::Found);
            }
            return missing(format!("expected `)` after the parameters of {name}"), "`)`");
        }
        if self.expects(CloseParen) {
            return missing("expected `)` to close the parenthesis".into(), "`)`");
        }
        let brace_label = |what: &str| {
            if self.found == Some(Token::Semi) {
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
            if self.found == Some(Token::LBrace) {
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
        if self.expects(BodyResult) && self.found == Some(Token::RBrace) {
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
            let label = if self.expects(Operator) || self.expected & !expect_bit(ItemEnd) != 0 {
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
