//! The Rust types typed handles pass: [`NativeArg`] for an argument, [`NativeType`]
//! for a result (and an argument), [`NativeArgs`] for an argument list (and its
//! columns, for batch calls).
//!
//! `i64`, `f64` and `bool` cross as machine words. The others (`&str`, `String`,
//! `Option<_>`, [`Value`]) cross as generic values: compiled code takes them by
//! address and gives a generic result back whole.

use crate::value::{Text, Value, ValueType};

pub(crate) mod sealed {
    use crate::value::ValueType;

    /// How an argument crosses into compiled code.
    pub trait Arg {
        /// The machine type it is passed as, or `None`: a generic value, by address.
        const MACHINE: Option<ValueType>;
        /// Its bits (machine types only; 0 for the others).
        fn bits(&self) -> u64;
    }

    /// How a result comes back from compiled code.
    pub trait Ret: Sized {
        /// The result from the bits of a compiled result of machine type `t`, `None`
        /// when a `t` is not one of these.
        fn from_bits(t: ValueType, bits: u64) -> Option<Self>;
        /// Whether it is [`Value`](crate::Value) itself (only `Value` says so): then
        /// generic values compiled code returns are results as they are.
        const IS_VALUE: bool = false;
    }

    /// How an argument list crosses into compiled code.
    pub trait Args {
        /// Per argument, its machine type or `None` (see [`Arg::MACHINE`]).
        const MACHINE: &'static [Option<ValueType>];
        /// Per argument, its type's name.
        const NAMES: &'static [&'static str];
        /// Whether every argument is a machine word.
        const WORDS: bool;
        /// Whether a slice of each argument is a slice of machine words.
        const WORD_COLUMNS: bool;
        type Words: AsRef<[u64]> + AsMut<[u64]>;
        type Pointers: AsRef<[*const u64]>;
        /// The arguments' bits (0 for generic ones).
        fn words(&self) -> Self::Words;
    }
}

/// A Rust type a typed handle passes to PL-GRIZZLY: `i64` (int), `f64` (float),
/// `bool`, `&str` and `String` (string), `Option<T>` of those (`None` is `null`), or
/// any [`Value`].
///
/// ```
/// use grizzly::{NativeArg, Value};
/// assert_eq!(true.to_value(), Value::Bool(true));
/// assert_eq!("héllo".to_value(), Value::from("héllo"));
/// assert_eq!(None::<i64>.to_value(), Value::Null);
/// assert_eq!(<Option<f64>>::NAME, "float or null");
/// ```
pub trait NativeArg: sealed::Arg + Clone {
    /// The PL-GRIZZLY type, as messages name it.
    const NAME: &'static str;
    /// As a [`Value`].
    fn to_value(&self) -> Value;
}

/// A Rust type a typed handle gives back from PL-GRIZZLY (and passes to it): `i64`,
/// `f64`, `bool`, `String`, `Option<T>` of those, or any [`Value`].
///
/// ```
/// use grizzly::{NativeType, Value};
/// assert_eq!(i64::from_value(&Value::Int(5)), Some(5));
/// assert_eq!(i64::from_value(&Value::Float(5.0)), None);
/// assert_eq!(String::from_value(&Value::from("é")), Some("é".to_string()));
/// assert_eq!(<Option<i64>>::from_value(&Value::Null), Some(None));
/// assert_eq!(<Option<i64>>::from_value(&Value::Bool(true)), None);
/// ```
pub trait NativeType: NativeArg + sealed::Ret {
    /// From a [`Value`] of this type, `None` when it is not one.
    fn from_value(value: &Value) -> Option<Self>;

    /// As [`from_value`](NativeType::from_value), taking the value (a [`Value`] is
    /// then moved, not cloned).
    ///
    /// ```
    /// use grizzly::{NativeType, Value};
    /// assert_eq!(Value::from_owned(Value::from("a")), Some(Value::from("a")));
    /// assert_eq!(i64::from_owned(Value::Null), None);
    /// ```
    fn from_owned(value: Value) -> Option<Self> {
        Self::from_value(&value)
    }
}

/// A machine-word type: its `Value` variant (one name), message name, bit conversions
/// and `Value`'s accessor.
macro_rules! word_type {
    ($t:ty, $variant:ident, $name:literal, $to_bits:expr, $from_bits:expr, $get:ident) => {
        impl sealed::Arg for $t {
            const MACHINE: Option<ValueType> = Some(ValueType::$variant);
            #[inline(always)]
            fn bits(&self) -> u64 {
                $to_bits(*self)
            }
        }
        impl sealed::Ret for $t {
            #[inline(always)]
            fn from_bits(t: ValueType, bits: u64) -> Option<$t> {
                (t == ValueType::$variant).then(|| $from_bits(bits))
            }
        }
        impl NativeArg for $t {
            const NAME: &'static str = $name;
            fn to_value(&self) -> Value {
                Value::$variant(*self)
            }
        }
        impl NativeType for $t {
            fn from_value(value: &Value) -> Option<$t> {
                value.$get()
            }
        }
        impl sealed::Arg for Option<$t> {
            const MACHINE: Option<ValueType> = None;
            fn bits(&self) -> u64 {
                0
            }
        }
        impl sealed::Ret for Option<$t> {
            fn from_bits(t: ValueType, bits: u64) -> Option<Option<$t>> {
                <$t as sealed::Ret>::from_bits(t, bits).map(Some)
            }
        }
        impl NativeArg for Option<$t> {
            const NAME: &'static str = concat!($name, " or null");
            fn to_value(&self) -> Value {
                self.as_ref().map_or(Value::Null, NativeArg::to_value)
            }
        }
        impl NativeType for Option<$t> {
            fn from_value(value: &Value) -> Option<Option<$t>> {
                match value {
                    Value::Null => Some(None),
                    v => v.$get().map(Some),
                }
            }
        }
    };
}

word_type!(
    i64,
    Int,
    "int",
    |v: i64| v as u64,
    |b: u64| b as i64,
    as_int
);
word_type!(f64, Float, "float", f64::to_bits, f64::from_bits, as_float);
word_type!(
    bool,
    Bool,
    "bool",
    |v: bool| v as u64,
    |b: u64| b != 0,
    as_bool
);

/// A generic (by address) argument type, and its `Option`.
macro_rules! generic_arg {
    ($t:ty, $name:literal, $to_value:expr) => {
        impl sealed::Arg for $t {
            const MACHINE: Option<ValueType> = None;
            fn bits(&self) -> u64 {
                0
            }
        }
        impl NativeArg for $t {
            const NAME: &'static str = $name;
            fn to_value(&self) -> Value {
                $to_value(self)
            }
        }
    };
}

generic_arg!(&str, "string", |s: &&str| Value::Str(Text::from(*s)));
generic_arg!(String, "string", |s: &String| Value::Str(Text::from(
    s.as_str()
)));
generic_arg!(Option<&str>, "string or null", |s: &Option<&str>| s
    .map_or(Value::Null, |s| Value::Str(Text::from(s))));
generic_arg!(Option<String>, "string or null", |s: &Option<String>| s
    .as_deref()
    .map_or(Value::Null, |s| Value::Str(Text::from(s))));
generic_arg!(Value, "any value", Value::clone);

/// No machine result is one of these: a compiled result comes back whole.
macro_rules! generic_ret {
    ($t:ty, |$v:ident| $from_value:expr) => {
        impl sealed::Ret for $t {
            fn from_bits(_: ValueType, _: u64) -> Option<$t> {
                None
            }
        }
        impl NativeType for $t {
            fn from_value($v: &Value) -> Option<$t> {
                $from_value
            }
        }
    };
}

generic_ret!(String, |v| v.as_str().map(str::to_string));
generic_ret!(Option<String>, |v| match v {
    Value::Null => Some(None),
    v => v.as_str().map(|t| Some(t.to_string())),
});

impl sealed::Ret for Value {
    const IS_VALUE: bool = true;
    fn from_bits(t: ValueType, bits: u64) -> Option<Value> {
        Some(match t {
            ValueType::Int => Value::Int(bits as i64),
            ValueType::Float => Value::Float(f64::from_bits(bits)),
            ValueType::Bool => Value::Bool(bits != 0),
            ValueType::Str | ValueType::Null => return None,
        })
    }
}
impl NativeType for Value {
    fn from_value(value: &Value) -> Option<Value> {
        Some(value.clone())
    }
    fn from_owned(value: Value) -> Option<Value> {
        Some(value)
    }
}

/// The argument list of a typed handle: `()` or a tuple of up to eight
/// [`NativeArg`]s, e.g. `(i64, &str)`. A one-argument function takes `(i64,)`.
///
/// ```
/// use grizzly::{NativeArgs, Value};
/// assert_eq!((2.5, 1).to_values(), [Value::Float(2.5), Value::Int(1)]);
/// assert_eq!(("a", None::<i64>).to_values(), [Value::from("a"), Value::Null]);
/// ```
///
/// Its [`Columns`](NativeArgs::Columns) are the same tuple with a slice in each place,
/// e.g. `(&[i64], &[Option<f64>])`, for
/// [`TypedFunc::call_batch`](super::TypedFunc::call_batch).
pub trait NativeArgs: sealed::Args + Clone {
    /// The number of arguments.
    const COUNT: usize;
    /// One slice per argument: row `i` is the arguments `(a[i], b[i], ...)`.
    type Columns<'a>: Copy
    where
        Self: 'a;
    /// As [`Value`]s.
    fn to_values(&self) -> Vec<Value>;
    /// The number of rows, `None` unless there is a column and all have the same length.
    fn rows<'a>(columns: Self::Columns<'a>) -> Option<usize>
    where
        Self: 'a;
    /// Row `i` (which must exist), cloned.
    fn row<'a>(columns: Self::Columns<'a>, i: usize) -> Self
    where
        Self: 'a;
    /// Rows `from..to` of each column (a range of the rows).
    fn slice<'a>(columns: Self::Columns<'a>, from: usize, to: usize) -> Self::Columns<'a>
    where
        Self: 'a;
    /// The address of row `from` of each column (at most the number of rows), for
    /// code that reads columns in place.
    fn column_addresses<'a>(columns: Self::Columns<'a>, from: usize) -> Self::Pointers
    where
        Self: 'a;
}

macro_rules! native_args {
    ($n:literal; $($t:ident $i:tt),*) => {
        impl<$($t: NativeArg),*> sealed::Args for ($($t,)*) {
            const MACHINE: &'static [Option<ValueType>] = &[$($t::MACHINE),*];
            const NAMES: &'static [&'static str] = &[$($t::NAME),*];
            const WORDS: bool = true $(&& $t::MACHINE.is_some())*;
            // `i64` and `f64`: 8 bytes, the alignment of `u64` (a `bool` is one byte).
            const WORD_COLUMNS: bool =
                true $(&& matches!($t::MACHINE, Some(ValueType::Int | ValueType::Float)))*;
            type Words = [u64; $n];
            type Pointers = [*const u64; $n];
            #[inline(always)]
            fn words(&self) -> [u64; $n] {
                [$(self.$i.bits()),*]
            }
        }
        impl<$($t: NativeArg),*> NativeArgs for ($($t,)*) {
            const COUNT: usize = $n;
            type Columns<'a> = ($(&'a [$t],)*) where Self: 'a;
            fn to_values(&self) -> Vec<Value> {
                vec![$(self.$i.to_value()),*]
            }
            #[allow(unused_variables)]
            fn rows<'a>(columns: Self::Columns<'a>) -> Option<usize> where Self: 'a {
                let lengths: [usize; $n] = [$(columns.$i.len()),*];
                let first = *lengths.first()?;
                lengths.iter().all(|&l| l == first).then_some(first)
            }
            #[allow(unused_variables, clippy::unused_unit)]
            #[inline]
            fn row<'a>(columns: Self::Columns<'a>, i: usize) -> Self where Self: 'a {
                ($(columns.$i[i].clone(),)*)
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn slice<'a>(columns: Self::Columns<'a>, from: usize, to: usize) -> Self::Columns<'a>
            where
                Self: 'a,
            {
                ($(&columns.$i[from..to],)*)
            }
            #[allow(unused_variables)]
            fn column_addresses<'a>(columns: Self::Columns<'a>, from: usize) -> [*const u64; $n]
            where
                Self: 'a,
            {
                [$(columns.$i[from..].as_ptr() as *const u64),*]
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
