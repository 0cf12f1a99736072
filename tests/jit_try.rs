//! `TRY a CATCH b` and `a ?? b` in compiled code: when `a`'s own code raises an error,
//! compiled code runs `b` itself (no deopt, no discard), with results identical to
//! the interpreter's.
#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

mod jit_common;
use jit_common::*;

/// Every expression agrees with the interpreter, entered compiled code, and never
/// fell back.
fn caught_in_compiled_code(defs: &str, exprs: &[&str]) -> Vec<Outcome> {
    let mut e = eager();
    let results = agree_each(&mut e, defs, exprs);
    for (src, (out, stats)) in exprs.iter().zip(&results) {
        assert!(stats.entries >= 1, "`{src}` never entered compiled code");
        assert_eq!(stats.fallbacks, 0, "`{src}` = {out:?} fell back: {stats:?}");
    }
    results.into_iter().map(|(o, _)| o).collect()
}

#[test]
fn errors_of_each_kind_go_to_the_handler() {
    let defs = "FUNCTION div(a, b) => TRY a / b CATCH 0
                FUNCTION rem(a, b) => TRY a % b CATCH -1
                FUNCTION mul(a, b) => (a * b) ?? -2
                FUNCTION neg(a) => TRY -a CATCH 7
                FUNCTION cast(x) => TRY x AS int CATCH -3
                FUNCTION bad(x) => TRY x + true CATCH 2.5
                FUNCTION flag(x) => TRY x AS bool CATCH x > 1";
    let out = caught_in_compiled_code(
        defs,
        &[
            "div(7, 2)",
            "div(7, 0)",
            "div(-9223372036854775808, -1)",
            "rem(7, 0)",
            "rem(-9223372036854775808, -1)",
            "mul(3, 4)",
            "mul(9223372036854775807, 2)",
            "neg(-9223372036854775808)",
            "neg(5)",
            "cast(2.9)",
            "cast(1.0 / 0.0)",
            "cast(0.0 / 0.0)",
            "cast(1e300)",
            "bad(1)",
            "flag(3)",
            "flag(1)",
        ],
    );
    assert_eq!(out[1], Outcome::Value("0".into(), int(0)));
    assert_eq!(out[6], Outcome::Value("-2".into(), int(-2)));
    assert_eq!(out[13], Outcome::Value("2.5".into(), Value::Float(2.5)));
}

#[test]
fn a_hot_loop_whose_try_fires_every_third_row_stays_compiled() {
    let defs = "FUNCTION safe(a, b) => TRY a / b CATCH 0
                FUNCTION total(i, n, acc) => IF i >= n { acc } ELSE { total(i + 1, n, acc + safe(i * 10, i % 3)) }";
    let mut e = Engine::builder().jit(JitMode::On).threshold(10).build();
    let out = agree(&mut e, defs, &["total(0, 30000, 0)"]);
    assert!(matches!(out[0], Outcome::Value(..)));
    let stats = e.jit_stats();
    assert_eq!(stats.fallbacks, 0, "{}", e.jit_status());
    assert_eq!(stats.interpreted_calls, 0, "{}", e.jit_status());
    assert_eq!(e.jit_specializations("safe"), 1);
    assert_eq!(e.jit_specializations("total"), 1);
    assert!(
        status_line(&e.jit_status(), "safe(int, int) -> int").contains("deopts: none"),
        "{}",
        e.jit_status()
    );
}

#[test]
fn nested_handlers_and_handlers_that_raise() {
    let defs = "FUNCTION nested(a, b) => TRY (TRY a / b CATCH a * 4611686018427387904) CATCH -1
                FUNCTION inner(a, b) => TRY a / b CATCH (TRY a * a CATCH -5)
                FUNCTION raises(a, b) => TRY a / b CATCH a % 0
                FUNCTION chain(a, b) => (a / b) ?? (b / a) ?? 99";
    let out = caught_in_compiled_code(
        defs,
        &[
            "nested(6, 3)",
            "nested(1, 0)",
            "nested(4, 0)",
            "inner(3037000500, 0)",
            "inner(5, 0)",
            "chain(4, 2)",
            "chain(4, 0)",
            "chain(0, 0)",
        ],
    );
    assert_eq!(out[2], Outcome::Value("-1".into(), int(-1)));
    assert_eq!(out[7], Outcome::Value("99".into(), int(99)));
    // An error in the handler is the call's error, as in the interpreter.
    let mut e = eager();
    let out = agree(&mut e, defs, &["raises(1, 0)", "raises(4, 2)"]);
    assert!(matches!(
        &out[0],
        Outcome::Error(ErrorKind::DivisionByZero, _)
    ));
}

#[test]
fn handlers_in_loops_with_calls_and_floats() {
    // The loop's parameters live in registers (homes); a call in `a` clobbers them
    // and the handler must read them from the frame.
    let defs = "FUNCTION twice(x) => x * 2
                FUNCTION walk(i, n, acc, f) => IF i >= n { acc + f } ELSE {
                    walk(i + 1, n, acc + (TRY twice(i) / (i % 3) CATCH i), f + (TRY (f * 1.5) AS int CATCH 0))
                }
                FUNCTION pick(i, n, acc) => IF i >= n { acc } ELSE {
                    pick(i + 1, n, acc + IF (TRY 10 / (i % 4) CATCH -1) > 2 { 1 } ELSE { 100 })
                }";
    caught_in_compiled_code(
        defs,
        &[
            "walk(0, 2000, 0, 1.0)",
            "walk(0, 10, 0, 1.0e300)",
            "pick(0, 1000, 0)",
        ],
    );
}

#[test]
fn an_error_from_a_callee_still_gives_the_interpreters_result() {
    // Errors raised in a callee's code deoptimize (the interpreter reruns the call and
    // its TRY catches them): the result is exact either way.
    let defs = "FUNCTION inv(x) => 100 / x
                FUNCTION safe(x) => TRY inv(x) CATCH -1";
    let mut e = eager();
    let out = agree(&mut e, defs, &["safe(5)", "safe(0)"]);
    assert_eq!(out[1], Outcome::Value("-1".into(), int(-1)));
}

#[test]
fn typed_handles_and_batches_catch_in_compiled_code() {
    let mut e = Engine::builder().jit(JitMode::On).build();
    define(&mut e, "FUNCTION f(x) => TRY x * 3 CATCH -1");
    let f = e.typed::<(i64,), i64>("f").unwrap();
    let xs: Vec<i64> = (0..1000)
        .map(|i| if i % 3 == 0 { i64::MAX / 2 } else { i })
        .collect();
    let got = f.call_batch(&mut e, (&xs,)).unwrap();
    let want: Vec<i64> = xs.iter().map(|&x| x.checked_mul(3).unwrap_or(-1)).collect();
    assert_eq!(got, want);
    for &x in &xs[..30] {
        assert_eq!(
            f.call(&mut e, (x,)).unwrap(),
            x.checked_mul(3).unwrap_or(-1)
        );
    }
    let stats = e.jit_stats();
    assert_eq!(stats.fallbacks, 0, "{}", e.jit_status());
    assert!(stats.entries >= 1000, "{}", e.jit_status());
}
