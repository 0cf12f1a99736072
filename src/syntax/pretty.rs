//! The pretty-printer: source text that parses back to the same tree (spans aside).
//!
//! Parentheses are added only where precedence needs them. Floats print in the
//! shortest form that reads back bit-exactly (`{:?}`), infinity as `1e999`; the
//! integer minimum as `(-9223372036854775808)`. Trees the parser never builds
//! (negative or NaN float literals, negative integers other than the minimum, an
//! arrow function with `LET`s) still print as something sensible that parses.
//!
//! Printing recurses once per level of the tree, growing the stack as needed, so
//! arbitrarily deep trees print.

use crate::syntax::ast::{
    Body, DefStyle, Expr, ExprKind, FunctionDef, Ident, Item, Let, Param, Program, Span, UnaryOp,
};
use std::fmt::Write as _;
use std::sync::Arc;

/// Binding strength of the forms that are not binary operators (binary operators
/// use [`crate::syntax::ast::BinaryOp::precedence`], 2 to 8).
const TRY: u8 = 1;
const CAST: u8 = 9;
const PREFIX: u8 = 10;
const ATOM: u8 = 12;

/// Runs `f` with enough stack for one more level of a deep tree.
fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, f)
}

/// The whole program, one item per line.
pub fn program(p: &Program) -> String {
    let mut out = String::new();
    for item in &p.items {
        match item {
            Item::Function(f) => function(&mut out, f),
            Item::Let(l) => let_binding(&mut out, l),
            Item::Expr(e) => write_expr(&mut out, e, TRY),
        }
        out.push('\n');
    }
    out
}

/// One expression.
pub fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e, TRY);
    out
}

fn function(out: &mut String, f: &FunctionDef) {
    let arrow = f.style == DefStyle::Arrow && f.body.lets.is_empty();
    out.push_str(match f.style {
        _ if arrow => "FUNCTION ",
        DefStyle::Create => "CREATE FUNCTION ",
        DefStyle::CreateOrReplace | DefStyle::Arrow => "CREATE OR REPLACE FUNCTION ",
    });
    out.push_str(&f.name.name);
    out.push('(');
    for (i, Param { name, ty }) in f.params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&name.name);
        if let Some(t) = ty {
            let _ = write!(out, ": {}", t.name());
        }
    }
    out.push(')');
    if let Some(t) = f.returns {
        let _ = write!(out, " RETURNS {}", t.name());
    }
    if arrow {
        out.push_str(" => ");
        write_expr(out, &f.body.result, TRY);
        return;
    }
    out.push_str(" {\n");
    for l in &f.body.lets {
        out.push_str("    ");
        let_binding(out, l);
        out.push_str(";\n");
    }
    out.push_str("    ");
    write_expr(out, &f.body.result, TRY);
    out.push_str("\n}");
}

fn let_binding(out: &mut String, l: &Let) {
    let _ = write!(out, "LET {} = ", l.name.name);
    write_expr(out, &l.value, TRY);
}

/// `{ LET a = e; result }` on one line.
fn body(out: &mut String, b: &Body) {
    out.push_str("{ ");
    for l in &b.lets {
        let_binding(out, l);
        out.push_str("; ");
    }
    write_expr(out, &b.result, TRY);
    out.push_str(" }");
}

/// How tightly the printed form of `e` binds.
fn strength(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Try(..) => TRY,
        ExprKind::Binary(op, ..) => op.precedence(),
        ExprKind::Cast(..) => CAST,
        ExprKind::Unary(..) => PREFIX,
        _ => ATOM,
    }
}

/// Writes `e`, in parentheses if it binds less tightly than `min`.
fn write_expr(out: &mut String, e: &Expr, min: u8) {
    deep(|| {
        let parens = strength(e) < min;
        if parens {
            out.push('(');
        }
        write_bare(out, e);
        if parens {
            out.push(')');
        }
    })
}

fn write_bare(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Int(i64::MIN) => out.push_str("(-9223372036854775808)"),
        ExprKind::Int(v) if *v < 0 => {
            let _ = write!(out, "(-{})", v.unsigned_abs());
        }
        ExprKind::Int(v) => {
            let _ = write!(out, "{v}");
        }
        ExprKind::Float(v) => float(out, *v),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Str(s) => string(out, s),
        ExprKind::Null => out.push_str("null"),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Unary(op, operand) => {
            out.push_str(match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "NOT ",
            });
            write_expr(out, operand, PREFIX);
        }
        ExprKind::Binary(op, l, r) => {
            let p = op.precedence();
            write_expr(out, l, p);
            let _ = write!(out, " {} ", op.symbol());
            write_expr(out, r, p + 1);
        }
        ExprKind::Cast(operand, ty) => {
            write_expr(out, operand, CAST);
            let _ = write!(out, " AS {}", ty.name());
        }
        ExprKind::Call(f, args) => {
            out.push_str(&f.name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a, TRY);
            }
            out.push(')');
        }
        ExprKind::If(cond, then, otherwise) => {
            out.push_str("IF ");
            write_expr(out, cond, TRY);
            out.push(' ');
            body(out, then);
            out.push_str(" ELSE ");
            match &otherwise.result.kind {
                // `ELSE IF` is a body of just an `IF`.
                ExprKind::If(..) if otherwise.lets.is_empty() => {
                    write_expr(out, &otherwise.result, ATOM)
                }
                _ => body(out, otherwise),
            }
        }
        ExprKind::Try(a, b) => {
            out.push_str("TRY ");
            write_expr(out, a, TRY);
            out.push_str(" CATCH ");
            write_expr(out, b, TRY);
        }
    }
}

/// Shortest text that reads back to the same float.
fn float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("(0.0 / 0.0)");
    } else if v.is_sign_negative() {
        out.push_str("(-");
        float(out, -v);
        out.push(')');
    } else if v.is_infinite() {
        out.push_str("1e999");
    } else {
        // `{:?}` always has a `.` or an exponent, so it never reads back as an int.
        let _ = write!(out, "{v:?}");
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A copy of the program with every span zeroed, for comparing trees.
pub fn without_spans(p: &Program) -> Program {
    Program {
        items: p
            .items
            .iter()
            .map(|item| match item {
                Item::Function(f) => Item::Function(Arc::new(FunctionDef {
                    name: ident(&f.name),
                    params: f
                        .params
                        .iter()
                        .map(|p| Param {
                            name: ident(&p.name),
                            ty: p.ty,
                        })
                        .collect(),
                    returns: f.returns,
                    body: strip_body(&f.body),
                    style: f.style,
                    span: Span::default(),
                })),
                Item::Let(l) => Item::Let(strip_let(l)),
                Item::Expr(e) => Item::Expr(strip(e)),
            })
            .collect(),
    }
}

fn ident(i: &Ident) -> Ident {
    Ident {
        name: i.name.clone(),
        span: Span::default(),
    }
}

fn strip_let(l: &Let) -> Let {
    Let {
        name: ident(&l.name),
        value: strip(&l.value),
        span: Span::default(),
    }
}

fn strip_body(b: &Body) -> Body {
    Body {
        lets: b.lets.iter().map(strip_let).collect(),
        result: strip(&b.result),
        span: Span::default(),
    }
}

/// `e` with its spans zeroed.
pub fn strip(e: &Expr) -> Expr {
    deep(|| {
        let kind = match &e.kind {
            ExprKind::Unary(op, a) => ExprKind::Unary(*op, Box::new(strip(a))),
            ExprKind::Binary(op, a, b) => {
                ExprKind::Binary(*op, Box::new(strip(a)), Box::new(strip(b)))
            }
            ExprKind::Cast(a, t) => ExprKind::Cast(Box::new(strip(a)), *t),
            ExprKind::Call(f, args) => ExprKind::Call(ident(f), args.iter().map(strip).collect()),
            ExprKind::If(c, t, o) => ExprKind::If(
                Box::new(strip(c)),
                Box::new(strip_body(t)),
                Box::new(strip_body(o)),
            ),
            ExprKind::Try(a, b) => ExprKind::Try(Box::new(strip(a)), Box::new(strip(b))),
            ExprKind::Int(v) => ExprKind::Int(*v),
            ExprKind::Float(v) => ExprKind::Float(*v),
            ExprKind::Bool(v) => ExprKind::Bool(*v),
            ExprKind::Str(s) => ExprKind::Str(s.clone()),
            ExprKind::Null => ExprKind::Null,
            ExprKind::Var(n) => ExprKind::Var(n.clone()),
        };
        Expr::new(kind, Span::default())
    })
}

#[cfg(test)]
#[path = "pretty_tests.rs"]
mod tests;
