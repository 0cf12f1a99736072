//! Golden programs: every `tests/programs/NAME.grz` runs through `Engine::run_source` in each JIT
//! mode, with a fresh engine per mode, and must print exactly `NAME.out` (each printed value on
//! its own line) and end as `NAME.err` says.
//!
//! File conventions:
//! - `NAME.out`: the exact expected stdout (required, may be empty).
//! - `NAME.err`: present iff the program must end in an error. Its first line is a prefix of the
//!   expected `Error::message()`. A line `parse error:` (optionally followed by a message prefix)
//!   means the error must be of kind `ErrorKind::Parse`. The kind must also agree with the
//!   message's first words (`integer overflow` → `IntegerOverflow`, ...; definition-time
//!   messages → `Definition`).
//! - `NAME.then.grz` (optional, with its own `.out`/`.err`): run afterwards on the *same*
//!   engine, to observe what the first program left behind (e.g. that a failed definition
//!   defined nothing).
//! - `#> text` / `#! text` comments in a `.grz` document the expected output / error next to
//!   the code; when present they must agree with the `.out` / `.err` files.
//! - In `jit=eager` mode, each `not compiled: REASON` line of `Engine::jit_status()` must give
//!   one of the reasons compiled code deliberately leaves to the interpreter
//!   ([`ACCEPTED_REASONS`]): no function may fall back silently.
//!
//! `GOLDEN_FILTER=substring` runs only the programs whose name contains it.

use grizzly::{Engine, ErrorKind, JitMode, Source};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Stack of the thread a program runs on: that of a typical main thread, like the CLI's.
const STACK_SIZE: usize = 8 << 20;
/// A run that takes longer than this is reported as hung.
const TIMEOUT: Duration = Duration::from_secs(120);

struct Mode {
    name: &'static str,
    build: fn() -> Engine,
    /// Whether every `not compiled` line of `jit_status()` must give an accepted reason.
    audit: bool,
}

const MODES: &[Mode] = &[
    Mode {
        name: "jit=off",
        build: || Engine::builder().jit(JitMode::Off).build(),
        audit: false,
    },
    Mode {
        name: "jit=eager",
        build: || Engine::builder().jit(JitMode::Eager).build(),
        audit: true,
    },
    Mode {
        name: "jit=on threshold=1",
        build: || Engine::builder().jit(JitMode::On).threshold(1).build(),
        audit: false,
    },
    Mode {
        name: "jit=on (default threshold)",
        build: || Engine::builder().jit(JitMode::On).build(),
        audit: false,
    },
];

/// The reasons a function may stay uncompiled: what compiled code deliberately leaves to the
/// interpreter. Any other reason (`code generation failed`, `branches return int and float`,
/// ...) is a function that fell back silently.
const ACCEPTED_REASONS: &[&str] = &[
    "uses strings",
    "uses null",
    "called with",
    "argument type error",
    "deoptimized",
    "calls ",
    "reads an unbound variable",
    "compares values of different types",
];

/// Whether a refusal reason is accepted: one of [`ACCEPTED_REASONS`], where `calls ...` must
/// name a callee refused for an accepted reason (`calls g(int), which is not compiled: ...`).
fn accepted(reason: &str) -> bool {
    if reason.starts_with("calls ") {
        return reason
            .split_once(", which is not compiled: ")
            .is_some_and(|(_, why)| accepted(why));
    }
    ACCEPTED_REASONS.iter().any(|r| reason.starts_with(r))
}

/// The lines of a `jit_status()` text that say a function was not compiled for a reason
/// that is not [`accepted`].
fn unaccepted_refusals(status: &str) -> Vec<String> {
    status
        .lines()
        .filter_map(|line| {
            let (_, reason) = line.split_once("not compiled: ")?;
            (!accepted(reason)).then(|| line.trim().to_string())
        })
        .collect()
}

/// What one program must do.
#[derive(Clone, Debug)]
struct Expected {
    out: String,
    err: Option<String>,
}

/// What one program did.
#[derive(Debug)]
struct Outcome {
    out: String,
    /// `(kind, message)` of the error it ended with.
    err: Option<(ErrorKind, String)>,
}

struct Case {
    name: String,
    text: String,
    expected: Expected,
    then: Option<(String, Expected)>,
}

fn programs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `dir/base.ext` (not `Path::with_extension`, which would replace the `.then` of a base).
fn file(base: &str, ext: &str) -> PathBuf {
    programs_dir().join(format!("{base}.{ext}"))
}

/// Reads `base.grz`, `base.out` and (if present) `base.err` of `tests/programs`.
fn load(base: &str) -> Result<(String, Expected), String> {
    let grz = file(base, "grz");
    let text = read(&grz)?;
    let out = read(&file(base, "out"))?;
    let err_path = file(base, "err");
    let err = if err_path.exists() {
        let line = read(&err_path)?.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            return Err(format!("{} is empty", err_path.display()));
        }
        Some(line)
    } else {
        None
    };
    let expected = Expected { out, err };
    check_markers(&grz, &text, &expected)?;
    Ok((text, expected))
}

/// The `#>` / `#!` comments of a program, if it has any, must agree with its expectation files.
fn check_markers(path: &Path, text: &str, expected: &Expected) -> Result<(), String> {
    let mut out = String::new();
    let mut err = None;
    let mut any = false;
    for line in text.lines() {
        let marker = |m: &str| {
            line.find(m).map(|i| {
                let rest = &line[i + 2..];
                rest.strip_prefix(' ').unwrap_or(rest).to_string()
            })
        };
        if let Some(t) = marker("#>") {
            any = true;
            out.push_str(&t);
            out.push('\n');
        } else if let Some(t) = marker("#!") {
            any = true;
            err = Some(t);
        }
    }
    if any && (out != expected.out || err != expected.err) {
        return Err(format!(
            "{}: the #> / #! comments disagree with the .out / .err files\n  comments: out {:?}, err {:?}\n  files:    out {:?}, err {:?}",
            path.display(),
            out,
            err,
            expected.out,
            expected.err
        ));
    }
    Ok(())
}

fn discover() -> (Vec<Case>, Vec<String>) {
    let filter = std::env::var("GOLDEN_FILTER").unwrap_or_default();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(programs_dir())
        .expect("tests/programs exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".grz") && !name.ends_with(".then.grz")
        })
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !name.contains(&filter) {
            continue;
        }
        let then_base = format!("{name}.then");
        let loaded = load(&name).and_then(|(text, expected)| {
            let then = if file(&then_base, "grz").exists() {
                Some(load(&then_base)?)
            } else {
                None
            };
            Ok(Case {
                name: name.clone(),
                text,
                expected,
                then,
            })
        });
        match loaded {
            Ok(case) => cases.push(case),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    (cases, problems)
}

/// The error kind a message's first words call for, if the message pins one.
fn kind_for(message: &str) -> Option<ErrorKind> {
    let runtime = [
        ("integer overflow", ErrorKind::IntegerOverflow),
        ("division by zero", ErrorKind::DivisionByZero),
        ("type error", ErrorKind::Type),
        ("cast error", ErrorKind::Cast),
        ("unknown function", ErrorKind::UnknownFunction),
        ("wrong number of arguments", ErrorKind::WrongArgumentCount),
        ("stack overflow", ErrorKind::StackOverflow),
    ];
    if message.starts_with("unknown variable") {
        return Some(if message.contains(" in function ") {
            ErrorKind::Definition
        } else {
            ErrorKind::UnknownVariable
        });
    }
    if let Some(&(_, kind)) = runtime.iter().find(|(w, _)| message.starts_with(w)) {
        return Some(kind);
    }
    let definition = message.starts_with("function '")
        || message.contains("is a builtin function")
        || message.starts_with("duplicate parameter");
    definition.then_some(ErrorKind::Definition)
}

/// Checks an outcome against an expectation; returns a description of every difference.
fn compare(expected: &Expected, actual: &Outcome) -> Option<String> {
    let mut report = String::new();
    if expected.out != actual.out {
        let _ = writeln!(
            report,
            "  stdout differs{}",
            first_difference(&expected.out, &actual.out)
        );
        let _ = writeln!(report, "  expected stdout:\n{}", indent(&expected.out));
        let _ = writeln!(report, "  actual stdout:\n{}", indent(&actual.out));
    }
    match (&expected.err, &actual.err) {
        (None, None) => {}
        (None, Some((kind, msg))) => {
            let _ = writeln!(report, "  expected no error, got {kind:?}: {msg}");
        }
        (Some(want), None) => {
            let _ = writeln!(
                report,
                "  expected error `{want}`, but the program finished"
            );
        }
        (Some(want), Some((kind, msg))) => {
            let ok = if let Some(rest) = want.strip_prefix("parse error:") {
                *kind == ErrorKind::Parse && msg.starts_with(rest.trim_start())
            } else {
                msg.starts_with(want.as_str())
                    && kind_for(want).is_none_or(|k| k == *kind)
                    && *kind != ErrorKind::Parse
            };
            if !ok {
                let _ = writeln!(report, "  expected error: {want}");
                let _ = writeln!(report, "  actual error:   {kind:?}: {msg}");
            }
        }
    }
    (!report.is_empty()).then_some(report)
}

fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        if e.get(i) != a.get(i) {
            return format!(
                " at line {}: expected {:?}, actual {:?}",
                i + 1,
                e.get(i),
                a.get(i)
            );
        }
    }
    String::new()
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)".to_string();
    }
    text.lines().map(|l| format!("    | {l}\n")).collect()
}

fn run_one(engine: &mut Engine, name: &str, text: &str) -> Outcome {
    let mut out = String::new();
    let source = Source::new(format!("{name}.grz"), text);
    let result = engine.run_source(&source, &mut |v| {
        let _ = writeln!(out, "{v}");
    });
    Outcome {
        out,
        err: result.err().map(|e| (e.kind(), e.message().to_string())),
    }
}

/// Runs a case (and its `.then` program) in one mode on a thread of its own, so that a panic
/// or a hang is reported as a failure of this case instead of ending the whole test.
fn run_case(case: &Case, mode: &Mode) -> Result<Vec<String>, String> {
    let (tx, rx) = mpsc::channel();
    let name = case.name.clone();
    let text = case.text.clone();
    let then = case.then.as_ref().map(|(t, _)| t.clone());
    let build = mode.build;
    let audit = mode.audit;
    std::thread::Builder::new()
        .name(format!("{} [{}]", case.name, mode.name))
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut engine = build();
                let first = run_one(&mut engine, &name, &text);
                let second = then.map(|t| run_one(&mut engine, &format!("{name}.then"), &t));
                let refusals = if audit {
                    unaccepted_refusals(&engine.jit_status())
                } else {
                    Vec::new()
                };
                (first, second, refusals)
            }));
            let _ = tx.send(result.map_err(|payload| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string())
            }));
        })
        .map_err(|e| format!("cannot spawn a thread: {e}"))?;
    let (first, second, refusals) = match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err(panic)) => return Err(format!("panicked: {panic}")),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return Err(format!("did not finish within {TIMEOUT:?}"))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err("the engine thread died without a result".to_string())
        }
    };
    let mut failures = Vec::new();
    for line in refusals {
        failures.push(format!(
            "{}.grz [{}]\n  a function fell back silently: {line}\n",
            case.name, mode.name
        ));
    }
    if let Some(diff) = compare(&case.expected, &first) {
        failures.push(format!("{}.grz [{}]\n{diff}", case.name, mode.name));
    }
    if let (Some((_, expected)), Some(actual)) = (&case.then, &second) {
        if let Some(diff) = compare(expected, actual) {
            failures.push(format!(
                "{}.then.grz [{}] (same engine)\n{diff}",
                case.name, mode.name
            ));
        }
    }
    Ok(failures)
}

#[test]
fn golden_programs() {
    let (cases, mut failures) = discover();
    assert!(
        !cases.is_empty() || !failures.is_empty(),
        "no programs found in {}",
        programs_dir().display()
    );
    let mut timings: Vec<(Duration, String)> = Vec::new();
    let started = Instant::now();
    for case in &cases {
        for mode in MODES {
            let t = Instant::now();
            match run_case(case, mode) {
                Ok(f) => failures.extend(f),
                Err(e) => failures.push(format!("{}.grz [{}]\n  {e}\n", case.name, mode.name)),
            }
            timings.push((t.elapsed(), format!("{} [{}]", case.name, mode.name)));
        }
    }
    timings.sort_by_key(|t| std::cmp::Reverse(t.0));
    eprintln!(
        "golden: {} programs x {} modes in {:.2?}; slowest:",
        cases.len(),
        MODES.len(),
        started.elapsed()
    );
    for (d, what) in timings.iter().take(5) {
        eprintln!("  {d:>10.2?}  {what}");
    }
    if !failures.is_empty() {
        let failed_runs = failures.len();
        panic!(
            "{failed_runs} golden run(s) failed:\n\n{}",
            failures.join("\n")
        );
    }
}

/// The harness itself must be able to fail: a wrong expectation is detected.
#[test]
fn harness_detects_differences() {
    let expected = Expected {
        out: "1\n".to_string(),
        err: Some("division by zero".to_string()),
    };
    let same = Outcome {
        out: "1\n".to_string(),
        err: Some((ErrorKind::DivisionByZero, "division by zero".to_string())),
    };
    assert!(compare(&expected, &same).is_none());
    let other_out = Outcome {
        out: "2\n".to_string(),
        err: Some((ErrorKind::DivisionByZero, "division by zero".to_string())),
    };
    assert!(compare(&expected, &other_out).is_some());
    let wrong_kind = Outcome {
        out: "1\n".to_string(),
        err: Some((ErrorKind::Type, "division by zero".to_string())),
    };
    assert!(compare(&expected, &wrong_kind).is_some());
    let status = "  f: 1 calls\n    f(int) not compiled: uses strings\n    \
                  g(int) not compiled: branches return int and float\n    \
                  h(int) not compiled: calls f(int), which is not compiled: uses strings\n    \
                  k(int) not compiled: calls g(int), which is not compiled: branches return\n";
    assert_eq!(
        unaccepted_refusals(status),
        [
            "g(int) not compiled: branches return int and float",
            "k(int) not compiled: calls g(int), which is not compiled: branches return"
        ]
    );
    let no_err = Outcome {
        out: "1\n".to_string(),
        err: None,
    };
    assert!(compare(&expected, &no_err).is_some());
    let parse = Expected {
        out: String::new(),
        err: Some("parse error:".to_string()),
    };
    let runtime = Outcome {
        out: String::new(),
        err: Some((ErrorKind::Type, "parse error: fake".to_string())),
    };
    assert!(compare(&parse, &runtime).is_some());
}
