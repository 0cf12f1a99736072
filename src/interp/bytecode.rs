//! The interpreter's register bytecode. A function's frame is a window of the VM's
//! register stack: parameters first, then `LET` slots, then expression temporaries.
//! A call's arguments are written to consecutive registers at the top of the
//! caller's window, which become the callee's parameters without copying.

use crate::builtins::Builtin;
use crate::error::{Error, Source};
use crate::syntax::ast::{Span, TypeName};
use crate::value::Value;
use std::sync::Arc;

/// A register of the current frame.
pub type Reg = u16;

/// An operand: a register, or with [`K`] set, an entry of the constant pool.
pub type Opnd = u16;

/// The bit that marks an operand as a constant.
pub const K: Opnd = 0x8000;

/// Registers per frame (operands need the top bit for constants).
pub const MAX_REGS: usize = 0x7fff;

/// Which construct a bool test belongs to, for its error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    If,
    And,
    Or,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Move {
        dst: Reg,
        src: Opnd,
    },
    /// Two moves in a row, first then second (the parameter moves of self tail calls).
    Move2 {
        d1: Reg,
        s1: Opnd,
        d2: Reg,
        s2: Opnd,
    },
    /// Loads a constant whose index does not fit an operand.
    LoadConst {
        dst: Reg,
        index: u32,
    },
    /// `a / 2^shift` (shift 1 to 62): a shift when `a` is an int, `/` otherwise.
    DivPow2 {
        dst: Reg,
        a: Opnd,
        shift: u8,
    },
    /// `a % 2^shift`, likewise.
    RemPow2 {
        dst: Reg,
        a: Opnd,
        shift: u8,
    },
    Neg {
        dst: Reg,
        src: Opnd,
    },
    Not {
        dst: Reg,
        src: Opnd,
    },
    Add {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Sub {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Mul {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Div {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Rem {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Eq {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Ne {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Lt {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Le {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Gt {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    Ge {
        dst: Reg,
        a: Opnd,
        b: Opnd,
    },
    /// Jumps to `target` unless `a < b` (fused compare and branch of an `IF`).
    JumpUnlessLt {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    JumpUnlessLe {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    JumpUnlessGt {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    JumpUnlessGe {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    JumpUnlessEq {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    JumpUnlessNe {
        a: Opnd,
        b: Opnd,
        target: u32,
    },
    Jump {
        target: u32,
    },
    /// Jumps if `cond` is false; a type error if it is not a bool.
    JumpIfFalse {
        cond: Opnd,
        target: u32,
        test: Test,
    },
    JumpIfTrue {
        cond: Opnd,
        target: u32,
        test: Test,
    },
    /// A type error unless the register holds a bool (right operand of `AND`/`OR`).
    CheckBool {
        reg: Reg,
        test: Test,
    },
    JumpIfNotNull {
        reg: Reg,
        target: u32,
    },
    Cast {
        dst: Reg,
        src: Opnd,
        ty: TypeName,
    },
    /// Calls a builtin on `arity()` arguments starting at `first`.
    Builtin {
        dst: Reg,
        builtin: Builtin,
        first: Reg,
    },
    /// Calls host function `host` with `argc` arguments (its arity) starting at `first`.
    Host {
        dst: Reg,
        host: u32,
        first: Reg,
        argc: u16,
    },
    /// Calls function `func` with `argc` arguments starting at `first`.
    Call {
        dst: Reg,
        func: u32,
        first: Reg,
        argc: u16,
    },
    /// The enclosing function calls itself in tail position: its new arguments are
    /// already in the parameter registers; count the call and start again.
    Restart,
    Return {
        src: Opnd,
    },
    /// Checks (and converts) parameter `reg` against its annotation.
    CheckParam {
        reg: Reg,
        ty: TypeName,
    },
    CheckReturn {
        reg: Reg,
        ty: TypeName,
    },
    /// Starts a protected region: an error inside it resumes at `catch`.
    TryEnter {
        catch: u32,
    },
    TryExit,
    /// Raises error `index` of the code's error table.
    Fail {
        index: u32,
    },
}

/// The compiled form of a function or top-level expression.
#[derive(Debug)]
pub struct Code {
    pub ops: Vec<Op>,
    /// The source span of each op, for error reports.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    /// Errors raised by `Fail`.
    pub errors: Vec<Error>,
    /// Registers the frame needs.
    pub regs: usize,
    pub params: usize,
    /// The function's id, for profiling self tail calls; `None` at top level.
    pub func: Option<u32>,
    /// Names for messages: the function and its parameters.
    pub name: Option<Arc<str>>,
    pub param_names: Vec<Arc<str>>,
    pub source: Arc<Source>,
}
