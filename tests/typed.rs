//! Typed handles (`Engine::typed`): compiled at creation, entered directly, and always
//! the interpreter's result or error, through deopts, redefinitions and `jit clear`.

use grizzly::{Engine, ErrorKind, JitMode, TypedFunc, Value};
use quickcheck::{QuickCheck, TestResult};

fn engine(mode: JitMode) -> Engine {
    Engine::builder().jit(mode).build()
}

fn define(e: &mut Engine, src: &str) {
    e.run(src).unwrap_or_else(|err| panic!("{}", err.report()));
}

#[test]
fn a_handle_compiles_at_creation_and_enters_compiled_code() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION add(x, y) => x + y");
    let add = e.typed::<(i64, i64), i64>("add").unwrap();
    assert_eq!(
        e.jit_specializations("add"),
        1,
        "compiled when the handle was made"
    );
    for i in 0..100 {
        assert_eq!(add.call(&mut e, (i, 2 * i)).unwrap(), 3 * i);
    }
    assert_eq!(e.jit_stats().entries, 100);
    assert_eq!(e.jit_stats().fallbacks, 0);
    assert_eq!(add.name(), "add");
}

#[test]
fn every_native_type_passes_both_ways() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "FUNCTION pick(c, a, b) => IF c { a } ELSE { b }\n\
         FUNCTION mix(n, x) => n * 1.5 + x\n\
         FUNCTION seven() => 7\n\
         FUNCTION inc(x) => x + 1",
    );
    let pick = e.typed::<(bool, f64, f64), f64>("pick").unwrap();
    assert_eq!(pick.call(&mut e, (true, 1.5, -0.0)).unwrap(), 1.5);
    assert!(pick
        .call(&mut e, (false, 1.5, -0.0))
        .unwrap()
        .is_sign_negative());
    assert!(pick.call(&mut e, (true, f64::NAN, 0.0)).unwrap().is_nan());
    let mix = e.typed::<(i64, f64), f64>("mix").unwrap();
    assert_eq!(mix.call(&mut e, (2, 0.25)).unwrap(), 3.25);
    let seven = e.typed::<(), i64>("seven").unwrap();
    assert_eq!(seven.call(&mut e, ()).unwrap(), 7);
    let inc = e.typed::<(i64,), i64>("inc").unwrap();
    assert_eq!(inc.call(&mut e, (41,)).unwrap(), 42);
    let not = {
        define(&mut e, "FUNCTION not_(b) => NOT b");
        e.typed::<(bool,), bool>("not_").unwrap()
    };
    assert!(!not.call(&mut e, (true,)).unwrap());
    assert_eq!(e.jit_stats().fallbacks, 0);
    assert!(e.jit_stats().entries >= 6);
}

#[test]
fn making_a_handle_checks_name_arity_and_result_type() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "FUNCTION half(x) => x / 2.0\nFUNCTION add(x, y) => x + y",
    );
    let err = e.typed::<(i64,), i64>("nosuch").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFunction);
    assert_eq!(err.message(), "unknown function 'nosuch'");
    let err = e.typed::<(i64, i64, i64), i64>("add").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongArgumentCount);
    assert_eq!(
        err.message(),
        "wrong number of arguments: 'add' expects 2, got 3"
    );
    let err = e.typed::<(i64,), i64>("half").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(
        err.message(),
        "type error: 'half' returns float for (int), not int"
    );
    // The same function with the right result type.
    let half = e.typed::<(i64,), f64>("half").unwrap();
    assert_eq!(half.call(&mut e, (3,)).unwrap(), 1.5);
}

#[test]
fn a_result_type_known_only_at_the_call_is_checked_there() {
    let mut e = engine(JitMode::On);
    // Branches of different types: compiled with a generic result, so not known in
    // advance.
    define(&mut e, "FUNCTION g(x) => IF x > 0 { 1 } ELSE { \"neg\" }");
    let g = e.typed::<(i64,), i64>("g").unwrap();
    assert_eq!(e.jit_specializations("g"), 1);
    assert!(
        e.jit_status().contains("g(int) -> value"),
        "{}",
        e.jit_status()
    );
    assert_eq!(g.call(&mut e, (5,)).unwrap(), 1);
    let err = g.call(&mut e, (-5,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.message(), "type error: 'g' returned string, not int");
}

#[test]
fn deopts_give_the_interpreters_errors_and_the_handle_keeps_working() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "FUNCTION div(x, y) => x / y\nFUNCTION deep(n) => IF n == 0 { 0 } ELSE { 1 + deep(n - 1) }",
    );
    let div = e.typed::<(i64, i64), i64>("div").unwrap();
    for (x, y) in [(7, 2), (i64::MIN, -1), (1, 0), (-7, 2)] {
        let want = e.call("div", &[Value::Int(x), Value::Int(y)]);
        let got = div.call(&mut e, (x, y));
        match (want, got) {
            (Ok(Value::Int(w)), Ok(g)) => assert_eq!(w, g),
            (Err(w), Err(g)) => {
                assert_eq!((w.kind(), w.message()), (g.kind(), g.message()));
            }
            (w, g) => panic!("{x} / {y}: interpreter {w:?}, handle {g:?}"),
        }
    }
    assert!(e.jit_stats().fallbacks >= 2);
    assert_eq!(div.call(&mut e, (9, 3)).unwrap(), 3);
    // The depth limit inside compiled code.
    let deep = e.typed::<(i64,), i64>("deep").unwrap();
    assert_eq!(deep.call(&mut e, (100,)).unwrap(), 100);
    let err = deep.call(&mut e, (20_000,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StackOverflow);
}

#[test]
fn redefinition_and_jit_clear_never_give_a_stale_answer() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x) => x + 1");
    let f = e.typed::<(i64,), i64>("f").unwrap();
    assert_eq!(f.call(&mut e, (1,)).unwrap(), 2);
    define(&mut e, "FUNCTION f(x) => x * 10");
    assert_eq!(f.call(&mut e, (2,)).unwrap(), 20);
    // Compiled again at that call: the next ones enter the new code.
    assert_eq!(e.jit_specializations("f"), 1);
    let entries = e.jit_stats().entries;
    assert_eq!(f.call(&mut e, (3,)).unwrap(), 30);
    assert_eq!(e.jit_stats().entries, entries + 1);
    // Now it returns a float: an error, never a reinterpreted value.
    define(&mut e, "FUNCTION f(x) => x * 0.5");
    for _ in 0..3 {
        let err = f.call(&mut e, (3,)).unwrap_err();
        assert_eq!(err.message(), "type error: 'f' returned float, not int");
    }
    define(&mut e, "FUNCTION f(x) => x - 1");
    assert_eq!(f.call(&mut e, (3,)).unwrap(), 2);
    e.jit_clear();
    assert_eq!(f.call(&mut e, (5,)).unwrap(), 4);
    assert_eq!(f.call(&mut e, (6,)).unwrap(), 5);
    assert_eq!(e.jit_specializations("f"), 1);
}

#[test]
fn dropping_other_code_keeps_a_handle_on_its_compiled_code() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x) => x + 1\nFUNCTION g(x) => x * 2");
    let f = e.typed::<(i64,), i64>("f").unwrap();
    let g = e.typed::<(i64,), i64>("g").unwrap();
    assert_eq!(g.call(&mut e, (4,)).unwrap(), 8);
    // g's code is dropped; f's is not, and f's handle must notice that it is still live.
    define(&mut e, "FUNCTION g(x) => x * 3");
    let before = e.jit_stats();
    assert_eq!(f.call(&mut e, (1,)).unwrap(), 2);
    assert_eq!(f.call(&mut e, (2,)).unwrap(), 3);
    let after = e.jit_stats();
    assert_eq!(after.entries, before.entries + 2, "f ran compiled");
    assert_eq!(after.specializations, before.specializations);
    assert_eq!(g.call(&mut e, (4,)).unwrap(), 12);
    // After `jit clear` spec ids restart: g's new code may take f's old id, and f's
    // handle must not enter it.
    e.jit_clear();
    assert_eq!(g.call(&mut e, (5,)).unwrap(), 15);
    assert_eq!(f.call(&mut e, (5,)).unwrap(), 6);
    assert_eq!(f.call(&mut e, (6,)).unwrap(), 7);
    assert_eq!(g.call(&mut e, (6,)).unwrap(), 18);
}

#[test]
fn without_the_jit_a_handle_calls_the_interpreter() {
    let mut e = engine(JitMode::Off);
    define(&mut e, "FUNCTION add(x, y) => x + y");
    let add = e.typed::<(i64, i64), i64>("add").unwrap();
    assert_eq!(add.call(&mut e, (2, 3)).unwrap(), 5);
    assert_eq!(e.jit_stats().specializations, 0);
}

#[test]
fn turning_the_jit_off_stops_handles_entering_compiled_code() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION add(x, y) => x + y");
    let add = e.typed::<(i64, i64), i64>("add").unwrap();
    assert_eq!(add.call(&mut e, (1, 2)).unwrap(), 3);
    assert_eq!(e.jit_stats().entries, 1);
    e.set_jit_mode(JitMode::Off);
    assert_eq!(add.call(&mut e, (2, 2)).unwrap(), 4);
    assert_eq!(e.jit_stats().entries, 1);
    e.set_jit_mode(JitMode::On);
    assert_eq!(add.call(&mut e, (3, 2)).unwrap(), 5);
    assert_eq!(e.jit_stats().entries, 2);
}

#[test]
fn a_handle_refuses_another_engine() {
    let mut a = engine(JitMode::On);
    let mut b = engine(JitMode::On);
    define(&mut a, "FUNCTION f(x) => x + 1");
    define(&mut b, "FUNCTION g(x) => x * 1.5\nFUNCTION f(x) => x + 2");
    let f = a.typed::<(i64,), i64>("f").unwrap();
    let err = f.call(&mut b, (1,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(f.call(&mut a, (1,)).unwrap(), 2);
}

#[test]
fn an_engine_and_its_handles_move_to_another_thread() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION sq(x) => x * x");
    let sq: TypedFunc<(i64,), i64> = e.typed("sq").unwrap();
    let total = std::thread::spawn(move || {
        (0..1000)
            .map(|i| sq.call(&mut e, (i,)).unwrap())
            .sum::<i64>()
    })
    .join()
    .unwrap();
    assert_eq!(total, (0..1000i64).map(|i| i * i).sum::<i64>());
}

/// Typed calls agree with `Engine::call` on arbitrary arguments (edge values mixed
/// in by quickcheck's generators), values and errors alike.
#[test]
fn typed_calls_agree_with_dynamic_calls() {
    fn agree(x: i64, y: i64, a: f64, b: f64) -> TestResult {
        let mut e = engine(JitMode::On);
        define(
            &mut e,
            "FUNCTION ints(x, y) => IF x % 3 == 0 { x * y } ELSE { (x - y) / (y % 5) }\n\
             FUNCTION floats(a, b, x) => IF a < b { a * b + x } ELSE { floor(a / b) - x }",
        );
        let ints = e.typed::<(i64, i64), i64>("ints").unwrap();
        let floats = e.typed::<(f64, f64, i64), f64>("floats").unwrap();
        for (x, y) in [(x, y), (y, x), (x, 0), (i64::MIN, y)] {
            let want = e.call("ints", &[Value::Int(x), Value::Int(y)]);
            let got = ints.call(&mut e, (x, y));
            let same = match (&want, &got) {
                (Ok(Value::Int(w)), Ok(g)) => w == g,
                (Err(w), Err(g)) => w.kind() == g.kind() && w.message() == g.message(),
                _ => false,
            };
            if !same {
                return TestResult::error(format!("ints({x}, {y}): {want:?} vs {got:?}"));
            }
        }
        let want = e.call("floats", &[Value::Float(a), Value::Float(b), Value::Int(x)]);
        let got = floats.call(&mut e, (a, b, x));
        let same = match (&want, &got) {
            (Ok(Value::Float(w)), Ok(g)) => {
                w.to_bits() == g.to_bits() || (w.is_nan() && g.is_nan())
            }
            (Err(w), Err(g)) => w.kind() == g.kind() && w.message() == g.message(),
            _ => false,
        };
        if !same {
            return TestResult::error(format!("floats({a}, {b}, {x}): {want:?} vs {got:?}"));
        }
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(agree as fn(i64, i64, f64, f64) -> TestResult);
}

#[test]
fn more_arguments_than_registers_go_through_the_trampoline() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "FUNCTION f(a, b, c, d, x, y) => a + 2 * b + 3 * c + 4 * d + (x * y) AS int",
    );
    let f = e.typed::<(i64, i64, i64, i64, f64, f64), i64>("f").unwrap();
    assert_eq!(f.call(&mut e, (1, 2, 3, 4, 2.5, 4.0)).unwrap(), 40);
    assert_eq!(e.jit_stats().entries, 1, "compiled code ran");
    // A deopt (overflow) gives the interpreter's error; the handle keeps working.
    let err = f.call(&mut e, (i64::MAX, 1, 0, 0, 0.0, 0.0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    assert_eq!(e.jit_stats().fallbacks, 1);
    assert_eq!(f.call(&mut e, (0, 0, 0, 1, 0.5, 0.5)).unwrap(), 4);
    assert_eq!(e.jit_stats().entries, 3);
}

/// The `jit status` line of `sig`'s specialization.
fn status_line(e: &Engine, sig: &str) -> String {
    let status = e.jit_status();
    let line = status.lines().find(|l| l.trim_start().starts_with(sig));
    line.unwrap_or_else(|| panic!("no {sig} in:\n{status}"))
        .to_string()
}

#[test]
fn leaves_are_called_as_native_functions_and_the_rest_through_the_entry_stub() {
    let mut e = engine(JitMode::On);
    let lets: String = (0..300).map(|i| format!("LET v{i} = x + {i}; ")).collect();
    define(
        &mut e,
        &format!(
            "FUNCTION sum_to(n, acc) => IF n == 0 {{ acc }} ELSE {{ sum_to(n - 1, acc + n) }}\n\
             FUNCTION twice(x) => sum_to(x, 0) * 2\n\
             CREATE FUNCTION wide(x) {{ {lets} v0 + v299 }}\n\
             FUNCTION hyp(a, b) => pow(a * a + b * b, 0.5)"
        ),
    );
    let sum_to = e.typed::<(i64, i64), i64>("sum_to").unwrap();
    let twice = e.typed::<(i64,), i64>("twice").unwrap();
    let wide = e.typed::<(i64,), i64>("wide").unwrap();
    let hyp = e.typed::<(f64, f64), f64>("hyp").unwrap();
    // A loop (self tail calls are jumps) and a helper call are leaves.
    assert!(status_line(&e, "sum_to(int, int)").contains("native function for typed calls"));
    assert!(status_line(&e, "hyp(float, float)").contains("native function for typed calls"));
    let line = status_line(&e, "twice(int)");
    assert!(
        line.contains("no native function for typed calls: calls other functions"),
        "{line}"
    );
    let line = status_line(&e, "wide(int)");
    assert!(
        line.contains("no native function for typed calls: code generation failed"),
        "{line}"
    );
    assert!(line.contains("frame of"), "{line}");
    // Either way in, the interpreter's answers and errors.
    assert_eq!(sum_to.call(&mut e, (1000, 0)).unwrap(), 500_500);
    assert_eq!(twice.call(&mut e, (1000,)).unwrap(), 1_001_000);
    assert_eq!(wide.call(&mut e, (1,)).unwrap(), 301);
    assert_eq!(hyp.call(&mut e, (3.0, 4.0)).unwrap(), 5.0);
    let err = sum_to.call(&mut e, (10, i64::MAX - 20)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    let err = wide.call(&mut e, (i64::MAX,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    assert_eq!(e.jit_stats().entries, 6);
    assert_eq!(e.jit_stats().fallbacks, 2);
    // A deopting native function is counted like any: its specialization is
    // discarded after repeated deopts, and the handle goes on in the interpreter.
    for _ in 0..40 {
        let err = sum_to.call(&mut e, (10, i64::MAX - 20)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    }
    assert_eq!(e.jit_specializations("sum_to"), 0);
    assert_eq!(sum_to.call(&mut e, (4, 0)).unwrap(), 10);
}

/// Found by the differential test: compiled code's result type is only what a call
/// gives when no deopt can lead the interpreter down a path of other types.
#[test]
fn a_result_type_that_a_deopt_may_change_is_checked_at_the_call_not_refused() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "CREATE FUNCTION f(n, x) { IF n > 0 { f(min(n, 1) - 1, 0.0) } ELSE { x } }\n\
         FUNCTION g(x) => TRY x * 2 CATCH 0.5\n\
         FUNCTION h(x) => g(x) + 1\n\
         FUNCTION k(x) => IF x > 0 { x * 2 } ELSE { k(x + 1) }",
    );
    // f(1.0, 0) loops with x a float: the compiled code (int) deopts; the
    // interpreter's float is the answer.
    let f = e.typed::<(f64, i64), f64>("f").unwrap();
    assert_eq!(f.call(&mut e, (1.0, 0)).unwrap(), 0.0);
    assert_eq!(
        f.call(&mut e, (0.0, 7)).unwrap_err().kind(),
        ErrorKind::Type
    );
    let f = e.typed::<(f64, i64), i64>("f").unwrap();
    assert_eq!(f.call(&mut e, (0.0, 7)).unwrap(), 7);
    assert_eq!(
        f.call(&mut e, (1.0, 0)).unwrap_err().kind(),
        ErrorKind::Type
    );
    // The loop makes `x` generic: the result is known only at the call.
    let line = status_line(&e, "f(float, int)");
    assert!(line.contains("-> value"), "{line}");
    // A `TRY` whose alternative is a float, in the function or in a callee.
    for name in ["g", "h"] {
        let as_float = e.typed::<(i64,), f64>(name).unwrap();
        assert!(as_float.call(&mut e, (i64::MAX,)).unwrap() > 0.0, "{name}");
        let as_int = e.typed::<(i64,), i64>(name).unwrap();
        assert!(as_int.call(&mut e, (3,)).unwrap() >= 6, "{name}");
    }
    // Where every value is an int, a float handle is refused when made.
    let err = e.typed::<(i64,), f64>("k").unwrap_err();
    assert_eq!(
        err.message(),
        "type error: 'k' returns int for (int), not float"
    );
}
