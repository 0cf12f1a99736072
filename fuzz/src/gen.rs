//! A terminating PL-GRIZZLY session generated from fuzzer bytes.
//!
//! A [`Case`] is a list of [`Step`]s run on one engine: items given as source text
//! (function definitions, redefinitions, top-level `LET`s and expressions) and calls
//! from the host (`Engine::call`, now and then repeated so that functions get hot).
//!
//! Functions are typed by construction most of the time (parameters of type int, float
//! or bool, expressions of the type their context wants, with edge constants), so that
//! the JIT compiles them and its guards fire; now and then an operand, an argument or an
//! annotation has another type. Bodies use operators, builtins, casts, `IF`, `LET`,
//! `TRY`, `??`, method-call syntax, calls of functions defined before them, and bounded
//! self and mutual recursion.
//!
//! Why every case terminates quickly:
//! - a function calls only functions defined before it (by index), and a redefinition of
//!   function `i` still calls only functions below `i`: the call graph has no cycle;
//! - the only recursion is through a leading depth parameter: a recursive function's
//!   body is `IF d <= 0 { base } ELSE { ... f(d - 1, ...) ... }`, no `LET` rebinds `d`,
//!   and every call of it from elsewhere (a body, the top level or the host) passes a
//!   small int (a literal, or `(e AS int) % n`) as `d`; a mutually recursive pair
//!   `fi`, `fj` (defined in one item) calls each other only that way, with `d - 1` in the
//!   recursive branch, and never the ordinary way; a redefinition of a recursive function
//!   is recursive the same way, or not at all (a non-recursive one is never made
//!   recursive, since its callers pass anything as its first argument), and a member of
//!   a pair stays recursive;
//! - the generator bounds the number of calls each item can make, counting every call
//!   site on every branch: a function's per-call cost (a recursive one's as a function of
//!   `d`: at most `base * (1 + s + ... + s^d)` for `s` self-call sites, a pair using the
//!   larger base and `s` of the two) is known when it is called, and a redefinition may
//!   not cost more than the definition it replaces.
//!
//! When the bytes run out, every choice takes its first option, which is always the
//! smallest (a leaf, no more items): generation itself always ends.

use arbitrary::{Arbitrary, Unstructured};
use grizzly::Value;
use std::fmt;

/// Expression depth of a function body.
const BODY_DEPTH: u32 = 4;
/// Expression depth of a top-level item.
const TOP_DEPTH: u32 = 3;
/// At most this many functions are defined.
const MAX_FUNCS: usize = 6;
/// At most this many steps.
const MAX_STEPS: u32 = 24;
/// Calls one function call may make (itself included), for a non-recursive function or
/// one level of a recursive one.
const FN_BUDGET: u64 = 400;
/// Calls one top-level item or host call may make.
const ITEM_BUDGET: u64 = 4_000;
/// The largest depth argument of a recursive function.
const MAX_D: u64 = 48;
/// Self-call sites in a recursive function (its cost grows as their number to the power `d`).
const MAX_SELF_CALLS: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    Int,
    Float,
    Bool,
}

impl T {
    fn name(self) -> &'static str {
        match self {
            T::Int => "int",
            T::Float => "float",
            T::Bool => "bool",
        }
    }
}

const TYPES: [T; 3] = [T::Int, T::Float, T::Bool];

/// A generated expression, printed fully parenthesised.
#[derive(Clone, Debug)]
pub enum E {
    /// Literal text (`true`, `null`, a string literal).
    Lit(&'static str),
    Int(i64),
    Float(f64),
    Var(String),
    Neg(Box<E>),
    /// `NOT e`, or `!e` when the flag is set.
    Not(Box<E>, bool),
    Bin(&'static str, Box<E>, Box<E>),
    /// `e AS t`, or `e :: t` when the flag is set.
    Cast(Box<E>, &'static str, bool),
    /// `f(args)`, or `(arg0).f(rest)` when the flag is set.
    Call(String, Vec<E>, bool),
    If(Box<E>, Box<Body>, Box<Body>),
    Try(Box<E>, Box<E>),
}

#[derive(Clone, Debug)]
pub struct Body {
    pub lets: Vec<(String, E)>,
    pub result: E,
}

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            E::Lit(s) => f.write_str(s),
            E::Int(v) if *v == i64::MIN => f.write_str("(-9223372036854775808)"),
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
            E::Not(a, false) => write!(f, "(NOT {a})"),
            E::Not(a, true) => write!(f, "(!{a})"),
            E::Bin(op, a, b) => write!(f, "({a} {op} {b})"),
            E::Cast(a, t, false) => write!(f, "({a} AS {t})"),
            E::Cast(a, t, true) => write!(f, "({a} :: {t})"),
            E::Call(name, args, true) if !args.is_empty() => {
                write!(f, "({}).{name}(", args[0])?;
                list(f, &args[1..])?;
                f.write_str(")")
            }
            E::Call(name, args, _) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
            E::If(c, t, o) => write!(f, "(IF {c} {{ {t} }} ELSE {{ {o} }})"),
            E::Try(a, b) => write!(f, "(TRY {a} CATCH {b})"),
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[E]) -> fmt::Result {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.lets {
            write!(f, "LET {name} = {value}; ")?;
        }
        write!(f, "{}", self.result)
    }
}

/// One thing done to the engine.
#[derive(Clone)]
pub enum Step {
    /// Items as source text, run with `Engine::run_source`.
    Source(String),
    /// `Engine::call(name, args)`, `times` times.
    Call {
        name: String,
        args: Vec<Value>,
        times: u32,
    },
    /// `Engine::jit_clear()`: compiled code dropped, call counts restarted.
    JitClear,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Source(text) => f.write_str(text),
            Step::Call { name, args, times } => {
                let shown: Vec<String> = args.iter().map(|v| format!("{v:?}")).collect();
                write!(f, "# host: call {name}({}) x{times}", shown.join(", "))
            }
            Step::JitClear => f.write_str("# host: jit clear"),
        }
    }
}

/// A generated session: engine options and the steps.
#[derive(Clone)]
pub struct Case {
    pub max_depth: u32,
    /// The threshold of the `JitMode::On` engine.
    pub threshold: u32,
    /// The JIT engines' code memory limit, when not the default (a small one fills up).
    pub code_limit: Option<usize>,
    pub steps: Vec<Step>,
}

/// The session as a program with its options; host calls are comments.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "# max_depth {}, jit=on threshold {}",
            self.max_depth, self.threshold
        )?;
        match self.code_limit {
            Some(bytes) => writeln!(f, ", code limit {bytes} bytes")?,
            None => writeln!(f)?,
        }
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        Ok(Gen::new(u).case())
    }
}

/// What the generator knows about a defined function.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    /// Declared parameter types (after the depth parameter of a recursive function).
    params: Vec<T>,
    /// The type of its body's result.
    ret: T,
    /// Recursive through a leading depth parameter `d`.
    rec: bool,
    /// Calls per call (per level for a recursive function), itself included.
    base: u64,
    /// Self-call sites (recursive functions), calls of the partner included.
    selfs: u64,
    /// The other function of a mutually recursive pair: each calls the other with
    /// `d - 1` in its recursive branch, and never the ordinary way.
    partner: Option<usize>,
}

impl Func {
    /// Calls one call with depth argument at most `d` may make.
    fn cost(&self, d: u64) -> u64 {
        if !self.rec || self.selfs == 0 {
            return self.base;
        }
        // base * (1 + s + s^2 + ... + s^d)
        let mut total: u64 = 0;
        let mut level: u64 = 1;
        for _ in 0..=d {
            total = total.saturating_add(level);
            level = level.saturating_mul(self.selfs);
        }
        total.saturating_mul(self.base)
    }

    /// The largest depth argument (at most [`MAX_D`]) whose calls fit in `budget`.
    fn max_d(&self, budget: u64) -> Option<u64> {
        if self.cost(0) > budget {
            return None;
        }
        let mut d = 0;
        while d < MAX_D && self.cost(d + 1) <= budget {
            d += 1;
        }
        Some(d)
    }
}

/// The names in scope and the calls allowed where an expression is generated.
#[derive(Clone, Default)]
struct Env {
    vars: Vec<(String, T)>,
    /// Functions `0..callable` of the table may be called.
    callable: usize,
    /// In the recursive branch of a recursive function: the functions it may call with
    /// `d - 1` (itself, and its partner in a mutually recursive pair), by name and
    /// parameter types after `d`.
    self_call: Vec<(String, Vec<T>)>,
    /// A function that may not be called the ordinary way (with any depth argument): the
    /// partner of a mutually recursive pair.
    exclude: Option<usize>,
    /// Self-call sites generated so far.
    self_calls: u64,
    next_let: usize,
    /// In a function body (not at the top level).
    in_function: bool,
}

impl Env {
    /// The visible names of type `t` (a `LET` may shadow a name with another type).
    fn of(&self, t: T) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (n, vt) in self.vars.iter().rev() {
            if seen.contains(&n.as_str()) {
                continue;
            }
            seen.push(n);
            if *vt == t {
                out.push(n.clone());
            }
        }
        out
    }
}

const INTS: [i64; 16] = [
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
    i32::MAX as i64 + 1,
    -(1 << 53) - 1,
];
const FLOATS: [f64; 16] = [
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
    -2.5,
    1e16,
];
/// String literals: cast sources (valid and invalid) and operands of `len` and `+`.
const STRINGS: [&str; 12] = [
    "\"12\"",
    "\"-0\"",
    "\"+7\"",
    "\"9223372036854775808\"",
    "\"1.5\"",
    "\"\"",
    "\"inf\"",
    "\"NaN\"",
    "\"nan\"",
    "\"1e400\"",
    "\"true\"",
    "\"h\u{e9}\u{1F43B}\"",
];

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    funcs: Vec<Func>,
    /// Top-level variables bound so far.
    globals: Vec<(String, T)>,
    /// Calls the item being generated may still make.
    budget: u64,
}

impl<'a, 'b> Gen<'a, 'b> {
    fn new(u: &'b mut Unstructured<'a>) -> Self {
        Gen {
            u,
            funcs: Vec::new(),
            globals: Vec::new(),
            budget: 0,
        }
    }

    /// A number below `n`; 0 once the bytes run out.
    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// True one time in `n`; false once the bytes run out.
    fn one_in(&mut self, n: u32) -> bool {
        self.below(n) == n - 1
    }

    fn pick<X: Copy>(&mut self, items: &[X]) -> X {
        items[self.below(items.len() as u32) as usize]
    }

    fn int_value(&mut self) -> i64 {
        match self.below(4) {
            0 => i64::from(self.below(21)) - 10,
            1 => self.pick(&INTS),
            2 => i64::arbitrary(self.u).unwrap_or(0),
            _ => i64::from(self.below(200)),
        }
    }

    fn float_value(&mut self) -> f64 {
        match self.below(4) {
            0 => f64::from(self.below(81)) / 8.0 - 5.0,
            1 => self.pick(&FLOATS),
            2 => f64::from_bits(u64::arbitrary(self.u).unwrap_or(0)),
            _ => f64::from(self.below(1000)) * 0.1,
        }
    }

    fn value(&mut self, t: T) -> Value {
        match t {
            T::Int => Value::Int(self.int_value()),
            T::Float => Value::Float(self.float_value()),
            T::Bool => Value::Bool(self.below(2) == 1),
        }
    }

    /// A host argument of type `t`, now and then of another type, a string or null.
    fn arg_value(&mut self, t: T) -> Value {
        match self.below(48) {
            44 => Value::Null,
            45 => Value::str("7"),
            46 | 47 => {
                let other = self.pick(&TYPES);
                self.value(other)
            }
            _ => self.value(t),
        }
    }

    fn leaf(&mut self, t: T, env: &Env) -> E {
        let vars = env.of(t);
        if !vars.is_empty() && self.below(2) == 0 {
            let i = self.below(vars.len() as u32) as usize;
            return E::Var(vars[i].clone());
        }
        match t {
            T::Int => E::Int(self.int_value()),
            T::Float => E::Float(self.float_value()),
            T::Bool => E::Lit(if self.below(2) == 0 { "true" } else { "false" }),
        }
    }

    /// Whether a string or `null` may appear here: always at the top level, rarely in a
    /// function (the JIT leaves functions that use them to the interpreter).
    fn strings_ok(&mut self, env: &Env) -> bool {
        !env.in_function || self.one_in(10)
    }

    fn num(&mut self) -> T {
        if self.below(2) == 0 {
            T::Int
        } else {
            T::Float
        }
    }

    /// An expression of type `t` (now and then of another type: ill-typed programs).
    fn expr(&mut self, t: T, depth: u32, env: &mut Env) -> E {
        if self.one_in(40) && self.strings_ok(env) {
            // null or a string where a number or bool is expected
            return if self.below(2) == 0 {
                E::Lit("null")
            } else {
                E::Lit(self.pick(&STRINGS))
            };
        }
        let t = if self.one_in(30) {
            self.pick(&TYPES)
        } else {
            t
        };
        if depth == 0 || self.below(4) == 0 {
            return self.leaf(t, env);
        }
        let d = depth - 1;
        let bx = Box::new;
        // forms every type has
        match self.below(16) {
            0 => return self.if_(t, d, env),
            1 => {
                let a = self.expr(t, d, env);
                let b = self.expr(t, d, env);
                return E::Try(bx(a), bx(b));
            }
            2 => {
                let a = if self.one_in(4) && self.strings_ok(env) {
                    E::Lit("null")
                } else {
                    self.expr(t, d, env)
                };
                let b = self.expr(t, d, env);
                return E::Bin("??", bx(a), bx(b));
            }
            3 | 4 => {
                if let Some(call) = self.user_call(t, d, env) {
                    return call;
                }
            }
            _ => {}
        }
        match t {
            T::Int => match self.below(12) {
                0..=2 => {
                    let op = self.pick(&["+", "-", "*", "/", "%"]);
                    let a = self.expr(T::Int, d, env);
                    let b = self.expr(T::Int, d, env);
                    E::Bin(op, bx(a), bx(b))
                }
                3 => E::Neg(bx(self.expr(T::Int, d, env))),
                4 => {
                    let f = self.pick(&["abs", "floor", "ceil", "round"]);
                    self.builtin(f, vec![T::Int], d, env)
                }
                5 => {
                    let f = self.pick(&["min", "max"]);
                    self.builtin(f, vec![T::Int, T::Int], d, env)
                }
                6 => {
                    let from = self.pick(&[T::Float, T::Float, T::Bool, T::Int]);
                    let a = self.expr(from, d, env);
                    E::Cast(bx(a), self.pick(&["int", "integer"]), self.below(2) == 1)
                }
                7 if self.strings_ok(env) => {
                    if self.one_in(4) {
                        let s = self.pick(&STRINGS);
                        let f = self.pick(&["len", "abs"]);
                        E::Call(f.into(), vec![E::Lit(s)], false)
                    } else {
                        let s = self.pick(&STRINGS);
                        E::Cast(bx(E::Lit(s)), "int", false)
                    }
                }
                8 => {
                    // the minimum written as an expression, and folding around it
                    let e = self.expr(T::Int, d, env);
                    E::Bin("-", bx(E::Lit("(-9223372036854775807 - 1)")), bx(e))
                }
                9 => {
                    let op = self.pick(&["/", "%"]);
                    let a = self.expr(T::Int, d, env);
                    let k = self.pick(&[4, -1, 1, 8, 2, -4, 1 << 62, 3, 0]);
                    E::Bin(op, bx(a), bx(E::Int(k)))
                }
                10 => {
                    let a = self.expr(T::Int, d, env);
                    E::Bin("*", bx(a), bx(E::Int(self.pick(&[2, 3, -1, 1 << 31]))))
                }
                _ => self.if_(T::Int, d, env),
            },
            T::Float => match self.below(11) {
                0..=2 => {
                    let op = self.pick(&["+", "-", "*", "/", "%"]);
                    let (l, r) = if self.below(2) == 0 {
                        (T::Float, T::Float)
                    } else {
                        (self.num(), T::Float)
                    };
                    let (l, r) = if self.below(2) == 0 { (l, r) } else { (r, l) };
                    let a = self.expr(l, d, env);
                    let b = self.expr(r, d, env);
                    E::Bin(op, bx(a), bx(b))
                }
                3 => E::Neg(bx(self.expr(T::Float, d, env))),
                4 => {
                    let f = self.pick(&["abs", "floor", "ceil", "round"]);
                    self.builtin(f, vec![T::Float], d, env)
                }
                5 => {
                    let nt = self.num();
                    self.builtin("sqrt", vec![nt], d, env)
                }
                6 => {
                    let f = self.pick(&["min", "max", "pow"]);
                    let (l, r) = (self.num(), T::Float);
                    let (l, r) = if self.below(2) == 0 { (l, r) } else { (r, l) };
                    self.builtin(f, vec![l, r], d, env)
                }
                7 => {
                    let from = self.pick(&[T::Int, T::Bool, T::Float, T::Int]);
                    let a = self.expr(from, d, env);
                    E::Cast(bx(a), self.pick(&["float", "double"]), self.below(2) == 1)
                }
                8 if self.strings_ok(env) => {
                    let s = self.pick(&STRINGS);
                    E::Cast(bx(E::Lit(s)), "float", false)
                }
                9 => {
                    // a float through an int cast and back
                    let a = self.expr(T::Float, d, env);
                    E::Cast(bx(E::Cast(bx(a), "int", false)), "float", false)
                }
                _ => self.if_(T::Float, d, env),
            },
            T::Bool => match self.below(10) {
                0..=2 => {
                    let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
                    let (l, r) = (self.num(), self.num());
                    let a = self.expr(l, d, env);
                    let b = self.expr(r, d, env);
                    E::Bin(op, bx(a), bx(b))
                }
                3 => {
                    let op = self.pick(&["==", "!="]);
                    let a = self.expr(T::Bool, d, env);
                    let b = self.expr(T::Bool, d, env);
                    E::Bin(op, bx(a), bx(b))
                }
                4 | 5 => {
                    let op = self.pick(&["AND", "OR", "&&", "||"]);
                    let a = self.expr(T::Bool, d, env);
                    let b = self.expr(T::Bool, d, env);
                    E::Bin(op, bx(a), bx(b))
                }
                6 => {
                    let bang = self.below(2) == 1;
                    E::Not(bx(self.expr(T::Bool, d, env)), bang)
                }
                7 => {
                    // a bool against a number, or a string: unequal, never an error
                    let op = self.pick(&["==", "!="]);
                    let a = self.expr(T::Bool, d, env);
                    let b = if self.one_in(3) && self.strings_ok(env) {
                        E::Lit(self.pick(&STRINGS))
                    } else {
                        let nt = self.num();
                        self.expr(nt, d, env)
                    };
                    E::Bin(op, bx(a), bx(b))
                }
                8 => {
                    let from = if self.one_in(3) && self.strings_ok(env) {
                        E::Lit(self.pick(&["\"true\"", "\"false\"", "\"TRUE\"", "1"]))
                    } else {
                        self.expr(T::Bool, d, env)
                    };
                    E::Cast(
                        bx(from),
                        self.pick(&["bool", "boolean"]),
                        self.below(2) == 1,
                    )
                }
                _ => self.if_(T::Bool, d, env),
            },
        }
    }

    fn builtin(&mut self, name: &'static str, types: Vec<T>, depth: u32, env: &mut Env) -> E {
        let args = types.iter().map(|&t| self.expr(t, depth, env)).collect();
        let method = self.one_in(5);
        E::Call(name.into(), args, method)
    }

    /// A call of a function defined before (or of the function itself, in its recursive
    /// branch) that returns `t`, if one fits in the budget.
    fn user_call(&mut self, t: T, depth: u32, env: &mut Env) -> Option<E> {
        let method = self.one_in(6);
        // the function itself or its partner, in its recursive branch
        if !env.self_call.is_empty() && env.self_calls < MAX_SELF_CALLS && self.below(2) == 0 {
            let pick = self.below(env.self_call.len() as u32) as usize;
            let (name, params) = env.self_call[pick].clone();
            {
                env.self_calls += 1;
                let mut args = vec![E::Bin(
                    "-",
                    Box::new(E::Var("d".into())),
                    Box::new(E::Int(1)),
                )];
                for p in params {
                    args.push(self.expr(p, depth, env));
                }
                return Some(E::Call(name, args, method));
            }
        }
        let candidates: Vec<usize> = (0..env.callable.min(self.funcs.len()))
            .filter(|&i| Some(i) != env.exclude)
            .filter(|&i| self.funcs[i].ret == t || self.one_in(8))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pick = candidates[self.below(candidates.len() as u32) as usize];
        let f = self.funcs[pick].clone();
        let mut args = Vec::new();
        if f.rec {
            let max_d = f.max_d(self.budget)?;
            self.budget -= f.cost(max_d);
            let d = if max_d > 0 && self.one_in(3) {
                // a computed depth, bounded by the remainder (negative: the base case)
                let e = self.expr(T::Int, depth.min(1), env);
                E::Bin(
                    "%",
                    Box::new(E::Cast(Box::new(e), "int", false)),
                    Box::new(E::Int(max_d as i64 + 1)),
                )
            } else {
                E::Int(i64::from(self.below(max_d as u32 + 1)))
            };
            args.push(d);
        } else {
            if f.base > self.budget {
                return None;
            }
            self.budget -= f.base;
        }
        for &p in &f.params {
            let p = if self.one_in(12) {
                self.pick(&TYPES)
            } else {
                p
            };
            args.push(self.expr(p, depth, env));
        }
        if self.one_in(30) {
            // a wrong number of arguments
            if args.is_empty() || self.below(2) == 0 {
                args.push(E::Int(1));
            } else {
                args.pop();
            }
        }
        Some(E::Call(f.name, args, method))
    }

    fn if_(&mut self, t: T, depth: u32, env: &mut Env) -> E {
        let c = self.expr(T::Bool, depth, env);
        let then = self.body(t, depth, env);
        let other = self.body(t, depth, env);
        E::If(Box::new(c), Box::new(then), Box::new(other))
    }

    /// A body of type `t`: up to two `LET`s (visible to what follows them in this body).
    fn body(&mut self, t: T, depth: u32, env: &mut Env) -> Body {
        let saved = env.vars.len();
        let lets = self.lets(depth, env);
        let result = self.expr(t, depth, env);
        env.vars.truncate(saved);
        Body { lets, result }
    }

    /// Up to two `LET`s, added to `env` (the caller truncates it).
    fn lets(&mut self, depth: u32, env: &mut Env) -> Vec<(String, E)> {
        let mut lets = Vec::new();
        for _ in 0..self.below(3) {
            let lt = self.pick(&TYPES);
            let value = self.expr(lt, depth.saturating_sub(1), env);
            // Now and then a LET shadows a parameter (never `d`), maybe with another type.
            let params: Vec<String> = env
                .vars
                .iter()
                .filter(|(n, _)| n.starts_with('p'))
                .map(|(n, _)| n.clone())
                .collect();
            let name = if !params.is_empty() && self.one_in(5) {
                params[self.below(params.len() as u32) as usize].clone()
            } else {
                env.next_let += 1;
                format!("v{}", env.next_let - 1)
            };
            env.vars.push((name.clone(), lt));
            lets.push((name, value));
        }
        lets
    }

    /// A function definition for slot `index` of the table (a new function or a
    /// redefinition), calling only functions below `index`. `old` is the definition it
    /// replaces: the new one may not cost more, nor become recursive.
    ///
    /// A function of a mutually recursive pair is defined with `partner` (its index and
    /// parameter types, chosen before either is generated) and `params` (its own), and
    /// is recursive; a redefinition finds its partner in `old`.
    fn function(
        &mut self,
        index: usize,
        old: Option<&Func>,
        params: Option<Vec<T>>,
        partner: Option<(usize, Vec<T>)>,
    ) -> (String, Func) {
        let name = format!("f{index}");
        let rec = match old {
            _ if partner.is_some() => true,
            Some(old) => old.rec && self.below(4) != 0,
            None => self.one_in(3),
        };
        let partner = partner.or_else(|| {
            let p = old?.partner?;
            Some((p, self.funcs[p].params.clone()))
        });
        let params = params.unwrap_or_else(|| self.params());
        let ret = self.pick(&[T::Int, T::Float, T::Int, T::Float, T::Bool]);
        let annotated = self.one_in(4);
        let mut shown = Vec::new();
        let mut env = Env {
            callable: index,
            exclude: partner.as_ref().map(|p| p.0),
            in_function: true,
            ..Env::default()
        };
        if rec {
            let ann = if annotated {
                self.pick(&["", "", ": int", ": number", ": float"])
            } else {
                ""
            };
            shown.push(format!("d{ann}"));
            env.vars.push(("d".into(), T::Int));
        }
        for (i, &t) in params.iter().enumerate() {
            let ann = if annotated {
                match self.below(8) {
                    0..=3 => String::new(),
                    4..=6 => format!(": {}", t.name()),
                    _ => format!(": {}", self.pick(&["number", "int", "float", "bool"])),
                }
            } else {
                String::new()
            };
            shown.push(format!("p{i}{ann}"));
            env.vars.push((format!("p{i}"), t));
        }
        let returns = if annotated && self.below(2) == 0 {
            let r = match ret {
                T::Int => self.pick(&["int", "float", "number", "bool"]),
                T::Float => self.pick(&["float", "number", "int"]),
                T::Bool => self.pick(&["bool", "int"]),
            };
            format!(" RETURNS {r}")
        } else {
            String::new()
        };

        // The budget of one call (one level of a recursive one), the call itself included.
        let limit = match old {
            Some(old) => old.base.min(FN_BUDGET),
            None => FN_BUDGET,
        };
        self.budget = limit.saturating_sub(1);
        let depth = BODY_DEPTH - 1 + self.below(2);
        let lets = self.lets(depth - 1, &mut env);
        let result = if rec {
            let base = self.body(ret, depth - 1, &mut env);
            env.self_call = vec![(name.clone(), params.clone())];
            if let Some((p, types)) = &partner {
                env.self_call.push((format!("f{p}"), types.clone()));
            }
            let max_selfs = old.map_or(MAX_SELF_CALLS, |o| o.selfs);
            env.self_calls = MAX_SELF_CALLS - max_selfs.min(MAX_SELF_CALLS);
            let recursive = if self.below(3) == 0 {
                // a self tail call: a loop
                let saved = env.vars.len();
                let lets = self.lets(depth - 1, &mut env);
                let result = if env.self_calls < MAX_SELF_CALLS {
                    env.self_calls += 1;
                    let mut args = vec![E::Bin(
                        "-",
                        Box::new(E::Var("d".into())),
                        Box::new(E::Int(1)),
                    )];
                    let pick = self.below(env.self_call.len() as u32) as usize;
                    let (callee, types) = env.self_call[pick].clone();
                    for p in types {
                        args.push(self.update(p, &mut env));
                    }
                    E::Call(callee, args, false)
                } else {
                    self.expr(ret, depth - 1, &mut env)
                };
                env.vars.truncate(saved);
                Body { lets, result }
            } else {
                self.body(ret, depth - 1, &mut env)
            };
            let selfs = env.self_calls - (MAX_SELF_CALLS - max_selfs.min(MAX_SELF_CALLS));
            env.self_call.clear();
            env.self_calls = selfs;
            let cond = match self.below(4) {
                0 => "d <= 0",
                1 => "d < 1",
                2 => "0 >= d",
                _ => "NOT (d > 0)",
            };
            E::If(Box::new(E::Lit(cond)), Box::new(base), Box::new(recursive))
        } else {
            self.expr(ret, depth, &mut env)
        };
        let base = limit - self.budget;
        let body = Body { lets, result };
        let head = format!("f{index}({})", shown.join(", "));
        let text = if body.lets.is_empty() && self.below(2) == 0 {
            format!("FUNCTION {head}{returns} => {body}")
        } else {
            let create = if old.is_some() || self.one_in(10) {
                "CREATE OR REPLACE FUNCTION"
            } else {
                "CREATE FUNCTION"
            };
            format!("{create} {head}{returns} {{ {body} }}")
        };
        let selfs = if rec { env.self_calls } else { 0 };
        // A redefinition keeps the bounds of the definition it replaces (they are upper
        // bounds of the new one): the cost of a call of its partner, which calls it with
        // `d - 1`, was computed with them.
        let (base, selfs) = old.map_or((base, selfs), |o| (o.base, o.selfs));
        let func = Func {
            name,
            params,
            ret,
            rec,
            base,
            selfs,
            partner: partner.map(|p| p.0),
        };
        (text, func)
    }

    fn params(&mut self) -> Vec<T> {
        let n = self.below(5) as usize;
        (0..n).map(|_| self.pick(&TYPES)).collect()
    }

    /// A mutually recursive pair `fi`, `fj` (j = i + 1), defined in one item.
    fn pair(&mut self) -> Step {
        let (i, j) = (self.funcs.len(), self.funcs.len() + 1);
        let (pi, pj) = (self.params(), self.params());
        let (text_i, mut fi) = self.function(i, None, Some(pi.clone()), Some((j, pj.clone())));
        let (text_j, mut fj) = self.function(j, None, Some(pj), Some((i, pi)));
        // Each level costs at most the larger base and spawns at most the larger number of
        // calls of either.
        let (base, selfs) = (fi.base.max(fj.base), fi.selfs.max(fj.selfs));
        (fi.base, fi.selfs, fj.base, fj.selfs) = (base, selfs, base, selfs);
        self.funcs.push(fi);
        self.funcs.push(fj);
        Step::Source(format!("{text_i}\n{text_j}"))
    }

    /// The new value of a loop parameter of type `t`: often a parameter, or a step.
    fn update(&mut self, t: T, env: &mut Env) -> E {
        let vars = env.of(t);
        match self.below(5) {
            0 | 1 if !vars.is_empty() => {
                E::Var(vars[self.below(vars.len() as u32) as usize].clone())
            }
            2 if t != T::Bool => {
                let vars = env.of(t);
                let base = match vars.first() {
                    Some(v) => E::Var(v.clone()),
                    None => self.leaf(t, env),
                };
                let step = if t == T::Int {
                    E::Int(1)
                } else {
                    E::Float(0.5)
                };
                E::Bin("+", Box::new(base), Box::new(step))
            }
            _ => self.expr(t, 2, env),
        }
    }

    /// The environment of a top-level item: the session variables, every function.
    fn top_env(&self) -> Env {
        Env {
            vars: self.globals.clone(),
            callable: self.funcs.len(),
            ..Env::default()
        }
    }

    fn case(&mut self) -> Case {
        let max_depth = match self.below(6) {
            5 => self.below(24),
            _ => grizzly::engine::DEFAULT_MAX_DEPTH,
        };
        let threshold = self.pick(&[1, 1, 2, 3, 10]);
        let code_limit = if self.one_in(8) {
            Some(self.pick(&[0, 4096, 8192, 16384, 65536]))
        } else {
            None
        };
        let nsteps = 1 + self.below(MAX_STEPS);
        let mut steps = Vec::new();
        for _ in 0..nsteps {
            if self.u.is_empty() {
                break;
            }
            let step = match self.below(8) {
                // a mutually recursive pair
                0 if self.funcs.len() + 2 <= MAX_FUNCS && self.one_in(6) => self.pair(),
                // a new function (functions come first when bytes are few)
                0 | 1 if self.funcs.len() < MAX_FUNCS => {
                    let index = self.funcs.len();
                    let (text, func) = self.function(index, None, None, None);
                    self.funcs.push(func);
                    Step::Source(text)
                }
                2 if !self.funcs.is_empty() && self.one_in(3) => {
                    let index = self.below(self.funcs.len() as u32) as usize;
                    let old = self.funcs[index].clone();
                    let (text, func) = self.function(index, Some(&old), None, None);
                    self.funcs[index] = func;
                    Step::Source(text)
                }
                3 | 4 if !self.funcs.is_empty() => {
                    if self.one_in(12) {
                        Step::JitClear
                    } else {
                        self.host_call()
                    }
                }
                5 => {
                    self.budget = ITEM_BUDGET;
                    let t = self.pick(&TYPES);
                    let mut env = self.top_env();
                    let value = self.expr(t, TOP_DEPTH, &mut env);
                    let name = format!("g{}", self.globals.len());
                    self.globals.push((name.clone(), t));
                    Step::Source(format!("LET {name} = {value}"))
                }
                _ => {
                    // one to three top-level expressions, printed
                    let n = 1 + self.below(3);
                    let mut items = Vec::new();
                    for _ in 0..n {
                        self.budget = ITEM_BUDGET / 3;
                        let t = self.pick(&TYPES);
                        let mut env = self.top_env();
                        let e = match self.user_call(t, TOP_DEPTH, &mut env) {
                            Some(call) if self.below(3) != 0 => call,
                            _ => self.expr(t, TOP_DEPTH, &mut env),
                        };
                        items.push(e.to_string());
                    }
                    Step::Source(items.join(if self.below(2) == 0 { "\n" } else { "; " }))
                }
            };
            steps.push(step);
        }
        // Finally every function is called from the host, twice: each one runs, and in
        // every JIT mode (thresholds up to 2) its second call is compiled if it can be.
        for index in 0..self.funcs.len() {
            steps.push(self.host_call_of(index, 2));
        }
        Case {
            max_depth,
            threshold,
            code_limit,
            steps,
        }
    }

    /// A host call of a defined function, repeated so that it gets hot.
    fn host_call(&mut self) -> Step {
        let pick = self.below(self.funcs.len() as u32) as usize;
        let times = 1 + self.below(20);
        self.host_call_of(pick, times)
    }

    fn host_call_of(&mut self, index: usize, times: u32) -> Step {
        let f = self.funcs[index].clone();
        let mut args = Vec::new();
        if f.rec {
            let budget = ITEM_BUDGET / u64::from(times);
            let d = f.max_d(budget).unwrap_or(0);
            args.push(Value::Int(i64::from(self.below(d as u32 + 1))));
        }
        for &p in &f.params {
            args.push(self.arg_value(p));
        }
        if self.one_in(30) {
            args.push(Value::Int(0));
        }
        Step::Call {
            name: f.name,
            args,
            times,
        }
    }
}
