//! Messages a person reads, made from a [`PErr`]: "expected `)` after the
//! arguments of `add`" rather than a list of tokens.

use super::error::{bit, expect_bit, Bits, Ctx, Expect, PErr, NO_TOKEN};
use crate::error::{Error, ErrorKind};
use crate::syntax::ast::Span;
use crate::syntax::lexer::{Spanned, Token, TOKEN_KINDS};
use chumsky::span::SimpleSpan;

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
        OrReplace => "`OR REPLACE`",
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
    let many_ops = (0..TOKEN_KINDS)
        .filter(|&n| expected.has(n) && ops.has(n))
        .count()
        > 2;
    if many_ops {
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

const ALL_EXPECT: [Expect; 27] = {
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
        OrReplace,
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
            _ if self.custom.is_some() => SimpleSpan::from(self.start as usize..self.end as usize),
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
                let s = text
                    .get(self.start as usize..self.end as usize)
                    .unwrap_or("");
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
        let missing =
            |msg: String, what: &str| (msg, format!("expected {what}"), At::AfterPrevious);
        let same_line = !a.on_new_line(here);
        let found_tok = (self.found != NO_TOKEN).then(|| Token::of_kind(self.found));
        let starts_expr = found_tok.is_some_and(|t| t.can_begin_expr()) && same_line;
        let at_end = matches!(found_tok, None | Some(Token::Newline | Token::Semi));
        let name = a.name(self.ctx);
        if self.expects(ElseRequired) {
            return missing("`ELSE` is required after the `IF` branch".into(), "`ELSE`");
        }
        if self.expects(CatchRequired) {
            return missing(
                "expected `CATCH` after the `TRY` expression".into(),
                "`CATCH`",
            );
        }
        if self.expects(CloseCall) {
            if starts_expr {
                let msg = format!("expected `,` or `)` after an argument of {name}");
                return (msg, "expected `,` or `)` before this".into(), At::Found);
            }
            return missing(format!("expected `)` after the arguments of {name}"), "`)`");
        }
        if self.expects(CloseParams) && self.expects(ParamName) {
            let msg = format!("expected a parameter name or `)`, found {found}");
            return (msg, "expected a parameter name".into(), At::Found);
        }
        if self.expects(CloseParams) {
            if self.found_is(Token::Ident("")) && same_line {
                let msg = format!("expected `,` between the parameters of {name}");
                return (msg, "expected `,` before this".into(), At::Found);
            }
            return missing(
                format!("expected `)` after the parameters of {name}"),
                "`)`",
            );
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
            let branch = if self.expects(CloseThen) {
                "IF"
            } else {
                "ELSE"
            };
            let msg = format!("expected `}}` to close the `{branch}` branch");
            return (msg, brace_label("`}`"), At::AfterPrevious);
        }
        if self.expects(LetSemi) {
            let msg = format!("expected `;` after `LET {} = …`", name.trim_matches('`'));
            return (
                msg,
                "each `LET` in a body ends with `;`".into(),
                At::AfterPrevious,
            );
        }
        if self.expects(LetAssign) {
            return missing(
                format!("expected `=` after `LET {}`", name.trim_matches('`')),
                "`=`",
            );
        }
        if self.expects(OpenParams) {
            return missing(format!("expected `(` and the parameters of {name}"), "`(`");
        }
        if self.expects(OpenFnBody) {
            let what = if self.expects_token(Token::Returns) {
                "`RETURNS` or `{`"
            } else {
                "`{`"
            };
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
            return (
                msg,
                "expected an expression before `}`".into(),
                At::AfterPrevious,
            );
        }
        if self.expects(Expr) || self.expects(BodyResult) {
            if at_end {
                return name_of("an expression");
            }
            return (
                format!("unexpected {found}"),
                "expected an expression".into(),
                At::Found,
            );
        }
        if self.expects(ItemEnd) {
            let label = if self.expects(Operator)
                || !self.expected.without(expect_bit(ItemEnd)).is_empty()
            {
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
