//! Hostile input through the whole engine (the public API) and the `grizzly` binary:
//! every case gives a clear error or runs, never a panic, a crash (a signal) or a Rust
//! stack overflow. The parser alone is tested in `src/syntax/parser/robustness_tests.rs`;
//! here the trees also go through the checks, the bytecode compiler, the VM and the JIT.
//!
//! Time is not asserted (machines are noisy). The full-size cases that take more than a
//! few seconds in a debug build are ignored there; each has a smaller twin that always
//! runs. All of them: `cargo test --release --test hostile -- --include-ignored`.

#[path = "../bin_common/mod.rs"]
mod bin_common;

use grizzly::{Engine, ErrorKind, JitMode, Source, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

const MODES: [JitMode; 3] = [JitMode::Off, JitMode::On, JitMode::Eager];

fn mode_arg(mode: JitMode) -> String {
    format!("{mode:?}").to_lowercase()
}

/// How a program must end: the values it printed, then (if it failed) the error's kind
/// and the start of its message.
struct Want {
    printed: Vec<String>,
    error: Option<(ErrorKind, String)>,
}

impl std::fmt::Debug for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, first) = (self.printed.len(), self.printed.first());
        write!(f, "{n} values (first {first:?}), error {:?}", self.error)
    }
}

fn prints(values: &[&str]) -> Want {
    Want {
        printed: values.iter().map(|v| v.to_string()).collect(),
        error: None,
    }
}

fn fails(printed: &[&str], kind: ErrorKind, prefix: &str) -> Want {
    Want {
        error: Some((kind, prefix.to_string())),
        ..prints(printed)
    }
}

/// Too deep for the bytecode compiler's registers: a definition error, nothing runs.
fn too_large(what: &str) -> Want {
    fails(&[], ErrorKind::Definition, &format!("{what} is too large"))
}

fn overflows(printed: &[&str]) -> Want {
    fails(printed, ErrorKind::IntegerOverflow, "integer overflow")
}

fn overflows_stack(printed: &[&str]) -> Want {
    fails(printed, ErrorKind::StackOverflow, "stack overflow")
}

fn engine(mode: JitMode, max_depth: u32) -> Engine {
    Engine::builder().jit(mode).max_depth(max_depth).build()
}

/// Runs `src` and returns what it printed and how it ended, with the error's report
/// rendered (the rendering must not panic either).
fn outcome(engine: &mut Engine, src: &str) -> (Vec<String>, Option<(ErrorKind, String)>) {
    let mut printed = Vec::new();
    let source = Source::new("<hostile>", src);
    let result = engine.run_source(&source, &mut |v| printed.push(v.to_string()));
    let error = result.err().map(|e| {
        assert!(!e.report().is_empty());
        assert_ne!(e.kind(), ErrorKind::Internal, "{}", e.message());
        (e.kind(), e.message().to_string())
    });
    (printed, error)
}

/// Runs `src` through the API in `mode` and asserts it ends as one of `wants`.
#[track_caller]
fn api(src: &str, mode: JitMode, max_depth: u32, wants: &[Want]) {
    let (printed, error) = outcome(&mut engine(mode, max_depth), src);
    let matches = |w: &Want| {
        w.printed == printed
            && match (&w.error, &error) {
                (None, None) => true,
                (Some((k, p)), Some((kind, message))) => k == kind && message.starts_with(p),
                _ => false,
            }
    };
    assert!(
        wants.iter().any(matches),
        "mode {mode:?}: printed {} values (first {:?}), error {:?}; wanted one of {wants:?}",
        printed.len(),
        printed.first(),
        error.map(|(k, m)| (k, m.chars().take(200).collect::<String>()))
    );
}

/// Runs the binary on a program file holding `contents`, with `options`. Asserts that
/// it exited on its own (no signal), without a panic, with status 0 or 1.
fn grizzly_run(contents: &[u8], options: &[&str]) -> Output {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let name = format!("grizzly-hostile-{}-{n}.grz", std::process::id());
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, contents).unwrap();
    let run = bin_common::grizzly()
        .arg("run")
        .arg(&path)
        .args(options)
        .output();
    let _ = std::fs::remove_file(&path);
    let o = run.expect("start grizzly");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let head: String = stderr.chars().take(2000).collect();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{options:?}: {:?} (a signal or a panic)\nstderr:\n{head}",
        o.status
    );
    for bad in ["panicked", "overflowed its stack", "internal error"] {
        assert!(
            !stderr.contains(bad),
            "{options:?}: '{bad}' in stderr:\n{head}"
        );
    }
    o
}

/// Runs `contents` through the binary and asserts it ends as one of `wants`: the
/// values on stdout, exit status 1 and the message on stderr for an error.
#[track_caller]
fn cli(contents: &str, options: &[&str], wants: &[Want]) {
    let o = grizzly_run(contents.as_bytes(), options);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let matches = |w: &Want| {
        let expected: String = w.printed.iter().map(|v| format!("{v}\n")).collect();
        let ended = match &w.error {
            None => o.status.code() == Some(0) && stderr.is_empty(),
            Some((ErrorKind::Parse, p)) => {
                o.status.code() == Some(1) && stderr.contains(&format!("parse error: {p}"))
            }
            Some((_, p)) => o.status.code() == Some(1) && stderr.contains(p.as_str()),
        };
        stdout == expected && ended
    };
    assert!(
        wants.iter().any(matches),
        "{options:?}: exit {:?}, stdout {:?}..., stderr {:?}...; wanted one of {wants:?}",
        o.status.code(),
        stdout.chars().take(200).collect::<String>(),
        stderr.chars().take(300).collect::<String>()
    );
}

/// Modes of the API runs at full size (the binary always runs in eager mode) ...
const FULL: &[JitMode] = &[JitMode::Eager];
/// ... and at the smaller size of the debug twins.
const SMALL: &[JitMode] = &[JitMode::Off, JitMode::Eager];

/// Through the API in each of `modes` and through the binary in eager mode.
#[track_caller]
fn check(src: &str, modes: &[JitMode], wants: &[Want]) {
    for &mode in modes {
        api(src, mode, 10_000, wants);
    }
    cli(src, &["--jit", "eager"], wants);
}

/// Two tests of `case`: at full size, and at a smaller size for debug builds, where the
/// full size takes well over a few seconds (so it is ignored there).
macro_rules! sized {
    ($full:ident, $small:ident, $case:ident($n:expr, $debug_n:expr)) => {
        #[test]
        #[cfg_attr(debug_assertions, ignore = "slow unoptimised: use --release")]
        fn $full() {
            $case($n, FULL);
        }
        #[test]
        fn $small() {
            $case($debug_n, SMALL);
        }
    };
}

// After the harness: `sized!` must be defined before the modules that use it.
mod bytes;
mod nesting;
mod recursion;
