//! JIT tiering: thresholds, modes, hot loops entering compiled code, types and
//! definitions changing after a function became hot.
#![cfg(feature = "jit")]

mod jit_common;
use jit_common::*;

// ---- tiering ----

#[test]
fn compiles_a_hot_function_at_the_threshold_not_before() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(5).build();
    define(&mut e, "FUNCTION inc(x) => x + 1");
    for i in 0..4 {
        assert_eq!(e.call("inc", &[int(i)]).unwrap(), int(i + 1));
    }
    assert_eq!(e.jit_specializations("inc"), 0);
    assert_eq!(e.jit_stats(), JitStats::default());
    assert!(
        !e.jit_status().contains("compiled in"),
        "{}",
        e.jit_status()
    );

    // The 5th call compiles and runs compiled code.
    assert_eq!(e.call("inc", &[int(41)]).unwrap(), int(42));
    assert_eq!(e.jit_specializations("inc"), 1);
    let s = e.jit_stats();
    assert_eq!((s.specializations, s.entries, s.fallbacks), (1, 1, 0));
    assert_eq!((s.hot_functions, s.hot_functions_compiled), (1, 1));
    let status = e.jit_status();
    let line = status_line(&status, "inc(int) -> int: compiled in");
    assert!(line.contains("1 entries (0 fell back)"), "{line}");

    // Later calls, from the host and from programs, enter the same code.
    assert_eq!(e.call("inc", &[int(-1)]).unwrap(), int(0));
    assert_eq!(value(&mut e, "inc(9) + inc(10)"), int(21));
    assert_eq!(e.jit_stats().entries, 4);
    assert_eq!(e.jit_stats().specializations, 1);
}

#[test]
fn program_calls_count_toward_the_threshold() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(3).build();
    define(&mut e, "FUNCTION twice(x) => x * 2");
    assert_eq!(e.run("twice(1); twice(2)").unwrap(), [int(2), int(4)]);
    assert_eq!(e.jit_specializations("twice"), 0);
    assert_eq!(e.run("twice(3)").unwrap(), [int(6)]);
    assert_eq!(e.jit_specializations("twice"), 1);
    assert_eq!(e.jit_stats().entries, 1);
    assert_eq!(e.calls("twice").unwrap(), 3);
}

#[test]
fn jit_off_never_compiles() {
    let mut e = off();
    define(
        &mut e,
        "FUNCTION inc(x) => x + 1\n\
         FUNCTION sum_to(n, acc) => IF n == 0 { acc } ELSE { sum_to(n - 1, acc + n) }",
    );
    for i in 0..100 {
        assert_eq!(e.call("inc", &[int(i)]).unwrap(), int(i + 1));
    }
    assert_eq!(value(&mut e, "sum_to(1000, 0)"), int(500500));
    assert_eq!(e.jit_stats(), JitStats::default());
    assert_eq!(e.jit_specializations("inc"), 0);
    assert_eq!(e.jit_specializations("sum_to"), 0);
    assert!(e.jit_dump("inc").unwrap().contains("has no compiled code"));
    // Compiling on request still works (it does not depend on the mode)...
    e.jit_compile("inc", &[int(0)]).unwrap();
    assert_eq!(e.jit_specializations("inc"), 1);
    // ...but an interpreter-only engine never enters it.
    assert_eq!(e.call("inc", &[int(1)]).unwrap(), int(2));
    assert_eq!(e.jit_stats().entries, 0);
}

#[test]
fn eager_compiles_at_the_first_call() {
    let mut e = eager();
    define(&mut e, "FUNCTION inc(x) => x + 1");
    assert_eq!(e.jit_specializations("inc"), 0, "defining compiles nothing");
    assert_eq!(e.call("inc", &[int(1)]).unwrap(), int(2));
    let s = e.jit_stats();
    assert_eq!((s.specializations, s.entries, s.fallbacks), (1, 1, 0));
    assert_eq!((s.hot_functions, s.hot_functions_compiled), (1, 1));
}

#[test]
fn jit_clear_drops_code_and_restarts_the_counters() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(5).build();
    define(&mut e, "FUNCTION inc(x) => x + 1");
    for i in 0..8 {
        e.call("inc", &[int(i)]).unwrap();
    }
    assert_eq!(e.jit_specializations("inc"), 1);
    assert_eq!(e.jit_stats().entries, 4);

    e.jit_clear();
    assert_eq!(e.jit_specializations("inc"), 0);
    assert_eq!(e.jit_stats(), JitStats::default());
    assert_eq!(e.calls("inc").unwrap(), 0);
    assert!(e.jit_dump("inc").unwrap().contains("has no compiled code"));
    let status = e.jit_status();
    assert!(status.contains("code memory: 0 bytes in use"), "{status}");

    // Counting starts again: 4 calls interpreted, the 5th compiles.
    for i in 0..4 {
        assert_eq!(e.call("inc", &[int(i)]).unwrap(), int(i + 1));
    }
    assert_eq!(e.jit_specializations("inc"), 0);
    assert_eq!(e.call("inc", &[int(7)]).unwrap(), int(8));
    assert_eq!(e.jit_specializations("inc"), 1);
    assert_eq!(e.jit_stats().entries, 1);
}

#[test]
fn mode_and_threshold_can_change_on_a_live_engine() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(100).build();
    define(&mut e, "FUNCTION inc(x) => x + 1");
    for i in 0..3 {
        e.call("inc", &[int(i)]).unwrap();
    }
    assert_eq!(e.jit_specializations("inc"), 0);
    e.set_threshold(4);
    e.call("inc", &[int(0)]).unwrap();
    assert_eq!(e.jit_specializations("inc"), 1);
    assert_eq!(e.jit_stats().entries, 1);

    // Off: compiled code stays, but is not entered.
    e.set_jit_mode(JitMode::Off);
    assert_eq!(e.call("inc", &[int(5)]).unwrap(), int(6));
    assert_eq!(e.jit_stats().entries, 1);

    // Eager again: a new function compiles at its first call.
    e.set_jit_mode(JitMode::Eager);
    define(&mut e, "FUNCTION dec(x) => x - 1");
    assert_eq!(e.call("dec", &[int(5)]).unwrap(), int(4));
    assert_eq!(e.jit_specializations("dec"), 1);
    assert_eq!(e.call("inc", &[int(5)]).unwrap(), int(6));
    assert_eq!(e.jit_stats().entries, 3);
}

// ---- self tail loops ----

const SUM_TO: &str = "FUNCTION sum_to(n, acc) => IF n == 0 { acc } ELSE { sum_to(n - 1, acc + n) }";

#[test]
fn a_hot_self_tail_loop_continues_in_compiled_code() {
    let mut e = Engine::new();
    assert_eq!(e.jit_mode(), JitMode::On);
    define(&mut e, SUM_TO);
    // One call: the interpreter runs the first iterations, then the loop becomes hot at
    // a self tail call and the rest (ten million iterations) runs compiled.
    assert_eq!(
        value(&mut e, "sum_to(10000000, 0)"),
        int(50_000_005_000_000)
    );
    let stats = e.jit_stats();
    assert!(stats.entries >= 1, "{stats:?}");
    assert_eq!(stats.fallbacks, 0);
    assert_eq!(e.jit_specializations("sum_to"), 1);
    // Only the interpreted iterations were counted.
    let calls = e.calls("sum_to").unwrap();
    assert!(calls < 1000, "{calls} iterations ran in the interpreter");

    // From the host, in eager mode, the whole loop runs compiled.
    let mut e = eager();
    define(&mut e, SUM_TO);
    assert_eq!(
        e.call("sum_to", &[int(10_000_000), int(0)]).unwrap(),
        int(50_000_005_000_000)
    );
    assert_eq!(e.jit_stats().entries, 1);
    assert_eq!(e.calls("sum_to").unwrap(), 1);
}

#[test]
fn an_overflow_late_in_a_compiled_loop_gives_the_interpreters_error() {
    // The accumulator starts near the limit: the last iterations overflow.
    let defs = SUM_TO;
    let exprs = [
        "sum_to(100, 9223372036854775807 - 5050)",
        "sum_to(100, 9223372036854775807 - 5049)",
        "TRY sum_to(100, 9223372036854775807 - 5049) CATCH -1",
    ];
    let mut e = eager();
    let out = agree(&mut e, defs, &exprs);
    assert_eq!(out[0], Outcome::Value(i64::MAX.to_string(), int(i64::MAX)));
    assert_eq!(
        out[1],
        Outcome::Error(ErrorKind::IntegerOverflow, "integer overflow".into())
    );
    // The first call finished compiled; the overflowing ones entered and fell back (the
    // interpreter's rerun of the loop may offer it to compiled code again).
    let stats = e.jit_stats();
    assert!(stats.entries >= 3 && stats.fallbacks >= 2, "{stats:?}");
    assert_eq!(stats.entries - stats.fallbacks, 1, "{stats:?}");
    assert_eq!(e.jit_specializations("sum_to"), 1);
}

#[test]
fn loop_parameters_in_registers_keep_their_values() {
    // Parallel moves (swaps, rotations) of int, float and bool parameters, with and
    // without calls (calls clobber the registers that hold the parameters).
    let defs = "\
FUNCTION g(u) => u + 0.25
CREATE FUNCTION rot(k, a, b, c, x, y, p) {
  IF k <= 0 { (a * 100 + b * 10 + c) + x * 1000.0 - y + (IF p { 0.5 } ELSE { 0.0 }) }
  ELSE { rot(k - 1, b, c, a, y, x, NOT p) } }
CREATE FUNCTION rot_calls(k, a, b, x, y) {
  IF k <= 0 { a - b + x * 10.0 + y }
  ELSE { rot_calls(k - 1, b, a + 1, g(y), floor(x) + pow(y, 1.0)) } }
CREATE FUNCTION many(k, a, b, c, d, e, f, g, h, x, y) {
  IF k <= 0 { a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8 + x - y }
  ELSE { many(k - 1, h, a, b, c, d, e, f, g, y + 1.0, x) } }";
    let mut exprs = Vec::new();
    for k in [0, 1, 2, 3, 4, 7, 100] {
        exprs.push(format!("rot({k}, 1, 2, 3, 0.5, -2.0, true)"));
        exprs.push(format!("rot_calls({k}, 5, 9, 1.5, -3.25)"));
        exprs.push(format!("many({k}, 1, 2, 3, 4, 5, 6, 7, 8, 0.5, 0.25)"));
    }
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    assert_compiled_values(&exprs, &out);
}

#[test]
fn a_let_of_a_float_loop_parameter_sees_its_current_value() {
    let defs = "\
CREATE FUNCTION f(k, x) { LET z = x; IF k <= 0 { z } ELSE { f(k - 1, 2.0) } }
CREATE FUNCTION in_branch(k, x) { IF k <= 0 { LET z = x; z } ELSE { in_branch(k - 1, x + 1.0) } }
CREATE FUNCTION swap(k, x, y) { LET z = x; IF k <= 0 { z + y } ELSE { swap(k - 1, y, z) } }
CREATE FUNCTION annotated(k, x: float) { LET z = x; IF k <= 0 { z } ELSE { annotated(k - 1, 7) } }";
    let exprs = [
        "f(1, 1.0)",
        "in_branch(3, 1.0)",
        "swap(3, 1.0, 2.0)",
        "annotated(2, 1.0)",
    ];
    let mut e = eager();
    let out = agree_each(&mut e, defs, &exprs);
    assert_compiled_values(&exprs, &out);
    assert_eq!(out[0].0, Outcome::Value("2.0".into(), Value::Float(2.0)));
}

// ---- guards after a function became hot ----

#[test]
fn overflow_after_the_function_became_hot() {
    let defs = "FUNCTION sq(x) => x * x";
    let mut e = Engine::new();
    define(&mut e, defs);
    for i in 0..20 {
        assert_eq!(e.call("sq", &[int(i)]).unwrap(), int(i * i));
    }
    assert_eq!(e.jit_specializations("sq"), 1);
    let before = e.jit_stats();
    assert_eq!(before.fallbacks, 0);

    // The first overflow enters compiled code, fails its guard, and the interpreter's
    // rerun raises exactly the interpreter's error.
    let overflow = Outcome::Error(ErrorKind::IntegerOverflow, "integer overflow".into());
    assert_eq!(eval(&mut e, "sq(4000000000)"), overflow);
    let after = e.jit_stats();
    assert_eq!(after.entries - before.entries, 1, "{after:?}");
    assert_eq!(after.fallbacks - before.fallbacks, 1, "{after:?}");
    let status = e.jit_status();
    assert!(
        status_line(&status, "sq(int) -> int").contains("deopts: 1 integer overflow"),
        "{status}"
    );

    // Whether compiled or backing off, every later call agrees with the interpreter.
    let mut reference = off();
    define(&mut reference, defs);
    let exprs = [
        "sq(4000000000)",
        "sq(3037000499)",
        "sq(3037000500)",
        "sq(-3037000500)",
        "sq(-9223372036854775807 - 1)",
        "TRY sq(4000000000) CATCH -1",
    ];
    for _ in 0..10 {
        for src in exprs {
            assert_eq!(eval(&mut e, src), eval(&mut reference, src), "{src}");
        }
    }
    assert_eq!(
        e.call("sq", &[int(3_037_000_499)]).unwrap(),
        int(9_223_372_030_926_249_001)
    );
    // A few overflows do not discard the code, and it is entered again.
    assert_eq!(e.jit_specializations("sq"), 1, "{}", e.jit_status());
    let entries = e.jit_stats().entries;
    for i in 0..200 {
        assert_eq!(e.call("sq", &[int(i)]).unwrap(), int(i * i));
    }
    let end = e.jit_stats();
    assert!(end.entries > entries + 100, "{end:?}");
    assert!(end.fallbacks > after.fallbacks, "{end:?}");
}

#[test]
fn argument_types_changing_after_hot() {
    let defs = "FUNCTION f(x) => x + x";
    let mut e = Engine::new();
    define(&mut e, defs);
    for i in 0..15 {
        assert_eq!(e.call("f", &[int(i)]).unwrap(), int(2 * i));
    }
    assert_eq!(e.jit_specializations("f"), 1);

    assert_eq!(
        e.call("f", &[Value::Float(1.5)]).unwrap(),
        Value::Float(3.0)
    );
    assert_eq!(e.jit_specializations("f"), 2);
    let status = e.jit_status();
    status_line(&status, "f(int) -> int: compiled");
    status_line(&status, "f(float) -> float: compiled");

    // A string gets a generic specialization.
    let entries = e.jit_stats().entries;
    assert_eq!(
        e.call("f", &[Value::str("ab")]).unwrap(),
        Value::str("abab")
    );
    assert_eq!(e.jit_stats().entries, entries + 1);
    assert_eq!(e.jit_specializations("f"), 3);
    status_line(&e.jit_status(), "f(value) -> value: compiled");
    // Both specializations still serve their types.
    assert_eq!(e.call("f", &[int(21)]).unwrap(), int(42));
    assert_eq!(
        e.call("f", &[Value::Float(-0.25)]).unwrap(),
        Value::Float(-0.5)
    );
    assert_eq!(e.jit_stats().entries, entries + 3);

    // A bool is a type error, exactly as in the interpreter.
    let mut reference = off();
    define(&mut reference, defs);
    for args in [[Value::Bool(true)], [Value::Null], [Value::Float(f64::NAN)]] {
        assert_eq!(
            call(&mut e, "f", &args),
            call(&mut reference, "f", &args),
            "{args:?}"
        );
    }
}

#[test]
fn past_max_specs_the_generic_specialization_takes_every_call() {
    // Nine combinations of argument types: the first four get their own
    // specializations, the function's generic one (every argument generic) takes the
    // other five, in compiled code.
    let defs = "FUNCTION first(a, b) => IF b == true { a } ELSE { b }";
    let mut e = eager();
    let mut reference = off();
    define(&mut e, defs);
    define(&mut reference, defs);
    let samples = [int(1), Value::Float(2.5), Value::Bool(true)];
    for round in 0..3 {
        for a in &samples {
            for b in &samples {
                let args = [a.clone(), b.clone()];
                let before = e.jit_stats().entries;
                assert_eq!(
                    call(&mut e, "first", &args),
                    call(&mut reference, "first", &args),
                    "{args:?}"
                );
                assert_eq!(e.jit_stats().entries, before + 1, "round {round}: {args:?}");
            }
        }
    }
    assert_eq!(
        e.jit_specializations("first"),
        grizzly::internals::MAX_SPECS + 1
    );
    let status = e.jit_status();
    assert!(status.contains("first(value, value)"), "{status}");
    assert!(!status.contains("not compiled"), "{status}");
    assert_eq!(e.jit_stats().fallbacks, 0);
}

#[test]
fn redefinition_after_hot_reaches_compiled_callers() {
    let defs = "FUNCTION f(x) => x + 1\nFUNCTION g(x) => f(x) * 2";
    let mut e = eager();
    define(&mut e, defs);
    assert_eq!(e.call("g", &[int(1)]).unwrap(), int(4));
    // g's code calls f's code directly: both compiled in one batch.
    assert_eq!(e.jit_specializations("g"), 1);
    assert_eq!(e.jit_specializations("f"), 1);
    assert_eq!(e.jit_stats().entries, 1);

    define(&mut e, "CREATE OR REPLACE FUNCTION f(x) { x + 100 }");
    assert_eq!(e.jit_specializations("f"), 0);
    assert_eq!(e.jit_specializations("g"), 0, "g's code called the old f");
    assert_eq!(e.call("g", &[int(1)]).unwrap(), int(202));
    assert_eq!(e.jit_specializations("g"), 1);
    assert_eq!(e.jit_specializations("f"), 1);

    // A new result type.
    define(&mut e, "FUNCTION f(x) => x + 0.5");
    assert_eq!(e.call("g", &[int(1)]).unwrap(), Value::Float(3.0));
    // Another arity: the interpreter's error.
    define(&mut e, "FUNCTION f(x, y) => x");
    let mut reference = off();
    define(&mut reference, defs);
    define(&mut reference, "FUNCTION f(x, y) => x");
    assert_eq!(
        call(&mut e, "g", &[int(1)]),
        call(&mut reference, "g", &[int(1)])
    );
    assert_eq!(
        call(&mut e, "g", &[int(1)]),
        Outcome::Error(
            ErrorKind::WrongArgumentCount,
            "wrong number of arguments: 'f' expects 2, got 1".into()
        )
    );
}

#[test]
fn redefinition_in_on_mode_after_the_caller_became_hot() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(3).build();
    define(
        &mut e,
        "FUNCTION f(x) => x + 1\nFUNCTION g(n, acc) => IF n == 0 { acc } ELSE { g(n - 1, acc + f(n)) }",
    );
    assert_eq!(value(&mut e, "g(100, 0)"), int(5150));
    assert_eq!(e.jit_specializations("g"), 1);
    let entries = e.jit_stats().entries;
    define(&mut e, "FUNCTION f(x) => x * 2");
    assert_eq!(value(&mut e, "g(100, 0)"), int(10100));
    assert!(e.jit_stats().entries > entries);
    assert_eq!(e.jit_specializations("g"), 1);
}

#[test]
fn a_callee_defined_after_its_caller_was_compiled() {
    let mut e = eager();
    define(&mut e, "FUNCTION caller(x) => later(x) + 1");
    assert_eq!(
        call(&mut e, "caller", &[int(1)]),
        Outcome::Error(
            ErrorKind::UnknownFunction,
            "unknown function 'later'".into()
        )
    );
    // Its code called an undefined function: defining any function drops it.
    define(&mut e, "FUNCTION later(x) => x * 10");
    assert_eq!(e.jit_specializations("caller"), 0);
    // (after the fallback, the caller may wait a few calls before it is compiled again)
    for i in 0..100 {
        assert_eq!(e.call("caller", &[int(i)]).unwrap(), int(10 * i + 1));
    }
    assert_eq!(e.jit_specializations("caller"), 1);
    assert_eq!(e.jit_specializations("later"), 1);
    let stats = e.jit_stats();
    assert!(stats.entries - stats.fallbacks > 10, "{stats:?}");
}

#[test]
fn entries_with_few_and_many_arguments_pass_every_word() {
    // Up to eight arguments enter through a buffer on the stack, more through a vector.
    let params: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    let weighted: Vec<String> = (0..12).map(|i| format!("p{i} * {}", i + 1)).collect();
    let mut defs = String::new();
    for n in [1, 7, 8, 9, 12] {
        defs.push_str(&format!(
            "FUNCTION w{n}({}) => {}\n",
            params[..n].join(", "),
            weighted[..n].join(" + ")
        ));
    }
    let mut exprs = Vec::new();
    for n in [1, 7, 8, 9, 12] {
        let args: Vec<String> = (0..n).map(|i| format!("{}", 3 * i as i64 - 7)).collect();
        exprs.push(format!("w{n}({})", args.join(", ")));
        let floats: Vec<String> = (0..n).map(|i| format!("{}.5", i)).collect();
        exprs.push(format!("w{n}({})", floats.join(", ")));
    }
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let mut e = eager();
    let out = agree_each(&mut e, &defs, &exprs);
    assert_compiled_values(&exprs, &out);
}

#[test]
fn a_call_refused_by_the_callees_annotation_is_recompiled_when_the_callee_changes() {
    // f1's code raises at the call of f0 (its annotation refuses a bool); once f0 is
    // redefined without it, that code must go (found by the differential generator).
    let mut e = eager();
    let mut reference = off();
    let defs = "CREATE FUNCTION f0(p: int) { 0.0 }
                CREATE FUNCTION f1(n) { IF n > 0 { FALSE } ELSE { f0(FALSE) } }";
    define(&mut e, defs);
    define(&mut reference, defs);
    assert_eq!(eval(&mut e, "f1(0)"), eval(&mut reference, "f1(0)"));
    for engine in [&mut e, &mut reference] {
        define(engine, "CREATE OR REPLACE FUNCTION f0(p) { 0 }");
    }
    assert_eq!(eval(&mut e, "f1(0)"), Outcome::Value("0".into(), int(0)));
    let f1 = e.typed::<(i64,), i64>("f1").unwrap();
    assert_eq!(f1.call(&mut e, (0,)).unwrap(), 0);
}
