//! Stopping runaway code: an [`InterruptHandle`] another thread uses.

use super::Engine;
use crate::interp::interrupt::{InterruptWord, BY_HANDLE};
use std::sync::Arc;

/// Stops the engine's running call from any thread, with the runtime error
/// `interrupted: ...` ([`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted)),
/// which `TRY` and `??` do not catch. The interpreter checks at every call and loop
/// iteration, compiled code at every entry and loop iteration (a load and a compare).
///
/// An interrupt stops one run: the one running, or, when none is, the next one (the
/// engine's next call, item or batch). [`Engine::clear_interrupt`] forgets one that
/// came too late. After the error the engine is as usable as before.
///
/// ```
/// use grizzly::{Engine, ErrorKind};
/// let mut engine = Engine::new();
/// engine.run("FUNCTION spin(n) => spin(n + 1 - 1)").unwrap();
/// let handle = engine.interrupt_handle();
/// let stopper = std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_millis(50));
///     handle.interrupt();
/// });
/// let err = engine.run("spin(0)").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Interrupted);
/// stopper.join().unwrap();
/// assert_eq!(engine.run("1 + 1").unwrap(), [grizzly::Value::Int(2)]);
/// ```
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    word: Arc<InterruptWord>,
}

impl InterruptHandle {
    /// Makes the running call stop soon (or the next one, when none runs).
    pub fn interrupt(&self) {
        self.word.set(BY_HANDLE);
    }
}

impl Engine {
    /// A handle that stops this engine's running call from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            word: self.interrupt.clone(),
        }
    }

    /// Forgets an interrupt no run took (one asked for after the call it was meant to
    /// stop had returned).
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// engine.interrupt_handle().interrupt();
    /// engine.clear_interrupt();
    /// assert!(engine.run("1").is_ok());
    /// ```
    pub fn clear_interrupt(&mut self) {
        self.interrupt.clear();
    }
}
