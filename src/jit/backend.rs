//! The one place that picks the machine backend for the host architecture.

use super::codegen::{Emitted, Linkage};
use super::ir::TFunction;
use grizzly_arch::{Convention, EmitError};

#[cfg(target_arch = "x86_64")]
type Native = grizzly_arch::x64::X64;
#[cfg(target_arch = "aarch64")]
type Native = grizzly_arch::aarch64::Aarch64;

/// The backend's name, or why there is none.
pub fn available() -> Result<&'static str, String> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use grizzly_arch::Backend;
        Ok(Native::NAME)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(format!(
        "no JIT backend for this architecture ({}): everything runs in the interpreter",
        std::env::consts::ARCH
    ))
}

pub fn trampoline() -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use grizzly_arch::Backend;
        Native::trampoline()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(EmitError(available().unwrap_err()))
}

pub fn direct_entry() -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use grizzly_arch::Backend;
        Native::direct_entry()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    Err(EmitError(available().unwrap_err()))
}

pub fn batch_entry(nargs: usize) -> Result<Vec<u8>, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use grizzly_arch::Backend;
        Native::batch_entry(nargs)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = nargs;
        Err(EmitError(available().unwrap_err()))
    }
}

pub fn generate(
    f: &TFunction,
    spec: u32,
    link: &dyn Linkage,
    convention: Convention,
) -> Result<Emitted, EmitError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use grizzly_arch::Backend;
        super::codegen::generate(&Native::masm, f, spec, link, convention)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (f, spec, link, convention);
        Err(EmitError(available().unwrap_err()))
    }
}
