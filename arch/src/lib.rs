//! Machine-code backends for Grizzly's template JIT.
//!
//! This crate knows machine code and a small set of operations; it never sees the
//! PL-GRIZZLY syntax tree. The code generator in `grizzly` drives it through one
//! backend trait with one implementation per architecture (x86-64, AArch64).
//!
//! The backends land with the JIT issue; until then the engine runs everything in
//! its interpreter.
