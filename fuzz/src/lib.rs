//! Support for the fuzz targets (see `docs/fuzzing.md`).
//!
//! [`Case`] is what the `differential` target runs: a PL-GRIZZLY session generated from the
//! fuzzer's bytes (through [`arbitrary::Unstructured`]), guaranteed to terminate quickly,
//! and [`check`] runs it in the interpreter and in two JIT modes and panics on any
//! difference. `cargo fuzz fmt differential FILE` prints the session an input stands for.
//!
//! Every engine registers the host functions of [`host`] (shared with the differential
//! test: `tests/gen/host.rs`) first; sessions call them. Some sessions have one step
//! interrupted in one JIT engine ([`session::Interrupt`], [`interrupter`], shared with
//! the differential test too).

pub mod gen;
#[path = "../../tests/gen/host.rs"]
pub mod host;
#[path = "../../tests/gen/interrupter.rs"]
pub mod interrupter;
pub mod session;

pub use session::{Case, Interrupt, Step};

use grizzly::{Engine, ErrorKind, JitMode, Source, Value};
use interrupter::Interrupter;

/// One step's outcome as a user sees it: each printed value (or call result), and the
/// error that ended the step, by kind and message.
pub type Outcome = Vec<Result<Value, (ErrorKind, String)>>;

/// Runs one step on an engine.
pub fn run_step(engine: &mut Engine, step: &Step) -> Outcome {
    let mut out: Outcome = Vec::new();
    match step {
        Step::Source(text) => {
            let src = Source::new("<fuzz>", text.as_str());
            let result = engine.run_source(&src, &mut |v| out.push(Ok(v.clone())));
            if let Err(e) = result {
                out.push(Err((e.kind(), e.message().to_string())));
            }
        }
        Step::Call { name, args, times } => {
            for _ in 0..*times {
                out.push(
                    engine
                        .call(name, args)
                        .map_err(|e| (e.kind(), e.message().to_string())),
                );
            }
        }
        Step::JitClear => engine.jit_clear(),
    }
    out
}

/// The engines a case runs on, the host functions registered: the reference first.
pub fn engines(case: &Case) -> Vec<(String, Engine)> {
    let build = |mode: JitMode, threshold: u32| {
        let mut builder = Engine::builder()
            .jit(mode)
            .threshold(threshold)
            .max_depth(case.max_depth);
        if let Some(bytes) = case.code_limit {
            builder = builder.code_limit(bytes);
        }
        let mut engine = builder.build();
        host::register(&mut engine);
        engine
    };
    vec![
        ("jit=off".to_string(), build(JitMode::Off, 1)),
        ("jit=eager".to_string(), build(JitMode::Eager, 1)),
        (
            format!("jit=on threshold={}", case.threshold),
            build(JitMode::On, case.threshold),
        ),
    ]
}

/// Whether `GRIZZLY_FUZZ_AUDIT` is set: then [`check`] also fails when the JIT's type
/// pass accepted a function that code generation then refused (`jit status` says `code
/// generation failed`): a silent fallback, not a wrong result.
fn audit() -> bool {
    static AUDIT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AUDIT.get_or_init(|| std::env::var_os("GRIZZLY_FUZZ_AUDIT").is_some())
}

/// Runs `step` on `engine` while `spec` stops it at a random point (a second thread's
/// interrupt a pause after the step begins, or a deadline on each of its calls or
/// items), then stops the interrupter and clears any interrupt no run took.
pub fn run_step_interrupted(engine: &mut Engine, step: &Step, spec: &Interrupt) -> Outcome {
    let mut stopper = Interrupter::new(engine, spec.micros, spec.deadline);
    let message = spec.message();
    stopper.arm(engine);
    let out = match step {
        // (one call at a time: the interrupter stops after the first interrupted one)
        Step::Call { name, args, times } => (0..*times)
            .map(|_| {
                let r = engine
                    .call(name, args)
                    .map_err(|e| (e.kind(), e.message().to_string()));
                if matches!(&r, Err((ErrorKind::Interrupted, m)) if m == message) {
                    stopper.stop(engine);
                }
                r
            })
            .collect(),
        _ => run_step(engine, step),
    };
    stopper.stop(engine);
    out
}

/// Whether `got`, the outcome of a step interrupted with `message`, is acceptable
/// against the reference's `want`: the same, or for a host call the same but one call
/// `interrupted`, or for top-level expressions the same values up to an item that was
/// `interrupted` (which ends the step).
pub fn interrupted_agrees(step: &Step, got: &Outcome, want: &Outcome, message: &str) -> bool {
    let stopped = |r: &Result<Value, (ErrorKind, String)>| matches!(r, Err((ErrorKind::Interrupted, m)) if m == message);
    if got == want {
        return true;
    }
    match step {
        Step::Call { .. } => {
            let differ: Vec<usize> = (0..got.len()).filter(|&j| got[j] != want[j]).collect();
            got.len() == want.len() && differ.len() == 1 && stopped(&got[differ[0]])
        }
        _ => match got.split_last() {
            Some((last, before)) => {
                stopped(last) && before.len() < want.len() && before == &want[..before.len()]
            }
            None => false,
        },
    }
}

/// Runs every step of `case` in every engine and panics (a crash for the fuzzer) when an
/// engine's outcome differs from the interpreter's, or when any engine reports an
/// internal error (or, with `GRIZZLY_FUZZ_AUDIT` set, a code generation failure). The
/// step of `case.interrupt`, if any, is interrupted in its engine: it must agree as
/// [`interrupted_agrees`] says, and every later step exactly. Returns, for a case with
/// an interrupt, whether it stopped a call or item.
pub fn check(case: &Case) -> Option<bool> {
    host::quiet_panics();
    let mut hit = case.interrupt.map(|_| false);
    let mut engines = engines(case);
    for (i, step) in case.steps.iter().enumerate() {
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(engines.len());
        for (k, (name, engine)) in engines.iter_mut().enumerate() {
            let outcome = match &case.interrupt {
                Some(spec) if spec.step == i && spec.engine == k && k > 0 => {
                    let got = run_step_interrupted(engine, step, spec);
                    hit = Some(got != outcomes[0]);
                    if !interrupted_agrees(step, &got, &outcomes[0], spec.message()) {
                        panic!(
                            "{name}, interrupted, differs from the interpreter at step {i}: \
                             {step}\n  {name}: {got:?}\n  jit=off: {:?}\n{case:?}",
                            outcomes[0]
                        );
                    }
                    // (agreed: compared as the reference's below)
                    outcomes[0].clone()
                }
                _ => run_step(engine, step),
            };
            for r in &outcome {
                if let Err((ErrorKind::Internal, message)) = r {
                    panic!("{name}: internal error at step {i} ({step}): {message}\n{case:?}");
                }
            }
            outcomes.push(outcome);
        }
        for ((name, _), outcome) in engines.iter().zip(&outcomes).skip(1) {
            if *outcome != outcomes[0] {
                panic!(
                    "{name} differs from the interpreter at step {i}: {step}\n  \
                     {name}: {outcome:?}\n  jit=off: {:?}\n{case:?}",
                    outcomes[0]
                );
            }
        }
    }
    if audit() {
        for (name, engine) in &engines {
            let status = engine.jit_status();
            if let Some(line) = status
                .lines()
                .find(|l| l.contains("code generation failed"))
            {
                panic!("{name}: {}\n{case:?}", line.trim());
            }
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};
    use std::time::{Duration, Instant};

    /// Bytes from a fixed xorshift sequence: reproducible pseudo-random cases.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn case(seed: u64) -> Case {
        let data = bytes(seed, 64 + (seed as usize % 8) * 256);
        Case::arbitrary(&mut Unstructured::new(&data)).unwrap()
    }

    /// Generated sessions define what they mean to define, run quickly, and mostly run
    /// compiled code; and they agree (the target's own check). `FUZZ_CASES=n` runs more;
    /// `FUZZ_CORPUS=dir` takes the cases from a corpus (`fuzz/corpus/differential`).
    #[test]
    fn generated_sessions_are_well_formed_quick_and_compiled() {
        let corpus: Vec<Vec<u8>> = match std::env::var_os("FUZZ_CORPUS") {
            Some(dir) => std::fs::read_dir(dir)
                .expect("FUZZ_CORPUS is a directory")
                .map(|e| std::fs::read(e.unwrap().path()).unwrap())
                .collect(),
            None => Vec::new(),
        };
        let n: u64 = if corpus.is_empty() {
            std::env::var("FUZZ_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(300)
        } else {
            corpus.len() as u64
        };
        let (mut sessions_compiled, mut sessions_error, mut pairs) = (0, 0, 0);
        let (mut defs, mut bad_defs, mut steps, mut errors) = (0, 0, 0, 0);
        let (mut interrupted, mut interrupt_hits, mut host_calls) = (0, 0, 0);
        let mut host_panics = 0;
        let (mut compiled, mut entries, mut fallbacks) = (0usize, 0u64, 0u64);
        let mut slowest = (Duration::ZERO, 0);
        let start = Instant::now();
        for seed in 0..n {
            let case = match corpus.get(seed as usize) {
                Some(data) => Case::arbitrary(&mut Unstructured::new(data)).unwrap(),
                None => case(seed),
            };
            let errors_before = errors;
            let t = Instant::now();
            let hit = check(&case);
            let took = t.elapsed();
            interrupted += usize::from(hit.is_some());
            interrupt_hits += usize::from(hit == Some(true));
            host_calls += usize::from(format!("{case:?}").contains("# host function"));
            if took > slowest.0 {
                slowest = (took, seed);
            }
            let mut eager = engines(&case).swap_remove(1).1;
            for step in &case.steps {
                let out = run_step(&mut eager, step);
                steps += 1;
                errors += usize::from(out.iter().any(|r| r.is_err()));
                host_panics += usize::from(out.iter().any(|r| {
                    matches!(r, Err((ErrorKind::Host, m)) if m.starts_with("host error: panicked"))
                }));
                if let Step::Source(text) = step {
                    if text.contains("FUNCTION f") {
                        defs += 1;
                        pairs += usize::from(text.matches("FUNCTION f").count() == 2);
                        if !out.is_empty() {
                            bad_defs += 1;
                            eprintln!("definition failed: {text}\n  {out:?}");
                        }
                    }
                }
            }
            if std::env::var("FUZZ_STATUS").is_ok() {
                for line in eager.jit_status().lines() {
                    if let Some(i) = line.find("not compiled") {
                        eprintln!("REASON {}", &line[i..]);
                        if line.contains("code generation failed") {
                            eprintln!("CODEGEN seed {seed}\n{case:?}");
                        }
                    }
                }
            }
            let stats = eager.jit_stats();
            sessions_compiled += usize::from(stats.entries > stats.fallbacks);
            sessions_error += usize::from(errors > errors_before);
            compiled += stats.specializations;
            entries += stats.entries;
            fallbacks += stats.fallbacks;
        }
        eprintln!(
            "{n} cases in {:?} (slowest {:?}, seed {}): {steps} steps ({errors} with an error), \
             {defs} definitions ({bad_defs} rejected, {pairs} pairs); eager: {compiled} specializations, \
             {entries} entries, {fallbacks} fallbacks; sessions: {sessions_compiled} with a \
             call that finished in compiled code, {sessions_error} with an error, {host_calls} \
             calling host functions ({host_panics} steps with an uncaught host panic), \
             {interrupted} with a step interrupted ({interrupt_hits} where a call or item was \
             stopped)",
            start.elapsed(),
            slowest.0,
            slowest.1
        );
        assert_eq!(bad_defs, 0);
        assert!(compiled > 0 && entries > fallbacks);
    }

    /// Prints a few cases (`FUZZ_SEED=n`: that one, with the time each step takes).
    #[test]
    fn show_a_few() {
        let seeds: Vec<u64> = match std::env::var("FUZZ_SEED") {
            Ok(v) => vec![v.parse().unwrap()],
            Err(_) => vec![0, 1, 2],
        };
        for seed in seeds {
            let case = case(seed);
            eprintln!("--- seed {seed}\n{case:?}");
            for (name, mut engine) in engines(&case) {
                let times: Vec<String> = case
                    .steps
                    .iter()
                    .map(|step| {
                        let t = Instant::now();
                        run_step(&mut engine, step);
                        format!("{:.1?}", t.elapsed())
                    })
                    .collect();
                eprintln!("{name}: {}", times.join(" "));
            }
        }
    }
}
