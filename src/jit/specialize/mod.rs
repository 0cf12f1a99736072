//! Type specialization: a [`Resolved`] function and the types of its arguments become a
//! typed [`TFunction`], with one machine type per node, exactly as the interpreter
//! would see the values (`ops.rs`, `builtins.rs`).
//!
//! Calls are specialized too: a call's key is the callee and its argument types, and
//! its result type comes from a compiled specialization or from inferring that one as
//! well: a new callee is inferred when its first call is met, so its caller reads its
//! result type, and a call graph without cycles is inferred once per specialization.
//! Within a cycle (recursion, mutual recursion) a result type starts at `Never` and the
//! set is inferred again until none changes; a result type can only go from `Never` to
//! a machine type, so this takes at most one round per specialization. A round infers
//! again only the specializations that read a result type which has changed since.
//!
//! What compiled code cannot prove it leaves through a deopt, and the interpreter reruns
//! the call from its start (the language is pure), so leaving early is always exact. The
//! decisions, where the contract leaves a choice to the compiler:
//! - Statically certain errors (`true + 1`, `1 AS bool`, an `IF` on an int, a call of an
//!   undefined function or with the wrong argument count, a call whose argument types fail
//!   the callee's annotations, a self tail call with other argument types) become
//!   [`TKind::Deopt`], of type `Never`.
//! - `TRY a CATCH b` and `a ?? b` (compiled values are never null) are a
//!   [`TKind::Try`] when `b` has `a`'s type: an error raised by `a`'s own code runs `b`
//!   in compiled code; an error raised in a callee deoptimizes, and the interpreter
//!   reruns the call. When `b` has another type or cannot be compiled, they are `a`, and
//!   compiled code deoptimizes when `a` raises.
//! - `a AND b` with a `Never` or non-bool `b` is `IF a { b or a deopt } ELSE { false }`
//!   (`OR` likewise): exact, since `b` only runs when `a` is true.
//! - `==` / `!=` of a bool and a number is a constant when both operands can neither fail
//!   nor loop (locals, constants, float arithmetic...), and refused otherwise.
//! - A `Never` operand: the operands after it are unreachable and not inferred. The node
//!   is replaced by that operand when nothing evaluated before it can fail, or when it is
//!   a `Deopt` (leaving earlier is exact); in the remaining case (say `g(n) + h(n)` with
//!   `h` never returning, where an overflow in `g` must not become an endless loop in `h`)
//!   the specialization is refused. A `LET` whose value is `Never` ends its body: the
//!   value becomes the body's result. So **only a body's result (the function's or an
//!   `IF` branch's) ever has type `Never`**: operands, arguments, conditions and `LET`
//!   values never do.
//! - Strings, `null`, `len`, casts to string and unbound top-level names refuse the
//!   specialization; so do `IF` branches of two machine types (`int` and `float`), a result
//!   type that would change, and more than [`MAX_SPECIALIZATIONS`] specializations. A
//!   refused callee refuses its callers.

mod infer;
mod nodes;

use super::ir::{
    ArithOp, CmpOp, Convert, DeoptReason, Facts, GenericOp, MathOp, SpecKey, TBody, TExpr,
    TFunction, TKind, Ty,
};
use crate::builtins::Builtin;
use crate::jit::depth::{NEW_STACK, RED_ZONE};
use crate::resolve::{FuncId, RBody, RExpr, RKind, Resolved};
use crate::syntax::ast::{BinaryOp, Span, TypeName, UnaryOp};
use crate::value::Value;
use infer::infer;
use rustc_hash::FxHashMap;

/// Most specializations one call of [`specialize`] infers (the root included).
pub const MAX_SPECIALIZATIONS: usize = 32;

/// What the pass reads about other functions.
pub trait Functions {
    /// The checked definition of a function, if it is defined.
    fn resolved(&self, id: FuncId) -> Option<&Resolved>;
    /// The result type of an already compiled specialization, if there is one.
    fn compiled(&self, key: &SpecKey) -> Option<Ty>;
    /// Why a specialization was given up on, if it was.
    fn refused(&self, key: &SpecKey) -> Option<String>;
    /// The name of a function (for reasons).
    fn name(&self, id: FuncId) -> &str;
    /// The machine-word entry of host function `id`, if it has one.
    fn host(&self, id: u32) -> Option<&crate::interp::host::NativeHost>;
}

/// Why a specialization was not compiled (a reason, not a failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The root key [`specialize`] was asked for.
    pub key: SpecKey,
    /// For example `uses strings`, or `calls g(int), which is not compiled: uses strings`.
    pub reason: String,
}

/// A specialization as reasons name it: `f(int, float)`.
pub fn describe(key: &SpecKey, functions: &dyn Functions) -> String {
    let args: Vec<&str> = key.args.iter().map(|t| t.name()).collect();
    format!("{}({})", functions.name(key.func), args.join(", "))
}

/// Infers types for `root` and every specialization it calls that is not compiled yet
/// (a fixpoint over their result types for recursion and mutual recursion) and returns
/// them all, `root` first: those the root's code reaches, in the order they were found.
pub fn specialize(root: &SpecKey, functions: &dyn Functions) -> Result<Vec<TFunction>, Refusal> {
    let refuse = |reason: String| Refusal {
        key: root.clone(),
        reason,
    };
    let mut set = Set {
        functions,
        specs: Vec::new(),
        index: FxHashMap::default(),
        changes: 0,
    };
    set.add(root.clone(), None);
    loop {
        let changes = set.changes;
        // Specializations found during a round were inferred when they were found.
        let mut i = 0;
        while i < set.specs.len() {
            if !set.up_to_date(i) {
                set.update(i).map_err(refuse)?;
            }
            i += 1;
        }
        if set.changes == changes {
            break;
        }
    }
    // Every latest inference saw the result types in their final state.
    for spec in &mut set.specs {
        if let Some(f) = &mut spec.function {
            f.facts = Facts::of(&f.body, &f.params);
        }
    }
    let reached = set.reached();
    for &i in &reached {
        if let Some(reason) = set.specs[i].pending.take() {
            return Err(refuse(set.blame(i, reason)));
        }
    }
    Ok(reached
        .into_iter()
        .filter_map(|i| set.specs[i].function.take())
        .collect())
}

struct Spec {
    key: SpecKey,
    /// The result type so far (after `RETURNS`).
    ret: Ty,
    /// The specialization whose body first called this one; `None` for the root.
    caller: Option<usize>,
    /// The latest inference.
    function: Option<TFunction>,
    /// Why the latest inference cannot be compiled if it is the final one (it depends
    /// on a `Never` result, which a later round may change).
    pending: Option<String>,
    /// The result types of the set that the latest inference read: `(spec, type)`.
    reads: Vec<(usize, Ty)>,
}

struct Set<'f> {
    functions: &'f dyn Functions,
    specs: Vec<Spec>,
    index: FxHashMap<SpecKey, usize>,
    /// How many result types have changed so far.
    changes: usize,
}

/// Why inference stopped.
enum Stop {
    /// The specialization being inferred cannot be compiled.
    Spec(String),
    /// None of the set can be (the reason is the root's as it is).
    Root(String),
}

impl Set<'_> {
    fn add(&mut self, key: SpecKey, caller: Option<usize>) {
        self.index.insert(key.clone(), self.specs.len());
        self.specs.push(Spec {
            key,
            ret: Ty::Never,
            caller,
            function: None,
            pending: None,
            reads: Vec::new(),
        });
    }

    /// Infers specialization `i` with the result types the set has now and keeps the
    /// inference; `Err` is the root's reason for giving up.
    fn update(&mut self, i: usize) -> Result<(), String> {
        self.specs[i].reads.clear();
        let (function, pending) = match infer(self, i) {
            Ok(done) => done,
            Err(Stop::Spec(reason)) => return Err(self.blame(i, reason)),
            Err(Stop::Root(reason)) => return Err(reason),
        };
        let old = self.specs[i].ret;
        if function.ret != old {
            if old == Ty::Never {
                self.specs[i].ret = function.ret;
            } else if function.ret == Ty::Never || old == Ty::Value {
                let reason = format!("returns {} and {}", old.name(), function.ret.name());
                return Err(self.blame(i, reason));
            } else {
                // Results of two types: the result is a generic value, and this body is
                // inferred again to give one (its callers read the change).
                self.specs[i].ret = Ty::Value;
                self.specs[i].function = None;
                self.changes += 1;
                return Ok(());
            }
            self.changes += 1;
        }
        self.specs[i].function = Some(function);
        self.specs[i].pending = pending;
        Ok(())
    }

    /// Whether specialization `i` was inferred with the result types the set has now.
    fn up_to_date(&self, i: usize) -> bool {
        let spec = &self.specs[i];
        spec.function.is_some() && spec.reads.iter().all(|&(j, t)| self.specs[j].ret == t)
    }

    /// The result type of a call of `key` made by specialization `caller`, adding `key`
    /// to the set if it is neither there nor compiled.
    fn result(&mut self, key: &SpecKey, caller: usize) -> Result<Ty, Stop> {
        if let Some(&i) = self.index.get(key) {
            let ty = self.specs[i].ret;
            self.specs[caller].reads.push((i, ty));
            return Ok(ty);
        }
        if let Some(ty) = self.functions.compiled(key) {
            return Ok(ty);
        }
        if let Some(reason) = self.functions.refused(key) {
            let callee = describe(key, self.functions);
            return Err(Stop::Root(format!(
                "{}{callee}, which is not compiled: {reason}",
                self.blame_prefix(caller)
            )));
        }
        if self.specs.len() >= MAX_SPECIALIZATIONS {
            return Err(Stop::Root(format!(
                "calls too many specializations (more than {MAX_SPECIALIZATIONS})"
            )));
        }
        // Inferred now, so that the caller reads its result type: a call graph without
        // cycles is inferred once per specialization. Within a cycle the callee reads
        // its caller's `Never` and a later round infers it again.
        let new = self.specs.len();
        self.add(key.clone(), Some(caller));
        stacker::maybe_grow(RED_ZONE, NEW_STACK, || self.update(new)).map_err(Stop::Root)?;
        let ty = self.specs[new].ret;
        self.specs[caller].reads.push((new, ty));
        Ok(ty)
    }

    /// "calls f(int), which calls " for a call made by specialization `caller`.
    fn blame_prefix(&self, caller: usize) -> String {
        let mut path = Vec::new();
        let mut at = caller;
        while let Some(up) = self.specs[at].caller {
            path.push(describe(&self.specs[at].key, self.functions));
            at = up;
        }
        path.reverse();
        let mut out = String::from("calls ");
        for p in path {
            out.push_str(&p);
            out.push_str(", which calls ");
        }
        out
    }

    /// The root's reason when specialization `i` cannot be compiled for `reason`.
    fn blame(&self, i: usize, reason: String) -> String {
        let mut path = Vec::new();
        let mut at = i;
        while let Some(caller) = self.specs[at].caller {
            path.push(at);
            at = caller;
        }
        if path.is_empty() {
            return reason;
        }
        let names: Vec<String> = path
            .iter()
            .rev()
            .map(|&s| describe(&self.specs[s].key, self.functions))
            .collect();
        format!(
            "calls {}, which is not compiled: {reason}",
            names.join(", which calls ")
        )
    }

    /// The specializations the root's code calls, directly or not, root first, in the
    /// order they were found.
    fn reached(&self) -> Vec<usize> {
        let mut seen = vec![false; self.specs.len()];
        seen[0] = true;
        let mut work = vec![0];
        while let Some(i) = work.pop() {
            let Some(f) = &self.specs[i].function else {
                continue;
            };
            for key in &f.facts.callees {
                if let Some(&j) = self.index.get(key) {
                    if !seen[j] {
                        seen[j] = true;
                        work.push(j);
                    }
                }
            }
        }
        (0..self.specs.len()).filter(|&i| seen[i]).collect()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
