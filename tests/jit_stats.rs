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
    // `wide` takes more arguments than compiled code passes: it, and every caller,
    // is refused.
    let params: Vec<String> = (0..65).map(|i| format!("a{i}")).collect();
    let args = vec!["n"; 65].join(", ");
    e.run(&format!(
        "FUNCTION wide({}) => a0 % 3
         FUNCTION label(n) => wide({args})
         FUNCTION total(i, n, acc) => IF i >= n {{ acc }} ELSE {{ total(i + 1, n, acc + label(i)) }}
         total(0, 2000, 0)",
        params.join(", ")
    ))
    .unwrap();
    let s = e.jit_stats();
    // All three became hot at their 10th call; none can be compiled, so every later
    // call ran in the interpreter: wide's and label's 1991 and total's 1992 (self tail
    // calls count as calls).
    assert_eq!((s.hot_functions, s.hot_functions_compiled), (3, 0));
    assert_eq!(s.interpreted_calls, 1991 * 2 + 1992, "{}", e.jit_status());
    assert_eq!((s.compile_success_rate(), s.fallback_rate()), (0.0, 1.0));
    let status = e.jit_status();
    assert!(
        status.contains("3 functions became hot, 0 of them compiled (compile success rate 0.0%)"),
        "{status}"
    );
    assert!(status.contains("(fallback rate 100.0%)"), "{status}");
}

#[test]
fn a_caller_dropped_with_its_callee_says_so_under_its_own_name() {
    // `safe`'s handler is not compiled: it
    // deoptimizes on every fifth row, until its code is dropped.
    let program = format!(
        "FUNCTION safe(a, b) => TRY a / b CATCH slow(0, 0)
         {}
         FUNCTION sum(i, n, acc) => IF i >= n {{ acc }} ELSE {{ sum(i + 1, n, acc + safe(i, i % 5)) }}
         sum(0, 3000, 0)",
        uncompiled_slow()
    );
    let mut e = on(10);
    let printed = e.run(&program).unwrap();
    let mut off = off();
    assert_eq!(printed, off.run(&program).unwrap());
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
    // (The chain inside `slow` is hot too, and its short ends compile.)
    assert!(e.jit_stats().interpreted_calls > 0, "{status}");
}

#[test]
fn a_function_called_with_strings_compiles_for_them() {
    let mut e = on(10);
    e.run(
        "FUNCTION id(x) => x
         FUNCTION drive(i, n, acc) => IF i >= n { acc } ELSE { drive(i + 1, n, acc + id(i) + len(id(\"ab\"))) }
         drive(0, 100, 0)",
    )
    .unwrap();
    let status = e.jit_status();
    assert!(status.contains("id: "), "{status}");
    status_line(&status, "id(value) -> value: compiled");
    let s = e.jit_stats();
    assert!(s.hot_functions >= 1, "{status}");
    assert_eq!(s.hot_functions_compiled, s.hot_functions, "{status}");
    assert_eq!(s.interpreted_calls, 0, "{status}");
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
    // (`label` runs compiled inside `total`: only `total` became hot.)
    assert_eq!(e.jit_stats().hot_functions, 1);
    e.jit_clear();
    assert_eq!(e.jit_stats(), JitStats::default());
    let off = Engine::builder().jit(JitMode::Off).build();
    assert_eq!(off.jit_stats(), JitStats::default());
}
