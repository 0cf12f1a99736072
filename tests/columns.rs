//! Batch calls over columns whose types are known at run time (`Engine::column_func`):
//! every row's result or error is the interpreter's, rows under nulls are never run,
//! and compiled code is entered.

use grizzly::{Column, ColumnType, Engine, ErrorKind, JitMode, Validity, Value};

fn engine(mode: JitMode) -> Engine {
    Engine::builder().jit(mode).build()
}

const DEFS: &str = "FUNCTION price(net, rate) => net * (1.0 + rate)
                    FUNCTION ratio(a, b) => TRY a / b CATCH -1
                    FUNCTION step(a, b) => a * b + 1
                    FUNCTION label(score, name, vip) =>
                      IF vip { name + \"*\" } ELSE IF score > 10 { name + \": \" + (score AS string) } ELSE { name }
                    FUNCTION tier(x) => IF x > 100 { 3 } ELSE IF x > 10 { 2 } ELSE IF x > 0 { 1 } ELSE { 0 }
                    FUNCTION inv(x) => IF x == null { null } ELSE IF x == 0 { null } ELSE { 1.0 / x }
                    FUNCTION fill(a, b) => TRY a + (b ?? 10) CATCH null
                    FUNCTION scaled(a, b) => (a ?? 2) * 0.5 + (b ?? 1) * 0.25
                    FUNCTION verdict(a, b) =>
                      IF b == 0 { null } ELSE IF a > b { \"up \" + ((a - b) AS string) }
                      ELSE IF a == b { a } ELSE { TRY a * b CATCH \"big\" }";

/// Small deterministic pseudo-random numbers (no dependency).
fn numbers(seed: u64, n: usize) -> Vec<i64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 10 {
                0 => 0,
                1 => i64::MAX,
                2 => -1,
                _ => (x >> 40) as i64 % 1000 - 300,
            }
        })
        .collect()
}

/// Row by row through `Engine::call`, in an interpreter-only engine.
fn reference(name: &str, rows: &[Vec<Value>]) -> Vec<Result<Value, String>> {
    let mut e = engine(JitMode::Off);
    e.run(DEFS).unwrap();
    rows.iter()
        .map(|args| e.call(name, args).map_err(|err| err.message().to_string()))
        .collect()
}

/// Runs `f` over the rows from each failing row on (`columns(from)`: the columns from
/// row `from`), batch by batch: every result is `expected`'s, and each batch ends with
/// the error of the first failing row.
fn agree_in_batches<'a, R>(
    e: &mut Engine,
    f: &grizzly::ColumnFunc<R>,
    columns: impl Fn(usize) -> Vec<Column<'a>>,
    expected: &[Result<Value, String>],
    as_value: impl Fn(R) -> Value,
    what: &str,
) where
    R: grizzly::NativeType,
{
    let mut from = 0;
    while from < expected.len() {
        match f.call_batch(e, &columns(from)) {
            Ok(out) => {
                assert_eq!(out.len(), expected.len() - from);
                for (i, v) in out.into_iter().enumerate() {
                    assert_eq!(
                        expected[from + i],
                        Ok(as_value(v)),
                        "{what}, row {}",
                        from + i
                    );
                }
                from = expected.len();
            }
            Err(err) => {
                let failed = (from..expected.len())
                    .find(|&i| expected[i].is_err())
                    .expect("an error where the interpreter has one");
                assert_eq!(expected[failed], Err(err.message().to_string()), "{what}");
                from = failed + 1;
            }
        }
    }
}

#[test]
fn word_columns_run_the_compiled_batch_and_agree_with_the_interpreter() {
    let a = numbers(7, 3000);
    let b = numbers(11, 3000);
    let rows: Vec<Vec<Value>> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| vec![Value::Int(x), Value::Int(y)])
        .collect();
    for name in ["ratio", "step"] {
        let expected = reference(name, &rows);
        for mode in [JitMode::On, JitMode::Off] {
            let mut e = engine(mode);
            e.run(DEFS).unwrap();
            let f = e
                .column_func::<i64>(name, &[ColumnType::Int, ColumnType::Int])
                .unwrap();
            let before = e.jit_stats().entries;
            let columns = |from: usize| vec![Column::Int(&a[from..]), Column::Int(&b[from..])];
            agree_in_batches(&mut e, &f, columns, &expected, Value::Int, name);
            // (`step` overflows on a tenth of the rows: each ends its batch with an
            // error, and after that many deopts its code is discarded.)
            if mode == JitMode::On && name == "ratio" {
                assert!(
                    e.jit_stats().entries > before + 1000,
                    "{name}: compiled code ran the rows"
                );
            }
        }
    }
}

#[test]
fn floats_bools_and_values_cross_as_their_types() {
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(DEFS).unwrap();
        let price = e
            .column_func::<f64>("price", &[ColumnType::Float, ColumnType::Float])
            .unwrap();
        let net = [10.0, 20.0, -4.0, 0.1];
        let rate = [0.5, 0.25, 0.0, 0.2];
        let out = price
            .call_batch(&mut e, &[Column::Float(&net), Column::Float(&rate)])
            .unwrap();
        let want: Vec<f64> = net.iter().zip(&rate).map(|(n, r)| n * (1.0 + r)).collect();
        assert_eq!(out, want);

        let label = e
            .column_func::<String>(
                "label",
                &[ColumnType::Int, ColumnType::Value, ColumnType::Bool],
            )
            .unwrap();
        let names: Vec<Value> = ["żółw", "a\"b", "", "名前"]
            .iter()
            .map(|&s| Value::from(s))
            .collect();
        let out = label
            .call_batch(
                &mut e,
                &[
                    Column::Int(&[5, 50, 11, 12]),
                    Column::Value(&names),
                    Column::Bool(&[false, false, true, false]),
                ],
            )
            .unwrap();
        assert_eq!(out, ["żółw", "a\"b: 50", "*", "名前: 12"]);

        // A result that is not an `R` is a type error naming both types.
        let tier = e.column_func::<String>("tier", &[ColumnType::Int]).unwrap();
        let err = tier.call_batch(&mut e, &[Column::Int(&[5])]).unwrap_err();
        assert_eq!(err.message(), "type error: 'tier' returned int, not string");
    }
}

#[test]
fn rows_under_nulls_never_run_and_null_results_are_null_rows() {
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(DEFS).unwrap();
        let inv = e
            .column_func::<Option<f64>>("inv", &[ColumnType::Int])
            .unwrap();
        // A sliced column: the bitmap starts at bit 3. Rows 1 and 4 are null.
        let bits = [0b0110_1000u8, 0b0000_0001];
        let valid = Validity {
            bits: &bits,
            offset: 3,
        };
        let xs = [4, 0, 0, 2, 7, 8];
        let out = inv
            .call_batch_nullable(&mut e, &[Column::Int(&xs)], &[Some(valid)])
            .unwrap();
        let got: Vec<Option<f64>> = (0..xs.len()).map(|i| out.get(i).copied()).collect();
        // Row 1 holds 0 beneath its null; row 2's 0 is valid and gives null.
        assert_eq!(got, [Some(0.25), None, None, Some(0.5), None, Some(0.125)]);
        assert_eq!(out.null_count, 3);

        // Beneath a null, a value that would raise is never evaluated.
        let ratio = e
            .column_func::<Option<i64>>("ratio", &[ColumnType::Int, ColumnType::Int])
            .unwrap();
        let valid = Validity {
            bits: &[0b101],
            offset: 0,
        };
        let out = ratio
            .call_batch_nullable(
                &mut e,
                &[Column::Int(&[9, i64::MIN, 9]), Column::Int(&[3, -1, 0])],
                &[None, Some(valid)],
            )
            .unwrap();
        // Row 1 is `MIN / null`: a type error caught by the TRY.
        assert_eq!(out.values, [3, -1, -1]);
    }
}

#[test]
fn bad_calls_are_usage_errors() {
    let mut e = engine(JitMode::On);
    e.run(DEFS).unwrap();
    let err = e
        .column_func::<i64>("step", &[ColumnType::Int])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongArgumentCount);
    let err = e.column_func::<i64>("nope", &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFunction);

    let step = e
        .column_func::<i64>("step", &[ColumnType::Int, ColumnType::Int])
        .unwrap();
    let usage = |r: grizzly::Result<Vec<i64>>| {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{}", err.message());
        err.message().to_string()
    };
    let one = [1i64];
    assert_eq!(
        usage(step.call_batch(&mut e, &[Column::Int(&one)])),
        "a batch call of 'step' needs 2 columns, got 1"
    );
    assert_eq!(
        usage(step.call_batch(&mut e, &[Column::Int(&one), Column::Float(&[1.0])])),
        "a batch call of 'step' takes a Int column as argument 2, got Float"
    );
    assert_eq!(
        usage(step.call_batch(&mut e, &[Column::Int(&one), Column::Int(&[1, 2])])),
        "a batch call of 'step' needs columns all of one length"
    );
    let mut other = engine(JitMode::On);
    other.run(DEFS).unwrap();
    usage(step.call_batch(&mut other, &[Column::Int(&one), Column::Int(&one)]));
}

#[test]
fn a_redefined_function_is_called_as_it_is_now() {
    let mut e = engine(JitMode::On);
    e.run(DEFS).unwrap();
    let step = e
        .column_func::<i64>("step", &[ColumnType::Int, ColumnType::Int])
        .unwrap();
    let cols = [Column::Int(&[2, 3]), Column::Int(&[5, 7])];
    assert_eq!(step.call_batch(&mut e, &cols).unwrap(), [11, 22]);
    e.run("FUNCTION step(a, b) => a - b").unwrap();
    assert_eq!(step.call_batch(&mut e, &cols).unwrap(), [-3, -4]);
    e.jit_clear();
    assert_eq!(step.call_batch(&mut e, &cols).unwrap(), [-3, -4]);
}

#[test]
fn a_row_that_deoptimizes_mid_batch_is_that_row() {
    let mut e = engine(JitMode::On);
    e.run(DEFS).unwrap();
    let step = e
        .column_func::<i64>("step", &[ColumnType::Int, ColumnType::Int])
        .unwrap();
    let a = [1, 2, i64::MAX, 4];
    let err = step
        .call_batch(&mut e, &[Column::Int(&a), Column::Int(&[1, 1, 2, 1])])
        .unwrap_err();
    assert_eq!(err.message(), "integer overflow");
}

#[test]
fn word_results_written_in_place_agree_with_the_interpreter_around_nulls_and_deopts() {
    let a = numbers(7, 3000);
    let b = numbers(11, 3000);
    // `b` is null in every fifth row and in rows 1000..1100; `a` in rows 2000..2003.
    let pack = |null: &dyn Fn(usize) -> bool| -> Vec<u8> {
        let mut bits = vec![0u8; 3000usize.div_ceil(8)];
        for i in (0..3000).filter(|&i| !null(i)) {
            bits[i / 8] |= 1 << (i % 8);
        }
        bits
    };
    let a_bits = pack(&|i| (2000..2003).contains(&i));
    let b_bits = pack(&|i| i % 5 == 3 || (1000..1100).contains(&i));
    let validity = [
        Some(Validity {
            bits: &a_bits,
            offset: 0,
        }),
        Some(Validity {
            bits: &b_bits,
            offset: 0,
        }),
    ];
    let rows: Vec<Vec<Value>> = (0..3000)
        .map(|i| {
            let valid = |v: &Option<Validity<'_>>| v.is_some_and(|v| v.is_valid(i));
            vec![
                if valid(&validity[0]) {
                    Value::Int(a[i])
                } else {
                    Value::Null
                },
                if valid(&validity[1]) {
                    Value::Int(b[i])
                } else {
                    Value::Null
                },
            ]
        })
        .collect();
    let columns = [Column::Int(&a), Column::Int(&b)];
    let types = [ColumnType::Int, ColumnType::Int];
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(DEFS).unwrap();
        // `fill` overflows near i64::MAX (a deopt, or a caught error, then null).
        let expected = reference("fill", &rows);
        let fill = e.column_func::<Option<i64>>("fill", &types).unwrap();
        let out = fill
            .call_batch_nullable(&mut e, &columns, &validity)
            .unwrap();
        assert_eq!(out.values.len(), rows.len());
        for (i, want) in expected.iter().enumerate() {
            let got = out.get(i).map_or(Value::Null, |&v| Value::Int(v));
            assert_eq!(Ok(&got), want.as_ref(), "fill, row {i}, {mode:?}");
        }
        let expected = reference("scaled", &rows);
        let scaled = e.column_func::<Option<f64>>("scaled", &types).unwrap();
        let out = scaled
            .call_batch_nullable(&mut e, &columns, &validity)
            .unwrap();
        for (i, want) in expected.iter().enumerate() {
            let got = out.get(i).map(|v| v.to_bits());
            let want = want.as_ref().map(|v| v.as_float().map(f64::to_bits));
            assert_eq!(Ok(got), want, "scaled, row {i}, {mode:?}");
        }
    }
}

#[test]
fn generic_results_of_word_columns_are_moved_out_by_the_batch_and_agree_with_the_interpreter() {
    // Strings, nulls and ints by row; `a - b` overflows on some rows (an error that
    // ends the batch), `a * b` on others (caught: "big").
    let a = numbers(5, 3000);
    let b = numbers(13, 3000);
    let rows: Vec<Vec<Value>> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| vec![Value::Int(x), Value::Int(y)])
        .collect();
    let expected = reference("verdict", &rows);
    assert!(expected.iter().any(Result::is_err), "some rows fail");
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(DEFS).unwrap();
        let f = e
            .column_func::<Value>("verdict", &[ColumnType::Int, ColumnType::Int])
            .unwrap();
        let before = e.jit_stats().entries;
        let columns = |from: usize| vec![Column::Int(&a[from..]), Column::Int(&b[from..])];
        agree_in_batches(&mut e, &f, columns, &expected, |v| v, &format!("{mode:?}"));
        if mode == JitMode::On {
            assert!(
                e.jit_stats().entries > before + 1000,
                "compiled code ran the rows"
            );
        }
        // As strings: a null or an int is a type error naming the row's type.
        let label = e
            .column_func::<String>("verdict", &[ColumnType::Float, ColumnType::Float])
            .unwrap();
        let out = label.call_batch(
            &mut e,
            &[Column::Float(&[3.5, 4.25]), Column::Float(&[1.0, 2.0])],
        );
        assert_eq!(out.unwrap(), ["up 2.5", "up 2.25"].map(String::from));
        let err = label
            .call_batch(
                &mut e,
                &[Column::Float(&[3.5, 1.0]), Column::Float(&[1.0, 0.0])],
            )
            .unwrap_err();
        assert_eq!(
            err.message(),
            "type error: 'verdict' returned null, not string"
        );
    }
}

#[test]
fn value_and_bool_columns_run_the_compiled_batch_and_agree_with_the_interpreter() {
    let scores = numbers(3, 3000);
    let names: Vec<Value> = numbers(17, 3000)
        .iter()
        .map(|&n| match n % 500 {
            // Rare rows that fail (a type error), each ending its batch (and a
            // deopt of compiled code: more than a few would discard it).
            7 => Value::Null,
            8 => Value::Int(n),
            _ => Value::from(format!("n{}ñ", n % 50)),
        })
        .collect();
    let vip: Vec<bool> = numbers(23, 3000).iter().map(|n| n % 3 == 0).collect();
    let rows: Vec<Vec<Value>> = (0..3000)
        .map(|i| vec![Value::Int(scores[i]), names[i].clone(), Value::Bool(vip[i])])
        .collect();
    let expected = reference("label", &rows);
    assert!(expected.iter().any(Result::is_err), "some rows fail");
    let types = [ColumnType::Int, ColumnType::Value, ColumnType::Bool];
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(DEFS).unwrap();
        let f = e.column_func::<Value>("label", &types).unwrap();
        let before = e.jit_stats().entries;
        let columns = |from: usize| {
            vec![
                Column::Int(&scores[from..]),
                Column::Value(&names[from..]),
                Column::Bool(&vip[from..]),
            ]
        };
        agree_in_batches(&mut e, &f, columns, &expected, |v| v, &format!("{mode:?}"));
        if mode == JitMode::On {
            assert!(
                e.jit_stats().entries > before + 1000,
                "compiled code ran the rows: {:?} {}",
                e.jit_stats(),
                e.jit_status()
            );
        }
    }
}

#[test]
fn a_batch_with_many_nulls_reports_its_first_failing_row_in_row_order() {
    // Row 4 is null in `a` (a type error: a string divided); row 9 divides by zero.
    // Compacted, the rows without nulls run first; the error is still row 4's.
    const F: &str = "FUNCTION chk(a, b) => (a ?? \"s\") / b";
    let a: Vec<i64> = (0..12).map(|i| i * 10).collect();
    let mut b: Vec<i64> = (0..12).map(|i| i + 1).collect();
    b[9] = 0;
    let bits = [0b1110_1010u8, 0b0000_1111]; // rows 0, 2 and 4 null
    let validity = [
        Some(Validity {
            bits: &bits,
            offset: 0,
        }),
        None,
    ];
    let mut interp = engine(JitMode::Off);
    interp.run(F).unwrap();
    let want = interp
        .call("chk", &[Value::Null, Value::Int(b[0])])
        .unwrap_err();
    for mode in [JitMode::On, JitMode::Off] {
        let mut e = engine(mode);
        e.run(F).unwrap();
        let f = e
            .column_func::<Value>("chk", &[ColumnType::Int, ColumnType::Int])
            .unwrap();
        let cols = [Column::Int(&a), Column::Int(&b)];
        let err = f.call_batch_masked(&mut e, &cols, &validity).unwrap_err();
        assert_eq!(err.message(), want.message(), "{mode:?}");
        // Without the failing rows, every row is the interpreter's.
        let ok_b: Vec<i64> = (0..12).map(|i| i + 1).collect();
        let cols = [Column::Int(&a), Column::Int(&ok_b)];
        let g = "FUNCTION ok(a, b) => (a ?? 5) / b";
        e.run(g).unwrap();
        interp.run(g).unwrap();
        let ok = e
            .column_func::<Value>("ok", &[ColumnType::Int, ColumnType::Int])
            .unwrap();
        let out = ok.call_batch_masked(&mut e, &cols, &validity).unwrap();
        for (i, got) in out.iter().enumerate() {
            let arg = if [0, 2, 4].contains(&i) {
                Value::Null
            } else {
                Value::Int(a[i])
            };
            let want = interp.call("ok", &[arg, Value::Int(ok_b[i])]).unwrap();
            assert_eq!(got, &want, "row {i}, {mode:?}");
        }
    }
}
