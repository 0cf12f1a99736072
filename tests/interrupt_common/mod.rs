//! What the interrupt tests share: a program that runs until stopped, and a check
//! that a run stops with `interrupted`, soon, leaving the engine usable.
#![allow(dead_code)]

use grizzly::{Column, ColumnType, Engine, ErrorKind, JitMode, Result, Value};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub const MODES: [JitMode; 3] = [JitMode::Off, JitMode::On, JitMode::Eager];

pub const PROGRAM: &str = r#"
FUNCTION spin(n) => spin(n + 1 - 1)
FUNCTION spin_int(n: int) => IF n < 0 { n } ELSE { spin_int(n + 1 - 1) }
FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }
FUNCTION label(n) => IF n > 0 { "big" + spin(n) } ELSE { "small" }
FUNCTION guarded(n) => TRY spin(n) CATCH -1
FUNCTION defaulted(n) => spin(n) ?? -1
"#;

pub fn engine(mode: JitMode) -> Engine {
    let mut e = Engine::builder().jit(mode).threshold(2).build();
    e.run(PROGRAM).unwrap();
    e
}

/// Runs `work` while a second thread interrupts it after a pause: the error, and the
/// time from `interrupt()` to the error.
pub fn interrupted<T: std::fmt::Debug>(
    e: &mut Engine,
    work: impl FnOnce(&mut Engine) -> Result<T>,
) -> (grizzly::Error, Duration) {
    let handle = e.interrupt_handle();
    let (tx, rx) = mpsc::channel();
    let stopper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        let at = Instant::now();
        handle.interrupt();
        tx.send(at).unwrap();
    });
    let err = work(e).expect_err("the run ends only by the interrupt");
    let end = Instant::now();
    stopper.join().unwrap();
    let at = rx.recv().unwrap();
    (err, end.saturating_duration_since(at))
}

pub fn assert_stops<T: std::fmt::Debug>(
    what: &str,
    mode: JitMode,
    timed: bool,
    work: impl Fn(&mut Engine) -> Result<T>,
) {
    let mut e = engine(mode);
    let mut latencies = Vec::new();
    for _ in 0..5 {
        let (err, latency) = interrupted(&mut e, &work);
        assert_eq!(
            err.kind(),
            ErrorKind::Interrupted,
            "{what} ({mode:?}): {err}"
        );
        assert!(err.message().starts_with("interrupted: "), "{err}");
        latencies.push(latency);
        // Usable afterwards, the interrupt spent.
        assert_eq!(e.run("fib(10)").unwrap(), [Value::Int(55)], "{what}");
    }
    if mode != JitMode::Off {
        // Compiled code saw the interrupt and deoptimized; its specialization stays.
        let status = e.jit_status();
        assert!(status.contains(" interrupted"), "{what}: {status}");
        assert!(!status.contains("deoptimized"), "{what}: {status}");
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    eprintln!("{what} ({mode:?}): interrupt latency median {median:?}, all {latencies:?}");
    // (Only where nothing else runs: a busy machine's scheduler decides otherwise;
    // and not under emulation, `scripts/test-aarch64.sh`.)
    if timed && std::env::var_os("GRIZZLY_EMULATED").is_none() {
        assert!(
            median < Duration::from_millis(1),
            "{what} ({mode:?}): {latencies:?}"
        );
    }
}

/// A way in that runs until stopped.
pub type Case = fn(&mut Engine) -> Result<Value>;

/// Every way in that runs until stopped, by name: loops, deep recursion, `TRY` and
/// `??` around them (in compiled handlers too, once hot), typed handles, batches.
pub fn cases() -> Vec<(&'static str, Case)> {
    fn value<T: Into<Value>>(r: Result<T>) -> Result<Value> {
        r.map(Into::into)
    }
    vec![
        ("spin", |e| value(e.run("spin(0)").map(|_| 0))),
        ("spin_int", |e| value(e.run("spin_int(0)").map(|_| 0))),
        ("fib", |e| value(e.run("fib(90)").map(|_| 0))),
        ("TRY", |e| value(e.run("TRY spin(0) CATCH 1").map(|_| 0))),
        ("??", |e| value(e.run("spin(0) ?? 1").map(|_| 0))),
        ("guarded", |e| e.call("guarded", &[Value::Int(1)])),
        ("defaulted", |e| e.call("defaulted", &[Value::Int(1)])),
        ("string", |e| e.call("label", &[Value::Int(1)])),
        ("typed", |e| {
            let f = e.typed::<(i64,), i64>("spin_int")?;
            value(f.call(e, (0,)))
        }),
        ("typed generic", |e| {
            let f = e.typed::<(i64,), Value>("spin")?;
            f.call(e, (0,))
        }),
        ("batch", |e| {
            let f = e.typed::<(i64,), i64>("spin_int")?;
            value(f.call_batch(e, (&[1, 2, 3][..],)).map(|_| 0))
        }),
        ("columns", |e| {
            let f = e.column_func::<Value>("spin", &[ColumnType::Int])?;
            value(f.call_batch(e, &[Column::Int(&[1, 2, 3])]).map(|_| 0))
        }),
    ]
}
