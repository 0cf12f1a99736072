//! JIT guards: call depth, host stack, integer division, mutual recursion and
//! floats, each compared with the interpreter and checked to have run compiled.
#![cfg(feature = "jit")]

mod jit_common;
use jit_common::*;

// ---- call depth ----

const DOWN: &str = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }\n\
                    FUNCTION via(n) => down(n) + 0";

#[test]
fn depth_overflow_inside_compiled_code_is_the_interpreters_error() {
    for mode in [JitMode::Eager, JitMode::On] {
        let mut e = Engine::builder()
            .jit(mode)
            .threshold(1)
            .max_depth(1000)
            .build();
        let mut reference = Engine::builder().jit(JitMode::Off).max_depth(1000).build();
        define(&mut e, DOWN);
        define(&mut reference, DOWN);
        let exprs = [
            "down(999)",
            "down(1000)",
            "down(5000)",
            "TRY down(5000) CATCH -1",
            "via(998)",
            "via(999)",
            "(TRY via(999) CATCH 7) + down(10)",
            "down(999)",
        ];
        let mut got = Vec::new();
        for src in exprs {
            let want = eval(&mut reference, src);
            let out = eval(&mut e, src);
            assert_eq!(out, want, "{src} in mode {mode:?}");
            got.push(out);
        }
        assert_eq!(got[0], Outcome::Value("999".into(), int(999)));
        let overflow = Outcome::Error(
            ErrorKind::StackOverflow,
            "stack overflow: call depth limit of 1000 exceeded".into(),
        );
        assert_eq!(got[1], overflow);
        assert_eq!(got[2], overflow);
        assert_eq!(got[3], Outcome::Value("-1".into(), int(-1)));
        assert_eq!(got[5], overflow);
        assert_eq!(got[6], Outcome::Value("17".into(), int(17)));
        assert_eq!(e.jit_specializations("down"), 1, "{}", e.jit_status());
        let stats = e.jit_stats();
        assert!(stats.entries >= 8 && stats.fallbacks >= 4, "{stats:?}");
        let status = e.jit_status();
        assert!(
            status_line(&status, "down(int) -> int").contains("call depth limit"),
            "{status}"
        );
    }
}

#[test]
fn deep_self_tail_calls_in_compiled_code_keep_their_depth() {
    let defs = "FUNCTION spin(n) => IF n == 0 { 7 } ELSE { spin(n - 1) }\n\
                FUNCTION outer(n) => 1 + spin(n)\n\
                FUNCTION at(d, n) => IF d == 0 { spin(n) } ELSE { 0 + at(d - 1, n) }";
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .max_depth(1000)
        .build();
    define(&mut e, defs);
    assert_eq!(value(&mut e, "outer(10000000)"), int(8));
    // spin runs at depth 1000 exactly: allowed; one deeper is not.
    assert_eq!(value(&mut e, "at(998, 1000000)"), int(7));
    let mut reference = Engine::builder().jit(JitMode::Off).max_depth(1000).build();
    define(&mut reference, defs);
    assert_eq!(
        eval(&mut e, "at(999, 5)"),
        eval(&mut reference, "at(999, 5)")
    );
    assert_eq!(
        eval(&mut e, "at(999, 5)"),
        Outcome::Error(
            ErrorKind::StackOverflow,
            "stack overflow: call depth limit of 1000 exceeded".into()
        )
    );
    assert_eq!(e.jit_specializations("spin"), 1);
    assert_eq!(e.jit_specializations("outer"), 1);
    let stats = e.jit_stats();
    assert!(stats.entries >= 3 && stats.fallbacks >= 1, "{stats:?}");
    let status = e.jit_status();
    assert!(
        status_line(&status, "at(int, int) -> int").contains("call depth limit"),
        "{status}"
    );
}

/// Runs `f` on a thread of its own with a stack of `stack` bytes.
fn on_thread<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deep_recursion_beyond_the_host_stack_falls_back_to_the_interpreter() {
    // 300,000 nested compiled frames do not fit in a 1 MiB stack: compiled code must
    // notice and leave, and the interpreter (which needs no host stack) finishes.
    on_thread(1 << 20, || {
        let defs = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }";
        let mut e = Engine::builder()
            .jit(JitMode::Eager)
            .max_depth(1_000_000)
            .build();
        define(&mut e, defs);
        assert_eq!(value(&mut e, "down(1000)"), int(1000));
        assert_eq!((e.jit_stats().entries, e.jit_stats().fallbacks), (1, 0));
        assert_eq!(value(&mut e, "down(300000)"), int(300000));
        let stats = e.jit_stats();
        assert!(stats.entries >= 2 && stats.fallbacks >= 1, "{stats:?}");
        let status = e.jit_status();
        assert!(status.contains("host stack limit"), "{status}");
    });
}

#[test]
fn compiled_code_runs_on_another_thread() {
    let mut e = eager();
    define(
        &mut e,
        "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }",
    );
    assert_eq!(value(&mut e, "down(100)"), int(100));
    // The engine moves to a thread with another (smaller) stack: compiled code runs
    // there within that thread's stack.
    let mut e = on_thread(1 << 20, move || {
        let mut e = e;
        assert_eq!(value(&mut e, "down(10)"), int(10));
        assert_eq!((e.jit_stats().entries, e.jit_stats().fallbacks), (2, 0));
        e
    });
    assert_eq!(value(&mut e, "down(50)"), int(50));
    assert_eq!((e.jit_stats().entries, e.jit_stats().fallbacks), (3, 0));
    assert_eq!(e.jit_specializations("down"), 1);
}

// ---- integer division ----

#[test]
fn division_by_zero_and_min_over_minus_one_agree_with_the_interpreter() {
    let defs = "FUNCTION dv(a, b) => a / b\n\
                FUNCTION md(a, b) => a % b\n\
                FUNCTION by4(a) => a / 4\n\
                FUNCTION mod4(a) => a % 4\n\
                FUNCTION by_big(a) => a / 4611686018427387904\n\
                FUNCTION mod_big(a) => a % 4611686018427387904\n\
                FUNCTION by_m1(a) => a / -1\n\
                FUNCTION mod_m1(a) => a % -1\n\
                FUNCTION by0(a) => a / 0\n\
                FUNCTION mod0(a) => a % 0\n\
                FUNCTION by1(a) => a / 1\n\
                FUNCTION mod1(a) => a % 1";
    let mut exprs: Vec<String> = Vec::new();
    let values = [0, 1, -1, 2, -2, 3, 7, -7, 8, -8, i64::MAX, MIN, MIN + 1];
    let lit = |v: i64| {
        if v == MIN {
            "(-9223372036854775807 - 1)".to_string()
        } else {
            format!("({v})")
        }
    };
    for &a in &values {
        for &b in &values {
            exprs.push(format!("dv({}, {})", lit(a), lit(b)));
            exprs.push(format!("md({}, {})", lit(a), lit(b)));
        }
        for f in [
            "by4", "mod4", "by_big", "mod_big", "by_m1", "mod_m1", "by0", "mod0", "by1", "mod1",
        ] {
            exprs.push(format!("{f}({})", lit(a)));
        }
    }
    exprs.push("TRY dv(1, 0) CATCH 99".into());
    exprs.push("dv(1.0, 0)".into());
    exprs.push("md(1.0, 0)".into());
    exprs.push("md(-7.5, 2)".into());
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    let find = |src: &str| find(&exprs, &out, src);
    let min = "(-9223372036854775807 - 1)";
    assert_eq!(
        *find(&format!("dv({min}, (-1))")),
        Outcome::Error(ErrorKind::IntegerOverflow, "integer overflow".into())
    );
    assert_eq!(
        *find(&format!("md({min}, (-1))")),
        Outcome::Value("0".into(), int(0))
    );
    assert_eq!(
        *find(&format!("mod_m1({min})")),
        Outcome::Value("0".into(), int(0))
    );
    assert_eq!(
        *find("dv((7), (0))"),
        Outcome::Error(ErrorKind::DivisionByZero, "division by zero".into())
    );
    assert_eq!(*find("by4((-7))"), Outcome::Value("-1".into(), int(-1)));
    assert_eq!(*find("mod4((-7))"), Outcome::Value("-3".into(), int(-3)));
    assert_eq!(
        *find("TRY dv(1, 0) CATCH 99"),
        Outcome::Value("99".into(), int(99))
    );
    assert_compiled_values(&exprs, &out);
}

// ---- mutual recursion ----

#[test]
fn mutual_recursion_across_compiled_functions() {
    let defs = "FUNCTION is_even(n) => IF n == 0 { true } ELSE { is_odd(n - 1) }\n\
                FUNCTION is_odd(n) => IF n == 0 { false } ELSE { is_even(n - 1) }";
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .max_depth(5000)
        .build();
    let out = agree(
        &mut e,
        defs,
        &[
            "is_even(4000)",
            "is_odd(4000)",
            "is_even(4999)",
            "is_odd(3)",
        ],
    );
    assert_eq!(out[0], Outcome::Value("true".into(), Value::Bool(true)));
    assert_eq!(out[1], Outcome::Value("false".into(), Value::Bool(false)));
    assert_eq!(out[2], Outcome::Value("false".into(), Value::Bool(false)));
    assert_eq!(e.jit_specializations("is_even"), 1);
    assert_eq!(e.jit_specializations("is_odd"), 1);
    // Each top-level call entered compiled code once and finished there.
    let s = e.jit_stats();
    assert_eq!((s.specializations, s.entries, s.fallbacks), (2, 4, 0));
    assert_eq!(s.interpreted_calls, 0);
    // One level deeper than the limit allows.
    let mut reference = reference_for(&e);
    define(&mut reference, defs);
    assert_eq!(
        eval(&mut e, "is_even(5000)"),
        eval(&mut reference, "is_even(5000)")
    );
    assert!(matches!(
        eval(&mut e, "is_even(5000)"),
        Outcome::Error(ErrorKind::StackOverflow, _)
    ));
    assert!(e.jit_stats().fallbacks >= 1);
}

// ---- floats ----

const MANDEL: &str = "\
FUNCTION escape(cr, ci, zr, zi, i) =>
  IF i >= 200 OR zr * zr + zi * zi > 4.0 { i }
  ELSE { escape(cr, ci, zr * zr - zi * zi + cr, 2.0 * zr * zi + ci, i + 1) }
FUNCTION orbit(cr, ci, zr, zi, i) =>
  IF i >= 60 OR zr * zr + zi * zi > 1e10 { zr * zi + sqrt(abs(zr)) - pow(abs(zi) + 1.0, 0.5) }
  ELSE { orbit(cr, ci, zr * zr - zi * zi + cr, 2.0 * zr * zi + ci, i + 1) }";

#[test]
fn mandelbrot_escape_is_bit_for_bit_the_interpreters() {
    let mut e = eager();
    let mut reference = off();
    define(&mut e, MANDEL);
    define(&mut reference, MANDEL);
    let mut inside = 0;
    for y in 0..12 {
        for x in 0..16 {
            let cr = -2.2 + x as f64 * 0.19;
            let ci = -1.3 + y as f64 * 0.23;
            for f in ["escape", "orbit"] {
                let args = [
                    Value::Float(cr),
                    Value::Float(ci),
                    Value::Float(0.0),
                    Value::Float(0.0),
                    int(0),
                ];
                let got = call(&mut e, f, &args);
                let want = call(&mut reference, f, &args);
                assert_eq!(got, want, "{f}({cr}, {ci}, 0.0, 0.0, 0)");
                if let (Outcome::Value(_, Value::Float(a)), Outcome::Value(_, Value::Float(b))) =
                    (&got, &want)
                {
                    assert!(a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan());
                }
                if got == Outcome::Value("200".into(), int(200)) {
                    inside += 1;
                }
            }
        }
    }
    assert!(inside > 10, "{inside} points inside");
    assert_eq!(e.jit_specializations("escape"), 1);
    assert_eq!(e.jit_specializations("orbit"), 1);
    let stats = e.jit_stats();
    assert_eq!((stats.entries, stats.fallbacks), (384, 0), "{stats:?}");
}

#[test]
fn float_comparisons_nan_zeros_and_infinities() {
    let defs = "FUNCTION eq(a, b) => a == b\nFUNCTION ne(a, b) => a != b\n\
                FUNCTION lt(a, b) => a < b\nFUNCTION le(a, b) => a <= b\n\
                FUNCTION gt(a, b) => a > b\nFUNCTION ge(a, b) => a >= b\n\
                CREATE FUNCTION nan_self(x) { LET n = 0.0 / 0.0; (n == x) OR (x != n AND NOT (n < x) AND NOT (n >= x)) }\n\
                FUNCTION branch(a, b) => IF a < b { 1 } ELSE { IF a >= b { 2 } ELSE { 3 } }\n\
                FUNCTION neg(x) => -x\n\
                FUNCTION sub(a, b) => a - b";
    let operands = [
        "(0.0 / 0.0)",
        "(-(0.0 / 0.0))",
        "0.0",
        "(-0.0)",
        "1.0",
        "(-1.0)",
        "1e999",
        "(-1e999)",
        "1",
        "9007199254740993",
        "9007199254740992.0",
        "5e-324",
        "1.7976931348623157e308",
    ];
    let mut exprs = Vec::new();
    for a in operands {
        for b in operands {
            for f in ["eq", "ne", "lt", "le", "gt", "ge", "branch", "sub"] {
                exprs.push(format!("{f}({a}, {b})"));
            }
        }
        exprs.push(format!("nan_self({a})"));
        exprs.push(format!("neg({a})"));
    }
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    assert_compiled_values(&exprs, &out);
    let find = |src: &str| find(&exprs, &out, src);
    let t = Outcome::Value("true".into(), Value::Bool(true));
    let f = Outcome::Value("false".into(), Value::Bool(false));
    assert_eq!(*find("eq((0.0 / 0.0), (0.0 / 0.0))"), f);
    assert_eq!(*find("ne((0.0 / 0.0), (0.0 / 0.0))"), t);
    assert_eq!(*find("eq(0.0, (-0.0))"), t);
    assert_eq!(
        *find("branch((0.0 / 0.0), 1.0)"),
        Outcome::Value("3".into(), int(3))
    );
    assert_eq!(
        *find("neg(0.0)"),
        Outcome::Value("-0.0".into(), Value::Float(-0.0))
    );
    assert_eq!(*find("eq(9007199254740993, 9007199254740992.0)"), t);
    // No comparison can fail.
    assert!(out.iter().all(|(_, s)| s.fallbacks == 0));
}

#[test]
fn float_arithmetic_and_builtins_agree_bit_for_bit() {
    let defs = "FUNCTION rem(a, b) => a % b\nFUNCTION dv(a, b) => a / b\n\
                FUNCTION mul(a, b) => a * b\nFUNCTION add(a, b) => a + b\n\
                FUNCTION fl(x) => floor(x)\nFUNCTION ce(x) => ceil(x)\nFUNCTION ro(x) => round(x)\n\
                FUNCTION sq(x) => sqrt(x)\nFUNCTION ab(x) => abs(x)\n\
                FUNCTION pw(a, b) => pow(a, b)\nFUNCTION mn(a, b) => min(a, b)\nFUNCTION mx(a, b) => max(a, b)\n\
                CREATE FUNCTION mixed(x, n) { LET a = floor(x) + n; LET b = ceil(x) * n; round(x) - a % 3 + b / 2 + sqrt(n) }";
    let operands = [
        "(0.0 / 0.0)",
        "0.0",
        "(-0.0)",
        "0.5",
        "(-0.5)",
        "(-0.4)",
        "2.5",
        "(-2.5)",
        "0.49999999999999994",
        "4503599627370497.0",
        "1e999",
        "(-1e999)",
        "5.5",
        "(-7.25)",
        "1e308",
        "5e-324",
        "0",
        "3",
        "(-4)",
        "9223372036854775807",
        "(-9223372036854775807 - 1)",
    ];
    let mut exprs = Vec::new();
    for a in operands {
        for f in ["fl", "ce", "ro", "sq", "ab"] {
            exprs.push(format!("{f}({a})"));
        }
        for b in operands {
            for f in ["rem", "dv", "mul", "add", "pw", "mn", "mx"] {
                exprs.push(format!("{f}({a}, {b})"));
            }
        }
        for n in ["0", "7", "(-3)"] {
            exprs.push(format!("mixed({a}, {n})"));
        }
    }
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    assert_compiled_values(&exprs, &out);
    let find = |src: &str| find(&exprs, &out, src);
    let float = |v: f64| Outcome::Value(format!("{v:?}"), Value::Float(v));
    assert_eq!(*find("ro((-0.4))"), float(-0.0));
    assert_eq!(*find("ro(2.5)"), float(3.0));
    assert_eq!(*find("ro((-2.5))"), float(-3.0));
    assert_eq!(*find("ro(0.49999999999999994)"), float(0.0));
    assert_eq!(*find("sq((-0.0))"), float(-0.0));
    assert_eq!(*find("rem((-7.25), 2.5)"), float(-2.25));
    assert_eq!(find("rem(5.5, (-0.0))").to_string_lossy(), "NaN");
    assert_eq!(*find("mn(0.0, (-0.0))"), float(0.0));
    assert_eq!(*find("mn((-0.0), 0.0)"), float(-0.0));
    assert_eq!(*find("mx(0.0, (-0.0))"), float(0.0));
    assert_eq!(*find("mn(3, 0.5)"), float(0.5));
    assert_eq!(*find("mx(3, (-4))"), Outcome::Value("3".into(), int(3)));
    assert_eq!(*find("fl(3)"), Outcome::Value("3".into(), int(3)));
    assert_eq!(*find("ab((-0.0))"), float(0.0));
    assert_eq!(
        *find("ab((-9223372036854775807 - 1))"),
        Outcome::Error(ErrorKind::IntegerOverflow, "integer overflow".into())
    );
    assert_eq!(*find("pw(3, (-4))"), float(1.0 / 81.0));
}

impl Outcome {
    fn to_string_lossy(&self) -> String {
        match self {
            Outcome::Value(s, _) => s.clone(),
            Outcome::Error(_, m) => m.clone(),
        }
    }
}

#[test]
fn float_to_int_casts_are_guarded() {
    let defs = "FUNCTION to_int(x) => x AS int\n\
                FUNCTION to_float(n) => n :: float\n\
                FUNCTION to_bool(x) => x AS bool\n\
                FUNCTION b2(p) => (p AS int) + (p AS float)\n\
                FUNCTION try_int(x) => TRY x AS int CATCH -1";
    let values = [
        "(0.0 / 0.0)",
        "1e19",
        "(-1e19)",
        "1e999",
        "(-1e999)",
        "9223372036854775807.0",
        "9223372036854774784.0",
        "(-9223372036854775808.0)",
        "(-9223372036854777856.0)",
        "(-1.9)",
        "(-0.0)",
        "0.99999",
        "2.5",
    ];
    let mut exprs = Vec::new();
    for v in values {
        exprs.push(format!("to_int({v})"));
        exprs.push(format!("try_int({v})"));
        exprs.push(format!("to_bool({v})"));
    }
    for n in [
        "9007199254740993",
        "9223372036854775807",
        "(-9223372036854775807 - 1)",
        "3",
    ] {
        exprs.push(format!("to_float({n})"));
        exprs.push(format!("to_bool({n})"));
        exprs.push(format!("to_int({n})"));
    }
    exprs.push("b2(true)".into());
    exprs.push("b2(false)".into());
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    assert_compiled_values(&exprs, &out);
    let find = |src: &str| find(&exprs, &out, src);
    assert_eq!(
        *find("to_int((0.0 / 0.0))"),
        Outcome::Error(
            ErrorKind::Cast,
            "cast error: cannot cast float NaN to int".into()
        )
    );
    assert!(matches!(
        find("to_int(1e19)"),
        Outcome::Error(ErrorKind::Cast, _)
    ));
    assert!(matches!(
        find("to_int(9223372036854775807.0)"),
        Outcome::Error(ErrorKind::Cast, _)
    ));
    assert_eq!(
        *find("to_int((-9223372036854775808.0))"),
        Outcome::Value(MIN.to_string(), int(MIN))
    );
    assert_eq!(
        *find("to_int((-1.9))"),
        Outcome::Value("-1".into(), int(-1))
    );
    assert_eq!(*find("try_int(1e19)"), Outcome::Value("-1".into(), int(-1)));
    assert_eq!(
        *find("to_float(9007199254740993)"),
        Outcome::Value(
            "9007199254740992.0".into(),
            Value::Float(9007199254740992.0)
        )
    );
    assert_eq!(
        *find("b2(true)"),
        Outcome::Value("2.0".into(), Value::Float(2.0))
    );
}
