//! The template code generator: walks a specialization's typed IR and asks the
//! backend ([`MacroAssembler`]) for each node's template.
//!
//! Operands live on a value stack (as in Winch) whose entries are immediates, frame
//! slots, registers or spill slots: a constant or a local is used in place, a
//! temporary stays in a register until a call or register pressure spills it.
//! Before every control-flow split every register entry is spilled, so that all
//! paths into a join see the same stack.
//!
//! The parts, by responsibility:
//! - `walk.rs`: the tree walk (bodies, tail positions, conditions, expressions);
//! - `arith.rs`: templates of arithmetic, conversions and builtins;
//! - `calls.rs`: calls out (`call_out`, the only place a call is emitted) and self
//!   tail calls;
//! - `stack.rs`: the value stack, operands, and the pop-emit-release-push sequences;
//! - `regs.rs`: free registers as bit sets;
//! - `frame.rs`: frame words (parameters, `LET`s, spill slots);
//! - `homes.rs`: loop homes, and the invariant that keeps them right across calls;
//! - `exits.rs`: deopt exits.

mod arith;
mod calls;
mod exits;
mod fast;
mod frame;
mod generic;
mod homes;
mod moves;
mod regs;
mod stack;
mod value_frame;
mod walk;

use super::ir::{ArithOp, CmpOp, DeoptReason, SpecKey, TExpr, TFunction, TKind, Ty};
use crate::syntax::ast::Span;
use exits::Exits;
use frame::Frame;
use grizzly_arch::{Cond, Convention, EmitError, MacroAssembler, Mem, Src};
use homes::Homes;
use regs::Regs;
use stack::Entry;

/// What code generation needs from the JIT around it.
pub trait Linkage {
    /// The stable address of the entry slot of a specialization compiled in the same
    /// batch or earlier.
    fn slot(&self, key: &SpecKey) -> Option<*const usize>;
    /// The address of the engine's interrupt word, which the code reads at every
    /// entry and loop iteration (nonzero: deoptimize; it lives as long as the code).
    fn interrupt_word(&self) -> *const u64;
    /// Host function number `id`.
    fn host(&self, id: u32) -> Option<std::sync::Arc<crate::interp::host::HostFunction>>;
}

/// One specialization's machine code and what the JIT records about it.
pub struct Emitted {
    pub code: Vec<u8>,
    /// The generic constants the code reads in place: they must live as long as it.
    /// (Boxed: the code holds each one's address, which must not move as more come.)
    #[allow(clippy::vec_box)]
    pub constants: Vec<Box<crate::value::Value>>,
    /// Code offsets where each source expression's template begins.
    pub spans: Vec<(u32, Span)>,
    /// The host functions the code calls (at their addresses): they must live as long.
    pub hosts: Vec<std::sync::Arc<crate::interp::host::HostFunction>>,
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

/// The generator's result for one piece of the walk: a refused compile stops it.
type R<T = ()> = Result<T, EmitError>;

/// The state of one specialization's code generation, by responsibility.
struct Gen<'a, M: MacroAssembler> {
    m: M,
    f: &'a TFunction,
    link: &'a dyn Linkage,
    spec: u32,
    /// The function's entry (where self calls go) and its loop head (where self tail
    /// calls go, after the prologue and the loading of the homes).
    entry: M::Label,
    restart: M::Label,
    /// Operands of the expressions being evaluated (see `stack.rs`).
    stack: Vec<Entry>,
    regs: Regs,
    frame: Frame,
    exits: Exits<M::Label>,
    homes: Homes,
    /// The source map: code offsets where each source expression's template begins.
    spans: Vec<(u32, Span)>,
    /// Levels of the walk's recursion (see `jit/depth.rs`).
    depth: u32,
    /// The value frame, if the function uses generic values (see `generic.rs`).
    values: Option<generic::ValueFrame>,
    /// Per slot (parameters first, then `LET`s): where a generic one's value is.
    value_params: Vec<Option<stack::Val>>,
    #[allow(clippy::vec_box)]
    constants: Vec<Box<crate::value::Value>>,
    hosts: Vec<std::sync::Arc<crate::interp::host::HostFunction>>,
}

/// Most arguments a compiled function takes or passes.
const MAX_PARAMS: usize = 64;

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
    if params > MAX_PARAMS || f.facts.max_call_args > MAX_PARAMS {
        // Arguments live on the host stack, which is checked per frame, not per word.
        return Err(EmitError(format!("more than {MAX_PARAMS} arguments")));
    }
    if convention != Convention::Jit && f.facts.generic {
        return Err(EmitError(
            "generic values need compiled code's convention".into(),
        ));
    }
    // One pass: the backend patches the frame's size in once the code is done.
    emit(masm(), f, spec, link, convention)
}

/// Whether a body calls nothing but Rust helpers (self tail calls are jumps) and
/// uses no generic value (whose helpers need the context): what a
/// [`Convention::Native`] function may hold.
pub fn is_leaf(f: &TFunction) -> bool {
    f.facts.callees.is_empty() && !f.facts.generic
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
        entry,
        restart,
        stack: Vec::with_capacity(16),
        regs: Regs::new(gprs, M::FPRS),
        frame: Frame::new(params, f.slots.len()),
        exits: Exits::new(),
        homes: Homes::none(params),
        spans: Vec::with_capacity(32),
        depth: 0,
        values: None,
        value_params: vec![None; f.slots.len().max(params)],
        constants: Vec::new(),
        hosts: Vec::new(),
    };
    g.m.bind(entry);
    let stack_deopt = g.deopt(DeoptReason::HostStack);
    g.m.prologue(stack_deopt);
    g.convert_params()?;
    g.enter_values()?;
    if f.facts.self_tail {
        g.assign_homes();
        g.enter_loop();
    }
    // A self tail call's arguments are already converted (the type pass did it).
    g.m.bind(restart);
    if f.facts.self_tail {
        // Each loop iteration: an interrupt stops it (the interpreter, rerunning the
        // call, raises `interrupted`). Compiled code's convention checks the stack
        // limit word an interrupt sets (the prologue checked the entry); native and
        // batch code, which have no context, read the interrupt word.
        if convention == Convention::Jit {
            g.m.check_stack(stack_deopt);
        } else {
            let interrupted = g.deopt(DeoptReason::Interrupted);
            g.m.check_interrupt(link.interrupt_word(), interrupted);
        }
    }
    g.body(&f.body, true)?;
    g.bind_exits();
    let code = g.m.finish()?;
    Ok(Emitted {
        code,
        constants: g.constants,
        spans: g.spans,
        hosts: g.hosts,
    })
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
    /// Records where a source expression's template begins.
    fn note(&mut self, span: Span) {
        let at = self.m.offset() as u32;
        self.spans.push((at, span));
    }

    /// Parameter annotations: an int passed to a float parameter becomes a float.
    fn convert_params(&mut self) -> R {
        for (i, (&arg, &param)) in self.f.key.args.iter().zip(&self.f.entry).enumerate() {
            if arg == Ty::Int && param == Ty::Float {
                let x = self.fpr()?;
                self.m.int_to_float(x, Src::Mem(Mem::Param(i as u32)));
                self.m.fstore(Mem::Param(i as u32), x);
                self.regs.fprs.free(x);
            }
        }
        Ok(())
    }
}
