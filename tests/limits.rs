//! `EngineBuilder::max_string_bytes` in every tier and entry path: the same error,
//! caught by `TRY`, and each engine's own limit on a thread shared with others.

use grizzly::{Column, ColumnType, Engine, ErrorKind, JitMode, Value};

const PROGRAM: &str = r#"
FUNCTION grow(s, n) => IF n == 0 { s } ELSE { grow(s + s, n - 1) }
FUNCTION safe(s, n) => TRY grow(s, n) CATCH "too long"
"#;

fn engine(mode: JitMode, limit: usize) -> Engine {
    let mut e = Engine::builder()
        .jit(mode)
        .threshold(2)
        .max_string_bytes(limit)
        .build();
    e.run(PROGRAM).unwrap();
    e
}

#[test]
fn the_limit_holds_in_every_tier_and_entry() {
    let expected = "string too long: 32 bytes, more than the limit of 20";
    for mode in [JitMode::Off, JitMode::On, JitMode::Eager] {
        let mut e = engine(mode, 20);
        for round in 0..5 {
            let what = format!("{mode:?}, round {round}");
            let ok = e.call("grow", &[Value::str("ab"), Value::Int(3)]).unwrap();
            assert_eq!(ok, Value::str("abababababababab"), "{what}");
            let err = e
                .call("grow", &[Value::str("ab"), Value::Int(4)])
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::StringTooLong, "{what}");
            assert_eq!(err.message(), expected, "{what}");
            let caught = e.call("safe", &[Value::str("ab"), Value::Int(4)]).unwrap();
            assert_eq!(caught, Value::str("too long"), "{what}");
            let typed = e.typed::<(&str, i64), String>("grow").unwrap();
            assert_eq!(
                typed.call(&mut e, ("ab", 4)).unwrap_err().message(),
                expected
            );
            let columns = e
                .column_func::<Value>("safe", &[ColumnType::Value, ColumnType::Int])
                .unwrap();
            let s = [Value::str("ab"), Value::str("ab")];
            let got = columns
                .call_batch(&mut e, &[Column::Value(&s), Column::Int(&[3, 4])])
                .unwrap();
            assert_eq!(
                got,
                [Value::str("abababababababab"), Value::str("too long")]
            );
        }
    }
}

#[test]
fn each_engine_keeps_its_own_limit_on_one_thread() {
    let mut small = engine(JitMode::Eager, 8);
    let mut large = engine(JitMode::Eager, 1 << 20);
    for _ in 0..3 {
        let long = large
            .call("grow", &[Value::str("ab"), Value::Int(10)])
            .unwrap();
        assert_eq!(long.as_str().map(str::len), Some(2048));
        let err = small
            .call("grow", &[Value::str("ab"), Value::Int(3)])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::StringTooLong);
    }
    assert_eq!(
        Engine::new().max_string_bytes(),
        grizzly::engine::DEFAULT_MAX_STRING_BYTES
    );
}
