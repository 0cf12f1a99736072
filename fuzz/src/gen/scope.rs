//! What the generator knows while it generates: the functions defined so far and the
//! names and calls in scope.

use super::MAX_D;
use crate::session::T;

/// What the generator knows about a defined function.
#[derive(Clone, Debug)]
pub(super) struct Func {
    pub(super) name: String,
    /// Declared parameter types (after the depth parameter of a recursive function).
    pub(super) params: Vec<T>,
    /// The type of its body's result.
    pub(super) ret: T,
    /// Recursive through a leading depth parameter `d`.
    pub(super) rec: bool,
    /// Calls per call (per level for a recursive function), itself included.
    pub(super) base: u64,
    /// Self-call sites (recursive functions), calls of the partner included.
    pub(super) selfs: u64,
    /// The other function of a mutually recursive pair: each calls the other with
    /// `d - 1` in its recursive branch, and never the ordinary way.
    pub(super) partner: Option<usize>,
}

impl Func {
    /// Calls one call with depth argument at most `d` may make.
    pub(super) fn cost(&self, d: u64) -> u64 {
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
    pub(super) fn max_d(&self, budget: u64) -> Option<u64> {
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
pub(super) struct Env {
    pub(super) vars: Vec<(String, T)>,
    /// Functions `0..callable` of the table may be called.
    pub(super) callable: usize,
    /// In the recursive branch of a recursive function: the functions it may call with
    /// `d - 1` (itself, and its partner in a mutually recursive pair), by name and
    /// parameter types after `d`.
    pub(super) self_call: Vec<(String, Vec<T>)>,
    /// A function that may not be called the ordinary way (with any depth argument): the
    /// partner of a mutually recursive pair.
    pub(super) exclude: Option<usize>,
    /// Self-call sites generated so far.
    pub(super) self_calls: u64,
    pub(super) next_let: usize,
    /// In a function body (not at the top level).
    pub(super) in_function: bool,
}

impl Env {
    /// The visible names of type `t` (a `LET` may shadow a name with another type).
    pub(super) fn of(&self, t: T) -> Vec<String> {
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
