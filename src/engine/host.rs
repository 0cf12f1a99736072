//! Calling Rust from PL-GRIZZLY: [`Engine::register_fn`].

use super::native::NativeArg;
use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::interp::host::{host_error, HostFunction};
use crate::value::{Text, Value};
use std::fmt::Display;
use std::sync::Arc;

mod sealed {
    pub trait Arg {}
    pub trait Ret {}
}

/// A Rust type a host function takes: `i64`, `f64` (an int converts, as for a
/// `float` parameter), `bool`, `String` or [`Text`] (a string), `Option<T>` of those
/// (`None` for `null`), or any [`Value`].
pub trait HostArg: sealed::Arg + Sized {
    /// The PL-GRIZZLY type, as messages name it.
    const NAME: &'static str;
    /// From an argument, `None` when it is not of this type.
    fn from_arg(value: &Value) -> Option<Self>;
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
}

host_arg!(i64, "int", Value::as_int);
host_arg!(f64, "float", |v: &Value| match v {
    Value::Float(f) => Some(*f),
    Value::Int(i) => Some(*i as f64),
    _ => None,
});
host_arg!(bool, "bool", Value::as_bool);
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
}

impl<T: NativeArg> sealed::Ret for T {}
impl<T: NativeArg> HostRet for T {
    fn into_result(self) -> std::result::Result<Value, String> {
        Ok(self.to_value())
    }
}

impl<T: NativeArg, E: Display> sealed::Ret for std::result::Result<T, E> {}
impl<T: NativeArg, E: Display> HostRet for std::result::Result<T, E> {
    fn into_result(self) -> std::result::Result<Value, String> {
        self.map(|v| v.to_value()).map_err(|e| e.to_string())
    }
}

/// A Rust closure or `fn` of up to four [`HostArg`]s returning a [`HostRet`]: what
/// [`Engine::register_fn`] takes. `Args` is the tuple of its argument types.
pub trait HostFn<Args>: Send + Sync + 'static {
    /// How many arguments it takes (at most 4).
    const ARITY: usize;
    /// Calls it on `args` (`ARITY` of them), checking their types.
    #[doc(hidden)]
    fn call_with(&self, name: &str, args: &[&Value]) -> Result<Value>;
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
    ($n:literal $(, $a:ident $i:tt)*) => {
        impl<F, R $(, $a)*> HostFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: HostRet,
            $($a: HostArg,)*
        {
            const ARITY: usize = $n;
            #[allow(unused_variables)]
            fn call_with(&self, name: &str, args: &[&Value]) -> Result<Value> {
                let result = self($(
                    $a::from_arg(args[$i])
                        .ok_or_else(|| argument_error(name, $i, $a::NAME, args[$i]))?
                ),*);
                result.into_result().map_err(|message| host_error(&message))
            }
        }
    };
}

host_fn!(0);
host_fn!(1, A0 0);
host_fn!(2, A0 0, A1 1);
host_fn!(3, A0 0, A1 1, A2 2);
host_fn!(4, A0 0, A1 1, A2 2, A3 3);

impl Engine {
    /// Makes a Rust closure or `fn` callable from PL-GRIZZLY as `name`, like a
    /// builtin. It takes up to four [`HostArg`]s and returns a [`HostRet`]; a call with
    /// the wrong number of arguments or an argument of the wrong type is the
    /// language's error, never a panic. Its `Err` is the runtime error `host error:
    /// <message>` (`ErrorKind::Host`), which `TRY` catches, and so is a panic (`host
    /// error: panicked: <message>`; the panic does not unwind through the engine).
    ///
    /// Host functions must be pure: deterministic, without side effects. A call that
    /// compiled code deoptimizes is run again by the interpreter.
    ///
    /// Fails (`ErrorKind::Usage`) when `name` is not a name, is a builtin or a host
    /// function already, or is the name of a function defined or called in the engine
    /// (register host functions before the functions that call them).
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind, Value};
    /// let mut engine = Engine::new();
    /// engine.register_fn("clamp", |x: i64, lo: i64, hi: i64| x.max(lo).min(hi)).unwrap();
    /// engine.register_fn("parse_pct", |s: String| {
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
        let call = Box::new(move |args: &[&Value]| f.call_with(&shim_name, args));
        let id = self.hosts.len() as u32;
        self.hosts
            .push(Arc::new(HostFunction::new(name.clone(), F::ARITY, call)));
        self.host_ids.insert(name, id);
        Ok(())
    }
}
