//! Run-time values.

use crate::error::{Error, ErrorKind};
use std::fmt;
use std::mem::MaybeUninit;
use triomphe::{Arc, HeaderSlice, HeaderWithLength, ThinArc, UniqueArc};

/// A PL-GRIZZLY value.
///
/// Floats compare by IEEE rules in the language; `PartialEq` here is structural
/// (used by tests and the API) and treats every NaN as equal to every NaN and
/// `0.0` as different from `-0.0`, so that "same value" means "same bits or both NaN".
///
/// Rust values convert with `From` (`i64`, `f64`, `bool`, strings, and `Option`
/// for null) and back with `TryFrom` (a type error names both types):
///
/// ```
/// use grizzly::Value;
/// let v = Value::from(42);
/// assert_eq!(i64::try_from(&v).unwrap(), 42);
/// assert_eq!(f64::try_from(v).unwrap_err().message(), "type error: expected float, got int");
/// assert_eq!(Value::from(None::<i64>), Value::Null);
/// assert_eq!(String::try_from(Value::from("hi")).unwrap(), "hi");
/// assert_eq!(Value::Float(2.5).to_string(), "2.5");
/// ```
// `repr(C, u8)`: a tag byte (the variant's index) at offset 0 and the payload at 8,
// which compiled code reads for its inline fast paths (`jit/values.rs`, `LAYOUT`).
#[derive(Clone, Debug, Default)]
#[repr(C, u8)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer (arithmetic overflow is an error, never a wrap).
    Int(i64),
    /// A 64-bit IEEE float.
    Float(f64),
    /// A string.
    Str(Text),
}

/// An immutable, shared string: one pointer wide, so that a [`Value`] is 16 bytes, and
/// one allocation holding the reference count, the byte length, the character count
/// (so that `len` is O(1)) and the bytes.
///
/// ```
/// use grizzly::{Text, Value};
/// let t = Text::from(String::from("héllo"));
/// assert_eq!(t.len(), 6, "derefs to str");
/// assert_eq!(t.char_count(), 5);
/// assert_eq!(Value::Str(t), Value::str("héllo"));
/// ```
#[derive(Clone)]
pub struct Text(ThinArc<usize, u8>);

impl Text {
    /// The string.
    ///
    /// ```
    /// let t = grizzly::Text::from("abc");
    /// assert_eq!(t.as_str(), "abc");
    /// ```
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes were copied from `str`s (see the constructors), whole.
        unsafe { std::str::from_utf8_unchecked(&self.0.slice) }
    }

    /// Its length in characters (Unicode scalar values), as `len` counts them.
    ///
    /// ```
    /// assert_eq!(grizzly::Text::from("día").char_count(), 3);
    /// ```
    pub fn char_count(&self) -> usize {
        self.0.header.header
    }

    /// What `value` displays as (one allocation: the text is formatted into a buffer
    /// the thread keeps).
    ///
    /// ```
    /// assert_eq!(grizzly::Text::display(&-12).as_str(), "-12");
    /// ```
    pub fn display(value: &dyn fmt::Display) -> Text {
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => {
                use fmt::Write;
                buf.clear();
                let _ = write!(buf, "{value}");
                let text = Text::from(buf.as_str());
                // Do not keep a huge buffer for ever.
                if buf.capacity() > 4096 {
                    *buf = String::new();
                }
                text
            }
            // Formatting `value` formatted a text itself: no buffer to share.
            Err(_) => Text::from(value.to_string()),
        })
    }

    /// `a` followed by `b`, in one allocation.
    ///
    /// ```
    /// let t = grizzly::Text::concat(&"ab".into(), &"çd".into());
    /// assert_eq!((t.as_str(), t.char_count()), ("abçd", 4));
    /// ```
    pub fn concat(a: &Text, b: &Text) -> Text {
        let len = a.len() + b.len();
        let header = HeaderWithLength::new(a.char_count() + b.char_count(), len);
        let mut text = UniqueArc::<HeaderSlice<_, [MaybeUninit<u8>]>>::from_header_and_uninit_slice(
            header, len,
        );
        let dst = text.slice.as_mut_ptr().cast::<u8>();
        // SAFETY: `dst` has room for `len` = `a.len() + b.len()` bytes, fresh (no overlap).
        unsafe {
            std::ptr::copy_nonoverlapping(a.as_ptr(), dst, a.len());
            std::ptr::copy_nonoverlapping(b.as_ptr(), dst.add(a.len()), b.len());
        }
        // SAFETY: all `len` bytes were written above.
        let text = unsafe { text.assume_init_slice_with_header() };
        Text(Arc::into_thin(text.shareable()))
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Text {
    /// An ASCII text: its character count is its length, no scan.
    pub(crate) fn ascii(s: &str) -> Text {
        debug_assert!(s.is_ascii());
        Text(ThinArc::from_header_and_slice(s.len(), s.as_bytes()))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(ThinArc::from_header_and_slice(
            s.chars().count(),
            s.as_bytes(),
        ))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

/// The kind of a value, as the profiler records it and messages name it.
///
/// ```
/// use grizzly::{Value, ValueType};
/// assert_eq!(Value::Float(1.0).ty(), ValueType::Float);
/// assert_eq!(ValueType::Str.name(), "string");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// The type of `null`.
    Null = 0,
    /// `bool`.
    Bool = 1,
    /// `int`.
    Int = 2,
    /// `float`.
    Float = 3,
    /// `string`.
    Str = 4,
}

impl ValueType {
    /// Every type, in tag order.
    pub const ALL: [ValueType; 5] = [
        ValueType::Null,
        ValueType::Bool,
        ValueType::Int,
        ValueType::Float,
        ValueType::Str,
    ];

    /// The name messages use.
    ///
    /// ```
    /// assert_eq!(grizzly::ValueType::Int.name(), "int");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Bool => "bool",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Str => "string",
        }
    }
}

impl ValueType {
    /// Whether a value of this type passes annotation `ty` unchanged.
    #[inline]
    pub(crate) fn is(self, ty: crate::syntax::ast::TypeName) -> bool {
        use crate::syntax::ast::TypeName as T;
        matches!(
            (self, ty),
            (ValueType::Int, T::Int | T::Number)
                | (ValueType::Float, T::Float | T::Number)
                | (ValueType::Bool, T::Bool)
                | (ValueType::Str, T::Str)
                | (ValueType::Null, _)
        )
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    /// The value's type.
    ///
    /// ```
    /// assert_eq!(grizzly::Value::Null.ty(), grizzly::ValueType::Null);
    /// ```
    pub fn ty(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Int(_) => ValueType::Int,
            Value::Float(_) => ValueType::Float,
            Value::Str(_) => ValueType::Str,
        }
    }

    /// A string value.
    ///
    /// ```
    /// assert_eq!(grizzly::Value::str("a").to_string(), "a");
    /// ```
    pub fn str(s: &str) -> Value {
        Value::Str(Text::from(s))
    }

    /// Whether the value is `null`.
    ///
    /// ```
    /// assert!(grizzly::Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The integer, if the value is one.
    ///
    /// ```
    /// use grizzly::Value;
    /// assert_eq!(Value::Int(3).as_int(), Some(3));
    /// assert_eq!(Value::Float(3.0).as_int(), None);
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if the value is one.
    ///
    /// ```
    /// assert_eq!(grizzly::Value::Float(0.5).as_float(), Some(0.5));
    /// ```
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The bool, if the value is one.
    ///
    /// ```
    /// assert_eq!(grizzly::Value::Bool(true).as_bool(), Some(true));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, if the value is one.
    ///
    /// ```
    /// assert_eq!(grizzly::Value::str("x").as_str(), Some("x"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => {
                (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// Prints a value the way the language prints it (contract section 7).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::str(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(Text::from(v))
    }
}
impl From<Text> for Value {
    fn from(v: Text) -> Value {
        Value::Str(v)
    }
}
/// `None` is `null`.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

fn expected(want: ValueType, got: &Value) -> Error {
    Error::new(
        ErrorKind::Type,
        format!(
            "type error: expected {}, got {}",
            want.name(),
            got.ty().name()
        ),
    )
}

macro_rules! try_from_value {
    ($t:ty, $ty:expr, $get:expr) => {
        impl TryFrom<&Value> for $t {
            type Error = Error;
            fn try_from(v: &Value) -> Result<$t, Error> {
                $get(v).ok_or_else(|| expected($ty, v))
            }
        }
        impl TryFrom<Value> for $t {
            type Error = Error;
            fn try_from(v: Value) -> Result<$t, Error> {
                <$t>::try_from(&v)
            }
        }
    };
}

try_from_value!(i64, ValueType::Int, Value::as_int);
try_from_value!(f64, ValueType::Float, Value::as_float);
try_from_value!(bool, ValueType::Bool, Value::as_bool);
try_from_value!(String, ValueType::Str, |v: &Value| v
    .as_str()
    .map(str::to_string));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_two_words() {
        // The interpreter's registers are values: growing them costs every op.
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn structural_equality_treats_nans_alike_and_zeros_apart() {
        assert_eq!(Value::Float(f64::NAN), Value::Float(-f64::NAN));
        assert_ne!(Value::Float(0.0), Value::Float(-0.0));
        assert_ne!(Value::Int(1), Value::Float(1.0));
        assert_eq!(Value::str("a"), Value::from(String::from("a")));
        assert_eq!(Value::str("q\"").to_string(), "q\"");
        assert_eq!(format!("{:?}", Value::str("q")), "Str(\"q\")");
    }

    #[test]
    fn conversions_go_both_ways_and_name_the_types_on_failure() {
        assert_eq!(i64::try_from(Value::from(-7)).unwrap(), -7);
        assert_eq!(f64::try_from(&Value::from(0.25)).unwrap(), 0.25);
        assert!(bool::try_from(Value::from(true)).unwrap());
        assert_eq!(String::try_from(Value::str("s")).unwrap(), "s");
        assert_eq!(Value::from(Some(1.5)), Value::Float(1.5));
        assert_eq!(Value::from(None::<bool>), Value::Null);
        let err = bool::try_from(Value::Null).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(err.message(), "type error: expected bool, got null");
        let err = String::try_from(&Value::Int(1)).unwrap_err();
        assert_eq!(err.message(), "type error: expected string, got int");
    }

    #[test]
    fn texts_compare_hash_and_count_by_their_characters() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        // Ordered by the string, not by the character count kept beside it.
        assert!(Text::from("aa") < Text::from("b"));
        assert!(Text::from("b") > Text::from("ab"));
        let hash = |t: &Text| {
            let mut h = DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        };
        let (a, b) = (
            Text::from("héllo"),
            Text::concat(&"hé".into(), &"llo".into()),
        );
        assert_eq!(a, b);
        assert_eq!(hash(&a), hash(&b));
        let long = Text::concat(&"wörld ".into(), &Text::from("ñ".repeat(5000)));
        assert_eq!((long.len(), long.char_count()), (7 + 10_000, 5006));
        let empty = Text::concat(&"".into(), &"".into());
        assert_eq!((empty.as_str(), empty.char_count()), ("", 0));
        assert_eq!(Text::concat(&empty, &"x".into()).as_str(), "x");
    }

    #[test]
    fn display_formats_any_length() {
        assert_eq!(Text::display(&1.5).as_str(), "1.5");
        let huge = Text::display(&1e300);
        assert_eq!(huge.as_str(), 1e300.to_string());
        assert_eq!(huge.char_count(), huge.len());
        assert_eq!(Text::display(&"ü").char_count(), 1);
        // A value whose display makes a text itself.
        struct Nested;
        impl fmt::Display for Nested {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&Text::display(&42))
            }
        }
        assert_eq!(Text::display(&Nested).as_str(), "42");
    }
}
