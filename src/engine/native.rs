//! The Rust types typed handles pass: [`NativeType`] for one value, [`NativeArgs`]
//! for an argument list (and its columns, for batch calls).

use crate::value::{Value, ValueType};

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A Rust type that passes to and from PL-GRIZZLY as a value: `i64` (int), `f64`
/// (float) or `bool`.
///
/// ```
/// use grizzly::{NativeType, Value, ValueType};
/// assert_eq!(f64::TYPE, ValueType::Float);
/// assert_eq!(true.to_value(), Value::Bool(true));
/// assert_eq!(i64::from_value(&Value::Int(5)), Some(5));
/// assert_eq!(i64::from_value(&Value::Float(5.0)), None);
/// ```
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
    /// Whether a slice of this type is a slice of machine words (compiled code
    /// reads such columns in place).
    #[doc(hidden)]
    const WORD: bool;
}

/// A [`NativeType`] impl: the type, its `ValueType` and `Value` variant (one name),
/// whether it is a machine word, its bit conversions, and `Value`'s accessor for it.
macro_rules! native_type {
    ($t:ty, $variant:ident, $word:expr, $to_bits:expr, $from_bits:expr, $get:ident) => {
        impl sealed::Sealed for $t {}
        impl NativeType for $t {
            const WORD: bool = $word;
            const TYPE: ValueType = ValueType::$variant;
            fn to_bits(self) -> u64 {
                $to_bits(self)
            }
            fn from_bits(bits: u64) -> $t {
                $from_bits(bits)
            }
            fn to_value(self) -> Value {
                Value::$variant(self)
            }
            fn from_value(value: &Value) -> Option<$t> {
                value.$get()
            }
        }
    };
}

native_type!(i64, Int, true, |v: i64| v as u64, |b: u64| b as i64, as_int);
native_type!(f64, Float, true, f64::to_bits, f64::from_bits, as_float);
native_type!(
    bool,
    Bool,
    false,
    |v: bool| v as u64,
    |b: u64| b != 0,
    as_bool
);

/// The argument list of a typed handle: `()` or a tuple of up to eight
/// [`NativeType`]s, e.g. `(i64, f64)`. A one-argument function takes `(i64,)`.
///
/// ```
/// use grizzly::{NativeArgs, Value, ValueType};
/// assert_eq!(<(i64, bool)>::TYPES, [ValueType::Int, ValueType::Bool]);
/// assert_eq!((2.5, 1).to_values(), [Value::Float(2.5), Value::Int(1)]);
/// ```
///
/// Its [`Columns`](NativeArgs::Columns) are the same tuple with a slice in each place,
/// e.g. `(&[i64], &[f64])`, for [`TypedFunc::call_batch`](super::TypedFunc::call_batch).
pub trait NativeArgs: Copy + sealed::Sealed + 'static {
    /// The PL-GRIZZLY types, in order.
    const TYPES: &'static [ValueType];
    /// One slice per argument: row `i` is the arguments `(a[i], b[i], ...)`.
    type Columns<'a>: Copy;
    #[doc(hidden)]
    type Words: AsRef<[u64]>;
    #[doc(hidden)]
    type Pointers: AsRef<[*const u64]>;
    #[doc(hidden)]
    fn to_words(self) -> Self::Words;
    /// As [`Value`]s.
    fn to_values(self) -> Vec<Value>;
    /// The number of rows, `None` unless there is a column and all have the same length.
    #[doc(hidden)]
    fn rows(columns: Self::Columns<'_>) -> Option<usize>;
    /// Row `i` (which must exist).
    #[doc(hidden)]
    fn row(columns: Self::Columns<'_>, i: usize) -> Self;
    /// The columns' addresses from row `from` on, when every column is of machine
    /// words (`from` is at most the number of rows).
    #[doc(hidden)]
    fn word_columns(columns: Self::Columns<'_>, from: usize) -> Option<Self::Pointers>;
}

macro_rules! native_args {
    ($n:literal; $($t:ident $i:tt),*) => {
        impl<$($t: NativeType),*> sealed::Sealed for ($($t,)*) {}
        impl<$($t: NativeType),*> NativeArgs for ($($t,)*) {
            const TYPES: &'static [ValueType] = &[$($t::TYPE),*];
            type Columns<'a> = ($(&'a [$t],)*);
            type Words = [u64; $n];
            type Pointers = [*const u64; $n];
            #[inline]
            fn to_words(self) -> [u64; $n] {
                [$(self.$i.to_bits()),*]
            }
            fn to_values(self) -> Vec<Value> {
                vec![$(self.$i.to_value()),*]
            }
            #[allow(unused_variables)]
            fn rows(columns: Self::Columns<'_>) -> Option<usize> {
                let lengths: [usize; $n] = [$(columns.$i.len()),*];
                let first = *lengths.first()?;
                lengths.iter().all(|&l| l == first).then_some(first)
            }
            #[allow(unused_variables, clippy::unused_unit)]
            #[inline]
            fn row(columns: Self::Columns<'_>, i: usize) -> Self {
                ($(columns.$i[i],)*)
            }
            #[allow(unused_variables)]
            fn word_columns(columns: Self::Columns<'_>, from: usize) -> Option<[*const u64; $n]> {
                // Word types are `i64` and `f64`: 8 bytes, the alignment of `u64`.
                (true $(&& $t::WORD)*).then(|| [$(columns.$i[from..].as_ptr() as *const u64),*])
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
