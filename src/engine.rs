//! The public face of Grizzly: an [`Engine`] holds defined functions and session
//! variables, runs programs, and calls functions from Rust.

use crate::error::{Error, ErrorKind, Result, Source};
use crate::value::Value;
use std::sync::Arc;

/// When the JIT compiles a function.
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

/// Options for an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    jit: JitMode,
    threshold: u32,
    max_depth: u32,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            jit: JitMode::default(),
            threshold: DEFAULT_THRESHOLD,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl EngineBuilder {
    pub fn jit(mut self, mode: JitMode) -> Self {
        self.jit = mode;
        self
    }
    /// Calls before a function is compiled (at least 1).
    pub fn threshold(mut self, calls: u32) -> Self {
        self.threshold = calls.max(1);
        self
    }
    /// The call-depth limit: a call that would run deeper raises `stack overflow`.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }
    pub fn build(self) -> Engine {
        Engine {
            options: self,
        }
    }
}

/// A PL-GRIZZLY engine.
pub struct Engine {
    options: EngineBuilder,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    pub fn new() -> Engine {
        EngineBuilder::default().build()
    }

    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Runs a program and returns the values its top-level expressions printed.
    pub fn run(&mut self, source: &str) -> Result<Vec<Value>> {
        let mut printed = Vec::new();
        self.run_source(&Source::new("<input>", source), &mut |v| printed.push(v.clone()))?;
        Ok(printed)
    }

    /// Runs a program, handing each printed value to `out` as soon as it is produced,
    /// so that what was printed before an error is not lost.
    pub fn run_source(&mut self, source: &Arc<Source>, out: &mut dyn FnMut(&Value)) -> Result<()> {
        let _ = (source, out);
        Err(Error::new(ErrorKind::Usage, "engine under construction"))
    }

    /// Calls a defined function with arguments, at call depth 1.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Value> {
        let _ = (name, args);
        Err(Error::new(ErrorKind::Usage, "engine under construction"))
    }

    pub fn jit_mode(&self) -> JitMode {
        self.options.jit
    }
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
    }
    pub fn threshold(&self) -> u32 {
        self.options.threshold
    }
    pub fn set_threshold(&mut self, calls: u32) {
        self.options.threshold = calls.max(1);
    }
    pub fn max_depth(&self) -> u32 {
        self.options.max_depth
    }

    /// Drops all compiled code and restarts the call counters.
    pub fn jit_clear(&mut self) {}

    /// The text `jit status` and `--stats` print.
    pub fn jit_status(&self) -> String {
        String::new()
    }

    /// The text `jit dump NAME` prints, or an error if `name` is not a defined function.
    pub fn jit_dump(&self, name: &str) -> Result<String> {
        Err(Error::new(ErrorKind::UnknownFunction, format!("unknown function '{name}'")))
    }
}
