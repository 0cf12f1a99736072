//! Semantic checks: names to slots, builtins resolved, calls to function ids, tail
//! positions marked, and the definition-time errors of contract section 2.
//!
//! The output, a [`Resolved`] tree, is what the bytecode compiler and the JIT's type
//! specialization read; neither sees names again.

use crate::builtins::Builtin;
use crate::error::{Error, ErrorKind};
use crate::syntax::ast::{self, BinaryOp, Body, Expr, ExprKind, Span, TypeName, UnaryOp};
use crate::value::Value;
use std::sync::Arc;

/// Index of a function name in the engine's function table. Ids are handed out for
/// every name that is called or defined, so a call can refer to a function that is
/// defined later (or never: then the call raises `unknown function`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// A local variable: a parameter (slots `0..params`) or a `LET`.
pub type Slot = u16;

/// Largest number of parameters plus `LET`s in one function.
pub const MAX_SLOTS: usize = 30_000;

#[derive(Clone, Debug)]
pub struct RExpr {
    pub kind: RKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum RKind {
    Const(Value),
    Local(Slot),
    Unary(UnaryOp, Box<RExpr>),
    Binary(BinaryOp, Box<RExpr>, Box<RExpr>),
    Cast(Box<RExpr>, TypeName),
    /// A builtin call; the argument count may be wrong (an error when it runs).
    Builtin(Builtin, Vec<RExpr>),
    /// A call of a host function (`Engine::register_fn`), which takes `arity`
    /// arguments; the count given may be wrong (an error when it runs).
    Host {
        host: u32,
        name: Arc<str>,
        arity: usize,
        args: Vec<RExpr>,
    },
    Call {
        callee: FuncId,
        name: Arc<str>,
        args: Vec<RExpr>,
        /// A call of the enclosing function by itself, in tail position, with the
        /// right number of arguments: it runs in constant space.
        self_tail: bool,
    },
    If(Box<RExpr>, Box<RBody>, Box<RBody>),
    Try(Box<RExpr>, Box<RExpr>),
    /// Raises this error when evaluated (a top-level name that no `LET` bound).
    Fail(Box<Error>),
}

#[derive(Clone, Debug)]
pub struct RBody {
    pub lets: Vec<(Slot, RExpr)>,
    pub result: RExpr,
}

#[derive(Clone, Debug)]
pub struct RParam {
    pub name: Arc<str>,
    pub ty: Option<TypeName>,
    pub span: Span,
}

/// A checked function or top-level expression.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The function's name; `None` for a top-level expression.
    pub name: Option<Arc<str>>,
    pub params: Vec<RParam>,
    pub returns: Option<TypeName>,
    /// Parameters plus every `LET` (a shadowing `LET` gets a slot of its own).
    pub slots: usize,
    pub body: RBody,
    pub span: Span,
}

/// What the resolver needs from the engine.
pub trait Names {
    /// The id of a function name, allocated if the name is new.
    fn function_id(&mut self, name: &str) -> FuncId;
    /// Whether a function of this name is currently defined.
    fn is_defined(&self, name: &str) -> bool;
    /// The value of a session variable (top-level `LET`), if bound.
    fn session_var(&self, name: &str) -> Option<Value>;
    /// The id and arity of a host function of this name, if registered.
    fn host(&self, name: &str) -> Option<(u32, usize)>;
}

/// Checks a function definition. Errors are definition-time errors: nothing is defined.
pub fn function(def: &ast::FunctionDef, names: &mut dyn Names) -> Result<Resolved, Error> {
    let fname = &def.name.name;
    let def_error = |msg: String, span: Span| Error::new(ErrorKind::Definition, msg).at(span);
    if Builtin::from_name(fname).is_some() {
        return Err(def_error(
            format!("'{fname}' is a builtin function and cannot be redefined"),
            def.name.span,
        ));
    }
    if names.host(fname).is_some() {
        return Err(def_error(
            format!("'{fname}' is a host function and cannot be defined"),
            def.name.span,
        ));
    }
    if def.style == ast::DefStyle::Create && names.is_defined(fname) {
        return Err(def_error(
            format!("function '{fname}' is already defined (use CREATE OR REPLACE FUNCTION)"),
            def.name.span,
        ));
    }
    let mut scope = Scope::new(Some(fname.clone()), def.params.len());
    for p in &def.params {
        if scope.lookup(&p.name.name).is_some() {
            return Err(def_error(
                format!(
                    "duplicate parameter '{}' in function '{fname}'",
                    p.name.name
                ),
                p.name.span,
            ));
        }
        scope.bind(&p.name.name)?;
    }
    let mut r = Resolver { names, scope };
    let body = r.body(&def.body, true)?;
    Ok(Resolved {
        name: Some(fname.clone()),
        params: def
            .params
            .iter()
            .map(|p| RParam {
                name: p.name.name.clone(),
                ty: p.ty,
                span: p.name.span,
            })
            .collect(),
        returns: def.returns,
        slots: r.scope.slots,
        body,
        span: def.span,
    })
}

/// Checks a top-level expression: names are session variables, read now.
pub fn top_level(expr: &Expr, names: &mut dyn Names) -> Result<Resolved, Error> {
    let mut r = Resolver {
        names,
        scope: Scope::new(None, 0),
    };
    let result = r.expr(expr, false)?;
    Ok(Resolved {
        name: None,
        params: Vec::new(),
        returns: None,
        slots: r.scope.slots,
        body: RBody {
            lets: Vec::new(),
            result,
        },
        span: expr.span,
    })
}

struct Scope {
    function: Option<Arc<str>>,
    params: usize,
    /// Visible names, innermost last; a name's newest binding wins.
    visible: Vec<(Arc<str>, Slot)>,
    slots: usize,
}

impl Scope {
    fn new(function: Option<Arc<str>>, params: usize) -> Scope {
        Scope {
            function,
            params,
            visible: Vec::new(),
            slots: 0,
        }
    }
    fn lookup(&self, name: &str) -> Option<Slot> {
        self.visible
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, s)| *s)
    }
    fn bind(&mut self, name: &Arc<str>) -> Result<Slot, Error> {
        if self.slots >= MAX_SLOTS {
            return Err(Error::new(
                ErrorKind::Definition,
                format!("too many parameters and LETs (the limit is {MAX_SLOTS})"),
            ));
        }
        let slot = self.slots as Slot;
        self.slots += 1;
        self.visible.push((name.clone(), slot));
        Ok(slot)
    }
}

struct Resolver<'n> {
    names: &'n mut dyn Names,
    scope: Scope,
}

impl Resolver<'_> {
    fn body(&mut self, body: &Body, tail: bool) -> Result<RBody, Error> {
        let mark = self.scope.visible.len();
        let mut lets = Vec::with_capacity(body.lets.len());
        for l in &body.lets {
            // The value is resolved before the name is visible: `LET x = x + 1` reads the outer x.
            let value = self.expr(&l.value, false)?;
            let slot = self.scope.bind(&l.name.name).map_err(|e| e.at(l.span))?;
            lets.push((slot, value));
        }
        let result = self.expr(&body.result, tail)?;
        self.scope.visible.truncate(mark);
        Ok(RBody { lets, result })
    }

    fn expr(&mut self, e: &Expr, tail: bool) -> Result<RExpr, Error> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_inner(e, tail))
    }

    fn expr_inner(&mut self, e: &Expr, tail: bool) -> Result<RExpr, Error> {
        let boxed = |r: RExpr| Box::new(r);
        let kind = match &e.kind {
            ExprKind::Int(i) => RKind::Const(Value::Int(*i)),
            ExprKind::Float(f) => RKind::Const(Value::Float(*f)),
            ExprKind::Bool(b) => RKind::Const(Value::Bool(*b)),
            ExprKind::Str(s) => RKind::Const(Value::str(s)),
            ExprKind::Null => RKind::Const(Value::Null),
            ExprKind::Var(name) => self.var(name, e.span)?,
            ExprKind::Unary(op, a) => RKind::Unary(*op, boxed(self.expr(a, false)?)),
            ExprKind::Binary(op, a, b) => RKind::Binary(
                *op,
                boxed(self.expr(a, false)?),
                boxed(self.expr(b, false)?),
            ),
            ExprKind::Cast(a, ty) => RKind::Cast(boxed(self.expr(a, false)?), *ty),
            ExprKind::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| self.expr(a, false))
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some(b) = Builtin::from_name(&f.name) {
                    RKind::Builtin(b, args)
                } else if let Some((host, arity)) = self.names.host(&f.name) {
                    RKind::Host {
                        host,
                        name: f.name.clone(),
                        arity,
                        args,
                    }
                } else {
                    let self_tail = tail
                        && self.scope.function.as_deref() == Some(&*f.name)
                        && args.len() == self.scope.params;
                    RKind::Call {
                        callee: self.names.function_id(&f.name),
                        name: f.name.clone(),
                        args,
                        self_tail,
                    }
                }
            }
            ExprKind::If(c, t, f) => RKind::If(
                boxed(self.expr(c, false)?),
                Box::new(self.body(t, tail)?),
                Box::new(self.body(f, tail)?),
            ),
            ExprKind::Try(a, b) => {
                RKind::Try(boxed(self.expr(a, false)?), boxed(self.expr(b, false)?))
            }
        };
        Ok(RExpr { kind, span: e.span })
    }

    fn var(&mut self, name: &Arc<str>, span: Span) -> Result<RKind, Error> {
        if let Some(slot) = self.scope.lookup(name) {
            return Ok(RKind::Local(slot));
        }
        match &self.scope.function {
            Some(f) => Err(Error::new(
                ErrorKind::Definition,
                format!("unknown variable '{name}' in function '{f}'"),
            )
            .at(span)),
            None => Ok(match self.names.session_var(name) {
                Some(v) => RKind::Const(v),
                None => RKind::Fail(Box::new(
                    Error::new(
                        ErrorKind::UnknownVariable,
                        format!("unknown variable '{name}'"),
                    )
                    .at(span),
                )),
            }),
        }
    }
}

/// Like [`ast::Expr`], resolved trees can be arbitrarily deep: tear them down iteratively.
impl Drop for RExpr {
    fn drop(&mut self) {
        let leaf = |k: &RKind| matches!(k, RKind::Const(_) | RKind::Local(_) | RKind::Fail(_));
        if leaf(&self.kind) {
            return;
        }
        let mut pending = Vec::new();
        take_children(&mut self.kind, &mut pending);
        while let Some(mut e) = pending.pop() {
            take_children(&mut e.kind, &mut pending);
        }
    }
}

fn take(e: &mut RExpr) -> RExpr {
    std::mem::replace(
        e,
        RExpr {
            kind: RKind::Const(Value::Null),
            span: e.span,
        },
    )
}

fn take_children(kind: &mut RKind, out: &mut Vec<RExpr>) {
    let body = |b: &mut RBody, out: &mut Vec<RExpr>| {
        out.extend(b.lets.iter_mut().map(|(_, v)| take(v)));
        out.push(take(&mut b.result));
    };
    match kind {
        RKind::Unary(_, a) | RKind::Cast(a, _) => out.push(take(a)),
        RKind::Binary(_, a, b) | RKind::Try(a, b) => {
            out.push(take(a));
            out.push(take(b));
        }
        RKind::Builtin(_, args) | RKind::Call { args, .. } | RKind::Host { args, .. } => {
            out.append(args)
        }
        RKind::If(c, t, f) => {
            out.push(take(c));
            body(t, out);
            body(f, out);
        }
        RKind::Const(_) | RKind::Local(_) | RKind::Fail(_) => {}
    }
}

/// A name table for tests, which have no engine.
#[cfg(test)]
#[derive(Default)]
pub struct SimpleNames {
    pub ids: std::collections::HashMap<String, FuncId>,
    pub defined: Vec<String>,
    pub vars: std::collections::HashMap<String, Value>,
}

#[cfg(test)]
impl Names for SimpleNames {
    fn function_id(&mut self, name: &str) -> FuncId {
        let next = FuncId(self.ids.len() as u32);
        *self.ids.entry(name.to_string()).or_insert(next)
    }
    fn is_defined(&self, name: &str) -> bool {
        self.defined.iter().any(|d| d == name)
    }
    fn session_var(&self, name: &str) -> Option<Value> {
        self.vars.get(name).cloned()
    }
    fn host(&self, _: &str) -> Option<(u32, usize)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::Item;

    fn resolve_first(src: &str, names: &mut SimpleNames) -> Result<Resolved, Error> {
        let program = crate::syntax::parse(src).expect("test source parses");
        match &program.items[0] {
            Item::Function(f) => function(f, names),
            Item::Expr(e) => top_level(e, names),
            Item::Let(l) => top_level(&l.value, names),
        }
    }

    fn tail_calls(e: &RExpr, out: &mut Vec<(String, bool)>) {
        match &e.kind {
            RKind::Call {
                name,
                args,
                self_tail,
                ..
            } => {
                out.push((name.to_string(), *self_tail));
                args.iter().for_each(|a| tail_calls(a, out));
            }
            RKind::Unary(_, a) | RKind::Cast(a, _) => tail_calls(a, out),
            RKind::Binary(_, a, b) | RKind::Try(a, b) => {
                tail_calls(a, out);
                tail_calls(b, out);
            }
            RKind::If(c, t, f) => {
                tail_calls(c, out);
                tail_calls(&t.result, out);
                tail_calls(&f.result, out);
            }
            RKind::Builtin(_, args) => args.iter().for_each(|a| tail_calls(a, out)),
            _ => {}
        }
    }

    #[test]
    fn marks_only_self_calls_in_tail_position() {
        let src = "FUNCTION f(n) => IF n == 0 { f(1) + 1 } ELSE IF n == 1 { g(n) } \
                   ELSE IF n == 2 { TRY f(0) CATCH 0 } ELSE IF n == 3 { f(n, 1) } ELSE { f(n - 1) }";
        let r = resolve_first(src, &mut SimpleNames::default()).unwrap();
        let mut calls = Vec::new();
        tail_calls(&r.body.result, &mut calls);
        let marked: Vec<_> = calls.iter().filter(|(_, t)| *t).collect();
        assert_eq!(calls.len(), 5, "{calls:?}");
        assert_eq!(
            marked.len(),
            1,
            "only `f(n - 1)` is a self tail call: {calls:?}"
        );
    }

    #[test]
    fn shadowing_lets_get_their_own_slots() {
        let src = "CREATE FUNCTION f(x) { LET x = x + 1; LET y = x; LET x = y * 2; x }";
        let r = resolve_first(src, &mut SimpleNames::default()).unwrap();
        assert_eq!(r.slots, 4);
        let slots: Vec<Slot> = r.body.lets.iter().map(|(s, _)| *s).collect();
        assert_eq!(slots, vec![1, 2, 3]);
        assert!(matches!(r.body.result.kind, RKind::Local(3)));
        // `LET x = x + 1` reads the parameter, not itself.
        let RKind::Binary(_, lhs, _) = &r.body.lets[0].1.kind else {
            panic!("expected x + 1")
        };
        assert!(matches!(lhs.kind, RKind::Local(0)));
    }

    #[test]
    fn definition_errors() {
        let mut names = SimpleNames::default();
        names.defined.push("taken".into());
        for (src, start) in [
            (
                "FUNCTION f(a) => a + b",
                "unknown variable 'b' in function 'f'",
            ),
            ("FUNCTION f(a, a) => a", "duplicate parameter 'a'"),
            ("FUNCTION abs(a) => a", "'abs' is a builtin function"),
            (
                "CREATE FUNCTION taken(a) { a }",
                "function 'taken' is already defined",
            ),
            (
                "CREATE FUNCTION f(a) { LET b = 1; c }",
                "unknown variable 'c'",
            ),
        ] {
            let err = resolve_first(src, &mut names).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Definition, "{src}");
            assert!(err.message().starts_with(start), "{src}: {}", err.message());
        }
        // Replacing is allowed, and so is a name that only differs in case from a builtin.
        assert!(resolve_first("CREATE OR REPLACE FUNCTION taken(a) { a }", &mut names).is_ok());
        assert!(resolve_first("FUNCTION ABS(a) => a", &mut names).is_ok());
    }

    #[test]
    fn top_level_names_read_session_variables_now() {
        let mut names = SimpleNames::default();
        names.vars.insert("x".into(), Value::Int(7));
        let r = resolve_first("x + y", &mut names).unwrap();
        let RKind::Binary(_, x, y) = &r.body.result.kind else {
            panic!("expected a sum")
        };
        assert!(matches!(x.kind, RKind::Const(Value::Int(7))));
        assert!(matches!(&y.kind, RKind::Fail(e) if e.kind() == ErrorKind::UnknownVariable));
    }
}
