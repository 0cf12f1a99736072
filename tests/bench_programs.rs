//! The benchmark programs `examples/bench/*.grz` compute the same checksums as the same
//! algorithms written in plain Rust (`benches/native.rs`).
//!
//! Each program defines its functions, binds its size parameters with top-level
//! `LET name = <integer>` lines, and ends with one checksum expression on its last line.
//! The test substitutes the values of those `LET` lines and passes the same values, in the same
//! order, to the native function.
//!
//! - `bench_programs_match_native` (always run) uses the small sizes in `BENCHES[..].small`: the
//!   programs' own sizes are chosen for ~0.2–1 s in a release-build interpreter and would take
//!   far longer in the debug build of `cargo test`.
//! - `bench_programs_full_size` (ignored) runs the programs as written:
//!   `cargo test --release --test bench_programs -- --ignored --nocapture`.

#[path = "../benches/native.rs"]
mod native;

use grizzly::{Engine, JitMode, Source, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Bench {
    name: &'static str,
    /// Sizes for the debug-build run, by `LET` name.
    small: &'static [(&'static str, i64)],
    /// The native checksum, printed as the engine prints it, from the `LET` values in file order.
    native: fn(&[i64]) -> String,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "fib",
        small: &[("n", 18)],
        native: |p| native::fib(p[0]).to_string(),
    },
    Bench {
        name: "tak",
        small: &[("x", 18), ("y", 12), ("z", 6)],
        native: |p| native::tak(p[0], p[1], p[2]).to_string(),
    },
    Bench {
        name: "gcd_sum",
        small: &[("n", 60)],
        native: |p| native::gcd_sum(p[0]).to_string(),
    },
    Bench {
        name: "collatz",
        small: &[("n", 2000)],
        native: |p| native::collatz(p[0]).to_string(),
    },
    Bench {
        name: "primes",
        small: &[("n", 5000)],
        native: |p| native::primes(p[0]).to_string(),
    },
    Bench {
        name: "mandel",
        small: &[("w", 40), ("h", 30), ("max_iter", 50)],
        native: |p| native::mandel(p[0], p[1], p[2]).to_string(),
    },
    Bench {
        name: "newton",
        small: &[("n", 2000), ("iters", 20)],
        native: |p| format!("{:?}", native::newton(p[0], p[1])),
    },
];

fn bench_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/bench/{name}.grz"))
}

/// `LET name = <integer>` at the start of a line: the name and the value.
fn let_param(line: &str) -> Option<(&str, i64)> {
    let rest = line.strip_prefix("LET ")?;
    let (name, value) = rest.split_once('=')?;
    Some((name.trim(), value.trim().parse().ok()?))
}

/// The program's size parameters, in file order.
fn params(text: &str) -> Vec<(String, i64)> {
    text.lines()
        .filter_map(let_param)
        .map(|(n, v)| (n.to_string(), v))
        .collect()
}

/// The program with its size parameters replaced by `values` (every parameter must be given).
fn with_params(name: &str, text: &str, values: &[(&str, i64)]) -> String {
    let mut found = Vec::new();
    let mut out = String::new();
    for line in text.lines() {
        match let_param(line) {
            Some((param, _)) => {
                let value = values
                    .iter()
                    .find(|(n, _)| *n == param)
                    .unwrap_or_else(|| panic!("{name}.grz: no test size for LET {param}"))
                    .1;
                found.push(param.to_string());
                out.push_str(&format!("LET {param} = {value}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (n, _) in values {
        assert!(found.iter().any(|f| f == n), "{name}.grz has no LET {n}");
    }
    out
}

/// Checks the shape of a program: it ends with one checksum expression after its LETs.
fn check_structure(name: &str, text: &str) {
    let code: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let last = code.last().unwrap_or_else(|| panic!("{name}.grz is empty"));
    let upper = last.to_ascii_uppercase();
    assert!(
        !upper.starts_with("LET ")
            && !upper.starts_with("FUNCTION ")
            && !upper.starts_with("CREATE "),
        "{name}.grz must end with its checksum expression, not `{last}`"
    );
    assert!(
        !params(text).is_empty(),
        "{name}.grz has no LET size parameters"
    );
}

/// Runs a program and returns its single printed value.
fn run(name: &str, text: &str, mode: JitMode) -> String {
    let mut engine = Engine::builder().jit(mode).build();
    let mut printed: Vec<Value> = Vec::new();
    let result = engine.run_source(&Source::new(format!("{name}.grz"), text), &mut |v| {
        printed.push(v.clone())
    });
    if let Err(e) = result {
        panic!("{name}.grz [{mode:?}] failed: {}", e.report());
    }
    assert_eq!(
        printed.len(),
        1,
        "{name}.grz [{mode:?}] must print exactly one value, printed {printed:?}"
    );
    printed[0].to_string()
}

#[test]
fn bench_programs_match_native() {
    let mut failures = Vec::new();
    for bench in BENCHES {
        let text = std::fs::read_to_string(bench_path(bench.name)).expect("readable bench program");
        check_structure(bench.name, &text);
        let small = with_params(bench.name, &text, bench.small);
        let values: Vec<i64> = params(&small).iter().map(|(_, v)| *v).collect();
        let expected = (bench.native)(&values);
        for mode in [JitMode::Off, JitMode::Eager, JitMode::On] {
            let actual = run(bench.name, &small, mode);
            if actual != expected {
                failures.push(format!(
                    "{} {:?} [{mode:?}]: engine printed {actual}, native Rust gives {expected}",
                    bench.name, bench.small
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "full-size benchmark programs: run with --release"]
fn bench_programs_full_size() {
    let mut failures = Vec::new();
    for bench in BENCHES {
        let text = std::fs::read_to_string(bench_path(bench.name)).expect("readable bench program");
        check_structure(bench.name, &text);
        let values: Vec<i64> = params(&text).iter().map(|(_, v)| *v).collect();
        let t = Instant::now();
        let expected = (bench.native)(&values);
        let native_time = t.elapsed();
        for mode in [JitMode::Off, JitMode::On] {
            let t = Instant::now();
            let actual = run(bench.name, &text, mode);
            eprintln!(
                "{:>8} {:>6}: {:>10.3?} (native {:>9.3?})  {actual}",
                bench.name,
                format!("{mode:?}"),
                t.elapsed(),
                native_time
            );
            if actual != expected {
                failures.push(format!(
                    "{} [{mode:?}]: engine printed {actual}, native Rust gives {expected}",
                    bench.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
