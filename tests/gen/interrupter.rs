//! Stopping an engine's run at a random point: a second thread calls
//! `InterruptHandle::interrupt` a pause after the interrupter is armed, or a deadline
//! applies to every call from then on. Used by the differential test's interrupted run
//! (`run::interrupted`) and, included by path (`fuzz/src/lib.rs`), by the fuzz target;
//! so it uses nothing but `grizzly` and `std`.
//!
//! The thread never sleeps: on a busy machine a new, sleeping or yielding thread may
//! wait milliseconds for a core, far longer than most generated calls take (a few µs).
//! It says when it runs, spins until armed (yielding after the first 2 ms), and when
//! armed says so (`arm` waits for that) and spins through the pause.
#![allow(dead_code)]

use grizzly::Engine;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The message of the error an interrupt handle causes.
pub const BY_HANDLE: &str = "interrupted: stopped by an interrupt handle";
/// The message of the error a deadline causes.
pub const BY_DEADLINE: &str = "interrupted: the deadline passed";

// The thread's states.
const NEW: u8 = 0;
const WAITING: u8 = 1;
const GO: u8 = 2;
const PAUSING: u8 = 3;
const CANCEL: u8 = 4;

/// See the module's documentation.
pub struct Interrupter {
    pause: Duration,
    deadline: bool,
    state: Arc<AtomicU8>,
    thread: Option<JoinHandle<()>>,
    stopped: bool,
}

impl Interrupter {
    /// An interrupter of `e`, not armed yet: a thread that interrupts `micros` µs after
    /// [`Interrupter::arm`] (started now, running when this returns), or with `deadline`
    /// a deadline of `micros` µs on each call after it.
    pub fn new(e: &Engine, micros: u32, deadline: bool) -> Interrupter {
        let pause = Duration::from_micros(u64::from(micros));
        let state = Arc::new(AtomicU8::new(NEW));
        let thread = (!deadline).then(|| {
            let handle = e.interrupt_handle();
            let state = state.clone();
            std::thread::spawn(move || {
                state.store(WAITING, Ordering::SeqCst);
                let waiting = Instant::now();
                loop {
                    match state.load(Ordering::SeqCst) {
                        GO => break,
                        CANCEL => return,
                        _ => relax(waiting),
                    }
                }
                let start = Instant::now();
                state.store(PAUSING, Ordering::SeqCst);
                while start.elapsed() < pause {
                    std::hint::spin_loop();
                }
                handle.interrupt();
            })
        });
        if thread.is_some() {
            while state.load(Ordering::SeqCst) == NEW {
                std::thread::yield_now();
            }
        }
        Interrupter {
            pause,
            deadline,
            state,
            thread,
            stopped: false,
        }
    }

    /// The message of the error it causes.
    pub fn message(&self) -> &'static str {
        if self.deadline {
            BY_DEADLINE
        } else {
            BY_HANDLE
        }
    }

    /// Arms it: the deadline applies to the calls from now on, or the thread's pause
    /// begins (once the thread says so: it may be waiting for a core).
    pub fn arm(&mut self, e: &mut Engine) {
        if self.deadline {
            e.set_deadline(Some(self.pause));
            return;
        }
        self.state.store(GO, Ordering::SeqCst);
        let waiting = Instant::now();
        while self.state.load(Ordering::SeqCst) == GO {
            relax(waiting);
        }
    }

    /// No more interrupts: the thread joined (cancelled if not armed), the deadline
    /// lifted, an interrupt no run took forgotten (`Engine::clear_interrupt`).
    pub fn stop(&mut self, e: &mut Engine) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        self.join();
        e.set_deadline(None);
        e.clear_interrupt();
    }

    fn join(&mut self) {
        let _ = self
            .state
            .compare_exchange(WAITING, CANCEL, Ordering::SeqCst, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("the interrupting thread");
        }
    }
}

/// (After a panic, the thread must not wait forever.)
impl Drop for Interrupter {
    fn drop(&mut self) {
        let _ = self
            .state
            .compare_exchange(WAITING, CANCEL, Ordering::SeqCst, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A pause in a wait that began at `since`: spinning for 2 ms, then yielding.
fn relax(since: Instant) {
    if since.elapsed() < Duration::from_millis(2) {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}
