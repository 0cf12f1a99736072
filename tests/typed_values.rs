//! Typed handles with generic values: `&str`, `String`, `Option<_>` and `Value`
//! arguments and results, entered in compiled code and always the interpreter's
//! result or error.

use grizzly::{Engine, ErrorKind, JitMode, Value};

fn engine(mode: JitMode) -> Engine {
    Engine::builder().jit(mode).build()
}

fn define(e: &mut Engine, src: &str) {
    e.run(src).unwrap_or_else(|err| panic!("{}", err.report()));
}

const DEFS: &str = "FUNCTION greet(name, n) => name + \"#\" + ((n ?? 0) AS string)
                    FUNCTION shout(s) => IF s == null { null } ELSE { s + \"!\" }
                    FUNCTION half(x) => IF x == null { null } ELSE { x / 2.0 }
                    FUNCTION flag(s) => TRY s AS bool CATCH null
                    FUNCTION any(v) => IF v == 1 { \"one\" } ELSE { v }
                    FUNCTION count(s, i, acc) => IF i == 0 { acc } ELSE { count(s, i - 1, acc + len(s)) }";

#[test]
fn strings_and_nulls_cross_both_ways_in_compiled_code() {
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        define(&mut e, DEFS);
        let greet = e.typed::<(&str, Option<i64>), String>("greet").unwrap();
        let shout = e
            .typed::<(Option<String>,), Option<String>>("shout")
            .unwrap();
        let half = e.typed::<(Option<f64>,), Option<f64>>("half").unwrap();
        let flag = e.typed::<(String,), Option<bool>>("flag").unwrap();
        let any = e.typed::<(Value,), Value>("any").unwrap();
        let count = e.typed::<(&str, i64, i64), i64>("count").unwrap();
        for round in 0..30 {
            // A string made in the loop, shorter-lived than the handle.
            let name = format!("żółw {round}");
            assert_eq!(
                greet.call(&mut e, (name.as_str(), Some(round))).unwrap(),
                format!("{name}#{round}")
            );
            assert_eq!(greet.call(&mut e, ("a", None)).unwrap(), "a#0");
            assert_eq!(
                shout.call(&mut e, (Some(name.clone()),)).unwrap(),
                Some(format!("{name}!"))
            );
            assert_eq!(shout.call(&mut e, (None,)).unwrap(), None);
            assert_eq!(half.call(&mut e, (Some(3.0),)).unwrap(), Some(1.5));
            assert_eq!(half.call(&mut e, (None,)).unwrap(), None);
            assert_eq!(flag.call(&mut e, ("true".into(),)).unwrap(), Some(true));
            assert_eq!(flag.call(&mut e, ("yes".into(),)).unwrap(), None);
            assert_eq!(
                any.call(&mut e, (Value::Int(1),)).unwrap(),
                Value::from("one")
            );
            assert_eq!(
                any.call(&mut e, (Value::Float(2.5),)).unwrap(),
                Value::Float(2.5)
            );
            assert_eq!(any.call(&mut e, (Value::Null,)).unwrap(), Value::Null);
            assert_eq!(count.call(&mut e, ("é\t", 5, 0)).unwrap(), 10);
        }
        if mode == JitMode::On {
            let stats = e.jit_stats();
            assert!(stats.entries >= 30 * 12, "{stats:?}");
            assert_eq!(stats.fallbacks, 0, "{stats:?}");
        }
    }
}

#[test]
fn a_generic_result_of_another_type_is_a_type_error_at_the_call() {
    let mut e = engine(JitMode::On);
    define(&mut e, DEFS);
    let any = e.typed::<(i64,), String>("any").unwrap();
    assert_eq!(any.call(&mut e, (1,)).unwrap(), "one");
    let err = any.call(&mut e, (2,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.message(), "type error: 'any' returned int, not string");
    let shout = e.typed::<(&str,), String>("shout").unwrap();
    assert_eq!(shout.call(&mut e, ("x",)).unwrap(), "x!");
    // A machine result known in advance is checked when the handle is made.
    define(&mut e, "FUNCTION len_of(s) => len(s)");
    let err = e.typed::<(&str,), String>("len_of").unwrap_err();
    assert_eq!(
        err.message(),
        "type error: 'len_of' returns int for (string), not string"
    );
    let len_of = e.typed::<(&str,), Option<i64>>("len_of").unwrap();
    assert_eq!(len_of.call(&mut e, ("abc",)).unwrap(), Some(3));
    assert_eq!(len_of.call(&mut e, ("",)).unwrap(), Some(0));
    // Errors are the interpreter's.
    let half = e.typed::<(Value,), Value>("half").unwrap();
    let err = half.call(&mut e, (Value::from("s"),)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
}

#[test]
fn batches_of_nullable_and_string_columns() {
    let mut e = engine(JitMode::On);
    define(&mut e, DEFS);
    let greet = e.typed::<(&str, Option<i64>), String>("greet").unwrap();
    let names = ["a", "b", "ç"];
    let ns = [Some(1), None, Some(-3)];
    assert_eq!(
        greet.call_batch(&mut e, (&names, &ns)).unwrap(),
        ["a#1", "b#0", "ç#-3"]
    );
    let half = e.typed::<(Option<f64>,), Option<f64>>("half").unwrap();
    assert_eq!(
        half.call_batch(&mut e, (&[Some(1.0), None, Some(-4.0)],))
            .unwrap(),
        [Some(0.5), None, Some(-2.0)]
    );
    // A row that raises ends the batch with the interpreter's error.
    define(&mut e, "FUNCTION div(a, b) => (a ?? 1) / (b ?? 1)");
    let div = e.typed::<(Option<i64>, Option<i64>), i64>("div").unwrap();
    assert_eq!(
        div.call_batch(
            &mut e,
            (&[Some(6), None, Some(9)], &[Some(2), Some(5), None])
        )
        .unwrap(),
        [3, 0, 9]
    );
    assert_eq!(e.jit_stats().fallbacks, 0);
    // (The uncaught error deoptimizes: the interpreter gives its message.)
    let err = div
        .call_batch(&mut e, (&[Some(6), Some(1)], &[Some(0), Some(1)]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DivisionByZero);
}

#[test]
fn handles_with_generic_values_survive_redefinition_and_jit_clear() {
    let mut e = engine(JitMode::On);
    define(&mut e, DEFS);
    let shout = e.typed::<(&str,), Option<String>>("shout").unwrap();
    assert_eq!(shout.call(&mut e, ("a",)).unwrap(), Some("a!".into()));
    define(&mut e, "FUNCTION shout(s) => s + \"?\"");
    assert_eq!(shout.call(&mut e, ("a",)).unwrap(), Some("a?".into()));
    e.jit_clear();
    assert_eq!(shout.call(&mut e, ("b",)).unwrap(), Some("b?".into()));
    define(&mut e, "FUNCTION shout(s) => len(s)");
    let err = shout.call(&mut e, ("b",)).unwrap_err();
    assert_eq!(
        err.message(),
        "type error: 'shout' returned int, not string or null"
    );
}

/// Row `i` of `values` under Arrow's validity bitmap `bits` from bit `offset`.
fn arrow_bits(valid: &[bool], offset: usize) -> Vec<u8> {
    let mut bits = vec![0u8; (valid.len() + offset).div_ceil(8).max(1)];
    for (i, &v) in valid.iter().enumerate() {
        if v {
            bits[(i + offset) / 8] |= 1 << ((i + offset) % 8);
        }
    }
    bits
}

#[test]
fn nullable_batches_agree_with_calls_row_by_row() {
    use grizzly::Validity;
    const DEFS: &str = "FUNCTION f(a, b) => IF a == null { IF b == null { null } ELSE { b * 2 } }
                ELSE { IF a % 5 == 0 { null } ELSE { a + (b ?? 100) } }";
    let check = |a: Vec<(i64, bool)>, b_valid: Vec<bool>, offset: u8| -> bool {
        let defs = DEFS;
        let offset = offset as usize % 9;
        let n = a.len();
        let b: Vec<i64> = (0..n as i64).map(|i| i * 3 - 7).collect();
        let b_valid: Vec<bool> = (0..n)
            .map(|i| b_valid.get(i).copied().unwrap_or(true))
            .collect();
        let a_values: Vec<i64> = a.iter().map(|&(v, _)| v % 1000).collect();
        let a_valid: Vec<bool> = a.iter().map(|&(_, v)| v).collect();
        let (a_bits, b_bits) = (arrow_bits(&a_valid, offset), arrow_bits(&b_valid, 0));
        let mut e = engine(JitMode::On);
        define(&mut e, defs);
        let f = e.typed::<(i64, i64), Option<i64>>("f").unwrap();
        let validity = [
            Some(Validity {
                bits: &a_bits,
                offset,
            }),
            Some(Validity {
                bits: &b_bits,
                offset: 0,
            }),
        ];
        let out = f
            .call_batch_nullable(&mut e, (&a_values, &b), &validity)
            .unwrap();
        let mut reference = engine(JitMode::Off);
        define(&mut reference, defs);
        (0..n).all(|i| {
            let arg = |v: i64, valid: bool| if valid { Value::Int(v) } else { Value::Null };
            let want = reference
                .call("f", &[arg(a_values[i], a_valid[i]), arg(b[i], b_valid[i])])
                .unwrap();
            let got = out.get(i).map_or(Value::Null, |&v| Value::Int(v));
            got == want
        }) && out.values.len() == n
            && out.null_count == (0..n).filter(|&i| out.get(i).is_none()).count()
    };
    quickcheck::QuickCheck::new()
        .tests(200)
        .quickcheck(check as fn(Vec<(i64, bool)>, Vec<bool>, u8) -> bool);
}

#[test]
fn nullable_batches_check_their_columns_and_stop_at_an_error() {
    use grizzly::Validity;
    let mut e = engine(JitMode::On);
    define(&mut e, "FUNCTION div(a, b) => a / (b ?? 1)");
    let div = e.typed::<(i64, i64), Option<i64>>("div").unwrap();
    let b_valid = Validity {
        bits: &[0b0000_0101],
        offset: 0,
    };
    let out = div
        .call_batch_nullable(&mut e, (&[8, 9, 10], &[2, 0, 5]), &[None, Some(b_valid)])
        .unwrap();
    // Row 1's divisor is null: its 0 is never read.
    assert_eq!(out.values, [4, 9, 2]);
    assert_eq!((out.validity, out.null_count), (None, 0));
    assert_eq!(e.jit_stats().fallbacks, 0);
    let short = Validity {
        bits: &[0xff],
        offset: 4,
    };
    let err = div
        .call_batch_nullable(&mut e, (&[1; 5], &[1; 5]), &[Some(short), None])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    let err = div
        .call_batch_nullable(&mut e, (&[1, 2], &[1, 0]), &[None, None])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DivisionByZero);
    let err = div
        .call_batch_nullable(&mut e, (&[1], &[1]), &[None])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
}

#[test]
fn a_machine_result_of_code_returning_a_generic_value() {
    // The specialization for (value, value) returns its parameter as a generic value:
    // a `bool` handle takes it whole, not as bits (found by the differential test).
    let mut e = engine(JitMode::Eager);
    define(&mut e, "CREATE FUNCTION first(p, x) { p }");
    let first = e.typed::<(Value, Value), bool>("first").unwrap();
    for _ in 0..3 {
        let args = (Value::Bool(true), Value::Float(0.0));
        assert!(first.call(&mut e, args.clone()).unwrap());
        let ps = [Value::Bool(true), Value::Bool(false)];
        let xs = [Value::Null, Value::Null];
        assert_eq!(first.call_batch(&mut e, (&ps, &xs)).unwrap(), [true, false]);
    }
    let err = first
        .call(&mut e, (Value::Int(1), Value::Null))
        .unwrap_err();
    assert_eq!(err.message(), "type error: 'first' returned int, not bool");
    assert_eq!(e.jit_stats().fallbacks, 0);
}
