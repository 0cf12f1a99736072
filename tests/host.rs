//! Host functions (`Engine::register_fn`): argument and result types, errors, panics,
//! name rules, in every JIT mode.

use grizzly::{Engine, ErrorKind, JitMode, Text, Value};

const MODES: [JitMode; 3] = [JitMode::Off, JitMode::On, JitMode::Eager];

fn engine(mode: JitMode) -> Engine {
    let mut e = Engine::builder().jit(mode).threshold(2).build();
    e.register_fn("twice", |x: i64| x * 2).unwrap();
    e.register_fn("half", |x: f64| x / 2.0).unwrap();
    e.register_fn("flip", |b: bool| !b).unwrap();
    e.register_fn("shout", |s: String| s.to_uppercase() + "!")
        .unwrap();
    e.register_fn("size", |t: Text| t.char_count() as i64)
        .unwrap();
    e.register_fn("or_zero", |x: Option<i64>| x.unwrap_or(0))
        .unwrap();
    e.register_fn("kind", |v: Value| v.ty().to_string())
        .unwrap();
    e.register_fn("nothing", || None::<String>).unwrap();
    e.register_fn("yes", || "yes").unwrap();
    e.register_fn("starts", |s: &str, p: &str| s.starts_with(p))
        .unwrap();
    e.register_fn("pick", |n: i64, s: &str, d: f64, t: &str| {
        format!("{}{}", if n > 0 { s } else { t }, d)
    })
    .unwrap();
    fn bytes(s: &str) -> i64 {
        s.len() as i64
    }
    e.register_fn("bytes", bytes).unwrap();
    e.register_fn("sum4", |a: i64, b: i64, c: i64, d: i64| a + b + c + d)
        .unwrap();
    e.register_fn("checked_div", |a: i64, b: i64| {
        a.checked_div(b).ok_or("cannot divide by zero")
    })
    .unwrap();
    e.register_fn("boom", |x: i64| -> i64 {
        if x > 0 {
            panic!("boom at {x}")
        }
        x
    })
    .unwrap();
    e.run(
        "FUNCTION uses(x) => twice(x) + sum4(x, 1, 2, 3)\n\
         FUNCTION safe_div(a, b) => TRY checked_div(a, b) CATCH -1\n\
         FUNCTION label(s) => shout(s) + (size(s) AS string)\n\
         FUNCTION risky(x) => TRY boom(x) CATCH -7",
    )
    .unwrap();
    e
}

fn one(e: &mut Engine, src: &str) -> Value {
    let mut v = e.run(src).unwrap_or_else(|err| panic!("{src}: {err}"));
    v.pop().unwrap()
}

#[test]
fn arguments_and_results_convert() {
    for mode in MODES {
        let mut e = engine(mode);
        for _ in 0..4 {
            assert_eq!(one(&mut e, "twice(21)"), Value::Int(42));
            assert_eq!(one(&mut e, "half(3)"), Value::Float(1.5), "an int converts");
            assert_eq!(one(&mut e, "half(3.0)"), Value::Float(1.5));
            assert_eq!(one(&mut e, "flip(false)"), Value::Bool(true));
            assert_eq!(one(&mut e, r#"shout("héllo")"#), Value::str("HÉLLO!"));
            assert_eq!(one(&mut e, r#"size("día")"#), Value::Int(3));
            assert_eq!(one(&mut e, "or_zero(null)"), Value::Int(0));
            assert_eq!(one(&mut e, "or_zero(5)"), Value::Int(5));
            assert_eq!(one(&mut e, "kind(1.5)"), Value::str("float"));
            assert_eq!(one(&mut e, "nothing()"), Value::Null);
            assert_eq!(one(&mut e, "yes()"), Value::str("yes"));
            assert_eq!(one(&mut e, r#"starts("grizzly", "gr")"#), Value::Bool(true));
            assert_eq!(one(&mut e, r#"pick(0, "a", 2, "b")"#), Value::str("b2"));
            assert_eq!(one(&mut e, r#"bytes("día")"#), Value::Int(4));
            assert_eq!(e.call("uses", &[Value::Int(4)]).unwrap(), Value::Int(18));
            assert_eq!(
                e.call("label", &[Value::str("ab")]).unwrap(),
                Value::str("AB!2")
            );
            assert_eq!(
                e.call("safe_div", &[Value::Int(7), Value::Int(2)]).unwrap(),
                Value::Int(3)
            );
        }
    }
}

#[test]
fn errors_are_the_languages() {
    for mode in MODES {
        let mut e = engine(mode);
        let err = e.run("twice(1, 2)").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongArgumentCount);
        assert_eq!(
            err.message(),
            "wrong number of arguments: 'twice' expects 1, got 2"
        );
        let err = e.run(r#"twice("a")"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(
            err.message(),
            "type error: argument 1 of 'twice' expects int, got string"
        );
        let err = e.run(r#"pick(1, "a", 2, 3)"#).unwrap_err();
        assert_eq!(
            err.message(),
            "type error: argument 4 of 'pick' expects string, got int"
        );
        let err = e.run("or_zero(1.5)").unwrap_err();
        assert_eq!(
            err.message(),
            "type error: argument 1 of 'or_zero' expects int, got float"
        );
        let err = e.run("checked_div(1, 0)").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Host);
        assert_eq!(err.message(), "host error: cannot divide by zero");
        for _ in 0..4 {
            let v = e.call("safe_div", &[Value::Int(7), Value::Int(0)]).unwrap();
            assert_eq!(v, Value::Int(-1), "TRY catches a host error");
        }
        // A panic is an error, caught or not; the engine goes on.
        let err = e.run("boom(3)").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Host);
        assert_eq!(err.message(), "host error: panicked: boom at 3");
        assert_eq!(one(&mut e, "TRY boom(1) CATCH 7"), Value::Int(7));
        assert_eq!(one(&mut e, "boom(0) + twice(2)"), Value::Int(4));
    }
}

#[test]
fn names_follow_the_rules() {
    let mut e = Engine::new();
    e.run("FUNCTION mine(x) => x\nFUNCTION caller(x) => later(x)")
        .unwrap();
    e.register_fn("host1", |x: i64| x).unwrap();
    for (name, why) in [
        ("abs", "'abs' is a builtin function"),
        ("host1", "host function 'host1' is already registered"),
        (
            "mine",
            "'mine' is already the name of a function defined or called in this engine",
        ),
        (
            "later",
            "'later' is already the name of a function defined or called in this engine",
        ),
        ("", "'' is not a function name"),
        ("1x", "'1x' is not a function name"),
        ("IF", "'IF' is not a function name"),
        ("a b", "'a b' is not a function name"),
    ] {
        let err = e.register_fn(name, |x: i64| x).unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (ErrorKind::Usage, why),
            "{name:?}"
        );
    }
    let err = e.run("FUNCTION host1(x) => x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Definition);
    assert_eq!(
        err.message(),
        "'host1' is a host function and cannot be defined"
    );
}

#[test]
fn compiled_code_calls_host_functions() {
    let mut e = engine(JitMode::Eager);
    for x in 0..5 {
        assert_eq!(
            e.call("uses", &[Value::Int(x)]).unwrap(),
            Value::Int(3 * x + 6)
        );
        let v = e
            .call("safe_div", &[Value::Int(7), Value::Int(x % 2)])
            .unwrap();
        assert_eq!(v, Value::Int(if x % 2 == 0 { -1 } else { 7 }));
    }
    assert_eq!(
        e.call("label", &[Value::str("ab")]).unwrap(),
        Value::str("AB!2")
    );
    // A panic in a host function called by compiled code, caught by a compiled TRY.
    assert_eq!(e.call("risky", &[Value::Int(1)]).unwrap(), Value::Int(-7));
    assert_eq!(e.call("risky", &[Value::Int(0)]).unwrap(), Value::Int(0));
    let status = e.jit_status();
    for f in ["uses", "safe_div", "label", "risky"] {
        assert!(e.jit_specializations(f) >= 1, "{f} compiled:\n{status}");
    }
    let stats = e.jit_stats();
    assert_eq!(
        stats.fallbacks, 0,
        "no fallback: the TRY is compiled\n{status}"
    );
    assert!(stats.entries >= 10, "{status}");
}

#[test]
fn machine_word_host_functions_run_in_every_entry_path() {
    for mode in MODES {
        let mut e = engine(mode);
        e.run(
            "FUNCTION poly(x: int) => twice(x) + twice(x + 1) + (half(x) AS int)\n\
             FUNCTION careful(a: int, b: int) => TRY checked_div(a, b) CATCH -1\n\
             FUNCTION risky_int(x: int) => TRY boom(x) CATCH -7\n\
             FUNCTION neg(b: bool) => IF flip(b) { 1 } ELSE { 0 }",
        )
        .unwrap();
        let poly = e.typed::<(i64,), i64>("poly").unwrap();
        let careful = e.typed::<(i64, i64), i64>("careful").unwrap();
        let risky = e.typed::<(i64,), i64>("risky_int").unwrap();
        let neg = e.typed::<(bool,), i64>("neg").unwrap();
        for round in 0..4 {
            let what = format!("{mode:?}, round {round}");
            for x in [-3, 0, 5] {
                assert_eq!(
                    poly.call(&mut e, (x,)).unwrap(),
                    4 * x + 2 + x / 2,
                    "{what}"
                );
            }
            assert_eq!(careful.call(&mut e, (7, 2)).unwrap(), 3, "{what}");
            assert_eq!(careful.call(&mut e, (7, 0)).unwrap(), -1, "{what}");
            assert_eq!(risky.call(&mut e, (3,)).unwrap(), -7, "{what}");
            assert_eq!(risky.call(&mut e, (0,)).unwrap(), 0, "{what}");
            assert_eq!(neg.call(&mut e, (false,)).unwrap(), 1, "{what}");
            let xs = [1, 2, 3, -4];
            let got = poly.call_batch(&mut e, (&xs[..],)).unwrap();
            let want: Vec<i64> = xs.iter().map(|x| 4 * x + 2 + x / 2).collect();
            assert_eq!(got, want, "{what}");
            let got = careful
                .call_batch(&mut e, (&[8, 9, 10][..], &[2, 0, 5][..]))
                .unwrap();
            assert_eq!(got, [4, -1, 2], "{what}");
            // Uncaught, the error is the interpreter's.
            let f = e.typed::<(i64, i64), i64>("checked_div").ok();
            assert!(f.is_none(), "a host function is not a defined function");
            let err = e.run("FUNCTION strict(a: int, b: int) => checked_div(a, b)\nstrict(1, 0)");
            assert_eq!(
                err.unwrap_err().message(),
                "host error: cannot divide by zero"
            );
        }
        if mode != JitMode::Off {
            let stats = e.jit_stats();
            assert!(e.jit_specializations("poly") >= 1, "{}", e.jit_status());
            assert!(stats.entries > 0);
        }
    }
}
