//! `SELECT f(a, b) FROM t` over 10,000,000 rows (8,192-row batches), three ways: a
//! Grizzly UDF, the same function as a native Rust `ScalarUDFImpl` (a plain loop over
//! the Arrow buffers), and the equivalent SQL expression. Four functions: arithmetic,
//! a four-branch IF, a string label, and a nullable column with a default.
//!
//! `cargo bench -p grizzly-datafusion --bench udf` prints criterion's estimates and
//! rows per second. `GRIZZLY_ROWS=1000000` makes the table smaller; the partitions
//! are DataFusion's default (one per core) unless `GRIZZLY_PARTITIONS` is set.

use criterion::{Criterion, Throughput};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::common::Result;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;
use std::time::Duration;

const PROGRAM: &str = r#"
FUNCTION arith(a: float, b: float) RETURNS float => a * 1.5 + b / 4.0 - 3.0
FUNCTION bucket(a: float, b: float) RETURNS int =>
  IF a > 750.0 { 4 } ELSE IF a > 500.0 { 3 } ELSE IF a > b { 2 } ELSE { 1 }
FUNCTION label(a: float, b: float) RETURNS string => IF a > b { "up" } ELSE { "down" }
FUNCTION with_default(a: int, n: int) RETURNS int => a + (n ?? 10)
"#;

/// Per function: its name, and the SQL expression computing the same.
const QUERIES: [(&str, &str, &str); 4] = [
    ("arith", "arith(a, b)", "a * 1.5 + b / 4.0 - 3.0"),
    (
        "bucket",
        "bucket(a, b)",
        "CASE WHEN a > 750.0 THEN 4 WHEN a > 500.0 THEN 3 WHEN a > b THEN 2 ELSE 1 END",
    ),
    (
        "label",
        "label(a, b)",
        "CASE WHEN a > b THEN 'up' ELSE 'down' END",
    ),
    ("with_default", "with_default(i, n)", "i + COALESCE(n, 10)"),
];

/// The native Rust UDFs: each function as a loop over the Arrow buffers.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Native {
    name: String,
    signature: Signature,
}

impl Native {
    fn udf(name: &str, args: Vec<DataType>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Native {
            name: format!("native_{name}"),
            signature: Signature::exact(args, Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for Native {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.name.as_str() {
            "native_arith" => DataType::Float64,
            "native_label" => DataType::Utf8,
            _ => DataType::Int64,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let out: ArrayRef = match self.name.as_str() {
            "native_with_default" => {
                let i = arrays[0].as_primitive::<Int64Type>();
                let m = arrays[1].as_primitive::<Int64Type>();
                let v: Int64Array = (0..n)
                    .map(|r| {
                        let d = if m.is_valid(r) { m.value(r) } else { 10 };
                        i.value(r).checked_add(d)
                    })
                    .collect();
                Arc::new(v)
            }
            name => {
                let a = arrays[0].as_primitive::<Float64Type>().values();
                let b = arrays[1].as_primitive::<Float64Type>().values();
                match name {
                    "native_arith" => Arc::new(Float64Array::from_iter_values(
                        a.iter().zip(b).map(|(a, b)| a * 1.5 + b / 4.0 - 3.0),
                    )),
                    "native_bucket" => Arc::new(Int64Array::from_iter_values(a.iter().zip(b).map(
                        |(&a, &b)| {
                            if a > 750.0 {
                                4
                            } else if a > 500.0 {
                                3
                            } else if a > b {
                                2
                            } else {
                                1
                            }
                        },
                    ))),
                    _ => Arc::new(StringArray::from_iter_values(
                        a.iter()
                            .zip(b)
                            .map(|(a, b)| if a > b { "up" } else { "down" }),
                    )),
                }
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn table(rows: usize) -> (Arc<Schema>, Vec<RecordBatch>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float64, false),
        Field::new("b", DataType::Float64, false),
        Field::new("i", DataType::Int64, false),
        Field::new("n", DataType::Int64, true),
    ]));
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut batches = Vec::new();
    let mut done = 0;
    while done < rows {
        let len = (rows - done).min(8192);
        let mut a = Vec::with_capacity(len);
        let mut b = Vec::with_capacity(len);
        let mut i = Vec::with_capacity(len);
        let mut n = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            a.push((x % 100_000) as f64 / 100.0);
            b.push(((x >> 20) % 100_000) as f64 / 100.0);
            i.push((x >> 40) as i64 % 1_000_000);
            n.push((!x.is_multiple_of(5)).then_some((x >> 8) as i64 % 100));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(a)),
            Arc::new(Float64Array::from(b)),
            Arc::new(Int64Array::from(i)),
            Arc::new(Int64Array::from(n)),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns).unwrap());
        done += len;
    }
    (schema, batches)
}

fn main() {
    let rows: usize = std::env::var("GRIZZLY_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let mut config = SessionConfig::new();
    if let Some(p) = std::env::var("GRIZZLY_PARTITIONS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config = config.with_target_partitions(p);
    }
    let partitions = config.target_partitions();
    let ctx = SessionContext::new_with_config(config);
    grizzly_datafusion::register_program(&ctx, PROGRAM).unwrap();
    let floats = vec![DataType::Float64, DataType::Float64];
    for name in ["arith", "bucket", "label"] {
        ctx.register_udf(Native::udf(name, floats.clone()));
    }
    ctx.register_udf(Native::udf(
        "with_default",
        vec![DataType::Int64, DataType::Int64],
    ));
    let (schema, batches) = table(rows);
    // One partition of the table per DataFusion partition, so every core works.
    let per = batches.len().div_ceil(partitions);
    let parts: Vec<Vec<RecordBatch>> = batches.chunks(per).map(<[_]>::to_vec).collect();
    ctx.register_table("t", Arc::new(MemTable::try_new(schema, parts).unwrap()))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let count = |sql: String| {
        let ctx = ctx.clone();
        runtime.block_on(async move {
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            batches.iter().map(RecordBatch::num_rows).sum::<usize>()
        })
    };

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for (name, call, sql) in QUERIES {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(rows as u64));
        let native = call.replace(name, &format!("native_{name}"));
        for (way, expr) in [
            ("grizzly", call.to_string()),
            ("native", native),
            ("sql", sql.to_string()),
        ] {
            let query = format!("SELECT {expr} FROM t");
            assert_eq!(count(query.clone()), rows, "{way}: {query}");
            group.bench_function(way, |b| b.iter(|| count(query.clone())));
        }
        group.finish();
    }
    c.final_summary();
    println!("{rows} rows, {partitions} partitions (rows per second: criterion's thrpt)");
}
