//! The programs the differential tests generate: a few functions `f0`, `f1`, ... where
//! function `k` may call the functions before it, and the calls to make. Expressions
//! name their callees by id and a self call (`Recur`) leaves its counter argument
//! implicit, so that shrinking cannot break the termination argument; [`Case::ast`]
//! lowers everything to Grizzly's own syntax tree (spans zeroed), which
//! [`super::print`] prints and the round trip compares against.
//!
//! A counted function (`Shape::Counted`) has the counter `n` as its first parameter
//! and the body `{ LETs; IF n > 0 { step } ELSE { base } }`; every self call in `step`
//! passes `min(n, K) - 1` as the new counter. Whatever `n` is (NaN, inf, a string),
//! the recursion ends: `n > 0` is false for NaN, a type error for a non-number, and
//! `min(n, K) - 1 < K` otherwise, so there are at most `K + 1` levels.

use super::host::Host;
use grizzly::internals::syntax::ast::{
    self, BinaryOp, DefStyle, ExprKind, FunctionDef, Ident, Item, Param as AstParam, Span,
    TypeName, UnaryOp,
};
use grizzly::Value;
use std::sync::Arc;

/// The type an expression is generated for (wrong-typed arguments and the odd
/// ill-typed node make the value's type differ at run time: that is the point).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
}

impl Ty {
    pub const ALL: [Ty; 3] = [Ty::Int, Ty::Float, Ty::Bool];

    pub fn name(self) -> TypeName {
        match self {
            Ty::Int => TypeName::Int,
            Ty::Float => TypeName::Float,
            Ty::Bool => TypeName::Bool,
        }
    }

    /// The simplest constant of this type (what shrinking replaces expressions by).
    pub fn zero(self) -> Expr {
        match self {
            Ty::Int => Expr::Int(0),
            Ty::Float => Expr::Float(0.0),
            Ty::Bool => Expr::Bool(false),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Abs,
    Min,
    Max,
    Sqrt,
    Floor,
    Ceil,
    Round,
    Pow,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Abs => "abs",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Sqrt => "sqrt",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
            Builtin::Round => "round",
            Builtin::Pow => "pow",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Null,
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    /// Arithmetic, comparisons, `AND`, `OR` and `??`.
    Bin(BinaryOp, Box<Expr>, Box<Expr>),
    Cast(Box<Expr>, Ty),
    Builtin(Builtin, Vec<Expr>),
    /// A call of the function with this id (always an earlier one).
    Call(usize, Vec<Expr>),
    /// A self call of a counted function: the arguments after the counter.
    Recur(Vec<Expr>),
    /// A call of a host function (`super::host`), maybe with the wrong number or
    /// types of arguments.
    Host(Host, Vec<Expr>),
    If(Box<Expr>, Box<Body>, Box<Body>),
    Try(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug)]
pub struct Let {
    pub name: String,
    /// The type the value was generated for.
    pub ty: Ty,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct Body {
    pub lets: Vec<Let>,
    pub result: Expr,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    pub annotation: Option<TypeName>,
}

/// `IF <cond> { step } ELSE { base }` over the counter `n` (first parameter).
#[derive(Clone, Debug)]
pub struct Counted {
    /// `K`: at most `K + 1` levels.
    pub limit: i64,
    /// How the condition is written: `n > 0`, `0 < n`, `n >= 1`, `1 <= n` (all false
    /// for NaN).
    pub cond: u8,
    /// How the new counter is written: `min(n, K) - 1` or `min(n - 1, K)`.
    pub decrement: u8,
    pub step: Body,
    pub base: Body,
}

#[derive(Clone, Debug)]
pub enum Shape {
    Plain(Expr),
    Counted(Counted),
}

#[derive(Clone, Debug)]
pub struct Function {
    pub id: usize,
    pub params: Vec<Param>,
    /// The type the body was generated for.
    pub ret: Ty,
    pub returns: Option<TypeName>,
    pub style: DefStyle,
    /// The body's `LET`s (before the `IF` of a counted function).
    pub lets: Vec<Let>,
    pub shape: Shape,
}

/// Surface syntax choices: the same tree written in other ways, for the parser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Keywords: 0 upper case, 1 lower case, 2 capitalised.
    pub case: u8,
    /// `&&`, `||`, `!`, `::` instead of `AND`, `OR`, `NOT`, `AS`.
    pub symbols: bool,
    /// `integer`, `double`, `boolean` instead of `int`, `float`, `bool`.
    pub synonyms: bool,
    /// `a.f(b)` instead of `f(a, b)`.
    pub methods: bool,
    /// Bodies over several lines.
    pub multiline: bool,
    /// Parentheses around every operand that is not an atom.
    pub parens: bool,
    /// A comment line before each function and after each `LET`.
    pub comments: bool,
}

#[derive(Clone, Debug)]
pub struct Program {
    pub functions: Vec<Function>,
    pub style: Style,
}

/// One call of the sequence: `f<func>(args)`, made twice in a row if `twice`.
#[derive(Clone, Debug)]
pub struct Call {
    pub func: usize,
    pub args: Vec<Value>,
    pub twice: bool,
}

/// A function defined again (same name and parameters, another body) before call
/// `at` of the sequence: compiled code of it and of its callers must go.
#[derive(Clone, Debug)]
pub struct Redefinition {
    pub at: usize,
    pub function: Function,
}

/// A second run of the steps on a JIT engine that is stopped at a random point
/// (`super::run::interrupted`): from step `step` (modulo the number of steps) on, by
/// a second thread's `InterruptHandle::interrupt` `micros` microseconds after that
/// step begins, or by a deadline of `micros` microseconds on every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupt {
    /// The JIT mode: 0 eager, 1 on with threshold 1, 2 on with the mid threshold.
    pub mode: u8,
    /// The step (from 0) before which the interrupter is armed.
    pub step: u8,
    pub micros: u32,
    /// A deadline rather than an interrupt handle.
    pub deadline: bool,
}

/// What one differential test runs: a program, its calls (with maybe a redefinition
/// among them), the call-depth limit, and maybe an interrupted run.
#[derive(Clone)]
pub struct Case {
    pub program: Program,
    pub calls: Vec<Call>,
    pub redefine: Option<Redefinition>,
    pub max_depth: u32,
    pub interrupt: Option<Interrupt>,
}

/// One step after the definitions: a call, or a redefinition.
#[derive(Clone, Copy, Debug)]
pub enum Step<'c> {
    Call(usize, &'c [Value]),
    Define(&'c Function),
}

/// Limits from which a counted function is "deep": it runs up to the call-depth
/// limit (or far beyond, as a loop), so only top-level calls call it.
pub const DEEP: i64 = 5000;

pub fn fname(id: usize) -> String {
    format!("f{id}")
}

impl Program {
    pub fn function(&self, id: usize) -> Option<&Function> {
        self.functions.iter().find(|f| f.id == id)
    }

    /// The function definitions as a syntax tree.
    pub fn ast(&self) -> ast::Program {
        ast::Program {
            items: self
                .functions
                .iter()
                .map(|f| Item::Function(Arc::new(f.def())))
                .collect(),
        }
    }
}

impl Case {
    /// The steps after the definitions: the calls (the repeated ones spelled out) and
    /// the redefinition before call `at`.
    pub fn steps(&self) -> Vec<Step<'_>> {
        let mut out = Vec::new();
        for (i, c) in self.calls.iter().enumerate() {
            match &self.redefine {
                Some(r) if r.at == i => out.push(Step::Define(&r.function)),
                _ => {}
            }
            for _ in 0..1 + usize::from(c.twice) {
                out.push(Step::Call(c.func, c.args.as_slice()));
            }
        }
        out
    }

    /// The calls of [`Case::steps`].
    pub fn sequence(&self) -> Vec<(usize, &[Value])> {
        self.steps()
            .into_iter()
            .filter_map(|s| match s {
                Step::Call(f, args) => Some((f, args)),
                Step::Define(_) => None,
            })
            .collect()
    }

    /// The items of [`Case::steps`].
    pub fn step_items(&self) -> Vec<Item> {
        self.steps()
            .into_iter()
            .map(|s| match s {
                Step::Call(func, args) => Item::Expr(node(ExprKind::Call(
                    ident(&fname(func)),
                    args.iter().map(literal).collect(),
                ))),
                Step::Define(f) => Item::Function(Arc::new(f.def())),
            })
            .collect()
    }

    /// The host functions the program calls, each once, in order.
    pub fn hosts(&self) -> Vec<Host> {
        let mut out = Vec::new();
        let mut visit = |e: &Expr| {
            if let Expr::Host(h, _) = e {
                out.push(*h);
            }
        };
        for f in self
            .program
            .functions
            .iter()
            .chain(self.redefine.iter().map(|r| &r.function))
        {
            walk_function(f, &mut visit);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The whole program: definitions, then one step per line.
    pub fn ast(&self) -> ast::Program {
        let mut p = self.program.ast();
        p.items.extend(self.step_items());
        p
    }
}

fn sp() -> Span {
    Span::default()
}

pub fn node(kind: ExprKind) -> ast::Expr {
    ast::Expr::new(kind, sp())
}

fn ident(name: &str) -> Ident {
    Ident {
        name: Arc::from(name),
        span: sp(),
    }
}

fn bx(e: ast::Expr) -> Box<ast::Expr> {
    Box::new(e)
}

/// A value written as source: negative numbers as a minus applied to a literal (the
/// parser's tree for `-5`), the minimum as itself, NaN as `0.0 / 0.0`.
pub fn literal(v: &Value) -> ast::Expr {
    match v {
        Value::Null => node(ExprKind::Null),
        Value::Bool(b) => node(ExprKind::Bool(*b)),
        Value::Int(i) => int(*i),
        Value::Float(x) => float(*x),
        Value::Str(s) => node(ExprKind::Str(Arc::from(&**s))),
    }
}

fn int(v: i64) -> ast::Expr {
    if v < 0 && v != i64::MIN {
        node(ExprKind::Unary(UnaryOp::Neg, bx(node(ExprKind::Int(-v)))))
    } else {
        node(ExprKind::Int(v))
    }
}

fn float(v: f64) -> ast::Expr {
    if v.is_nan() {
        let zero = || bx(node(ExprKind::Float(0.0)));
        node(ExprKind::Binary(BinaryOp::Div, zero(), zero()))
    } else if v.is_sign_negative() {
        node(ExprKind::Unary(UnaryOp::Neg, bx(node(ExprKind::Float(-v)))))
    } else {
        node(ExprKind::Float(v))
    }
}

impl Function {
    pub fn name(&self) -> String {
        fname(self.id)
    }

    pub fn counted(&self) -> Option<&Counted> {
        match &self.shape {
            Shape::Counted(c) => Some(c),
            Shape::Plain(_) => None,
        }
    }

    /// The definition as a syntax tree. An arrow function with `LET`s cannot be
    /// written: it becomes `CREATE OR REPLACE` (what the arrow form means).
    pub fn def(&self) -> FunctionDef {
        let style = match self.style {
            DefStyle::Arrow if !self.lets.is_empty() => DefStyle::CreateOrReplace,
            s => s,
        };
        let result = match &self.shape {
            Shape::Plain(e) => self.lower(e),
            Shape::Counted(c) => {
                let n = || bx(node(ExprKind::Var(Arc::from("n"))));
                let k = |v| bx(node(ExprKind::Int(v)));
                let cond = match c.cond % 4 {
                    0 => ExprKind::Binary(BinaryOp::Gt, n(), k(0)),
                    1 => ExprKind::Binary(BinaryOp::Lt, k(0), n()),
                    2 => ExprKind::Binary(BinaryOp::Ge, n(), k(1)),
                    _ => ExprKind::Binary(BinaryOp::Le, k(1), n()),
                };
                node(ExprKind::If(
                    bx(node(cond)),
                    Box::new(self.lower_body(&c.step)),
                    Box::new(self.lower_body(&c.base)),
                ))
            }
        };
        FunctionDef {
            name: ident(&self.name()),
            params: self
                .params
                .iter()
                .map(|p| AstParam {
                    name: ident(&p.name),
                    ty: p.annotation,
                })
                .collect(),
            returns: self.returns,
            body: ast::Body {
                lets: self.lets.iter().map(|l| self.lower_let(l)).collect(),
                result,
                span: sp(),
            },
            style,
            span: sp(),
        }
    }

    fn lower_let(&self, l: &Let) -> ast::Let {
        ast::Let {
            name: ident(&l.name),
            value: self.lower(&l.value),
            span: sp(),
        }
    }

    fn lower_body(&self, b: &Body) -> ast::Body {
        ast::Body {
            lets: b.lets.iter().map(|l| self.lower_let(l)).collect(),
            result: self.lower(&b.result),
            span: sp(),
        }
    }

    /// The counter argument of a self call: `min(n, K) - 1` or `min(n - 1, K)`.
    fn decrement(&self) -> ast::Expr {
        let c = self.counted().expect("a self call in a counted function");
        let n = || node(ExprKind::Var(Arc::from("n")));
        let lit = |v| node(ExprKind::Int(v));
        let min = |a, b| node(ExprKind::Call(ident("min"), vec![a, b]));
        let minus_one = |e| node(ExprKind::Binary(BinaryOp::Sub, bx(e), bx(lit(1))));
        if c.decrement.is_multiple_of(2) {
            minus_one(min(n(), lit(c.limit)))
        } else {
            min(minus_one(n()), lit(c.limit))
        }
    }

    pub fn lower(&self, e: &Expr) -> ast::Expr {
        let l = |e: &Expr| bx(self.lower(e));
        let all = |args: &[Expr]| args.iter().map(|a| self.lower(a)).collect::<Vec<_>>();
        match e {
            Expr::Int(v) => int(*v),
            Expr::Float(v) => float(*v),
            Expr::Bool(b) => node(ExprKind::Bool(*b)),
            Expr::Str(s) => node(ExprKind::Str(Arc::from(s.as_str()))),
            Expr::Null => node(ExprKind::Null),
            Expr::Var(n) => node(ExprKind::Var(Arc::from(n.as_str()))),
            Expr::Neg(a) => node(ExprKind::Unary(UnaryOp::Neg, l(a))),
            Expr::Not(a) => node(ExprKind::Unary(UnaryOp::Not, l(a))),
            Expr::Bin(op, a, b) => node(ExprKind::Binary(*op, l(a), l(b))),
            Expr::Cast(a, t) => node(ExprKind::Cast(l(a), t.name())),
            Expr::Builtin(b, args) => node(ExprKind::Call(ident(b.name()), all(args))),
            Expr::Call(id, args) => node(ExprKind::Call(ident(&fname(*id)), all(args))),
            Expr::Host(h, args) => node(ExprKind::Call(ident(h.name()), all(args))),
            Expr::Recur(args) => {
                let mut v = vec![self.decrement()];
                v.extend(all(args));
                node(ExprKind::Call(ident(&self.name()), v))
            }
            Expr::If(c, t, o) => node(ExprKind::If(
                l(c),
                Box::new(self.lower_body(t)),
                Box::new(self.lower_body(o)),
            )),
            Expr::Try(a, b) => node(ExprKind::Try(l(a), l(b))),
        }
    }
}

/// An upper bound of the calls one call of `f` makes (itself included), from the
/// program's call sites: each call site counts in full (both branches of an `IF`),
/// and a counted function multiplies by its levels (and by its self calls per level).
pub fn cost(p: &Program, f: &Function) -> u64 {
    let mut sites = 0u64;
    let mut visit = |e: &Expr| {
        if let Expr::Call(id, _) = e {
            sites = sites.saturating_add(p.function(*id).map_or(1, |g| cost(p, g)));
        }
    };
    for l in &f.lets {
        walk(&l.value, &mut visit);
    }
    match &f.shape {
        Shape::Plain(e) => walk(e, &mut visit),
        Shape::Counted(c) => {
            walk_body(&c.step, &mut visit);
            walk_body(&c.base, &mut visit);
        }
    }
    let per_level = 1 + sites;
    match f.counted() {
        None => per_level,
        Some(c) => per_level.saturating_mul(levels(c.limit, body_recurs(&c.step))),
    }
}

/// The most self calls one evaluation of `e` can make (one branch of each `IF`).
pub fn recurs(e: &Expr) -> u32 {
    match e {
        Expr::Recur(args) => 1 + args.iter().map(recurs).sum::<u32>(),
        Expr::Neg(a) | Expr::Not(a) | Expr::Cast(a, _) => recurs(a),
        Expr::Bin(_, a, b) | Expr::Try(a, b) => recurs(a) + recurs(b),
        Expr::Builtin(_, args) | Expr::Call(_, args) | Expr::Host(_, args) => {
            args.iter().map(recurs).sum()
        }
        Expr::If(c, t, o) => recurs(c) + body_recurs(t).max(body_recurs(o)),
        _ => 0,
    }
}

pub fn body_recurs(b: &Body) -> u32 {
    b.lets.iter().map(|l| recurs(&l.value)).sum::<u32>() + recurs(&b.result)
}

/// Calls of a counted function with limit `k` and `recurs` self calls per level.
pub fn levels(k: i64, recurs: u32) -> u64 {
    let k = k.max(0) as u32 + 1;
    match recurs {
        0 => 1,
        1 => u64::from(k),
        r => u64::from(r).saturating_pow(k + 1),
    }
}

/// Calls `visit` on `e` and every expression inside it.
pub fn walk(e: &Expr, visit: &mut impl FnMut(&Expr)) {
    visit(e);
    match e {
        Expr::Neg(a) | Expr::Not(a) | Expr::Cast(a, _) => walk(a, visit),
        Expr::Bin(_, a, b) | Expr::Try(a, b) => {
            walk(a, visit);
            walk(b, visit);
        }
        Expr::Builtin(_, args) | Expr::Call(_, args) | Expr::Recur(args) | Expr::Host(_, args) => {
            args.iter().for_each(|a| walk(a, visit))
        }
        Expr::If(c, t, o) => {
            walk(c, visit);
            walk_body(t, visit);
            walk_body(o, visit);
        }
        _ => {}
    }
}

pub fn walk_body(b: &Body, visit: &mut impl FnMut(&Expr)) {
    for l in &b.lets {
        walk(&l.value, visit);
    }
    walk(&b.result, visit);
}

/// Calls `visit` on every expression of `f`'s body.
pub fn walk_function(f: &Function, visit: &mut impl FnMut(&Expr)) {
    for l in &f.lets {
        walk(&l.value, visit);
    }
    match &f.shape {
        Shape::Plain(e) => walk(e, visit),
        Shape::Counted(c) => {
            walk_body(&c.step, visit);
            walk_body(&c.base, visit);
        }
    }
}
