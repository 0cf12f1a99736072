//! The machine this process runs on: its backend, its stack pointer and its
//! disassembler. The one
//! place that picks by `target_arch`, so that the engine above needs no `cfg`.

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use crate::Backend;
use crate::{BatchOut, EmitError, MacroAssembler};

// Declared here so that the crate root stays the backends' (`disasm.rs` beside this file).
#[path = "disasm.rs"]
mod disasm;
pub use disasm::disassemble;

/// The host's backend.
#[cfg(target_arch = "x86_64")]
pub type Host = crate::x64::X64;
/// The host's backend.
#[cfg(target_arch = "aarch64")]
pub type Host = crate::aarch64::Aarch64;

/// Why there is no backend here.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn unsupported() -> String {
    format!(
        "no JIT backend for this architecture ({}): everything runs in the interpreter",
        std::env::consts::ARCH
    )
}

/// The host backend's name, or why there is none.
pub fn name() -> Result<&'static str, String> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return Ok(Host::NAME);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(unsupported())
}

/// The host's trampoline (see [`crate::Backend::trampoline`]).
pub fn trampoline() -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return Host::trampoline();
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(EmitError(unsupported()))
}

/// The host's direct entry (see [`crate::Backend::direct_entry`]).
pub fn direct_entry() -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return Host::direct_entry();
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(EmitError(unsupported()))
}

/// The host's batch entry for `nargs` arguments (see
/// [`crate::Backend::batch_entry`]).
pub fn batch_entry(nargs: usize, results: BatchOut) -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return Host::batch_entry(nargs, results);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (nargs, results);
        Err(EmitError(unsupported()))
    }
}

/// Code generation generic over the assembler: given the host's, by [`with_masm`].
pub trait WithMasm {
    type Out;
    /// Generates with fresh assemblers from `masm`.
    fn run<M: MacroAssembler>(self, masm: fn() -> M) -> Result<Self::Out, EmitError>;
}

/// Runs `user` with the host's assembler, or fails on an architecture without one.
pub fn with_masm<W: WithMasm>(user: W) -> Result<W::Out, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return user.run(Host::masm);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = user;
        Err(EmitError(unsupported()))
    }
}

/// The current stack pointer (near enough elsewhere: the address of a local).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; no memory, no flags.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let marker = 0u8;
        sp = std::hint::black_box(&marker) as *const u8 as usize;
    }
    sp
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stack_pointer_is_near_a_local() {
        let marker = 0u8;
        let local = std::hint::black_box(&marker) as *const u8 as usize;
        let sp = super::stack_pointer();
        assert!(
            sp.abs_diff(local) < 64 * 1024,
            "sp {sp:#x}, local {local:#x}"
        );
    }

    #[test]
    fn the_host_has_a_backend_where_there_is_one() {
        let known = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));
        assert_eq!(super::name().is_ok(), known);
    }
}
