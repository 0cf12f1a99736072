//! The host's machine backend, as the JIT uses it (`grizzly_arch::host` picks it).

use super::codegen::{Emitted, Linkage};
use super::ir::TFunction;
use grizzly_arch::host::{self, WithMasm};
use grizzly_arch::{Convention, EmitError, MacroAssembler};

pub use grizzly_arch::host::{batch_entry, direct_entry, trampoline};

/// The backend's name, or why there is none.
pub fn available() -> Result<&'static str, String> {
    host::name()
}

/// One function's code generation, waiting for the host's assembler.
struct Generate<'a> {
    f: &'a TFunction,
    spec: u32,
    link: &'a dyn Linkage,
    convention: Convention,
}

impl WithMasm for Generate<'_> {
    type Out = Emitted;
    fn run<M: MacroAssembler>(self, masm: fn() -> M) -> Result<Emitted, EmitError> {
        super::codegen::generate(&masm, self.f, self.spec, self.link, self.convention)
    }
}

pub fn generate(
    f: &TFunction,
    spec: u32,
    link: &dyn Linkage,
    convention: Convention,
) -> Result<Emitted, EmitError> {
    host::with_masm(Generate {
        f,
        spec,
        link,
        convention,
    })
}
