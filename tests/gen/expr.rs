//! Generation of expressions and bodies of one function: typed by construction
//! (int, float, bool; now and then an ill-typed node), over the names in scope, with
//! calls of earlier functions within a cost budget, calls of host functions (now and
//! then with the wrong number or types of arguments) and, in the step of a counted
//! function, self calls. A depth budget per level keeps generation from overflowing
//! (quickcheck issue #23).

use super::args;
use super::host::{Host, HostTy};
use super::program::*;
use super::{below, pick};
use grizzly::internals::syntax::ast::BinaryOp;
use quickcheck::{Arbitrary, Gen};

/// What a call site needs to know of an earlier function.
pub struct Sig {
    pub id: usize,
    pub params: Vec<Ty>,
    pub counted: bool,
    pub ret: Ty,
    pub cost: u64,
}

/// The self calls the step of a counted function may still make.
pub struct SelfCalls {
    pub ret: Ty,
    /// The parameters after the counter.
    pub params: Vec<Ty>,
    pub left: u32,
}

/// The state of generating one function body.
pub struct Gx<'g> {
    pub g: &'g mut Gen,
    /// Visible names and their types, innermost last.
    pub env: Vec<(String, Ty)>,
    pub next_let: usize,
    pub sigs: &'g [Sig],
    /// Call cost left for call sites (per level of a counted function).
    pub budget: u64,
    pub recur: Option<SelfCalls>,
    /// Parameters a `LET` may shadow (never the counter).
    pub shadowable: Vec<String>,
    /// One expression in `ill_typed` has another type (never if 0).
    pub ill_typed: u32,
}

pub const ARITH: [BinaryOp; 5] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
];
pub const COMPARE: [BinaryOp; 6] = [
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
];
/// Divisors: powers of two (compiled as shifts), -1 (overflow), 0, the minimum.
const INT_DIVISORS: [i64; 10] = [2, 4, 8, -1, 1, 1 << 62, -4, i64::MIN, 3, 0];
const FLOAT_DIVISORS: [f64; 6] = [2.0, 0.0, -0.0, 0.5, f64::INFINITY, 3.0];
/// The id of a function no program defines.
pub const UNDEFINED: usize = 99;
const STRINGS: [&str; 5] = [
    "",
    "7",
    "grizzly",
    "héllo wörld ∑",
    "tab\t\"q\" \\ new\nline",
];

/// What `h_kind` returns for each kind of value generated (strings aside).
const KINDS: [&str; 6] = ["int", "int-", "float", "float-", "float nan", "bool"];

pub fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

pub fn bin(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    Expr::Bin(op, bx(a), bx(b))
}

pub fn num(g: &mut Gen) -> Ty {
    pick(g, &[Ty::Int, Ty::Float])
}

/// Int, float or bool, bool less often.
pub fn any_ty(g: &mut Gen) -> Ty {
    pick(g, &[Ty::Int, Ty::Int, Ty::Float, Ty::Float, Ty::Bool])
}

impl Gx<'_> {
    /// An expression of type `t` (now and then of another type: ill-typed).
    pub fn expr(&mut self, t: Ty, depth: u32) -> Expr {
        if self.ill_typed > 0 && below(self.g, self.ill_typed) == 0 {
            return match below(self.g, 16) {
                0 => Expr::Str(pick(self.g, &STRINGS).to_string()),
                1 => Expr::Null,
                _ => {
                    let others: Vec<Ty> = Ty::ALL.into_iter().filter(|&o| o != t).collect();
                    let o = pick(self.g, &others);
                    self.typed(o, depth)
                }
            };
        }
        self.typed(t, depth)
    }

    fn typed(&mut self, t: Ty, depth: u32) -> Expr {
        if let Some(r) = &self.recur {
            if r.left > 0 && r.ret == t && depth > 0 && below(self.g, 5) == 0 {
                return self.recur_call(depth - 1);
            }
        }
        if depth == 0 || below(self.g, 4) == 0 {
            return self.leaf(t);
        }
        let d = depth - 1;
        if below(self.g, 4) == 0 {
            if let Some(call) = self.call(t, d) {
                return call;
            }
        }
        if below(self.g, 12) == 0 {
            return self.host(t, d);
        }
        match t {
            Ty::Int => self.int(d),
            Ty::Float => self.float(d),
            Ty::Bool => self.boolean(d),
        }
    }

    pub fn leaf(&mut self, t: Ty) -> Expr {
        let vars: Vec<String> = self.visible(t);
        if !vars.is_empty() && below(self.g, 2) == 0 {
            return Expr::Var(pick(self.g, &vars).clone());
        }
        match t {
            Ty::Int => match below(self.g, 3) {
                0 => Expr::Int(pick(self.g, &args::INTS)),
                _ => Expr::Int(i64::from(below(self.g, 20)) - 5),
            },
            Ty::Float => match below(self.g, 6) {
                0 => Expr::Float(pick(self.g, &args::SPECIAL)),
                1 | 2 => Expr::Float(pick(self.g, &args::FLOATS)),
                _ => Expr::Float(f64::from(below(self.g, 40)) / 4.0 - 3.0),
            },
            Ty::Bool => Expr::Bool(bool::arbitrary(self.g)),
        }
    }

    /// The visible names of type `t` (a `LET` may shadow a name with another type).
    pub fn visible(&self, t: Ty) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (n, vt) in self.env.iter().rev() {
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

    fn int(&mut self, d: u32) -> Expr {
        let e = |s: &mut Self| s.expr(Ty::Int, d);
        match below(self.g, 12) {
            0..=2 => {
                let op = pick(self.g, &ARITH);
                bin(op, e(self), e(self))
            }
            3 => Expr::Neg(bx(e(self))),
            4 => {
                let b = pick(
                    self.g,
                    &[Builtin::Abs, Builtin::Floor, Builtin::Ceil, Builtin::Round],
                );
                Expr::Builtin(b, vec![e(self)])
            }
            5 => {
                let b = pick(self.g, &[Builtin::Min, Builtin::Max]);
                Expr::Builtin(b, vec![e(self), e(self)])
            }
            6 => {
                let from = pick(self.g, &[Ty::Float, Ty::Float, Ty::Bool, Ty::Int]);
                Expr::Cast(bx(self.expr(from, d)), Ty::Int)
            }
            7 => self.if_(Ty::Int, d),
            8 => self.fallback(Ty::Int, d),
            9 => self.call(Ty::Int, d).unwrap_or_else(|| e(self)),
            10 => match self.visible(Ty::Int).as_slice() {
                // squaring a parameter (overflows from 3037000500)
                // the minimum, as a literal or computed, and an operation on it
                [] => {
                    let min = if bool::arbitrary(self.g) {
                        Expr::Int(i64::MIN)
                    } else {
                        bin(BinaryOp::Sub, Expr::Int(-i64::MAX), Expr::Int(1))
                    };
                    let op = pick(self.g, &ARITH);
                    bin(op, min, e(self))
                }
                vars => {
                    let v = Expr::Var(pick(self.g, vars).clone());
                    bin(BinaryOp::Mul, v.clone(), v)
                }
            },
            _ => {
                let op = pick(self.g, &[BinaryOp::Div, BinaryOp::Rem]);
                let k = pick(self.g, &INT_DIVISORS);
                bin(op, e(self), Expr::Int(k))
            }
        }
    }

    fn float(&mut self, d: u32) -> Expr {
        let e = |s: &mut Self| s.expr(Ty::Float, d);
        match below(self.g, 12) {
            0..=2 => {
                let op = pick(self.g, &ARITH);
                let (l, r) = match below(self.g, 3) {
                    0 => (Ty::Float, Ty::Float),
                    1 => (num(self.g), Ty::Float),
                    _ => (Ty::Float, num(self.g)),
                };
                bin(op, self.expr(l, d), self.expr(r, d))
            }
            3 => Expr::Neg(bx(e(self))),
            4 => {
                let b = pick(
                    self.g,
                    &[Builtin::Abs, Builtin::Floor, Builtin::Ceil, Builtin::Round],
                );
                Expr::Builtin(b, vec![e(self)])
            }
            5 => {
                let t = num(self.g);
                Expr::Builtin(Builtin::Sqrt, vec![self.expr(t, d)])
            }
            6 => {
                let b = pick(self.g, &[Builtin::Min, Builtin::Max, Builtin::Pow]);
                let (l, r) = if bool::arbitrary(self.g) {
                    (num(self.g), Ty::Float)
                } else {
                    (Ty::Float, num(self.g))
                };
                Expr::Builtin(b, vec![self.expr(l, d), self.expr(r, d)])
            }
            7 => {
                let from = pick(self.g, &[Ty::Int, Ty::Int, Ty::Bool, Ty::Float]);
                Expr::Cast(bx(self.expr(from, d)), Ty::Float)
            }
            8 => self.if_(Ty::Float, d),
            9 => self.fallback(Ty::Float, d),
            10 => self.call(Ty::Float, d).unwrap_or_else(|| e(self)),
            _ => {
                let op = pick(self.g, &[BinaryOp::Div, BinaryOp::Rem]);
                let k = if bool::arbitrary(self.g) {
                    Expr::Float(pick(self.g, &FLOAT_DIVISORS))
                } else {
                    Expr::Int(pick(self.g, &INT_DIVISORS))
                };
                bin(op, e(self), k)
            }
        }
    }

    fn boolean(&mut self, d: u32) -> Expr {
        let e = |s: &mut Self| s.expr(Ty::Bool, d);
        match below(self.g, 11) {
            0..=2 => {
                let op = pick(self.g, &COMPARE);
                let (l, r) = (num(self.g), num(self.g));
                bin(op, self.expr(l, d), self.expr(r, d))
            }
            3 => {
                let op = pick(self.g, &[BinaryOp::Eq, BinaryOp::Ne]);
                bin(op, e(self), e(self))
            }
            4 | 5 => {
                let op = pick(self.g, &[BinaryOp::And, BinaryOp::Or]);
                bin(op, e(self), e(self))
            }
            6 => Expr::Not(bx(e(self))),
            7 => self.if_(Ty::Bool, d),
            8 => self.fallback(Ty::Bool, d),
            9 => self
                .call(Ty::Bool, d)
                .unwrap_or_else(|| Expr::Not(bx(e(self)))),
            _ => match below(self.g, 3) {
                0 => Expr::Cast(bx(e(self)), Ty::Bool),
                // a bool against a number: unequal, never an error
                _ => {
                    let t = num(self.g);
                    bin(BinaryOp::Eq, e(self), self.expr(t, d))
                }
            },
        }
    }

    fn if_(&mut self, t: Ty, d: u32) -> Expr {
        let c = self.expr(Ty::Bool, d);
        let then = self.body(t, d);
        let otherwise = self.body(t, d);
        Expr::If(bx(c), Box::new(then), Box::new(otherwise))
    }

    /// `TRY a CATCH b` or `a ?? b`.
    fn fallback(&mut self, t: Ty, d: u32) -> Expr {
        let a = self.expr(t, d);
        let b = self.expr(t, d);
        if bool::arbitrary(self.g) {
            Expr::Try(bx(a), bx(b))
        } else {
            bin(BinaryOp::Coalesce, a, b)
        }
    }

    /// A call of an earlier function whose cost fits the budget: one returning `t`,
    /// or another converted to `t`.
    pub fn call(&mut self, t: Ty, d: u32) -> Option<Expr> {
        let sigs = self.sigs;
        let fits: Vec<&Sig> = sigs.iter().filter(|s| s.cost <= self.budget).collect();
        let same: Vec<&Sig> = fits.iter().copied().filter(|s| s.ret == t).collect();
        let s = if !same.is_empty() && below(self.g, 3) > 0 {
            *self.g.choose(&same)?
        } else {
            *self.g.choose(&fits)?
        };
        self.budget -= s.cost;
        let args = s
            .params
            .iter()
            .enumerate()
            .map(|(i, &pt)| {
                if i == 0 && s.counted {
                    // any int: the callee clamps its counter
                    self.expr(Ty::Int, d.min(1))
                } else {
                    self.expr(pt, d)
                }
            })
            .collect::<Vec<Expr>>();
        let mut call = Expr::Call(s.id, args);
        if self.ill_typed > 0 && below(self.g, 4 * self.ill_typed) == 0 {
            // an argument too many or too few, or a function that does not exist
            if let Expr::Call(id, args) = &mut call {
                match below(self.g, 3) {
                    0 => args.push(Expr::Int(1)),
                    1 => drop(args.pop()),
                    _ => *id = UNDEFINED,
                }
            }
        }
        Some(match (s.ret, t) {
            (from, to) if from == to => call,
            (Ty::Bool, _) | (Ty::Float, Ty::Int) => Expr::Cast(bx(call), t),
            (Ty::Int, Ty::Float) => match below(self.g, 3) {
                0 => Expr::Cast(bx(call), t),
                1 => bin(BinaryOp::Mul, call, Expr::Float(0.5)),
                _ => Expr::Builtin(Builtin::Sqrt, vec![call]),
            },
            (_, _) => {
                let op = pick(self.g, &COMPARE);
                let k = self.leaf(s.ret);
                bin(op, call, k)
            }
        })
    }

    /// A call of a host function whose result is of type `t` (`h_kind`, which
    /// returns a string, compared with one; an int result cast to a float).
    pub fn host(&mut self, t: Ty, d: u32) -> Expr {
        let ints = [Host::Add, Host::Add, Host::Len, Host::Or, Host::Boom];
        match t {
            Ty::Int => {
                let h = pick(self.g, &ints);
                self.host_call(h, d)
            }
            Ty::Float if below(self.g, 4) == 0 => {
                let h = pick(self.g, &ints);
                Expr::Cast(bx(self.host_call(h, d)), Ty::Float)
            }
            Ty::Float => self.host_call(Host::Scale, d),
            Ty::Bool => {
                let op = pick(self.g, &[BinaryOp::Eq, BinaryOp::Ne]);
                match below(self.g, 4) {
                    0 | 1 => self.host_call(Host::Xor, d),
                    2 => {
                        let kind = self.host_call(Host::Kind, d);
                        let s = pick(self.g, &KINDS);
                        bin(op, kind, Expr::Str(s.to_string()))
                    }
                    _ => {
                        let (a, b) = (self.host_call(Host::Kind, d), self.host_call(Host::Kind, d));
                        bin(op, a, b)
                    }
                }
            }
        }
    }

    /// A call of `h`: arguments of its parameters' types, but one call in twelve has
    /// an argument too many or too few, or one of a wrong type.
    pub fn host_call(&mut self, h: Host, d: u32) -> Expr {
        let params = h.params();
        let mut args: Vec<Expr> = params.iter().map(|&p| self.host_arg(p, d)).collect();
        if below(self.g, 12) == 0 {
            match below(self.g, 3) {
                0 => args.push(Expr::Int(1)),
                1 => drop(args.pop()),
                _ => {
                    let i = below(self.g, args.len() as u32) as usize;
                    args[i] = self.wrong_host_arg(params[i]);
                }
            }
        }
        Expr::Host(h, args)
    }

    fn host_arg(&mut self, p: HostTy, d: u32) -> Expr {
        match p {
            HostTy::Int => self.expr(Ty::Int, d),
            // (an int converts)
            HostTy::Float => {
                let t = num(self.g);
                self.expr(t, d)
            }
            HostTy::Bool => self.expr(Ty::Bool, d),
            HostTy::Str if below(self.g, 2) == 0 => Expr::Str(pick(self.g, &STRINGS).into()),
            HostTy::Str => self.host_call(Host::Kind, d),
            HostTy::Any if below(self.g, 8) == 0 => Expr::Null,
            HostTy::Any => {
                let t = any_ty(self.g);
                self.expr(t, d)
            }
            HostTy::IntOrNull if below(self.g, 3) == 0 => Expr::Null,
            HostTy::IntOrNull => self.expr(Ty::Int, d),
        }
    }

    /// An argument a parameter of type `p` refuses (any value suits `Value`).
    fn wrong_host_arg(&mut self, p: HostTy) -> Expr {
        let wrong = match p {
            HostTy::Int | HostTy::IntOrNull => {
                [Expr::Float(0.5), Expr::Bool(true), Expr::Str("7".into())]
            }
            HostTy::Float => [Expr::Bool(false), Expr::Str("1.5".into()), Expr::Null],
            HostTy::Bool => [Expr::Int(1), Expr::Str("true".into()), Expr::Null],
            HostTy::Str => [Expr::Int(7), Expr::Null, Expr::Float(-0.0)],
            HostTy::Any => [Expr::Null, Expr::Int(0), Expr::Bool(false)],
        };
        pick(self.g, &wrong)
    }

    pub fn recur_call(&mut self, d: u32) -> Expr {
        let r = self.recur.as_mut().expect("self calls allowed");
        r.left -= 1;
        let params = r.params.clone();
        let args = params.iter().map(|&t| self.expr(t, d.min(2))).collect();
        Expr::Recur(args)
    }

    /// A body of type `t`: up to two `LET`s, visible to what follows them.
    pub fn body(&mut self, t: Ty, depth: u32) -> Body {
        let saved = self.env.len();
        let lets = (0..below(self.g, 3)).map(|_| self.let_(depth)).collect();
        let result = self.expr(t, depth);
        self.env.truncate(saved);
        Body { lets, result }
    }

    /// A `LET` (a new name, or now and then a parameter shadowed with any type).
    pub fn let_(&mut self, depth: u32) -> Let {
        let ty = any_ty(self.g);
        let value = self.expr(ty, depth.saturating_sub(1));
        let name = if !self.shadowable.is_empty() && below(self.g, 6) == 0 {
            pick(self.g, &self.shadowable).clone()
        } else {
            self.next_let += 1;
            format!("v{}", self.next_let - 1)
        };
        self.env.push((name.clone(), ty));
        Let { name, ty, value }
    }

    /// The new value of a loop parameter: often another parameter of its type
    /// (parameters swapped), or itself stepped.
    pub fn update(&mut self, name: &str, t: Ty) -> Expr {
        let vars = self.visible(t);
        match below(self.g, 5) {
            0 | 1 if !vars.is_empty() => Expr::Var(pick(self.g, &vars).clone()),
            2 => {
                let me = Expr::Var(name.to_string());
                match t {
                    Ty::Int => bin(BinaryOp::Add, me, Expr::Var("n".into())),
                    Ty::Float => bin(BinaryOp::Mul, me, Expr::Float(1.5)),
                    Ty::Bool => Expr::Not(bx(me)),
                }
            }
            _ => self.expr(t, 2),
        }
    }
}
