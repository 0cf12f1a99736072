//! Shrinking a [`Case`] towards a small readable counter-example: drop functions
//! (their call sites become constants), calls and parameters; turn a counted function
//! into a plain one; drop `LET`s (inlining them or replacing their uses by a
//! constant); replace an expression by a constant of its type or by one of its
//! children (a host call too); make constants and arguments simpler; drop
//! annotations, styles and the interrupted run.
//!
//! Every candidate is strictly smaller in some well-founded order (so a greedy shrink
//! ends), and never the case itself (quickcheck issue #133: [`case`] filters by text).

use super::args;
use super::host::HostTy;
use super::program::*;
use grizzly::internals::syntax::ast::{BinaryOp, DefStyle};

/// Smaller cases, the most reducing first.
pub fn case(c: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let fs = &c.program.functions;
    let make = |functions: Vec<Function>, calls: Vec<Call>, redefine: Option<Redefinition>| Case {
        program: Program {
            functions,
            style: c.program.style.clone(),
        },
        calls,
        redefine,
        max_depth: c.max_depth,
        interrupt: c.interrupt,
    };
    let with =
        |functions: Vec<Function>, calls: Vec<Call>| make(functions, calls, c.redefine.clone());
    if c.redefine.is_some() {
        out.push(make(fs.clone(), c.calls.clone(), None));
    }
    // Drop a function: calls of it become a constant of its type.
    if fs.len() > 1 {
        for f in fs {
            let calls: Vec<Call> = c.calls.iter().filter(|k| k.func != f.id).cloned().collect();
            if calls.is_empty() {
                continue;
            }
            let unused = |g: &Function| {
                let mut g = g.clone();
                map_function(&mut g, &mut |e| {
                    if matches!(e, Expr::Call(id, _) if *id == f.id) {
                        *e = f.ret.zero();
                    }
                });
                g
            };
            let functions = fs.iter().filter(|g| g.id != f.id).map(unused).collect();
            let redefine = c
                .redefine
                .as_ref()
                .filter(|r| r.function.id != f.id)
                .map(|r| Redefinition {
                    at: r.at.min(calls.len() - 1),
                    function: unused(&r.function),
                });
            out.push(make(functions, calls, redefine));
        }
    }
    // Drop a call.
    if c.calls.len() > 1 {
        for i in 0..c.calls.len() {
            let mut calls = c.calls.clone();
            calls.remove(i);
            let redefine = c.redefine.clone().map(|mut r| {
                if i < r.at {
                    r.at -= 1;
                }
                r.at = r.at.min(calls.len() - 1);
                r
            });
            out.push(make(fs.clone(), calls, redefine));
        }
    }
    // Drop a parameter (not a counter).
    for f in fs {
        let counter = f.params.first().is_some_and(|p| p.name == "n");
        for pi in usize::from(counter)..f.params.len() {
            let mut functions = fs.clone();
            functions.extend(c.redefine.iter().map(|r| r.function.clone()));
            drop_param(&mut functions, f.id, pi);
            let redefine = c.redefine.as_ref().map(|r| Redefinition {
                at: r.at,
                function: functions.pop().expect("the redefinition"),
            });
            let mut calls = c.calls.clone();
            for k in calls
                .iter_mut()
                .filter(|k| k.func == f.id && pi < k.args.len())
            {
                k.args.remove(pi);
            }
            out.push(make(functions, calls, redefine));
        }
    }
    // Simpler functions.
    for (fi, f) in fs.iter().enumerate() {
        for g in function(f, &c.program) {
            let mut functions = fs.clone();
            functions[fi] = g;
            out.push(with(functions, c.calls.clone()));
        }
    }
    if let Some(r) = &c.redefine {
        for mut g in function(&r.function, &c.program) {
            // (it must replace)
            if g.style == DefStyle::Create {
                g.style = DefStyle::CreateOrReplace;
            }
            let redefine = Some(Redefinition {
                at: r.at,
                function: g,
            });
            out.push(make(fs.clone(), c.calls.clone(), redefine));
        }
    }
    // Simpler calls.
    for (i, call) in c.calls.iter().enumerate() {
        if call.twice {
            let mut calls = c.calls.clone();
            calls[i].twice = false;
            out.push(with(fs.clone(), calls));
        }
        for (j, a) in call.args.iter().enumerate() {
            for v in args::shrink(a) {
                let mut calls = c.calls.clone();
                calls[i].args[j] = v;
                out.push(with(fs.clone(), calls));
            }
        }
    }
    if c.program.style != Style::default() {
        let mut d = c.clone();
        d.program.style = Style::default();
        out.push(d);
    }
    if c.max_depth != grizzly::engine::DEFAULT_MAX_DEPTH {
        let mut d = c.clone();
        d.max_depth = grizzly::engine::DEFAULT_MAX_DEPTH;
        out.push(d);
    }
    if c.interrupt.is_some() {
        let mut d = c.clone();
        d.interrupt = None;
        out.push(d);
    }
    let me = key(c);
    out.retain(|d| key(d) != me);
    out
}

/// What makes two cases the same test.
pub fn key(c: &Case) -> String {
    format!("{} {:?} {}", c.max_depth, c.interrupt, c.source())
}

/// Simpler versions of one function (the rest of the program unchanged).
fn function(f: &Function, p: &Program) -> Vec<Function> {
    let mut out = Vec::new();
    let env: Vec<(String, Ty)> = f.params.iter().map(|p| (p.name.clone(), p.ty)).collect();
    let cx = Cx { p, f };
    if let Shape::Counted(c) = &f.shape {
        // A plain function: the base, or the step with its self calls made constants.
        let mut step = c.step.clone();
        map_body(&mut step, &mut |e| {
            if matches!(e, Expr::Recur(_)) {
                *e = f.ret.zero();
            }
        });
        for b in [&c.base, &step] {
            let mut g = f.clone();
            g.lets.extend(b.lets.iter().cloned());
            g.shape = Shape::Plain(b.result.clone());
            out.push(g);
        }
    }
    // A LET dropped (its uses inlined, or made a constant), a LET's value shrunk.
    for (i, l) in f.lets.iter().enumerate() {
        for with in replacements(l) {
            let mut g = f.clone();
            let mut after = Function {
                lets: g.lets.split_off(i + 1),
                ..f.clone()
            };
            g.lets.pop();
            subst_function(&mut after, &l.name, &with);
            g.lets.extend(after.lets);
            g.shape = after.shape;
            out.push(g);
        }
    }
    let mut inner = env.clone();
    for (i, l) in f.lets.iter().enumerate() {
        for v in expr(&l.value, &inner, &cx) {
            let mut g = f.clone();
            g.lets[i].value = v;
            out.push(g);
        }
        inner.push((l.name.clone(), l.ty));
    }
    match &f.shape {
        Shape::Plain(e) => {
            for e in expr(e, &inner, &cx) {
                let mut g = f.clone();
                g.shape = Shape::Plain(e);
                out.push(g);
            }
        }
        Shape::Counted(c) => {
            let counted = |c: Counted| {
                let mut g = f.clone();
                g.shape = Shape::Counted(c);
                g
            };
            for step in body(&c.step, &inner, &cx) {
                out.push(counted(Counted { step, ..c.clone() }));
            }
            for base in body(&c.base, &inner, &cx) {
                out.push(counted(Counted { base, ..c.clone() }));
            }
            for limit in [1, c.limit / 2] {
                if limit >= 1 && limit < c.limit {
                    out.push(counted(Counted { limit, ..c.clone() }));
                }
            }
            if c.cond != 0 || c.decrement != 0 {
                out.push(counted(Counted {
                    cond: 0,
                    decrement: 0,
                    ..c.clone()
                }));
            }
        }
    }
    if f.returns.is_some() {
        out.push(Function {
            returns: None,
            ..f.clone()
        });
    }
    for i in 0..f.params.len() {
        if f.params[i].annotation.is_some() {
            let mut g = f.clone();
            g.params[i].annotation = None;
            out.push(g);
        }
    }
    if f.style != DefStyle::Create {
        out.push(Function {
            style: DefStyle::Create,
            ..f.clone()
        });
    }
    out
}

/// Removes parameter `pi` of the functions with id `id` (a function and its
/// redefinition): its uses become a constant, and every call of the function (self
/// calls included) loses that argument.
fn drop_param(functions: &mut [Function], id: usize, pi: usize) {
    for g in functions.iter_mut() {
        if g.id == id && pi < g.params.len() {
            let p = g.params.remove(pi);
            subst_function(g, &p.name, &p.ty.zero());
        }
        let me = g.id == id && g.counted().is_some();
        map_function(g, &mut |e| match e {
            Expr::Call(callee, args) if *callee == id && pi < args.len() => {
                args.remove(pi);
            }
            Expr::Recur(args) if me && pi >= 1 && pi - 1 < args.len() => {
                args.remove(pi - 1);
            }
            _ => {}
        });
    }
}

/// What typing an expression needs: the program (callees' types), the function.
struct Cx<'a> {
    p: &'a Program,
    f: &'a Function,
}

/// The type `e` was generated for, as far as it can be told.
fn ty_of(e: &Expr, env: &[(String, Ty)], cx: &Cx<'_>) -> Option<Ty> {
    let num = |a: Option<Ty>, b: Option<Ty>| match (a, b) {
        (Some(Ty::Float), _) | (_, Some(Ty::Float)) => Some(Ty::Float),
        (Some(Ty::Int), Some(Ty::Int)) => Some(Ty::Int),
        _ => None,
    };
    match e {
        Expr::Int(_) => Some(Ty::Int),
        Expr::Float(_) => Some(Ty::Float),
        Expr::Bool(_) | Expr::Not(_) => Some(Ty::Bool),
        Expr::Str(_) | Expr::Null => None,
        Expr::Var(n) => env.iter().rev().find(|(m, _)| m == n).map(|(_, t)| *t),
        Expr::Neg(a) | Expr::Try(a, _) => ty_of(a, env, cx),
        Expr::Bin(BinaryOp::Coalesce, a, _) => ty_of(a, env, cx),
        Expr::Bin(op, a, b) => match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                num(ty_of(a, env, cx), ty_of(b, env, cx))
            }
            _ => Some(Ty::Bool),
        },
        Expr::Cast(_, t) => Some(*t),
        Expr::Builtin(b, args) => match b {
            Builtin::Sqrt | Builtin::Pow => Some(Ty::Float),
            Builtin::Min | Builtin::Max if args.len() == 2 => {
                num(ty_of(&args[0], env, cx), ty_of(&args[1], env, cx))
            }
            _ => ty_of(args.first()?, env, cx),
        },
        Expr::Call(id, _) => cx.p.function(*id).map(|g| g.ret),
        Expr::Host(h, _) => match h.ret() {
            HostTy::Int => Some(Ty::Int),
            HostTy::Float => Some(Ty::Float),
            HostTy::Bool => Some(Ty::Bool),
            _ => None,
        },
        Expr::Recur(_) => Some(cx.f.ret),
        Expr::If(_, t, _) => {
            let mut inner = env.to_vec();
            inner.extend(t.lets.iter().map(|l| (l.name.clone(), l.ty)));
            ty_of(&t.result, &inner, cx)
        }
    }
}

/// Smaller expressions: a constant of its type, the children, then the node with one
/// child shrunk. Never `e` itself.
fn expr(e: &Expr, env: &[(String, Ty)], cx: &Cx<'_>) -> Vec<Expr> {
    let bx = Box::new;
    let mut out = Vec::new();
    let leaf = matches!(
        e,
        Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Null | Expr::Var(_)
    );
    if let Some(t) = ty_of(e, env, cx).filter(|_| !leaf || matches!(e, Expr::Var(_))) {
        out.push(t.zero());
    }
    let sub = |a: &Expr| expr(a, env, cx);
    match e {
        Expr::Int(v) => out.extend(args::int(*v).into_iter().map(Expr::Int)),
        Expr::Float(v) => out.extend(args::float(*v).into_iter().map(Expr::Float)),
        Expr::Bool(true) => out.push(Expr::Bool(false)),
        Expr::Str(s) if !s.is_empty() => out.push(Expr::Str(String::new())),
        Expr::Bool(false) | Expr::Str(_) | Expr::Null | Expr::Var(_) => {}
        Expr::Neg(a) => {
            out.push((**a).clone());
            out.extend(sub(a).into_iter().map(|a| Expr::Neg(bx(a))));
        }
        Expr::Not(a) => {
            out.push((**a).clone());
            out.extend(sub(a).into_iter().map(|a| Expr::Not(bx(a))));
        }
        Expr::Cast(a, t) => {
            out.push((**a).clone());
            out.extend(sub(a).into_iter().map(|a| Expr::Cast(bx(a), *t)));
        }
        Expr::Bin(op, a, b) => pairs(&mut out, a, b, &sub, |a, b| Expr::Bin(*op, bx(a), bx(b))),
        Expr::Try(a, b) => pairs(&mut out, a, b, &sub, |a, b| Expr::Try(bx(a), bx(b))),
        Expr::Builtin(f, args) => each_arg(&mut out, args, &sub, |v| Expr::Builtin(*f, v)),
        Expr::Call(id, args) => each_arg(&mut out, args, &sub, |v| Expr::Call(*id, v)),
        Expr::Host(h, args) => each_arg(&mut out, args, &sub, |v| Expr::Host(*h, v)),
        Expr::Recur(args) => each_arg(&mut out, args, &sub, Expr::Recur),
        Expr::If(c, t, o) => {
            out.push((**c).clone());
            for b in [t, o] {
                if b.lets.is_empty() {
                    out.push(b.result.clone());
                }
            }
            for c2 in sub(c) {
                out.push(Expr::If(bx(c2), t.clone(), o.clone()));
            }
            for t2 in body(t, env, cx) {
                out.push(Expr::If(c.clone(), Box::new(t2), o.clone()));
            }
            for o2 in body(o, env, cx) {
                out.push(Expr::If(c.clone(), t.clone(), Box::new(o2)));
            }
        }
    }
    out
}

fn pairs(
    out: &mut Vec<Expr>,
    a: &Expr,
    b: &Expr,
    sub: &impl Fn(&Expr) -> Vec<Expr>,
    make: impl Fn(Expr, Expr) -> Expr,
) {
    out.push(a.clone());
    out.push(b.clone());
    for a2 in sub(a) {
        out.push(make(a2, b.clone()));
    }
    for b2 in sub(b) {
        out.push(make(a.clone(), b2));
    }
}

fn each_arg(
    out: &mut Vec<Expr>,
    args: &[Expr],
    sub: &impl Fn(&Expr) -> Vec<Expr>,
    make: impl Fn(Vec<Expr>) -> Expr,
) {
    out.extend(args.iter().cloned());
    for (i, a) in args.iter().enumerate() {
        for a2 in sub(a) {
            let mut v = args.to_vec();
            v[i] = a2;
            out.push(make(v));
        }
    }
}

/// Smaller bodies: a `LET` dropped (its uses inlined, or made a constant), a `LET`'s
/// value shrunk, the result shrunk.
fn body(b: &Body, env: &[(String, Ty)], cx: &Cx<'_>) -> Vec<Body> {
    let mut out = Vec::new();
    for (i, l) in b.lets.iter().enumerate() {
        for with in replacements(l) {
            let mut rest = Body {
                lets: b.lets[i + 1..].to_vec(),
                result: b.result.clone(),
            };
            subst_body(&mut rest, &l.name, &with);
            let mut lets = b.lets[..i].to_vec();
            lets.extend(rest.lets);
            out.push(Body {
                lets,
                result: rest.result,
            });
        }
    }
    let mut inner = env.to_vec();
    for (i, l) in b.lets.iter().enumerate() {
        for v in expr(&l.value, &inner, cx) {
            let mut lets = b.lets.clone();
            lets[i].value = v;
            out.push(Body {
                lets,
                result: b.result.clone(),
            });
        }
        inner.push((l.name.clone(), l.ty));
    }
    for result in expr(&b.result, &inner, cx) {
        out.push(Body {
            lets: b.lets.clone(),
            result,
        });
    }
    out
}

/// What the uses of a dropped `LET` become: its value (unless that makes calls,
/// which inlining would repeat), or a constant of its type.
fn replacements(l: &Let) -> Vec<Expr> {
    let mut calls = false;
    walk(&l.value, &mut |e| {
        calls |= matches!(e, Expr::Call(..) | Expr::Recur(_));
    });
    if calls {
        vec![l.ty.zero()]
    } else {
        vec![l.value.clone(), l.ty.zero()]
    }
}

/// Replaces the free uses of `name` in `e` by `with`.
fn subst(e: &mut Expr, name: &str, with: &Expr) {
    match e {
        Expr::Var(n) if n == name => *e = with.clone(),
        Expr::Neg(a) | Expr::Not(a) | Expr::Cast(a, _) => subst(a, name, with),
        Expr::Bin(_, a, b) | Expr::Try(a, b) => {
            subst(a, name, with);
            subst(b, name, with);
        }
        Expr::Builtin(_, args) | Expr::Call(_, args) | Expr::Recur(args) | Expr::Host(_, args) => {
            args.iter_mut().for_each(|a| subst(a, name, with))
        }
        Expr::If(c, t, o) => {
            subst(c, name, with);
            subst_body(t, name, with);
            subst_body(o, name, with);
        }
        _ => {}
    }
}

/// [`subst`] in a body, up to a `LET` that binds `name` again. Returns whether the
/// name is still free at the end.
fn subst_body(b: &mut Body, name: &str, with: &Expr) -> bool {
    for l in &mut b.lets {
        subst(&mut l.value, name, with);
        if l.name == name {
            return false;
        }
    }
    subst(&mut b.result, name, with);
    true
}

fn subst_function(f: &mut Function, name: &str, with: &Expr) {
    let mut lets = Body {
        lets: std::mem::take(&mut f.lets),
        result: Expr::Null,
    };
    let free = subst_body(&mut lets, name, with);
    f.lets = lets.lets;
    if !free {
        return;
    }
    match &mut f.shape {
        Shape::Plain(e) => subst(e, name, with),
        Shape::Counted(c) => {
            subst_body(&mut c.step, name, with);
            subst_body(&mut c.base, name, with);
        }
    }
}

/// Calls `visit` on every expression of `e`, children first.
fn map_expr(e: &mut Expr, visit: &mut impl FnMut(&mut Expr)) {
    match e {
        Expr::Neg(a) | Expr::Not(a) | Expr::Cast(a, _) => map_expr(a, visit),
        Expr::Bin(_, a, b) | Expr::Try(a, b) => {
            map_expr(a, visit);
            map_expr(b, visit);
        }
        Expr::Builtin(_, args) | Expr::Call(_, args) | Expr::Recur(args) | Expr::Host(_, args) => {
            args.iter_mut().for_each(|a| map_expr(a, visit))
        }
        Expr::If(c, t, o) => {
            map_expr(c, visit);
            map_body(t, visit);
            map_body(o, visit);
        }
        _ => {}
    }
    visit(e);
}

fn map_body(b: &mut Body, visit: &mut impl FnMut(&mut Expr)) {
    for l in &mut b.lets {
        map_expr(&mut l.value, visit);
    }
    map_expr(&mut b.result, visit);
}

fn map_function(f: &mut Function, visit: &mut impl FnMut(&mut Expr)) {
    for l in &mut f.lets {
        map_expr(&mut l.value, visit);
    }
    match &mut f.shape {
        Shape::Plain(e) => map_expr(e, visit),
        Shape::Counted(c) => {
            map_body(&mut c.step, visit);
            map_body(&mut c.base, visit);
        }
    }
}
