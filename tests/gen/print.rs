//! Prints a syntax tree as source in a [`Style`]: keyword case, symbols (`&&`, `!`,
//! `::`), type-name synonyms, method calls, bodies over several lines, extra
//! parentheses, comments. Every style means the same tree: the round trip checks
//! that parsing the text gives back exactly the tree printed. The default style
//! writes what `grizzly::internals::syntax::pretty` writes, near enough, for readable failures.
//! Host function calls (`h_add(a, 1)`, or `a.h_add(1)` in the method style) print as
//! calls; a printed case begins with comments saying what the host functions it calls
//! do ([`host_comments`]) and how its run is interrupted ([`interrupt_comment`]).

use super::host::Host;
use super::program::{Interrupt, Style};
use grizzly::internals::syntax::ast::{
    BinaryOp, Body, DefStyle, Expr, ExprKind, FunctionDef, Item, Let, Program, TypeName, UnaryOp,
};
use std::fmt::Write as _;

/// Comment lines, one per host function in `hosts`, with its Rust signature and what
/// it does (they are defined in `tests/gen/host.rs`).
pub fn host_comments(hosts: &[Host]) -> String {
    let mut out = String::new();
    for h in hosts {
        let _ = writeln!(out, "# host function {}", h.describe());
    }
    out
}

/// A comment line saying how a case's interrupted run is stopped.
pub fn interrupt_comment(i: &Interrupt) -> String {
    let mode = ["eager", "on, threshold 1", "on, threshold calls/2"][usize::from(i.mode % 3)];
    if i.deadline {
        format!(
            "# interrupted run: jit={mode}, a deadline of {} µs per call from step {} \
             (modulo the steps)",
            i.micros, i.step
        )
    } else {
        format!(
            "# interrupted run: jit={mode}, an interrupt {} µs after step {} begins \
             (modulo the steps)",
            i.micros, i.step
        )
    }
}

/// Binding strengths, as in the pretty-printer: binary operators use
/// `BinaryOp::precedence` (2 to 8).
const TRY: u8 = 1;
const CAST: u8 = 9;
const PREFIX: u8 = 10;
const ATOM: u8 = 12;

struct Printer<'s> {
    style: &'s Style,
    out: String,
    indent: usize,
}

/// The program as text: one item per line (a function over several lines when the
/// style says so).
pub fn program(p: &Program, style: &Style) -> String {
    let mut pr = Printer {
        style,
        out: String::new(),
        indent: 0,
    };
    for item in &p.items {
        match item {
            Item::Function(f) => pr.function(f),
            Item::Let(l) => pr.let_binding(l),
            Item::Expr(e) => pr.expr(e, TRY),
        }
        pr.out.push('\n');
    }
    pr.out
}

impl Printer<'_> {
    fn kw(&mut self, word: &str) {
        match self.style.case % 3 {
            0 => self.out.push_str(word),
            1 => self.out.push_str(&word.to_lowercase()),
            _ => {
                let lower = word.to_lowercase();
                let mut cs = lower.chars();
                if let Some(c) = cs.next() {
                    self.out.push(c.to_ascii_uppercase());
                    self.out.push_str(cs.as_str());
                }
            }
        }
    }

    fn type_name(&mut self, t: TypeName) {
        let word = match (t, self.style.synonyms) {
            (TypeName::Int, true) => "integer",
            (TypeName::Float, true) => "double",
            (TypeName::Bool, true) => "boolean",
            (TypeName::Str, true) => "text",
            _ => t.name(),
        };
        if self.style.case.is_multiple_of(3) {
            self.out.push_str(word);
        } else {
            // Type names are case-insensitive too.
            self.out.push_str(&word.to_uppercase());
        }
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
    }

    fn function(&mut self, f: &FunctionDef) {
        if self.style.comments {
            let _ = write!(self.out, "# {}, {} parameters", f.name.name, f.params.len());
            self.out.push('\n');
        }
        let arrow = f.style == DefStyle::Arrow && f.body.lets.is_empty();
        match f.style {
            _ if arrow => self.kw("FUNCTION"),
            DefStyle::Create => self.kw("CREATE FUNCTION"),
            DefStyle::CreateOrReplace | DefStyle::Arrow => self.kw("CREATE OR REPLACE FUNCTION"),
        }
        let _ = write!(self.out, " {}(", f.name.name);
        for (i, p) in f.params.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out.push_str(&p.name.name);
            if let Some(t) = p.ty {
                self.out.push_str(": ");
                self.type_name(t);
            }
        }
        self.out.push(')');
        if let Some(t) = f.returns {
            self.out.push(' ');
            self.kw("RETURNS");
            self.out.push(' ');
            self.type_name(t);
        }
        if arrow {
            self.out.push_str(" => ");
            self.expr(&f.body.result, TRY);
        } else {
            self.out.push(' ');
            self.body(&f.body, true);
        }
    }

    fn let_binding(&mut self, l: &Let) {
        self.kw("LET");
        let _ = write!(self.out, " {} = ", l.name.name);
        self.expr(&l.value, TRY);
    }

    /// `{ LET a = e; result }`, on one line or (multiline style, or a function's body
    /// with `LET`s) one `LET` a line.
    fn body(&mut self, b: &Body, function: bool) {
        let multiline = self.style.multiline || (function && !b.lets.is_empty());
        self.out.push('{');
        self.indent += 1;
        for l in &b.lets {
            if multiline {
                self.newline();
            } else {
                self.out.push(' ');
            }
            self.let_binding(l);
            self.out.push(';');
            if self.style.comments && multiline {
                let _ = write!(self.out, " # {}", l.name.name);
            }
        }
        if multiline {
            self.newline();
        } else {
            self.out.push(' ');
        }
        self.expr(&b.result, TRY);
        self.indent -= 1;
        if multiline {
            self.newline();
        } else {
            self.out.push(' ');
        }
        self.out.push('}');
    }

    /// Writes `e`, in parentheses if it binds less tightly than `min` (or, in the
    /// parenthesised style, if it is an operand that is not an atom).
    fn expr(&mut self, e: &Expr, min: u8) {
        let s = strength(e);
        let parens = s < min || (self.style.parens && min > TRY && s < ATOM);
        if parens {
            self.out.push('(');
        }
        self.bare(e);
        if parens {
            self.out.push(')');
        }
    }

    fn bare(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(i64::MIN) => self.out.push_str("(-9223372036854775808)"),
            ExprKind::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            ExprKind::Float(v) if v.is_infinite() => self.out.push_str("1e999"),
            ExprKind::Float(v) => {
                let _ = write!(self.out, "{v:?}");
            }
            ExprKind::Bool(b) => self.kw(if *b { "TRUE" } else { "FALSE" }),
            ExprKind::Str(s) => string(&mut self.out, s),
            ExprKind::Null => self.kw("NULL"),
            ExprKind::Var(name) => self.out.push_str(name),
            ExprKind::Unary(op, operand) => {
                match (op, self.style.symbols) {
                    (UnaryOp::Neg, _) => self.out.push('-'),
                    (UnaryOp::Not, true) => self.out.push('!'),
                    (UnaryOp::Not, false) => {
                        self.kw("NOT");
                        self.out.push(' ');
                    }
                }
                // `- -1` rather than `--1`
                if *op == UnaryOp::Neg && starts_with_minus(operand) {
                    self.out.push(' ');
                }
                self.expr(operand, PREFIX);
            }
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                self.expr(l, p);
                self.out.push(' ');
                match (op, self.style.symbols) {
                    (BinaryOp::And, true) => self.out.push_str("&&"),
                    (BinaryOp::Or, true) => self.out.push_str("||"),
                    (BinaryOp::And | BinaryOp::Or, false) => self.kw(op.symbol()),
                    _ => self.out.push_str(op.symbol()),
                }
                self.out.push(' ');
                self.expr(r, p + 1);
            }
            ExprKind::Cast(operand, ty) => {
                self.expr(operand, CAST);
                if self.style.symbols {
                    self.out.push_str(" :: ");
                } else {
                    self.out.push(' ');
                    self.kw("AS");
                    self.out.push(' ');
                }
                self.type_name(*ty);
            }
            ExprKind::Call(f, args) => {
                let (receiver, rest) = match args.split_first() {
                    Some((first, rest)) if self.style.methods => (Some(first), rest),
                    _ => (None, &args[..]),
                };
                if let Some(r) = receiver {
                    // A receiver is a literal, name, call, IF or parenthesised.
                    let atom = strength(r) == ATOM && !matches!(r.kind, ExprKind::Int(v) if v < 0);
                    if atom {
                        self.bare(r);
                    } else {
                        self.out.push('(');
                        self.bare(r);
                        self.out.push(')');
                    }
                    self.out.push('.');
                }
                self.out.push_str(&f.name);
                self.out.push('(');
                for (i, a) in rest.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(a, TRY);
                }
                self.out.push(')');
            }
            ExprKind::If(cond, then, otherwise) => {
                self.kw("IF");
                self.out.push(' ');
                self.expr(cond, TRY);
                self.out.push(' ');
                self.body(then, false);
                self.out.push(' ');
                self.kw("ELSE");
                self.out.push(' ');
                match &otherwise.result.kind {
                    // `ELSE IF`: a body of just an `IF`.
                    ExprKind::If(..) if otherwise.lets.is_empty() => self.bare(&otherwise.result),
                    _ => self.body(otherwise, false),
                }
            }
            ExprKind::Try(a, b) => {
                self.kw("TRY");
                self.out.push(' ');
                self.expr(a, TRY);
                self.out.push(' ');
                self.kw("CATCH");
                self.out.push(' ');
                self.expr(b, TRY);
            }
        }
    }
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

/// Whether the printed form of `e` (as an operand of a prefix minus) begins with `-`.
fn starts_with_minus(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Unary(UnaryOp::Neg, _) => true,
        ExprKind::Int(v) => *v < 0 && *v != i64::MIN,
        _ => false,
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
