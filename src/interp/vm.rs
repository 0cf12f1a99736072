//! The bytecode loop. Calls push explicit frames (no Rust recursion), so the depth
//! limit is the interpreter's own and 10,000 nested calls need no host stack.

use super::bytecode::{Code, Op, Reg, Test, K};
use super::host::HostFunction;
use super::interrupt::InterruptWord;
use super::profile::Profile;
use super::tier::{Program, Tier};
use super::Function;
use crate::builtins::BuiltinError;
use crate::error::{Error, ErrorKind};
use crate::ops;
use crate::syntax::ast::BinaryOp;
use crate::value::Value;
use std::sync::Arc;

/// What a run may read and record.
pub struct Context<'a> {
    /// By function id; `None` for a name that is called but not defined.
    pub functions: &'a [Option<Arc<Function>>],
    /// By function id, for messages about undefined functions.
    pub names: &'a [Arc<str>],
    /// By function id.
    pub profiles: &'a mut [Profile],
    pub max_depth: u32,
    /// Read at every call and loop iteration: set, the run stops.
    pub interrupt: &'a InterruptWord,
    /// The host functions, by id.
    pub hosts: &'a [Arc<HostFunction>],
    /// The compiled tier, asked to run a function's calls once its profile is hot.
    pub tier: Option<&'a mut dyn Tier>,
}

impl Context<'_> {
    /// Offers a call to the compiled tier; `None` if the interpreter must run it.
    #[inline]
    fn offer(&mut self, func: u32, args: &[Value], depth: u32) -> Option<Value> {
        let tier = self.tier.as_deref_mut()?;
        tier.enter(
            Program {
                functions: self.functions,
                names: self.names,
                profiles: self.profiles,
                max_depth: self.max_depth,
                hosts: self.hosts,
            },
            func,
            args,
            depth,
        )
    }
}

/// A caller waiting for its callee to return.
struct Frame<'a> {
    code: &'a Code,
    pc: u32,
    base: u32,
    dst: Reg,
}

/// An active `TRY` or `??`: an error while `frames` callers are below resumes at `catch`.
struct Handler {
    frames: u32,
    catch: u32,
}

/// The interpreter's reusable state: the register stack and frame stack.
#[derive(Default)]
pub struct Vm {
    regs: Vec<Value>,
    /// Always empty between runs; only its allocation is kept.
    frames: Vec<Frame<'static>>,
    handlers: Vec<Handler>,
}

/// Reuses a frame stack's allocation for another lifetime. The vector is empty, so
/// the closure never runs, and the standard library collects in place.
fn recycle<'x, 'y>(mut v: Vec<Frame<'x>>) -> Vec<Frame<'y>> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("recycled frame stacks are empty"))
        .collect()
}

impl Vm {
    /// Runs `code` (a function with `args`, or a top-level expression with none) at
    /// call depth `depth`: 1 for a function called from the host, 0 for top level.
    pub(crate) fn run<'a>(
        &mut self,
        ctx: &mut Context<'a>,
        code: &'a Code,
        args: &[Value],
        depth: u32,
    ) -> Result<Value, Error> {
        let mut frames = recycle(std::mem::take(&mut self.frames));
        self.handlers.clear();
        let result = execute(
            &mut self.regs,
            &mut frames,
            &mut self.handlers,
            ctx,
            code,
            args,
            depth,
        );
        self.frames = recycle(frames);
        self.handlers.clear();
        result
    }
}

#[inline]
fn reserve(regs: &mut Vec<Value>, need: usize) {
    if regs.len() < need {
        let len = need.max(regs.len() * 2).max(256);
        regs.resize(len, Value::Null);
    }
}

fn test_error(test: Test, got: &Value) -> Error {
    match test {
        Test::If => ops::condition_error(got),
        Test::And => ops::logic_error("AND", got),
        Test::Or => ops::logic_error("OR", got),
        Test::Not => ops::logic_error("NOT", got),
    }
}

fn stack_overflow(limit: u32) -> Error {
    Error::new(
        ErrorKind::StackOverflow,
        format!("stack overflow: call depth limit of {limit} exceeded"),
    )
}

fn wrong_arity(name: &str, expected: usize, got: usize) -> Error {
    Error::new(
        ErrorKind::WrongArgumentCount,
        format!("wrong number of arguments: '{name}' expects {expected}, got {got}"),
    )
}

fn execute<'a>(
    regs: &mut Vec<Value>,
    frames: &mut Vec<Frame<'a>>,
    handlers: &mut Vec<Handler>,
    ctx: &mut Context<'a>,
    entry: &'a Code,
    args: &[Value],
    depth_base: u32,
) -> Result<Value, Error> {
    if let Some(e) = ctx.interrupt.check() {
        return Err(e);
    }
    let mut code = entry;
    let mut base = 0usize;
    let mut pc = 0usize;
    reserve(regs, code.regs);
    regs[..args.len()].clone_from_slice(args);

    // Invariant for the unchecked accesses below: `code` passed `verify` (every
    // register operand < code.regs, every constant operand < code.consts.len(),
    // every reachable pc < code.ops.len()), and `base + code.regs <= regs.len()`:
    // `reserve` establishes it for each frame on entry, and `regs` never shrinks
    // during a run, so it still holds when a caller's frame is restored.
    macro_rules! val {
        ($o:expr) => {{
            let o = $o;
            if o & K != 0 {
                // SAFETY: constant operands are below consts.len() (verified).
                unsafe { code.consts.get_unchecked((o & !K) as usize) }
            } else {
                // SAFETY: o < code.regs (verified) and base + code.regs <= regs.len().
                unsafe { regs.get_unchecked(base + o as usize) }
            }
        }};
    }
    macro_rules! set {
        ($r:expr, $v:expr) => {{
            let v = $v;
            let r: Reg = $r;
            debug_assert!(base + (r as usize) < regs.len());
            // SAFETY: destination registers are below code.regs (verified) and
            // base + code.regs <= regs.len().
            unsafe { *regs.get_unchecked_mut(base + r as usize) = v };
        }};
    }
    macro_rules! arith {
        ($dst:expr, $a:expr, $b:expr, $op:expr, $checked:ident, $fop:tt) => {{
            let (x, y) = (val!($a), val!($b));
            let r = match (x, y) {
                (Value::Int(x), Value::Int(y)) => match x.$checked(*y) {
                    Some(v) => Value::Int(v),
                    None => break ops::overflow(),
                },
                (Value::Float(x), Value::Float(y)) => Value::Float(x $fop y),
                _ => match ops::arith($op, x, y) {
                    Ok(v) => v,
                    Err(e) => break e,
                },
            };
            set!($dst, r);
        }};
    }
    // `/` is mostly float arithmetic, `%` mostly int: each tests its common case first.
    macro_rules! divide {
        ($dst:expr, $a:expr, $b:expr, $op:expr, $fop:tt, $int_first:expr) => {{
            let (x, y) = (val!($a), val!($b));
            let r = match (x, y) {
                (Value::Int(x), Value::Int(y)) if $int_first => match ops::int_arith($op, *x, *y) {
                    Ok(v) => Value::Int(v),
                    Err(e) => break e,
                },
                (Value::Float(x), Value::Float(y)) => Value::Float(x $fop y),
                (Value::Int(x), Value::Int(y)) => match ops::int_arith($op, *x, *y) {
                    Ok(v) => Value::Int(v),
                    Err(e) => break e,
                },
                (x, y) => match ops::arith($op, x, y) {
                    Ok(v) => v,
                    Err(e) => break e,
                },
            };
            set!($dst, r);
        }};
    }
    macro_rules! order {
        ($a:expr, $b:expr, $op:expr, $cmp:tt) => {{
            match (val!($a), val!($b)) {
                (Value::Int(x), Value::Int(y)) => x $cmp y,
                (Value::Float(x), Value::Float(y)) => x $cmp y,
                (x, y) => match ops::order($op, x, y) {
                    Ok(c) => c,
                    Err(e) => break e,
                },
            }
        }};
    }
    macro_rules! equal {
        ($a:expr, $b:expr) => {{
            match (val!($a), val!($b)) {
                (Value::Int(x), Value::Int(y)) => x == y,
                (x, y) => ops::equal(x, y),
            }
        }};
    }

    loop {
        // Runs until a return from the entry frame or an error; an error leaves the
        // inner loop with `break`, with `pc` one past the op that raised it.
        let error: Error = loop {
            // SAFETY: pc is 0, a verified jump target, the successor of an op that
            // is not last (the last op never falls through), or a pc saved by such
            // an op: all below code.ops.len().
            let op = unsafe { *code.ops.get_unchecked(pc) };
            pc += 1;
            match op {
                Op::Move { dst, src } => set!(dst, val!(src).clone()),
                Op::Move2 { d1, s1, d2, s2 } => {
                    set!(d1, val!(s1).clone());
                    set!(d2, val!(s2).clone());
                }
                Op::LoadConst { dst, index } => set!(dst, code.consts[index as usize].clone()),
                Op::Add { dst, a, b } => arith!(dst, a, b, BinaryOp::Add, checked_add, +),
                Op::Sub { dst, a, b } => arith!(dst, a, b, BinaryOp::Sub, checked_sub, -),
                Op::Mul { dst, a, b } => arith!(dst, a, b, BinaryOp::Mul, checked_mul, *),
                Op::Div { dst, a, b } => divide!(dst, a, b, BinaryOp::Div, /, false),
                Op::Rem { dst, a, b } => divide!(dst, a, b, BinaryOp::Rem, %, true),
                Op::DivPow2 { dst, a, shift } => match val!(a) {
                    Value::Int(x) => set!(dst, Value::Int(ops::div_pow2(*x, shift))),
                    x => match ops::arith(BinaryOp::Div, x, &Value::Int(1 << shift)) {
                        Ok(v) => set!(dst, v),
                        Err(e) => break e,
                    },
                },
                Op::RemPow2 { dst, a, shift } => match val!(a) {
                    Value::Int(x) => set!(dst, Value::Int(ops::rem_pow2(*x, shift))),
                    x => match ops::arith(BinaryOp::Rem, x, &Value::Int(1 << shift)) {
                        Ok(v) => set!(dst, v),
                        Err(e) => break e,
                    },
                },
                Op::Neg { dst, src } => match ops::negate(val!(src)) {
                    Ok(v) => set!(dst, v),
                    Err(e) => break e,
                },
                Op::Not { dst, src } => match val!(src) {
                    Value::Bool(b) => set!(dst, Value::Bool(!b)),
                    other => break ops::not(other).unwrap_err(),
                },
                Op::Eq { dst, a, b } => set!(dst, Value::Bool(equal!(a, b))),
                Op::Ne { dst, a, b } => set!(dst, Value::Bool(!equal!(a, b))),
                Op::Lt { dst, a, b } => set!(dst, Value::Bool(order!(a, b, BinaryOp::Lt, <))),
                Op::Le { dst, a, b } => set!(dst, Value::Bool(order!(a, b, BinaryOp::Le, <=))),
                Op::Gt { dst, a, b } => set!(dst, Value::Bool(order!(a, b, BinaryOp::Gt, >))),
                Op::Ge { dst, a, b } => set!(dst, Value::Bool(order!(a, b, BinaryOp::Ge, >=))),
                Op::JumpUnlessLt { a, b, target } => {
                    if !order!(a, b, BinaryOp::Lt, <) {
                        pc = target as usize;
                    }
                }
                Op::JumpUnlessLe { a, b, target } => {
                    if !order!(a, b, BinaryOp::Le, <=) {
                        pc = target as usize;
                    }
                }
                Op::JumpUnlessGt { a, b, target } => {
                    if !order!(a, b, BinaryOp::Gt, >) {
                        pc = target as usize;
                    }
                }
                Op::JumpUnlessGe { a, b, target } => {
                    if !order!(a, b, BinaryOp::Ge, >=) {
                        pc = target as usize;
                    }
                }
                Op::JumpUnlessEq { a, b, target } => {
                    if !equal!(a, b) {
                        pc = target as usize;
                    }
                }
                Op::JumpUnlessNe { a, b, target } => {
                    if equal!(a, b) {
                        pc = target as usize;
                    }
                }
                Op::Jump { target } => pc = target as usize,
                Op::JumpIfFalse { cond, target, test } => match val!(cond) {
                    Value::Bool(true) => {}
                    Value::Bool(false) => pc = target as usize,
                    other => break test_error(test, other),
                },
                Op::JumpIfTrue { cond, target, test } => match val!(cond) {
                    Value::Bool(true) => pc = target as usize,
                    Value::Bool(false) => {}
                    other => break test_error(test, other),
                },
                Op::CheckBool { reg, test } => {
                    if !matches!(regs[base + reg as usize], Value::Bool(_)) {
                        break test_error(test, &regs[base + reg as usize]);
                    }
                }
                Op::JumpIfNotNull { reg, target } => {
                    if !matches!(regs[base + reg as usize], Value::Null) {
                        pc = target as usize;
                    }
                }
                Op::Cast { dst, src, ty } => match ops::cast(val!(src), ty) {
                    Ok(v) => set!(dst, v),
                    Err(e) => break e,
                },
                Op::Builtin {
                    dst,
                    builtin,
                    first,
                } => {
                    let at = base + first as usize;
                    match builtin.apply(&regs[at..at + builtin.arity()]) {
                        Ok(v) => set!(dst, v),
                        Err(BuiltinError::Overflow) => break ops::overflow(),
                        Err(BuiltinError::Type(m)) => break Error::new(ErrorKind::Type, m),
                    }
                }
                Op::Host {
                    dst,
                    host,
                    first,
                    argc,
                } => {
                    let at = base + first as usize;
                    let mut args: [&Value; 4] = [&Value::Null; 4];
                    for (arg, v) in args.iter_mut().zip(&regs[at..at + argc as usize]) {
                        *arg = v;
                    }
                    let result = match ctx.hosts.get(host as usize) {
                        Some(h) => h.call(args.get(..argc as usize).unwrap_or(&[])),
                        None => Err(Error::new(
                            ErrorKind::Internal,
                            "internal error: an unknown host function",
                        )),
                    };
                    match result {
                        Ok(v) => set!(dst, v),
                        Err(e) => break e,
                    }
                }
                Op::Call {
                    dst,
                    func,
                    first,
                    argc,
                } => {
                    if let Some(e) = ctx.interrupt.check() {
                        break e;
                    }
                    let callee = match ctx.functions.get(func as usize) {
                        Some(Some(f)) => f,
                        _ => {
                            break Error::new(
                                ErrorKind::UnknownFunction,
                                format!("unknown function '{}'", ctx.names[func as usize]),
                            )
                        }
                    };
                    let callee_code = &callee.code;
                    if argc as usize != callee_code.params {
                        break wrong_arity(&callee.name, callee_code.params, argc as usize);
                    }
                    if depth_base as usize + frames.len() + 1 > ctx.max_depth as usize {
                        break stack_overflow(ctx.max_depth);
                    }
                    let new_base = base + first as usize;
                    let args = &regs[new_base..new_base + argc as usize];
                    let profile = &mut ctx.profiles[func as usize];
                    profile.record(args);
                    if profile.calls >= profile.hot_at {
                        let depth = depth_base + frames.len() as u32 + 1;
                        if let Some(v) = ctx.offer(func, args, depth) {
                            set!(dst, v);
                            continue;
                        }
                    }
                    frames.push(Frame {
                        code,
                        pc: pc as u32,
                        base: base as u32,
                        dst,
                    });
                    code = callee_code;
                    base = new_base;
                    pc = 0;
                    reserve(regs, base + code.regs);
                }
                Op::Restart => {
                    if let Some(e) = ctx.interrupt.check() {
                        break e;
                    }
                    if let Some(id) = code.func {
                        let args = &regs[base..base + code.params];
                        let profile = &mut ctx.profiles[id as usize];
                        profile.record_restart(args);
                        // A hot self tail loop continues in compiled code: the tail call
                        // is a fresh entry with new arguments at the same depth.
                        if profile.calls >= profile.hot_at {
                            let depth = depth_base + frames.len() as u32;
                            if let Some(v) = ctx.offer(id, args, depth) {
                                match frames.pop() {
                                    None => return Ok(v),
                                    Some(f) => {
                                        code = f.code;
                                        pc = f.pc as usize;
                                        base = f.base as usize;
                                        set!(f.dst, v);
                                        continue;
                                    }
                                }
                            }
                        }
                    }
                    pc = 0;
                }
                Op::Return { src } => {
                    let v = val!(src).clone();
                    match frames.pop() {
                        None => return Ok(v),
                        Some(f) => {
                            code = f.code;
                            pc = f.pc as usize;
                            base = f.base as usize;
                            set!(f.dst, v);
                        }
                    }
                }
                Op::CheckParam { reg, ty } => {
                    let at = base + reg as usize;
                    if regs[at].ty().is(ty) {
                        continue;
                    }
                    match ops::annotate(&regs[at], ty) {
                        Some(v) => regs[at] = v,
                        None => {
                            break ops::type_error(format!(
                                "parameter '{}' of '{}' expects {}, got {}",
                                code.param_names[reg as usize],
                                code.name.as_deref().unwrap_or("?"),
                                ty.name(),
                                regs[at].ty()
                            ))
                        }
                    }
                }
                Op::CheckReturn { reg, ty } => {
                    let at = base + reg as usize;
                    match ops::annotate(&regs[at], ty) {
                        Some(v) => regs[at] = v,
                        None => {
                            break ops::type_error(format!(
                                "'{}' must return {}, got {}",
                                code.name.as_deref().unwrap_or("?"),
                                ty.name(),
                                regs[at].ty()
                            ))
                        }
                    }
                }
                Op::TryEnter { catch } => handlers.push(Handler {
                    frames: frames.len() as u32,
                    catch,
                }),
                Op::TryExit => {
                    handlers.pop();
                }
                Op::Fail { index } => break code.errors[index as usize].clone(),
            }
        };

        // Where the error was raised, for the report if nothing catches it.
        let mut error = error;
        if error.span().is_none() {
            error = error.at(code.spans[pc - 1]);
        }
        error = error.in_source(&code.source);
        // (`interrupted` stops the whole run.)
        let handler = handlers.pop().filter(|_| error.kind().is_catchable());
        let Some(handler) = handler else {
            frames.clear();
            return Err(error);
        };
        while frames.len() > handler.frames as usize {
            if let Some(f) = frames.pop() {
                code = f.code;
                base = f.base as usize;
            }
        }
        pc = handler.catch as usize;
        if pc >= code.ops.len() {
            // Handler bookkeeping out of step with the frames: a compiler bug.
            // Stop cleanly rather than run from an invalid pc.
            frames.clear();
            handlers.clear();
            return Err(Error::new(
                ErrorKind::Internal,
                "internal error: an error handler does not match its frame",
            ));
        }
    }
}
