//! The UDF corpus `examples/udf/*.grz` (realistic user-defined functions: prices, labels,
//! parsing with `TRY`, nullable columns, safe division, rules) prints the same in every
//! JIT mode as in the interpreter.
//!
//! Every program in the directory is run, so a new one is picked up without a change
//! here. Each program binds its sizes with top-level `LET name = <integer>` lines and ends
//! with one checksum expression; the test replaces every size with a small one (the
//! programs' own sizes take ~0.5 s each in a release-build interpreter, far longer in the
//! debug build of `cargo test`). `scripts/udf-corpus.sh` times the full sizes.

use grizzly::{Engine, JitMode, Source, Value};
use std::path::{Path, PathBuf};

/// The size every `LET name = <integer>` line is given.
const SMALL: i64 = 300;
/// The corpus must keep at least this many programs and functions.
const MIN_PROGRAMS: usize = 8;
const MIN_FUNCTIONS: usize = 30;

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udf");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "grz"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}.grz: {e}"));
            (name, text)
        })
        .collect()
}

/// `LET name = <integer>` at the start of a line: the name.
fn size_param(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("LET ")?;
    let (name, value) = rest.split_once('=')?;
    value.trim().parse::<i64>().ok()?;
    Some(name.trim())
}

/// The program with every size parameter set to `SMALL`; panics if it has none.
fn small(name: &str, text: &str) -> String {
    let mut sizes = 0;
    let mut out = String::new();
    for line in text.lines() {
        match size_param(line) {
            Some(param) => {
                sizes += 1;
                out.push_str(&format!("LET {param} = {SMALL}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    assert!(
        sizes > 0,
        "{name}.grz has no `LET name = <integer>` size line"
    );
    out
}

/// The names of the functions a program defines (`FUNCTION f(` or `CREATE [OR REPLACE]
/// FUNCTION f(` at the start of a line).
fn functions(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let words: Vec<String> = line
            .split_whitespace()
            .take(4)
            .map(str::to_ascii_uppercase)
            .collect();
        let at = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["FUNCTION", ..] => 1,
            ["CREATE", "FUNCTION", ..] => 2,
            ["CREATE", "OR", "REPLACE", "FUNCTION"] => 4,
            _ => continue,
        };
        let rest = line
            .split_whitespace()
            .skip(at)
            .collect::<Vec<_>>()
            .join(" ");
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A way to run the corpus.
struct Config {
    label: &'static str,
    mode: JitMode,
    threshold: Option<u32>,
}

const CONFIGS: &[Config] = &[
    Config {
        label: "off",
        mode: JitMode::Off,
        threshold: None,
    },
    Config {
        label: "on",
        mode: JitMode::On,
        threshold: None,
    },
    Config {
        label: "eager",
        mode: JitMode::Eager,
        threshold: None,
    },
    // Compiles after two interpreted calls: the small sizes still run mostly compiled
    // code, and every function goes through the interpreter first.
    Config {
        label: "on, threshold 2",
        mode: JitMode::On,
        threshold: Some(2),
    },
];

/// What a run printed (one value a line), or its error report; and the calls that
/// entered compiled code.
fn run(name: &str, text: &str, config: &Config) -> (Result<String, String>, u64) {
    let mut builder = Engine::builder().jit(config.mode);
    if let Some(t) = config.threshold {
        builder = builder.threshold(t);
    }
    let mut engine = builder.build();
    let mut printed: Vec<Value> = Vec::new();
    let result = engine.run_source(&Source::new(format!("{name}.grz"), text), &mut |v| {
        printed.push(v.clone())
    });
    let lines: Vec<String> = printed.iter().map(Value::to_string).collect();
    let entries = engine.jit_stats().entries;
    match result {
        Ok(()) => (Ok(lines.join("\n")), entries),
        Err(e) => (
            Err(format!("printed {lines:?}, then failed:\n{}", e.report())),
            entries,
        ),
    }
}

#[test]
fn udf_corpus_prints_the_same_in_every_jit_mode() {
    let programs = corpus();
    let mut failures = Vec::new();
    let mut total_functions = 0;
    let mut entries = vec![0u64; CONFIGS.len()];
    for (name, text) in &programs {
        let defined = functions(text);
        assert!(!defined.is_empty(), "{name}.grz defines no function");
        total_functions += defined.len();
        let text = small(name, text);
        let (expected, _) = run(name, &text, &CONFIGS[0]);
        let expected = match expected {
            Ok(out) => out,
            Err(report) => {
                failures.push(format!("{name}.grz [off] {report}"));
                continue;
            }
        };
        if expected.lines().count() != 1 {
            failures.push(format!(
                "{name}.grz [off] must print exactly one checksum, printed {expected:?}"
            ));
        }
        for (i, config) in CONFIGS.iter().enumerate().skip(1) {
            let (actual, entered) = run(name, &text, config);
            entries[i] += entered;
            match actual {
                Ok(out) if out == expected => {}
                Ok(out) => failures.push(format!(
                    "{name}.grz [{}] printed {out:?}, the interpreter printed {expected:?}",
                    config.label
                )),
                Err(report) => failures.push(format!(
                    "{name}.grz [{}] {report}\n(the interpreter printed {expected:?})",
                    config.label
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        programs.len() >= MIN_PROGRAMS,
        "examples/udf has {} programs, expected at least {MIN_PROGRAMS}",
        programs.len()
    );
    assert!(
        total_functions >= MIN_FUNCTIONS,
        "examples/udf defines {total_functions} functions, expected at least {MIN_FUNCTIONS}"
    );
    // Compiled code really ran (where this build has a JIT backend).
    if cfg!(feature = "jit") && cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        for (config, entered) in CONFIGS.iter().zip(&entries).skip(1) {
            assert!(
                *entered > 0,
                "[{}] no call entered compiled code over the whole corpus",
                config.label
            );
        }
    }
}

#[test]
fn the_corpus_helpers_read_programs_as_written() {
    let text = "# a comment\nFUNCTION f(x) => x\nCREATE FUNCTION g(a) { a }\n\
                create or replace function h() { 1 }\nFUNCTION f(y) => y\n\
                LET rows = 100000\nLET label = \"x\"\ng(rows)\n";
    assert_eq!(functions(text), ["f", "g", "h"]);
    let small = small("t", text);
    assert!(small.contains(&format!("LET rows = {SMALL}\n")), "{small}");
    assert!(small.contains("LET label = \"x\"\n"), "{small}");
}
