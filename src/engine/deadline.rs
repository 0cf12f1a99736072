//! What a top-level call sets up (`Engine::begin_run`): its deadline and the
//! thread's string limit.
//!
//! Deadlines: one watchdog thread for the process sets the interrupt word of each
//! engine whose top-level call or item runs past its deadline. A call arms its
//! engine's deadline with a clock read and a store; the watchdog sleeps while no
//! deadline is armed.

use super::Engine;
use crate::interp::interrupt::{InterruptWord, BY_DEADLINE};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// An engine's deadline as the watchdog sees it.
#[derive(Debug)]
struct Watched {
    word: Arc<InterruptWord>,
    /// When the running call must stop, in nanoseconds since `EPOCH`; `IDLE` when no
    /// call is armed, `FIRED` once the watchdog stopped it.
    due: AtomicU64,
}

const IDLE: u64 = 0;
const FIRED: u64 = u64::MAX;

/// An engine's deadline: how long each top-level call may run.
#[derive(Debug)]
pub(super) struct Deadline {
    limit: Duration,
    watched: Arc<Watched>,
}

struct Watchdog {
    engines: Mutex<Vec<Weak<Watched>>>,
    wake: Condvar,
    /// The watchdog waits with no deadline armed: arming must wake it.
    sleeping: AtomicBool,
}

static EPOCH: OnceLock<Instant> = OnceLock::new();
static WATCHDOG: OnceLock<Option<&'static Watchdog>> = OnceLock::new();

fn now() -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    // (At least 1: 0 is `IDLE`.)
    (epoch.elapsed().as_nanos() as u64).max(1)
}

/// The process's watchdog, started at the first deadline (`None` if no thread could be
/// started: deadlines are then not enforced).
fn watchdog() -> Option<&'static Watchdog> {
    *WATCHDOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            engines: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            sleeping: AtomicBool::new(false),
        }));
        std::thread::Builder::new()
            .name("grizzly-deadlines".into())
            .spawn(move || dog.watch())
            .ok()
            .map(|_| dog)
    })
}

/// Longest sleep while some deadline is armed: how late a deadline armed during it
/// may fire.
const TICK: Duration = Duration::from_millis(5);

impl Watchdog {
    fn watch(&self) -> ! {
        let mut engines = self.engines.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            engines.retain(|w| w.strong_count() > 0);
            let next = self.fire(&engines);
            engines = match next {
                Some(due) => {
                    let wait = Duration::from_nanos(due.saturating_sub(now())).min(TICK);
                    let waited = self.wake.wait_timeout(engines, wait);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
                None => {
                    // Sleeping first, then a last look: an engine armed in between
                    // either was seen or sees `sleeping` and wakes us (under the lock).
                    self.sleeping.store(true, Ordering::SeqCst);
                    if self.fire(&engines).is_some() {
                        self.sleeping.store(false, Ordering::SeqCst);
                        continue;
                    }
                    let woken = self.wake.wait(engines).unwrap_or_else(|e| e.into_inner());
                    self.sleeping.store(false, Ordering::SeqCst);
                    woken
                }
            };
        }
    }

    /// Stops the calls past their deadline; the earliest deadline still to come.
    fn fire(&self, engines: &[Weak<Watched>]) -> Option<u64> {
        let now = now();
        let mut next: Option<u64> = None;
        for w in engines.iter().filter_map(Weak::upgrade) {
            match w.due.load(Ordering::SeqCst) {
                IDLE | FIRED => {}
                due if due <= now => {
                    // Only if the call is still the one armed (not returned, not
                    // another): see `Running::drop`.
                    let fired =
                        w.due
                            .compare_exchange(due, FIRED, Ordering::SeqCst, Ordering::SeqCst);
                    if fired.is_ok() {
                        w.word.set(BY_DEADLINE);
                    }
                }
                due => next = Some(next.map_or(due, |n| n.min(due))),
            }
        }
        next
    }

    fn wake_up(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            let _held = self.engines.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
    }
}

/// A top-level call running: its deadline armed and its string limit set on the
/// thread, both undone when dropped.
pub(super) struct Running {
    armed: Option<Arc<Watched>>,
    /// The thread's string limit before, when it was another.
    string_limit: Option<usize>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(w) = &self.armed {
            if w.due.swap(IDLE, Ordering::SeqCst) == FIRED {
                // It fired, maybe as the call returned: the next call must not see
                // it. The watchdog fires under its lock, so once we hold the lock
                // the word is set, and cleared here for good.
                if let Some(dog) = watchdog() {
                    let _fired = dog.engines.lock().unwrap_or_else(|e| e.into_inner());
                    w.word.clear_if(BY_DEADLINE);
                }
            }
        }
        if let Some(limit) = self.string_limit {
            crate::ops::set_string_limit(limit);
        }
    }
}

impl Deadline {
    fn new(limit: Duration, word: Arc<InterruptWord>) -> Deadline {
        let watched = Arc::new(Watched {
            word,
            due: AtomicU64::new(IDLE),
        });
        if let Some(dog) = watchdog() {
            let mut engines = dog.engines.lock().unwrap_or_else(|e| e.into_inner());
            engines.push(Arc::downgrade(&watched));
        }
        Deadline { limit, watched }
    }

    /// Arms the deadline for a top-level call, unless one is armed (a nested entry).
    fn arm(&self) -> Option<Arc<Watched>> {
        let due = now().saturating_add(self.limit.as_nanos().min(u64::MAX as u128 / 2) as u64);
        let armed = self
            .watched
            .due
            .compare_exchange(IDLE, due, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if !armed {
            return None;
        }
        if let Some(dog) = watchdog() {
            dog.wake_up();
        }
        Some(self.watched.clone())
    }
}

impl Engine {
    /// Limits each top-level call, item or batch from now on to `limit` (`None`: no
    /// limit); one running past it stops with `interrupted: the deadline passed`. The
    /// default is [`EngineBuilder::deadline`](crate::EngineBuilder::deadline)'s. A
    /// deadline may fire up to a few milliseconds late.
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind};
    /// use std::time::Duration;
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION spin(n) => spin(n + 1 - 1)").unwrap();
    /// engine.set_deadline(Some(Duration::from_millis(20)));
    /// assert_eq!(engine.run("spin(0)").unwrap_err().kind(), ErrorKind::Interrupted);
    /// engine.set_deadline(None);
    /// assert!(engine.run("1").is_ok());
    /// ```
    pub fn set_deadline(&mut self, limit: Option<Duration>) {
        self.deadline = limit.map(|limit| Deadline::new(limit, self.interrupt.clone()));
    }

    /// The limit of each top-level call (see [`Engine::set_deadline`]).
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline.as_ref().map(|d| d.limit)
    }

    /// Begins a top-level call: arms the deadline, if there is one, and sets the
    /// thread's string limit to this engine's. Keep the result until the call returns.
    #[inline]
    pub(super) fn begin_run(&self) -> Running {
        let limit = self.options.max_string_bytes;
        let string_limit =
            (crate::ops::string_limit() != limit).then(|| crate::ops::set_string_limit(limit));
        Running {
            armed: self.deadline.as_ref().and_then(Deadline::arm),
            string_limit,
        }
    }
}
