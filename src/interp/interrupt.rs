//! The word another thread sets to stop a run. The interpreter reads it at every
//! call, loop iteration and entry; compiled code sees it at every entry and loop
//! iteration (through the stack limit, see [`InterruptWord`]) and deoptimizes when it
//! is set, so that the interpreter, rerunning the call, raises the error.

use crate::error::{Error, ErrorKind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Nonzero when the run must stop: why. Set by another thread, cleared when the
/// interpreter raises `interrupted`.
///
/// Beside it, the stack limit compiled code of the JIT convention compares the stack
/// pointer with at every entry and loop iteration: setting the word also sets the
/// limit to `usize::MAX`, so that compiled code deoptimizes at no extra cost per
/// call; each entry into compiled code puts the thread's real limit back
/// ([`InterruptWord::arm`]) unless a stop is asked.
#[derive(Debug, Default)]
pub struct InterruptWord {
    word: AtomicU64,
    stack_limit: AtomicUsize,
}

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
        self.word.store(cause, Ordering::SeqCst);
        self.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Forgets a request no run took.
    pub fn clear(&self) {
        self.word.store(0, Ordering::SeqCst);
    }

    /// Whether a stop is asked.
    // Read by the JIT only.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn pending(&self) -> bool {
        self.word.load(Ordering::Relaxed) != 0
    }

    /// Before an entry into compiled code on a thread whose stack limit is `limit`:
    /// makes the stack limit word `limit`, or `usize::MAX` while a stop is asked.
    #[inline]
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn arm(&self, limit: usize) {
        if self.stack_limit.load(Ordering::Relaxed) != limit {
            self.arm_slow(limit);
        }
    }

    #[cold]
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    fn arm_slow(&self, limit: usize) {
        loop {
            let now = self.stack_limit.load(Ordering::SeqCst);
            if self.word.load(Ordering::SeqCst) != 0 {
                self.stack_limit.store(usize::MAX, Ordering::SeqCst);
                return;
            }
            if now == limit {
                return;
            }
            let swapped =
                self.stack_limit
                    .compare_exchange(now, limit, Ordering::SeqCst, Ordering::SeqCst);
            if swapped.is_ok() {
                // A stop asked since the word was read: its `usize::MAX` may be the
                // value just replaced.
                if self.word.load(Ordering::SeqCst) != 0 {
                    self.stack_limit.store(usize::MAX, Ordering::SeqCst);
                }
                return;
            }
        }
    }

    /// The stack limit word's address (see [`InterruptWord`]).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn stack_limit_address(&self) -> usize {
        self.stack_limit.as_ptr() as usize
    }

    /// Forgets a request of `cause` no run took.
    // Used by deadlines, in the engine.
    pub fn clear_if(&self, cause: u64) {
        let _ = self
            .word
            .compare_exchange(cause, 0, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The `interrupted` error, when a stop was asked (which it clears: an interrupt
    /// stops one run).
    #[inline]
    pub fn check(&self) -> Option<Error> {
        if self.word.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.take()
    }

    #[cold]
    fn take(&self) -> Option<Error> {
        let message = match self.word.swap(0, Ordering::SeqCst) {
            0 => return None,
            BY_DEADLINE => "interrupted: the deadline passed",
            _ => "interrupted: stopped by an interrupt handle",
        };
        Some(Error::new(ErrorKind::Interrupted, message))
    }

    /// The word's address, which compiled code with no context reads at every loop
    /// iteration (nonzero: deoptimize).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn address(&self) -> *const u64 {
        self.word.as_ptr()
    }
}
