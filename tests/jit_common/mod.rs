//! Helpers shared by the JIT tests: engines per mode, and comparisons with an
//! interpreter-only engine.
#![allow(dead_code)]

pub use grizzly::{Engine, ErrorKind, JitMode, JitStats, Value};

pub const MIN: i64 = i64::MIN;

pub fn off() -> Engine {
    Engine::builder().jit(JitMode::Off).build()
}

pub fn eager() -> Engine {
    Engine::builder().jit(JitMode::Eager).build()
}

/// What a run or call ended with: the value (printed, and the value itself so that
/// floats compare bit for bit) or the error's kind and message.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Value(String, Value),
    Error(ErrorKind, String),
}

pub fn outcome(r: grizzly::Result<Value>) -> Outcome {
    match r {
        Ok(v) => Outcome::Value(v.to_string(), v),
        Err(e) => Outcome::Error(e.kind(), e.message().to_string()),
    }
}

/// Runs `src` and returns the one value it printed, or its error.
pub fn eval(engine: &mut Engine, src: &str) -> Outcome {
    outcome(engine.run(src).map(|mut printed| {
        assert_eq!(printed.len(), 1, "`{src}` printed {printed:?}");
        printed.remove(0)
    }))
}

pub fn define(engine: &mut Engine, defs: &str) {
    if let Err(e) = engine.run(defs) {
        panic!("definitions failed: {}\n{defs}", e.message());
    }
}

pub fn value(engine: &mut Engine, src: &str) -> Value {
    match eval(engine, src) {
        Outcome::Value(_, v) => v,
        Outcome::Error(k, m) => panic!("`{src}` failed: {k:?}: {m}"),
    }
}

pub fn call(engine: &mut Engine, name: &str, args: &[Value]) -> Outcome {
    outcome(engine.call(name, args))
}

/// An interpreter-only engine with the same call-depth limit as `jit`.
pub fn reference_for(jit: &Engine) -> Engine {
    Engine::builder()
        .jit(JitMode::Off)
        .max_depth(jit.max_depth())
        .build()
}

/// Defines `defs` in an interpreter-only engine and in `jit`, runs each expression of
/// `exprs` in both, and asserts the outcomes are identical. Returns the outcomes.
pub fn agree(jit: &mut Engine, defs: &str, exprs: &[&str]) -> Vec<Outcome> {
    let mut reference = reference_for(jit);
    define(&mut reference, defs);
    define(jit, defs);
    exprs
        .iter()
        .map(|src| {
            let want = eval(&mut reference, src);
            let got = eval(jit, src);
            assert_eq!(
                got,
                want,
                "`{src}` differs from the interpreter (mode {:?})\n{defs}",
                jit.jit_mode()
            );
            got
        })
        .collect()
}

/// Like [`agree`], but each expression runs on cleared JIT state (`jit_clear`), so that
/// its calls compile afresh: a deopt of one expression (and the back-off after it) does
/// not keep the next one out of compiled code. Returns each outcome with the JIT's
/// counts for that expression alone.
pub fn agree_each(jit: &mut Engine, defs: &str, exprs: &[&str]) -> Vec<(Outcome, JitStats)> {
    let mut reference = reference_for(jit);
    define(&mut reference, defs);
    define(jit, defs);
    exprs
        .iter()
        .map(|src| {
            jit.jit_clear();
            let want = eval(&mut reference, src);
            let got = eval(jit, src);
            assert_eq!(
                got,
                want,
                "`{src}` differs from the interpreter (mode {:?})\n{defs}",
                jit.jit_mode()
            );
            (got, jit.jit_stats())
        })
        .collect()
}

/// Asserts that every expression entered compiled code, and that each one that gave a
/// value got it from compiled code (no fallback): the comparison with the interpreter
/// then really compared compiled results. (A `TRY` whose operand's error comes from a
/// callee, or whose handler is not compiled, gets its value from the interpreter after
/// a fallback: for an expression that names `try`, only its entry is checked.)
pub fn assert_compiled_values(exprs: &[&str], results: &[(Outcome, JitStats)]) {
    for (src, (out, stats)) in exprs.iter().zip(results) {
        assert!(stats.entries >= 1, "`{src}` never entered compiled code");
        if src.to_lowercase().contains("try") {
            continue;
        }
        if let Outcome::Value(..) = out {
            assert_eq!(stats.fallbacks, 0, "`{src}` = {out:?} fell back: {stats:?}");
        } else {
            assert!(stats.fallbacks >= 1, "`{src}` = {out:?} without a fallback");
        }
    }
}

pub fn find<'r>(exprs: &[&str], results: &'r [(Outcome, JitStats)], src: &str) -> &'r Outcome {
    let i = exprs
        .iter()
        .position(|e| *e == src)
        .unwrap_or_else(|| panic!("`{src}` is not among the expressions"));
    &results[i].0
}

pub fn int(v: i64) -> Value {
    Value::Int(v)
}

pub fn status_line<'s>(status: &'s str, needle: &str) -> &'s str {
    status
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` in the status:\n{status}"))
}

/// The entries and fallbacks `jit status` gives the specialization `spec` (say
/// `"safe(int) -> int"`).
pub fn entries_of(status: &str, spec: &str) -> (u64, u64) {
    let line = status_line(status, spec);
    let number_before = |text: &str, end: &str| -> u64 {
        let at = text
            .find(end)
            .unwrap_or_else(|| panic!("no `{end}` in `{line}`"));
        let digits: String = text[..at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no number before `{end}` in `{line}`"))
    };
    (
        number_before(line, " entries"),
        number_before(line, " fell back"),
    )
}

/// Definitions of `slow(i, n)`, which gives `n` through a chain of calls longer than one
/// compile infers: a `TRY` or `??` whose handler calls it has a handler that is not
/// compiled, so that an error under it deoptimizes (what tests of deopts need, now that
/// compiled code holds every type of value).
pub fn uncompiled_slow() -> String {
    const LINKS: usize = 40;
    let mut defs = String::from("FUNCTION slow(i, n) => c0(n)\n");
    for i in 0..LINKS {
        defs.push_str(&format!("FUNCTION c{i}(n) => c{}(n)\n", i + 1));
    }
    defs.push_str(&format!("FUNCTION c{LINKS}(n) => n\n"));
    defs
}
