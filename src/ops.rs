//! The language's value operations (contract section 5), used by the interpreter on
//! every path and by the JIT's deoptimization target. Messages are the ones
//! documented in docs/language.md.

use crate::error::{Error, ErrorKind};
use crate::syntax::ast::{BinaryOp, TypeName};
use crate::value::Value;

pub fn overflow() -> Error {
    Error::new(ErrorKind::IntegerOverflow, "integer overflow")
}

/// The longest string a program may build by default, in bytes (256 MiB). The
/// contract sets no limit; without one a string doubled 40 times asks for a terabyte
/// and the allocator aborts the host process, where a program should get an error it
/// can catch. `EngineBuilder::max_string_bytes` sets another.
pub const MAX_STRING_BYTES: usize = 1 << 28;

thread_local! {
    /// The limit of the engine running on this thread (every tier builds strings here,
    /// in `arith`, so that they agree by construction).
    static STRING_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_STRING_BYTES) };
}

/// The string limit on this thread.
pub fn string_limit() -> usize {
    STRING_LIMIT.with(std::cell::Cell::get)
}

/// Sets the string limit on this thread; returns the one it replaces.
pub fn set_string_limit(bytes: usize) -> usize {
    STRING_LIMIT.with(|limit| limit.replace(bytes))
}

pub fn string_too_long(bytes: usize, limit: usize) -> Error {
    Error::new(
        ErrorKind::StringTooLong,
        format!("string too long: {bytes} bytes, more than the limit of {limit}"),
    )
}

pub fn division_by_zero() -> Error {
    Error::new(ErrorKind::DivisionByZero, "division by zero")
}

pub fn type_error(message: String) -> Error {
    Error::new(ErrorKind::Type, format!("type error: {message}"))
}

fn operand_error(op: BinaryOp, a: &Value, b: &Value) -> Error {
    type_error(format!(
        "`{}` cannot be applied to {} and {}",
        op.symbol(),
        a.ty(),
        b.ty()
    ))
}

/// `+ - * / %` on any two values.
pub fn arith(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, Error> {
    use Value::{Float, Int};
    match (a, b) {
        (Int(x), Int(y)) => int_arith(op, *x, *y).map(Int),
        (Int(x), Float(y)) => Ok(Float(float_arith(op, *x as f64, *y))),
        (Float(x), Int(y)) => Ok(Float(float_arith(op, *x, *y as f64))),
        (Float(x), Float(y)) => Ok(Float(float_arith(op, *x, *y))),
        (Value::Str(x), Value::Str(y)) if op == BinaryOp::Add => {
            let bytes = x.len() + y.len();
            let limit = string_limit();
            if bytes > limit {
                return Err(string_too_long(bytes, limit));
            }
            Ok(Value::Str(crate::value::Text::concat(x, y)))
        }
        _ => Err(operand_error(op, a, b)),
    }
}

/// Integer arithmetic with the contract's overflow and division rules.
#[inline]
pub fn int_arith(op: BinaryOp, x: i64, y: i64) -> Result<i64, Error> {
    match op {
        BinaryOp::Add => x.checked_add(y).ok_or_else(overflow),
        BinaryOp::Sub => x.checked_sub(y).ok_or_else(overflow),
        BinaryOp::Mul => x.checked_mul(y).ok_or_else(overflow),
        BinaryOp::Div => {
            if y == 0 {
                Err(division_by_zero())
            } else {
                x.checked_div(y).ok_or_else(overflow)
            }
        }
        BinaryOp::Rem => {
            if y == 0 {
                Err(division_by_zero())
            } else {
                // MIN % -1 is 0, not an overflow.
                Ok(x.wrapping_rem(y))
            }
        }
        _ => unreachable!("int_arith called with a non-arithmetic operator"),
    }
}

/// `x / 2^shift`, truncating toward zero like `/` (shift 1 to 62: never overflows).
#[inline]
pub fn div_pow2(x: i64, shift: u8) -> i64 {
    // Negative dividends are biased by 2^shift - 1 so that the shift truncates toward zero.
    let bias = (x >> 63) as u64 >> (64 - shift as u32);
    (x + bias as i64) >> shift
}

/// `x % 2^shift` with the sign of the dividend, like `%`.
#[inline]
pub fn rem_pow2(x: i64, shift: u8) -> i64 {
    x - (div_pow2(x, shift) << shift)
}

pub fn float_arith(op: BinaryOp, x: f64, y: f64) -> f64 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Rem => x % y,
        _ => unreachable!("float_arith called with a non-arithmetic operator"),
    }
}

/// `==`: numbers by value (int converted to float when mixed), strings by content,
/// bools by value, null equals null, different kinds are unequal.
pub fn equal(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => x == y,
        (Int(x), Float(y)) => (*x as f64) == *y,
        (Float(x), Int(y)) => *x == (*y as f64),
        (Float(x), Float(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Null, Null) => true,
        _ => false,
    }
}

/// `< <= > >=` on numbers or two strings.
pub fn order(op: BinaryOp, a: &Value, b: &Value) -> Result<bool, Error> {
    use std::cmp::Ordering;
    use Value::*;
    let ord: Option<Ordering> = match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => return Err(operand_error(op, a, b)),
    };
    // NaN: no ordering, every comparison is false.
    Ok(match ord {
        None => false,
        Some(o) => match op {
            BinaryOp::Lt => o == Ordering::Less,
            BinaryOp::Le => o != Ordering::Greater,
            BinaryOp::Gt => o == Ordering::Greater,
            BinaryOp::Ge => o != Ordering::Less,
            _ => unreachable!("order called with a non-ordering operator"),
        },
    })
}

/// Any comparison operator (for the JIT's helpers; the interpreter calls `equal` and `order`).
#[cfg_attr(not(feature = "jit"), allow(dead_code))]
pub fn compare(op: BinaryOp, a: &Value, b: &Value) -> Result<bool, Error> {
    match op {
        BinaryOp::Eq => Ok(equal(a, b)),
        BinaryOp::Ne => Ok(!equal(a, b)),
        _ => order(op, a, b),
    }
}

pub fn negate(a: &Value) -> Result<Value, Error> {
    match a {
        Value::Int(x) => x.checked_neg().map(Value::Int).ok_or_else(overflow),
        Value::Float(x) => Ok(Value::Float(-x)),
        other => Err(type_error(format!(
            "`-` cannot be applied to {}",
            other.ty()
        ))),
    }
}

pub fn not(a: &Value) -> Result<Value, Error> {
    match a {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        other => Err(type_error(format!(
            "`NOT` expects bool, got {}",
            other.ty()
        ))),
    }
}

/// The error for a non-bool operand of `AND` / `OR` (`what` is the operator).
pub fn logic_error(what: &str, got: &Value) -> Error {
    type_error(format!("`{what}` expects bool, got {}", got.ty()))
}

pub fn condition_error(got: &Value) -> Error {
    type_error(format!("IF condition must be bool, got {}", got.ty()))
}

fn cast_error(v: &Value, target: TypeName) -> Error {
    let shown = match v {
        Value::Str(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    Error::new(
        ErrorKind::Cast,
        format!(
            "cast error: cannot cast {} {shown} to {}",
            v.ty(),
            target.name()
        ),
    )
}

/// `v AS target`.
pub fn cast(v: &Value, target: TypeName) -> Result<Value, Error> {
    use Value::*;
    let fail = || Err(cast_error(v, target));
    match (v, target) {
        (Null, _) => Ok(Null),
        (Int(_), TypeName::Int) | (Float(_), TypeName::Float) | (Bool(_), TypeName::Bool) => {
            Ok(v.clone())
        }
        (Float(f), TypeName::Int) => match float_to_int(*f) {
            Some(i) => Ok(Int(i)),
            None => fail(),
        },
        (Bool(b), TypeName::Int) => Ok(Int(*b as i64)),
        (Str(s), TypeName::Int) => match s.parse::<i64>() {
            // Rust accepts exactly an optional sign and decimal digits.
            Ok(i) => Ok(Int(i)),
            Err(_) => fail(),
        },
        (Int(i), TypeName::Float) => Ok(Float(*i as f64)),
        (Bool(b), TypeName::Float) => Ok(Float(if *b { 1.0 } else { 0.0 })),
        (Str(s), TypeName::Float) => match parse_float(s) {
            Some(f) => Ok(Float(f)),
            None => fail(),
        },
        (Str(s), TypeName::Bool) => match &**s {
            "true" => Ok(Bool(true)),
            "false" => Ok(Bool(false)),
            _ => fail(),
        },
        (_, TypeName::Str) => Ok(match v {
            Str(_) => v.clone(),
            // What `Display` writes, without `core::fmt`.
            Int(i) => Value::Str(crate::value::Text::ascii(itoa::Buffer::new().format(*i))),
            Bool(b) => Value::Str(crate::value::Text::ascii(if *b { "true" } else { "false" })),
            other => Value::Str(crate::value::Text::display(other)),
        }),
        _ => fail(),
    }
}

/// Truncates toward zero; `None` for NaN, infinities and values outside [-2^63, 2^63).
pub fn float_to_int(f: f64) -> Option<i64> {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// A float in the literal syntax with an optional sign, or exactly `inf`, `-inf`, `NaN`.
pub fn parse_float(s: &str) -> Option<f64> {
    match s {
        "inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Checks a value against a parameter or `RETURNS` annotation: the same type passes,
/// int passes `float` (converted), int or float pass `number`, null passes all.
pub fn annotate(v: &Value, ty: TypeName) -> Option<Value> {
    use Value::*;
    match (v, ty) {
        (Null, _)
        | (Int(_), TypeName::Int | TypeName::Number)
        | (Float(_), TypeName::Float | TypeName::Number)
        | (Bool(_), TypeName::Bool)
        | (Str(_), TypeName::Str) => Some(v.clone()),
        (Int(i), TypeName::Float) => Some(Float(*i as f64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_and_bools_cast_to_what_display_writes() {
        for i in [0, 7, -7, 10, 99, -100, i64::MAX, i64::MIN, 1_000_000_007] {
            let Ok(Value::Str(t)) = cast(&Value::Int(i), TypeName::Str) else {
                panic!("{i}");
            };
            assert_eq!(
                (t.as_str(), t.char_count()),
                (i.to_string().as_str(), t.len())
            );
        }
        for b in [true, false] {
            let Ok(Value::Str(t)) = cast(&Value::Bool(b), TypeName::Str) else {
                panic!("{b}");
            };
            assert_eq!(
                (t.as_str(), t.char_count()),
                (b.to_string().as_str(), t.len())
            );
        }
    }

    #[test]
    fn int_edges() {
        use BinaryOp::*;
        assert!(int_arith(Add, i64::MAX, 1).is_err());
        assert_eq!(
            int_arith(Div, i64::MIN, -1).unwrap_err().kind(),
            ErrorKind::IntegerOverflow
        );
        assert_eq!(int_arith(Rem, i64::MIN, -1).unwrap(), 0);
        assert_eq!(int_arith(Rem, -7, 2).unwrap(), -1);
        assert_eq!(int_arith(Rem, 7, -2).unwrap(), 1);
        assert_eq!(int_arith(Div, -7, 2).unwrap(), -3);
        assert_eq!(
            int_arith(Div, 1, 0).unwrap_err().kind(),
            ErrorKind::DivisionByZero
        );
        assert_eq!(
            int_arith(Rem, 1, 0).unwrap_err().kind(),
            ErrorKind::DivisionByZero
        );
    }

    #[test]
    fn shifts_divide_like_division() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -9,
            -8,
            -7,
            -1,
            0,
            1,
            7,
            8,
            9,
            i64::MAX,
        ];
        for shift in 1..=62u8 {
            let d = 1i64 << shift;
            for x in edges {
                assert_eq!(div_pow2(x, shift), x / d, "{x} / 2^{shift}");
                assert_eq!(rem_pow2(x, shift), x % d, "{x} % 2^{shift}");
            }
        }
        fn prop(x: i64, s: u8) -> bool {
            let shift = s % 62 + 1;
            let d = 1i64 << shift;
            div_pow2(x, shift) == x / d && rem_pow2(x, shift) == x % d
        }
        quickcheck::QuickCheck::new()
            .tests(20_000)
            .quickcheck(prop as fn(i64, u8) -> bool);
    }

    #[test]
    fn float_text() {
        assert_eq!(parse_float("1e400"), Some(f64::INFINITY));
        assert_eq!(parse_float("-2.5E-3"), Some(-0.0025));
        assert_eq!(parse_float("+7"), Some(7.0));
        for bad in [
            "nan", "+inf", "1.", ".5", "", "-", "1e", "1.5e+", " 1", "infinity",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?} must be rejected");
        }
        assert!(parse_float("NaN").unwrap().is_nan());
    }

    #[test]
    fn casts() {
        let s = |x: &str| Value::str(x);
        assert_eq!(cast(&s("+12"), TypeName::Int).unwrap(), Value::Int(12));
        assert!(cast(&s("1.0"), TypeName::Int).is_err());
        assert!(cast(&s(" 1"), TypeName::Int).is_err());
        assert_eq!(
            cast(&Value::Float(-2.9), TypeName::Int).unwrap(),
            Value::Int(-2)
        );
        assert!(cast(&Value::Float(9_223_372_036_854_775_808.0), TypeName::Int).is_err());
        assert_eq!(
            cast(&Value::Float(-9_223_372_036_854_775_808.0), TypeName::Int).unwrap(),
            Value::Int(i64::MIN)
        );
        assert!(cast(&Value::Int(1), TypeName::Bool).is_err());
        assert_eq!(cast(&Value::Null, TypeName::Bool).unwrap(), Value::Null);
        assert_eq!(cast(&Value::Float(1e16), TypeName::Str).unwrap(), s("1e16"));
        assert_eq!(
            cast(&s("x"), TypeName::Int).unwrap_err().message(),
            "cast error: cannot cast string \"x\" to int"
        );
    }

    #[test]
    fn comparisons_follow_ieee_and_kinds() {
        let nan = Value::Float(f64::NAN);
        assert!(!equal(&nan, &nan));
        assert!(compare(BinaryOp::Ne, &nan, &nan).unwrap());
        assert!(!order(BinaryOp::Le, &nan, &Value::Int(1)).unwrap());
        assert!(equal(&Value::Int(2), &Value::Float(2.0)));
        assert!(!equal(&Value::Int(1), &Value::Bool(true)));
        assert!(order(BinaryOp::Lt, &Value::Int(1), &Value::Bool(true)).is_err());
        assert!(order(BinaryOp::Lt, &Value::str("B"), &Value::str("a")).unwrap());
    }
}
