//! The host functions (`Engine::register_fn`) every engine of the differential tests
//! registers before anything else: the interpreter reference, every JIT mode, typed
//! handles, the interrupted run. They are pure (compiled code calls them directly and
//! a deopt calls them again) and cover the argument and result kinds: a checked int
//! add returning `Result` (an `Err` on overflow), a float function (an int argument
//! converts), a `&str` function, a `Value -> String` function, an `Option<i64>`
//! function (`null` is `None`), a bool function, and one that panics on multiples of 5.
//!
//! The fuzz crate includes this file by path (`fuzz/src/lib.rs`), so it uses nothing
//! but `grizzly` and `std`.
#![allow(dead_code)]

use grizzly::{Engine, Value};
use std::sync::Once;

/// A registered host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Host {
    Add,
    Scale,
    Len,
    Kind,
    Or,
    Boom,
    Xor,
}

/// What a host function's parameter takes, or its result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostTy {
    Int,
    /// A float (an int converts).
    Float,
    Bool,
    /// A string (`&str`).
    Str,
    /// Any value (`Value`).
    Any,
    /// An int or `null` (`Option<i64>`).
    IntOrNull,
}

pub const HOSTS: [Host; 7] = [
    Host::Add,
    Host::Scale,
    Host::Len,
    Host::Kind,
    Host::Or,
    Host::Boom,
    Host::Xor,
];

/// How `h_boom`'s panic messages begin: [`quiet_panics`] keeps them off stderr.
pub const PANIC_PREFIX: &str = "h_boom: ";

impl Host {
    pub fn name(self) -> &'static str {
        match self {
            Host::Add => "h_add",
            Host::Scale => "h_scale",
            Host::Len => "h_len",
            Host::Kind => "h_kind",
            Host::Or => "h_or",
            Host::Boom => "h_boom",
            Host::Xor => "h_xor",
        }
    }

    pub fn params(self) -> &'static [HostTy] {
        match self {
            Host::Add => &[HostTy::Int, HostTy::Int],
            Host::Scale => &[HostTy::Float, HostTy::Float],
            Host::Len => &[HostTy::Str],
            Host::Kind => &[HostTy::Any],
            Host::Or => &[HostTy::IntOrNull, HostTy::Int],
            Host::Boom => &[HostTy::Int],
            Host::Xor => &[HostTy::Bool, HostTy::Bool],
        }
    }

    /// The result's type: `Int`, `Float`, `Bool` or `Str`.
    pub fn ret(self) -> HostTy {
        match self {
            Host::Add | Host::Len | Host::Or | Host::Boom => HostTy::Int,
            Host::Scale => HostTy::Float,
            Host::Xor => HostTy::Bool,
            Host::Kind => HostTy::Str,
        }
    }

    /// What it does, for printed cases.
    pub fn describe(self) -> &'static str {
        match self {
            Host::Add => "h_add(a: i64, b: i64) -> Result<i64, String>: a + b, Err on overflow",
            Host::Scale => "h_scale(x: f64, k: f64) -> f64: x * k - 0.25",
            Host::Len => "h_len(s: &str) -> i64: the characters of s",
            Host::Kind => {
                "h_kind(v: Value) -> String: the type, '-' if negative, ' nan' for any NaN"
            }
            Host::Or => "h_or(x: Option<i64>, d: i64) -> i64: x, or d for null",
            Host::Boom => "h_boom(n: i64) -> i64: n / 5 + n % 5, panics if n % 5 == 0",
            Host::Xor => "h_xor(a: bool, b: bool) -> bool: a != b",
        }
    }
}

fn kind(v: Value) -> String {
    let sign = match v {
        Value::Int(i) if i < 0 => "-",
        // (never the sign of a NaN: tiers need not agree on it)
        Value::Float(x) if x.is_nan() => " nan",
        Value::Float(x) if x.is_sign_negative() => "-",
        _ => "",
    };
    format!("{}{sign}", v.ty())
}

fn boom(n: i64) -> i64 {
    if n % 5 == 0 {
        panic!("{PANIC_PREFIX}{n} is a multiple of 5");
    }
    n / 5 + n % 5
}

/// Registers the host functions (first thing on a fresh engine).
pub fn register(e: &mut Engine) {
    let ok = |r: grizzly::Result<()>| r.expect("registering a host function");
    ok(e.register_fn("h_add", |a: i64, b: i64| {
        a.checked_add(b)
            .ok_or_else(|| format!("h_add({a}, {b}) overflows"))
    }));
    ok(e.register_fn("h_scale", |x: f64, k: f64| x * k - 0.25));
    ok(e.register_fn("h_len", |s: &str| s.chars().count() as i64));
    ok(e.register_fn("h_kind", kind));
    ok(e.register_fn("h_or", |x: Option<i64>, d: i64| x.unwrap_or(d)));
    ok(e.register_fn("h_boom", boom));
    ok(e.register_fn("h_xor", |a: bool, b: bool| a != b));
}

/// Installs (once per process) a panic hook that says nothing for `h_boom`'s panics,
/// which the engine turns into errors, and hands every other panic to the hook that
/// was there before (libFuzzer's, in the fuzz target, aborts).
pub fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied());
            if message.is_some_and(|m| m.starts_with(PANIC_PREFIX)) {
                return;
            }
            previous(info);
        }));
    });
}
