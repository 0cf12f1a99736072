//! Property: pretty-printing any program and parsing the text back gives the same
//! program (spans aside), and printing that again gives the same text (which also
//! checks floats bit for bit). Programs are generated with a depth budget per level
//! (unbounded recursion overflows: quickcheck issue #23), and shrinking never yields
//! the value itself (that loops forever: quickcheck issue #133).

use grizzly::internals::syntax::ast::{
    BinaryOp, Body, DefStyle, Expr, ExprKind, FunctionDef, Ident, Item, Let, Param, Program, Span,
    TypeName, UnaryOp,
};
use grizzly::internals::syntax::{parse_program, pretty};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use std::fmt;
use std::sync::Arc;

/// Expression depth budget of a generated item.
const DEPTH: usize = 4;

#[derive(Clone)]
struct Prog(Program);

impl fmt::Debug for Prog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{}", pretty::program(&self.0))
    }
}

fn pick<T: Copy>(g: &mut Gen, items: &[T]) -> T {
    *g.choose(items).expect("non-empty")
}

fn below(g: &mut Gen, n: u32) -> u32 {
    u32::arbitrary(g) % n
}

fn sp() -> Span {
    Span::default()
}

const KEYWORDS: [&str; 16] = [
    "create", "or", "replace", "function", "returns", "let", "if", "else", "try", "catch", "and",
    "not", "as", "true", "false", "null",
];

fn name(g: &mut Gen) -> Arc<str> {
    const POOL: [&str; 10] = [
        "x", "y", "abc", "_t", "int", "Float", "f1", "A_B", "e5", "number",
    ];
    if bool::arbitrary(g) {
        return Arc::from(pick(g, &POOL));
    }
    let first = pick(g, &['a', 'q', 'Z', '_', 'i', 'e', 'o']);
    let len = below(g, 6) as usize;
    let rest: String = (0..len)
        .map(|_| pick(g, &['a', 'b', 'F', '0', '9', '_', 'n', 'r', 't']))
        .collect();
    let word = format!("{first}{rest}");
    if KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
        Arc::from("kw")
    } else {
        Arc::from(word)
    }
}

fn ident(g: &mut Gen) -> Ident {
    Ident {
        name: name(g),
        span: sp(),
    }
}

fn float(g: &mut Gen) -> f64 {
    let v = match below(g, 5) {
        0 => f64::arbitrary(g),
        1 => f64::from_bits(u64::arbitrary(g)),
        2 => f64::INFINITY,
        3 => f64::from(below(g, 1000)) / 8.0,
        _ => f64::from(u32::arbitrary(g)) * 1e-9,
    };
    // The parser never makes a negative or NaN literal.
    if v.is_nan() {
        0.5
    } else {
        v.abs()
    }
}

fn leaf(g: &mut Gen) -> ExprKind {
    match below(g, 9) {
        0 => ExprKind::Int(i64::MIN),
        1 => ExprKind::Int(i64::arbitrary(g).checked_abs().unwrap_or(i64::MAX)),
        2 => ExprKind::Int(i64::from(below(g, 100))),
        3 => ExprKind::Float(float(g)),
        4 => ExprKind::Bool(bool::arbitrary(g)),
        5 => ExprKind::Str(Arc::from(String::arbitrary(g))),
        6 => ExprKind::Null,
        _ => ExprKind::Var(name(g)),
    }
}

const CASTS: [TypeName; 4] = [
    TypeName::Int,
    TypeName::Float,
    TypeName::Bool,
    TypeName::Str,
];
const ANNOTATIONS: [TypeName; 5] = [
    TypeName::Int,
    TypeName::Float,
    TypeName::Bool,
    TypeName::Str,
    TypeName::Number,
];

fn expr(g: &mut Gen, depth: usize) -> Expr {
    let e = |kind| Expr::new(kind, sp());
    if depth == 0 || below(g, 4) == 0 {
        return e(leaf(g));
    }
    let sub = |g: &mut Gen| Box::new(expr(g, depth - 1));
    let kind = match below(g, 7) {
        0 => ExprKind::Unary(pick(g, &[UnaryOp::Neg, UnaryOp::Not]), sub(g)),
        1 | 2 => ExprKind::Binary(pick(g, &BinaryOp::ALL), sub(g), sub(g)),
        3 => ExprKind::Cast(sub(g), pick(g, &CASTS)),
        4 => {
            let n = below(g, 4);
            ExprKind::Call(ident(g), (0..n).map(|_| expr(g, depth - 1)).collect())
        }
        5 => ExprKind::If(
            sub(g),
            Box::new(body(g, depth - 1)),
            Box::new(body(g, depth - 1)),
        ),
        _ => ExprKind::Try(sub(g), sub(g)),
    };
    e(kind)
}

fn body(g: &mut Gen, depth: usize) -> Body {
    let lets = (0..below(g, 3))
        .map(|_| Let {
            name: ident(g),
            value: expr(g, depth),
            span: sp(),
        })
        .collect();
    Body {
        lets,
        result: expr(g, depth),
        span: sp(),
    }
}

fn item(g: &mut Gen) -> Item {
    match below(g, 4) {
        0 => {
            let style = pick(
                g,
                &[DefStyle::Create, DefStyle::CreateOrReplace, DefStyle::Arrow],
            );
            let mut body = body(g, DEPTH);
            if style == DefStyle::Arrow {
                body.lets.clear();
            }
            let params = (0..below(g, 4))
                .map(|_| Param {
                    name: ident(g),
                    ty: bool::arbitrary(g).then(|| pick(g, &ANNOTATIONS)),
                })
                .collect();
            let returns = bool::arbitrary(g).then(|| pick(g, &ANNOTATIONS));
            Item::Function(Arc::new(FunctionDef {
                name: ident(g),
                params,
                returns,
                body,
                style,
                span: sp(),
            }))
        }
        1 => Item::Let(Let {
            name: ident(g),
            value: expr(g, DEPTH),
            span: sp(),
        }),
        _ => Item::Expr(expr(g, DEPTH)),
    }
}

impl Arbitrary for Prog {
    fn arbitrary(g: &mut Gen) -> Prog {
        let n = below(g, 5);
        Prog(Program {
            items: (0..n).map(|_| item(g)).collect(),
        })
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Prog>> {
        let items = &self.0.items;
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut fewer = items.clone();
            fewer.remove(i);
            out.push(fewer);
        }
        for (i, it) in items.iter().enumerate() {
            for smaller in shrink_item(it) {
                let mut v = items.clone();
                v[i] = smaller;
                out.push(v);
            }
        }
        Box::new(out.into_iter().map(|items| Prog(Program { items })))
    }
}

fn shrink_item(it: &Item) -> Vec<Item> {
    match it {
        Item::Expr(e) => shrink_expr(e).into_iter().map(Item::Expr).collect(),
        Item::Let(l) => {
            let mut out = vec![Item::Expr(l.value.clone())];
            out.extend(
                shrink_expr(&l.value)
                    .into_iter()
                    .map(|value| Item::Let(Let { value, ..l.clone() })),
            );
            out
        }
        Item::Function(f) => {
            let mut out = vec![Item::Expr(f.body.result.clone())];
            out.extend(shrink_body(&f.body).into_iter().map(|body| {
                Item::Function(Arc::new(FunctionDef {
                    body,
                    ..(**f).clone()
                }))
            }));
            if !f.params.is_empty() {
                let params = f.params[1..].to_vec();
                out.push(Item::Function(Arc::new(FunctionDef {
                    params,
                    ..(**f).clone()
                })));
            }
            out
        }
    }
}

fn shrink_body(b: &Body) -> Vec<Body> {
    let mut out = Vec::new();
    for i in 0..b.lets.len() {
        let mut lets = b.lets.clone();
        lets.remove(i);
        out.push(Body { lets, ..b.clone() });
    }
    for result in shrink_expr(&b.result) {
        out.push(Body {
            result,
            ..b.clone()
        });
    }
    out
}

/// Strictly smaller expressions: the children first, then the node with one child
/// shrunk. Never `e` itself.
fn shrink_expr(e: &Expr) -> Vec<Expr> {
    let node = |kind| Expr::new(kind, sp());
    let bx = |e: Expr| Box::new(e);
    let mut out = Vec::new();
    match &e.kind {
        ExprKind::Int(v) if *v != 0 => {
            out.push(node(ExprKind::Int(0)));
            if *v / 2 != 0 && *v != i64::MIN {
                out.push(node(ExprKind::Int(*v / 2)));
            }
        }
        ExprKind::Float(v) if *v != 0.0 => out.push(node(ExprKind::Float(0.0))),
        ExprKind::Str(s) if !s.is_empty() => out.push(node(ExprKind::Str(Arc::from("")))),
        ExprKind::Bool(true) => out.push(node(ExprKind::Bool(false))),
        ExprKind::Var(n) if &**n != "x" => out.push(node(ExprKind::Var(Arc::from("x")))),
        ExprKind::Unary(op, a) => {
            out.push((**a).clone());
            out.extend(
                shrink_expr(a)
                    .into_iter()
                    .map(|a| node(ExprKind::Unary(*op, bx(a)))),
            );
        }
        ExprKind::Cast(a, t) => {
            out.push((**a).clone());
            out.extend(
                shrink_expr(a)
                    .into_iter()
                    .map(|a| node(ExprKind::Cast(bx(a), *t))),
            );
        }
        ExprKind::Binary(op, a, b) => {
            pairs(&mut out, a, b, |a, b| ExprKind::Binary(*op, bx(a), bx(b)));
        }
        ExprKind::Try(a, b) => pairs(&mut out, a, b, |a, b| ExprKind::Try(bx(a), bx(b))),
        ExprKind::Call(f, args) => {
            out.extend(args.iter().cloned());
            for i in 0..args.len() {
                let mut fewer = args.clone();
                fewer.remove(i);
                out.push(node(ExprKind::Call(f.clone(), fewer)));
                for a in shrink_expr(&args[i]) {
                    let mut v = args.clone();
                    v[i] = a;
                    out.push(node(ExprKind::Call(f.clone(), v)));
                }
            }
        }
        ExprKind::If(c, t, o) => {
            out.push((**c).clone());
            out.push(t.result.clone());
            out.push(o.result.clone());
            for c2 in shrink_expr(c) {
                out.push(node(ExprKind::If(bx(c2), t.clone(), o.clone())));
            }
            for t2 in shrink_body(t) {
                out.push(node(ExprKind::If(c.clone(), Box::new(t2), o.clone())));
            }
            for o2 in shrink_body(o) {
                out.push(node(ExprKind::If(c.clone(), t.clone(), Box::new(o2))));
            }
        }
        _ => {}
    }
    out
}

/// Shrinks of a node with two operands: each operand, then one operand shrunk.
fn pairs(out: &mut Vec<Expr>, a: &Expr, b: &Expr, make: impl Fn(Expr, Expr) -> ExprKind) {
    out.push(a.clone());
    out.push(b.clone());
    for a2 in shrink_expr(a) {
        out.push(Expr::new(make(a2, b.clone()), sp()));
    }
    for b2 in shrink_expr(b) {
        out.push(Expr::new(make(a.clone(), b2), sp()));
    }
}

/// Every span lies inside its parent's (and the text).
fn spans_nest(e: &Expr, outer: Span) -> bool {
    let inside = |s: Span| outer.start <= s.start && s.end <= outer.end && s.start <= s.end;
    if !inside(e.span) {
        return false;
    }
    let body_ok = |b: &Body| {
        inside(b.span)
            && b.lets
                .iter()
                .all(|l| inside(l.span) && spans_nest(&l.value, l.span))
            && spans_nest(&b.result, b.span)
    };
    match &e.kind {
        ExprKind::Unary(_, a) | ExprKind::Cast(a, _) => spans_nest(a, e.span),
        ExprKind::Binary(_, a, b) | ExprKind::Try(a, b) => {
            spans_nest(a, e.span) && spans_nest(b, e.span)
        }
        ExprKind::Call(f, args) => inside(f.span) && args.iter().all(|a| spans_nest(a, e.span)),
        ExprKind::If(c, t, o) => spans_nest(c, e.span) && body_ok(t) && body_ok(o),
        _ => true,
    }
}

fn roundtrip(p: Prog) -> TestResult {
    let text = pretty::program(&p.0);
    let parsed = match parse_program(&text) {
        Ok(parsed) => parsed,
        Err(e) => {
            return TestResult::error(format!(
                "{text}\n{:?}",
                e.all().map(|e| e.message()).collect::<Vec<_>>()
            ))
        }
    };
    if pretty::without_spans(&parsed) != pretty::without_spans(&p.0) {
        return TestResult::error(format!("different tree from:\n{text}"));
    }
    if pretty::program(&parsed) != text {
        return TestResult::error(format!(
            "prints differently:\n{text}\n{}",
            pretty::program(&parsed)
        ));
    }
    let whole = Span::new(0, text.len());
    let nested = parsed.items.iter().all(|item| match item {
        Item::Expr(e) => spans_nest(e, whole),
        Item::Let(l) => spans_nest(&l.value, l.span),
        Item::Function(f) => spans_nest(&f.body.result, f.body.span),
    });
    if !nested {
        return TestResult::error(format!("spans do not nest:\n{text}"));
    }
    TestResult::passed()
}

#[test]
fn print_then_parse_is_the_identity() {
    QuickCheck::new()
        .tests(1500)
        .rng(Gen::new(30))
        .quickcheck(roundtrip as fn(Prog) -> TestResult);
}

#[test]
fn shrinking_never_yields_the_value_itself() {
    let mut g = Gen::new(30);
    for _ in 0..200 {
        let p = Prog::arbitrary(&mut g);
        let text = pretty::program(&p.0);
        for smaller in p.shrink() {
            assert_ne!(pretty::program(&smaller.0), text);
        }
    }
}
