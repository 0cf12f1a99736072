//! The reference interpreter: resolved trees compiled to register bytecode and run
//! by a loop with explicit frames, recording the profiles the JIT reads.

pub mod bytecode;
pub mod compile;
pub mod host;
pub mod interrupt;
pub mod profile;
pub mod tier;
pub mod verify;
pub mod vm;

use crate::resolve::{FuncId, Resolved};
use bytecode::Code;
use std::sync::Arc;

/// A defined function: its checked form (what the JIT specializes) and its bytecode.
#[derive(Debug)]
pub struct Function {
    pub id: FuncId,
    pub name: Arc<str>,
    pub resolved: Resolved,
    pub code: Code,
}
