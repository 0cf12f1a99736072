//! The performance report: reads what criterion saved from `cargo bench --bench
//! programs` and `cargo bench --bench jit` (`target/criterion`) and prints one
//! markdown table set, ratios included, with the machine it ran on.
//!
//! Run it through `scripts/perf-report.sh`, which runs the benches first. Every
//! figure is criterion's median estimate for one benchmark of the same run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PROGRAMS: [&str; 7] = [
    "fib", "tak", "gcd_sum", "collatz", "primes", "mandel", "newton",
];
/// Rows per batch call in `benches/jit.rs` (`BATCH_ROWS`).
const BATCH_ROWS: f64 = 10_000.0;

fn main() {
    let dir = criterion_dir();
    match report(&dir) {
        Ok(text) => print!("{text}"),
        Err(why) => {
            eprintln!("perf_report: {why}");
            eprintln!("(run `scripts/perf-report.sh`, which runs the benches first)");
            std::process::exit(1);
        }
    }
}

fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("criterion")
}

/// Criterion's median estimate for `group/id`, in nanoseconds.
fn median_ns(dir: &Path, group: &str, id: &str) -> Result<f64, String> {
    let path = dir.join(group).join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    point_estimate(&text, "median").ok_or_else(|| format!("{}: no median", path.display()))
}

/// `"<name>":{..."point_estimate":X` in criterion's estimates (no JSON crate
/// needed for one number).
fn point_estimate(json: &str, name: &str) -> Option<f64> {
    let at = json.find(&format!("\"{name}\":{{"))?;
    let rest = &json[at..];
    let value = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.1}x", a / b)
}

fn time(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.1} us", n / 1e3),
        n => format!("{n:.2} ns"),
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

fn report(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "Machine: {}\n", machine());

    let _ = writeln!(w, "Programs (`examples/bench`), median time of one run:\n");
    let _ = writeln!(
        w,
        "| program | interpreter | JIT | native Rust | interpreter / JIT | JIT / native |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|");
    for p in PROGRAMS {
        let interp = median_ns(dir, p, "interpreter")?;
        let jit = median_ns(dir, p, "jit")?;
        let native = median_ns(dir, p, "native")?;
        let _ = writeln!(
            w,
            "| {p} | {} | {} | {} | {} | {} |",
            time(interp),
            time(jit),
            time(native),
            ratio(interp, jit),
            ratio(jit, native)
        );
    }

    let compiles = compile_medians(dir)?;
    let mut sorted: Vec<f64> = compiles.iter().map(|(_, ns)| *ns).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let (worst_id, worst) = compiles
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .cloned()
        .unwrap_or_default();
    let _ = writeln!(
        w,
        "\nCompile latency (`Engine::jit_compile`, {} functions of the seven programs, each \
         with the callees it compiles in the same batch): median {}, worst {} (`{worst_id}`).",
        compiles.len(),
        time(median),
        time(worst)
    );

    let typed = median_ns(dir, "call", "typed")?;
    let pointer = median_ns(dir, "call", "fn_pointer")?;
    let dynamic = median_ns(dir, "call", "jit")?;
    let dynamic2 = median_ns(dir, "call", "jit_two_args")?;
    let interp = median_ns(dir, "call", "interpreter")?;
    let batch = median_ns(dir, "batch", "jit")? / BATCH_ROWS;
    let native_loop = median_ns(dir, "batch", "native_loop")? / BATCH_ROWS;
    let native_calls = median_ns(dir, "batch", "native_calls")? / BATCH_ROWS;
    let typed_calls = median_ns(dir, "batch", "typed_calls")? / BATCH_ROWS;
    let _ = writeln!(
        w,
        "\nCall overhead from Rust, a one-line function (`x + 1`; `x + y` for two arguments):\n"
    );
    let _ = writeln!(w, "| call | time per call or row | compared with |");
    let _ = writeln!(w, "|---|---|---|");
    let rows = [
        (
            "typed handle `TypedFunc::call`",
            typed,
            format!("{} a Rust `fn` pointer", ratio(typed, pointer)),
        ),
        ("Rust `fn` pointer", pointer, String::new()),
        (
            "dynamic `Engine::call`, compiled, one argument",
            dynamic,
            String::new(),
        ),
        (
            "dynamic `Engine::call`, compiled, two arguments",
            dynamic2,
            String::new(),
        ),
        (
            "dynamic `Engine::call`, interpreter, one argument",
            interp,
            format!("{} compiled", ratio(interp, dynamic)),
        ),
        (
            "batch `TypedFunc::call_batch`, per row",
            batch,
            format!("{} the native loop", ratio(batch, native_loop)),
        ),
        ("typed calls in a loop, per row", typed_calls, String::new()),
        (
            "native Rust loop (inlined), per row",
            native_loop,
            String::new(),
        ),
        (
            "native Rust loop through a `fn` pointer, per row",
            native_calls,
            format!("{} the inlined loop", ratio(native_calls, native_loop)),
        ),
    ];
    for (what, ns, versus) in rows {
        let _ = writeln!(w, "| {what} | {} | {versus} |", time(ns));
    }
    let _ = writeln!(w, "\nTargets:\n");
    let _ = writeln!(
        w,
        "- typed handle under 5 ns and at most 2x a `fn` pointer: {:.2} ns, {} ({}; {})",
        typed,
        ratio(typed, pointer),
        met(typed < 5.0),
        met(typed <= 2.0 * pointer)
    );
    let _ = writeln!(
        w,
        "- dynamic call with two arguments under 50 ns: {:.1} ns ({})",
        dynamic2,
        met(dynamic2 < 50.0)
    );
    let _ = writeln!(
        w,
        "- batch call per row within 2x of a native loop: {:.2} ns, {} ({})",
        batch,
        ratio(batch, native_loop),
        met(batch <= 2.0 * native_loop)
    );
    Ok(out)
}

/// Every `compile/*` benchmark's id and median.
fn compile_medians(dir: &Path) -> Result<Vec<(String, f64)>, String> {
    let group = dir.join("compile");
    let entries = std::fs::read_dir(&group).map_err(|e| format!("{}: {e}", group.display()))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "report" {
            continue;
        }
        if let Ok(ns) = median_ns(dir, "compile", &name) {
            out.push((name, ns));
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no compile benchmarks", group.display()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// CPU, cores, OS and compiler, as far as this machine tells.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name") || l.starts_with("CPU part"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(
            || std::env::consts::ARCH.to_string(),
            |s| s.trim().to_string(),
        );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mhz = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| format!(" at {} MHz", s.trim().split('.').next().unwrap_or("?")))
        .unwrap_or_default();
    let command = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let rustc = command("rustc", &["-V"]);
    let os = command("uname", &["-sr"]);
    format!(
        "{cpu}{mhz}, {cores} cores, {} ({os}), {rustc}",
        std::env::consts::ARCH
    )
}
