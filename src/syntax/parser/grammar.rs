//! The chumsky grammar: tokens (after the line-break rule) to items.

use super::error::{Bits, Ctx, Expect, PErr, NO_TOKEN};
use crate::syntax::ast::{
    BinaryOp, Body, DefStyle, Expr, ExprKind, FunctionDef, Ident, Item, Let, Param, Span, TypeName,
    UnaryOp,
};
use crate::syntax::lexer::{unescape, Token};
use chumsky::input::ValueInput;
use chumsky::pratt::{infix, left, postfix, prefix};
use chumsky::prelude::*;
use std::rc::Rc;
use std::sync::Arc;

pub type Extra = extra::Err<PErr>;

fn sp(s: SimpleSpan) -> Span {
    Span::new(s.start, s.end)
}

fn node(kind: ExprKind, span: SimpleSpan) -> Box<Expr> {
    Box::new(Expr::new(kind, sp(span)))
}

/// A name as an [`Ident`].
fn name<'s, I>(what: Expect) -> impl Parser<'s, I, Ident, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    select! { Token::Ident(n) => n }
        .map_with(|n: &str, e| Ident {
            name: Arc::from(n),
            span: sp(e.span()),
        })
        .labelled(what)
}

/// A type name; `number` is allowed unless `cast`.
fn type_name<'s, I>(cast: bool) -> impl Parser<'s, I, TypeName, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    select! { Token::Ident(n) => n }
        .try_map(move |n: &str, span| match TypeName::from_word(n) {
            Some(TypeName::Number) if cast => Err(PErr::custom(
                span,
                "`number` is not a cast target",
                "cast to `int` or `float` instead",
            )),
            Some(t) => Ok(t),
            None => Err(PErr::custom(
                span,
                format!("unknown type `{n}`"),
                "the types are int, float, bool and string",
            )),
        })
        .labelled(Expect::TypeName)
}

/// `LET name = value`, with the `;` that ends it inside a body.
fn let_binding<'s, I, P>(expr: P, in_body: bool) -> impl Parser<'s, I, Let, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
    P: Parser<'s, I, Expr, Extra> + Clone + 's,
{
    let end = if in_body {
        just(Token::Semi)
            .labelled(Expect::LetSemi)
            .ignored()
            .boxed()
    } else {
        empty().boxed()
    };
    just(Token::Let)
        .map_with(|_, e| e.span())
        .then(name(Expect::LetName))
        .then_ignore(just(Token::Assign).labelled(Expect::LetAssign))
        .then(expr)
        .then_ignore(end)
        .map(|((start, name), value): ((SimpleSpan, Ident), Expr)| Let {
            span: Span::new(start.start, value.span.end as usize),
            name,
            value,
        })
        .labelled(Ctx::Let)
        .as_context()
}

/// `{ LET a = e; ... result }`; `open` and `close` label the braces.
fn body<'s, I, P>(expr: P, open: Expect, close: Expect) -> impl Parser<'s, I, Body, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
    P: Parser<'s, I, Expr, Extra> + Clone + 's,
{
    just(Token::LBrace)
        .labelled(open)
        .ignore_then(
            let_binding(expr.clone(), true)
                .repeated()
                .collect::<Vec<Let>>(),
        )
        .then(expr.labelled(Expect::BodyResult))
        .then_ignore(just(Token::RBrace).labelled(close))
        .map_with(|(lets, result), e| Body {
            lets,
            result,
            span: sp(e.span()),
        })
}

/// Folds a binary operator.
fn fold_binary<'s, 'b, I>(
    l: Box<Expr>,
    op: BinaryOp,
    r: Box<Expr>,
    e: &mut chumsky::input::MapExtra<'s, 'b, I, Extra>,
) -> Box<Expr>
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    node(ExprKind::Binary(op, l, r), e.span())
}

/// `-` applied to an operand: the literal 2^63 (still `Int(i64::MIN)` with its own
/// span, its start listed in `min_literals`) becomes the minimum; anything else stays
/// a negation.
fn negate(mut operand: Box<Expr>, span: SimpleSpan, min_literals: &[u32]) -> Box<Expr> {
    let is_min_literal = matches!(operand.kind, ExprKind::Int(i64::MIN))
        && min_literals.binary_search(&operand.span.start).is_ok();
    if is_min_literal {
        operand.span = sp(span);
        operand
    } else {
        node(ExprKind::Unary(UnaryOp::Neg, operand), span)
    }
}

/// The expression parser (all of section 4 of the contract).
pub fn expression<'s, I>(min_literals: Rc<[u32]>) -> impl Parser<'s, I, Expr, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    boxed_expression(min_literals).map(|e| *e)
}

/// Expressions are built as `Box<Expr>`: the pratt parser moves its operands
/// through every operator it tries, and a box is much cheaper to move than an
/// `Expr` (it matters without optimisations); operands are boxed in the tree anyway.
fn boxed_expression<'s, I>(min_literals: Rc<[u32]>) -> impl Parser<'s, I, Box<Expr>, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    recursive(move |expr| {
        let unboxed = expr.clone().map(|e: Box<Expr>| *e);
        let args = unboxed
            .clone()
            .separated_by(just(Token::Comma))
            .collect::<Vec<Expr>>()
            .delimited_by(
                just(Token::LParen),
                just(Token::RParen).labelled(Expect::CloseCall),
            )
            .labelled(Ctx::Call)
            .as_context();

        let if_expr = recursive(|if_expr| {
            let else_part = choice((
                body(unboxed.clone(), Expect::OpenElse, Expect::CloseElse),
                if_expr.map(|e: Box<Expr>| Body {
                    lets: Vec::new(),
                    span: e.span,
                    result: *e,
                }),
            ))
            .labelled(Expect::OpenElse);
            just(Token::If)
                .ignore_then(expr.clone())
                .then(body(unboxed.clone(), Expect::OpenThen, Expect::CloseThen))
                .then_ignore(just(Token::Else).labelled(Expect::ElseRequired))
                .then(else_part)
                .map_with(|((cond, then), otherwise), e| {
                    node(
                        ExprKind::If(cond, Box::new(then), Box::new(otherwise)),
                        e.span(),
                    )
                })
                .labelled(Ctx::If)
                .as_context()
        });

        let literal = select! {
            Token::Int(v) => ExprKind::Int(v as i64),
            Token::Float(v) => ExprKind::Float(v),
            Token::Str(s) => ExprKind::Str(Arc::from(unescape(s))),
            Token::True => ExprKind::Bool(true),
            Token::False => ExprKind::Bool(false),
            Token::Null => ExprKind::Null,
        }
        .map_with(|k, e| node(k, e.span()));

        let call_or_var =
            name(Expect::Expr)
                .then(args.clone().or_not())
                .map_with(|(f, args), e| match args {
                    Some(args) => node(ExprKind::Call(f, args), e.span()),
                    None => Box::new(Expr::new(ExprKind::Var(f.name), f.span)),
                });

        let paren = expr
            .clone()
            .delimited_by(
                just(Token::LParen),
                just(Token::RParen).labelled(Expect::CloseParen),
            )
            .labelled(Ctx::Paren)
            .as_context();

        let try_operand = just(Token::Try).try_map(|_, span| {
            Err::<Box<Expr>, _>(PErr::custom(
                span,
                "`TRY` must be in parentheses when it is an operand",
                "write `(TRY a CATCH b)` here",
            ))
        });

        // Method calls are parsed with their receiver here, not as a pratt postfix
        // operator: a postfix that fails after consuming input is retried by every
        // enclosing prefix level, which is exponential for `-x.f(-x.f(-x.f(...`.
        let method = operator(DOT_OP)
            .ignore_then(name(Expect::MethodName))
            .then(args);
        let atom = choice((literal, call_or_var, paren, if_expr, try_operand))
            .foldl_with(
                method.repeated(),
                |lhs: Box<Expr>, (f, args): (Ident, Vec<Expr>), e| {
                    let mut all = Vec::with_capacity(args.len() + 1);
                    all.push(*lhs);
                    all.extend(args);
                    node(ExprKind::Call(f, all), e.span())
                },
            )
            .boxed();

        let mins = min_literals.clone();
        let operators = atom.pratt((
            prefix(10, operator(NEG_OP), move |_, rhs, e| {
                negate(rhs, e.span(), &mins)
            }),
            prefix(10, operator(NOT_OPS), |_, rhs, e| {
                node(ExprKind::Unary(UnaryOp::Not, rhs), e.span())
            }),
            postfix(
                9,
                operator(CAST_OPS).ignore_then(type_name(true)),
                |lhs, ty, e| node(ExprKind::Cast(lhs, ty), e.span()),
            ),
            infix(left(8), operator(MUL_OPS), fold_binary),
            infix(left(7), operator(ADD_OPS), fold_binary),
            infix(left(6), operator(CMP_OPS), fold_binary),
            infix(left(5), operator(EQ_OPS), fold_binary),
            infix(left(4), operator(AND_OPS), fold_binary),
            infix(left(3), operator(OR_OPS), fold_binary),
            infix(left(2), operator(COALESCE_OPS), fold_binary),
        ));

        let try_expr = just(Token::Try)
            .ignore_then(expr.clone())
            .then_ignore(just(Token::Catch).labelled(Expect::CatchRequired))
            .then(expr)
            .map_with(|(body, handler), e| node(ExprKind::Try(body, handler), e.span()));

        choice((try_expr, operators)).labelled(Expect::Expr)
    })
}

/// One of the operators in `table` (a single look at the next token; a mismatch
/// expects "an operator").
fn operator<'s, I, T>(table: &'static [(Token<'static>, T)]) -> impl Parser<'s, I, T, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
    T: Copy + 's,
{
    custom(move |inp| {
        let start = inp.cursor();
        let tok = inp.peek();
        if let Some(&(_, out)) = tok.and_then(|t| table.iter().find(|(op, _)| *op == t)) {
            inp.skip();
            return Ok(out);
        }
        let span = inp.span_since(&start);
        let found = tok.map_or(NO_TOKEN, |t| t.kind());
        Err(PErr::new(span, found, Bits::of(Expect::Operator as u8)))
    })
}

const DOT_OP: &[(Token<'static>, ())] = &[(Token::Dot, ())];
const NEG_OP: &[(Token<'static>, ())] = &[(Token::Minus, ())];
const NOT_OPS: &[(Token<'static>, ())] = &[(Token::Not, ()), (Token::Bang, ())];
const CAST_OPS: &[(Token<'static>, ())] = &[(Token::As, ()), (Token::ColonColon, ())];
const MUL_OPS: &[(Token<'static>, BinaryOp)] = &[
    (Token::Star, BinaryOp::Mul),
    (Token::Slash, BinaryOp::Div),
    (Token::Percent, BinaryOp::Rem),
];
const ADD_OPS: &[(Token<'static>, BinaryOp)] =
    &[(Token::Plus, BinaryOp::Add), (Token::Minus, BinaryOp::Sub)];
const CMP_OPS: &[(Token<'static>, BinaryOp)] = &[
    (Token::Lt, BinaryOp::Lt),
    (Token::Le, BinaryOp::Le),
    (Token::Gt, BinaryOp::Gt),
    (Token::Ge, BinaryOp::Ge),
];
const EQ_OPS: &[(Token<'static>, BinaryOp)] =
    &[(Token::EqEq, BinaryOp::Eq), (Token::NotEq, BinaryOp::Ne)];
const AND_OPS: &[(Token<'static>, BinaryOp)] =
    &[(Token::And, BinaryOp::And), (Token::AndAnd, BinaryOp::And)];
const OR_OPS: &[(Token<'static>, BinaryOp)] =
    &[(Token::Or, BinaryOp::Or), (Token::OrOr, BinaryOp::Or)];
const COALESCE_OPS: &[(Token<'static>, BinaryOp)] = &[(Token::Coalesce, BinaryOp::Coalesce)];

/// The whole program: items separated by `;` or (kept) line breaks.
pub fn program<'s, I>(min_literals: Rc<[u32]>) -> impl Parser<'s, I, Vec<Item>, Extra>
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    let expr = expression::<I>(min_literals).boxed();

    let param = name(Expect::ParamName)
        .then(just(Token::Colon).ignore_then(type_name(false)).or_not())
        .map(|(name, ty)| Param { name, ty });
    let params = param
        .separated_by(just(Token::Comma))
        .collect::<Vec<Param>>()
        .delimited_by(
            just(Token::LParen).labelled(Expect::OpenParams),
            just(Token::RParen).labelled(Expect::CloseParams),
        );
    let signature = name(Expect::FnName)
        .then(params)
        .then(just(Token::Returns).ignore_then(type_name(false)).or_not());

    let let_stmt = let_binding(expr.clone(), false);
    let body = body(expr.clone(), Expect::OpenFnBody, Expect::CloseFnBody);

    let style = just(Token::Create)
        .ignore_then(
            just(Token::Or)
                .labelled(Expect::OrReplace)
                .then(just(Token::Replace))
                .or_not(),
        )
        .then_ignore(just(Token::Function))
        .map(|replace| {
            if replace.is_some() {
                DefStyle::CreateOrReplace
            } else {
                DefStyle::Create
            }
        });
    let create = style
        .then(
            signature
                .clone()
                .then(body)
                .labelled(Ctx::Function)
                .as_context(),
        )
        .map_with(|(style, (((name, params), returns), body)), e| {
            Item::Function(Arc::new(FunctionDef {
                name,
                params,
                returns,
                body,
                style,
                span: sp(e.span()),
            }))
        });
    let arrow = just(Token::Function)
        .ignore_then(
            signature
                .then_ignore(just(Token::Arrow).labelled(Expect::FnArrow))
                .then(expr.clone())
                .labelled(Ctx::Function)
                .as_context(),
        )
        .map_with(|(((name, params), returns), result), e| {
            Item::Function(Arc::new(FunctionDef {
                name,
                params,
                returns,
                body: Body {
                    lets: Vec::new(),
                    span: result.span,
                    result,
                },
                style: DefStyle::Arrow,
                span: sp(e.span()),
            }))
        });

    let separator = just(Token::Semi).or(just(Token::Newline)).ignored();
    let item_end = separator.or(end()).rewind().labelled(Expect::ItemEnd);
    let item = choice((create, arrow, let_stmt.map(Item::Let), expr.map(Item::Expr)))
        .then_ignore(item_end)
        .recover_with(via_parser(skip_item()));

    item.or_not()
        .separated_by(separator)
        .collect::<Vec<Option<Item>>>()
        .then_ignore(end())
        .map(|items| items.into_iter().flatten().collect())
}

/// Recovery: skips at least one token, up to the next separator outside brackets.
fn skip_item<'s, I>() -> impl Parser<'s, I, Item, Extra> + Clone
where
    I: ValueInput<'s, Token = Token<'s>, Span = SimpleSpan>,
{
    custom(|inp| {
        let start = inp.cursor();
        let mut depth = 0usize;
        let mut skipped = 0usize;
        loop {
            match inp.peek() {
                None => break,
                Some(Token::Semi | Token::Newline) if depth == 0 => break,
                Some(Token::LParen | Token::LBrace) => depth += 1,
                Some(Token::RParen | Token::RBrace) => depth = depth.saturating_sub(1),
                Some(_) => {}
            }
            inp.skip();
            skipped += 1;
        }
        let span = inp.span_since(&start);
        if skipped == 0 {
            let found = inp.peek().map_or(NO_TOKEN, |t: Token<'s>| t.kind());
            return Err(PErr::new(span, found, Bits::default()));
        }
        Ok(Item::Expr(Expr::new(ExprKind::Null, sp(span))))
    })
}
