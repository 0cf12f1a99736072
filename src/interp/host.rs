//! Rust functions the host registered (`Engine::register_fn`), as the interpreter and
//! compiled code call them: on exactly their number of arguments, a panic caught.

use crate::error::{Error, ErrorKind};
use crate::value::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A registered host function's calling shim: checks and converts the arguments,
/// calls the Rust function, converts its result or error.
pub type HostCall = dyn Fn(&[&Value]) -> Result<Value, Error> + Send + Sync;

/// A registered host function.
pub struct HostFunction {
    pub name: Arc<str>,
    pub arity: usize,
    call: Box<HostCall>,
}

impl std::fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host function {}/{}", self.name, self.arity)
    }
}

/// The error a host function's `Err` (or panic) becomes.
pub fn host_error(message: &str) -> Error {
    Error::new(ErrorKind::Host, format!("host error: {message}"))
}

impl HostFunction {
    pub fn new(name: Arc<str>, arity: usize, call: Box<HostCall>) -> HostFunction {
        HostFunction { name, arity, call }
    }

    /// Calls it on `args` (`arity` of them). A panic does not unwind further: it is
    /// the error `host error: panicked: ...`.
    pub fn call(&self, args: &[&Value]) -> Result<Value, Error> {
        if args.len() != self.arity {
            return Err(Error::new(
                ErrorKind::Internal,
                "internal error: a host function called with the wrong argument count",
            ));
        }
        match catch_unwind(AssertUnwindSafe(|| (self.call)(args))) {
            Ok(result) => result,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("a panic without a message");
                Err(host_error(&format!("panicked: {message}")))
            }
        }
    }
}
