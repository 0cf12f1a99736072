//! An engine's options: the builder, and the getters and setters on [`Engine`].

use super::Engine;

/// When the JIT compiles a function.
///
/// ```
/// use grizzly::{Engine, JitMode};
/// let mut engine = Engine::builder().jit(JitMode::Eager).build();
/// engine.run("FUNCTION f(x) => x + 1\nf(1)").unwrap();
/// assert_eq!(engine.jit_specializations("f"), 1, "compiled at its first call");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JitMode {
    /// Interpret only.
    Off,
    /// Compile a function once its call count reaches the threshold.
    #[default]
    On,
    /// Compile each function at its first call.
    Eager,
}

/// Default call-depth limit (contract section 5).
pub const DEFAULT_MAX_DEPTH: u32 = 10_000;
/// Default number of calls before a function is compiled.
pub const DEFAULT_THRESHOLD: u32 = 10;
/// Default size limit of the JIT's code memory, in bytes.
pub const DEFAULT_CODE_LIMIT: usize = 64 << 20;
/// Default limit of a string's length, in bytes.
pub const DEFAULT_MAX_STRING_BYTES: usize = crate::ops::MAX_STRING_BYTES;

/// Options for an [`Engine`], made by [`Engine::builder`].
///
/// The limits an embedder sets, and their defaults:
///
/// | limit | default | when passed |
/// |---|---|---|
/// | [`max_depth`](EngineBuilder::max_depth) | 10,000 nested calls | `stack overflow` error |
/// | [`max_string_bytes`](EngineBuilder::max_string_bytes) | 256 MiB | `string too long` error |
/// | [`deadline`](EngineBuilder::deadline) | none | `interrupted` error |
/// | [`code_limit`](EngineBuilder::code_limit) | 64 MiB of machine code | functions stay interpreted |
///
/// ```
/// use grizzly::{Engine, JitMode};
/// let engine = Engine::builder()
///     .jit(JitMode::On)
///     .threshold(100)
///     .max_depth(500)
///     .code_limit(1 << 20)
///     .build();
/// assert_eq!((engine.threshold(), engine.max_depth()), (100, 500));
/// ```
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    pub(super) jit: JitMode,
    pub(super) threshold: u32,
    pub(super) max_depth: u32,
    pub(super) code_limit: usize,
    pub(super) deadline: Option<std::time::Duration>,
    pub(super) max_string_bytes: usize,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            jit: JitMode::default(),
            threshold: DEFAULT_THRESHOLD,
            max_depth: DEFAULT_MAX_DEPTH,
            code_limit: DEFAULT_CODE_LIMIT,
            deadline: None,
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
        }
    }
}

impl EngineBuilder {
    /// When the JIT compiles (default [`JitMode::On`]).
    ///
    /// ```
    /// use grizzly::{Engine, JitMode};
    /// let engine = Engine::builder().jit(JitMode::Off).build();
    /// assert_eq!(engine.jit_mode(), JitMode::Off);
    /// ```
    pub fn jit(mut self, mode: JitMode) -> Self {
        self.jit = mode;
        self
    }

    /// Calls before a function is compiled (at least 1; default 10).
    ///
    /// ```
    /// let engine = grizzly::Engine::builder().threshold(0).build();
    /// assert_eq!(engine.threshold(), 1);
    /// ```
    pub fn threshold(mut self, calls: u32) -> Self {
        self.threshold = calls.max(1);
        self
    }

    /// The call-depth limit (default 10,000): a call that would run deeper raises
    /// `stack overflow`, in the interpreter and in compiled code alike.
    ///
    /// ```
    /// let mut engine = grizzly::Engine::builder().max_depth(50).build();
    /// engine.run("FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }").unwrap();
    /// assert!(engine.run("down(49)").is_ok());
    /// let err = engine.run("down(50)").unwrap_err();
    /// assert_eq!(err.kind(), grizzly::ErrorKind::StackOverflow);
    /// ```
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    /// The JIT's code memory limit in bytes (default 64 MiB): when it is full,
    /// functions stay interpreted.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode, Value};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).code_limit(0).build();
    /// engine.run("FUNCTION f(x) => x * 2").unwrap();
    /// assert_eq!(engine.call("f", &[Value::Int(21)]).unwrap(), Value::Int(42));
    /// assert_eq!(engine.jit_specializations("f"), 0, "no room: interpreted");
    /// ```
    pub fn code_limit(mut self, bytes: usize) -> Self {
        self.code_limit = bytes;
        self
    }

    /// How long each top-level call, item or batch may run (default: no limit); one
    /// that runs longer stops with `interrupted: the deadline passed` (see
    /// [`Engine::set_deadline`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = grizzly::Engine::builder().deadline(Duration::from_secs(2)).build();
    /// assert_eq!(engine.deadline(), Some(Duration::from_secs(2)));
    /// ```
    pub fn deadline(mut self, limit: std::time::Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// The longest string a program may build, in bytes (default 256 MiB): a longer
    /// one is the runtime error `string too long: ...` (`ErrorKind::StringTooLong`),
    /// which `TRY` catches.
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind};
    /// let mut engine = Engine::builder().max_string_bytes(8).build();
    /// assert!(engine.run(r#""abcd" + "efgh""#).is_ok());
    /// let err = engine.run(r#""abcd" + "efghi""#).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::StringTooLong);
    /// assert_eq!(err.message(), "string too long: 9 bytes, more than the limit of 8");
    /// assert_eq!(engine.max_string_bytes(), 8);
    /// ```
    pub fn max_string_bytes(mut self, bytes: usize) -> Self {
        self.max_string_bytes = bytes;
        self
    }

    /// The engine.
    ///
    /// ```
    /// let mut engine = grizzly::EngineBuilder::default().build();
    /// assert_eq!(engine.run("1 + 1").unwrap(), [grizzly::Value::Int(2)]);
    /// ```
    pub fn build(self) -> Engine {
        Engine::with_options(self)
    }
}

impl Engine {
    /// The JIT mode.
    ///
    /// ```
    /// assert_eq!(grizzly::Engine::new().jit_mode(), grizzly::JitMode::On);
    /// ```
    pub fn jit_mode(&self) -> JitMode {
        self.options.jit
    }

    /// Changes the JIT mode. Compiled code stays, but with [`JitMode::Off`] nothing
    /// enters it (typed handles included) until the JIT is turned on again.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode, Value};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).build();
    /// engine.run("FUNCTION f(x) => x + 1").unwrap();
    /// engine.call("f", &[Value::Int(1)]).unwrap();
    /// engine.set_jit_mode(JitMode::Off);
    /// let entries = engine.jit_stats().entries;
    /// engine.call("f", &[Value::Int(1)]).unwrap();
    /// assert_eq!(engine.jit_stats().entries, entries);
    /// ```
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
        #[cfg(feature = "jit")]
        self.jit.invalidate_typed();
        self.retarget();
    }

    /// Calls before a function is compiled.
    ///
    /// ```
    /// assert_eq!(grizzly::Engine::new().threshold(), grizzly::engine::DEFAULT_THRESHOLD);
    /// ```
    pub fn threshold(&self) -> u32 {
        self.options.threshold
    }

    /// Changes the threshold (at least 1) for every function.
    ///
    /// ```
    /// use grizzly::Value;
    /// let mut engine = grizzly::Engine::new();
    /// engine.set_threshold(2);
    /// engine.run("FUNCTION f(x) => x + 1").unwrap();
    /// for _ in 0..2 {
    ///     engine.call("f", &[Value::Int(1)]).unwrap();
    /// }
    /// # #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    /// assert_eq!(engine.jit_specializations("f"), 1);
    /// ```
    pub fn set_threshold(&mut self, calls: u32) {
        self.options.threshold = calls.max(1);
        self.retarget();
    }

    /// The call-depth limit.
    ///
    /// ```
    /// assert_eq!(grizzly::Engine::new().max_depth(), grizzly::engine::DEFAULT_MAX_DEPTH);
    /// ```
    pub fn max_depth(&self) -> u32 {
        self.options.max_depth
    }

    /// The string limit in bytes (see [`EngineBuilder::max_string_bytes`]).
    ///
    /// ```
    /// assert_eq!(grizzly::Engine::new().max_string_bytes(), 1 << 28);
    /// ```
    pub fn max_string_bytes(&self) -> usize {
        self.options.max_string_bytes
    }

    /// The call count at which a function's calls go to the JIT.
    pub(super) fn hot_at(&self) -> u64 {
        match self.options.jit {
            _ if !cfg!(feature = "jit") => u64::MAX,
            JitMode::Off => u64::MAX,
            JitMode::On => self.options.threshold as u64,
            JitMode::Eager => 1,
        }
    }

    /// Applies the mode and threshold to every function's profile.
    pub(super) fn retarget(&mut self) {
        let hot_at = self.hot_at();
        for p in &mut self.profiles {
            p.hot_at = hot_at;
        }
    }
}
