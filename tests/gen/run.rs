//! Running a [`Case`] in every mode and comparing with the interpreter.
//!
//! Modes: `JitMode::Off` (the reference), `Eager`, `On` with threshold 1, and `On`
//! with the threshold at half the call sequence (functions become hot halfway). Each
//! mode runs the case twice, each time on a fresh engine:
//! - through `Engine::call`, one call per element of the sequence (a redefinition
//!   among them through `Engine::run`);
//! - as program text through `Engine::run_source`: the definitions, then one call
//!   per line; a runtime error ends a run, so the lines after it run as a new
//!   program on the same engine.
//!
//! Outcomes must be identical: the same value (floats bit for bit, except that every
//! NaN equals every NaN), or the same error kind and message, for every call. Every
//! engine registers the host functions of [`super::host`] first.
//!
//! A case with an [`Interrupt`] also runs through `Engine::call` on one more JIT engine
//! that is stopped at a random point ([`interrupted`]): each call gives the
//! reference's outcome or `interrupted`, and once one call was interrupted the engine
//! must be clean: the calls after it give exactly the reference's outcomes.

use super::interrupter::Interrupter;
use super::program::{fname, Case, Interrupt, Step};
use grizzly::{Engine, ErrorKind, JitMode, JitStats, Source, Value};

pub type Outcome = Result<Value, (ErrorKind, String)>;

pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

pub fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => same_value(x, y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

fn show(o: &Outcome) -> String {
    match o {
        Ok(Value::Float(x)) => format!("{x:?} (bits {:#018x})", x.to_bits()),
        Ok(v) => format!("{v:?}"),
        Err((kind, message)) => format!("error {kind:?}: {message}"),
    }
}

#[derive(Clone, Debug)]
pub struct Mode {
    pub name: String,
    pub jit: JitMode,
    pub threshold: u32,
}

/// The reference first, then the three JIT modes; `calls` is the length of the
/// call sequence.
pub fn modes(calls: usize) -> Vec<Mode> {
    let mid = (calls as u32 / 2).max(2);
    let mode = |name: String, jit, threshold| Mode {
        name,
        jit,
        threshold,
    };
    vec![
        mode("off".into(), JitMode::Off, 1),
        mode("eager".into(), JitMode::Eager, 1),
        mode("on, threshold 1".into(), JitMode::On, 1),
        mode(format!("on, threshold {mid}"), JitMode::On, mid),
    ]
}

/// A fresh engine in `mode`, with the host functions registered.
pub fn engine(mode: &Mode, max_depth: u32) -> Engine {
    let mut e = Engine::builder()
        .jit(mode.jit)
        .threshold(mode.threshold)
        .max_depth(max_depth)
        .build();
    super::host::register(&mut e);
    e
}

fn outcome(r: grizzly::Result<Value>) -> Outcome {
    r.map_err(|e| (e.kind(), e.message().to_string()))
}

/// The outcomes of one run, and what the JIT did.
struct Run {
    outcomes: Vec<Outcome>,
    stats: JitStats,
    /// Why functions were not compiled (`jit_status`), reasons only.
    refusals: Vec<String>,
}

/// The reasons of the `not compiled: REASON` lines of `jit_status`, without the
/// names and numbers: `calls f0(int), which is not compiled: uses strings` is
/// `calls …: uses strings`.
fn refusals(e: &Engine) -> Vec<String> {
    let general = |mut why: &str| {
        let mut out = String::new();
        while let Some((_, rest)) = why
            .strip_prefix("calls ")
            .and_then(|r| r.split_once(", which is not compiled: "))
        {
            out.push_str("calls …: ");
            why = rest;
        }
        let end = why.find(|c: char| c.is_ascii_digit() || c == '\'' || c == '(');
        out.push_str(why[..end.unwrap_or(why.len())].trim_end());
        out
    };
    let mut out: Vec<String> = e
        .jit_status()
        .lines()
        .filter_map(|l| l.split_once("not compiled: ").map(|(_, why)| general(why)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The definitions, then each step: a call through `Engine::call`, a redefinition
/// through `Engine::run`. A failed definition is the first outcome.
fn by_calls(mode: &Mode, case: &Case, defs: &str, lines: &[(String, bool)]) -> Run {
    let mut e = engine(mode, case.max_depth);
    let mut outcomes = Vec::new();
    let define = |e: &mut Engine, text: &str| outcome(e.run(text).map(|_| Value::Null));
    outcomes.push(define(&mut e, defs));
    for (step, (text, _)) in case.steps().into_iter().zip(lines) {
        outcomes.push(match step {
            Step::Call(func, args) => outcome(e.call(&fname(func), args)),
            Step::Define(_) => define(&mut e, text),
        });
    }
    Run {
        outcomes,
        stats: e.jit_stats(),
        refusals: refusals(&e),
    }
}

/// The definitions and the steps as program text: one outcome per call (a failed
/// definition counts as the first call's). A runtime error ends a run: the steps
/// after the failed call run as a new program, on the same engine.
fn by_text(mode: &Mode, case: &Case, defs: &str, lines: &[(String, bool)]) -> Run {
    let mut e = engine(mode, case.max_depth);
    let mut outcomes = Vec::new();
    let mut start = 0;
    let mut first = true;
    while first || start < lines.len() {
        let mut text = String::new();
        if first {
            text.push_str(defs);
            first = false;
        }
        for (l, _) in &lines[start..] {
            text.push_str(l);
            text.push('\n');
        }
        let mut printed = Vec::new();
        let r = e.run_source(&Source::new("<generated>", text), &mut |v| {
            printed.push(v.clone())
        });
        let p = printed.len();
        outcomes.extend(printed.into_iter().map(Ok));
        match r {
            Ok(()) => break,
            Err(err) => {
                outcomes.push(Err((err.kind(), err.message().to_string())));
                // The failed step is call p + 1 from `start` (redefinitions neither
                // print nor fail).
                let mut calls = 0;
                while start < lines.len() && calls <= p {
                    calls += usize::from(lines[start].1);
                    start += 1;
                }
            }
        }
    }
    Run {
        outcomes,
        stats: e.jit_stats(),
        refusals: refusals(&e),
    }
}

/// What one case did in one JIT mode (both kinds of run together).
#[derive(Clone, Copy, Debug, Default)]
pub struct Compiled {
    /// A specialization was live at the end of a run and compiled code was entered.
    pub compiled: bool,
    /// Some call entered compiled code and finished there (no fallback).
    pub finished: bool,
}

/// What a passing case did.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Per JIT mode (eager, on 1, on mid).
    pub modes: Vec<Compiled>,
    /// Calls made through `Engine::call`, and how many of them raised an error.
    pub calls: usize,
    pub errors: usize,
    /// The kinds of those errors (`Engine::run`), by name.
    pub kinds: Vec<String>,
    /// The definitions failed (in every mode alike).
    pub undefined: bool,
    /// Why functions were not compiled in eager mode (through `Engine::call`).
    pub refusals: Vec<String>,
    /// Calls through typed handles made a native function.
    pub native: bool,
    /// The interrupted run, if the case has one.
    pub interrupted: Option<Interrupted>,
}

/// What the interrupted run did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interrupted {
    /// The step (from 1, as in `step_label`) before which the interrupter was armed.
    pub armed: usize,
    /// The step whose call was interrupted, if one was.
    pub at: Option<usize>,
    /// The steps after the definitions.
    pub steps: usize,
    pub deadline: bool,
}

/// Runs `case` in every mode: `Err` describes the first disagreement.
pub fn check(case: &Case) -> Result<Observed, String> {
    let defs = case.definitions();
    let lines = case.step_lines();
    let calls: Vec<&str> = lines
        .iter()
        .filter(|(_, call)| *call)
        .map(|(l, _)| l.as_str())
        .collect();
    let modes = modes(calls.len());
    let want_calls = by_calls(&modes[0], case, &defs, &lines);
    let want_text = by_text(&modes[0], case, &defs, &lines);
    let mut observed = Observed {
        calls: calls.len(),
        errors: want_text.outcomes.iter().filter(|o| o.is_err()).count(),
        kinds: want_text
            .outcomes
            .iter()
            .filter_map(|o| o.as_ref().err().map(|(k, _)| format!("{k:?}")))
            .collect(),
        undefined: want_calls.outcomes[0].is_err(),
        ..Observed::default()
    };
    let step_label = |i: usize| match i {
        0 => "the definitions".to_string(),
        i => format!("step {i}: {} (Engine::call)", lines[i - 1].0),
    };
    let call_label = |i: usize| {
        format!(
            "call {}: {} (Engine::run)",
            i + 1,
            calls.get(i).copied().unwrap_or("")
        )
    };
    for mode in &modes[1..] {
        let got = by_calls(mode, case, &defs, &lines);
        compare(mode, &want_calls.outcomes, &got.outcomes, step_label)?;
        if mode.jit == JitMode::Eager {
            observed.refusals = got.refusals.clone();
        }
        let got_text = by_text(mode, case, &defs, &lines);
        compare(mode, &want_text.outcomes, &got_text.outcomes, call_label)?;
        let (a, b) = (got.stats, got_text.stats);
        let compiled = |s: JitStats| s.specializations > 0 && s.entries > 0;
        observed.modes.push(Compiled {
            compiled: compiled(a) || compiled(b),
            finished: a.entries > a.fallbacks || b.entries > b.fallbacks,
        });
    }
    let typed = super::typed::by_typed_handles(case, &defs, &lines, &want_calls.outcomes);
    let typed_mode = Mode {
        name: "eager, typed handles".into(),
        jit: JitMode::Eager,
        threshold: 1,
    };
    compare(&typed_mode, &want_calls.outcomes, &typed.outcomes, |i| {
        step_label(i).replace("(Engine::call)", "(typed handle)")
    })?;
    observed.native = typed.native;
    if let Some(spec) = case.interrupt {
        let mode = &modes[1 + usize::from(spec.mode % 3)];
        let got = interrupted(mode, spec, case, &defs, &lines, &want_calls.outcomes);
        observed.interrupted = Some(got.map_err(|m| {
            format!(
                "jit={}, interrupted ({}; it depends on timing: a rerun may not fail): {m}",
                mode.name,
                super::print::interrupt_comment(&spec).trim_start_matches("# ")
            )
        })?);
    }
    Ok(observed)
}

/// The definitions, then each step as [`by_calls`] makes it, on an engine in `mode`
/// that `spec` stops at some point after its step begins. Until a call is
/// interrupted, each step must give `want`'s outcome or (from the armed step on)
/// `interrupted`, with the message of the handle or the deadline; after it, the
/// interrupter stopped and the interrupt cleared ([`Interrupter::stop`]), each step
/// exactly `want`'s: the engine is clean.
pub fn interrupted(
    mode: &Mode,
    spec: Interrupt,
    case: &Case,
    defs: &str,
    lines: &[(String, bool)],
    want: &[Outcome],
) -> Result<Interrupted, String> {
    let mut e = engine(mode, case.max_depth);
    let define = |e: &mut Engine, text: &str| outcome(e.run(text).map(|_| Value::Null));
    let steps = case.steps();
    let got = define(&mut e, defs);
    if !same(&want[0], &got) {
        return Err(format!(
            "the definitions\n  compiled: {}\n  interpreter: {}",
            show(&got),
            show(&want[0])
        ));
    }
    let mut stopper = Interrupter::new(&e, spec.micros, spec.deadline);
    let message = stopper.message();
    let armed = usize::from(spec.step) % steps.len().max(1);
    let mut at = None;
    for (i, (step, (text, _))) in steps.iter().zip(lines).enumerate() {
        if i == armed {
            stopper.arm(&mut e);
        }
        let got = match step {
            Step::Call(func, args) => outcome(e.call(&fname(*func), args)),
            Step::Define(_) => define(&mut e, text),
        };
        let stopped = matches!(&got, Err((ErrorKind::Interrupted, m)) if m == message);
        if stopped && at.is_none() && i >= armed && matches!(step, Step::Call(..)) {
            at = Some(i + 1);
            stopper.stop(&mut e);
            continue;
        }
        let w = &want[i + 1];
        if !same(w, &got) {
            stopper.stop(&mut e);
            let when = match at {
                Some(k) => format!("after the interrupt of step {k}"),
                None if i < armed => "before the interrupter was armed".to_string(),
                None => "before any interrupt".to_string(),
            };
            return Err(format!(
                "step {}: {text} (Engine::call), {when}\n  compiled: {}\n  interpreter: {}",
                i + 1,
                show(&got),
                show(w)
            ));
        }
    }
    stopper.stop(&mut e);
    Ok(Interrupted {
        armed: armed + 1,
        at,
        steps: steps.len(),
        deadline: spec.deadline,
    })
}

fn compare(
    mode: &Mode,
    want: &[Outcome],
    got: &[Outcome],
    label: impl Fn(usize) -> String,
) -> Result<(), String> {
    for i in 0..want.len().max(got.len()) {
        let (w, g) = (want.get(i), got.get(i));
        let agree = match (w, g) {
            (Some(w), Some(g)) => same(w, g),
            _ => false,
        };
        if !agree {
            let show = |o: Option<&Outcome>| o.map_or("nothing".to_string(), show);
            return Err(format!(
                "jit={}: {}\n  compiled: {}\n  interpreter: {}",
                mode.name,
                label(i),
                show(g),
                show(w)
            ));
        }
    }
    Ok(())
}
