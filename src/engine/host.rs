//! Calling Rust from PL-GRIZZLY: [`Engine::register_fn`].

use super::native::NativeArg;
use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::interp::host::{host_error, HostFunction, HostResult, NativeHost};
use crate::value::{Text, Value, ValueType};
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

mod sealed {
    pub trait Arg {}
    pub trait Ret {}
    /// Only this module's impls of `HostFn` exist: a `native()` entry must be the shim
    /// for the very type `register_fn` stores (its data pointer is cast to it).
    pub trait Fn<Args> {}
}

/// A Rust type a host function takes: `i64`, `f64` (an int converts, as for a
/// `float` parameter), `bool`, `String` or [`Text`] (a string), `Option<T>` of those
/// (`None` for `null`), or any [`Value`].
pub trait HostArg: sealed::Arg + Sized {
    /// The PL-GRIZZLY type, as messages name it.
    const NAME: &'static str;
    /// From an argument, `None` when it is not of this type.
    fn from_arg(value: &Value) -> Option<Self>;
    /// The machine type compiled code passes it as, if it is a machine word.
    #[doc(hidden)]
    const MACHINE: Option<ValueType> = None;
    /// From a machine word's bits (machine types only).
    #[doc(hidden)]
    fn from_bits(_bits: u64) -> Option<Self> {
        None
    }
}

macro_rules! host_arg {
    ($t:ty, $name:literal, $from:expr) => {
        impl sealed::Arg for $t {}
        impl HostArg for $t {
            const NAME: &'static str = $name;
            fn from_arg(value: &Value) -> Option<Self> {
                $from(value)
            }
        }
    };
    ($t:ty, $name:literal, $from:expr, $machine:ident, $from_bits:expr) => {
        impl sealed::Arg for $t {}
        impl HostArg for $t {
            const NAME: &'static str = $name;
            fn from_arg(value: &Value) -> Option<Self> {
                $from(value)
            }
            const MACHINE: Option<ValueType> = Some(ValueType::$machine);
            fn from_bits(bits: u64) -> Option<Self> {
                Some($from_bits(bits))
            }
        }
    };
}

host_arg!(i64, "int", Value::as_int, Int, |b: u64| b as i64);
host_arg!(
    f64,
    "float",
    |v: &Value| match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    },
    Float,
    f64::from_bits
);
host_arg!(bool, "bool", Value::as_bool, Bool, |b: u64| b != 0);
host_arg!(String, "string", |v: &Value| v.as_str().map(String::from));
host_arg!(Text, "string", |v: &Value| match v {
    Value::Str(t) => Some(t.clone()),
    _ => None,
});
host_arg!(Value, "any value", |v: &Value| Some(v.clone()));

impl<T: HostArg> sealed::Arg for Option<T> {}
impl<T: HostArg> HostArg for Option<T> {
    const NAME: &'static str = T::NAME;
    fn from_arg(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            v => T::from_arg(v).map(Some),
        }
    }
}

/// What a host function returns: an `i64`, `f64`, `bool`, `&str`, `String`,
/// `Option<T>` of those or a [`Value`], or a `Result` of one of these whose `Err`
/// (any `Display`) is the runtime error `host error: <message>`.
pub trait HostRet: sealed::Ret {
    /// As a value, or the error's message.
    fn into_result(self) -> std::result::Result<Value, String>;
    /// The machine type of its value, if that is a machine word.
    #[doc(hidden)]
    const MACHINE: Option<ValueType>;
    /// Its value's bits (machine types only), `None` for an error.
    #[doc(hidden)]
    fn into_bits(self) -> Option<u64>;
}

impl<T: NativeArg> sealed::Ret for T {}
impl<T: NativeArg> HostRet for T {
    fn into_result(self) -> std::result::Result<Value, String> {
        Ok(self.to_value())
    }
    const MACHINE: Option<ValueType> = <T as super::native::sealed::Arg>::MACHINE;
    fn into_bits(self) -> Option<u64> {
        Some(super::native::sealed::Arg::bits(&self))
    }
}

impl<T: NativeArg, E: Display> sealed::Ret for std::result::Result<T, E> {}
impl<T: NativeArg, E: Display> HostRet for std::result::Result<T, E> {
    fn into_result(self) -> std::result::Result<Value, String> {
        self.map(|v| v.to_value()).map_err(|e| e.to_string())
    }
    const MACHINE: Option<ValueType> = <T as super::native::sealed::Arg>::MACHINE;
    fn into_bits(self) -> Option<u64> {
        self.ok().map(|v| super::native::sealed::Arg::bits(&v))
    }
}

/// The machine-word entry of a host function of machine-word arguments (see
/// [`NativeHost`]): converts the bits, calls, and catches a panic (nothing unwinds
/// out of an `extern "C"` function).
macro_rules! shim {
    ($shim:ident; $($a:ident $w:ident),*; $($unused:ident),*) => {
        /// # Safety
        /// `data` points to a live `F`.
        unsafe extern "C" fn $shim<F, R $(, $a)*>(
            data: *const F,
            $($w: u64,)*
            $($unused: u64,)*
        ) -> HostResult
        where
            F: Fn($($a),*) -> R,
            R: HostRet,
            $($a: HostArg,)*
        {
            let _ = ($($unused,)*);
            // SAFETY: the caller's contract.
            let f = unsafe { &*data };
            let run = || -> Option<u64> { f($($a::from_bits($w)?),*).into_bits() };
            match catch_unwind(AssertUnwindSafe(run)) {
                Ok(Some(bits)) => HostResult { bits, failed: 0 },
                _ => HostResult { bits: 0, failed: 1 },
            }
        }
    };
}

shim!(shim0; ; a0, a1, a2, a3);
shim!(shim1; A0 a0; a1, a2, a3);
shim!(shim2; A0 a0, A1 a1; a2, a3);
shim!(shim3; A0 a0, A1 a1, A2 a2; a3);
shim!(shim4; A0 a0, A1 a1, A2 a2, A3 a3; );

/// A host function's machine-word signature and entry (for its data's type).
#[doc(hidden)]
pub struct NativeSignature {
    params: Vec<ValueType>,
    ret: ValueType,
    entry: usize,
}

/// An argument a host function borrows as a `&str` (in [`HostFn`]'s `Args`).
pub struct BorrowedStr;

/// A Rust closure or `fn` of up to four arguments, each a [`HostArg`] or a `&str`,
/// returning a [`HostRet`]: what [`Engine::register_fn`] takes. `Args` is the tuple
/// of its argument types (`BorrowedStr` for a `&str`); the compiler infers it.
///
/// Sealed: only closures and `fn`s implement it (code calls their entries directly).
///
/// ```compile_fail
/// struct Mine;
/// impl grizzly::HostFn<(i64,)> for Mine {
///     const ARITY: usize = 1;
///     fn call_with(&self, _: &str, _: &[&grizzly::Value]) -> grizzly::Result<grizzly::Value> {
///         Ok(grizzly::Value::Null)
///     }
/// }
/// ```
pub trait HostFn<Args>: sealed::Fn<Args> + Send + Sync + 'static {
    /// How many arguments it takes (at most 4).
    const ARITY: usize;
    /// Calls it on `args` (`ARITY` of them), checking their types.
    #[doc(hidden)]
    fn call_with(&self, name: &str, args: &[&Value]) -> Result<Value>;
    /// Its machine-word entry, taking a `*const Self`, if its arguments and result
    /// are machine words.
    #[doc(hidden)]
    fn native() -> Option<NativeSignature> {
        None
    }
}

/// The type error of argument `i` (from 0) of host function `name`.
fn argument_error(name: &str, i: usize, expected: &str, got: &Value) -> Error {
    Error::new(
        ErrorKind::Type,
        format!(
            "type error: argument {} of '{name}' expects {expected}, got {}",
            i + 1,
            got.ty()
        ),
    )
}

macro_rules! host_fn {
    ($l:lifetime, $n:literal, $shim:ident; [$($g:ident),*]; [$($marker:ty),*];
     [$($param:ty),*]; [$($kind:ident $i:tt $t:ident),*]) => {
        impl<F, R $(, $g)*> sealed::Fn<($($marker,)*)> for F
        where
            F: for<$l> Fn($($param),*) -> R + Send + Sync + 'static,
            R: HostRet,
            $($g: HostArg,)*
        {
        }
        impl<F, R $(, $g)*> HostFn<($($marker,)*)> for F
        where
            F: for<$l> Fn($($param),*) -> R + Send + Sync + 'static,
            R: HostRet,
            $($g: HostArg,)*
        {
            const ARITY: usize = $n;
            #[allow(unused_variables)]
            fn call_with(&self, name: &str, args: &[&Value]) -> Result<Value> {
                let result = self($(host_fn!(@arg $kind $t, name, args, $i)),*);
                result.into_result().map_err(|message| host_error(&message))
            }
            host_fn!(@native $shim; $($g),*);
        }
    };
    (@native none; $($g:ident),*) => {};
    (@native $shim:ident; $($g:ident),*) => {
        fn native() -> Option<NativeSignature> {
            Some(NativeSignature {
                params: vec![$($g::MACHINE?),*],
                ret: R::MACHINE?,
                entry: $shim::<Self, R $(, $g)*> as *const () as usize,
            })
        }
    };
    (@arg own $t:ident, $name:ident, $args:ident, $i:tt) => {
        $t::from_arg($args[$i]).ok_or_else(|| argument_error($name, $i, $t::NAME, $args[$i]))?
    };
    (@arg str $t:ident, $name:ident, $args:ident, $i:tt) => {
        $args[$i]
            .as_str()
            .ok_or_else(|| argument_error($name, $i, "string", $args[$i]))?
    };
}

// Every arity up to four, each argument taken owned (a `HostArg`) or as a `&str`
// borrowed from the value (`BorrowedStr` in `HostFn`'s `Args`).
host_fn!('a, 0, shim0; []; []; []; []);
host_fn!('a, 1, shim1; [A0]; [A0]; [A0]; [own 0 A0]);
host_fn!('a, 1, none; []; [BorrowedStr]; [&'a str]; [str 0 A0]);
host_fn!('a, 2, shim2; [A0, A1]; [A0, A1]; [A0, A1]; [own 0 A0, own 1 A1]);
host_fn!('a, 2, none; [A1]; [BorrowedStr, A1]; [&'a str, A1]; [str 0 A0, own 1 A1]);
host_fn!('a, 2, none; [A0]; [A0, BorrowedStr]; [A0, &'a str]; [own 0 A0, str 1 A1]);
host_fn!('a, 2, none; []; [BorrowedStr, BorrowedStr]; [&'a str, &'a str]; [str 0 A0, str 1 A1]);
host_fn!('a, 3, shim3; [A0, A1, A2]; [A0, A1, A2]; [A0, A1, A2]; [own 0 A0, own 1 A1, own 2 A2]);
host_fn!('a, 3, none; [A1, A2]; [BorrowedStr, A1, A2]; [&'a str, A1, A2]; [str 0 A0, own 1 A1, own 2 A2]);
host_fn!('a, 3, none; [A0, A2]; [A0, BorrowedStr, A2]; [A0, &'a str, A2]; [own 0 A0, str 1 A1, own 2 A2]);
host_fn!('a, 3, none; [A2]; [BorrowedStr, BorrowedStr, A2]; [&'a str, &'a str, A2]; [str 0 A0, str 1 A1, own 2 A2]);
host_fn!('a, 3, none; [A0, A1]; [A0, A1, BorrowedStr]; [A0, A1, &'a str]; [own 0 A0, own 1 A1, str 2 A2]);
host_fn!('a, 3, none; [A1]; [BorrowedStr, A1, BorrowedStr]; [&'a str, A1, &'a str]; [str 0 A0, own 1 A1, str 2 A2]);
host_fn!('a, 3, none; [A0]; [A0, BorrowedStr, BorrowedStr]; [A0, &'a str, &'a str]; [own 0 A0, str 1 A1, str 2 A2]);
host_fn!('a, 3, none; []; [BorrowedStr, BorrowedStr, BorrowedStr]; [&'a str, &'a str, &'a str]; [str 0 A0, str 1 A1, str 2 A2]);
host_fn!('a, 4, shim4; [A0, A1, A2, A3]; [A0, A1, A2, A3]; [A0, A1, A2, A3]; [own 0 A0, own 1 A1, own 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A1, A2, A3]; [BorrowedStr, A1, A2, A3]; [&'a str, A1, A2, A3]; [str 0 A0, own 1 A1, own 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A0, A2, A3]; [A0, BorrowedStr, A2, A3]; [A0, &'a str, A2, A3]; [own 0 A0, str 1 A1, own 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A2, A3]; [BorrowedStr, BorrowedStr, A2, A3]; [&'a str, &'a str, A2, A3]; [str 0 A0, str 1 A1, own 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A0, A1, A3]; [A0, A1, BorrowedStr, A3]; [A0, A1, &'a str, A3]; [own 0 A0, own 1 A1, str 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A1, A3]; [BorrowedStr, A1, BorrowedStr, A3]; [&'a str, A1, &'a str, A3]; [str 0 A0, own 1 A1, str 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A0, A3]; [A0, BorrowedStr, BorrowedStr, A3]; [A0, &'a str, &'a str, A3]; [own 0 A0, str 1 A1, str 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A3]; [BorrowedStr, BorrowedStr, BorrowedStr, A3]; [&'a str, &'a str, &'a str, A3]; [str 0 A0, str 1 A1, str 2 A2, own 3 A3]);
host_fn!('a, 4, none; [A0, A1, A2]; [A0, A1, A2, BorrowedStr]; [A0, A1, A2, &'a str]; [own 0 A0, own 1 A1, own 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A1, A2]; [BorrowedStr, A1, A2, BorrowedStr]; [&'a str, A1, A2, &'a str]; [str 0 A0, own 1 A1, own 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A0, A2]; [A0, BorrowedStr, A2, BorrowedStr]; [A0, &'a str, A2, &'a str]; [own 0 A0, str 1 A1, own 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A2]; [BorrowedStr, BorrowedStr, A2, BorrowedStr]; [&'a str, &'a str, A2, &'a str]; [str 0 A0, str 1 A1, own 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A0, A1]; [A0, A1, BorrowedStr, BorrowedStr]; [A0, A1, &'a str, &'a str]; [own 0 A0, own 1 A1, str 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A1]; [BorrowedStr, A1, BorrowedStr, BorrowedStr]; [&'a str, A1, &'a str, &'a str]; [str 0 A0, own 1 A1, str 2 A2, str 3 A3]);
host_fn!('a, 4, none; [A0]; [A0, BorrowedStr, BorrowedStr, BorrowedStr]; [A0, &'a str, &'a str, &'a str]; [own 0 A0, str 1 A1, str 2 A2, str 3 A3]);
host_fn!('a, 4, none; []; [BorrowedStr, BorrowedStr, BorrowedStr, BorrowedStr]; [&'a str, &'a str, &'a str, &'a str]; [str 0 A0, str 1 A1, str 2 A2, str 3 A3]);

impl Engine {
    /// Makes a Rust closure or `fn` callable from PL-GRIZZLY as `name`, like a
    /// builtin. It takes up to four [`HostArg`]s or `&str`s and returns a
    /// [`HostRet`]; a call with
    /// the wrong number of arguments or an argument of the wrong type is the
    /// language's error, never a panic. Its `Err` is the runtime error `host error:
    /// <message>` (`ErrorKind::Host`), which `TRY` catches, and so is a panic (`host
    /// error: panicked: <message>`; the panic does not unwind through the engine).
    ///
    /// Host functions must be pure: deterministic, without side effects. A call that
    /// compiled code deoptimizes is run again by the interpreter. An interrupt or a
    /// deadline stops the run at its next check after the host function returns: it
    /// does not stop Rust code.
    ///
    /// Fails (`ErrorKind::Usage`) when `name` is not a name, is a builtin or a host
    /// function already, or is the name of a function defined or called in the engine
    /// (register host functions before the functions that call them).
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind, Value};
    /// let mut engine = Engine::new();
    /// engine.register_fn("clamp", |x: i64, lo: i64, hi: i64| x.max(lo).min(hi)).unwrap();
    /// engine.register_fn("parse_pct", |s: &str| {
    ///     s.trim_end_matches('%').parse::<f64>().map(|p| p / 100.0)
    /// }).unwrap();
    /// engine.run("FUNCTION score(x) => clamp(x * 2, 0, 10)").unwrap();
    /// assert_eq!(engine.call("score", &[Value::Int(7)]).unwrap(), Value::Int(10));
    /// assert_eq!(engine.run(r#"parse_pct("25%")"#).unwrap(), [Value::Float(0.25)]);
    /// let err = engine.run(r#"parse_pct("lots")"#).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Host);
    /// assert_eq!(err.message(), "host error: invalid float literal");
    /// assert_eq!(engine.run(r#"TRY parse_pct("lots") CATCH 0.0"#).unwrap(), [Value::Float(0.0)]);
    /// assert_eq!(engine.register_fn("abs", |x: i64| x).unwrap_err().kind(), ErrorKind::Usage);
    /// ```
    pub fn register_fn<Args, F: HostFn<Args>>(&mut self, name: &str, f: F) -> Result<()> {
        let usage = |m: String| Err(Error::new(ErrorKind::Usage, m));
        // A name is what the lexer reads as one identifier (not a keyword).
        let lexed = crate::syntax::lexer::lex(name);
        let is_name = lexed.errors.is_empty()
            && matches!(lexed.tokens[..], [(crate::syntax::token::Token::Ident(w), _)] if w == name);
        if !is_name {
            return usage(format!("'{name}' is not a function name"));
        }
        if crate::builtins::Builtin::from_name(name).is_some() {
            return usage(format!("'{name}' is a builtin function"));
        }
        if self.host_ids.contains_key(name) {
            return usage(format!("host function '{name}' is already registered"));
        }
        if self.ids.contains_key(name) {
            return usage(format!(
                "'{name}' is already the name of a function defined or called in this engine"
            ));
        }
        let name: Arc<str> = Arc::from(name);
        let shim_name = name.clone();
        let f = Arc::new(f);
        // The entry's data: `f`, which `call` keeps alive as long as the host function.
        let native = F::native().map(|sig| NativeHost {
            params: sig.params,
            ret: sig.ret,
            entry: sig.entry,
            data: Arc::as_ptr(&f) as usize,
        });
        let call = Box::new(move |args: &[&Value]| f.call_with(&shim_name, args));
        let id = self.hosts.len() as u32;
        self.hosts.push(Arc::new(HostFunction::new(
            name.clone(),
            F::ARITY,
            call,
            native,
        )));
        self.host_ids.insert(name, id);
        Ok(())
    }
}
