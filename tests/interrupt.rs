//! Interrupting a running call from a second thread (`Engine::interrupt_handle`), in
//! every tier and entry path: the error is `interrupted`, `TRY` and `??` do not catch
//! it, and the engine stays usable. Deadlines. (The latency is asserted in
//! `interrupt_latency.rs`, alone in its process.)

mod interrupt_common;

use grizzly::{Engine, ErrorKind, JitMode, Value};
use interrupt_common::{assert_stops, cases, engine, MODES};
use std::time::Duration;

#[test]
fn every_way_in_stops_in_every_tier() {
    for mode in MODES {
        for (what, case) in cases() {
            assert_stops(what, mode, false, case);
        }
    }
}

#[test]
fn an_interrupt_stops_the_next_run_once_unless_cleared() {
    let mut e = engine(JitMode::On);
    e.interrupt_handle().interrupt();
    let err = e.run("1 + 1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert_eq!(e.run("1 + 1").unwrap(), [Value::Int(2)], "spent");
    e.interrupt_handle().interrupt();
    e.clear_interrupt();
    assert_eq!(e.call("fib", &[Value::Int(7)]).unwrap(), Value::Int(13));
}

#[test]
fn handles_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<grizzly::InterruptHandle>();
}

#[test]
fn deadlines_stop_each_top_level_call() {
    for mode in MODES {
        let mut e = Engine::builder()
            .jit(mode)
            .threshold(2)
            .deadline(Duration::from_millis(30))
            .build();
        e.run(interrupt_common::PROGRAM).unwrap();
        for (what, case) in cases() {
            let err = case(&mut e).expect_err(what);
            assert_eq!(err.kind(), ErrorKind::Interrupted, "{what} ({mode:?})");
            assert_eq!(err.message(), "interrupted: the deadline passed");
            // Calls within the deadline are untouched, many in a row.
            for _ in 0..50 {
                assert_eq!(e.call("fib", &[Value::Int(12)]).unwrap(), Value::Int(144));
            }
        }
        // Per call: lifted, then shortened.
        e.set_deadline(None);
        assert_eq!(e.deadline(), None);
        assert_eq!(e.run("fib(20)").unwrap(), [Value::Int(6765)]);
        e.set_deadline(Some(Duration::from_millis(5)));
        assert_eq!(e.run("spin(0)").unwrap_err().kind(), ErrorKind::Interrupted);
    }
}
