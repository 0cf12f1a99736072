//! The template code generator: walks a specialization's typed IR and asks the
//! backend ([`MacroAssembler`]) for each node's template.
//!
//! Operands live on a value stack (as in Winch) whose entries are immediates, frame
//! slots, registers or spill slots: a constant or a local is used in place, a
//! temporary stays in a register until a call or register pressure spills it.
//! Before every control-flow split every register entry is spilled, so that all
//! paths into a join see the same stack.

use super::helpers;
use super::ir::{
    ArithOp, CmpOp, Convert, DeoptReason, MathOp, SpecKey, TBody, TExpr, TFunction, TKind, Ty,
};
use crate::resolve::Slot;
use crate::syntax::ast::Span;
use grizzly_arch::{
    Cond, EmitError, FSrc, FloatOp, Fpr, Gpr, Helper, IntOp, MacroAssembler, Mem, Src,
};

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
}

#[derive(Clone, Copy, Debug)]
enum Home {
    G(Gpr),
    F(Fpr),
}

/// Registers of each class left to temporaries after homes are assigned.
const MIN_TEMPS: usize = 4;
const MAX_HOMES: usize = 6;

/// Generates one specialization. `spec` is its number in the JIT's table (recorded by
/// its deopt exits).
pub fn generate<M: MacroAssembler>(
    mut m: M,
    f: &TFunction,
    spec: u32,
    link: &dyn Linkage,
) -> Result<Emitted, EmitError> {
    let (entry, restart) = (m.new_label(), m.new_label());
    let params = f.params.len();
    let mut g = Gen {
        m,
        f,
        link,
        spec,
        params,
        lets: (f.slots.len() - params) as u32,
        stack: Vec::new(),
        free_gprs: M::GPRS.iter().rev().copied().collect(),
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
    let code = g.m.finish(g.lets + g.spills, g.max_out)?;
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
    fn deopt(&mut self, reason: DeoptReason) -> M::Label {
        if let Some(&(_, l)) = self.deopts.iter().find(|(r, _)| *r == reason) {
            return l;
        }
        let l = self.m.new_label();
        self.deopts.push((reason, l));
        l
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(EmitError(message));
        }
    }

    /// Gives the first parameters registers of their own, leaving `MIN_TEMPS` of each
    /// class to temporaries (and the join registers, the first of each class, free).
    fn assign_homes(&mut self) {
        for i in 0..self.params {
            if self.homes.iter().flatten().count() >= MAX_HOMES {
                break;
            }
            self.homes[i] = if self.f.params[i] == Ty::Float {
                (self.free_fprs.len() > MIN_TEMPS).then(|| Home::F(self.free_fprs.remove(0)))
            } else {
                (self.free_gprs.len() > MIN_TEMPS).then(|| Home::G(self.free_gprs.remove(0)))
            };
        }
    }

    /// Loads every home from its parameter's frame word.
    fn load_homes(&mut self) {
        for i in 0..self.params {
            match self.homes[i] {
                Some(Home::G(r)) => self.m.mov(r, Src::Mem(Mem::Param(i as u32))),
                Some(Home::F(r)) => self.m.fmov(r, FSrc::Mem(Mem::Param(i as u32))),
                None => {}
            }
        }
    }

    /// After a call: homes were clobbered, the frame words are current.
    fn reload_homes(&mut self) {
        if self.mirror {
            self.load_homes();
        }
    }

    fn local(&self, slot: Slot) -> Mem {
        let s = slot as usize;
        if s < self.params {
            Mem::Param(s as u32)
        } else {
            Mem::Local((s - self.params) as u32)
        }
    }

    // ---- registers and the value stack ----

    fn gpr(&mut self) -> Gpr {
        if let Some(r) = self.free_gprs.pop() {
            return r;
        }
        self.spill_one(true);
        match self.free_gprs.pop() {
            Some(r) => r,
            None => {
                self.fail("out of registers".into());
                M::GPRS[0]
            }
        }
    }

    fn fpr(&mut self) -> Fpr {
        if let Some(r) = self.free_fprs.pop() {
            return r;
        }
        self.spill_one(false);
        match self.free_fprs.pop() {
            Some(r) => r,
            None => {
                self.fail("out of float registers".into());
                M::FPRS[0]
            }
        }
    }

    fn spill_slot(&mut self) -> u32 {
        self.free_spills.pop().unwrap_or_else(|| {
            self.spills += 1;
            self.lets + self.spills - 1
        })
    }

    /// Spills the deepest register entry of the wanted class.
    fn spill_one(&mut self, gpr: bool) {
        let at = self.stack.iter().position(|e| match e.val {
            Val::Gpr(_) => gpr,
            Val::Fpr(_) => !gpr,
            _ => false,
        });
        if let Some(i) = at {
            self.spill_entry(i);
        }
    }

    fn spill_entry(&mut self, i: usize) {
        match self.stack[i].val {
            Val::Gpr(r) => {
                let s = self.spill_slot();
                self.m.store(Mem::Local(s), Src::Reg(r));
                self.free_gprs.push(r);
                self.stack[i].val = Val::Spill(s);
            }
            Val::Fpr(r) => {
                let s = self.spill_slot();
                self.m.fstore(Mem::Local(s), r);
                self.free_fprs.push(r);
                self.stack[i].val = Val::Spill(s);
            }
            _ => {}
        }
    }

    fn spill_all(&mut self) {
        for i in 0..self.stack.len() {
            self.spill_entry(i);
        }
    }

    fn push(&mut self, val: Val, ty: Ty) {
        self.stack.push(Entry { val, ty });
    }

    fn pop(&mut self) -> Entry {
        match self.stack.pop() {
            Some(e) => e,
            None => {
                self.fail("value stack underflow".into());
                Entry {
                    val: Val::Imm(0),
                    ty: Ty::Never,
                }
            }
        }
    }

    /// Gives back what an entry occupies (after its last use).
    fn release(&mut self, v: Val) {
        match v {
            Val::Gpr(r) => self.free_gprs.push(r),
            Val::Fpr(r) => self.free_fprs.push(r),
            Val::Spill(s) => self.free_spills.push(s),
            _ => {}
        }
    }

    /// An integer operand for one instruction; call `release` on the returned value after it.
    fn src(&mut self, v: Val) -> Src {
        match v {
            Val::Imm(i) => Src::Imm(i),
            Val::FImm(f) => Src::Imm(f.to_bits() as i64),
            Val::Slot(s) => match self.homes.get(s as usize) {
                Some(Some(Home::G(r))) => Src::Reg(*r),
                _ => Src::Mem(self.local(s)),
            },
            Val::Gpr(r) => Src::Reg(r),
            Val::Spill(s) => Src::Mem(Mem::Local(s)),
            Val::Fpr(_) => {
                self.fail("float operand used as an integer".into());
                Src::Imm(0)
            }
        }
    }

    fn fsrc(&mut self, v: Val) -> FSrc {
        match v {
            Val::Fpr(r) => FSrc::Reg(r),
            Val::Slot(s) => match self.homes.get(s as usize) {
                Some(Some(Home::F(r))) => FSrc::Reg(*r),
                _ => FSrc::Mem(self.local(s)),
            },
            Val::Spill(s) => FSrc::Mem(Mem::Local(s)),
            Val::FImm(f) => {
                let r = self.fpr();
                self.m.fconst(r, f);
                FSrc::Reg(r)
            }
            Val::Imm(_) | Val::Gpr(_) => {
                self.fail("integer operand used as a float".into());
                FSrc::Mem(Mem::Local(0))
            }
        }
    }

    /// Releases an operand obtained with `fsrc` (including a register it loaded).
    fn release_fsrc(&mut self, v: Val, s: FSrc) {
        match (v, s) {
            (Val::FImm(_), FSrc::Reg(r)) => self.free_fprs.push(r),
            _ => self.release(v),
        }
    }

    /// Pops the top entry into a register of its own (to be the destination).
    fn pop_gpr(&mut self) -> Gpr {
        let e = self.pop();
        if let Val::Gpr(r) = e.val {
            return r;
        }
        let r = self.gpr();
        let s = self.src(e.val);
        self.m.mov(r, s);
        self.release(e.val);
        r
    }

    fn pop_fpr(&mut self) -> Fpr {
        let e = self.pop();
        if let Val::Fpr(r) = e.val {
            return r;
        }
        if let Val::FImm(f) = e.val {
            let r = self.fpr();
            self.m.fconst(r, f);
            return r;
        }
        let r = self.fpr();
        let s = self.fsrc(e.val);
        self.m.fmov(r, s);
        self.release(e.val);
        r
    }

    /// Stores the top entry into a frame word.
    fn pop_to(&mut self, dst: Mem) {
        let e = self.pop();
        match e.val {
            Val::Fpr(r) => {
                self.m.fstore(dst, r);
                self.free_fprs.push(r);
            }
            Val::FImm(f) => self.m.store(dst, Src::Imm(f.to_bits() as i64)),
            v => {
                let s = self.src(v);
                self.m.store(dst, s);
                self.release(v);
            }
        }
    }

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
                self.body(then, true);
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
        self.m.jump(self.restart);
    }

    /// Jumps to `target` when the bool `e` equals `when`; falls through otherwise.
    /// The value stack must hold no registers (callers spill first).
    fn cond(&mut self, e: &TExpr, when: bool, target: M::Label) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || match &e.kind {
            TKind::Bool(b) => {
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
                self.expr(a);
                self.expr(b);
                let rhs = self.pop();
                if a.ty == Ty::Float {
                    let l = self.pop_fpr();
                    let r = self.fsrc(rhs.val);
                    self.m.branch_float(cond_of(*op), l, r, when, target);
                    self.release_fsrc(rhs.val, r);
                    self.free_fprs.push(l);
                } else {
                    let l = self.pop_gpr();
                    let r = self.src(rhs.val);
                    let c = if when {
                        cond_of(*op)
                    } else {
                        cond_of(*op).negate()
                    };
                    self.m.branch_int(c, l, r, target);
                    self.release(rhs.val);
                    self.free_gprs.push(l);
                }
            }
            _ => {
                self.expr(e);
                let v = self.pop();
                let s = self.src(v.val);
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
                self.body(then, false);
                self.move_to_join(e.ty);
                self.m.jump(done);
                self.m.bind(else_);
                self.body(other, false);
                self.move_to_join(e.ty);
                self.m.bind(done);
                if e.ty == Ty::Float {
                    let r = M::FPRS[0];
                    self.free_fprs.retain(|&x| x != r);
                    self.push(Val::Fpr(r), Ty::Float);
                } else {
                    let r = M::GPRS[0];
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
        if ty == Ty::Float {
            let r = self.pop_fpr();
            self.m.fmov(M::FPRS[0], FSrc::Reg(r));
            self.free_fprs.push(r);
        } else {
            let v = self.pop();
            let s = self.src(v.val);
            self.m.mov(M::GPRS[0], s);
            self.release(v.val);
        }
    }

    fn int_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) {
        self.expr(a);
        if let (ArithOp::Div | ArithOp::Rem, Some(shift)) = (op, pow2_shift(b)) {
            let r = self.pop_gpr();
            self.m.int_div_pow2(op == ArithOp::Rem, r, shift);
            self.push(Val::Gpr(r), Ty::Int);
            return;
        }
        self.expr(b);
        let rhs = self.pop();
        let l = self.pop_gpr();
        let r = self.src(rhs.val);
        let overflow = self.deopt(DeoptReason::Overflow);
        match op {
            ArithOp::Add => self.m.int_op(IntOp::Add, l, r, overflow),
            ArithOp::Sub => self.m.int_op(IntOp::Sub, l, r, overflow),
            ArithOp::Mul => self.m.int_op(IntOp::Mul, l, r, overflow),
            ArithOp::Div | ArithOp::Rem => {
                let zero = self.deopt(DeoptReason::DivisionByZero);
                self.m.int_div(op == ArithOp::Rem, l, r, zero, overflow);
            }
        }
        self.release(rhs.val);
        self.push(Val::Gpr(l), Ty::Int);
    }

    fn float_arith(&mut self, op: ArithOp, a: &TExpr, b: &TExpr) {
        self.expr(a);
        self.expr(b);
        if op == ArithOp::Rem {
            self.float_helper(Helper::Binary(helpers::fmod), 2);
            return;
        }
        let rhs = self.pop();
        let l = self.pop_fpr();
        let r = self.fsrc(rhs.val);
        let fop = match op {
            ArithOp::Add => FloatOp::Add,
            ArithOp::Sub => FloatOp::Sub,
            ArithOp::Mul => FloatOp::Mul,
            _ => FloatOp::Div,
        };
        self.m.float_op(fop, l, r);
        self.release_fsrc(rhs.val, r);
        self.push(Val::Fpr(l), Ty::Float);
    }

    /// Calls a Rust helper on the top one or two float entries.
    fn float_helper(&mut self, helper: Helper, arity: usize) {
        // The call clobbers every register: nothing below may stay in one.
        let n = self.stack.len();
        for i in 0..n.saturating_sub(arity) {
            self.spill_entry(i);
        }
        let rhs = if arity == 2 {
            Some(self.pop_fpr())
        } else {
            None
        };
        let l = self.pop_fpr();
        self.m.float_call(helper, l, rhs);
        self.reload_homes();
        if let Some(r) = rhs {
            self.free_fprs.push(r);
        }
        self.push(Val::Fpr(l), Ty::Float);
    }

    fn convert(&mut self, c: Convert) {
        match c {
            Convert::IntToFloat | Convert::BoolToFloat => {
                let v = self.pop();
                let s = self.src(v.val);
                let r = self.fpr();
                self.m.int_to_float(r, s);
                self.release(v.val);
                self.push(Val::Fpr(r), Ty::Float);
            }
            Convert::FloatToInt => {
                let x = self.pop_fpr();
                let r = self.gpr();
                let fail = self.deopt(DeoptReason::Cast);
                self.m.float_to_int(r, x, fail);
                self.free_fprs.push(x);
                self.push(Val::Gpr(r), Ty::Int);
            }
            Convert::BoolToInt => {
                let v = self.pop();
                self.push(v.val, Ty::Int);
            }
        }
    }

    fn math(&mut self, op: MathOp) {
        match op {
            MathOp::IntAbs => {
                let r = self.pop_gpr();
                let done = self.m.new_label();
                let overflow = self.deopt(DeoptReason::Overflow);
                self.m.branch_int(Cond::Ge, r, Src::Imm(0), done);
                self.m.int_neg(r, overflow);
                self.m.bind(done);
                self.push(Val::Gpr(r), Ty::Int);
            }
            MathOp::IntMin | MathOp::IntMax => {
                let rhs = self.pop();
                let l = self.pop_gpr();
                let r = self.src(rhs.val);
                let keep = self.m.new_label();
                // min: b < a picks b, i.e. keep a when a <= b; max: keep a when a >= b.
                let c = if op == MathOp::IntMin {
                    Cond::Le
                } else {
                    Cond::Ge
                };
                self.m.branch_int(c, l, r, keep);
                self.m.mov(l, r);
                self.m.bind(keep);
                self.release(rhs.val);
                self.push(Val::Gpr(l), Ty::Int);
            }
            MathOp::FloatMin | MathOp::FloatMax => {
                let rhs = self.pop();
                let l = self.pop_fpr();
                let r = self.fsrc(rhs.val);
                let keep = self.m.new_label();
                // min picks b when a > b; max when a < b; NaN keeps a.
                let c = if op == MathOp::FloatMin {
                    Cond::Gt
                } else {
                    Cond::Lt
                };
                self.m.branch_float(c, l, r, false, keep);
                self.m.fmov(l, r);
                self.m.bind(keep);
                self.release_fsrc(rhs.val, r);
                self.push(Val::Fpr(l), Ty::Float);
            }
            MathOp::FloatAbs => {
                let r = self.pop_fpr();
                self.m.float_abs(r);
                self.push(Val::Fpr(r), Ty::Float);
            }
            MathOp::Sqrt => {
                let r = self.pop_fpr();
                self.m.float_sqrt(r);
                self.push(Val::Fpr(r), Ty::Float);
            }
            MathOp::Floor => self.float_helper(Helper::Unary(helpers::floor), 1),
            MathOp::Ceil => self.float_helper(Helper::Unary(helpers::ceil), 1),
            MathOp::Round => self.float_helper(Helper::Unary(helpers::round), 1),
            MathOp::Pow => self.float_helper(Helper::Binary(helpers::pow), 2),
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
