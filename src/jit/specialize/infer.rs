//! Typing one specialization's body, node by node.

use super::nodes::*;
use super::*;
use crate::jit::depth::descend;
use crate::value::ValueType;

/// Infers specialization `i` with the result types the set has now.
pub(super) fn infer(set: &mut Set<'_>, i: usize) -> Result<(TFunction, Option<String>), Stop> {
    #[cfg(test)]
    INFERENCES.with(|n| n.set(n.get() + 1));
    let functions = set.functions;
    let key = set.specs[i].key.clone();
    let name = functions.name(key.func);
    let Some(def) = functions.resolved(key.func) else {
        return Err(Stop::Spec(format!("'{name}' is not defined")));
    };
    if def.params.len() != key.args.len() {
        return Err(Stop::Spec(format!(
            "'{name}' expects {} arguments, got {}",
            def.params.len(),
            key.args.len()
        )));
    }
    let mut params = Vec::with_capacity(key.args.len());
    let mut checks = Vec::new();
    for (i, (p, &arg)) in def.params.iter().zip(&key.args).enumerate() {
        if let (Ty::Value, Some(ty)) = (arg, p.ty) {
            checks.push((i, ty));
        }
        if arg == Ty::Never {
            return Err(Stop::Spec("an argument type is never".to_string()));
        }
        match annotate(arg, p.ty) {
            Some((ty, _)) => params.push(ty),
            None => {
                let expects = p.ty.map_or("?", TypeName::name);
                return Err(Stop::Spec(format!(
                    "argument type error: parameter '{}' of '{name}' expects {expects}, got {}",
                    p.name,
                    arg.name()
                )));
            }
        }
    }
    let entry = params.clone();
    // A loop that passes a parameter a value of another type makes the parameter
    // generic (boxed on entry), and the body is inferred again.
    let mut generic_params = vec![false; params.len()];
    let (body, slots, pending, exact) = loop {
        for (p, &g) in params.iter_mut().zip(&generic_params) {
            if g {
                *p = Ty::Value;
            }
        }
        let mut slots = vec![Ty::Never; def.slots.max(params.len())];
        slots[..params.len()].copy_from_slice(&params);
        let widened = set.specs[i].ret == Ty::Value;
        let mut cx = Infer {
            set: &mut *set,
            current: i,
            widened,
            returns: def.returns,
            slots,
            pending: None,
            exact: true,
            depth: 0,
            loop_changes: None,
        };
        let saved = cx.save();
        let body = cx.body(&def.body, true)?;
        match cx.loop_changes {
            Some(p) if !generic_params[p] => {
                // Undo what this inference added to the set, and infer again.
                cx.restore(saved);
                generic_params[p] = true;
            }
            _ => break (body, cx.slots, cx.pending, cx.exact),
        }
    };
    let ret = body.result.ty;
    Ok((
        TFunction {
            key,
            params,
            entry,
            slots,
            ret,
            checks,
            exact,
            body,
            facts: Facts::default(),
        },
        pending,
    ))
}

#[cfg(test)]
thread_local! {
    /// How many bodies this thread has inferred (tests count rounds with it).
    pub(super) static INFERENCES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The inference of one specialization's body.
struct Infer<'c, 'f> {
    set: &'c mut Set<'f>,
    current: usize,
    /// The result is a generic value (results of two types were seen): every value
    /// returned is boxed.
    widened: bool,
    returns: Option<TypeName>,
    slots: Vec<Ty>,
    pending: Option<String>,
    /// See [`TFunction::exact`].
    exact: bool,
    /// Levels of recursion (see `jit/depth.rs`).
    depth: u32,
    /// A parameter a self tail call passes a value of another machine type.
    loop_changes: Option<usize>,
}

/// See [`Infer::save`].
struct Saved {
    specs: usize,
    reads: usize,
    slots: Vec<Ty>,
    pending: Option<String>,
    exact: bool,
}

/// A node's operands, or the replacement of the node when one is `Never`.
enum Operands {
    All(Vec<TExpr>),
    Never(TExpr),
}

impl Infer<'_, '_> {
    fn body(&mut self, b: &RBody, tail: bool) -> Result<TBody, Stop> {
        let mut lets = Vec::with_capacity(b.lets.len());
        for (slot, value) in &b.lets {
            let value = self.expr(value, false)?;
            if value.ty == Ty::Never {
                // The rest of the body is unreachable and the slot never bound.
                return Ok(TBody {
                    lets,
                    result: value,
                });
            }
            self.slots[*slot as usize] = value.ty;
            lets.push((*slot, value));
        }
        let mut result = self.expr(&b.result, tail)?;
        // An `IF` in tail position converts in its branches, before they join.
        if tail && !matches!(b.result.kind, RKind::If(..)) {
            result = self.returned(result);
        }
        Ok(TBody { lets, result })
    }

    /// A value the function returns, checked against `RETURNS` like `ops::annotate`.
    fn returned(&self, e: TExpr) -> TExpr {
        let e = match self.returns {
            None => e,
            // A constant of the type (a string, `null`) needs no check (folded).
            Some(ty) if matches!(&e.kind, TKind::Const(v) if crate::ops::annotate(v, ty).as_ref() == Some(v)) => {
                e
            }
            Some(ty) if e.ty == Ty::Value => {
                let span = e.span;
                generic(GenericOp::Annotate(ty), vec![e], Ty::Value, span)
            }
            Some(ty) => match annotate(e.ty, Some(ty)) {
                Some((_, None)) => e,
                Some((_, Some(c))) => convert(c, e),
                None => deopt(DeoptReason::Type, e.span),
            },
        };
        if self.widened {
            boxed(e)
        } else {
            e
        }
    }

    fn expr(&mut self, e: &RExpr, tail: bool) -> Result<TExpr, Stop> {
        descend!(self, self.expr_inner(e, tail))
    }

    fn expr_inner(&mut self, e: &RExpr, tail: bool) -> Result<TExpr, Stop> {
        let span = e.span;
        match &e.kind {
            RKind::Const(v) => match v {
                Value::Int(i) => Ok(node(TKind::Int(*i), Ty::Int, span)),
                Value::Float(f) => Ok(node(TKind::Float(*f), Ty::Float, span)),
                Value::Bool(b) => Ok(node(TKind::Bool(*b), Ty::Bool, span)),
                Value::Str(_) | Value::Null => Ok(node(TKind::Const(v.clone()), Ty::Value, span)),
            },
            RKind::Local(slot) => match self.slots.get(*slot as usize) {
                Some(&ty) if ty != Ty::Never => Ok(node(TKind::Local(*slot), ty, span)),
                _ => Err(Stop::Spec(
                    "reads a variable that is never bound".to_string(),
                )),
            },
            RKind::Unary(op, a) => self.unary(*op, a, span),
            RKind::Binary(op, a, b) => match op {
                BinaryOp::And | BinaryOp::Or => self.logic(*op == BinaryOp::And, a, b, span),
                BinaryOp::Coalesce => self.attempt(a, b, true, span),
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                    self.arith(*op, a, b, span)
                }
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => self.compare(*op, a, b, span),
            },
            RKind::Cast(a, ty) => self.cast(a, *ty, span),
            RKind::Builtin(b, args) => self.builtin(*b, args, span),
            RKind::Call {
                callee,
                args,
                self_tail,
                ..
            } => self.call(*callee, args, *self_tail, span),
            RKind::If(c, t, f) => self.if_(c, t, f, tail, span),
            RKind::Try(a, b) => self.attempt(a, b, false, span),
            // Raises `unknown variable` (which a `TRY` may catch).
            RKind::Fail(_) => Ok(deopt(DeoptReason::Raised, span)),
            RKind::Host {
                host, arity, args, ..
            } => {
                if args.len() != *arity {
                    return Ok(deopt(DeoptReason::Call, span));
                }
                let args = match self.operands(args)? {
                    Operands::Never(e) => return Ok(e),
                    Operands::All(v) => v,
                };
                Ok(self.host_call(*host, args, span))
            }
        }
    }

    /// Infers operands left to right, up to the first `Never` one.
    fn operands<'r>(&mut self, es: impl IntoIterator<Item = &'r RExpr>) -> Result<Operands, Stop> {
        let mut done = Vec::new();
        for e in es {
            let t = self.expr(e, false)?;
            if t.ty == Ty::Never {
                return Ok(Operands::Never(self.never(done, t)));
            }
            done.push(t);
        }
        Ok(Operands::All(done))
    }

    /// [`operands`](Self::operands) of a binary node, without a vector: both typed, or
    /// the replacement of the node.
    fn pair(&mut self, a: &RExpr, b: &RExpr) -> Result<Result<(TExpr, TExpr), TExpr>, Stop> {
        let a = self.expr(a, false)?;
        if a.ty == Ty::Never {
            return Ok(Err(self.never(Vec::new(), a)));
        }
        let b = self.expr(b, false)?;
        if b.ty == Ty::Never {
            return Ok(Err(self.never(vec![a], b)));
        }
        Ok(Ok((a, b)))
    }

    /// The replacement of a node whose operand `never` is `Never`, after operands `before`.
    fn never(&mut self, before: Vec<TExpr>, never: TExpr) -> TExpr {
        let exact = matches!(never.kind, TKind::Deopt(_)) || before.iter().all(cannot_fail);
        if !exact && self.pending.is_none() {
            let what = match &never.kind {
                TKind::Call { callee, .. } => {
                    format!("the call {}", describe(callee, self.set.functions))
                }
                TKind::Try(..) => "a TRY".to_string(),
                _ => "an IF".to_string(),
            };
            self.pending = Some(format!(
                "{what} never returns a value and follows an operand that may fail"
            ));
        }
        never
    }

    /// `TRY a CATCH b` and `a ?? b` (`coalesce`): a [`TKind::Try`], whose handler `b`
    /// runs when `a` raises (for `??`, a generic `a` also raises when it is `null`:
    /// [`GenericOp::NotNull`]; a typed value is never null). When `a` and `b` have two
    /// machine types, both are boxed. When `b` cannot be compiled, the handler
    /// deoptimizes (`Deopt(Handler)`, so that `a`'s errors reach no compiled handler
    /// further up), the interpreter computes `b` (the call is then inexact), and
    /// inferring `b` is undone.
    fn attempt(&mut self, a: &RExpr, b: &RExpr, coalesce: bool, span: Span) -> Result<TExpr, Stop> {
        let mut a = self.expr(a, false)?;
        if coalesce && a.ty == Ty::Value {
            let span = a.span;
            a = node(TKind::Generic(GenericOp::NotNull, vec![a]), Ty::Value, span);
        }
        if cannot_fail(&a) {
            // Nothing to catch: the handler is never needed.
            return Ok(a);
        }
        let saved = self.save();
        match self.expr(b, false) {
            Ok(b) => {
                let ty = match (a.ty, b.ty) {
                    (Ty::Never, t) | (t, Ty::Never) => t,
                    (x, y) if x == y => x,
                    _ => Ty::Value,
                };
                let (a, b) = if ty == Ty::Value {
                    (boxed(a), boxed(b))
                } else {
                    (a, b)
                };
                Ok(node(TKind::Try(Box::new(a), Box::new(b)), ty, span))
            }
            Err(_) => {
                self.restore(saved);
                self.exact = false;
                if a.ty == Ty::Never {
                    // `a` always leaves: leaving at once is exact.
                    return Ok(deopt(DeoptReason::Handler, span));
                }
                let (ty, b) = (a.ty, deopt(DeoptReason::Handler, span));
                Ok(node(TKind::Try(Box::new(a), Box::new(b)), ty, span))
            }
        }
    }

    /// What inferring an expression may change, to undo it.
    fn save(&self) -> Saved {
        Saved {
            specs: self.set.specs.len(),
            reads: self.set.specs[self.current].reads.len(),
            slots: self.slots.clone(),
            pending: self.pending.clone(),
            exact: self.exact,
        }
    }

    fn restore(&mut self, saved: Saved) {
        // Specializations found since were called from the undone expression only.
        for spec in self.set.specs.drain(saved.specs..) {
            self.set.index.remove(&spec.key);
        }
        self.set.specs[self.current].reads.truncate(saved.reads);
        self.slots = saved.slots;
        self.pending = saved.pending;
        self.exact = saved.exact;
    }

    fn unary(&mut self, op: UnaryOp, a: &RExpr, span: Span) -> Result<TExpr, Stop> {
        let a = self.expr(a, false)?;
        Ok(match (op, a.ty) {
            (_, Ty::Never) => a,
            (UnaryOp::Neg, Ty::Int) => match a.kind {
                TKind::Int(i) if i != i64::MIN => node(TKind::Int(-i), Ty::Int, span),
                _ => node(TKind::Neg(Box::new(a)), Ty::Int, span),
            },
            (UnaryOp::Neg, Ty::Float) => match a.kind {
                TKind::Float(f) => node(TKind::Float(-f), Ty::Float, span),
                _ => node(TKind::Neg(Box::new(a)), Ty::Float, span),
            },
            (UnaryOp::Not, Ty::Bool) => node(TKind::Not(Box::new(a)), Ty::Bool, span),
            (UnaryOp::Neg, Ty::Value) => generic(GenericOp::Neg, vec![a], Ty::Value, span),
            (UnaryOp::Not, Ty::Value) => generic(GenericOp::Not, vec![a], Ty::Bool, span),
            _ => deopt(DeoptReason::Type, span),
        })
    }

    fn arith(&mut self, op: BinaryOp, a: &RExpr, b: &RExpr, span: Span) -> Result<TExpr, Stop> {
        let (l, r) = match self.pair(a, b)? {
            Ok(pair) => pair,
            Err(never) => return Ok(never),
        };
        if l.ty == Ty::Value || r.ty == Ty::Value {
            return Ok(generic(GenericOp::Binary(op), vec![l, r], Ty::Value, span));
        }
        let op = match op {
            BinaryOp::Add => ArithOp::Add,
            BinaryOp::Sub => ArithOp::Sub,
            BinaryOp::Mul => ArithOp::Mul,
            BinaryOp::Div => ArithOp::Div,
            _ => ArithOp::Rem,
        };
        Ok(match numbers(l, r) {
            Some((l, r)) => {
                let ty = l.ty;
                node(TKind::Arith(op, Box::new(l), Box::new(r)), ty, span)
            }
            None => deopt(DeoptReason::Type, span),
        })
    }

    fn compare(&mut self, op: BinaryOp, a: &RExpr, b: &RExpr, span: Span) -> Result<TExpr, Stop> {
        let (l, r) = match self.pair(a, b)? {
            Ok(pair) => pair,
            Err(never) => return Ok(never),
        };
        if l.ty == Ty::Value || r.ty == Ty::Value {
            return Ok(generic(GenericOp::Binary(op), vec![l, r], Ty::Bool, span));
        }
        let cmp = match op {
            BinaryOp::Eq => CmpOp::Eq,
            BinaryOp::Ne => CmpOp::Ne,
            BinaryOp::Lt => CmpOp::Lt,
            BinaryOp::Le => CmpOp::Le,
            BinaryOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        let equality = matches!(cmp, CmpOp::Eq | CmpOp::Ne);
        let compare = |l: TExpr, r: TExpr| {
            node(
                TKind::Compare(cmp, Box::new(l), Box::new(r)),
                Ty::Bool,
                span,
            )
        };
        Ok(match (l.ty, r.ty) {
            (Ty::Bool, Ty::Bool) if equality => compare(l, r),
            (Ty::Bool, _) | (_, Ty::Bool) if equality => {
                // Different kinds are unequal, never an error: only the operands can fail.
                if cannot_fail(&l) && cannot_fail(&r) {
                    node(TKind::Bool(cmp == CmpOp::Ne), Ty::Bool, span)
                } else {
                    generic(GenericOp::Binary(op), vec![l, r], Ty::Bool, span)
                }
            }
            _ => match numbers(l, r) {
                Some((l, r)) => compare(l, r),
                None => deopt(DeoptReason::Type, span),
            },
        })
    }

    /// `AND` (`and` true) or `OR`: the left operand must be bool; the right one runs
    /// only when needed, so a right operand that never gives a bool becomes a branch.
    fn logic(&mut self, and: bool, a: &RExpr, b: &RExpr, span: Span) -> Result<TExpr, Stop> {
        let l = truth(self.expr(a, false)?);
        match l.ty {
            Ty::Never => return Ok(l),
            Ty::Bool => {}
            _ => return Ok(deopt(DeoptReason::Type, span)),
        }
        let r = truth(self.expr(b, false)?);
        let r = match r.ty {
            Ty::Bool => {
                let (l, r) = (Box::new(l), Box::new(r));
                let kind = if and {
                    TKind::And(l, r)
                } else {
                    TKind::Or(l, r)
                };
                return Ok(node(kind, Ty::Bool, span));
            }
            Ty::Never => r,
            _ => deopt(DeoptReason::Type, r.span),
        };
        let body = |result| TBody {
            lets: Vec::new(),
            result,
        };
        let constant = body(node(TKind::Bool(!and), Ty::Bool, span));
        let (then, other) = if and {
            (body(r), constant)
        } else {
            (constant, body(r))
        };
        Ok(node(
            TKind::If(Box::new(l), Box::new(then), Box::new(other)),
            Ty::Bool,
            span,
        ))
    }

    fn cast(&mut self, a: &RExpr, target: TypeName, span: Span) -> Result<TExpr, Stop> {
        let a = self.expr(a, false)?;
        Ok(match (a.ty, target) {
            (Ty::Never, _) => a,
            (Ty::Value, _) | (_, TypeName::Str) => {
                generic(GenericOp::Cast(target), vec![a], Ty::Value, span)
            }
            (Ty::Int, TypeName::Int)
            | (Ty::Float, TypeName::Float)
            | (Ty::Bool, TypeName::Bool) => a,
            (Ty::Int, TypeName::Float) => convert(Convert::IntToFloat, a),
            (Ty::Float, TypeName::Int) => convert(Convert::FloatToInt, a),
            (Ty::Bool, TypeName::Int) => convert(Convert::BoolToInt, a),
            (Ty::Bool, TypeName::Float) => convert(Convert::BoolToFloat, a),
            // A number to bool, or to `number` (not a cast target: always a cast error).
            _ => deopt(DeoptReason::Cast, span),
        })
    }

    /// A call of host function `host`: through its machine-word entry when it has
    /// one and every argument is a machine value, else on generic values.
    fn host_call(&mut self, host: u32, args: Vec<TExpr>, span: Span) -> TExpr {
        let native = self.set.functions.host(host);
        let Some(native) = native.filter(|_| args.iter().all(|a| a.ty != Ty::Value)) else {
            return generic(GenericOp::Host(host), args, Ty::Value, span);
        };
        let ret = match native.ret {
            ValueType::Int => Ty::Int,
            ValueType::Float => Ty::Float,
            _ => Ty::Bool,
        };
        let mut typed = Vec::with_capacity(args.len());
        for (a, &param) in args.into_iter().zip(&native.params) {
            let a = match (param, a.ty) {
                (ValueType::Int, Ty::Int) | (ValueType::Bool, Ty::Bool) => Some(a),
                // (An int converts, as for a `float` parameter.)
                (ValueType::Float, _) => to_float(a),
                _ => None,
            };
            match a {
                Some(a) => typed.push(a),
                // The interpreter raises the type error.
                None => return deopt(DeoptReason::Type, span),
            }
        }
        node(TKind::Host { host, args: typed }, ret, span)
    }

    fn builtin(&mut self, b: Builtin, args: &[RExpr], span: Span) -> Result<TExpr, Stop> {
        if args.len() != b.arity() {
            return Ok(deopt(DeoptReason::Call, span));
        }
        let args = match self.operands(args)? {
            Operands::Never(e) => return Ok(e),
            Operands::All(v) => v,
        };
        if b == Builtin::Len || args.iter().any(|a| a.ty == Ty::Value) {
            let ty = if b == Builtin::Len {
                Ty::Int
            } else {
                Ty::Value
            };
            return Ok(generic(GenericOp::Builtin(b), args, ty, span));
        }
        let math = |op, args, ty| node(TKind::Math(op, args), ty, span);
        let type_error = deopt(DeoptReason::Type, span);
        let mut args = args.into_iter();
        let (Some(x), y) = (args.next(), args.next()) else {
            return Ok(deopt(DeoptReason::Call, span));
        };
        Ok(match b {
            Builtin::Abs => match x.ty {
                Ty::Int => math(MathOp::IntAbs, vec![x], Ty::Int),
                Ty::Float => math(MathOp::FloatAbs, vec![x], Ty::Float),
                _ => type_error,
            },
            Builtin::Min | Builtin::Max => {
                let min = b == Builtin::Min;
                let Some(y) = y else { return Ok(type_error) };
                match (x.ty, y.ty) {
                    (Ty::Int, Ty::Int) => {
                        let op = if min { MathOp::IntMin } else { MathOp::IntMax };
                        math(op, vec![x, y], Ty::Int)
                    }
                    _ => match (to_float(x), to_float(y)) {
                        (Some(x), Some(y)) => {
                            let op = if min {
                                MathOp::FloatMin
                            } else {
                                MathOp::FloatMax
                            };
                            math(op, vec![x, y], Ty::Float)
                        }
                        _ => type_error,
                    },
                }
            }
            Builtin::Sqrt => match to_float(x) {
                Some(x) => math(MathOp::Sqrt, vec![x], Ty::Float),
                None => type_error,
            },
            Builtin::Floor | Builtin::Ceil | Builtin::Round => match x.ty {
                Ty::Int => x,
                Ty::Float => {
                    let op = match b {
                        Builtin::Floor => MathOp::Floor,
                        Builtin::Ceil => MathOp::Ceil,
                        _ => MathOp::Round,
                    };
                    math(op, vec![x], Ty::Float)
                }
                _ => type_error,
            },
            Builtin::Pow => {
                let Some(y) = y else { return Ok(type_error) };
                match (to_float(x), to_float(y)) {
                    (Some(x), Some(y)) => math(MathOp::Pow, vec![x, y], Ty::Float),
                    _ => type_error,
                }
            }
            Builtin::Len => type_error,
        })
    }

    fn call(
        &mut self,
        callee: FuncId,
        args: &[RExpr],
        self_tail: bool,
        span: Span,
    ) -> Result<TExpr, Stop> {
        let functions = self.set.functions;
        let Some(def) = functions.resolved(callee) else {
            return Ok(deopt(DeoptReason::Call, span));
        };
        if def.params.len() != args.len() {
            return Ok(deopt(DeoptReason::Call, span));
        }
        let args = match self.operands(args)? {
            Operands::Never(e) => return Ok(e),
            Operands::All(v) => v,
        };
        let types: Vec<Ty> = args.iter().map(|a| a.ty).collect();
        // The callee checks its annotations on every entry: a mismatch is an error there.
        let admitted = def
            .params
            .iter()
            .zip(&types)
            .all(|(p, &t)| annotate(t, p.ty).is_some());
        if !admitted {
            // A bad call (like one of an undefined function, it depends on the callee's
            // definition: code holding one is dropped at every definition).
            return Ok(deopt(DeoptReason::Call, span));
        }
        let key = SpecKey {
            func: callee,
            args: types,
        };
        if self_tail {
            // The arguments become the parameters after their annotations: a loop may
            // pass a float where it was entered with an int for `x: float`. Other
            // types would enter another specialization.
            let mut converted = Vec::with_capacity(args.len());
            for ((a, p), &want) in args.into_iter().zip(&def.params).zip(&self.slots) {
                let a = if want == Ty::Value { boxed(a) } else { a };
                match annotate(a.ty, p.ty) {
                    Some((Ty::Value, _)) if want == Ty::Value => converted.push(match p.ty {
                        Some(ty) => {
                            let span = a.span;
                            generic(GenericOp::Annotate(ty), vec![a], Ty::Value, span)
                        }
                        None => a,
                    }),
                    Some((t, conv)) if t == want => converted.push(match conv {
                        Some(c) => {
                            let span = a.span;
                            node(TKind::Convert(c, Box::new(a)), t, span)
                        }
                        None => a,
                    }),
                    other => {
                        if let (Some((t, _)), None) = (other, self.loop_changes) {
                            if t != Ty::Never {
                                // Generic, this parameter takes both.
                                self.loop_changes = Some(converted.len());
                            }
                        }
                        // The interpreter goes on with the other types.
                        self.exact = false;
                        return Ok(deopt(DeoptReason::TypeChange, span));
                    }
                }
            }
            return Ok(node(TKind::SelfTail(converted), Ty::Never, span));
        }
        let ty = self.set.result(&key, self.current)?;
        Ok(node(TKind::Call { callee: key, args }, ty, span))
    }

    fn if_(
        &mut self,
        c: &RExpr,
        t: &RBody,
        f: &RBody,
        tail: bool,
        span: Span,
    ) -> Result<TExpr, Stop> {
        let cond = truth(self.expr(c, false)?);
        match cond.ty {
            Ty::Never => return Ok(cond),
            Ty::Bool => {}
            _ => return Ok(deopt(DeoptReason::Type, span)),
        }
        let mut t = self.body(t, tail)?;
        let mut f = self.body(f, tail)?;
        let ty = match (t.result.ty, f.result.ty) {
            (a, b) if a == b => a,
            (Ty::Never, b) => b,
            (a, Ty::Never) => a,
            // Branches of two types give a generic value.
            _ => {
                for b in [&mut t, &mut f] {
                    let result = std::mem::replace(&mut b.result, deopt(DeoptReason::Type, span));
                    b.result = boxed(result);
                }
                Ty::Value
            }
        };
        Ok(node(
            TKind::If(Box::new(cond), Box::new(t), Box::new(f)),
            ty,
            span,
        ))
    }
}
