//! Rust functions the host registered (`Engine::register_fn`), as the interpreter and
//! compiled code call them: on exactly their number of arguments, a panic caught.

use crate::error::{Error, ErrorKind};
use crate::value::{Value, ValueType};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A registered host function's calling shim: checks and converts the arguments,
/// calls the Rust function, converts its result or error.
pub type HostCall = dyn Fn(&[&Value]) -> Result<Value, Error> + Send + Sync;

/// What a host function's machine-word entry returns: its result's bits, and 1 in
/// `failed` when it returned an error or panicked (the interpreter, rerunning the
/// call, reports it). Two words in the two return registers, as compiled code's
/// helpers return them.
#[repr(C)]
pub struct HostResult {
    pub bits: u64,
    pub failed: u64,
}

/// A host function's entry for compiled code when its arguments and result are
/// machine words (`i64`, `f64`, `bool`): `extern "C" fn(data, a0, a1, a2, a3) ->
/// HostResult`, each argument as its bits.
#[derive(Clone, Debug)]
pub struct NativeHost {
    pub params: Vec<ValueType>,
    pub ret: ValueType,
    /// The entry's address.
    pub entry: usize,
    /// Its first argument: the Rust function's address (kept alive by the
    /// [`HostFunction`], whose `call` owns it).
    pub data: usize,
}

/// A registered host function.
pub struct HostFunction {
    pub name: Arc<str>,
    pub arity: usize,
    call: Box<HostCall>,
    /// The machine-word entry, when it has one.
    pub native: Option<NativeHost>,
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
    pub fn new(
        name: Arc<str>,
        arity: usize,
        call: Box<HostCall>,
        native: Option<NativeHost>,
    ) -> HostFunction {
        HostFunction {
            name,
            arity,
            call,
            native,
        }
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
            Err(payload) => Err(host_error(&format!(
                "panicked: {}",
                panic_message(&*payload)
            ))),
        }
    }
}

/// What a panic's payload says.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
