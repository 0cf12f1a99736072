//! Differential testing of the JIT against the interpreter, on generated whole
//! programs (`tests/gen`): 2 to 5 functions calling the earlier ones, with loops,
//! bounded recursion, every operator, builtins, casts, `TRY`, `??`, annotations, edge
//! constants and edge arguments (see `gen/arbitrary.rs` and `gen/args.rs`), and calls
//! of host functions (`gen/host.rs`, registered on every engine: `Err` results,
//! panics, wrong argument counts and types).
//!
//! - `jit_agrees_with_the_interpreter`: each case runs in every mode (`gen/run.rs`)
//!   and through typed handles (`gen/typed.rs`: leaves as native functions) with the
//!   same values, errors and printed output; one case in eight also runs on a JIT
//!   engine interrupted at a random point by a second thread or a tiny deadline
//!   (`gen::run::interrupted`: each call gives the interpreter's outcome or
//!   `interrupted`, and every call after the interrupted one the interpreter's
//!   outcome). The shares of cases where the JIT compiled something are printed
//!   (`--nocapture`) and must stay above a floor, with the errors by kind, why
//!   functions were not compiled in eager mode, and how often interrupts landed.
//!   A case where code generation failed (a silent fallback: right results but no
//!   compiled code) fails too, unless `GRIZZLY_DIFF_STRICT=0`.
//! - `generated_programs_round_trip`: the text of each case parses to the tree
//!   generated, and pretty-printing that and parsing again gives the same tree.
//! - `generation_is_sound`: programs define, stay under the cost bound, cover every
//!   feature; shrinking never yields the case itself.
//!
//! Environment: `GRIZZLY_DIFF_CASES=N` (default 5000), `GRIZZLY_DIFF_SEED=S` (decimal
//! or 0x hex), `GRIZZLY_DIFF_CASE=I` (only case I of that seed),
//! `GRIZZLY_DIFF_SIZE=N` (largest size, default 100), `GRIZZLY_DIFF_TRACE=FILE`
//! (each case is written there before it runs: after a crash or hang, the culprit).
//! `GRIZZLY_DIFF_SLOW=1` prints the cases that take over 30 ms. A failure prints the
//! seed and case number, and the case shrunk, as source. Two ignored tests print
//! cases (`print_cases`) and how often each feature appears (`feature_shares`).

mod gen;

use gen::run::{check, Observed};
use gen::{case_at, Case};
use grizzly::internals::syntax::{parse, pretty};
use quickcheck::Arbitrary;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

const DEFAULT_CASES: u64 = 5000;
const DEFAULT_SEED: u64 = 0x6772_697a_7a6c_7921;
/// Sizes cycle through `1..=DEFAULT_SIZE` (see `gen::case_at`).
const DEFAULT_SIZE: usize = 100;
/// Shrinking stops after this many candidates tried.
const SHRINK_TRIES: usize = 20_000;

struct Config {
    seed: u64,
    cases: u64,
    only: Option<u64>,
    size: usize,
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim().replace('_', "");
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

fn config() -> Config {
    Config {
        seed: env_u64("GRIZZLY_DIFF_SEED").unwrap_or(DEFAULT_SEED),
        cases: env_u64("GRIZZLY_DIFF_CASES").unwrap_or(DEFAULT_CASES),
        only: env_u64("GRIZZLY_DIFF_CASE"),
        size: env_u64("GRIZZLY_DIFF_SIZE").map_or(DEFAULT_SIZE, |s| s as usize),
    }
}

impl Config {
    fn indices(&self) -> Box<dyn Iterator<Item = u64>> {
        match self.only {
            Some(i) => Box::new(std::iter::once(i)),
            None => Box::new(0..self.cases),
        }
    }
}

/// Runs `property`, turning a panic into a failure.
fn guarded<T>(property: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match panic::catch_unwind(AssertUnwindSafe(property)) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )),
    }
}

/// Only one shrink at a time silences the panic hook.
static SHRINKING: Mutex<()> = Mutex::new(());

/// Shrinks a failing case greedily: the first smaller case that still fails, again,
/// until none does (or [`SHRINK_TRIES`] candidates were tried).
fn shrink_failure(
    case: Case,
    message: String,
    fails: impl Fn(&Case) -> Option<String>,
) -> (Case, String, usize) {
    let _one = SHRINKING.lock().unwrap_or_else(|e| e.into_inner());
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let (mut case, mut message, mut steps, mut tries) = (case, message, 0, 0);
    'smaller: while tries < SHRINK_TRIES {
        for smaller in case.shrink() {
            tries += 1;
            if let Some(m) = fails(&smaller) {
                (case, message) = (smaller, m);
                steps += 1;
                continue 'smaller;
            }
            if tries >= SHRINK_TRIES {
                break;
            }
        }
        break;
    }
    panic::set_hook(hook);
    (case, message, steps)
}

fn report(
    what: &str,
    cfg: &Config,
    i: u64,
    case: Case,
    message: String,
    fails: impl Fn(&Case) -> Option<String>,
) -> ! {
    let original = format!("{case:?}");
    let (small, small_message, steps) = shrink_failure(case, message.clone(), fails);
    panic!(
        "{what}: seed {seed:#x}, case {i}\n\
         rerun: GRIZZLY_DIFF_SEED={seed:#x} GRIZZLY_DIFF_CASE={i}{size} cargo test --test differential\n\
         {message}\n\n\
         shrunk in {steps} steps to:{small:?}\
         {small_message}\n\n\
         original program:{original}",
        seed = cfg.seed,
        size = if cfg.size == DEFAULT_SIZE {
            String::new()
        } else {
            format!(" GRIZZLY_DIFF_SIZE={}", cfg.size)
        },
    )
}

#[derive(Default)]
struct Totals {
    cases: usize,
    undefined: usize,
    calls: usize,
    errors: usize,
    with_error: usize,
    compiled: [usize; 3],
    finished: [usize; 3],
    /// Cases whose typed calls made a native function.
    native: usize,
    /// Interrupted runs (by a thread, by a deadline), and those where a call was
    /// interrupted.
    interrupt_runs: [usize; 2],
    interrupt_hits: [usize; 2],
    /// Steps from the armed one to the interrupted one, summed, and the steps of
    /// those runs.
    interrupt_at: usize,
    interrupt_steps: usize,
    kinds: std::collections::BTreeMap<String, usize>,
    /// Refusal reason: cases, and the first case that gave it.
    refusals: std::collections::BTreeMap<String, (usize, u64)>,
}

impl Totals {
    fn add(&mut self, i: u64, o: &Observed) {
        for r in &o.refusals {
            self.refusals.entry(r.clone()).or_insert((0, i)).0 += 1;
        }
        self.cases += 1;
        self.undefined += usize::from(o.undefined);
        self.calls += o.calls;
        self.errors += o.errors;
        self.with_error += usize::from(o.errors > 0);
        self.native += usize::from(o.native);
        if let Some(r) = &o.interrupted {
            let k = usize::from(r.deadline);
            self.interrupt_runs[k] += 1;
            if let Some(at) = r.at {
                self.interrupt_hits[k] += 1;
                self.interrupt_at += at - r.armed;
                self.interrupt_steps += r.steps;
            }
        }
        for k in &o.kinds {
            *self.kinds.entry(k.clone()).or_default() += 1;
        }
        for (m, c) in o.modes.iter().enumerate() {
            self.compiled[m] += usize::from(c.compiled);
            self.finished[m] += usize::from(c.finished);
        }
    }
}

fn pct(n: usize, of: usize) -> f64 {
    100.0 * n as f64 / of.max(1) as f64
}

/// [`check`], and a function the JIT failed to compile for an internal reason (`code
/// generation failed`, a silent fallback) fails too, unless `GRIZZLY_DIFF_STRICT=0`.
fn checked(case: &Case) -> Result<Observed, String> {
    let o = check(case)?;
    if std::env::var("GRIZZLY_DIFF_STRICT").map_or(true, |v| v != "0") {
        if let Some(why) = o
            .refusals
            .iter()
            .find(|r| r.contains("code generation failed"))
        {
            return Err(format!("jit=eager: not compiled: {why}"));
        }
    }
    Ok(o)
}

#[test]
fn jit_agrees_with_the_interpreter() {
    gen::host::quiet_panics();
    let cfg = config();
    let trace = std::env::var("GRIZZLY_DIFF_TRACE").ok();
    let start = std::time::Instant::now();
    let mut t = Totals::default();
    for i in cfg.indices() {
        let case = case_at(cfg.seed, i, cfg.size);
        if let Some(path) = &trace {
            let _ = std::fs::write(path, format!("seed {:#x}, case {i}\n{case:?}", cfg.seed));
        }
        let t0 = std::time::Instant::now();
        let r = guarded(|| checked(&case));
        if std::env::var("GRIZZLY_DIFF_SLOW").is_ok() && t0.elapsed().as_millis() > 30 {
            eprintln!("case {i}: {:?}{case:?}", t0.elapsed());
        }
        match r {
            Ok(o) => t.add(i, &o),
            Err(m) => report("the JIT disagrees", &cfg, i, case, m, |c| {
                guarded(|| checked(c)).err()
            }),
        }
    }
    let names = ["eager", "on, threshold 1", "on, threshold calls/2"];
    let kinds: Vec<String> = t.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!(
        "differential: seed {:#x}: {} cases in {:.1?}, {} calls through Engine::call ({:.1}% \
         raised an error; {:.1}% of the cases had one)",
        cfg.seed,
        t.cases,
        start.elapsed(),
        t.calls,
        pct(t.errors, t.calls),
        pct(t.with_error, t.cases)
    );
    eprintln!("  errors by kind: {}", kinds.join(", "));
    eprintln!("  jit=eager, why functions were not compiled (cases, first case):");
    for (why, (n, first)) in &t.refusals {
        // (the reasons `tests/golden.rs` accepts, and the others)
        let expected = [
            "uses strings",
            "uses null",
            "called with",
            "argument type error",
            "deoptimized",
            "reads an unbound variable",
            "compares values of different types",
        ]
        .iter()
        .any(|r| why.trim_start_matches("calls …: ").starts_with(r));
        let mark = if expected {
            ""
        } else {
            "  <- not in golden.rs's list"
        };
        eprintln!("    {why}: {n}, case {first}{mark}");
    }
    for (m, name) in names.iter().enumerate() {
        eprintln!(
            "  jit={name}: compiled code ran in {:.1}% of the cases; a call finished in \
             compiled code in {:.1}%",
            pct(t.compiled[m], t.cases),
            pct(t.finished[m], t.cases)
        );
    }
    eprintln!(
        "  typed handles: a native function was made in {:.1}% of the cases",
        pct(t.native, t.cases)
    );
    let hits = t.interrupt_hits.iter().sum::<usize>().max(1) as f64;
    eprintln!(
        "  interrupted runs: {} by a thread, {} by a deadline; a call was interrupted in \
         {} and {} of them ({:.1} steps after the armed one, of {:.1}, on average)",
        t.interrupt_runs[0],
        t.interrupt_runs[1],
        t.interrupt_hits[0],
        t.interrupt_hits[1],
        t.interrupt_at as f64 / hits,
        t.interrupt_steps as f64 / hits,
    );
    assert_eq!(t.undefined, 0, "generated programs that did not define");
    if cfg!(all(
        feature = "jit",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) && t.cases >= 1000
    {
        // The comparison means something only if compiled code ran (most cases do:
        // 85 to 90%, and a call finished compiled in 75 to 85%), and guards fired.
        let floors = [(80.0, 70.0), (80.0, 70.0), (75.0, 65.0)];
        for (m, (name, (compiled, finished))) in names.iter().zip(floors).enumerate() {
            assert!(
                pct(t.compiled[m], t.cases) >= compiled,
                "jit={name}: compiled code ran in {} of {} cases",
                t.compiled[m],
                t.cases
            );
            assert!(
                pct(t.finished[m], t.cases) >= finished,
                "jit={name}: a call finished compiled in {} of {} cases",
                t.finished[m],
                t.cases
            );
        }
        assert!(
            pct(t.native, t.cases) >= 20.0,
            "typed handles made a native function in {} of {} cases",
            t.native,
            t.cases
        );
        assert!(pct(t.with_error, t.cases) >= 10.0, "too few errors");
        assert!(pct(t.errors, t.calls) <= 60.0, "too many errors");
    }
}

/// The generated text parses to the generated tree; pretty-printing the parsed tree
/// and parsing again gives the same tree and the same text.
fn round_trip(case: &Case) -> Result<(), String> {
    let text = case.source();
    let want = pretty::without_spans(&case.ast());
    let parse_ok = |text: &str| {
        parse(text).map_err(|e| {
            let all: Vec<String> = e.all().map(|e| e.message().to_string()).collect();
            format!("does not parse: {all:?}\n{text}")
        })
    };
    let parsed = pretty::without_spans(&parse_ok(&text)?);
    if parsed != want {
        return Err(format!(
            "parses to another tree:\n{}\ninstead of\n{}",
            pretty::program(&parsed),
            pretty::program(&want)
        ));
    }
    let printed = pretty::program(&parsed);
    let again = pretty::without_spans(&parse_ok(&printed)?);
    if again != parsed {
        return Err(format!(
            "the pretty-printed text parses differently:\n{printed}"
        ));
    }
    if pretty::program(&again) != printed {
        return Err(format!(
            "prints differently the second time:\n{printed}\n{}",
            pretty::program(&again)
        ));
    }
    Ok(())
}

#[test]
fn generated_programs_round_trip() {
    let cfg = config();
    for i in cfg.indices() {
        let case = case_at(cfg.seed, i, cfg.size);
        if let Err(m) = guarded(|| round_trip(&case)) {
            report("round trip", &cfg, i, case, m, |c| {
                guarded(|| round_trip(c)).err()
            });
        }
    }
}

/// The names of the features `case` uses, for the coverage check.
fn features(case: &Case, seen: &mut std::collections::BTreeSet<String>) {
    use gen::program::{walk, Expr, Shape};
    if case.redefine.is_some() {
        seen.insert("redefinition".into());
    }
    if case.max_depth != grizzly::engine::DEFAULT_MAX_DEPTH {
        seen.insert("small depth limit".into());
    }
    if case.program.style != gen::program::Style::default() {
        seen.insert("styled".into());
    }
    if let Some(i) = &case.interrupt {
        seen.insert(if i.deadline { "deadline" } else { "interrupt" }.into());
    }
    for f in case
        .program
        .functions
        .iter()
        .chain(case.redefine.iter().map(|r| &r.function))
    {
        if gen::arbitrary::is_deep(f) {
            seen.insert("deep".into());
        }
        let mut visit = |e: &Expr| {
            let name = match e {
                Expr::Bin(op, ..) => op.symbol().to_string(),
                Expr::Neg(_) => "unary -".into(),
                Expr::Not(_) => "NOT".into(),
                Expr::Cast(_, t) => format!("AS {}", t.name().name()),
                Expr::Builtin(b, _) => b.name().into(),
                Expr::Call(..) => "call".into(),
                Expr::Recur(_) => "self call".into(),
                Expr::If(..) => "IF".into(),
                Expr::Try(..) => "TRY".into(),
                Expr::Str(_) => "string".into(),
                Expr::Null => "null".into(),
                Expr::Host(h, args) => {
                    seen.insert("host call".into());
                    if args.len() != h.params().len() {
                        seen.insert("host arity".into());
                    }
                    h.name().into()
                }
                _ => return,
            };
            seen.insert(name);
        };
        for l in &f.lets {
            walk(&l.value, &mut visit);
        }
        match &f.shape {
            Shape::Plain(e) => walk(e, &mut visit),
            Shape::Counted(c) => {
                gen::program::walk_body(&c.step, &mut visit);
                gen::program::walk_body(&c.base, &mut visit);
                let tail = matches!(c.step.result, Expr::Recur(_));
                seen.insert(if tail { "loop" } else { "recursion" }.into());
            }
        }
        seen.extend(f.returns.map(|_| "RETURNS".to_string()));
        if f.params.iter().any(|p| p.annotation.is_some()) {
            seen.insert("annotation".into());
        }
    }
}

#[test]
fn generation_is_sound() {
    use gen::arbitrary::{is_deep, MAX_COST};
    use gen::program::cost;
    let cfg = config();
    let worst = |c: &Case| {
        let p = &c.program;
        let mut all: Vec<&gen::program::Function> = p.functions.iter().collect();
        all.extend(c.redefine.iter().map(|r| &r.function));
        all.into_iter().map(|f| cost(p, f)).max().unwrap_or(0)
    };
    let mut seen = std::collections::BTreeSet::new();
    let define = |c: &Case| {
        let mut e = grizzly::Engine::builder()
            .jit(grizzly::JitMode::Off)
            .build();
        gen::host::register(&mut e);
        e.run(&c.definitions())
            .map(drop)
            .map_err(|e| e.message().to_string())
    };
    for i in 0..100 {
        let case = case_at(cfg.seed ^ 1, i, cfg.size);
        features(&case, &mut seen);
        if let Err(m) = define(&case) {
            panic!("case {i} does not define: {m}{case:?}");
        }
        for f in case
            .program
            .functions
            .iter()
            .chain(case.redefine.iter().map(|r| &r.function))
        {
            assert!(
                cost(&case.program, f) <= MAX_COST || is_deep(f),
                "case {i}: f{} costs too much",
                f.id
            );
        }
        let text = gen::shrink::key(&case);
        for (k, smaller) in case.shrink().enumerate() {
            assert_ne!(
                gen::shrink::key(&smaller),
                text,
                "case {i} shrinks to itself"
            );
            // Shrinking keeps programs well-scoped (checked on a sample).
            if k % 7 == 0 {
                if let Err(m) = define(&smaller) {
                    panic!("a shrink of case {i} does not define: {m}{smaller:?}\nfrom{case:?}");
                }
            }
            // (and never makes it more expensive)
            assert!(
                worst(&smaller) <= worst(&case),
                "case {i}: a shrink costs more:{case:?}\n{}\nto{smaller:?}\n{}",
                worst(&case),
                worst(&smaller)
            );
        }
    }
    // (rarer features: also in the next 400 cases)
    for i in 100..500 {
        features(&case_at(cfg.seed ^ 1, i, cfg.size), &mut seen);
    }
    let want = [
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "AND",
        "OR",
        "??",
        "unary -",
        "NOT",
        "AS int",
        "AS float",
        "AS bool",
        "abs",
        "min",
        "max",
        "sqrt",
        "floor",
        "ceil",
        "round",
        "pow",
        "call",
        "self call",
        "IF",
        "TRY",
        "string",
        "null",
        "loop",
        "recursion",
        "RETURNS",
        "annotation",
        "redefinition",
        "small depth limit",
        "styled",
        "host call",
        "host arity",
        "h_add",
        "h_scale",
        "h_len",
        "h_kind",
        "h_or",
        "h_boom",
        "h_xor",
        "interrupt",
        "deadline",
    ];
    let missing: Vec<&str> = want.into_iter().filter(|w| !seen.contains(*w)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

/// `cargo test --test differential print_cases -- --ignored --nocapture`: the source
/// of case `GRIZZLY_DIFF_CASE` (or of the first ten).
#[test]
#[ignore]
fn print_cases() {
    let cfg = config();
    for i in cfg.indices().take(10) {
        let case = case_at(cfg.seed, i, cfg.size);
        eprintln!("---- seed {:#x}, case {i}{case:?}", cfg.seed);
    }
}

/// `cargo test --test differential feature_shares -- --ignored --nocapture`: how
/// often each feature appears (in the first 2,000 cases).
#[test]
#[ignore]
fn feature_shares() {
    let cfg = config();
    let mut counts = std::collections::BTreeMap::new();
    let n = cfg.cases.min(2000);
    for i in 0..n {
        let case = case_at(cfg.seed, i, cfg.size);
        let mut seen = std::collections::BTreeSet::new();
        features(&case, &mut seen);
        for s in seen {
            *counts.entry(s).or_insert(0) += 1;
        }
    }
    for (k, v) in counts {
        eprintln!("{k:>13}: {:.1}% of the cases", 100.0 * v as f64 / n as f64);
    }
}
