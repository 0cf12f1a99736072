//! The template code generator: walks a specialization's typed IR and asks the
//! backend ([`MacroAssembler`]) for each node's template.
//!
//! Operands live on a value stack (as in Winch) whose entries are immediates, frame
//! slots, registers or spill slots: a constant or a local is used in place, a
//! temporary stays in a register until a call or register pressure spills it.
//! Before every control-flow split every register entry is spilled, so that all
//! paths into a join see the same stack.

mod arith;
mod stack;

use super::ir::{ArithOp, CmpOp, DeoptReason, MathOp, SpecKey, TBody, TExpr, TFunction, TKind, Ty};
use crate::resolve::Slot;
use crate::syntax::ast::Span;
use grizzly_arch::{Cond, Convention, EmitError, FSrc, Fpr, Gpr, MacroAssembler, Mem, Src};

/// What code generation needs from the JIT around it.
pub trait Linkage {
    /// The stable address of the entry slot of a specialization compiled in the same
    /// batch or earlier.
    fn slot(&self, key: &SpecKey) -> Option<*const usize>;
}

/// One specialization's machine code and what the JIT records about it.
pub struct Emitted {
    pub code: Vec<u8>,
    /// Code offsets where each source expression's template begins.
    pub spans: Vec<(u32, Span)>,
}

/// The deopt site number a guard records: the specialization and the reason.
pub fn site(spec: u32, reason: DeoptReason) -> u64 {
    ((spec as u64) << 8) | reason as u64
}

pub fn decode_site(site: u64) -> (u32, DeoptReason) {
    let reason = DeoptReason::ALL
        .get((site & 0xff) as usize)
        .copied()
        .unwrap_or(DeoptReason::Type);
    ((site >> 8) as u32, reason)
}

#[derive(Clone, Copy, Debug)]
enum Val {
    Imm(i64),
    FImm(f64),
    Slot(Slot),
    Gpr(Gpr),
    Fpr(Fpr),
    Spill(u32),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    val: Val,
    ty: Ty,
}

struct Gen<'a, M: MacroAssembler> {
    m: M,
    f: &'a TFunction,
    link: &'a dyn Linkage,
    spec: u32,
    params: usize,
    lets: u32,
    stack: Vec<Entry>,
    /// The allocatable registers of the convention; the first is the join register.
    gprs: &'static [Gpr],
    free_gprs: Vec<Gpr>,
    free_fprs: Vec<Fpr>,
    free_spills: Vec<u32>,
    spills: u32,
    max_out: u32,
    deopts: Vec<(DeoptReason, M::Label)>,
    entry: M::Label,
    restart: M::Label,
    spans: Vec<(u32, Span)>,
    error: Option<EmitError>,
    /// In a loop (a function with self tail calls), the registers that hold the first
    /// parameters for the whole body.
    homes: Vec<Option<Home>>,
    /// Whether parameters are also kept in the frame (to reload homes after calls).
    mirror: bool,
    /// Homes were clobbered by a call and not reloaded yet.
    stale: bool,
}

#[derive(Clone, Copy, Debug)]
enum Home {
    G(Gpr),
    F(Fpr),
}

/// Most arguments a compiled function takes or passes.
const MAX_PARAMS: usize = 64;

/// Registers of each class left to temporaries after homes are assigned.
const MIN_TEMPS: usize = 4;
const MAX_HOMES: usize = 6;

/// Generates one specialization. `spec` is its number in the JIT's table (recorded by
/// its deopt exits). With [`Convention::Native`] or [`Convention::Batch`], only a
/// leaf (see [`is_leaf`]) of few enough parameters compiles.
pub fn generate<M: MacroAssembler>(
    masm: &dyn Fn() -> M,
    f: &TFunction,
    spec: u32,
    link: &dyn Linkage,
    convention: Convention,
) -> Result<Emitted, EmitError> {
    let params = f.params.len();
    if params > MAX_PARAMS
        || any_node(
            &f.body,
            &|e| matches!(&e.kind, TKind::Call { args, .. } if args.len() > MAX_PARAMS),
        )
    {
        // Arguments live on the host stack, which is checked per frame, not per word.
        return Err(EmitError(format!("more than {MAX_PARAMS} arguments")));
    }
    // One pass: the backend patches the frame's size in once the code is done.
    emit(masm(), f, spec, link, convention)
}

/// Whether a body calls nothing but Rust helpers (self tail calls are jumps): what a
/// [`Convention::Native`] function may hold.
pub fn is_leaf(f: &TFunction) -> bool {
    !any_node(&f.body, &|e| matches!(e.kind, TKind::Call { .. }))
}

fn emit<M: MacroAssembler>(
    mut m: M,
    f: &TFunction,
    spec: u32,
    link: &dyn Linkage,
    convention: Convention,
) -> Result<Emitted, EmitError> {
    let params = f.params.len();
    m.set_convention(convention);
    let gprs = match convention {
        Convention::Jit => M::GPRS,
        Convention::Native { .. } | Convention::Batch { .. } => M::LEAF_GPRS,
    };
    let (entry, restart) = (m.new_label(), m.new_label());
    let mut g = Gen {
        m,
        f,
        link,
        spec,
        params,
        lets: (f.slots.len() - params) as u32,
        stack: Vec::new(),
        gprs,
        free_gprs: gprs.iter().rev().copied().collect(),
        free_fprs: M::FPRS.iter().rev().copied().collect(),
        free_spills: Vec::new(),
        spills: 0,
        max_out: 0,
        deopts: Vec::new(),
        entry,
        restart,
        spans: Vec::new(),
        error: None,
        homes: vec![None; params],
        mirror: false,
        stale: false,
    };
    g.m.bind(entry);
    let stack_deopt = g.deopt(DeoptReason::HostStack);
    g.m.prologue(stack_deopt);
    // Parameter annotations: an int passed to a float parameter becomes a float.
    for (i, (&arg, &param)) in f.key.args.iter().zip(&f.params).enumerate() {
        if arg == Ty::Int && param == Ty::Float {
            let x = g.fpr();
            g.m.int_to_float(x, Src::Mem(Mem::Param(i as u32)));
            g.m.fstore(Mem::Param(i as u32), x);
            g.free_fprs.push(x);
        }
    }
    if any_node(&f.body, &|e| matches!(e.kind, TKind::SelfTail(_))) {
        g.mirror = any_node(&f.body, &clobbers);
        g.assign_homes();
        g.load_homes();
    }
    // A self tail call's arguments are already converted (the type pass did it).
    g.m.bind(restart);
    g.body(&f.body, true);
    for (reason, label) in std::mem::take(&mut g.deopts) {
        g.m.deopt_exit(label, site(spec, reason));
    }
    if let Some(e) = g.error {
        return Err(e);
    }
    let code = g.m.finish()?;
    Ok(Emitted {
        code,
        spans: g.spans,
    })
}

/// Whether `pred` holds for some node of the body.
fn any_node(b: &TBody, pred: &dyn Fn(&TExpr) -> bool) -> bool {
    fn walk(e: &TExpr, pred: &dyn Fn(&TExpr) -> bool) -> bool {
        if pred(e) {
            return true;
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
            TKind::Arith(_, a, b)
            | TKind::Compare(_, a, b)
            | TKind::And(a, b)
            | TKind::Or(a, b) => walk(a, pred) || walk(b, pred),
            TKind::Neg(a) | TKind::Not(a) | TKind::Convert(_, a) => walk(a, pred),
            TKind::Math(_, args) | TKind::SelfTail(args) | TKind::Call { args, .. } => {
                args.iter().any(|a| walk(a, pred))
            }
            TKind::If(c, t, f) => walk(c, pred) || any_node(t, pred) || any_node(f, pred),
            TKind::Int(_)
            | TKind::Float(_)
            | TKind::Bool(_)
            | TKind::Local(_)
            | TKind::Deopt(_) => false,
        })
    }
    b.lets.iter().any(|(_, e)| walk(e, pred)) || walk(&b.result, pred)
}

/// Whether a node's template calls out (clobbering every register).
fn clobbers(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Call { .. } => true,
        TKind::Math(op, _) => matches!(
            op,
            MathOp::Floor | MathOp::Ceil | MathOp::Round | MathOp::Pow
        ),
        TKind::Arith(ArithOp::Rem, ..) => e.ty == Ty::Float,
        _ => false,
    }
}

fn cond_of(op: CmpOp) -> Cond {
    match op {
        CmpOp::Eq => Cond::Eq,
        CmpOp::Ne => Cond::Ne,
        CmpOp::Lt => Cond::Lt,
        CmpOp::Le => Cond::Le,
        CmpOp::Gt => Cond::Gt,
        CmpOp::Ge => Cond::Ge,
    }
}

/// `x % 2^k == 0` or `!= 0`: the dividend and the mask `2^k - 1`.
fn divisibility<'e>(op: CmpOp, a: &'e TExpr, b: &TExpr) -> Option<(&'e TExpr, i64)> {
    if !matches!(op, CmpOp::Eq | CmpOp::Ne) || !matches!(b.kind, TKind::Int(0)) {
        return None;
    }
    match &a.kind {
        TKind::Arith(ArithOp::Rem, x, d) if a.ty == Ty::Int => {
            pow2_shift(d).map(|k| (&**x, (1i64 << k) - 1))
        }
        _ => None,
    }
}

/// A power of two from 2 to 2^62, as its shift.
fn pow2_shift(e: &TExpr) -> Option<u8> {
    match e.kind {
        TKind::Int(v) if v >= 2 && (v as u64).is_power_of_two() && v <= 1 << 62 => {
            Some(v.trailing_zeros() as u8)
        }
        _ => None,
    }
}

impl<M: MacroAssembler> Gen<'_, M> {
    // ---- the tree walk ----

    fn note(&mut self, span: Span) {
        let at = self.m.offset() as u32;
        self.spans.push((at, span));
    }

    fn body(&mut self, b: &TBody, tail: bool) {
        for (slot, e) in &b.lets {
            self.expr(e);
            let dst = self.local(*slot);
            self.pop_to(dst);
        }
        if tail {
            self.tail(&b.result);
        } else {
            self.expr(&b.result);
        }
    }

    /// An expression in tail position: its value is returned.
    fn tail(&mut self, e: &TExpr) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
            TKind::If(c, then, other) => {
                self.note(e.span);
                self.spill_all();
                let else_ = self.m.new_label();
                self.cond(c, false, else_);
                let split = self.stale;
                self.body(then, true);
                self.stale = split;
                self.m.bind(else_);
                self.body(other, true);
            }
            TKind::SelfTail(args) => {
                self.note(e.span);
                self.self_tail(args);
            }
            _ => {
                self.expr(e);
                self.ret();
            }
        })
    }

    fn ret(&mut self) {
        let e = self.pop();
        if e.ty == Ty::Float {
            let r = match e.val {
                Val::Fpr(r) => r,
                _ => {
                    self.push(e.val, e.ty);
                    self.pop_fpr()
                }
            };
            self.m.fret(r);
            self.free_fprs.push(r);
        } else {
            let s = self.src(e.val);
            self.m.ret(s);
            self.release(e.val);
        }
    }

    fn self_tail(&mut self, args: &[TExpr]) {
        for a in args {
            self.expr(a);
        }
        // Every argument must be read before any parameter is overwritten.
        let n = args.len();
        let first = self.stack.len() - n;
        for i in first..self.stack.len() {
            if let Val::Slot(s) = self.stack[i].val {
                let unchanged = s as usize == i - first;
                if (s as usize) < self.params && !unchanged {
                    if self.stack[i].ty == Ty::Float {
                        let r = self.fpr();
                        let from = self.fsrc(Val::Slot(s));
                        self.m.fmov(r, from);
                        self.stack[i].val = Val::Fpr(r);
                    } else {
                        let r = self.gpr();
                        let from = self.src(Val::Slot(s));
                        self.m.mov(r, from);
                        self.stack[i].val = Val::Gpr(r);
                    }
                }
            }
        }
        // A parameter passed on unchanged keeps its home, which must be loaded.
        if self.stale {
            let keeps = (first..self.stack.len())
                .any(|i| matches!(self.stack[i].val, Val::Slot(s) if s as usize == i - first));
            if keeps {
                self.ensure_homes();
            }
        }
        for i in (0..n).rev() {
            let top = self.stack[self.stack.len() - 1];
            if matches!(top.val, Val::Slot(s) if s as usize == i) {
                self.pop();
                continue;
            }
            match self.homes[i] {
                None => self.pop_to(Mem::Param(i as u32)),
                Some(Home::G(h)) => {
                    let v = self.pop();
                    let s = self.src(v.val);
                    self.m.mov(h, s);
                    self.release(v.val);
                    if self.mirror {
                        self.m.store(Mem::Param(i as u32), Src::Reg(h));
                    }
                }
                Some(Home::F(h)) => {
                    let v = self.pop();
                    match v.val {
                        Val::FImm(x) => self.m.fconst(h, x),
                        other => {
                            let s = self.fsrc(other);
                            self.m.fmov(h, s);
                            self.release_fsrc(other, s);
                        }
                    }
                    if self.mirror {
                        self.m.fstore(Mem::Param(i as u32), h);
                    }
                }
            }
        }
        self.stale = false;
        self.m.jump(self.restart);
    }

    /// Jumps to `target` when the bool `e` equals `when`; falls through otherwise.
    /// The value stack must hold no registers (callers spill first).
    fn cond(&mut self, e: &TExpr, when: bool, target: M::Label) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
            TKind::Bool(b) => {
                self.ensure_homes();
                if *b == when {
                    self.m.jump(target);
                }
            }
            TKind::Not(x) => self.cond(x, !when, target),
            TKind::And(a, b) | TKind::Or(a, b) => {
                let and = matches!(e.kind, TKind::And(..));
                if and != when {
                    // AND jumping when false / OR jumping when true: either operand decides.
                    self.cond(a, when, target);
                    self.cond(b, when, target);
                } else {
                    let skip = self.m.new_label();
                    self.cond(a, !when, skip);
                    self.cond(b, when, target);
                    self.m.bind(skip);
                }
            }
            TKind::Compare(op, a, b) => {
                self.note(e.span);
                if let Some((x, mask)) = divisibility(*op, a, b) {
                    // `x % 2^k == 0` is a test of the low bits (for negative x too).
                    self.expr(x);
                    let (l, held) = self.pop_read_gpr();
                    let zero = (*op == CmpOp::Eq) == when;
                    // Every edge out of a condition leaves the homes loaded.
                    self.ensure_homes();
                    self.m.branch_mask(l, mask, zero, target);
                    self.release(held);
                    return;
                }
                self.expr(a);
                self.expr(b);
                let rhs = self.pop();
                if a.ty == Ty::Float {
                    let (l, held) = self.pop_read_fpr();
                    let r = self.fsrc(rhs.val);
                    // Every edge out of a condition leaves the homes loaded.
                    self.ensure_homes();
                    self.m.branch_float(cond_of(*op), l, r, when, target);
                    self.release_fsrc(rhs.val, r);
                    self.release(held);
                } else {
                    let (l, held) = self.pop_read_gpr();
                    let r = self.src(rhs.val);
                    let c = if when {
                        cond_of(*op)
                    } else {
                        cond_of(*op).negate()
                    };
                    // Every edge out of a condition leaves the homes loaded.
                    self.ensure_homes();
                    self.m.branch_int(c, l, r, target);
                    self.release(rhs.val);
                    self.release(held);
                }
            }
            _ => {
                self.expr(e);
                let v = self.pop();
                let s = self.src(v.val);
                // Every edge out of a condition leaves the homes loaded.
                self.ensure_homes();
                self.m.branch_bool(s, when, target);
                self.release(v.val);
            }
        })
    }

    fn expr(&mut self, e: &TExpr) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &TExpr) {
        match &e.kind {
            TKind::Int(v) => self.push(Val::Imm(*v), Ty::Int),
            TKind::Bool(b) => self.push(Val::Imm(*b as i64), Ty::Bool),
            TKind::Float(f) => self.push(Val::FImm(*f), Ty::Float),
            TKind::Local(s) => self.push(Val::Slot(*s), e.ty),
            TKind::Arith(op, a, b) => {
                self.note(e.span);
                if e.ty == Ty::Float {
                    self.float_arith(*op, a, b)
                } else {
                    self.int_arith(*op, a, b)
                }
            }
            TKind::Neg(a) => {
                self.expr(a);
                self.note(e.span);
                if e.ty == Ty::Float {
                    let r = self.pop_fpr();
                    self.m.float_neg(r);
                    self.push(Val::Fpr(r), Ty::Float);
                } else {
                    let r = self.pop_gpr();
                    let overflow = self.deopt(DeoptReason::Overflow);
                    self.m.int_neg(r, overflow);
                    self.push(Val::Gpr(r), Ty::Int);
                }
            }
            TKind::Not(a) => {
                self.expr(a);
                let r = self.pop_gpr();
                self.m.not(r);
                self.push(Val::Gpr(r), Ty::Bool);
            }
            TKind::Compare(op, a, b) => {
                self.note(e.span);
                self.expr(a);
                self.expr(b);
                let rhs = self.pop();
                if a.ty == Ty::Float {
                    let l = self.pop_fpr();
                    let r = self.fsrc(rhs.val);
                    let d = self.gpr();
                    self.m.set_float(cond_of(*op), d, l, r);
                    self.release_fsrc(rhs.val, r);
                    self.free_fprs.push(l);
                    self.push(Val::Gpr(d), Ty::Bool);
                } else {
                    let l = self.pop_gpr();
                    let r = self.src(rhs.val);
                    self.m.set_int(cond_of(*op), l, l, r);
                    self.release(rhs.val);
                    self.push(Val::Gpr(l), Ty::Bool);
                }
            }
            TKind::And(..) | TKind::Or(..) => {
                self.spill_all();
                let (no, done) = (self.m.new_label(), self.m.new_label());
                self.cond(e, false, no);
                let r = self.gpr();
                self.m.mov(r, Src::Imm(1));
                self.m.jump(done);
                self.m.bind(no);
                self.m.mov(r, Src::Imm(0));
                self.m.bind(done);
                self.push(Val::Gpr(r), Ty::Bool);
            }
            TKind::Convert(c, a) => {
                self.expr(a);
                self.note(e.span);
                self.convert(*c);
            }
            TKind::Math(op, args) => {
                for a in args {
                    self.expr(a);
                }
                self.note(e.span);
                self.math(*op);
            }
            TKind::Call { callee, args } => {
                self.note(e.span);
                self.call(callee, args, e.ty);
            }
            TKind::SelfTail(args) => {
                // Only reached outside tail position, which the type pass never produces.
                self.fail("self tail call outside tail position".into());
                let _ = args;
                self.push(Val::Imm(0), e.ty);
            }
            TKind::If(c, then, other) => {
                self.note(e.span);
                self.spill_all();
                let (else_, done) = (self.m.new_label(), self.m.new_label());
                self.cond(c, false, else_);
                let split = self.stale;
                self.body(then, false);
                self.move_to_join(e.ty);
                let then_stale = self.stale;
                self.m.jump(done);
                self.m.bind(else_);
                self.stale = split;
                self.body(other, false);
                self.move_to_join(e.ty);
                self.stale |= then_stale;
                self.m.bind(done);
                if e.ty == Ty::Float {
                    let r = M::FPRS[0];
                    self.free_fprs.retain(|&x| x != r);
                    self.push(Val::Fpr(r), Ty::Float);
                } else {
                    let r = self.gprs[0];
                    self.free_gprs.retain(|&x| x != r);
                    self.push(Val::Gpr(r), e.ty);
                }
            }
            TKind::Deopt(reason) => {
                self.note(e.span);
                let l = self.deopt(*reason);
                self.m.jump(l);
                self.push(Val::Imm(0), Ty::Never);
            }
        }
    }

    /// Moves a branch's result into the join register (the first of its class: every
    /// register is free at the end of a branch, the stack below having been spilled).
    fn move_to_join(&mut self, ty: Ty) {
        if self.stack.last().is_some_and(|e| e.ty == Ty::Never) {
            // The branch always deoptimizes: nothing reaches the join from it.
            let v = self.pop();
            self.release(v.val);
            return;
        }
        if ty == Ty::Float {
            let r = self.pop_fpr();
            self.m.fmov(M::FPRS[0], FSrc::Reg(r));
            self.free_fprs.push(r);
        } else {
            let v = self.pop();
            let s = self.src(v.val);
            self.m.mov(self.gprs[0], s);
            self.release(v.val);
        }
    }

    fn call(&mut self, callee: &SpecKey, args: &[TExpr], ty: Ty) {
        for a in args {
            self.expr(a);
        }
        let n = args.len() as u32;
        self.max_out = self.max_out.max(n);
        for i in (0..n).rev() {
            self.pop_to(Mem::Out(i));
        }
        self.spill_all();
        let exceeded = self.deopt(DeoptReason::Depth);
        self.m.depth_enter(exceeded);
        let dst = self.gpr();
        if *callee == self.f.key {
            self.m.call_label(self.entry, dst);
        } else {
            match self.link.slot(callee) {
                Some(slot) => self.m.call_slot(slot, dst),
                None => self.fail(format!("no entry slot for a callee of spec {}", self.spec)),
            }
        }
        self.m.depth_leave();
        self.reload_homes();
        if ty == Ty::Float {
            let f = self.fpr();
            self.m.bits_to_float(f, dst);
            self.free_gprs.push(dst);
            self.push(Val::Fpr(f), Ty::Float);
        } else {
            self.push(Val::Gpr(dst), ty);
        }
    }
}
