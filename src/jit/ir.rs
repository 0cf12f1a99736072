//! The typed IR: a `Resolved` tree with one static machine type per node, for one
//! specialization (a function and the types of its arguments). The code generator
//! walks it; every node it cannot prove safe carries its guard explicitly.

use crate::builtins::Builtin;
use crate::resolve::{FuncId, Slot};
use crate::syntax::ast::{BinaryOp, Span, TypeName};
use crate::value::Value;

/// A machine type. `Never` is the type of a node that always deoptimizes: it joins
/// with any other type (an `IF` whose one branch always fails has the other's type).
/// `Value` is a generic value (a string, `null`, or a value whose type the pass cannot
/// know), held whole in a slot of the value stack (`jit/values.rs`) and operated on by
/// the interpreter's own functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Never,
    Value,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Never => "never",
            Ty::Value => "value",
        }
    }
}

/// The key of a specialization: a function and the types of the arguments it is
/// entered with (before parameter annotations convert them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpecKey {
    pub func: FuncId,
    pub args: Vec<Ty>,
}

/// Why a node always leaves compiled code: the interpreter, rerunning the call, raises
/// the error (or, for `Unsupported`, computes what compiled code cannot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeoptReason {
    /// `+ - *`, negation, `abs` or `MIN / -1` overflowed.
    Overflow,
    DivisionByZero,
    /// The call-depth limit was reached.
    Depth,
    /// The host stack reserved for compiled code ran out (the interpreter needs none).
    HostStack,
    /// A float to int cast out of range or NaN; an int or float cast to bool.
    Cast,
    /// An operation on types that is always a type error (the interpreter reports it).
    Type,
    /// A call of an undefined function or with the wrong number of arguments.
    Call,
    /// A loop (a self tail call) passes arguments of other types than it was entered
    /// with: the interpreter goes on with them, as another specialization would.
    TypeChange,
    /// An error was raised under a `TRY` or `??` whose handler is not compiled: the
    /// interpreter reruns the call and computes the handler (the error must not reach
    /// a compiled handler further up).
    Handler,
    /// An operation on generic values raised an error (the interpreter's function
    /// computing it returned one).
    Raised,
    /// The value stack of generic values ran out (the interpreter needs none).
    ValueStack,
    /// The engine's interrupt word was set: the interpreter, rerunning the call,
    /// raises `interrupted` (not counted against the specialization).
    Interrupted,
}

impl DeoptReason {
    /// Whether the interpreter raises a runtime error where a guard of this reason
    /// fails, so that an enclosing `TRY` or `??` catches it in compiled code. (The
    /// depth budget is exact: compiled code runs out of it at the call where the
    /// interpreter raises `stack overflow`.)
    pub fn is_error(self) -> bool {
        match self {
            DeoptReason::Overflow
            | DeoptReason::DivisionByZero
            | DeoptReason::Depth
            | DeoptReason::Cast
            | DeoptReason::Type
            | DeoptReason::Call
            | DeoptReason::Raised => true,
            DeoptReason::HostStack
            | DeoptReason::TypeChange
            | DeoptReason::Handler
            | DeoptReason::ValueStack
            | DeoptReason::Interrupted => false,
        }
    }

    pub const ALL: [DeoptReason; 12] = [
        DeoptReason::Overflow,
        DeoptReason::DivisionByZero,
        DeoptReason::Depth,
        DeoptReason::HostStack,
        DeoptReason::Cast,
        DeoptReason::Type,
        DeoptReason::Call,
        DeoptReason::TypeChange,
        DeoptReason::Handler,
        DeoptReason::Raised,
        DeoptReason::ValueStack,
        DeoptReason::Interrupted,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DeoptReason::Overflow => "integer overflow",
            DeoptReason::DivisionByZero => "division by zero",
            DeoptReason::Depth => "call depth limit",
            DeoptReason::HostStack => "host stack limit",
            DeoptReason::Cast => "cast error",
            DeoptReason::Type => "type error",
            DeoptReason::Call => "bad call",
            DeoptReason::TypeChange => "argument types changed",
            DeoptReason::Handler => "handler not compiled",
            DeoptReason::Raised => "runtime error",
            DeoptReason::ValueStack => "value stack limit",
            DeoptReason::Interrupted => "interrupted",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Int: sign of the dividend, `MIN % -1` is 0. Float: C `fmod`.
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Conversions between machine types (casts, mixed arithmetic, annotations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convert {
    IntToFloat,
    /// Truncating; NaN, infinities and values outside [-2^63, 2^63) deoptimize (`Cast`).
    FloatToInt,
    BoolToInt,
    BoolToFloat,
}

/// Builtins on machine types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// Deoptimizes (`Overflow`) on `i64::MIN`.
    IntAbs,
    FloatAbs,
    /// `IF b < a { b } ELSE { a }` on ints.
    IntMin,
    IntMax,
    /// `IF b < a { b } ELSE { a }` on floats (so NaN and signed zeros follow that rule).
    FloatMin,
    FloatMax,
    Sqrt,
    Floor,
    Ceil,
    /// Halves away from zero, the sign of zero kept.
    Round,
    /// C `pow`.
    Pow,
}

/// Operations on generic values: each is computed by the function the interpreter
/// uses (`ops.rs`, `builtins.rs`), so the two tiers share their semantics. Operands
/// are `Value`s; the result is a `Value` or, where the operation always gives one
/// type when it succeeds, that machine type (noted per operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenericOp {
    /// `+ - * / %` (a `Value`); comparisons (a `Bool`).
    Binary(BinaryOp),
    Neg,
    /// A `Bool`.
    Not,
    /// The condition of an `IF`, or an operand of `AND` / `OR`: a `Bool`, and an
    /// error for any other value.
    Truth,
    Cast(TypeName),
    /// `len` gives an `Int`; the others a `Value`.
    Builtin(Builtin),
    /// A parameter or `RETURNS` annotation (`ops::annotate`).
    Annotate(TypeName),
    /// The left operand of `??`: raises (to the `??`'s handler) when it is `null`,
    /// and is otherwise the operand itself.
    NotNull,
    /// A call of host function number `n` (its arity of operands), giving a `Value`.
    Host(u32),
}

#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Local(Slot),
    /// Both operands have the node's type (Int or Float); int `+ - *` check overflow,
    /// int `/ %` check zero and `MIN / -1`.
    Arith(ArithOp, Box<TExpr>, Box<TExpr>),
    /// Int (overflow-checked) or Float.
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    /// Operands of one type: Int, Float, or Bool (`Eq` and `Ne` only). Result Bool.
    Compare(CmpOp, Box<TExpr>, Box<TExpr>),
    /// Bool operands, short-circuit.
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    Convert(Convert, Box<TExpr>),
    /// Arguments have the types the op expects (converted where the contract converts).
    Math(MathOp, Vec<TExpr>),
    /// A call of another specialization (or of this one, not in tail position).
    Call {
        callee: SpecKey,
        args: Vec<TExpr>,
    },
    /// A self tail call: the arguments become the parameters and the body restarts.
    /// The arguments' types equal the specialization's argument types.
    SelfTail(Vec<TExpr>),
    If(Box<TExpr>, Box<TBody>, Box<TBody>),
    /// `TRY a CATCH b`, and `a ?? b` (a typed `a` is never null): the value of `a`,
    /// unless it raises an error (a guard of a reason that [`DeoptReason::is_error`]
    /// fails, in its own code or in a callee's); then `b`. Both have the node's type,
    /// or are `Never`; `b` is `Deopt(Handler)` when the handler is not compiled.
    Try(Box<TExpr>, Box<TExpr>),
    /// Always leaves compiled code; the interpreter reruns the call and raises the error.
    Deopt(DeoptReason),
    /// A generic constant (a string or `null`).
    Const(Value),
    /// A value of a machine type as a generic value.
    Box(Box<TExpr>),
    /// An operation on generic values (see [`GenericOp`]).
    Generic(GenericOp, Vec<TExpr>),
    /// A call of host function number `host` through its machine-word entry: the
    /// arguments have its parameters' machine types, the node its result's. Its error
    /// (or panic) goes to the `Raised` exit.
    Host {
        host: u32,
        args: Vec<TExpr>,
    },
}

#[derive(Clone, Debug)]
pub struct TBody {
    pub lets: Vec<(Slot, TExpr)>,
    pub result: TExpr,
}

/// One specialization, ready for code generation.
#[derive(Clone, Debug)]
pub struct TFunction {
    pub key: SpecKey,
    /// The parameters' types inside the body: the argument types after annotations
    /// converted them (an int passed to `x: float` is a float).
    pub params: Vec<Ty>,
    /// The parameters' types on entry, after annotations: `params`, except where a loop
    /// made a parameter generic (`Value` in `params`): boxed on entry from this type.
    pub entry: Vec<Ty>,
    /// Per slot (parameters first, then `LET`s); `Never` for a slot never bound.
    pub slots: Vec<Ty>,
    /// The result type, after a `RETURNS` annotation converted it.
    pub ret: Ty,
    /// Generic parameters with an annotation, checked on entry (by position).
    pub checks: Vec<(usize, TypeName)>,
    /// Whether a value this body's call gives is a `ret`, deopt or not: false when a
    /// deopt may send the interpreter down a path of other types (the alternative of
    /// a `TRY` or `??`, a loop that changes its argument types). Callees not counted.
    pub exact: bool,
    pub body: TBody,
    /// What the rest of the JIT asks about the body (filled in once the body is final).
    pub facts: Facts,
}

/// What the JIT asks about a typed body, found in one walk ([`Facts::of`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The specializations it calls, sorted, without duplicates (self tail calls are
    /// jumps, not calls). Empty for a leaf.
    pub callees: Vec<SpecKey>,
    /// The most arguments one call passes.
    pub max_call_args: usize,
    /// Whether it holds a self tail call (a loop).
    pub self_tail: bool,
    /// Whether it holds a call that deoptimizes because its callee is undefined or has
    /// another arity.
    pub bad_call: bool,
    /// Slots of the value stack the code needs: one per generic node and per generic
    /// argument of a self tail call, and, in a loop, per generic parameter (elsewhere
    /// the callee reads its caller's value in place). Parameter annotations need one
    /// more each ([`TFunction::checks`]).
    pub value_slots: u32,
    /// Whether it uses generic values at all (a generic parameter, node or operation,
    /// even one that needs no slot): its code calls helpers that need the context and
    /// reads constants from a pool, so it has only compiled code's convention.
    pub generic: bool,
}

impl Facts {
    /// Walks the body once (iteratively: bodies can be deep).
    pub fn of(body: &TBody, params: &[Ty]) -> Facts {
        let mut facts = Facts::default();
        let mut stack: Vec<&TExpr> = body.exprs().collect();
        // A constant or a local is read in place: it takes a slot only where it is
        // returned (cloned for the caller), counted below.
        let mut values = returned_in_place(body);
        facts.generic = params.contains(&Ty::Value);
        while let Some(e) = stack.pop() {
            facts.generic |= e.ty == Ty::Value || matches!(e.kind, TKind::Generic(..));
            if e.ty == Ty::Value && !matches!(e.kind, TKind::Const(_) | TKind::Local(_)) {
                values += 1;
            }
            if let TKind::SelfTail(args) = &e.kind {
                values += args.iter().filter(|a| a.ty == Ty::Value).count() as u64;
            }
            match &e.kind {
                TKind::Call { callee, args } => {
                    facts.callees.push(callee.clone());
                    facts.max_call_args = facts.max_call_args.max(args.len());
                }
                TKind::SelfTail(_) => facts.self_tail = true,
                TKind::Deopt(reason) => facts.bad_call |= *reason == DeoptReason::Call,
                _ => {}
            }
            e.push_children(&mut stack);
        }
        if facts.self_tail {
            // A loop writes its generic parameters: they get slots of their own.
            values += params.iter().filter(|&&t| t == Ty::Value).count() as u64;
        }
        facts.callees.sort();
        facts.callees.dedup();
        // Past `u32`, code generation refuses (it counts the slots it takes).
        facts.value_slots = values.min(u32::MAX as u64) as u32;
        facts
    }
}

/// Generic results in tail position that are a constant or a local (returning one
/// clones it into a slot of its own).
fn returned_in_place(body: &TBody) -> u64 {
    let mut n = 0;
    let mut work = vec![&body.result];
    while let Some(e) = work.pop() {
        match &e.kind {
            TKind::If(_, t, f) => {
                work.push(&t.result);
                work.push(&f.result);
            }
            TKind::Const(_) | TKind::Local(_) if e.ty == Ty::Value => n += 1,
            _ => {}
        }
    }
    n
}

impl TBody {
    /// Its `LET` values and its result, in order.
    pub fn exprs(&self) -> impl Iterator<Item = &TExpr> {
        self.lets
            .iter()
            .map(|(_, v)| v)
            .chain(std::iter::once(&self.result))
    }
}

impl TExpr {
    /// Pushes the node's operands (and its bodies' expressions) onto `out`: for walks
    /// that keep their own stack, since trees can be deep.
    pub fn push_children<'a>(&'a self, out: &mut Vec<&'a TExpr>) {
        match &self.kind {
            TKind::Int(_)
            | TKind::Float(_)
            | TKind::Bool(_)
            | TKind::Local(_)
            | TKind::Deopt(_)
            | TKind::Const(_) => {}
            TKind::Neg(a) | TKind::Not(a) | TKind::Convert(_, a) | TKind::Box(a) => out.push(a),
            TKind::Arith(_, a, b)
            | TKind::Compare(_, a, b)
            | TKind::And(a, b)
            | TKind::Or(a, b)
            | TKind::Try(a, b) => {
                out.push(a);
                out.push(b);
            }
            TKind::Math(_, args)
            | TKind::Call { args, .. }
            | TKind::SelfTail(args)
            | TKind::Generic(_, args)
            | TKind::Host { args, .. } => out.extend(args),
            TKind::If(c, t, f) => {
                out.push(c);
                out.extend(t.exprs());
                out.extend(f.exprs());
            }
        }
    }
}

/// Levels of a typed tree dropped by recursion (a few hundred bytes of stack each).
const RECURSIVE_DROP: u32 = 64;

thread_local! {
    /// Levels of `TExpr::drop` recursion on this thread.
    static DROP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Like [`crate::resolve::RExpr`], typed trees can be arbitrarily deep: tear them down
/// iteratively. (So a `TExpr` cannot be destructured by value: match on `&e.kind`, or
/// `std::mem::replace` the kind out.)
impl Drop for TExpr {
    fn drop(&mut self) {
        let leaf = |k: &TKind| {
            matches!(
                k,
                TKind::Int(_)
                    | TKind::Float(_)
                    | TKind::Bool(_)
                    | TKind::Local(_)
                    | TKind::Deopt(_)
                    | TKind::Const(_)
            )
        };
        if leaf(&self.kind) {
            return;
        }
        // Shallow trees (nearly all) drop recursively, which is cheaper; past
        // `RECURSIVE_DROP` levels the rest is torn down iteratively.
        let depth = DROP_DEPTH.get();
        if depth < RECURSIVE_DROP {
            DROP_DEPTH.set(depth + 1);
            drop(std::mem::replace(
                &mut self.kind,
                TKind::Deopt(DeoptReason::Type),
            ));
            DROP_DEPTH.set(depth);
            return;
        }
        let mut pending = Vec::new();
        take_children(&mut self.kind, &mut pending);
        while let Some(mut e) = pending.pop() {
            take_children(&mut e.kind, &mut pending);
        }
    }
}

fn take_children(kind: &mut TKind, out: &mut Vec<TExpr>) {
    let body = |b: TBody, out: &mut Vec<TExpr>| {
        out.extend(b.lets.into_iter().map(|(_, v)| v));
        out.push(b.result);
    };
    match std::mem::replace(kind, TKind::Deopt(DeoptReason::Type)) {
        TKind::Arith(_, a, b)
        | TKind::Compare(_, a, b)
        | TKind::And(a, b)
        | TKind::Or(a, b)
        | TKind::Try(a, b) => {
            out.push(*a);
            out.push(*b);
        }
        TKind::Neg(a) | TKind::Not(a) | TKind::Convert(_, a) | TKind::Box(a) => out.push(*a),
        TKind::Math(_, args)
        | TKind::Call { args, .. }
        | TKind::SelfTail(args)
        | TKind::Generic(_, args)
        | TKind::Host { args, .. } => out.extend(args),
        TKind::If(c, t, f) => {
            out.push(*c);
            body(*t, out);
            body(*f, out);
        }
        TKind::Int(_)
        | TKind::Float(_)
        | TKind::Bool(_)
        | TKind::Local(_)
        | TKind::Deopt(_)
        | TKind::Const(_) => {}
    }
}
