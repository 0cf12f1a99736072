//! Function definitions (plain, recursive, mutually recursive pairs) and top-level updates.

use super::*;
use crate::session::{Body, Step, E, T, TYPES};

impl Gen<'_, '_> {
    /// A function definition for slot `index` of the table (a new function or a
    /// redefinition), calling only functions below `index`. `old` is the definition it
    /// replaces: the new one may not cost more, nor become recursive.
    ///
    /// A function of a mutually recursive pair is defined with `partner` (its index and
    /// parameter types, chosen before either is generated) and `params` (its own), and
    /// is recursive; a redefinition finds its partner in `old`.
    pub(super) fn function(
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

    pub(super) fn params(&mut self) -> Vec<T> {
        let n = self.below(5) as usize;
        (0..n).map(|_| self.pick(&TYPES)).collect()
    }

    /// A mutually recursive pair `fi`, `fj` (j = i + 1), defined in one item.
    pub(super) fn pair(&mut self) -> Step {
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
    pub(super) fn update(&mut self, t: T, env: &mut Env) -> E {
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
}
