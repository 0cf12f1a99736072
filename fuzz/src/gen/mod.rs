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
//! `TRY`, `??`, method-call syntax, calls of functions defined before them, calls of the
//! host functions (`crate::host`: an `Err` on overflow, a panic on multiples of 5, now
//! and then the wrong number or type of arguments), and bounded self and mutual
//! recursion.
//!
//! One session in four (decided by the last bytes used) has one step, a host call or
//! top-level expressions, interrupted in one JIT engine at a random point
//! ([`crate::session::Interrupt`]).
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
mod expr;
mod items;
mod scope;

use crate::session::{Case, Interrupt, Step, E, T, TYPES};
use grizzly::Value;
use scope::{Env, Func};

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

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        Ok(Gen::new(u).case())
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
        // One step interrupted in one JIT engine, 0 to 400 µs after it begins (as
        // often up to 400 as up to 200, 100, ... 1: most calls take microseconds), or
        // with a deadline of that on each call or item (one in three).
        let interruptible: Vec<usize> = (0..steps.len())
            .filter(|&i| steps[i].interruptible())
            .collect();
        let interrupt = if !interruptible.is_empty() && self.one_in(4) {
            let step = interruptible[self.below(interruptible.len() as u32) as usize];
            let engine = 1 + self.below(2) as usize;
            let micros = self.below(401) >> self.below(9);
            let deadline = self.one_in(3);
            Some(Interrupt {
                step,
                engine,
                micros,
                deadline,
            })
        } else {
            None
        };
        Case {
            max_depth,
            threshold,
            code_limit,
            steps,
            interrupt,
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
