#![cfg(feature = "jit")]

//! Differential property: a random function run by the interpreter (`JitMode::Off`), by
//! compiled code from its first call (`JitMode::Eager`) and by a tiering engine
//! (`JitMode::On`, threshold 2, every call made twice) prints the same values and raises
//! the same errors, for several argument tuples.
//!
//! Programs are typed by construction most of the time (int, float and bool expressions
//! over parameters `a, b: int`, `x, y: float`, `p: bool`) so that the JIT compiles them,
//! with edge constants (`i64::MIN`, `i64::MAX`, `-0.0`, `1e308`, NaN, ...) so that many of
//! them hit guards (overflow, division by zero, float to int casts); now and then an
//! operand of the wrong type makes them ill-typed. Generation carries a depth budget
//! (quickcheck issue #23) and shrinking never yields the value itself (issue #133).
//! The run is reproducible: a fixed seed, and the failing program is printed.
//! `JIT_DIFF_SEED=n` and `JIT_DIFF_TESTS=n` run another seed or more programs;
//! `JIT_DIFF_TRACE=file` writes each case to `file` before running it (to find a hang).

use grizzly::{Engine, JitMode, Value};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Expression depth budget of a generated body.
const DEPTH: usize = 4;
/// Programs checked per run (default).
const TESTS: u64 = 400;
const SEED: u64 = 0x0067_7269_7a7a_6c79;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Helpers every program may call: small int, float and bool functions, a non-tail
/// recursion that overflows for large `n`, a self tail loop, and a loop that calls float
/// helpers (floor, fmod, pow) with its parameters in registers.
const HELPERS: &str = "\
FUNCTION hi(u) => u * 3 - 1
FUNCTION hf(u) => u / 2.0 + 1
FUNCTION hb(u, v) => u < v OR u != u
FUNCTION fact(n) => IF n <= 1 { 1 } ELSE { n * fact(n - 1) }
FUNCTION sum_down(n, acc) => IF n <= 0 { acc } ELSE { sum_down(n - 1, acc + n) }
FUNCTION fl_loop(n, acc, z) => IF n <= 0 { acc + z } ELSE { fl_loop(n - 1, floor(acc * 1.5) % 1000.0 + pow(z, 0.5), z + 1.0) }
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Int,
    Float,
    Bool,
}

/// A generated expression, printed fully parenthesised.
#[derive(Clone, Debug)]
enum E {
    /// Literal text (a number, `true`, or a parenthesised constant expression).
    Lit(&'static str),
    Int(i64),
    Float(f64),
    Var(String),
    Neg(Box<E>),
    Not(Box<E>),
    Bin(&'static str, Box<E>, Box<E>),
    Cast(Box<E>, &'static str),
    Call(&'static str, Vec<E>),
    If(Box<E>, Box<Body>, Box<Body>),
    Try(Box<E>, Box<E>),
}

#[derive(Clone, Debug)]
struct Body {
    lets: Vec<(String, E)>,
    result: E,
}

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            E::Lit(s) => f.write_str(s),
            E::Int(v) if *v == i64::MIN => f.write_str("(-9223372036854775807 - 1)"),
            E::Int(v) if *v < 0 => write!(f, "({v})"),
            E::Int(v) => write!(f, "{v}"),
            E::Float(v) if v.is_nan() => f.write_str("(0.0 / 0.0)"),
            E::Float(v) if v.is_infinite() => {
                f.write_str(if *v > 0.0 { "1e999" } else { "(-1e999)" })
            }
            E::Float(v) if v.is_sign_negative() => write!(f, "(-{:?})", -v),
            E::Float(v) => write!(f, "{v:?}"),
            E::Var(n) => f.write_str(n),
            E::Neg(a) => write!(f, "(-{a})"),
            E::Not(a) => write!(f, "(NOT {a})"),
            E::Bin(op, a, b) => write!(f, "({a} {op} {b})"),
            E::Cast(a, t) => write!(f, "({a} AS {t})"),
            E::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            E::If(c, t, o) => write!(f, "(IF {c} {{ {t} }} ELSE {{ {o} }})"),
            E::Try(a, b) => write!(f, "(TRY {a} CATCH {b})"),
        }
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.lets {
            write!(f, "LET {name} = {value}; ")?;
        }
        write!(f, "{}", self.result)
    }
}

fn below(g: &mut Gen, n: u32) -> u32 {
    u32::arbitrary(g) % n
}

fn pick<T: Copy>(g: &mut Gen, items: &[T]) -> T {
    *g.choose(items).expect("non-empty")
}

const INTS: [i64; 14] = [
    0,
    1,
    -1,
    2,
    3,
    -7,
    10,
    62,
    64,
    1 << 32,
    3_037_000_500,
    i64::MAX,
    i64::MIN,
    -9_223_372_036_854_775_807,
];
const FLOATS: [f64; 14] = [
    0.0,
    -0.0,
    0.5,
    -1.5,
    2.5,
    1e308,
    -1e308,
    5e-324,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    9.223372036854776e18,
    -9.223372036854776e18,
    0.49999999999999994,
];

/// The scope of an expression: names and their types.
#[derive(Clone, Default)]
struct Env {
    vars: Vec<(String, T)>,
    next: usize,
}

impl Env {
    fn params() -> Env {
        Env {
            vars: vec![
                ("a".into(), T::Int),
                ("b".into(), T::Int),
                ("x".into(), T::Float),
                ("y".into(), T::Float),
                ("p".into(), T::Bool),
            ],
            next: 0,
        }
    }
    /// The visible names of type `t` (a `LET` may shadow a name with another type).
    fn of(&self, t: T) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (n, vt) in self.vars.iter().rev() {
            if seen.contains(&n.as_str()) {
                continue;
            }
            seen.push(n);
            if *vt == t {
                out.push(n.as_str());
            }
        }
        out
    }
}

fn leaf(g: &mut Gen, t: T, env: &Env) -> E {
    let vars = env.of(t);
    if !vars.is_empty() && below(g, 2) == 0 {
        return E::Var(pick(g, &vars).to_string());
    }
    match t {
        T::Int => match below(g, 3) {
            0 => E::Int(i64::from(below(g, 20)) - 5),
            _ => E::Int(pick(g, &INTS)),
        },
        T::Float => match below(g, 3) {
            0 => E::Float(f64::from(below(g, 40)) / 4.0 - 3.0),
            _ => E::Float(pick(g, &FLOATS)),
        },
        T::Bool => E::Lit(pick(g, &["true", "false"])),
    }
}

fn other(g: &mut Gen, t: T) -> T {
    match (t, below(g, 2)) {
        (T::Int, 0) | (T::Bool, 0) => T::Float,
        (T::Float, 0) | (T::Bool, _) => T::Int,
        _ => T::Bool,
    }
}

fn num(g: &mut Gen) -> T {
    if bool::arbitrary(g) {
        T::Int
    } else {
        T::Float
    }
}

/// An expression of type `t` (now and then of another type: ill-typed programs).
fn expr(g: &mut Gen, t: T, depth: usize, env: &mut Env) -> E {
    let t = if below(g, 25) == 0 { other(g, t) } else { t };
    if depth == 0 || below(g, 4) == 0 {
        return leaf(g, t, env);
    }
    let d = depth - 1;
    let bx = Box::new;
    match t {
        T::Int => match below(g, 12) {
            0..=2 => {
                let op = pick(g, &["+", "-", "*", "/", "%"]);
                E::Bin(op, bx(expr(g, T::Int, d, env)), bx(expr(g, T::Int, d, env)))
            }
            3 => E::Neg(bx(expr(g, T::Int, d, env))),
            4 => {
                let f = pick(g, &["abs", "floor", "ceil", "round"]);
                E::Call(f, vec![expr(g, T::Int, d, env)])
            }
            5 => {
                let f = pick(g, &["min", "max"]);
                E::Call(f, vec![expr(g, T::Int, d, env), expr(g, T::Int, d, env)])
            }
            6 => {
                let from = pick(g, &[T::Float, T::Float, T::Bool, T::Int]);
                E::Cast(bx(expr(g, from, d, env)), "int")
            }
            7 => if_(g, T::Int, d, env),
            8 => E::Try(bx(expr(g, T::Int, d, env)), bx(expr(g, T::Int, d, env))),
            9 => match below(g, 3) {
                0 => E::Call("hi", vec![expr(g, T::Int, d, env)]),
                1 => E::Call("fact", vec![count(g, 25, d, env)]),
                _ => E::Call(
                    "sum_down",
                    vec![count(g, 60, d, env), expr(g, T::Int, d, env)],
                ),
            },
            10 => {
                // the minimum written as an expression, and folding around it
                let e = expr(g, T::Int, d, env);
                E::Bin("-", bx(E::Lit("(-9223372036854775807 - 1)")), bx(e))
            }
            _ => E::Bin(
                "%",
                bx(expr(g, T::Int, d, env)),
                bx(E::Int(pick(g, &[4, -1, 1, 8, 1 << 62]))),
            ),
        },
        T::Float => match below(g, 12) {
            0..=2 => {
                let op = pick(g, &["+", "-", "*", "/", "%"]);
                let (l, r) = if bool::arbitrary(g) {
                    (T::Float, T::Float)
                } else {
                    (num(g), T::Float)
                };
                let (l, r) = if bool::arbitrary(g) { (l, r) } else { (r, l) };
                E::Bin(op, bx(expr(g, l, d, env)), bx(expr(g, r, d, env)))
            }
            3 => E::Neg(bx(expr(g, T::Float, d, env))),
            4 => {
                let f = pick(g, &["abs", "floor", "ceil", "round"]);
                E::Call(f, vec![expr(g, T::Float, d, env)])
            }
            5 => {
                let nt = num(g);
                E::Call("sqrt", vec![expr(g, nt, d, env)])
            }
            6 => {
                let f = pick(g, &["min", "max", "pow"]);
                let (l, r) = (num(g), T::Float);
                let (l, r) = if bool::arbitrary(g) { (l, r) } else { (r, l) };
                E::Call(f, vec![expr(g, l, d, env), expr(g, r, d, env)])
            }
            7 => {
                let from = pick(g, &[T::Int, T::Bool, T::Float]);
                E::Cast(bx(expr(g, from, d, env)), "float")
            }
            8 => if_(g, T::Float, d, env),
            9 => E::Try(bx(expr(g, T::Float, d, env)), bx(expr(g, T::Float, d, env))),
            10 => {
                let nt = num(g);
                E::Call("hf", vec![expr(g, nt, d, env)])
            }
            _ => E::Call(
                "fl_loop",
                vec![
                    count(g, 9, d, env),
                    expr(g, T::Float, d, env),
                    expr(g, T::Float, d, env),
                ],
            ),
        },
        T::Bool => match below(g, 9) {
            0..=2 => {
                let op = pick(g, &["==", "!=", "<", "<=", ">", ">="]);
                let (l, r) = (num(g), num(g));
                E::Bin(op, bx(expr(g, l, d, env)), bx(expr(g, r, d, env)))
            }
            3 => {
                let op = pick(g, &["==", "!="]);
                E::Bin(
                    op,
                    bx(expr(g, T::Bool, d, env)),
                    bx(expr(g, T::Bool, d, env)),
                )
            }
            4 | 5 => {
                let op = pick(g, &["AND", "OR"]);
                E::Bin(
                    op,
                    bx(expr(g, T::Bool, d, env)),
                    bx(expr(g, T::Bool, d, env)),
                )
            }
            6 => match below(g, 3) {
                0 => {
                    let (l, r) = (num(g), num(g));
                    E::Call("hb", vec![expr(g, l, d, env), expr(g, r, d, env)])
                }
                _ => E::Not(bx(expr(g, T::Bool, d, env))),
            },
            7 => if_(g, T::Bool, d, env),
            _ => {
                // bool against a number: unequal, never an error
                let nt = num(g);
                E::Bin("==", bx(expr(g, T::Bool, d, env)), bx(expr(g, nt, d, env)))
            }
        },
    }
}

/// An iteration count below `n` for the helpers that loop or recurse: an int whatever
/// the expression (the cast fails on NaN, so a loop always ends).
fn count(g: &mut Gen, n: i64, depth: usize, env: &mut Env) -> E {
    let e = expr(g, T::Int, depth, env);
    E::Bin(
        "%",
        Box::new(E::Cast(Box::new(e), "int")),
        Box::new(E::Int(n)),
    )
}

fn if_(g: &mut Gen, t: T, depth: usize, env: &mut Env) -> E {
    let c = expr(g, T::Bool, depth, env);
    let then = body(g, t, depth, env);
    let other = body(g, t, depth, env);
    E::If(Box::new(c), Box::new(then), Box::new(other))
}

/// A body of type `t`: up to two `LET`s (visible to what follows them in this body).
fn body(g: &mut Gen, t: T, depth: usize, env: &mut Env) -> Body {
    body_then(g, t, depth, env, |_, _| ()).0
}

/// [`body`], and `then` generating something more in the scope of the body's `LET`s.
fn body_then<X>(
    g: &mut Gen,
    t: T,
    depth: usize,
    env: &mut Env,
    then: impl FnOnce(&mut Gen, &mut Env) -> X,
) -> (Body, X) {
    let saved = env.vars.len();
    let mut lets = Vec::new();
    for _ in 0..below(g, 3) {
        let lt = pick(g, &[T::Int, T::Float, T::Bool]);
        let value = expr(g, lt, depth.saturating_sub(1), env);
        // Now and then a LET shadows a parameter, possibly with another type.
        let name = if below(g, 6) == 0 {
            pick(g, &["a", "b", "x", "y", "p"]).to_string()
        } else {
            env.next += 1;
            format!("v{}", env.next - 1)
        };
        env.vars.push((name.clone(), lt));
        lets.push((name, value));
    }
    let result = expr(g, t, depth, env);
    let more = then(g, env);
    env.vars.truncate(saved);
    (Body { lets, result }, more)
}

/// One generated case: the body of `f(a, b, x, y, p)` and the argument tuples to call it
/// with. A looping case is `f(k, a, b, x, y, p)`, a self tail loop that runs `k` times
/// with new parameters (`updates`, often a permutation of them) before it computes the
/// body's result: loop parameters live in registers, which calls and float helpers
/// clobber.
///
/// Parameters may carry annotations and the function a `RETURNS` type (checked, and
/// converting int to float, at the boundary), and some cases run under a small call-depth
/// limit (the recursive helper then overflows it).
#[derive(Clone)]
struct Case {
    body: Body,
    updates: Option<Vec<E>>,
    /// Per parameter of `PARAMS`.
    annotations: Vec<Option<&'static str>>,
    returns: Option<&'static str>,
    max_depth: u32,
    args: Vec<Vec<Value>>,
}

const PARAMS: [(&str, T); 5] = [
    ("a", T::Int),
    ("b", T::Int),
    ("x", T::Float),
    ("y", T::Float),
    ("p", T::Bool),
];

impl Case {
    fn definition(&self) -> String {
        let mut params: Vec<String> = PARAMS
            .iter()
            .zip(&self.annotations)
            .map(|((name, _), ty)| match ty {
                Some(ty) => format!("{name}: {ty}"),
                None => name.to_string(),
            })
            .collect();
        if self.updates.is_some() {
            params.insert(0, "k".into());
        }
        let head = format!(
            "CREATE FUNCTION f({}){}",
            params.join(", "),
            self.returns
                .map_or(String::new(), |t| format!(" RETURNS {t}"))
        );
        match &self.updates {
            None => format!("{head} {{ {} }}", self.body),
            Some(updates) => {
                let mut lets = String::new();
                for (name, value) in &self.body.lets {
                    lets.push_str(&format!("LET {name} = {value}; "));
                }
                let next: Vec<String> = updates.iter().map(E::to_string).collect();
                format!(
                    "{head} {{ {lets}IF k <= 0 {{ {} }} ELSE {{ f(k - 1, {}) }} }}",
                    self.body.result,
                    next.join(", ")
                )
            }
        }
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n{}", self.definition())?;
        if self.max_depth != grizzly::engine::DEFAULT_MAX_DEPTH {
            writeln!(f, "  (max_depth {})", self.max_depth)?;
        }
        for args in &self.args {
            let shown: Vec<String> = args.iter().map(|v| format!("{v:?}")).collect();
            writeln!(f, "  f({})", shown.join(", "))?;
        }
        Ok(())
    }
}

fn arg_of(g: &mut Gen, t: T) -> Value {
    match t {
        T::Int => Value::Int(match below(g, 4) {
            0 => pick(g, &INTS),
            1 => i64::arbitrary(g),
            _ => i64::from(below(g, 21)) - 10,
        }),
        T::Float => Value::Float(match below(g, 4) {
            0 => pick(g, &FLOATS),
            1 => f64::arbitrary(g),
            _ => f64::from(below(g, 81)) / 8.0 - 5.0,
        }),
        T::Bool => Value::Bool(bool::arbitrary(g)),
    }
}

fn args(g: &mut Gen) -> Vec<Value> {
    let types = [T::Int, T::Int, T::Float, T::Float, T::Bool];
    // One tuple in eight passes some argument of another type (another specialization).
    let mixed = below(g, 8) == 0;
    types
        .iter()
        .map(|&t| {
            let t = if mixed && below(g, 3) == 0 {
                pick(g, &[T::Int, T::Float, T::Bool])
            } else {
                t
            };
            arg_of(g, t)
        })
        .collect()
}

/// The new value of a loop parameter of type `t`: often another parameter of that type.
fn update(g: &mut Gen, name: &str, t: T, env: &mut Env) -> E {
    let vars = env.of(t);
    match below(g, 5) {
        0 | 1 if !vars.is_empty() => E::Var(pick(g, &vars).to_string()),
        2 if t != T::Bool => {
            let step = if t == T::Int {
                E::Int(1)
            } else {
                E::Float(0.5)
            };
            E::Bin("+", Box::new(E::Var(name.to_string())), Box::new(step))
        }
        _ => expr(g, t, 2, env),
    }
}

impl Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Case {
        let t = pick(g, &[T::Int, T::Int, T::Float, T::Float, T::Bool]);
        let looped = below(g, 3) == 0;
        let mut env = Env::params();
        if looped {
            env.vars.push(("k".into(), T::Int));
        }
        let depth = DEPTH - 1 + below(g, 3) as usize;
        // The updates see the body's LETs (they come before the IF).
        let (body, updates) = body_then(g, t, depth, &mut env, |g, env| {
            looped.then(|| {
                PARAMS
                    .iter()
                    .map(|&(n, t)| update(g, n, t, env))
                    .collect::<Vec<E>>()
            })
        });
        // One case in five is annotated: mostly with the parameters' own types.
        let annotated = below(g, 5) == 0;
        let annotations = PARAMS
            .iter()
            .map(|&(_, t)| {
                let own = match t {
                    T::Int => "int",
                    T::Float => "float",
                    T::Bool => "bool",
                };
                match below(g, 10) {
                    _ if !annotated => None,
                    0..=3 => None,
                    4..=7 => Some(own),
                    8 => Some("number"),
                    _ => Some(pick(g, &["int", "float", "bool"])),
                }
            })
            .collect();
        let returns = match below(g, 10) {
            _ if !annotated => None,
            0..=4 => None,
            _ => Some(match t {
                T::Int => pick(g, &["int", "float", "number", "bool"]),
                T::Float => pick(g, &["float", "number", "int"]),
                T::Bool => pick(g, &["bool", "int"]),
            }),
        };
        let max_depth = if below(g, 5) == 0 {
            8 + below(g, 12)
        } else {
            grizzly::engine::DEFAULT_MAX_DEPTH
        };
        let n = 2 + below(g, 4) as usize;
        let args = (0..n)
            .map(|_| {
                let mut a = args(g);
                if looped {
                    let k = if below(g, 8) == 0 {
                        40
                    } else {
                        i64::from(below(g, 6))
                    };
                    a.insert(0, Value::Int(k));
                }
                a
            })
            .collect();
        Case {
            body,
            updates,
            annotations,
            returns,
            max_depth,
            args,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Case>> {
        let mut out = Vec::new();
        let with = |body: &Body, updates: &Option<Vec<E>>, args: &Vec<Vec<Value>>| Case {
            body: body.clone(),
            updates: updates.clone(),
            args: args.clone(),
            ..self.clone()
        };
        if self.returns.is_some() {
            out.push(Case {
                returns: None,
                ..self.clone()
            });
        }
        for i in 0..self.annotations.len() {
            if self.annotations[i].is_some() {
                let mut annotations = self.annotations.clone();
                annotations[i] = None;
                out.push(Case {
                    annotations,
                    ..self.clone()
                });
            }
        }
        if self.args.len() > 1 {
            for i in 0..self.args.len() {
                let mut args = self.args.clone();
                args.remove(i);
                out.push(with(&self.body, &self.updates, &args));
            }
        }
        if let Some(updates) = &self.updates {
            // No loop: the body alone, called without `k`.
            let args: Vec<Vec<Value>> = self.args.iter().map(|a| a[1..].to_vec()).collect();
            out.push(with(&self.body, &None, &args));
            for (i, u) in updates.iter().enumerate() {
                let same = E::Var(PARAMS[i].0.to_string());
                let mut smaller = shrink_expr(u);
                if !matches!(u, E::Var(n) if n == PARAMS[i].0) {
                    smaller.insert(0, same);
                }
                for s in smaller {
                    let mut v = updates.clone();
                    v[i] = s;
                    out.push(with(&self.body, &Some(v), &self.args));
                }
            }
        }
        for body in shrink_body(&self.body) {
            out.push(with(&body, &self.updates, &self.args));
        }
        Box::new(out.into_iter())
    }
}

fn shrink_body(b: &Body) -> Vec<Body> {
    let mut out = Vec::new();
    for i in 0..b.lets.len() {
        let mut lets = b.lets.clone();
        lets.remove(i);
        out.push(Body {
            lets,
            result: b.result.clone(),
        });
    }
    for (i, (name, value)) in b.lets.iter().enumerate() {
        for v in shrink_expr(value) {
            let mut lets = b.lets.clone();
            lets[i] = (name.clone(), v);
            out.push(Body {
                lets,
                result: b.result.clone(),
            });
        }
    }
    for result in shrink_expr(&b.result) {
        out.push(Body {
            lets: b.lets.clone(),
            result,
        });
    }
    out
}

/// Strictly smaller expressions: the children first, then the node with one child
/// shrunk. Never `e` itself.
fn shrink_expr(e: &E) -> Vec<E> {
    let bx = Box::new;
    let mut out = Vec::new();
    match e {
        E::Int(v) if *v != 0 && *v != 1 => out.push(E::Int(1)),
        E::Float(v) if v.to_bits() != 0.5f64.to_bits() => out.push(E::Float(0.5)),
        E::Lit(_) | E::Int(_) | E::Float(_) | E::Var(_) => {}
        E::Neg(a) => {
            out.push((**a).clone());
            out.extend(shrink_expr(a).into_iter().map(|a| E::Neg(bx(a))));
        }
        E::Not(a) => {
            out.push((**a).clone());
            out.extend(shrink_expr(a).into_iter().map(|a| E::Not(bx(a))));
        }
        E::Cast(a, t) => {
            out.push((**a).clone());
            out.extend(shrink_expr(a).into_iter().map(|a| E::Cast(bx(a), t)));
        }
        E::Bin(op, a, b) => {
            out.push((**a).clone());
            out.push((**b).clone());
            for a2 in shrink_expr(a) {
                out.push(E::Bin(op, bx(a2), b.clone()));
            }
            for b2 in shrink_expr(b) {
                out.push(E::Bin(op, a.clone(), bx(b2)));
            }
        }
        E::Try(a, b) => {
            out.push((**a).clone());
            out.push((**b).clone());
            for a2 in shrink_expr(a) {
                out.push(E::Try(bx(a2), b.clone()));
            }
            for b2 in shrink_expr(b) {
                out.push(E::Try(a.clone(), bx(b2)));
            }
        }
        E::Call(f, args) => {
            out.extend(args.iter().cloned());
            for i in 0..args.len() {
                for a in shrink_expr(&args[i]) {
                    if i == 0 && is_loop(f) && !is_count(&a) {
                        // A loop's count stays bounded, or shrinking could hang.
                        continue;
                    }
                    let mut v = args.clone();
                    v[i] = a;
                    out.push(E::Call(f, v));
                }
            }
        }
        E::If(c, t, o) => {
            out.push((**c).clone());
            out.push(t.result.clone());
            out.push(o.result.clone());
            for c2 in shrink_expr(c) {
                out.push(E::If(bx(c2), t.clone(), o.clone()));
            }
            for t2 in shrink_body(t) {
                out.push(E::If(c.clone(), Box::new(t2), o.clone()));
            }
            for o2 in shrink_body(o) {
                out.push(E::If(c.clone(), t.clone(), Box::new(o2)));
            }
        }
    }
    out
}

/// Helpers whose first argument is an iteration count (made by [`count`]).
fn is_loop(f: &str) -> bool {
    matches!(f, "fact" | "sum_down" | "fl_loop")
}

/// Whether `e` has the shape [`count`] makes: `(e AS int) % n`.
fn is_count(e: &E) -> bool {
    matches!(e, E::Bin("%", a, _) if matches!(**a, E::Cast(_, "int")))
}

/// A call's outcome as the user sees it: the printed value, or the error message.
fn show(r: grizzly::Result<Value>) -> (Result<String, String>, Option<Value>) {
    match r {
        Ok(v) => (Ok(v.to_string()), Some(v)),
        Err(e) => (Err(e.message().to_string()), None),
    }
}

fn engine(mode: JitMode, threshold: u32, max_depth: u32) -> Engine {
    Engine::builder()
        .jit(mode)
        .threshold(threshold)
        .max_depth(max_depth)
        .build()
}

/// Counts over the whole run, for the assertion that the JIT really took part.
static PROGRAMS: AtomicUsize = AtomicUsize::new(0);
static COMPILED: AtomicUsize = AtomicUsize::new(0);
static FINISHED_COMPILED: AtomicUsize = AtomicUsize::new(0);
static ERRORS: AtomicUsize = AtomicUsize::new(0);

fn same_in_every_mode(case: Case) -> TestResult {
    let def = case.definition();
    if let Ok(path) = std::env::var("JIT_DIFF_TRACE") {
        // Each case before it runs: a hang leaves the culprit in the file.
        let _ = std::fs::write(path, format!("{case:?}"));
    }
    let mut off = engine(JitMode::Off, 1, case.max_depth);
    let mut eager = engine(JitMode::Eager, 1, case.max_depth);
    let mut on = engine(JitMode::On, 2, case.max_depth);
    for e in [&mut off, &mut eager, &mut on] {
        if let Err(err) = e.run(HELPERS) {
            return TestResult::error(format!("helpers: {}", err.message()));
        }
    }
    let defined: Vec<Result<(), String>> = [&mut off, &mut eager, &mut on]
        .into_iter()
        .map(|e| {
            e.run(&def)
                .map(drop)
                .map_err(|err| err.message().to_string())
        })
        .collect();
    if defined[1..].iter().any(|d| *d != defined[0]) {
        return TestResult::error(format!("definition differs: {defined:?}"));
    }
    if defined[0].is_err() {
        // (only a shrunk program can be ill-scoped)
        return TestResult::discard();
    }
    let mut errors = 0;
    for args in &case.args {
        let want = show(off.call("f", args));
        errors += usize::from(want.0.is_err());
        let got = show(eager.call("f", args));
        if got != want {
            return TestResult::error(format!(
                "eager: f{args:?} = {:?}, interpreter: {:?}",
                got.0, want.0
            ));
        }
    }
    // Tiering: each tuple called twice, so calls cross the threshold mid-run.
    for round in 0..2 {
        for args in &case.args {
            let want = show(off.call("f", args));
            let got = show(on.call("f", args));
            if got != want {
                return TestResult::error(format!(
                    "on (threshold 2), round {round}: f{args:?} = {:?}, interpreter: {:?}",
                    got.0, want.0
                ));
            }
        }
    }
    PROGRAMS.fetch_add(1, Ordering::Relaxed);
    ERRORS.fetch_add(usize::from(errors > 0), Ordering::Relaxed);
    if eager.jit_specializations("f") > 0 {
        COMPILED.fetch_add(1, Ordering::Relaxed);
    }
    let stats = eager.jit_stats();
    if stats.entries > stats.fallbacks {
        FINISHED_COMPILED.fetch_add(1, Ordering::Relaxed);
    }
    TestResult::passed()
}

#[test]
fn compiled_code_agrees_with_the_interpreter() {
    let tests = env_or("JIT_DIFF_TESTS", TESTS);
    let seed = env_or("JIT_DIFF_SEED", SEED);
    QuickCheck::new()
        .tests(tests)
        .max_tests(tests * 4)
        .rng(Gen::from_size_and_seed(100, seed))
        .quickcheck(same_in_every_mode as fn(Case) -> TestResult);
    let programs = PROGRAMS.load(Ordering::Relaxed);
    let compiled = COMPILED.load(Ordering::Relaxed);
    let finished = FINISHED_COMPILED.load(Ordering::Relaxed);
    let errors = ERRORS.load(Ordering::Relaxed);
    eprintln!(
        "{programs} programs: {compiled} compiled in eager mode, {finished} with a call \
         that finished in compiled code, {errors} with an error"
    );
    assert!(programs as u64 >= tests, "{programs} programs checked");
    // The comparison means something only if the JIT ran most programs, and guards
    // were hit.
    assert!(
        compiled * 10 >= programs * 7,
        "{compiled} of {programs} compiled"
    );
    assert!(
        finished * 2 >= programs,
        "{finished} of {programs} finished compiled"
    );
    assert!(
        errors * 10 >= programs,
        "{errors} of {programs} raised an error"
    );
}

#[test]
fn generated_programs_are_well_formed_and_shrinking_never_yields_the_case() {
    let mut g = Gen::from_size_and_seed(100, SEED ^ 1);
    let mut off = engine(JitMode::Off, 1, 100);
    off.run(HELPERS).unwrap();
    for _ in 0..200 {
        let case = Case::arbitrary(&mut g);
        let def = case.definition();
        if let Err(e) = off.run(&def.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")) {
            panic!("{def}\n{}", e.message());
        }
        for smaller in case.shrink() {
            assert!(
                smaller.definition() != def || smaller.args.len() < case.args.len(),
                "{case:?} shrinks to itself"
            );
        }
    }
}
