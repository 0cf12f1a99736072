//! The word another thread sets to stop a run. The interpreter reads it at every
//! call, loop iteration and entry; compiled code reads it at every entry and loop
//! iteration and deoptimizes when it is set, so that the interpreter, rerunning the
//! call, raises the error.

use crate::error::{Error, ErrorKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Nonzero when the run must stop: why. Set by another thread, cleared when the
/// interpreter raises `interrupted`.
#[derive(Debug, Default)]
pub struct InterruptWord(AtomicU64);

/// [`InterruptWord`]'s value when an interrupt handle stopped the run.
pub const BY_HANDLE: u64 = 1;
/// Its value when the deadline passed.
pub const BY_DEADLINE: u64 = 2;

impl InterruptWord {
    pub fn new() -> Arc<Self> {
        Arc::new(InterruptWord::default())
    }

    /// Asks the running (or next) run to stop.
    pub fn set(&self, cause: u64) {
        self.0.store(cause, Ordering::SeqCst);
    }

    /// Forgets a request no run took.
    pub fn clear(&self) {
        self.0.store(0, Ordering::SeqCst);
    }

    /// Forgets a request of `cause` no run took.
    // Used by deadlines, in the engine.
    pub fn clear_if(&self, cause: u64) {
        let _ = self
            .0
            .compare_exchange(cause, 0, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The `interrupted` error, when a stop was asked (which it clears: an interrupt
    /// stops one run).
    #[inline]
    pub fn check(&self) -> Option<Error> {
        if self.0.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.take()
    }

    #[cold]
    fn take(&self) -> Option<Error> {
        let message = match self.0.swap(0, Ordering::SeqCst) {
            0 => return None,
            BY_DEADLINE => "interrupted: the deadline passed",
            _ => "interrupted: stopped by an interrupt handle",
        };
        Some(Error::new(ErrorKind::Interrupted, message))
    }

    /// The word's address, which compiled code reads (nonzero: deoptimize).
    // Read by the JIT only.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn address(&self) -> *const u64 {
        self.0.as_ptr()
    }
}
