//! Resolved tree to register bytecode.

use super::bytecode::{Code, Op, Opnd, Reg, Test, K, MAX_REGS};
use crate::error::{Error, ErrorKind, Source};
use crate::ops;
use crate::resolve::{FuncId, RBody, RExpr, RKind, Resolved};
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
            format!("internal error: the bytecode compiler produced invalid code ({})", bad.0),
        )
        .at(r.span)
    })?;
    Ok(code)
}

/// Constants are shared by value (floats by bits, so `0.0` and `-0.0` stay apart).
#[derive(PartialEq, Eq, Hash)]
enum ConstKey {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Arc<str>),
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
                self.patch(to_else, else_at);
                self.body_tail(f);
            }
            RKind::Call {
                args,
                self_tail: true,
                ..
            } => {
                let first = self.arguments(args);
                self.span = e.span;
                self.emit(Op::TailCall { first });
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

    /// Emits the test of an `IF` condition; returns the jump to patch with the
    /// start of the else branch.
    fn condition(&mut self, c: &RExpr) -> usize {
        let mark = self.next_reg;
        let at = if let RKind::Binary(op, a, b) = &c.kind {
            let fused = matches!(
                op,
                BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge
                    | BinaryOp::Eq
                    | BinaryOp::Ne
            );
            if fused {
                let a = self.operand(a);
                let b = self.operand(b);
                self.span = c.span;
                let target = 0;
                Some(self.emit(match op {
                    BinaryOp::Lt => Op::JumpUnlessLt { a, b, target },
                    BinaryOp::Le => Op::JumpUnlessLe { a, b, target },
                    BinaryOp::Gt => Op::JumpUnlessGt { a, b, target },
                    BinaryOp::Ge => Op::JumpUnlessGe { a, b, target },
                    BinaryOp::Eq => Op::JumpUnlessEq { a, b, target },
                    _ => Op::JumpUnlessNe { a, b, target },
                }))
            } else {
                None
            }
        } else {
            None
        };
        let at = at.unwrap_or_else(|| {
            let cond = self.operand(c);
            self.span = c.span;
            self.emit(Op::JumpIfFalse {
                cond,
                target: 0,
                test: Test::If,
            })
        });
        self.next_reg = mark;
        at
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
                let skip = self.emit(Op::JumpIfNotNull { reg: dst, target: 0 });
                let catch = self.here();
                self.patch(enter, catch);
                self.expr_to(b, dst);
                let end = self.here();
                self.patch(skip, end);
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
                self.patch(to_else, else_at);
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
