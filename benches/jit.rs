//! The JIT's own costs, apart from the code it makes:
//!
//! - compile latency: `Engine::jit_compile` of each function of the seven programs of
//!   `examples/bench`, for the argument types the program calls it with. Parsing and
//!   checks are not timed: before each timed compile the program's functions are
//!   defined again (which drops every specialization), so every timed call compiles.
//!   A function that calls functions not compiled yet compiles them in the same batch
//!   (one type pass, one code install with one `mprotect`): the table says which.
//! - call overhead from Rust: `Engine::call` of `add1(x) => x + 1` in compiled code
//!   (and of `add(x, y) => x + y`), in the interpreter, and a native Rust closure; a typed handle (`Engine::typed`)
//!   and a Rust function pointer.
//!
//! - batch calls: `TypedFunc::call_batch` of `add1` over a column of 10,000 rows,
//!   typed calls row by row, and Rust loops over the same function (inlined, and
//!   called through a function pointer).
//!
//! `cargo bench --bench jit` prints criterion's estimates, then the tables.
//! `GRIZZLY_BENCH=collatz,fib,call` limits the run: a word names a program, a
//! function, `compile` (every function), `call` (the call overhead) or `batch`.

use criterion::{Criterion, SamplingMode};
use grizzly::{Engine, JitMode, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const PROGRAMS: [&str; 7] = [
    "fib", "tak", "gcd_sum", "collatz", "primes", "mandel", "newton",
];

/// Compiles done on one engine before it is replaced by a fresh one: the JIT keeps a
/// slot for every specialization ever compiled, and redefinition walks them.
const ENGINE_USES: u32 = 256;
/// Timed compiles per function for the printed medians.
const TABLE_SAMPLES: usize = 201;
/// Timed first compiles in a new engine per function.
const FIRST_SAMPLES: usize = 51;

/// A function compiled for some argument types.
struct Target {
    program: &'static str,
    function: &'static str,
    /// Benchmark id: `program/function`, with the argument types when a function
    /// is measured with more than one.
    id: String,
    args: Vec<Value>,
}

fn types(args: &[Value]) -> String {
    args.iter()
        .map(|v| match v {
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            _ => "?",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every function of the programs, with arguments of the types the program calls it
/// with (the values do not matter to the compiler).
fn targets() -> Vec<Target> {
    use Value::{Float as F, Int as I};
    let list: Vec<(&str, &str, bool, Vec<Value>)> = vec![
        ("fib", "fib", false, vec![I(33)]),
        ("tak", "tak", false, vec![I(26), I(18), I(9)]),
        ("gcd_sum", "gcd", false, vec![I(12), I(18)]),
        ("gcd_sum", "row", false, vec![I(1), I(1), I(1000), I(0)]),
        ("gcd_sum", "grid", false, vec![I(1), I(1000), I(0)]),
        ("collatz", "steps", false, vec![I(27), I(0)]),
        ("collatz", "total", false, vec![I(1), I(100000), I(0)]),
        ("primes", "has_divisor", false, vec![I(97), I(2)]),
        ("primes", "count", false, vec![I(2), I(200000), I(0)]),
        (
            "mandel",
            "escape",
            false,
            vec![F(-0.5), F(0.25), F(0.0), F(0.0), I(0), I(250)],
        ),
        (
            "mandel",
            "row",
            false,
            vec![I(0), I(0), I(320), I(240), I(250), I(0)],
        ),
        (
            "mandel",
            "rows",
            false,
            vec![I(0), I(320), I(240), I(250), I(0)],
        ),
        // `total` calls newton(i, i, iters) with ints; its own tail calls pass floats.
        ("newton", "newton", true, vec![I(2), I(2), I(20)]),
        ("newton", "newton", true, vec![F(2.0), F(2.0), I(20)]),
        (
            "newton",
            "total",
            false,
            vec![I(1), I(300000), I(20), F(0.0)],
        ),
    ];
    list.into_iter()
        .map(|(program, function, typed, args)| Target {
            program,
            function,
            id: if typed {
                format!("{program}/{function}({})", types(&args))
            } else {
                format!("{program}/{function}")
            },
            args,
        })
        .collect()
}

/// The program's function definitions: its text without the `LET` lines and the
/// checksum expression, with `CREATE FUNCTION` made `CREATE OR REPLACE FUNCTION` so
/// that it can run again (`FUNCTION f(..) => ..` replaces by itself).
fn definitions(program: &str) -> String {
    let path = format!(
        "{}/examples/bench/{program}.grz",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.trim_end();
    let split = text.rfind('\n').map_or(0, |i| i + 1);
    text[..split]
        .lines()
        .filter(|l| !l.starts_with("LET "))
        .map(|l| match l.strip_prefix("CREATE FUNCTION ") {
            Some(rest) => format!("CREATE OR REPLACE FUNCTION {rest}\n"),
            None => format!("{l}\n"),
        })
        .collect()
}

/// An engine holding one program, whose compiled code is dropped before each compile.
struct Bench<'t> {
    target: &'t Target,
    /// Names of the program's functions.
    functions: Vec<&'static str>,
    defs: String,
    engine: Engine,
    uses: u32,
}

impl<'t> Bench<'t> {
    fn new(target: &'t Target, all: &[Target]) -> Bench<'t> {
        let mut functions: Vec<&str> = all
            .iter()
            .filter(|t| t.program == target.program)
            .map(|t| t.function)
            .collect();
        functions.dedup();
        Bench {
            target,
            functions,
            defs: definitions(target.program),
            engine: Engine::new(),
            uses: 0,
        }
    }

    /// Untimed: redefines the program's functions, which drops all their code. Every
    /// `ENGINE_USES` compiles, starts from a fresh engine, compiling once so that the
    /// JIT's one-time setup (the entry trampoline) is not in the timed compiles.
    fn reset(&mut self) {
        if self.uses == 0 {
            self.engine = Engine::builder().jit(JitMode::On).build();
            self.uses = ENGINE_USES;
            self.define();
            self.compile();
        }
        self.uses -= 1;
        self.define();
        assert_eq!(self.engine.jit_stats().specializations, 0);
    }

    fn define(&mut self) {
        self.engine
            .run(&self.defs)
            .unwrap_or_else(|e| panic!("{}: {}", self.target.program, e.report()));
    }

    /// Timed: one compile.
    fn compile(&mut self) -> Duration {
        let t = &self.target;
        let start = Instant::now();
        let result = self.engine.jit_compile(t.function, &t.args);
        let took = start.elapsed();
        if let Err(e) = result {
            panic!("{}: {}", t.id, e.report());
        }
        assert!(
            self.engine.jit_specializations(t.function) > 0,
            "{}: compiled nothing",
            t.id
        );
        took
    }

    /// Timed: the first compile in a new engine, which also installs the JIT's entry
    /// trampoline and maps its code memory.
    fn first_compile(&self) -> Duration {
        let t = &self.target;
        let mut engine = Engine::builder().jit(JitMode::On).build();
        engine.run(&self.defs).expect("the program defines");
        let start = Instant::now();
        let result = engine.jit_compile(t.function, &t.args);
        let took = start.elapsed();
        result.expect("compiles");
        assert!(engine.jit_specializations(t.function) > 0);
        took
    }

    /// After a compile: the functions compiled, with their specialization counts.
    fn batch(&self) -> (usize, String) {
        let total = self.engine.jit_stats().specializations;
        let parts: Vec<String> = self
            .functions
            .iter()
            .filter_map(|f| match self.engine.jit_specializations(f) {
                0 => None,
                1 => Some(f.to_string()),
                n => Some(format!("{f} x{n}")),
            })
            .collect();
        (total, parts.join(" + "))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One row of the compile table.
struct CompileRow {
    id: String,
    types: String,
    batch: usize,
    batch_of: String,
    median_us: f64,
    first_us: f64,
}

fn bench_compile(c: &mut Criterion, targets: &[Target], wanted: &dyn Fn(&Target) -> bool) {
    let mut rows = Vec::new();
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for target in targets.iter().filter(|t| wanted(t)) {
        let mut bench = Bench::new(target, targets);
        group.bench_function(&target.id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    bench.reset();
                    total += bench.compile();
                }
                total
            })
        });
        let mut samples = Vec::with_capacity(TABLE_SAMPLES);
        for _ in 0..TABLE_SAMPLES {
            bench.reset();
            samples.push(bench.compile().as_secs_f64() * 1e6);
        }
        let (batch, batch_of) = bench.batch();
        let first = (0..FIRST_SAMPLES)
            .map(|_| bench.first_compile().as_secs_f64() * 1e6)
            .collect();
        rows.push(CompileRow {
            id: target.id.clone(),
            types: types(&target.args),
            batch,
            batch_of,
            median_us: median(samples),
            first_us: median(first),
        });
    }
    group.finish();
    if rows.is_empty() {
        return;
    }
    println!(
        "\nCompile latency: `Engine::jit_compile`, median of {TABLE_SAMPLES} compiles each \
         (first compile in a new engine: median of {FIRST_SAMPLES}).\n"
    );
    println!("| function | argument types | specializations compiled | median compile | per specialization | first compile in a new engine |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let batch = if r.batch > 1 {
            format!("{} (batch: {})", r.batch, r.batch_of)
        } else {
            r.batch.to_string()
        };
        println!(
            "| {} | {} | {batch} | {:.1} us | {:.1} us | {:.1} us |",
            r.id,
            r.types,
            r.median_us,
            r.median_us / r.batch as f64,
            r.first_us,
        );
    }
    let per_compile = median(rows.iter().map(|r| r.median_us).collect());
    let per_spec = median(rows.iter().map(|r| r.median_us / r.batch as f64).collect());
    println!(
        "\nMedian over the functions: {per_compile:.1} us per compile, {per_spec:.1} us per specialization (target: at most 10 us per specialization)."
    );
}

fn bench_call(c: &mut Criterion) {
    const ADD1: &str = "FUNCTION add1(x) => x + 1";
    let args = [Value::Int(1)];
    let mut jit = Engine::builder().jit(JitMode::On).build();
    jit.run(ADD1).expect("add1 defines");
    // Past the threshold, calls go to compiled code.
    for _ in 0..=jit.threshold() {
        assert_eq!(jit.call("add1", &args).expect("add1 runs"), Value::Int(2));
    }
    assert!(jit.jit_stats().specializations > 0, "add1 was not compiled");
    let entries = jit.jit_stats().entries;
    jit.call("add1", &args).expect("add1 runs");
    assert_eq!(
        jit.jit_stats().entries,
        entries + 1,
        "a call of add1 did not enter compiled code"
    );
    // The dynamic call's target is stated for two arguments.
    let args2 = [Value::Int(1), Value::Int(2)];
    jit.run("FUNCTION add(x, y) => x + y").expect("add defines");
    for _ in 0..=jit.threshold() {
        assert_eq!(jit.call("add", &args2).expect("add runs"), Value::Int(3));
    }
    let entries = jit.jit_stats().entries;
    jit.call("add", &args2).expect("add runs");
    assert_eq!(jit.jit_stats().entries, entries + 1, "add is not compiled");
    let mut interp = Engine::builder().jit(JitMode::Off).build();
    interp.run(ADD1).expect("add1 defines");
    assert_eq!(
        interp.call("add1", &args).expect("add1 runs"),
        Value::Int(2)
    );
    let add1 = |args: &[Value]| match args {
        [Value::Int(x)] => Value::Int(x + 1),
        _ => Value::Null,
    };
    let native: &dyn Fn(&[Value]) -> Value = black_box(&add1);
    // The typed handle and what it is measured against: a Rust function pointer.
    let mut typed_engine = Engine::builder().jit(JitMode::On).build();
    typed_engine.run(ADD1).expect("add1 defines");
    let typed = typed_engine
        .typed::<(i64,), i64>("add1")
        .expect("a handle on add1");
    assert_eq!(typed.call(&mut typed_engine, (1,)).expect("add1 runs"), 2);
    fn add1_native(x: i64) -> i64 {
        x.wrapping_add(1)
    }
    let pointer: fn(i64) -> i64 = black_box(add1_native);

    let mut group = c.benchmark_group("call");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("jit", |b| {
        b.iter(|| jit.call(black_box("add1"), black_box(&args)))
    });
    group.bench_function("jit_two_args", |b| {
        b.iter(|| jit.call(black_box("add"), black_box(&args2)))
    });
    group.bench_function("interpreter", |b| {
        b.iter(|| interp.call(black_box("add1"), black_box(&args)))
    });
    group.bench_function("native", |b| b.iter(|| native(black_box(&args))));
    group.bench_function("typed", |b| {
        b.iter(|| typed.call(&mut typed_engine, black_box((1,))))
    });
    group.bench_function("fn_pointer", |b| b.iter(|| pointer(black_box(1))));
    group.finish();

    const CALLS: u32 = 200_000;
    let ns_per_call = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..CALLS {
                    f();
                }
                t.elapsed().as_secs_f64() * 1e9 / CALLS as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let before = jit.jit_stats();
    let t_jit = ns_per_call(&mut || {
        black_box(jit.call(black_box("add1"), black_box(&args)).ok());
    });
    let after = jit.jit_stats();
    assert_eq!(after.entries - before.entries, 5 * CALLS as u64);
    assert_eq!(after.fallbacks, 0);
    let t_interp = ns_per_call(&mut || {
        black_box(interp.call(black_box("add1"), black_box(&args)).ok());
    });
    let t_native = ns_per_call(&mut || {
        black_box(native(black_box(&args)));
    });
    let before = typed_engine.jit_stats();
    let t_typed = ns_per_call(&mut || {
        black_box(typed.call(&mut typed_engine, black_box((1,))).ok());
    });
    let after = typed_engine.jit_stats();
    assert_eq!(after.entries - before.entries, 5 * CALLS as u64);
    assert_eq!(after.fallbacks, 0);
    let t_pointer = ns_per_call(&mut || {
        black_box(pointer(black_box(1)));
    });
    println!("\nCall overhead: `Engine::call(\"add1\", &[Value::Int(1)])` for `{ADD1}`, best of 5 runs of {CALLS} calls.\n");
    println!("| add1 called through | time per call | / native closure |");
    println!("|---|---|---|");
    for (what, t) in [
        ("`Engine::call`, JIT (compiled)", t_jit),
        ("`Engine::call`, interpreter (`JitMode::Off`)", t_interp),
        ("native Rust closure (`&dyn Fn`)", t_native),
        ("typed handle `TypedFunc<(i64,), i64>::call`, JIT", t_typed),
        ("Rust function pointer `fn(i64) -> i64`", t_pointer),
    ] {
        println!("| {what} | {t:.1} ns | {:.1}x |", t / t_native);
    }
    println!(
        "\nTyped handle / function pointer: {:.2}x",
        t_typed / t_pointer
    );
    println!("\nInterpreter / JIT: {:.2}x", t_interp / t_jit);
}

/// Rows per batch in the `batch` group.
const BATCH_ROWS: usize = 10_000;

/// A batch call of `add1` over a column against Rust loops over the same function.
fn bench_batch(c: &mut Criterion) {
    const ADD1: &str = "FUNCTION add1(x) => x + 1";
    let mut engine = Engine::builder().jit(JitMode::On).build();
    engine.run(ADD1).expect("add1 defines");
    let add1 = engine
        .typed::<(i64,), i64>("add1")
        .expect("a handle on add1");
    let xs: Vec<i64> = (0..BATCH_ROWS as i64).collect();
    let before = engine.jit_stats();
    let got = add1.call_batch(&mut engine, (&xs,)).expect("add1 runs");
    assert_eq!(
        engine.jit_stats().entries - before.entries,
        BATCH_ROWS as u64,
        "the batch did not run in compiled code"
    );
    // The same function in Rust, overflow check included.
    fn add1_native(x: i64) -> Option<i64> {
        x.checked_add(1)
    }
    let native = |xs: &[i64]| -> Option<Vec<i64>> { xs.iter().map(|&x| add1_native(x)).collect() };
    assert_eq!(native(&xs).as_deref(), Some(&got[..]));
    let pointer: fn(i64) -> Option<i64> = black_box(add1_native);
    let native_calls =
        |xs: &[i64]| -> Option<Vec<i64>> { xs.iter().map(|&x| pointer(x)).collect() };

    let mut group = c.benchmark_group("batch");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(criterion::Throughput::Elements(BATCH_ROWS as u64));
    group.bench_function("jit", |b| {
        b.iter(|| add1.call_batch(&mut engine, (black_box(&xs[..]),)))
    });
    group.bench_function("typed_calls", |b| {
        b.iter(|| {
            black_box(&xs)
                .iter()
                .map(|&x| add1.call(&mut engine, (x,)))
                .collect::<Result<Vec<i64>, _>>()
        })
    });
    group.bench_function("native_loop", |b| b.iter(|| native(black_box(&xs))));
    group.bench_function("native_calls", |b| b.iter(|| native_calls(black_box(&xs))));
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let only = std::env::var("GRIZZLY_BENCH").ok();
    let words: Vec<String> = only
        .as_deref()
        .map(|o| o.split(',').map(|w| w.trim().to_string()).collect())
        .unwrap_or_default();
    let word = |w: &str| only.is_none() || words.iter().any(|x| x == w);
    let targets = targets();
    for p in PROGRAMS {
        assert!(
            targets.iter().any(|t| t.program == p),
            "no compile target for {p}"
        );
    }
    let wanted = |t: &Target| word("compile") || word(t.program) || word(t.function);
    bench_compile(&mut c, &targets, &wanted);
    if word("call") {
        bench_call(&mut c);
    }
    if word("batch") {
        bench_batch(&mut c);
    }
    c.final_summary();
}
