//! Argument values biased to the edges: the integer limits and their neighbours,
//! values whose square, double or sum overflows, the floats where casts and
//! comparisons change behaviour (NaN, -0.0, infinities, subnormals, 2^63), and now and
//! then a value of the wrong type (bool, float or string where an int is expected...)
//! so that type guards, annotations and deopts run. Also their shrinking.

use super::program::{Param, Ty};
use super::{below, pick};
use grizzly::Value;
use quickcheck::{Arbitrary, Gen};

/// Integers around the limits of `+ - * / %`, casts and shifts.
pub const INTS: [i64; 28] = [
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    i64::MIN,
    i64::MAX,
    i64::MIN + 1,
    i64::MAX - 1,
    3_037_000_499, // the largest whose square fits
    3_037_000_500,
    -3_037_000_499,
    -3_037_000_500,
    1 << 62, // doubling overflows
    -(1 << 62),
    (1 << 62) - 1,
    i32::MAX as i64,
    i32::MIN as i64,
    1 << 31,
    1 << 32,
    u32::MAX as i64,
    (1 << 53) + 1, // not a float
    -(1 << 53) - 1,
    i64::MAX / 2 + 1,
    1000,
    -1000,
];

/// Floats where arithmetic, rounding, casts to int and comparisons have edges.
pub const FLOATS: [f64; 31] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    0.49999999999999994,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-308,
    -1e-308,
    5e-324,
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN,
    9.223372036854776e18,  // 2^63: does not fit an int
    -9.223372036854776e18, // -2^63: fits exactly
    9.223372036854775e18,  // the largest float below 2^63
    -9.223372036854778e18,
    4503599627370496.0, // 2^52
    9007199254740992.0, // 2^53: 2^53 + 1 as a float
    4503599627370497.0,
    1e16,
    3037000499.5,
    0.1,
    -7.75,
];

/// The floats where IEEE-754 surprises: NaN (both signs), zeros, infinities.
pub const SPECIAL: [f64; 6] = [
    f64::NAN,
    -f64::NAN,
    0.0,
    -0.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

const STRINGS: [&str; 8] = ["", "5", "-3", "abc", "2.5", "true", "ñandú", "a\"b\\c\n"];

/// A value of type `t`, edge-biased.
pub fn of(g: &mut Gen, t: Ty) -> Value {
    match t {
        Ty::Int => Value::Int(match below(g, 8) {
            0..=3 => pick(g, &INTS),
            4 => i64::arbitrary(g),
            _ => i64::from(below(g, 21)) - 10,
        }),
        Ty::Float => Value::Float(match below(g, 10) {
            0..=3 => pick(g, &FLOATS),
            4 => pick(g, &SPECIAL),
            5 => f64::arbitrary(g),
            6 => f64::from_bits(u64::arbitrary(g)),
            _ => f64::from(below(g, 81)) / 4.0 - 10.0,
        }),
        Ty::Bool => Value::Bool(bool::arbitrary(g)),
    }
}

/// A value of another type than `t`: another of the three, a string or null.
pub fn wrong(g: &mut Gen, t: Ty) -> Value {
    match below(g, 8) {
        0 => Value::str(pick(g, &STRINGS)),
        1 => Value::Null,
        _ => {
            let others: Vec<Ty> = Ty::ALL.into_iter().filter(|&o| o != t).collect();
            let o = pick(g, &others);
            of(g, o)
        }
    }
}

/// The counter of a counted function with limit `k`: mostly a small count, now
/// and then an edge (which the limit clamps) or a float.
pub fn counter(g: &mut Gen, k: i64) -> Value {
    match below(g, 10) {
        0 => Value::Int(pick(g, &[i64::MAX, i64::MIN, -1, 0])),
        1 => Value::Float(pick(g, &[2.5, 0.5, f64::NAN, f64::INFINITY, -0.0])),
        // around the limit (and the default call-depth limit)
        2..=4 if k >= 1000 => Value::Int(pick(g, &[k - 1, k, k + 1, 9_998, 9_999, 10_000, 10_001])),
        _ => Value::Int(i64::from(below(g, k.clamp(0, 1000) as u32 + 3))),
    }
}

/// An argument tuple for `params` (the counter first for a counted function).
/// One tuple in six has some arguments of another type.
pub fn tuple(g: &mut Gen, params: &[Param], limit: Option<i64>) -> Vec<Value> {
    let mixed = below(g, 6) == 0;
    params
        .iter()
        .enumerate()
        .map(|(i, p)| match limit {
            Some(k) if i == 0 && !(mixed && below(g, 3) == 0) => counter(g, k),
            _ if mixed && below(g, 3) == 0 => wrong(g, p.ty),
            _ => of(g, p.ty),
        })
        .collect()
}

/// Simpler values: for numbers 0, then 1, then halfway towards 0 (each strictly
/// simpler, so shrinking ends); `false` for `true`; `""` for a string.
pub fn shrink(v: &Value) -> Vec<Value> {
    match v {
        Value::Bool(false) | Value::Null => vec![],
        Value::Int(i) => int(*i).into_iter().map(Value::Int).collect(),
        Value::Float(x) => float(*x).into_iter().map(Value::Float).collect(),
        Value::Bool(true) => vec![Value::Bool(false)],
        Value::Str(s) if s.is_empty() => vec![],
        Value::Str(_) => vec![Value::str("")],
    }
}

/// Simpler integers: 0, 1, half (each strictly simpler).
pub fn int(i: i64) -> Vec<i64> {
    match i {
        0 => vec![],
        1 => vec![0],
        _ if i / 2 == 0 || i / 2 == 1 => vec![0, 1],
        _ => vec![0, 1, i / 2],
    }
}

/// Simpler floats: `0.0`, then `1.0`, then the integral part (strictly simpler in
/// that order).
pub fn float(x: f64) -> Vec<f64> {
    let rank = |v: f64| {
        if v.to_bits() == 0 {
            0
        } else if v == 1.0 {
            1
        } else if v.fract() == 0.0 && v.abs() < 1e6 {
            2
        } else {
            3
        }
    };
    let mut out = Vec::new();
    for c in [0.0, 1.0, x.trunc()] {
        if rank(c) < rank(x) && !out.iter().any(|o: &f64| o.to_bits() == c.to_bits()) {
            out.push(c);
        }
    }
    out
}
