//! Grizzly UDFs in DataFusion SQL: every type, nulls, scalars, strings in Utf8 and
//! Utf8View, errors, `CREATE FUNCTION`, and results equal to the interpreter's row
//! by row.

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use grizzly::{Engine, Value};
use grizzly_datafusion::{register_program, session, GrizzlyFunctionFactory};
use std::sync::Arc;

/// PL-GRIZZLY's `null` is a value, not SQL's: `null + 1` is a type error. Functions
/// that take nullable columns say what a null gives (here, mostly SQL's null).
const PROGRAM: &str = r##"
FUNCTION add(a: int, b: int) RETURNS int => IF a == null OR b == null { null } ELSE { a + b }
FUNCTION plus(a: int, b: int) RETURNS int => a + b
FUNCTION grade(x: int) RETURNS string =>
  IF x == null { null } ELSE IF x > 100 { "gold" } ELSE IF x > 50 { "silver" } ELSE IF x > 0 { "bronze" } ELSE { "none" }
FUNCTION tier(x: float) RETURNS int =>
  IF x == null { null } ELSE IF x > 100.0 { 4 } ELSE IF x > 50.0 { 3 } ELSE IF x > 10.0 { 2 } ELSE { 1 }
FUNCTION label(name: string, n: int) RETURNS string =>
  IF name == null { null } ELSE { name + "#" + ((n ?? 0) AS string) }
FUNCTION chars(s: string) RETURNS int => IF s == null { null } ELSE { len(s) }
FUNCTION or_zero(x: int) RETURNS int => x ?? 0
FUNCTION safe_ratio(a: int, b: int) RETURNS float => TRY a / b CATCH null
FUNCTION ratio(a: int, b: int) RETURNS int => a / b
FUNCTION flag(b: bool, x: float) RETURNS bool =>
  IF b == null OR x == null { null } ELSE IF b { x > 1.0 } ELSE { null }
FUNCTION half(x: number) RETURNS number =>
  IF x == null { null } ELSE IF x % 2 == 0 { x / 2 } ELSE { x / 2.0 }
FUNCTION inferred(a, b) => a * b + 1
FUNCTION untyped_string(s) => s + "!"
"##;

fn table(ctx: &SessionContext, name: &str, columns: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let mem = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    ctx.register_table(name, Arc::new(mem)).unwrap();
}

/// The query's single column, as strings (`NULL` for null).
async fn column(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        let c = b.column(0);
        for i in 0..c.len() {
            out.push(if c.is_null(i) {
                "NULL".to_string()
            } else {
                array_value_to_string(c, i).unwrap()
            });
        }
    }
    out
}

async fn error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => df.collect().await.unwrap_err().to_string(),
    }
}

fn ctx() -> SessionContext {
    let ctx = session();
    register_program(&ctx, PROGRAM).unwrap();
    let a: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(120),
        Some(60),
        None,
        Some(5),
        Some(-3),
    ]));
    let b: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(2),
        Some(0),
        Some(7),
        None,
        Some(3),
    ]));
    let x: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(150.5),
        Some(60.0),
        Some(11.0),
        None,
        Some(0.5),
    ]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![
        Some("żółw"),
        Some("a\"b"),
        None,
        Some(""),
        Some("名前"),
    ]));
    let v: ArrayRef = Arc::new(StringViewArray::from(vec![
        Some("a string longer than twelve bytes"),
        None,
        Some("é"),
        Some("x"),
        Some("y"),
    ]));
    let f: ArrayRef = Arc::new(BooleanArray::from(vec![
        Some(true),
        Some(false),
        None,
        Some(true),
        Some(true),
    ]));
    let small: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 3, 4, 5]));
    table(
        &ctx,
        "t",
        vec![
            ("a", a),
            ("b", b),
            ("x", x),
            ("s", s),
            ("v", v),
            ("f", f),
            ("small", small),
        ],
    );
    ctx
}

#[tokio::test]
async fn every_type_and_null_crosses() {
    let ctx = ctx();
    assert_eq!(
        column(&ctx, "SELECT add(a, b) FROM t").await,
        ["122", "60", "NULL", "NULL", "0"]
    );
    assert_eq!(
        column(&ctx, "SELECT grade(a) FROM t").await,
        ["gold", "silver", "NULL", "bronze", "none"]
    );
    assert_eq!(
        column(&ctx, "SELECT tier(x) FROM t").await,
        ["4", "3", "2", "NULL", "1"]
    );
    assert_eq!(
        column(&ctx, "SELECT or_zero(a) FROM t").await,
        ["120", "60", "0", "5", "-3"]
    );
    assert_eq!(
        column(&ctx, "SELECT safe_ratio(a, b) FROM t").await,
        ["60.0", "NULL", "NULL", "NULL", "-1.0"]
    );
    assert_eq!(
        column(&ctx, "SELECT flag(f, x) FROM t").await,
        ["true", "NULL", "NULL", "NULL", "false"]
    );
    assert_eq!(
        column(&ctx, "SELECT half(a) FROM t").await,
        ["60.0", "30.0", "NULL", "2.5", "-1.5"]
    );
    // Integer widths are coerced; `inferred` has no RETURNS: compiled code proves int.
    assert_eq!(
        column(&ctx, "SELECT tier(small) FROM t").await,
        ["1", "1", "1", "1", "1"]
    );
    assert_eq!(
        column(&ctx, "SELECT inferred(small, small) FROM t").await,
        ["2", "5", "10", "17", "26"]
    );
}

#[tokio::test]
async fn strings_in_utf8_and_utf8_view_count_characters() {
    let ctx = ctx();
    assert_eq!(
        column(&ctx, "SELECT chars(s) FROM t").await,
        ["4", "3", "NULL", "0", "2"]
    );
    assert_eq!(
        column(&ctx, "SELECT chars(v) FROM t").await,
        ["33", "NULL", "1", "1", "1"]
    );
    assert_eq!(
        column(&ctx, "SELECT label(s, a) FROM t").await,
        ["żółw#120", "a\"b#60", "NULL", "#5", "名前#-3"]
    );
    // Literals (scalars) and SQL's default Utf8View strings.
    assert_eq!(
        column(&ctx, "SELECT label('ą', 7) FROM t LIMIT 2").await,
        ["ą#7", "ą#7"]
    );
    assert_eq!(
        column(&ctx, "SELECT add(a, 1) FROM t").await,
        ["121", "61", "NULL", "6", "-2"]
    );
    assert_eq!(
        column(&ctx, "SELECT label(v, NULL) FROM t LIMIT 1").await,
        ["a string longer than twelve bytes#0"]
    );
}

#[tokio::test]
async fn errors_name_the_function_and_the_row() {
    let ctx = ctx();
    let err = error(&ctx, "SELECT ratio(a, b) FROM t").await;
    assert!(
        err.contains("Grizzly function 'ratio' failed at row 1: division by zero"),
        "{err}"
    );
    let err = error(&ctx, "SELECT add(a) FROM t").await;
    assert!(
        err.contains("wrong number of arguments: 'add' expects 2, got 1"),
        "{err}"
    );
    let err = error(&ctx, "SELECT add(s, a) FROM t").await;
    assert!(
        err.contains("parameter 'a' (int) cannot take Utf8"),
        "{err}"
    );
    let err = error(&ctx, "SELECT untyped_string(s) FROM t").await;
    assert!(err.contains("has no RETURNS annotation"), "{err}");
    // A program that does not parse is refused at registration, with its report.
    let bad = register_program(&session(), "FUNCTION f(x) => x +").unwrap_err();
    assert_eq!(bad.kind(), grizzly::ErrorKind::Parse);
}

#[tokio::test]
async fn create_function_defines_a_udf() {
    let ctx = SessionContext::new().with_function_factory(Arc::new(
        GrizzlyFunctionFactory::with_program("FUNCTION base(x) => x * 10"),
    ));
    ctx.sql("CREATE FUNCTION scaled(a BIGINT, r DOUBLE) RETURNS DOUBLE LANGUAGE grizzly AS 'base(a) * r'")
        .await
        .unwrap();
    ctx.sql("CREATE FUNCTION shout(s VARCHAR) RETURNS VARCHAR LANGUAGE grizzly AS '{ LET t = s + \"!\"; t + t }'")
        .await
        .unwrap();
    assert_eq!(column(&ctx, "SELECT scaled(3, 0.5)").await, ["15.0"]);
    assert_eq!(column(&ctx, "SELECT shout('hé')").await, ["hé!hé!"]);
    let err = error(
        &ctx,
        "CREATE FUNCTION f(a BIGINT) RETURNS BIGINT LANGUAGE grizzly AS 'a +'",
    )
    .await;
    assert!(err.contains("CREATE FUNCTION f"), "{err}");
    let err = error(
        &ctx,
        "CREATE FUNCTION g(a BIGINT) RETURNS BIGINT LANGUAGE python AS 'a'",
    )
    .await;
    assert!(err.contains("is not grizzly"), "{err}");
}

/// Deterministic pseudo-random rows (no dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_batches_agree_with_the_interpreter_row_by_row() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let rows = 20_000;
    let mut a = Vec::with_capacity(rows);
    let mut b = Vec::with_capacity(rows);
    let mut x = Vec::with_capacity(rows);
    for _ in 0..rows {
        let r = rng.next();
        a.push((!r.is_multiple_of(7)).then_some((r >> 8) as i64 % 500 - 100));
        b.push((!r.is_multiple_of(11)).then_some((r >> 24) as i64 % 9 - 4));
        x.push((!r.is_multiple_of(5)).then_some(((r >> 32) % 20_000) as f64 / 100.0));
    }
    let mut engine = Engine::new();
    engine.run(PROGRAM).unwrap();
    let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    for partitions in [1, 2] {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(partitions)
                .with_batch_size(1000),
        );
        register_program(&ctx, PROGRAM).unwrap();
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("a", Arc::new(Int64Array::from(a.clone()))),
            ("b", Arc::new(Int64Array::from(b.clone()))),
            ("x", Arc::new(Float64Array::from(x.clone()))),
        ];
        // Several batches, so that partitions run them on both threads.
        let fields: Vec<Field> = cols
            .iter()
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let whole =
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, c)| c).collect())
                .unwrap();
        let parts: Vec<Vec<RecordBatch>> = (0..4)
            .map(|p| {
                (0..5)
                    .map(|k| whole.slice((p * 5 + k) * 1000, 1000))
                    .collect()
            })
            .collect();
        ctx.register_table("r", Arc::new(MemTable::try_new(schema, parts).unwrap()))
            .unwrap();
        for (sql, name) in [
            ("SELECT a, b, x, safe_ratio(a, b) FROM r", "safe_ratio"),
            ("SELECT a, b, x, add(a, b) FROM r", "add"),
            ("SELECT a, b, x, tier(x) FROM r", "tier"),
            ("SELECT a, b, x, grade(a) FROM r", "grade"),
        ] {
            let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            let mut seen = 0;
            for batch in batches {
                let (ca, cb, cx, out) = (
                    batch.column(0),
                    batch.column(1),
                    batch.column(2),
                    batch.column(3),
                );
                let ca = ca.as_any().downcast_ref::<Int64Array>().unwrap();
                let cb = cb.as_any().downcast_ref::<Int64Array>().unwrap();
                let cx = cx.as_any().downcast_ref::<Float64Array>().unwrap();
                for i in 0..batch.num_rows() {
                    let va = opt(ca.is_valid(i).then(|| ca.value(i)));
                    let vb = opt(cb.is_valid(i).then(|| cb.value(i)));
                    let vx = if cx.is_valid(i) {
                        Value::Float(cx.value(i))
                    } else {
                        Value::Null
                    };
                    let args = match name {
                        "tier" => vec![vx],
                        "grade" => vec![va],
                        _ => vec![va, vb],
                    };
                    let want = engine.call(name, &args).unwrap();
                    let got = if out.is_null(i) {
                        "NULL".to_string()
                    } else {
                        array_value_to_string(out, i).unwrap()
                    };
                    let want = match want {
                        Value::Null => "NULL".to_string(),
                        Value::Float(f) => format!("{f:?}"),
                        v => v.to_string(),
                    };
                    assert_eq!(
                        got, want,
                        "{name} row with {args:?}, {partitions} partitions"
                    );
                    seen += 1;
                }
            }
            assert_eq!(seen, rows);
        }
    }
}
