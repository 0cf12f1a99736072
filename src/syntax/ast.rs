//! The syntax tree. Every node carries the byte span of the source it came from.
//!
//! `e.f(a)` is desugared by the parser to `f(e, a)`; a negative integer literal that
//! only exists negated (`-9223372036854775808`) is folded into `Int(i64::MIN)`.

use std::fmt;
use std::sync::Arc;

/// A byte range `start..end` in the source text.
///
/// ```
/// let err = grizzly::Engine::new().run("1 + true").unwrap_err();
/// let span: grizzly::Span = err.span().unwrap();
/// assert_eq!(&err.source().unwrap().text[span.start as usize..span.end as usize], "1 + true");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The first byte.
    pub start: u32,
    /// The byte after the last.
    pub end: u32,
}

impl Span {
    /// The bytes from `start` up to `end` (offsets past `u32::MAX` are clamped).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }
    /// The same bytes as a range.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A type name as written in an annotation or cast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeName {
    Int,
    Float,
    Bool,
    Str,
    /// `number`: annotations only (int or float), never a cast target.
    Number,
}

impl TypeName {
    /// The canonical lower-case spelling, used in messages and by the pretty-printer.
    pub fn name(self) -> &'static str {
        match self {
            TypeName::Int => "int",
            TypeName::Float => "float",
            TypeName::Bool => "bool",
            TypeName::Str => "string",
            TypeName::Number => "number",
        }
    }

    /// Parses a type name (case-insensitive, synonyms accepted).
    pub fn from_word(word: &str) -> Option<TypeName> {
        match word.to_ascii_lowercase().as_str() {
            "int" | "integer" => Some(TypeName::Int),
            "float" | "double" => Some(TypeName::Float),
            "bool" | "boolean" => Some(TypeName::Bool),
            "string" | "text" => Some(TypeName::Str),
            "number" => Some(TypeName::Number),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-e`
    Neg,
    /// `NOT e` or `!e`
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `AND` / `&&`: short-circuit.
    And,
    /// `OR` / `||`: short-circuit.
    Or,
    /// `??`: the left value unless it is null or raised an error.
    Coalesce,
}

impl BinaryOp {
    /// Every operator, in declaration order.
    pub const ALL: [BinaryOp; 14] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Coalesce,
    ];

    /// The operator as the pretty-printer writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Coalesce => "??",
        }
    }

    /// `== != < <= > >=`
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// Binding strength, higher binds tighter (the contract's levels 2 to 8).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Coalesce => 2,
            BinaryOp::Or => 3,
            BinaryOp::And => 4,
            BinaryOp::Eq | BinaryOp::Ne => 5,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 6,
            BinaryOp::Add | BinaryOp::Sub => 7,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 8,
        }
    }
}

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Arc<str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    /// A float literal (never negative: a minus sign is a `Unary`).
    Float(f64),
    Bool(bool),
    Str(Arc<str>),
    Null,
    Var(Arc<str>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `e AS type` / `e :: type`; the type is never `Number`.
    Cast(Box<Expr>, TypeName),
    /// `f(args)`; `callee` keeps the span of the name.
    Call(Ident, Vec<Expr>),
    /// `IF cond { then } ELSE { otherwise }`; `ELSE IF` nests an `If` in `otherwise`.
    If(Box<Expr>, Box<Body>, Box<Body>),
    /// `TRY body CATCH handler`.
    Try(Box<Expr>, Box<Expr>),
}

/// `{ LET a = e; ...; result }`
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub lets: Vec<Let>,
    pub result: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeName>,
}

/// How a function definition was written; decides whether it may replace one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefStyle {
    /// `CREATE FUNCTION`: an error if the name is already defined.
    Create,
    /// `CREATE OR REPLACE FUNCTION`.
    CreateOrReplace,
    /// `FUNCTION f(..) => e`: always replaces.
    Arrow,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub returns: Option<TypeName>,
    pub body: Body,
    pub style: DefStyle,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Function(Arc<FunctionDef>),
    /// Top-level `LET name = expr`.
    Let(Let),
    Expr(Expr),
}

impl Item {
    #[cfg(test)]
    pub fn span(&self) -> Span {
        match self {
            Item::Function(f) => f.span,
            Item::Let(l) => l.span,
            Item::Expr(e) => e.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub items: Vec<Item>,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

/// Trees from hostile input can be millions of levels deep (`1+1+1+...`); the
/// compiler-generated drop would recurse once per level and overflow the stack.
/// Tearing the tree down with an explicit stack keeps every drop shallow.
impl Drop for Expr {
    fn drop(&mut self) {
        if !has_children(&self.kind) {
            return;
        }
        let mut pending = Vec::new();
        take_children(&mut self.kind, &mut pending);
        while let Some(mut e) = pending.pop() {
            take_children(&mut e.kind, &mut pending);
        }
    }
}

fn has_children(kind: &ExprKind) -> bool {
    matches!(
        kind,
        ExprKind::Unary(..)
            | ExprKind::Binary(..)
            | ExprKind::Cast(..)
            | ExprKind::Call(..)
            | ExprKind::If(..)
            | ExprKind::Try(..)
    )
}

fn take(e: &mut Expr) -> Expr {
    std::mem::replace(e, Expr::new(ExprKind::Null, e.span))
}

fn take_body(b: &mut Body, out: &mut Vec<Expr>) {
    out.extend(b.lets.iter_mut().map(|l| take(&mut l.value)));
    out.push(take(&mut b.result));
}

fn take_children(kind: &mut ExprKind, out: &mut Vec<Expr>) {
    match kind {
        ExprKind::Unary(_, e) | ExprKind::Cast(e, _) => out.push(take(e)),
        ExprKind::Binary(_, a, b) | ExprKind::Try(a, b) => {
            out.push(take(a));
            out.push(take(b));
        }
        ExprKind::Call(_, args) => out.append(args),
        ExprKind::If(c, t, e) => {
            out.push(take(c));
            take_body(t, out);
            take_body(e, out);
        }
        _ => {}
    }
}
