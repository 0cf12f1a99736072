//! Expressions and bodies of a given type.

use super::*;
use crate::host::{Host, HostTy};
use crate::session::{Body, E, T, TYPES};

/// What `h_kind` returns for the values generated (strings aside), as literals.
const KINDS: [&str; 6] = [
    "\"int\"",
    "\"int-\"",
    "\"float\"",
    "\"float-\"",
    "\"float nan\"",
    "\"bool\"",
];

impl Gen<'_, '_> {
    pub(super) fn expr(&mut self, t: T, depth: u32, env: &mut Env) -> E {
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
            5 => return self.host_fn(t, d, env),
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

    pub(super) fn builtin(
        &mut self,
        name: &'static str,
        types: Vec<T>,
        depth: u32,
        env: &mut Env,
    ) -> E {
        let args = types.iter().map(|&t| self.expr(t, depth, env)).collect();
        let method = self.one_in(5);
        E::Call(name.into(), args, method)
    }

    /// A call of a host function whose result has type `t` (`h_kind`, which returns a
    /// string, compared with one).
    pub(super) fn host_fn(&mut self, t: T, depth: u32, env: &mut Env) -> E {
        match t {
            T::Int => {
                let h = self.pick(&[Host::Add, Host::Add, Host::Len, Host::Or, Host::Boom]);
                self.call_host_fn(h, depth, env)
            }
            T::Float => self.call_host_fn(Host::Scale, depth, env),
            T::Bool if self.below(3) == 0 => {
                let op = self.pick(&["==", "!="]);
                let kind = self.call_host_fn(Host::Kind, depth, env);
                E::Bin(op, Box::new(kind), Box::new(E::Lit(self.pick(&KINDS))))
            }
            T::Bool => self.call_host_fn(Host::Xor, depth, env),
        }
    }

    /// A call of `h` with arguments of its parameters' types; one in twelve has an
    /// argument too many or too few, or one of another type.
    pub(super) fn call_host_fn(&mut self, h: Host, depth: u32, env: &mut Env) -> E {
        let params = h.params();
        let mut args: Vec<E> = params
            .iter()
            .map(|&p| self.host_fn_arg(p, depth, env))
            .collect();
        if self.one_in(12) {
            match self.below(3) {
                0 => args.push(E::Int(1)),
                1 => drop(args.pop()),
                _ => {
                    let i = self.below(args.len() as u32) as usize;
                    let mut wrong = match params[i] {
                        HostTy::Int | HostTy::IntOrNull => {
                            vec![E::Float(0.5), E::Lit("true"), E::Lit("\"7\"")]
                        }
                        HostTy::Float => vec![E::Lit("false"), E::Lit("null")],
                        HostTy::Bool => vec![E::Int(1), E::Lit("null")],
                        HostTy::Str => vec![E::Int(7), E::Lit("null")],
                        HostTy::Any => vec![E::Lit("null")],
                    };
                    args[i] = wrong.swap_remove(self.below(wrong.len() as u32) as usize);
                }
            }
        }
        E::Call(h.name().into(), args, self.one_in(6))
    }

    fn host_fn_arg(&mut self, p: HostTy, depth: u32, env: &mut Env) -> E {
        match p {
            HostTy::Int => self.expr(T::Int, depth, env),
            HostTy::Float => {
                let t = self.num();
                self.expr(t, depth, env)
            }
            HostTy::Bool => self.expr(T::Bool, depth, env),
            HostTy::Str if self.below(2) == 0 && self.strings_ok(env) => {
                E::Lit(self.pick(&STRINGS))
            }
            HostTy::Str => self.call_host_fn(Host::Kind, depth, env),
            HostTy::Any => {
                let t = self.pick(&TYPES);
                self.expr(t, depth, env)
            }
            HostTy::IntOrNull if self.one_in(3) && self.strings_ok(env) => E::Lit("null"),
            HostTy::IntOrNull => self.expr(T::Int, depth, env),
        }
    }

    /// A call of a function defined before (or of the function itself, in its recursive
    /// branch) that returns `t`, if one fits in the budget.
    pub(super) fn user_call(&mut self, t: T, depth: u32, env: &mut Env) -> Option<E> {
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

    pub(super) fn if_(&mut self, t: T, depth: u32, env: &mut Env) -> E {
        let c = self.expr(T::Bool, depth, env);
        let then = self.body(t, depth, env);
        let other = self.body(t, depth, env);
        E::If(Box::new(c), Box::new(then), Box::new(other))
    }

    /// A body of type `t`: up to two `LET`s (visible to what follows them in this body).
    pub(super) fn body(&mut self, t: T, depth: u32, env: &mut Env) -> Body {
        let saved = env.vars.len();
        let lets = self.lets(depth, env);
        let result = self.expr(t, depth, env);
        env.vars.truncate(saved);
        Body { lets, result }
    }

    /// Up to two `LET`s, added to `env` (the caller truncates it).
    pub(super) fn lets(&mut self, depth: u32, env: &mut Env) -> Vec<(String, E)> {
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
}
