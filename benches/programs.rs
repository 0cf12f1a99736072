//! The seven programs of `examples/bench`, each run by the interpreter, by the JIT and,
//! as a baseline, by the same algorithm in plain Rust (`native.rs`), in one run.
//!
//! `cargo bench --bench programs` prints criterion's estimates, then a table of times
//! and ratios (best of several runs each) to paste into the README.
//! `GRIZZLY_BENCH=fib,gcd_sum` limits the run to those programs.
//!
//! Each program's functions are defined once per engine; what is timed is its last
//! line, the checksum expression. The JIT engine (`JitMode::On`, default threshold)
//! runs the checksum once before it is measured, so that the hot functions are
//! compiled by then.

use criterion::{Criterion, SamplingMode};
use grizzly::{Engine, JitMode, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "native.rs"]
mod native;

const PROGRAMS: [&str; 7] = [
    "fib", "tak", "gcd_sum", "collatz", "primes", "mandel", "newton",
];

/// A program loaded into an engine: everything but its last line has run; the
/// last line is the checksum expression the benchmark times.
struct Loaded {
    engine: Engine,
    checksum: String,
}

fn load(name: &str, jit: JitMode) -> Loaded {
    let path = format!("{}/examples/bench/{name}.grz", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.trim_end();
    let split = text.rfind('\n').map_or(0, |i| i + 1);
    let mut engine = Engine::builder().jit(jit).build();
    engine
        .run(&text[..split])
        .unwrap_or_else(|e| panic!("{name}: {}", e.report()));
    Loaded {
        engine,
        checksum: text[split..].to_string(),
    }
}

impl Loaded {
    fn run(&mut self) -> Value {
        let mut out = self.engine.run(&self.checksum).expect("checksum runs");
        out.pop().expect("the checksum expression prints a value")
    }

    fn int(&self, var: &str) -> i64 {
        match self.engine.variable(var) {
            Some(Value::Int(i)) => *i,
            other => panic!("LET {var} is {other:?}, not an int"),
        }
    }

    /// The same computation in plain Rust, with the program's own parameters.
    fn native(&self, name: &str) -> Value {
        let i = |v: &str| black_box(self.int(v));
        match name {
            "fib" => Value::Int(native::fib(i("n"))),
            "tak" => Value::Int(native::tak(i("x"), i("y"), i("z"))),
            "gcd_sum" => Value::Int(native::gcd_sum(i("n"))),
            "collatz" => Value::Int(native::collatz(i("n"))),
            "primes" => Value::Int(native::primes(i("n"))),
            "mandel" => Value::Int(native::mandel(i("w"), i("h"), i("max_iter"))),
            "newton" => Value::Float(native::newton(i("n"), i("iters"))),
            other => panic!("no native version of {other}"),
        }
    }
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// One line of the printed table.
struct Row {
    name: &'static str,
    interp: Duration,
    jit: Duration,
    native: Duration,
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 100.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.1}x", a.as_secs_f64() / b.as_secs_f64())
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut table = Vec::new();
    // GRIZZLY_BENCH=fib,tak runs only those programs.
    let only = std::env::var("GRIZZLY_BENCH").ok();
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w.trim() == name))
    };
    for name in PROGRAMS.into_iter().filter(|n| wanted(n)) {
        let mut interp = load(name, JitMode::Off);
        let expected = interp.native(name);
        assert_eq!(
            interp.run(),
            expected,
            "{name}: interpreter and native differ"
        );
        let mut jit = load(name, JitMode::On);
        // Warm-up: the first run makes the hot functions compiled.
        assert_eq!(jit.run(), expected, "{name}: JIT and native differ");
        let stats = jit.engine.jit_stats();
        assert!(
            stats.specializations > 0,
            "{name}: the JIT compiled nothing\n{}",
            jit.engine.jit_status()
        );
        assert_eq!(jit.run(), expected, "{name}: JIT and native differ");

        let mut group = c.benchmark_group(name);
        // Runs take milliseconds to a third of a second: one run per iteration.
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("interpreter", |b| b.iter(|| interp.run()));
        group.bench_function("jit", |b| b.iter(|| jit.run()));
        group.bench_function("native", |b| b.iter(|| interp.native(name)));
        group.finish();

        let t_interp = best_of(3, || {
            black_box(interp.run());
        });
        let t_jit = best_of(5, || {
            black_box(jit.run());
        });
        let t_native = best_of(5, || {
            black_box(interp.native(name));
        });
        let stats = jit.engine.jit_stats();
        eprintln!(
            "{name}: JIT {} specializations, {} entries from the interpreter, {} fell back",
            stats.specializations, stats.entries, stats.fallbacks
        );
        table.push(Row {
            name,
            interp: t_interp,
            jit: t_jit,
            native: t_native,
        });
    }
    c.final_summary();
    println!(
        "\n| program | interpreter | JIT | native Rust | interpreter / native | JIT / native | interpreter / JIT |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in table {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            ms(r.interp),
            ms(r.jit),
            ms(r.native),
            ratio(r.interp, r.native),
            ratio(r.jit, r.native),
            ratio(r.interp, r.jit),
        );
    }
}
