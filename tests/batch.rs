//! Batch calls (`TypedFunc::call_batch`): whole columns through compiled code in one
//! entry, and always the results (or the first error) that calling row by row gives.

mod jit_common;

use grizzly::{Engine, ErrorKind, JitMode, Value};
use quickcheck::{QuickCheck, TestResult};

fn engine(mode: JitMode) -> Engine {
    Engine::builder().jit(mode).build()
}

fn define(e: &mut Engine, src: &str) {
    e.run(src).unwrap_or_else(|err| panic!("{}", err.report()));
}

#[test]
fn columns_run_in_compiled_code_row_after_row() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x, y) => x * y + 1");
    let f = e.typed::<(i64, i64), i64>("f").unwrap();
    let xs: Vec<i64> = (0..10_000).map(|i| i - 5_000).collect();
    let ys: Vec<i64> = (0..10_000).map(|i| (i * 7) % 13 - 6).collect();
    let before = e.jit_stats();
    let got = f.call_batch(&mut e, (&xs, &ys)).unwrap();
    let after = e.jit_stats();
    let want: Vec<i64> = xs.iter().zip(&ys).map(|(x, y)| x * y + 1).collect();
    assert_eq!(got, want);
    assert_eq!(after.entries - before.entries, 10_000, "every row compiled");
    assert_eq!(after.fallbacks, before.fallbacks);
}

#[test]
fn a_deoptimizing_row_runs_in_the_interpreter_and_the_batch_goes_on() {
    let mut e = engine(JitMode::On);
    // Compiled, TRY is its first operand: its handler is not compiled, so an overflow
    // deoptimizes and the interpreter's CATCH gives -1.
    let defs = "FUNCTION f(x) => TRY x * 3 CATCH slow(0, 4) - 5\n".to_string();
    define(&mut e, &(defs + &jit_common::uncompiled_slow()));
    let f = e.typed::<(i64,), i64>("f").unwrap();
    let mut xs: Vec<i64> = (0..1000).collect();
    for i in [0, 17, 500, 999] {
        xs[i] = i64::MAX / 2;
    }
    let got = f.call_batch(&mut e, (&xs,)).unwrap();
    let want: Vec<i64> = xs.iter().map(|&x| x.checked_mul(3).unwrap_or(-1)).collect();
    assert_eq!(got, want);
    let stats = e.jit_stats();
    assert_eq!(stats.fallbacks, 4, "one deopt per overflowing row");
    assert_eq!(stats.entries, 1000);
}

#[test]
fn the_first_failing_row_ends_the_batch_with_its_error() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x, y) => x / y");
    let f = e.typed::<(i64, i64), i64>("f").unwrap();
    let err = f
        .call_batch(&mut e, (&[6, 7, i64::MIN, 9], &[3, 0, -1, 0]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DivisionByZero);
    let err = f
        .call_batch(&mut e, (&[6, i64::MIN, 8], &[3, -1, 0]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    assert_eq!(
        f.call_batch(&mut e, (&[6, 8], &[3, -2])).unwrap(),
        [2, -4],
        "the handle keeps working"
    );
}

#[test]
fn columns_must_be_of_one_length() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x, y) => x + y\nFUNCTION k() => 1");
    let f = e.typed::<(i64, i64), i64>("f").unwrap();
    let err = f.call_batch(&mut e, (&[1, 2], &[1])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.message().contains("all of one length"), "{err}");
    assert_eq!(f.call_batch(&mut e, (&[], &[])).unwrap(), Vec::<i64>::new());
    let k = e.typed::<(), i64>("k").unwrap();
    assert_eq!(
        k.call_batch(&mut e, ()).unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn bool_and_float_columns_and_results() {
    let mut e = engine(JitMode::On);
    define(
        &mut e,
        "FUNCTION pick(b, x) => IF b { x } ELSE { -x }\n\
         FUNCTION big(x) => x > 0.5\n\
         FUNCTION scale(x, k) => x * k",
    );
    let pick = e.typed::<(bool, f64), f64>("pick").unwrap();
    let got = pick
        .call_batch(&mut e, (&[true, false, true], &[1.5, 2.5, f64::NAN]))
        .unwrap();
    assert_eq!(got[..2], [1.5, -2.5]);
    assert!(got[2].is_nan());
    let big = e.typed::<(f64,), bool>("big").unwrap();
    assert_eq!(
        big.call_batch(&mut e, (&[0.25, 0.75, f64::NAN],)).unwrap(),
        [false, true, false]
    );
    let scale = e.typed::<(f64, i64), f64>("scale").unwrap();
    let got = scale
        .call_batch(&mut e, (&[0.1, -0.0, 1e300], &[3, 2, 10]))
        .unwrap();
    let want: [f64; 3] = [0.1 * 3.0, -0.0 * 2.0, 1e300 * 10.0];
    assert_eq!(
        got.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
        want.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn redefinition_between_batches_and_without_the_jit() {
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION f(x) => x + 1");
    let f = e.typed::<(i64,), i64>("f").unwrap();
    assert_eq!(f.call_batch(&mut e, (&[1, 2],)).unwrap(), [2, 3]);
    define(&mut e, "FUNCTION f(x) => x * 10");
    assert_eq!(f.call_batch(&mut e, (&[1, 2, 3],)).unwrap(), [10, 20, 30]);
    define(&mut e, "FUNCTION f(x) => x * 0.5");
    let err = f.call_batch(&mut e, (&[1],)).unwrap_err();
    assert_eq!(err.message(), "type error: 'f' returned float, not int");
    define(&mut e, "FUNCTION f(x) => x - 1");
    e.set_jit_mode(JitMode::Off);
    let entries = e.jit_stats().entries;
    assert_eq!(f.call_batch(&mut e, (&[1, 2],)).unwrap(), [0, 1]);
    assert_eq!(e.jit_stats().entries, entries, "the interpreter ran them");
}

/// A batch gives exactly what calling row by row gives: every value, or the first
/// failing row's error; in every JIT mode, on columns with edge values mixed in.
#[test]
fn batches_agree_with_calls_row_by_row() {
    fn agree(xs: Vec<i64>, ys: Vec<i64>, fs: Vec<f64>, mode: u8) -> TestResult {
        let rows = xs.len().min(ys.len()).min(fs.len());
        let (xs, ys, fs) = (&xs[..rows], &ys[..rows], &fs[..rows]);
        let mode = [JitMode::On, JitMode::Eager, JitMode::Off][mode as usize % 3];
        let mut e = engine(mode);
        define(
            &mut e,
            "FUNCTION ints(x, y) => IF x % 3 == 0 { x * y } ELSE { (x - y) / (y % 5) }\n\
             FUNCTION mixed(x, f) => IF f < 0.0 { x * 2 } ELSE { (f * 0.5) AS int + x }\n\
             FUNCTION safe(x, y) => TRY x * y CATCH 0",
        );
        for name in ["ints", "safe"] {
            let h = e.typed::<(i64, i64), i64>(name).unwrap();
            let got = h.call_batch(&mut e, (xs, ys));
            let want: Result<Vec<Value>, _> = xs
                .iter()
                .zip(ys)
                .map(|(&x, &y)| e.call(name, &[Value::Int(x), Value::Int(y)]))
                .collect();
            if let Some(why) = differ(&got.map(|v| v.into_iter().map(Value::Int).collect()), &want)
            {
                return TestResult::error(format!("{name} on {xs:?} {ys:?}: {why}"));
            }
        }
        let h = e.typed::<(i64, f64), i64>("mixed").unwrap();
        let got = h.call_batch(&mut e, (xs, fs));
        let want: Result<Vec<Value>, _> = xs
            .iter()
            .zip(fs)
            .map(|(&x, &f)| e.call("mixed", &[Value::Int(x), Value::Float(f)]))
            .collect();
        if let Some(why) = differ(&got.map(|v| v.into_iter().map(Value::Int).collect()), &want) {
            return TestResult::error(format!("mixed on {xs:?} {fs:?}: {why}"));
        }
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(agree as fn(Vec<i64>, Vec<i64>, Vec<f64>, u8) -> TestResult);
}

fn differ(
    got: &Result<Vec<Value>, grizzly::Error>,
    want: &Result<Vec<Value>, grizzly::Error>,
) -> Option<String> {
    match (got, want) {
        (Ok(g), Ok(w)) if g == w => None,
        (Err(g), Err(w)) if g.kind() == w.kind() && g.message() == w.message() => None,
        _ => Some(format!("batch {got:?}, rows {want:?}")),
    }
}

#[test]
fn rare_deopts_through_handles_keep_the_code() {
    // 20 deopts in 20,000 entries: far under one in DEOPT_RATIO, so the code stays
    // (it would be discarded after DEOPT_LIMIT deopts if typed entries went uncounted).
    let mut e = engine(JitMode::On);
    // The handler deoptimizes (see above).
    let defs = "FUNCTION f(x) => TRY x * 3 CATCH slow(0, 4) - 5\n".to_string();
    define(&mut e, &(defs + &jit_common::uncompiled_slow()));
    let f = e.typed::<(i64,), i64>("f").unwrap();
    let xs: Vec<i64> = (0..10_000)
        .map(|i| if i % 1000 == 999 { i64::MAX } else { i })
        .collect();
    for &x in &xs {
        f.call(&mut e, (x,)).unwrap();
    }
    f.call_batch(&mut e, (&xs,)).unwrap();
    assert_eq!(e.jit_specializations("f"), 1, "{}", e.jit_status());
    assert!(
        e.jit_status().contains("20000 entries (20 fell back)"),
        "{}",
        e.jit_status()
    );
}

#[test]
fn generic_results_come_out_of_one_batch_entry_as_the_rows_give_them() {
    // Strings, null and ints by row, from float columns: the batch entry moves each
    // row's value out; a `String` handle fails at the first row that is not one.
    let defs = "FUNCTION tag(a, b) => IF a > b { \"up \" + ((a - b) AS string) } ELSE IF a == b { null } ELSE { 1 }";
    let a: Vec<f64> = (0..5_000).map(|i| (i % 97) as f64 * 0.5).collect();
    let b: Vec<f64> = (0..5_000).map(|i| (i % 89) as f64 * 0.5).collect();
    let mut reference = engine(JitMode::Off);
    define(&mut reference, defs);
    let want: Vec<Value> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| {
            reference
                .call("tag", &[Value::Float(x), Value::Float(y)])
                .unwrap()
        })
        .collect();
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        define(&mut e, defs);
        let f = e.typed::<(f64, f64), Value>("tag").unwrap();
        let before = e.jit_stats();
        assert_eq!(f.call_batch(&mut e, (&a, &b)).unwrap(), want, "{mode:?}");
        if mode == JitMode::On {
            let after = e.jit_stats();
            assert_eq!(after.entries - before.entries, 5_000, "every row compiled");
            assert_eq!(after.fallbacks, before.fallbacks);
        }
        let s = e.typed::<(f64, f64), String>("tag").unwrap();
        let first_other = want
            .iter()
            .position(|v| !matches!(v, Value::Str(_)))
            .unwrap();
        let err = s.call_batch(&mut e, (&a, &b)).unwrap_err();
        let got = want[first_other].ty().name();
        assert_eq!(
            err.message(),
            format!("type error: 'tag' returned {got}, not string")
        );
        let ups: Vec<f64> = (0..50).map(|i| i as f64 + 1.0).collect();
        let zeros = vec![0.0; 50];
        let out = s.call_batch(&mut e, (&ups, &zeros)).unwrap();
        assert_eq!(out[3], "up 4.0", "{mode:?}");
    }
}
