//! Typed handles: a PL-GRIZZLY function called from Rust with Rust argument and result
//! types, straight into its compiled code (as wasmtime's `TypedFunc`).
//!
//! A handle remembers the function and the specialization compiled for its argument
//! types. A call checks that the specialization is still live (one load and two
//! compares) and enters it through the trampoline with the arguments as machine words.
//! When it deoptimizes, or is gone (the function was redefined, `jit clear`), the call
//! runs in the interpreter exactly as [`Engine::call`] would, so the result or the
//! error is always the interpreter's; a gone specialization is looked up or compiled
//! again at that call.

use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::resolve::FuncId;
use crate::value::{Value, ValueType};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that passes to and from PL-GRIZZLY as a value: `i64` (int), `f64`
/// (float) or `bool`.
pub trait NativeType: Copy + sealed::Sealed + 'static {
    /// The PL-GRIZZLY type.
    const TYPE: ValueType;
    #[doc(hidden)]
    fn to_bits(self) -> u64;
    #[doc(hidden)]
    fn from_bits(bits: u64) -> Self;
    /// As a [`Value`].
    fn to_value(self) -> Value;
    /// From a [`Value`] of exactly this type.
    fn from_value(value: &Value) -> Option<Self>;
}

impl sealed::Sealed for i64 {}
impl NativeType for i64 {
    const TYPE: ValueType = ValueType::Int;
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn from_bits(bits: u64) -> i64 {
        bits as i64
    }
    fn to_value(self) -> Value {
        Value::Int(self)
    }
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl sealed::Sealed for f64 {}
impl NativeType for f64 {
    const TYPE: ValueType = ValueType::Float;
    fn to_bits(self) -> u64 {
        self.to_bits()
    }
    fn from_bits(bits: u64) -> f64 {
        f64::from_bits(bits)
    }
    fn to_value(self) -> Value {
        Value::Float(self)
    }
    fn from_value(value: &Value) -> Option<f64> {
        match value {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl sealed::Sealed for bool {}
impl NativeType for bool {
    const TYPE: ValueType = ValueType::Bool;
    fn to_bits(self) -> u64 {
        self as u64
    }
    fn from_bits(bits: u64) -> bool {
        bits != 0
    }
    fn to_value(self) -> Value {
        Value::Bool(self)
    }
    fn from_value(value: &Value) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// The argument list of a typed handle: `()` or a tuple of up to eight
/// [`NativeType`]s, e.g. `(i64, f64)`. A one-argument function takes `(i64,)`.
pub trait NativeArgs: Copy + sealed::Sealed + 'static {
    /// The PL-GRIZZLY types, in order.
    const TYPES: &'static [ValueType];
    #[doc(hidden)]
    type Words: AsRef<[u64]>;
    #[doc(hidden)]
    fn to_words(self) -> Self::Words;
    /// As [`Value`]s.
    fn to_values(self) -> Vec<Value>;
}

macro_rules! native_args {
    ($n:literal; $($t:ident $i:tt),*) => {
        impl<$($t: NativeType),*> sealed::Sealed for ($($t,)*) {}
        impl<$($t: NativeType),*> NativeArgs for ($($t,)*) {
            const TYPES: &'static [ValueType] = &[$($t::TYPE),*];
            type Words = [u64; $n];
            #[inline]
            fn to_words(self) -> [u64; $n] {
                [$(self.$i.to_bits()),*]
            }
            fn to_values(self) -> Vec<Value> {
                vec![$(self.$i.to_value()),*]
            }
        }
    };
}

native_args!(0;);
native_args!(1; A 0);
native_args!(2; A 0, B 1);
native_args!(3; A 0, B 1, C 2);
native_args!(4; A 0, B 1, C 2, D 3);
native_args!(5; A 0, B 1, C 2, D 3, E 4);
native_args!(6; A 0, B 1, C 2, D 3, E 4, F 5);
native_args!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
native_args!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// No specialization cached.
const NO_SPEC: u64 = u64::MAX;

/// A handle on a function of one [`Engine`], called with Rust types: made by
/// [`Engine::typed`], called with [`TypedFunc::call`].
///
/// ```
/// use grizzly::Engine;
/// let mut engine = Engine::new();
/// engine.run("FUNCTION add(x, y) => x + y").unwrap();
/// let add = engine.typed::<(i64, i64), i64>("add").unwrap();
/// assert_eq!(add.call(&mut engine, (1, 2)).unwrap(), 3);
/// // Errors are the interpreter's.
/// let err = add.call(&mut engine, (i64::MAX, 1)).unwrap_err();
/// assert_eq!(err.message(), "integer overflow");
/// ```
pub struct TypedFunc<A, R> {
    engine: u64,
    id: FuncId,
    name: Arc<str>,
    /// The live specialization for `A` returning `R` (a packed `TypedSpec`), or `NO_SPEC`.
    spec: AtomicU64,
    types: PhantomData<fn(A) -> R>,
}

impl<A, R> std::fmt::Debug for TypedFunc<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("name", &self.name)
            .field("compiled", &(self.spec.load(Ordering::Relaxed) != NO_SPEC))
            .finish()
    }
}

fn type_list(types: &[ValueType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    names.join(", ")
}

impl Engine {
    /// A typed handle on the function `name`, taking `A` (a tuple) and returning `R`.
    ///
    /// Checks that the function exists and takes `A::TYPES.len()` arguments, and
    /// compiles its specialization for those types now (when the JIT is on and can
    /// compile it). If that specialization returns another type than `R`, making the
    /// handle is a type error; where that cannot be known in advance (the function is
    /// not compiled), a call whose result is not an `R` is a type error.
    pub fn typed<A: NativeArgs, R: NativeType>(&mut self, name: &str) -> Result<TypedFunc<A, R>> {
        let unknown = || {
            Error::new(
                ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            )
        };
        let id = *self.ids.get(name).ok_or_else(unknown)?;
        let f = self.functions[id.0 as usize].as_ref().ok_or_else(unknown)?;
        if A::TYPES.len() != f.code.params {
            return Err(Error::new(
                ErrorKind::WrongArgumentCount,
                format!(
                    "wrong number of arguments: '{name}' expects {}, got {}",
                    f.code.params,
                    A::TYPES.len()
                ),
            ));
        }
        let handle = TypedFunc {
            engine: self.serial,
            id,
            name: Arc::clone(&self.names[id.0 as usize]),
            spec: AtomicU64::new(NO_SPEC),
            types: PhantomData,
        };
        if let Some(ret) = handle.refresh(self) {
            if ret != R::TYPE {
                return Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "type error: '{name}' returns {} for ({}), not {}",
                        ret.name(),
                        type_list(A::TYPES),
                        R::TYPE.name()
                    ),
                ));
            }
        }
        Ok(handle)
    }
}

impl<A: NativeArgs, R: NativeType> TypedFunc<A, R> {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls the function with `args` in `engine` (the engine that made the handle).
    #[inline]
    pub fn call(&self, engine: &mut Engine, args: A) -> Result<R> {
        #[cfg(feature = "jit")]
        {
            let packed = self.spec.load(Ordering::Relaxed);
            let options = &engine.options;
            if packed != NO_SPEC
                && engine.serial == self.engine
                && options.max_depth >= 1
                && options.jit != super::JitMode::Off
            {
                let spec = crate::jit::TypedSpec::unpack(packed);
                if !engine.jit.is_current(spec) {
                    return self.call_revalidated(engine, spec, args);
                }
                let max_depth = options.max_depth;
                let words = args.to_words();
                if let Some(bits) =
                    engine
                        .jit
                        .run_typed(&mut engine.profiles, spec, words.as_ref(), max_depth)
                {
                    return Ok(R::from_bits(bits));
                }
            }
        }
        self.call_interpreted(engine, args)
    }

    /// A call after some specialization was discarded: this handle's may still be live.
    #[cfg(feature = "jit")]
    #[cold]
    fn call_revalidated(
        &self,
        engine: &mut Engine,
        spec: crate::jit::TypedSpec,
        args: A,
    ) -> Result<R> {
        match engine.jit.revalidate(spec, self.id.0, A::TYPES) {
            Some(current) => self.spec.store(current.pack(), Ordering::Relaxed),
            None => self.spec.store(NO_SPEC, Ordering::Relaxed),
        }
        self.call(engine, args)
    }

    /// The call as [`Engine::call`] makes it, then the result's type checked.
    #[cold]
    fn call_interpreted(&self, engine: &mut Engine, args: A) -> Result<R> {
        if engine.serial != self.engine {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("the handle on '{}' belongs to another engine", self.name),
            ));
        }
        let value = engine.call_id(self.id, &self.name, &args.to_values())?;
        if self.spec.load(Ordering::Relaxed) == NO_SPEC {
            // Redefined or dropped: compile again for next time (a refusal is remembered
            // by the JIT, so this costs a lookup on later calls).
            let _ = self.refresh(engine);
        }
        R::from_value(&value).ok_or_else(|| {
            Error::new(
                ErrorKind::Type,
                format!(
                    "type error: '{}' returned {}, not {}",
                    self.name,
                    value.ty().name(),
                    R::TYPE.name()
                ),
            )
        })
    }

    /// Finds or compiles the specialization for `A` and caches it; its result type.
    fn refresh(&self, engine: &mut Engine) -> Option<ValueType> {
        #[cfg(feature = "jit")]
        if engine.options.jit != super::JitMode::Off {
            if engine.functions.get(self.id.0 as usize)?.is_none() {
                return None;
            }
            let program = crate::interp::tier::Program {
                functions: &engine.functions,
                names: &engine.names,
                profiles: &mut engine.profiles,
                max_depth: engine.options.max_depth,
            };
            if let Ok((spec, Some(ret))) = engine.jit.typed_spec(program, self.id.0, A::TYPES) {
                if ret == R::TYPE {
                    self.spec.store(spec.pack(), Ordering::Relaxed);
                }
                return Some(ret);
            }
        }
        let _ = engine;
        None
    }
}
