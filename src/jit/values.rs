//! Generic values in compiled code: the value stack that holds them, and the Rust
//! helpers compiled code calls to operate on them.
//!
//! A generic value (`Ty::Value`: a string, `null`, or a value whose type the type pass
//! cannot know) lives whole, as a [`Value`], in a slot of the **value stack**, a buffer
//! the JIT owns whose address never changes. A compiled function that uses generic
//! values takes a frame of slots there on entry ([`grz_enter`], every slot `null`) and
//! gives it back on return ([`grz_leave`]); in between, **every slot of a live frame
//! always holds a valid `Value`**: helpers write a slot by assignment, which drops what
//! it held. So whatever way compiled code is left, releasing is one rule: drop the slots
//! between a mark and the top.
//! - return: `grz_leave` drops the function's own frame;
//! - an error caught by a compiled `TRY` further down the stack: the handler's landing
//!   drops the frames above the top it saved ([`grz_unwind`]);
//! - a deopt, or any exit to Rust: the entry drops everything above the top it entered
//!   with ([`ValueStack::release_to`]);
//! - `jit clear` and engine drop happen outside compiled code, with nothing on the stack.
//!
//! The helpers compute with the interpreter's own functions (`ops.rs`, `builtins.rs`),
//! so both tiers agree by construction. One that fails returns a nonzero status, and
//! compiled code raises (the interpreter, rerunning the call, produces the message).

use super::ir::GenericOp;
use crate::builtins::Builtin;
use crate::ops;
use crate::syntax::ast::{BinaryOp, TypeName};
use crate::value::Value;
use grizzly_arch::{JitContext, NativeResult};
use std::mem::MaybeUninit;

/// The layout of a `Value` (`repr(C, u8)`) that compiled code's fast paths read: the
/// tag byte of each variant at offset 0, the payload at [`PAYLOAD`].
pub const TAG_NULL: u8 = 0;
pub const TAG_BOOL: u8 = 1;
pub const TAG_INT: u8 = 2;
pub const TAG_FLOAT: u8 = 3;
pub const TAG_STR: u8 = 4;
pub const PAYLOAD: i32 = 8;

/// Slots of the value stack: 16 MiB of address space, touched only as deep as calls go.
const CAPACITY: usize = 1 << 20;

/// The stack of generic values compiled code works on (see the module documentation).
/// Slot 0 is where a function returning a generic value leaves it (`value_ret`).
pub struct ValueStack {
    /// `[0]` is initialized always; `[1..top]` while compiled code runs.
    slots: Box<[MaybeUninit<Value>]>,
}

impl ValueStack {
    pub fn new() -> ValueStack {
        let mut slots = Box::new_uninit_slice(CAPACITY);
        slots[0].write(Value::Null);
        ValueStack { slots }
    }

    /// The first slot frames use: where the top is whenever no compiled code runs.
    pub fn base(&self) -> usize {
        self.slots.as_ptr() as usize + std::mem::size_of::<Value>()
    }

    /// Points `ctx` at this stack, empty.
    pub fn attach(&mut self, ctx: &mut JitContext) {
        ctx.values_top = self.base();
        ctx.values_end = self.slots.as_ptr() as usize + CAPACITY * std::mem::size_of::<Value>();
        ctx.value_ret = self.slots.as_ptr() as usize;
    }

    /// Drops the values above `mark` that compiled code left when it exited (a deopt,
    /// or an error nothing compiled caught) and makes `mark` the top again.
    pub fn release_to(&mut self, ctx: &mut JitContext, mark: usize) {
        if ctx.values_top > mark {
            // SAFETY: the slots from `mark` (a top this stack had, at or above its
            // base) to the top are a live frame's, so valid values (module invariant).
            unsafe { drop_slots(mark as *mut Value, ctx.values_top) };
        }
        ctx.values_top = mark;
    }

    /// Takes the generic value a function returned.
    pub fn take_ret(&mut self) -> Value {
        // SAFETY: slot 0 is always initialized.
        std::mem::take(unsafe { self.slots[0].assume_init_mut() })
    }
}

impl Default for ValueStack {
    fn default() -> Self {
        ValueStack::new()
    }
}

impl Drop for ValueStack {
    fn drop(&mut self) {
        // Frames are gone whenever no compiled code runs: only slot 0 holds a value.
        // SAFETY: slot 0 is always initialized.
        unsafe { self.slots[0].assume_init_drop() };
    }
}

/// Drops the values in `[from, to)`.
///
/// # Safety
/// Every slot in the range holds a valid value, which nothing reads afterwards.
unsafe fn drop_slots(from: *mut Value, to: usize) {
    let mut p = from;
    while (p as usize) < to {
        // SAFETY: the caller's contract. Only a string owns anything.
        unsafe {
            if let Value::Str(_) = &*p {
                std::ptr::drop_in_place(p);
            }
            p = p.add(1);
        }
    }
}

/// What a helper returns: a result's bits (for operations giving a machine type) and a
/// status, 0 when it succeeded.
fn done(bits: u64) -> NativeResult {
    NativeResult { bits, site: 0 }
}
const FAILED: NativeResult = NativeResult { bits: 0, site: 1 };

/// Takes a frame of `n` slots, each `null`: returns its address, or 0 when the stack
/// is full.
///
/// # Safety
/// `ctx` is the context compiled code runs with, attached to a [`ValueStack`].
pub unsafe extern "C" fn grz_enter(ctx: *mut JitContext, n: u64) -> u64 {
    // SAFETY: the caller's contract.
    let ctx = unsafe { &mut *ctx };
    let base = ctx.values_top;
    let bytes = (n as usize).saturating_mul(std::mem::size_of::<Value>());
    if ctx.values_end - base < bytes {
        return 0;
    }
    let mut p = base as *mut u8;
    for _ in 0..n {
        // SAFETY: inside the stack's buffer (checked above); the slots are free. A tag
        // byte of 0 is a whole `Value::Null` (`repr(C, u8)`; no payload).
        unsafe {
            p.write(0);
            p = p.add(std::mem::size_of::<Value>());
        }
    }
    ctx.values_top = base + bytes;
    base as u64
}

/// Returns from a frame taken by [`grz_enter`] at `frame`: moves the value at `result`
/// (if not null) to the context's `value_ret`, drops the frame's values and the values
/// of any frame above, and makes `frame` the top.
///
/// # Safety
/// `frame` is the calling function's frame, `result` null or one of its slots.
pub unsafe extern "C" fn grz_leave(ctx: *mut JitContext, frame: usize, result: *mut Value) {
    // SAFETY: the caller's contract; `value_ret` is slot 0, always initialized.
    unsafe {
        let ctx = &mut *ctx;
        if !result.is_null() {
            std::ptr::swap(ctx.value_ret as *mut Value, result);
        }
        drop_slots(frame as *mut Value, ctx.values_top);
        ctx.values_top = frame;
    }
}

/// After an error was caught by a compiled handler: drops the values of the frames
/// above `top` (the top when the handler was entered) and makes it the top.
///
/// # Safety
/// `top` is a top the stack had when the handler was entered, still at or below it.
pub unsafe extern "C" fn grz_unwind(ctx: *mut JitContext, top: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        let ctx = &mut *ctx;
        if ctx.values_top > top {
            drop_slots(top as *mut Value, ctx.values_top);
        }
        ctx.values_top = top;
    }
}

/// `*dst = take(value_ret)`: the result of a call that returned a generic value.
///
/// # Safety
/// `dst` is a slot of the caller's frame.
pub unsafe extern "C" fn grz_take(ctx: *mut JitContext, dst: *mut Value) {
    // SAFETY: the caller's contract; `value_ret` is slot 0, always initialized.
    unsafe { *dst = std::mem::take(&mut *((*ctx).value_ret as *mut Value)) };
}

/// `*dst = src.clone()`.
///
/// # Safety
/// `dst` and `src` are valid values (`src` may be any live value, also outside the stack).
pub unsafe extern "C" fn grz_clone(dst: *mut Value, src: *const Value) {
    // SAFETY: the caller's contract.
    unsafe {
        if !std::ptr::eq(dst, src) {
            *dst = (*src).clone();
        }
    }
}

/// Swaps two slots.
///
/// # Safety
/// `a` and `b` are slots of live frames.
pub unsafe extern "C" fn grz_swap(a: *mut Value, b: *mut Value) {
    // SAFETY: the caller's contract (`ptr::swap` allows `a == b`).
    unsafe { std::ptr::swap(a, b) };
}

/// The tag [`grz_box`] takes for each machine type.
pub const BOX_INT: u64 = 0;
pub const BOX_FLOAT: u64 = 1;
pub const BOX_BOOL: u64 = 2;

/// `*dst` = the machine value `bits` of type `tag` as a generic value.
///
/// # Safety
/// `dst` is a slot of a live frame.
pub unsafe extern "C" fn grz_box(dst: *mut Value, tag: u64, bits: u64) {
    let v = match tag {
        BOX_INT => Value::Int(bits as i64),
        BOX_FLOAT => Value::Float(f64::from_bits(bits)),
        _ => Value::Bool(bits & 1 != 0),
    };
    // SAFETY: the caller's contract.
    unsafe { *dst = v };
}

/// `len(a)`, the commonest builtin on generic values, without [`grz_op`]'s dispatch.
///
/// # Safety
/// `a` is a valid value.
pub unsafe extern "C" fn grz_len(a: *const Value) -> NativeResult {
    // SAFETY: the caller's contract.
    match unsafe { &*a } {
        // `Builtin::Len`'s semantics, without its argument slice and error value.
        Value::Str(s) => done(s.char_count() as u64),
        _ => FAILED,
    }
}

/// A [`GenericOp`] as the word compiled code passes to [`grz_op`].
pub fn op_code(op: GenericOp) -> u64 {
    let (kind, arg) = match op {
        GenericOp::Binary(b) => (0, BinaryOp::ALL.iter().position(|&x| x == b).unwrap_or(0)),
        GenericOp::Neg => (1, 0),
        GenericOp::Not => (2, 0),
        GenericOp::Truth => (3, 0),
        GenericOp::Cast(t) => (4, type_code(t)),
        GenericOp::Builtin(b) => (5, Builtin::ALL.iter().position(|&x| x == b).unwrap_or(0)),
        GenericOp::Annotate(t) => (6, type_code(t)),
        GenericOp::NotNull => (7, 0),
        // Never passed to `grz_op`: host calls go to `grz_host`.
        GenericOp::Host(_) => (8, 0),
    };
    (kind << 8) | arg as u64
}

const TYPES: [TypeName; 5] = [
    TypeName::Int,
    TypeName::Float,
    TypeName::Bool,
    TypeName::Str,
    TypeName::Number,
];

fn type_code(t: TypeName) -> usize {
    TYPES.iter().position(|&x| x == t).unwrap_or(0)
}

/// The operation [`op_code`] encoded, computed on `a` (and `b`): a generic result goes
/// to `*dst`, a machine one (a comparison's bool, `len`'s int) to the bits returned.
///
/// # Safety
/// `dst` is a slot of a live frame (or null for an operation with a machine result);
/// `a` and `b` are valid values (`b` null for an operation of one operand).
pub unsafe extern "C" fn grz_op(
    code: u64,
    dst: *mut Value,
    a: *const Value,
    b: *const Value,
) -> NativeResult {
    // SAFETY: the caller's contract.
    let (a, b) = unsafe { (&*a, b.as_ref()) };
    let arg = (code & 0xff) as usize;
    let put = |v: Result<Value, crate::error::Error>| match v {
        Ok(v) => {
            // SAFETY: the caller's contract (a generic result has a slot).
            unsafe { *dst = v };
            done(0)
        }
        Err(_) => FAILED,
    };
    match code >> 8 {
        0 => {
            let (Some(&op), Some(b)) = (BinaryOp::ALL.get(arg), b) else {
                return FAILED;
            };
            match op {
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                    put(ops::arith(op, a, b))
                }
                BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge => match ops::compare(op, a, b) {
                    Ok(t) => done(t as u64),
                    Err(_) => FAILED,
                },
                // Never generic operations (control flow in the type pass).
                BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => FAILED,
            }
        }
        1 => put(ops::negate(a)),
        2 => match ops::not(a) {
            Ok(Value::Bool(t)) => done(t as u64),
            _ => FAILED,
        },
        3 => match a {
            Value::Bool(t) => done(*t as u64),
            _ => FAILED,
        },
        4 => put(ops::cast(a, TYPES[arg.min(TYPES.len() - 1)])),
        5 => {
            let Some(&builtin) = Builtin::ALL.get(arg) else {
                return FAILED;
            };
            let result = match b {
                Some(b) => builtin.apply(&[a.clone(), b.clone()]),
                None => builtin.apply(std::slice::from_ref(a)),
            };
            match (builtin, result) {
                (Builtin::Len, Ok(Value::Int(n))) => done(n as u64),
                (Builtin::Len, _) | (_, Err(_)) => FAILED,
                (_, Ok(v)) => put(Ok(v)),
            }
        }
        6 => match ops::annotate(a, TYPES[arg.min(TYPES.len() - 1)]) {
            Some(v) => put(Ok(v)),
            None => FAILED,
        },
        7 => match a {
            Value::Null => FAILED,
            _ => done(0),
        },
        _ => FAILED,
    }
}

/// Calls `host` on the values at `a0`.. (its arity of them: at most four), the
/// result to `*dst`; fails when it returns an error (or panics), which a compiled
/// handler catches or the interpreter, rerunning the call, raises.
///
/// # Safety
/// `host` is a live host function of at most four arguments; `dst` is a slot of a
/// live frame; the first `arity` of `a0..a3` are valid values.
pub unsafe extern "C" fn grz_host(
    host: *const crate::interp::host::HostFunction,
    dst: *mut Value,
    a0: *const Value,
    a1: *const Value,
    a2: *const Value,
    a3: *const Value,
) -> NativeResult {
    // SAFETY: the caller's contract.
    let host = unsafe { &*host };
    let pointers = [a0, a1, a2, a3];
    let Some(pointers) = pointers.get(..host.arity) else {
        return FAILED;
    };
    let mut args: [&Value; 4] = [&Value::Null; 4];
    for (arg, &p) in args.iter_mut().zip(pointers) {
        // SAFETY: the caller's contract (the first `arity` are valid values).
        *arg = unsafe { &*p };
    }
    match host.call(&args[..host.arity]) {
        Ok(v) => {
            // SAFETY: the caller's contract.
            unsafe { *dst = v };
            done(0)
        }
        Err(_) => FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast paths read tags and payloads at these offsets.
    #[test]
    fn a_zero_tag_byte_is_null() {
        let mut v = Value::Int(7);
        // SAFETY: writes the tag byte of a value that owns nothing.
        unsafe { (&mut v as *mut Value as *mut u8).write(0) };
        assert!(matches!(v, Value::Null));
    }

    #[test]
    fn value_layout() {
        // SAFETY: reads the first byte of a live 16-byte value.
        let tag = |v: &Value| unsafe { *(v as *const Value as *const u8) };
        // SAFETY: reads the aligned word at offset 8 of a live 16-byte value (the
        // payload of the variants read here; no padding).
        let payload = |v: &Value| unsafe {
            *((v as *const Value as *const u8).add(PAYLOAD as usize) as *const u64)
        };
        assert_eq!(tag(&Value::Int(-5)), TAG_INT);
        assert_eq!(payload(&Value::Int(-5)), -5i64 as u64);
        assert_eq!(tag(&Value::Float(2.5)), TAG_FLOAT);
        assert_eq!(payload(&Value::Float(2.5)), 2.5f64.to_bits());
        assert_eq!(tag(&Value::from("s")), TAG_STR);
        assert_eq!(tag(&Value::Null), TAG_NULL);
        assert_eq!(tag(&Value::Bool(true)), TAG_BOOL);
        assert_eq!(tag(&Value::Bool(false)), TAG_BOOL);
    }
}
