//! Generation of [`Case`]s: 2 to 5 functions of int, float and bool parameters
//! (some annotated, some with `RETURNS`), each typed by construction most of the
//! time so that the JIT compiles it, with edge constants so that guards fire, and an
//! ill-typed node now and then. Function `k` may call functions `0..k` (so the call
//! graph is acyclic); a counted function also calls itself, as a self tail-recursive
//! loop (accumulators, parameters swapped) or as a bounded recursion. A cost bound
//! (calls per top-level call, [`MAX_COST`]) keeps every case fast; a depth budget per
//! expression level keeps generation from overflowing (quickcheck issue #23).
//!
//! Rarer shapes: a "deep" function (a loop of 100,000 iterations, or a recursion to
//! around the call-depth limit of 10,000, called from the top level only); a function
//! kept interpreted by an unused string `LET` (call chains then cross tiers); a
//! redefinition between two calls (compiled code of the function and its callers
//! must go; now and then with a parameter less); a small call-depth limit; a call
//! with the wrong number of arguments; an interrupted run (one case in eight).
//! Host function calls are generated with the expressions (`expr.rs`).
//!
//! The size of the `Gen` controls how many functions and how deep the expressions.

use super::args;
use super::expr::*;
use super::program::*;
use super::{below, pick};
use grizzly::internals::syntax::ast::{BinaryOp, DefStyle, TypeName};
use grizzly::Value;
use quickcheck::{Arbitrary, Gen};

/// At most this many calls (nested and self calls included) per top-level call.
pub const MAX_COST: u64 = 1500;

/// Mostly the parameter's own type; `number` or `float` (which converts an int); now
/// and then any type (calls then fail the check, or pass it with another type).
fn annotation(g: &mut Gen, t: Ty) -> Option<TypeName> {
    match below(g, 20) {
        0..=7 => None,
        8..=16 => Some(t.name()),
        17 | 18 if t != Ty::Bool => Some(pick(g, &[TypeName::Number, TypeName::Float])),
        _ => Some(pick(g, &[TypeName::Int, TypeName::Float, TypeName::Bool])),
    }
}

/// What a new function must fit.
struct Fit<'a> {
    /// The functions it may call.
    sigs: &'a [Sig],
    /// An upper bound of its cost.
    max_cost: u64,
    /// Expression depth budget.
    max_depth: u32,
    /// The parameters of the function it replaces (a redefinition keeps them, or
    /// all but the last).
    like: Option<&'a [Param]>,
}

/// Fresh parameters: the counter `n` first for a counted function, then 1 to 3 (now
/// and then up to 6) of any type, named by type.
fn params(g: &mut Gen, counted: bool, annotated: bool) -> Vec<Param> {
    let mut params = Vec::new();
    if counted {
        let annotation = match below(g, 3) {
            _ if !annotated => None,
            0 => None,
            1 => Some(TypeName::Int),
            _ => Some(TypeName::Number),
        };
        params.push(Param {
            name: "n".into(),
            ty: Ty::Int,
            annotation,
        });
    }
    let mut used = [0usize; 3];
    let n = if below(g, 5) == 0 {
        4 + below(g, 3)
    } else {
        1 + below(g, 3)
    };
    for _ in 0..n {
        let ty = any_ty(g);
        let k = Ty::ALL.iter().position(|&t| t == ty).expect("a type");
        let names = [
            ["a", "b", "c", "d", "e", "f"],
            ["x", "y", "z", "u", "v", "w"],
            ["p", "q", "r", "s", "t", "o"],
        ];
        let name = names[k][used[k]].to_string();
        used[k] += 1;
        let annotation = if annotated { annotation(g, ty) } else { None };
        params.push(Param {
            name,
            ty,
            annotation,
        });
    }
    params
}

/// Function `id`.
fn function(g: &mut Gen, id: usize, fit: &Fit<'_>) -> Function {
    let has_counter = fit.like.map(|ps| ps.first().is_some_and(|p| p.name == "n"));
    // 0, 1: plain; 2: loop; 3: recursion
    let mut kind = if has_counter == Some(false) {
        0
    } else {
        below(g, 4)
    };
    let annotated = below(g, 3) == 0;
    let params = match fit.like {
        Some(ps) => ps
            .iter()
            .map(|p| Param {
                annotation: if annotated { annotation(g, p.ty) } else { None },
                ..p.clone()
            })
            .collect(),
        None => params(g, kind >= 2, annotated),
    };
    let ret = any_ty(g);
    let returns = match below(g, 10) {
        _ if !annotated => None,
        0..=4 => None,
        5..=7 => Some(ret.name()),
        8 if ret != Ty::Bool => Some(pick(g, &[TypeName::Number, TypeName::Float])),
        _ => Some(pick(g, &[TypeName::Int, TypeName::Float, TypeName::Bool])),
    };
    let style = match below(g, 10) {
        0..=4 if fit.like.is_none() => DefStyle::Create,
        0..=6 => DefStyle::CreateOrReplace,
        _ => DefStyle::Arrow,
    };
    // now and then a bigger function: more live values, spills around calls
    let depth = 1 + below(g, fit.max_depth) + if below(g, 6) == 0 { 2 } else { 0 };
    // Deep: a loop of 100,000 iterations, or a recursion up to the depth limit.
    let deep = fit.like.is_none() && below(g, 100) == 0;
    let (mut limit, mut selfs) = match kind {
        2 if deep => (100_000, 1),
        2 => {
            let k = match below(g, 10) {
                0..=5 => 1 + below(g, 8),
                6..=8 => 10 + below(g, 51),
                _ => 100 + below(g, 201),
            };
            (i64::from(k), 1)
        }
        3 if deep => (pick(g, &[9_998, 9_999, 10_000, 10_001, 20_000]), 1),
        3 => {
            let k = 1 + below(g, 8);
            (i64::from(k), if k <= 4 && below(g, 4) == 0 { 2 } else { 1 })
        }
        _ => (0, 0),
    };
    if kind >= 2 && !deep && levels(limit, selfs) > fit.max_cost {
        // (a redefinition costs no more than the function it replaces)
        if fit.max_cost >= 2 {
            (limit, selfs) = (limit.min(fit.max_cost as i64 - 1), 1);
        } else {
            kind = 0;
        }
    }
    let counted = kind >= 2;
    let per_level = if counted { levels(limit, selfs) } else { 1 };
    let mut gx = Gx {
        g,
        env: params.iter().map(|p| (p.name.clone(), p.ty)).collect(),
        next_let: 0,
        sigs: fit.sigs,
        budget: if deep {
            0
        } else {
            (fit.max_cost / per_level).saturating_sub(1)
        },
        recur: None,
        shadowable: params
            .iter()
            .filter(|p| p.name != "n")
            .map(|p| p.name.clone())
            .collect(),
        ill_typed: 0,
    };
    // One function in four has ill-typed nodes.
    if below(gx.g, 4) == 0 {
        gx.ill_typed = 30;
    }
    let nlets = below(gx.g, if counted { 2 } else { 3 });
    let mut lets: Vec<Let> = (0..nlets).map(|_| gx.let_(depth)).collect();
    if below(gx.g, 12) == 0 {
        // An unused string or null: the function stays interpreted (and so do its
        // callers) while its callees compile: call chains cross tiers.
        gx.next_let += 1;
        lets.insert(
            0,
            Let {
                name: format!("v{}", gx.next_let - 1),
                ty: Ty::Int,
                value: pick(gx.g, &[Expr::Str("grizzly".into()), Expr::Null]),
            },
        );
    }
    let shape = if !counted {
        Shape::Plain(gx.expr(ret, depth))
    } else {
        let base = gx.body(ret, depth.min(2));
        let rest: Vec<Ty> = params[1..].iter().map(|p| p.ty).collect();
        let step = if kind == 2 {
            tail_step(&mut gx, &params[1..], depth)
        } else {
            // One self call (two, now and then) in the step, and one of them
            // combined with the step's result: never in tail position.
            gx.recur = Some(SelfCalls {
                ret,
                params: rest,
                left: selfs - 1,
            });
            let mut step = gx.body(ret, depth.max(2));
            if let Some(r) = gx.recur.as_mut() {
                r.left = 1;
            }
            let call = gx.recur_call(1);
            let result = std::mem::replace(&mut step.result, Expr::Null);
            step.result = nontail(gx.g, ret, call, result);
            gx.recur = None;
            step
        };
        Shape::Counted(Counted {
            limit,
            cond: below(gx.g, 4) as u8,
            decrement: below(gx.g, 2) as u8,
            step,
            base,
        })
    };
    Function {
        id,
        params,
        ret,
        returns,
        style,
        lets,
        shape,
    }
}

/// `call` (a self call) combined with `other`, out of tail position.
fn nontail(g: &mut Gen, t: Ty, call: Expr, other: Expr) -> Expr {
    if below(g, 8) == 0 {
        // (a depth overflow caught at every level)
        return Expr::Try(bx(call), bx(other));
    }
    let (a, b) = if bool::arbitrary(g) {
        (call, other)
    } else {
        (other, call)
    };
    match (t, below(g, 8)) {
        (_, 0) => bin(BinaryOp::Coalesce, a, b),
        (Ty::Bool, 1..=4) => bin(pick(g, &[BinaryOp::And, BinaryOp::Or]), a, b),
        (Ty::Bool, _) => bin(pick(g, &[BinaryOp::Eq, BinaryOp::Ne]), a, b),
        (_, 1) => Expr::Builtin(pick(g, &[Builtin::Min, Builtin::Max]), vec![a, b]),
        _ => bin(pick(g, &ARITH[..3]), a, b),
    }
}

/// The step of a self tail-recursive loop: the updated parameters, now and then
/// chosen by an `IF`.
fn tail_step(gx: &mut Gx<'_>, params: &[Param], depth: u32) -> Body {
    let saved = gx.env.len();
    let lets = (0..below(gx.g, 2)).map(|_| gx.let_(depth)).collect();
    let updates = |gx: &mut Gx<'_>| {
        let args = params.iter().map(|p| gx.update(&p.name, p.ty)).collect();
        Expr::Recur(args)
    };
    let result = if below(gx.g, 5) == 0 {
        let c = gx.expr(Ty::Bool, 2);
        let a = updates(gx);
        let b = updates(gx);
        Expr::If(
            bx(c),
            Box::new(Body {
                lets: vec![],
                result: a,
            }),
            Box::new(Body {
                lets: vec![],
                result: b,
            }),
        )
    } else {
        updates(gx)
    };
    gx.env.truncate(saved);
    Body { lets, result }
}

/// What calls of the functions `..upto` of `p` need to know.
fn sigs(p: &Program, upto: usize) -> Vec<Sig> {
    p.functions[..upto]
        .iter()
        .map(|f| Sig {
            id: f.id,
            params: f.params.iter().map(|p| p.ty).collect(),
            counted: f.counted().is_some(),
            ret: f.ret,
            // deep functions are called from the top level only
            cost: if is_deep(f) { u64::MAX } else { cost(p, f) },
        })
        .collect()
}

pub fn is_deep(f: &Function) -> bool {
    f.counted().is_some_and(|c| c.limit >= DEEP)
}

/// A program of 2 to 5 functions (fewer and shallower for small sizes).
pub fn program(g: &mut Gen) -> Program {
    let size = g.size() as u32;
    let n = 2 + below(g, 1 + (size / 25).min(3));
    // (4 from size 90; beyond the default size 100, deeper still)
    let max_depth = 1 + (size / 30).min(3) + (size / 100).saturating_sub(1);
    let mut p = Program {
        functions: Vec::new(),
        style: Style::default(),
    };
    for id in 0..n as usize {
        let sigs = sigs(&p, id);
        let fit = Fit {
            sigs: &sigs,
            max_cost: MAX_COST,
            max_depth,
            like: None,
        };
        let f = function(g, id, &fit);
        let c = cost(&p, &f);
        assert!(c <= MAX_COST || is_deep(&f), "f{id} costs {c}");
        p.functions.push(f);
    }
    if below(g, 3) == 0 {
        p.style = Style {
            case: below(g, 3) as u8,
            symbols: bool::arbitrary(g),
            synonyms: bool::arbitrary(g),
            methods: bool::arbitrary(g),
            multiline: bool::arbitrary(g),
            parens: below(g, 4) == 0,
            comments: below(g, 4) == 0,
        };
    }
    p
}

impl Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Case {
        let program = program(g);
        let last = program.functions.len() - 1;
        let calls: Vec<Call> = (0..2 + below(g, 5))
            .map(|_| {
                let i = if below(g, 5) < 3 {
                    last
                } else {
                    below(g, last as u32 + 1) as usize
                };
                let f = &program.functions[i];
                let mut args = args::tuple(g, &f.params, f.counted().map(|c| c.limit));
                if below(g, 50) == 0 {
                    // the wrong number of arguments
                    match args.pop() {
                        Some(_) if bool::arbitrary(g) => {}
                        _ => args.extend([Value::Int(1), Value::Int(2)]),
                    }
                }
                Call {
                    func: f.id,
                    args,
                    twice: bool::arbitrary(g),
                }
            })
            .collect();
        // One case in four defines a function again between two calls.
        let redefine = (below(g, 4) == 0).then(|| {
            let j = below(g, last as u32 + 1) as usize;
            let like = &program.functions[j];
            let sigs = sigs(&program, j);
            let mut params = like.params.clone();
            // now and then with a parameter less: calls of it fail the arity check
            if params.len() > 1 && below(g, 10) == 0 {
                params.pop();
            }
            let fit = Fit {
                sigs: &sigs,
                max_cost: cost(&program, like),
                max_depth: 3,
                like: Some(&params),
            };
            Redefinition {
                at: 1 + below(g, calls.len() as u32 - 1) as usize,
                function: function(g, like.id, &fit),
            }
        });
        let max_depth = if below(g, 6) == 0 {
            3 + below(g, 25)
        } else {
            grizzly::engine::DEFAULT_MAX_DEPTH
        };
        // One case in eight also runs on a JIT engine that is interrupted at a random
        // point: 0 to 400 µs after a random step begins, by a second thread or (one in
        // three) a deadline on each call from that step. Most calls take a few µs (the
        // first, compiling, longer), so the pause is as often up to 400 µs as up to
        // 200, 100, ... or 1 µs.
        let interrupt = (below(g, 8) == 0).then(|| Interrupt {
            mode: below(g, 3) as u8,
            step: below(g, 8) as u8,
            micros: below(g, 401) >> below(g, 9),
            deadline: below(g, 3) == 0,
        });
        Case {
            program,
            calls,
            redefine,
            max_depth,
            interrupt,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Case>> {
        Box::new(super::shrink::case(self).into_iter())
    }
}
