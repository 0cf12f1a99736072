//! Resolved tree to register bytecode.

use super::bytecode::{Code, Op, Opnd, Reg, Test, K, MAX_REGS};
use crate::error::{Error, ErrorKind, Source};
use crate::ops;
use crate::resolve::{FuncId, RBody, RExpr, RKind, Resolved, Slot};
use crate::syntax::ast::{BinaryOp, Span, UnaryOp};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Compiles a checked function or top-level expression.
pub fn compile(r: &Resolved, id: Option<FuncId>, source: &Arc<Source>) -> Result<Code, Error> {
    let mut c = Compiler {
        ops: Vec::new(),
        spans: Vec::new(),
        consts: Vec::new(),
        const_index: HashMap::new(),
        errors: Vec::new(),
        next_reg: r.slots,
        max_reg: r.slots,
        span: r.span,
        returns: r.returns,
        too_large: false,
    };
    for (i, p) in r.params.iter().enumerate() {
        if let Some(ty) = p.ty {
            c.span = p.span;
            c.emit(Op::CheckParam { reg: i as Reg, ty });
        }
    }
    if r.name.is_some() {
        c.body_tail(&r.body);
    } else {
        let src = c.operand(&r.body.result);
        c.emit(Op::Return { src });
    }
    if c.too_large || c.max_reg > MAX_REGS {
        let what = match &r.name {
            Some(n) => format!("function '{n}'"),
            None => "expression".to_string(),
        };
        return Err(Error::new(
            ErrorKind::Definition,
            format!("{what} is too large: it needs more than {MAX_REGS} registers"),
        )
        .at(r.span));
    }
    let code = Code {
        ops: c.ops,
        spans: c.spans,
        consts: c.consts,
        errors: c.errors,
        regs: c.max_reg.max(1),
        params: r.params.len(),
        func: id.map(|f| f.0),
        name: r.name.clone(),
        param_names: r.params.iter().map(|p| p.name.clone()).collect(),
        source: source.clone(),
    };
    // The VM indexes without bounds checks: only verified code may run.
    super::verify::verify(&code).map_err(|bad| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "internal error: the bytecode compiler produced invalid code ({})",
                bad.0
            ),
        )
        .at(r.span)
    })?;
    Ok(code)
}

/// `k` when `e` is the int constant 2^k (k from 1 to 62): `/` and `%` by it are shifts.
fn power_of_two(e: &RExpr) -> Option<u8> {
    match e.kind {
        RKind::Const(Value::Int(c)) if (2..=1 << 62).contains(&c) && c.count_ones() == 1 => {
            Some(c.trailing_zeros() as u8)
        }
        _ => None,
    }
}

/// Whether `e` reads local `slot` anywhere.
fn reads_local(e: &RExpr, slot: Slot) -> bool {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match &e.kind {
        RKind::Local(s) => *s == slot,
        RKind::Const(_) | RKind::Fail(_) => false,
        RKind::Unary(_, a) | RKind::Cast(a, _) => reads_local(a, slot),
        RKind::Binary(_, a, b) | RKind::Try(a, b) => reads_local(a, slot) || reads_local(b, slot),
        RKind::Builtin(_, args) | RKind::Call { args, .. } | RKind::Host { args, .. } => {
            args.iter().any(|a| reads_local(a, slot))
        }
        RKind::If(c, t, f) => {
            let body = |b: &RBody| {
                b.lets.iter().any(|(_, v)| reads_local(v, slot)) || reads_local(&b.result, slot)
            };
            reads_local(c, slot) || body(t) || body(f)
        }
    })
}

/// Constants are shared by value (floats by bits, so `0.0` and `-0.0` stay apart).
#[derive(PartialEq, Eq, Hash)]
enum ConstKey {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(crate::value::Text),
}

struct Compiler {
    ops: Vec<Op>,
    spans: Vec<Span>,
    consts: Vec<Value>,
    const_index: HashMap<ConstKey, u32>,
    errors: Vec<Error>,
    next_reg: usize,
    max_reg: usize,
    /// The span of the expression being compiled, recorded with each op.
    span: Span,
    returns: Option<crate::syntax::ast::TypeName>,
    too_large: bool,
}

impl Compiler {
    fn emit(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.spans.push(self.span);
        self.ops.len() - 1
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    /// Points the jump at `at` to `target`.
    fn patch(&mut self, at: usize, to: u32) {
        match &mut self.ops[at] {
            Op::JumpUnlessLt { target, .. }
            | Op::JumpUnlessLe { target, .. }
            | Op::JumpUnlessGt { target, .. }
            | Op::JumpUnlessGe { target, .. }
            | Op::JumpUnlessEq { target, .. }
            | Op::JumpUnlessNe { target, .. }
            | Op::Jump { target }
            | Op::JumpIfFalse { target, .. }
            | Op::JumpIfTrue { target, .. }
            | Op::JumpIfNotNull { target, .. } => *target = to,
            Op::TryEnter { catch } => *catch = to,
            other => unreachable!("patching a non-jump {other:?}"),
        }
    }

    fn temp(&mut self) -> Reg {
        let r = self.next_reg;
        self.next_reg += 1;
        self.max_reg = self.max_reg.max(self.next_reg);
        if r >= MAX_REGS {
            self.too_large = true;
            return 0;
        }
        r as Reg
    }

    fn constant(&mut self, v: &Value) -> u32 {
        let key = match v {
            Value::Null => ConstKey::Null,
            Value::Bool(b) => ConstKey::Bool(*b),
            Value::Int(i) => ConstKey::Int(*i),
            Value::Float(f) => ConstKey::Float(f.to_bits()),
            Value::Str(s) => ConstKey::Str(s.clone()),
        };
        if let Some(&i) = self.const_index.get(&key) {
            return i;
        }
        let i = self.consts.len() as u32;
        self.consts.push(v.clone());
        self.const_index.insert(key, i);
        i
    }

    /// Where the value of `e` can be read: its register if it is a local, the
    /// constant pool if it is a constant, otherwise a new temporary.
    fn operand(&mut self, e: &RExpr) -> Opnd {
        match &e.kind {
            RKind::Local(slot) => *slot,
            RKind::Const(v) => {
                let index = self.constant(v);
                if (index as usize) < K as usize {
                    K | index as Opnd
                } else {
                    let dst = self.temp();
                    self.span = e.span;
                    self.emit(Op::LoadConst { dst, index });
                    dst
                }
            }
            _ => {
                let dst = self.temp();
                self.expr_to(e, dst);
                dst
            }
        }
    }

    fn body_to(&mut self, b: &RBody, dst: Reg) {
        for (slot, value) in &b.lets {
            self.expr_to(value, *slot);
        }
        self.expr_to(&b.result, dst);
    }

    fn body_tail(&mut self, b: &RBody) {
        for (slot, value) in &b.lets {
            self.expr_to(value, *slot);
        }
        self.tail(&b.result);
    }

    /// Compiles `e` in tail position: its value is the function's result.
    fn tail(&mut self, e: &RExpr) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match &e.kind {
            RKind::If(c, t, f) => {
                let to_else = self.condition(c);
                self.body_tail(t);
                let else_at = self.here();
                to_else.iter().for_each(|&j| self.patch(j, else_at));
                self.body_tail(f);
            }
            RKind::Call {
                args,
                self_tail: true,
                ..
            } => {
                self.span = e.span;
                self.self_tail_call(args);
            }
            _ => {
                let mark = self.next_reg;
                let mut src = self.operand(e);
                if let Some(ty) = self.returns {
                    if src & K != 0 || (src as usize) < mark {
                        // Check a copy: a local's register must keep its own value.
                        let t = self.temp();
                        self.emit(Op::Move { dst: t, src });
                        src = t;
                    }
                    self.span = e.span;
                    self.emit(Op::CheckReturn { reg: src, ty });
                }
                self.emit(Op::Return { src });
                self.next_reg = mark;
            }
        })
    }

    /// Evaluates arguments into consecutive fresh registers; returns the first.
    fn arguments(&mut self, args: &[RExpr]) -> Reg {
        let first = self.next_reg as Reg;
        for a in args {
            let r = self.temp();
            self.expr_to(a, r);
        }
        first
    }

    /// A self tail call: evaluate every argument first (they may read the current
    /// parameters), then overwrite the parameters and restart. An argument that
    /// passes a parameter on in its own position costs nothing.
    fn self_tail_call(&mut self, args: &[RExpr]) {
        let mark = self.next_reg;
        let params = args.len();
        let passes_own = |i: usize| matches!(args[i].kind, RKind::Local(s) if s as usize == i);
        let read_by_other = |i: usize| {
            args.iter()
                .enumerate()
                .any(|(k, a)| k != i && reads_local(a, i as Slot))
        };
        let mut moves = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if passes_own(i) {
                continue;
            }
            // One op that reads its operands, then writes: it may target the
            // parameter itself when no other argument needs the old value.
            let single_op = matches!(&a.kind, RKind::Unary(..) | RKind::Cast(..))
                || matches!(&a.kind, RKind::Binary(op, ..)
                if !matches!(op, BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce));
            if single_op && !read_by_other(i) {
                self.expr_to(a, i as Reg);
                continue;
            }
            let src = match &a.kind {
                // The moves run in order and move i writes parameter i: parameter j
                // may be read in place unless an earlier move overwrote it.
                RKind::Local(j) if *j as usize >= params || *j as usize > i => *j,
                RKind::Local(j) if passes_own(*j as usize) => *j,
                RKind::Const(_) => self.operand(a),
                _ => {
                    let t = self.temp();
                    self.expr_to(a, t);
                    t
                }
            };
            moves.push((i as Reg, src));
        }
        // No jump lands between these moves, so pairs can share one dispatch.
        for pair in moves.chunks(2) {
            self.emit(match *pair {
                [(d1, s1), (d2, s2)] => Op::Move2 { d1, s1, d2, s2 },
                [(dst, src)] => Op::Move { dst, src },
                _ => unreachable!("chunks(2) yields one or two moves"),
            });
        }
        self.emit(Op::Restart);
        self.next_reg = mark;
    }

    /// Emits the test of an `IF` condition; returns the jumps to patch with the
    /// start of the else branch.
    fn condition(&mut self, c: &RExpr) -> Vec<usize> {
        self.branch(c, false, Test::If)
    }

    /// Emits code that jumps when `c` is `when` and falls through otherwise;
    /// returns the jumps. `AND`, `OR` and `NOT` become control flow, comparisons
    /// fuse with their jump; `test` names the construct whose operand `c` is, for
    /// the type error when `c` is not a bool.
    fn branch(&mut self, c: &RExpr, when: bool, test: Test) -> Vec<usize> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
            let mark = self.next_reg;
            let jumps = match &c.kind {
                RKind::Binary(BinaryOp::And, a, b) => {
                    let mut on_false = self.branch(a, false, Test::And);
                    if when {
                        let on_true = self.branch(b, true, Test::And);
                        let here = self.here();
                        on_false.iter().for_each(|&j| self.patch(j, here));
                        on_true
                    } else {
                        on_false.extend(self.branch(b, false, Test::And));
                        on_false
                    }
                }
                RKind::Binary(BinaryOp::Or, a, b) => {
                    let mut on_true = self.branch(a, true, Test::Or);
                    if when {
                        on_true.extend(self.branch(b, true, Test::Or));
                        on_true
                    } else {
                        let on_false = self.branch(b, false, Test::Or);
                        let here = self.here();
                        on_true.iter().for_each(|&j| self.patch(j, here));
                        on_false
                    }
                }
                RKind::Unary(UnaryOp::Not, a) => self.branch(a, !when, Test::Not),
                RKind::Binary(op, a, b) if !when && op.is_comparison() => {
                    let a = self.operand(a);
                    let b = self.operand(b);
                    self.span = c.span;
                    let target = 0;
                    vec![self.emit(match op {
                        BinaryOp::Lt => Op::JumpUnlessLt { a, b, target },
                        BinaryOp::Le => Op::JumpUnlessLe { a, b, target },
                        BinaryOp::Gt => Op::JumpUnlessGt { a, b, target },
                        BinaryOp::Ge => Op::JumpUnlessGe { a, b, target },
                        BinaryOp::Eq => Op::JumpUnlessEq { a, b, target },
                        _ => Op::JumpUnlessNe { a, b, target },
                    })]
                }
                _ => {
                    let cond = self.operand(c);
                    self.span = c.span;
                    let target = 0;
                    vec![self.emit(if when {
                        Op::JumpIfTrue { cond, target, test }
                    } else {
                        Op::JumpIfFalse { cond, target, test }
                    })]
                }
            };
            self.next_reg = mark;
            jumps
        })
    }

    fn expr_to(&mut self, e: &RExpr, dst: Reg) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_to_inner(e, dst))
    }

    fn expr_to_inner(&mut self, e: &RExpr, dst: Reg) {
        let mark = self.next_reg;
        match &e.kind {
            RKind::Const(_) | RKind::Local(_) => {
                let src = self.operand(e);
                if src != dst {
                    self.span = e.span;
                    self.emit(Op::Move { dst, src });
                }
            }
            RKind::Unary(op, a) => {
                if let (UnaryOp::Neg, RKind::Const(v)) = (op, &a.kind) {
                    if let Ok(folded) = ops::negate(v) {
                        let src = self.operand(&RExpr {
                            kind: RKind::Const(folded),
                            span: e.span,
                        });
                        self.span = e.span;
                        self.emit(Op::Move { dst, src });
                        self.next_reg = mark;
                        return;
                    }
                }
                let src = self.operand(a);
                self.span = e.span;
                self.emit(match op {
                    UnaryOp::Neg => Op::Neg { dst, src },
                    UnaryOp::Not => Op::Not { dst, src },
                });
            }
            RKind::Binary(BinaryOp::And, a, b) => self.logic(dst, a, b, Test::And),
            RKind::Binary(BinaryOp::Or, a, b) => self.logic(dst, a, b, Test::Or),
            RKind::Binary(BinaryOp::Coalesce, a, b) => {
                self.span = e.span;
                let enter = self.emit(Op::TryEnter { catch: 0 });
                self.expr_to(a, dst);
                self.emit(Op::TryExit);
                let skip = self.emit(Op::JumpIfNotNull {
                    reg: dst,
                    target: 0,
                });
                let catch = self.here();
                self.patch(enter, catch);
                self.expr_to(b, dst);
                let end = self.here();
                self.patch(skip, end);
            }
            RKind::Binary(op @ (BinaryOp::Div | BinaryOp::Rem), a, b)
                if power_of_two(b).is_some() =>
            {
                let shift = power_of_two(b).unwrap_or(1);
                let a = self.operand(a);
                self.span = e.span;
                self.emit(match op {
                    BinaryOp::Div => Op::DivPow2 { dst, a, shift },
                    _ => Op::RemPow2 { dst, a, shift },
                });
            }
            RKind::Binary(op, a, b) => {
                let a = self.operand(a);
                let b = self.operand(b);
                self.span = e.span;
                self.emit(match op {
                    BinaryOp::Add => Op::Add { dst, a, b },
                    BinaryOp::Sub => Op::Sub { dst, a, b },
                    BinaryOp::Mul => Op::Mul { dst, a, b },
                    BinaryOp::Div => Op::Div { dst, a, b },
                    BinaryOp::Rem => Op::Rem { dst, a, b },
                    BinaryOp::Eq => Op::Eq { dst, a, b },
                    BinaryOp::Ne => Op::Ne { dst, a, b },
                    BinaryOp::Lt => Op::Lt { dst, a, b },
                    BinaryOp::Le => Op::Le { dst, a, b },
                    BinaryOp::Gt => Op::Gt { dst, a, b },
                    BinaryOp::Ge => Op::Ge { dst, a, b },
                    BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => unreachable!(),
                });
            }
            RKind::Cast(a, ty) => {
                let src = self.operand(a);
                self.span = e.span;
                self.emit(Op::Cast { dst, src, ty: *ty });
            }
            RKind::Host {
                host,
                name,
                arity,
                args,
            } => {
                let first = self.arguments(args);
                self.span = e.span;
                if args.len() == *arity {
                    self.emit(Op::Host {
                        dst,
                        host: *host,
                        first,
                        argc: *arity as u16,
                    });
                } else {
                    let msg = format!(
                        "wrong number of arguments: '{name}' expects {arity}, got {}",
                        args.len()
                    );
                    self.fail(Error::new(ErrorKind::WrongArgumentCount, msg).at(e.span));
                }
            }
            RKind::Builtin(builtin, args) => {
                let first = self.arguments(args);
                self.span = e.span;
                if args.len() == builtin.arity() {
                    self.emit(Op::Builtin {
                        dst,
                        builtin: *builtin,
                        first,
                    });
                } else {
                    let msg = format!(
                        "wrong number of arguments: '{}' expects {}, got {}",
                        builtin.name(),
                        builtin.arity(),
                        args.len()
                    );
                    self.fail(Error::new(ErrorKind::WrongArgumentCount, msg).at(e.span));
                }
            }
            RKind::Call { callee, args, .. } => {
                let first = self.arguments(args);
                self.span = e.span;
                self.emit(Op::Call {
                    dst,
                    func: callee.0,
                    first,
                    argc: args.len().min(u16::MAX as usize) as u16,
                });
            }
            RKind::If(c, t, f) => {
                let to_else = self.condition(c);
                self.body_to(t, dst);
                let to_end = self.emit(Op::Jump { target: 0 });
                let else_at = self.here();
                to_else.iter().for_each(|&j| self.patch(j, else_at));
                self.body_to(f, dst);
                let end = self.here();
                self.patch(to_end, end);
            }
            RKind::Try(a, b) => {
                self.span = e.span;
                let enter = self.emit(Op::TryEnter { catch: 0 });
                self.expr_to(a, dst);
                self.emit(Op::TryExit);
                let to_end = self.emit(Op::Jump { target: 0 });
                let catch = self.here();
                self.patch(enter, catch);
                self.expr_to(b, dst);
                let end = self.here();
                self.patch(to_end, end);
            }
            RKind::Fail(err) => {
                self.span = e.span;
                self.fail((**err).clone());
            }
        }
        self.next_reg = mark;
    }

    /// `a AND b` / `a OR b`: the right operand only when needed, both must be bool.
    fn logic(&mut self, dst: Reg, a: &RExpr, b: &RExpr, test: Test) {
        self.expr_to(a, dst);
        self.span = a.span;
        let skip = match test {
            Test::And => self.emit(Op::JumpIfFalse {
                cond: dst,
                target: 0,
                test,
            }),
            _ => self.emit(Op::JumpIfTrue {
                cond: dst,
                target: 0,
                test,
            }),
        };
        self.expr_to(b, dst);
        self.span = b.span;
        self.emit(Op::CheckBool { reg: dst, test });
        let end = self.here();
        self.patch(skip, end);
    }

    fn fail(&mut self, err: Error) {
        let index = self.errors.len() as u32;
        self.errors.push(err);
        self.emit(Op::Fail { index });
    }
}

#[cfg(test)]
mod tests {
    use crate::interp::bytecode::Op;
    use crate::Engine;

    fn ops_of(src: &str, name: &str) -> Vec<Op> {
        let mut e = Engine::new();
        e.run(src).expect("test program runs");
        e.function(name).expect("defined").code.ops.clone()
    }

    #[test]
    fn conditions_fuse_comparisons_and_logic_into_branches() {
        let ops = ops_of(
            "FUNCTION f(a, b) => IF a < 1 AND NOT (b > 2) { 1 } ELSE { 2 }",
            "f",
        );
        assert!(matches!(ops[0], Op::JumpUnlessLt { .. }), "{ops:?}");
        assert!(
            !ops.iter()
                .any(|op| matches!(op, Op::Lt { .. } | Op::CheckBool { .. } | Op::Not { .. })),
            "no bool is materialised: {ops:?}"
        );
    }

    #[test]
    fn self_tail_calls_move_only_what_changes() {
        // gcd(b, a % b): b moves to a in place, only a % b needs a temporary.
        let ops = ops_of(
            "FUNCTION gcd(a, b) => IF b == 0 { a } ELSE { gcd(b, a % b) }",
            "gcd",
        );
        // Its two parameter moves share one dispatch.
        let paired = ops
            .iter()
            .filter(|op| matches!(op, Op::Move2 { .. }))
            .count();
        let single = ops
            .iter()
            .filter(|op| matches!(op, Op::Move { .. }))
            .count();
        assert_eq!((paired, single), (1, 0), "{ops:?}");
        assert!(matches!(ops.last(), Some(Op::Restart)));
        // A swap needs a temporary for the parameter read after it is overwritten.
        let swap = ops_of(
            "FUNCTION s(a, b, n) => IF n == 0 { a - b } ELSE { s(b, a, n - 1) }",
            "s",
        );
        let mut e = Engine::new();
        e.run("FUNCTION s(a, b, n) => IF n == 0 { a - b } ELSE { s(b, a, n - 1) }")
            .unwrap();
        let v = e.call("s", &[1.into(), 10.into(), 3.into()]).unwrap();
        assert_eq!(v, crate::Value::Int(9), "three swaps: {swap:?}");
    }

    #[test]
    fn self_tail_call_arguments_see_the_old_parameters() {
        // Every argument reads the parameters of the call that makes it, whichever
        // path (in place, temporary, direct write) the compiler picks.
        let mut e = Engine::new();
        e.run(
            "FUNCTION rot(a, b, c, n) => IF n == 0 { a * 100 + b * 10 + c } \
             ELSE { rot(b + 0, c - 0, a, n - 1) }\n\
             FUNCTION mix(a, b, n) => IF n == 0 { a * 1000 + b } ELSE { mix(-b, a + 1, n - 1) }",
        )
        .unwrap();
        let mut rot = |n: i64| e.call("rot", &[1.into(), 2.into(), 3.into(), n.into()]);
        assert_eq!(rot(1).unwrap(), crate::Value::Int(231));
        assert_eq!(rot(2).unwrap(), crate::Value::Int(312));
        let (mut a, mut b) = (3i64, 5i64);
        for _ in 0..7 {
            (a, b) = (-b, a + 1);
        }
        let v = e.call("mix", &[3.into(), 5.into(), 7.into()]).unwrap();
        assert_eq!(v, crate::Value::Int(a * 1000 + b));
    }

    #[test]
    fn equal_constants_share_one_pool_entry() {
        let mut e = Engine::new();
        e.run("FUNCTION f(x) => x + 1 + 1 + 1.0 + 1.0 + -0.0 + 0.0")
            .unwrap();
        assert_eq!(e.function("f").unwrap().code.consts.len(), 4);
    }
}
