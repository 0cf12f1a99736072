//! The JIT's statistics tell the truth: every function that became hot counts toward
//! the compile success rate, calls that ran in the interpreter because nothing was
//! compiled for them count toward the fallback rate, and a function whose code was
//! dropped because of a callee says so under its own name.
#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

mod jit_common;
use jit_common::*;

fn on(threshold: u32) -> Engine {
    Engine::builder()
        .jit(JitMode::On)
        .threshold(threshold)
        .build()
}

#[test]
fn a_numeric_program_compiles_every_hot_function_and_falls_back_never() {
    let mut e = on(10);
    let printed = e
        .run(
            "FUNCTION double(x) => x * 2
             FUNCTION drive(i, n, acc) => IF i >= n { acc } ELSE { drive(i + 1, n, acc + double(i)) }
             drive(0, 1000, 0)",
        )
        .unwrap();
    assert_eq!(printed[0], Value::Int(999_000));
    let s = e.jit_stats();
    assert!(s.hot_functions >= 1, "{}", e.jit_status());
    assert_eq!(s.hot_functions_compiled, s.hot_functions);
    assert_eq!(s.interpreted_calls, 0, "{}", e.jit_status());
    assert_eq!((s.compile_success_rate(), s.fallback_rate()), (1.0, 0.0));
}

#[test]
fn refused_functions_count_as_hot_and_their_calls_as_fallbacks() {
    let mut e = on(10);
    e.run(
        "FUNCTION label(n) => IF n % 3 == 0 { \"fizz\" } ELSE { n AS string }
         FUNCTION total(i, n, acc) => IF i >= n { acc } ELSE { total(i + 1, n, acc + len(label(i))) }
         total(0, 2000, 0)",
    )
    .unwrap();
    let s = e.jit_stats();
    // Both became hot at their 10th call; neither can be compiled today, so every
    // later call ran in the interpreter: label's 1991 and total's 1992 (self tail
    // calls count as calls).
    assert_eq!((s.hot_functions, s.hot_functions_compiled), (2, 0));
    assert_eq!(s.interpreted_calls, 1991 + 1992, "{}", e.jit_status());
    assert_eq!((s.compile_success_rate(), s.fallback_rate()), (0.0, 1.0));
    let status = e.jit_status();
    assert!(
        status.contains("2 functions became hot, 0 of them compiled (compile success rate 0.0%)"),
        "{status}"
    );
    assert!(status.contains("(fallback rate 100.0%)"), "{status}");
}

#[test]
fn a_caller_dropped_with_its_callee_says_so_under_its_own_name() {
    // `safe`'s handler uses a string, which compiled code does not hold yet: it
    // deoptimizes on every fifth row, until its code is dropped.
    let mut e = on(10);
    let printed = e
        .run(
            "FUNCTION safe(a, b) => TRY a / b CATCH len(\"\")
             FUNCTION sum(i, n, acc) => IF i >= n { acc } ELSE { sum(i + 1, n, acc + safe(i, i % 5)) }
             sum(0, 3000, 0)",
        )
        .unwrap();
    let mut off = off();
    assert_eq!(
        printed,
        off.run(
            "FUNCTION safe(a, b) => TRY a / b CATCH len(\"\")
             FUNCTION sum(i, n, acc) => IF i >= n { acc } ELSE { sum(i + 1, n, acc + safe(i, i % 5)) }
             sum(0, 3000, 0)"
        )
        .unwrap()
    );
    let status = e.jit_status();
    assert!(
        status.contains("safe(int, int) code dropped: deoptimized"),
        "{status}"
    );
    assert!(
        status.contains(
            "sum(int, int, int) code dropped: calls safe(int, int), whose code was dropped"
        ),
        "{status}"
    );
    let s = e.jit_stats();
    assert_eq!(s.hot_functions, 2);
    assert_eq!(s.hot_functions_compiled, 0, "both ended refused: {status}");
    assert!(s.fallback_rate() > 0.9, "{status}");
}

#[test]
fn a_function_called_with_strings_is_not_a_success() {
    let mut e = on(10);
    e.run(
        "FUNCTION id(x) => x
         FUNCTION drive(i, n, acc) => IF i >= n { acc } ELSE { drive(i + 1, n, acc + id(i) + len(id(\"ab\"))) }
         drive(0, 100, 0)",
    )
    .unwrap();
    let status = e.jit_status();
    assert!(status.contains("id: "), "{status}");
    let s = e.jit_stats();
    assert!(s.hot_functions >= 1, "{status}");
    assert!(s.hot_functions_compiled < s.hot_functions, "{status}");
    assert!(s.interpreted_calls > 0, "{status}");
}

#[test]
fn jit_clear_and_off_mode_start_from_nothing() {
    let mut e = on(10);
    e.run(
        "FUNCTION label(n) => n AS string
         FUNCTION total(i, n, acc) => IF i >= n { acc } ELSE { total(i + 1, n, acc + len(label(i))) }
         total(0, 100, 0)",
    )
    .unwrap();
    assert_eq!(e.jit_stats().hot_functions, 2);
    e.jit_clear();
    assert_eq!(e.jit_stats(), JitStats::default());
    let off = Engine::builder().jit(JitMode::Off).build();
    assert_eq!(off.jit_stats(), JitStats::default());
}
