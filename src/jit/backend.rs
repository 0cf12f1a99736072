//! The one place that picks the machine backend for the host architecture.

use super::codegen::{Emitted, Linkage};
use super::ir::TFunction;
use grizzly_arch::EmitError;

#[cfg(target_arch = "x86_64")]
mod native {
    use grizzly_arch::Backend;
    pub type Native = grizzly_arch::x64::X64;
    pub const NAME: Option<&str> = Some(Native::NAME);
}

#[cfg(not(target_arch = "x86_64"))]
mod native {
    pub const NAME: Option<&str> = None;
}

/// The backend's name, or why there is none.
pub fn available() -> Result<&'static str, String> {
    native::NAME.ok_or_else(|| {
        format!(
            "no JIT backend for this architecture ({}): everything runs in the interpreter",
            std::env::consts::ARCH
        )
    })
}

pub fn trampoline() -> Result<Vec<u8>, EmitError> {
    #[cfg(target_arch = "x86_64")]
    {
        use grizzly_arch::Backend;
        native::Native::trampoline()
    }
    #[cfg(not(target_arch = "x86_64"))]
    Err(EmitError(available().unwrap_err()))
}

pub fn generate(f: &TFunction, spec: u32, link: &dyn Linkage) -> Result<Emitted, EmitError> {
    #[cfg(target_arch = "x86_64")]
    {
        use grizzly_arch::Backend;
        super::codegen::generate(&native::Native::masm, f, spec, link)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (f, spec, link);
        Err(EmitError(available().unwrap_err()))
    }
}
