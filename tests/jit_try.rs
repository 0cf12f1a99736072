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
fn errors_raised_frames_down_unwind_to_the_compiled_handler() {
    let defs = "FUNCTION inv(x) => 100 / x
                FUNCTION safe(x) => TRY inv(x) CATCH -1
                FUNCTION deep(n, x) => IF n == 0 { inv(x) } ELSE { deep(n - 1, x) + 1 }
                FUNCTION guarded(n, x) => (deep(n, x) * 2) ?? -7
                FUNCTION both(x) => TRY inv(x) + inv(x - 1) CATCH inv(x + 1)
                FUNCTION outer(x) => TRY guarded(3, x) + inv(x - 2) CATCH 5
                FUNCTION spin(i, n, acc) => IF i >= n { acc } ELSE { spin(i + 1, n, acc + guarded(i % 5, i % 3)) }";
    let out = caught_in_compiled_code(
        defs,
        &[
            "safe(5)",
            "safe(0)",
            "guarded(4, 0)",
            "guarded(4, 5)",
            "guarded(0, 0)",
            "both(1)",
            "both(0)",
            "both(2)",
            "outer(0)",
            "outer(2)",
            "outer(3)",
            "spin(0, 3000, 0)",
        ],
    );
    assert_eq!(out[1], Outcome::Value("-1".into(), int(-1)));
    assert_eq!(out[2], Outcome::Value("-7".into(), int(-7)));
}

#[test]
fn after_an_unwind_the_depth_limit_is_where_it_was() {
    // Each call of `probe` fails 40 frames down, is caught, then recurses to just
    // under the limit: with a depth budget not given back by the unwind, the second
    // recursion would hit the limit (and deoptimize: `caught_in_compiled_code` fails).
    let defs = "FUNCTION down(n) => IF n == 0 { 1 / 0 } ELSE { down(n - 1) + 1 }
                FUNCTION count(n) => IF n == 0 { 0 } ELSE { count(n - 1) + 1 }
                FUNCTION probe(k) => (TRY down(40) CATCH 0) + (TRY down(40) CATCH 0) + count(k)
                FUNCTION many(i, acc) => IF i == 0 { acc } ELSE { many(i - 1, acc + probe(90)) }";
    let mut e = Engine::builder().jit(JitMode::Eager).max_depth(100).build();
    let results = agree_each(&mut e, defs, &["many(50, 0)", "probe(98)", "probe(99)"]);
    for (src, (out, stats)) in ["many(50, 0)", "probe(98)"].iter().zip(&results) {
        assert_eq!(stats.fallbacks, 0, "`{src}` = {out:?} fell back");
    }
    // One level too deep: the interpreter's error, exactly.
    assert!(matches!(
        &results[2].0,
        Outcome::Error(ErrorKind::StackOverflow, _)
    ));
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

#[test]
fn a_deopt_under_a_handler_leaves_no_handler_for_the_next_entry() {
    // `f`'s handler is registered when a loop in `mix` deoptimizes inside it (its
    // argument types change: not an error, the interpreter reruns `f`). The next entry,
    // through the same typed context, raises with no handler: it must deoptimize and
    // report the error, not jump to `f`'s dead frame.
    let mut e = Engine::builder().jit(JitMode::Eager).max_depth(100).build();
    define(
        &mut e,
        "FUNCTION mix(i, x) => IF i == 0 { x AS int } ELSE { mix(i - 1, x * 0.5) }
         FUNCTION f(n) => (TRY mix(n, 8) CATCH -1) + 0
         FUNCTION inv(x) => 100 / x
         FUNCTION g(x) => inv(x) + 0",
    );
    let f = e.typed::<(i64,), i64>("f").unwrap();
    let g = e.typed::<(i64,), i64>("g").unwrap();
    for _ in 0..3 {
        assert_eq!(f.call(&mut e, (0,)).unwrap(), 8);
        assert_eq!(f.call(&mut e, (3,)).unwrap(), 1);
        let err = g.call(&mut e, (0,)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DivisionByZero);
        assert_eq!(g.call(&mut e, (4,)).unwrap(), 25);
        let batch = f.call_batch(&mut e, (&[3, 0, 2][..],)).unwrap();
        assert_eq!(batch, vec![1, 8, 2]);
        assert!(g.call_batch(&mut e, (&[1, 0][..],)).is_err());
    }
}

#[test]
fn an_uncompiled_handler_between_keeps_the_error_from_outer_handlers() {
    // `inner`'s handler is not compiled: its errors deoptimize, so
    // that the interpreter's `inner` catches them, never `outer`'s compiled handler.
    let defs = "FUNCTION inv(x) => 100 / x
                FUNCTION inner(x) => TRY inv(x) CATCH slow(0, 2)
                FUNCTION inner2(x) => TRY 100 / x CATCH slow(0, 2)
                FUNCTION outer(x) => TRY inner(x) * 10 CATCH -1
                FUNCTION outer2(x) => TRY inner2(x) * 10 CATCH -1";
    let defs = format!("{defs}\n{}", uncompiled_slow());
    let defs = defs.as_str();
    let mut e = eager();
    let out = agree(
        &mut e,
        defs,
        &["outer(0)", "outer2(0)", "outer(4)", "outer2(5)"],
    );
    assert_eq!(out[0], Outcome::Value("20".into(), int(20)));
    assert_eq!(out[1], Outcome::Value("20".into(), int(20)));
}

#[test]
fn the_depth_limit_is_caught_in_compiled_code() {
    let defs = "FUNCTION deep(n) => IF n == 0 { 0 } ELSE { deep(n - 1) + 1 }
                FUNCTION safe(n) => TRY deep(n) CATCH -1
                FUNCTION rows(i, acc) => IF i == 0 { acc } ELSE { rows(i - 1, acc + safe(i * 7 % 150)) }";
    let mut e = Engine::builder().jit(JitMode::Eager).max_depth(100).build();
    let exprs = [
        "safe(50)",
        "safe(98)",
        "safe(99)",
        "safe(500)",
        "rows(300, 0)",
    ];
    let results = agree_each(&mut e, defs, &exprs);
    for (src, (out, stats)) in exprs.iter().zip(&results) {
        assert_eq!(stats.fallbacks, 0, "`{src}` = {out:?} fell back");
    }
    assert_eq!(results[2].0, Outcome::Value("-1".into(), int(-1)));
}
