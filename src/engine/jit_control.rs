//! The JIT as an embedder and the REPL's `jit` commands see it.

use super::{check_arity, unknown_function, Engine};
use crate::error::{Error, ErrorKind, Result};
use crate::interp::profile::Profile;
use crate::value::Value;
use std::fmt::Write;
use std::sync::Arc;

impl Engine {
    /// Drops all compiled code (returning its memory) and restarts the call counters.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode, Value};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).build();
    /// engine.run("FUNCTION f(x) => x + 1\nf(1)").unwrap();
    /// engine.jit_clear();
    /// assert_eq!(engine.jit_stats().specializations, 0);
    /// ```
    pub fn jit_clear(&mut self) {
        #[cfg(feature = "jit")]
        self.jit.clear();
        self.profiles.iter_mut().for_each(Profile::reset);
        self.retarget();
    }

    /// Counts of what the JIT did, for tests and embedders.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode, Value};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).build();
    /// engine.run("FUNCTION f(x) => x * 2").unwrap();
    /// engine.call("f", &[Value::Int(3)]).unwrap();
    /// let stats = engine.jit_stats();
    /// assert_eq!((stats.specializations, stats.entries, stats.fallbacks), (1, 1, 0));
    /// ```
    pub fn jit_stats(&self) -> JitStats {
        #[cfg(feature = "jit")]
        {
            let (specializations, entries, fallbacks) = self.jit.counts();
            let sum = self.jit.summary(&self.listed());
            JitStats {
                specializations,
                entries,
                fallbacks,
                hot_functions: sum.hot,
                hot_functions_compiled: sum.hot_compiled,
                interpreted_calls: sum.interpreted,
            }
        }
        #[cfg(not(feature = "jit"))]
        JitStats::default()
    }

    /// Every defined function with its calls, as the JIT's status lists them.
    #[cfg(feature = "jit")]
    fn listed(&self) -> Vec<crate::jit::Listed<'_>> {
        self.functions
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.as_ref().map(|f| crate::jit::Listed {
                    id: f.id,
                    name: &f.name,
                    calls: self.profiles[i].calls,
                })
            })
            .collect()
    }

    /// Compiles the function `name` for the types of `args` now (if the JIT can), as
    /// if it had become hot with these arguments. For benchmarks and tests of the JIT.
    ///
    /// ```
    /// use grizzly::{Engine, Value};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION f(x) => x / 2").unwrap();
    /// engine.jit_compile("f", &[Value::Float(1.0)]).unwrap();
    /// assert_eq!(engine.jit_specializations("f"), 1);
    /// // A string gets a generic specialization.
    /// engine.jit_compile("f", &[Value::str("text")]).unwrap();
    /// assert_eq!(engine.jit_specializations("f"), 2);
    /// let err = engine.jit_compile("f", &[]).unwrap_err();
    /// assert_eq!(err.kind(), grizzly::ErrorKind::WrongArgumentCount);
    /// ```
    pub fn jit_compile(&mut self, name: &str, args: &[Value]) -> Result<()> {
        let f = Arc::clone(self.defined(name)?.1);
        check_arity(name, f.code.params, args.len())?;
        #[cfg(feature = "jit")]
        {
            let program = crate::interp::tier::Program {
                functions: &self.functions,
                names: &self.names,
                profiles: &mut self.profiles,
                max_depth: self.options.max_depth,
                hosts: &self.hosts,
            };
            self.jit.compile_for(program, f.id.0, args).map_err(|why| {
                Error::new(ErrorKind::Usage, format!("'{name}' not compiled: {why}"))
            })
        }
        #[cfg(not(feature = "jit"))]
        Err(Error::new(
            ErrorKind::Usage,
            format!("'{name}' not compiled: the JIT is not built"),
        ))
    }

    /// Live compiled specializations of the function `name`: one per combination of
    /// argument types it was compiled for.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).build();
    /// engine.run("FUNCTION sq(x) => x * x\nsq(2)\nsq(2.5)").unwrap();
    /// assert_eq!(engine.jit_specializations("sq"), 2);
    /// ```
    pub fn jit_specializations(&self, name: &str) -> usize {
        #[cfg(feature = "jit")]
        if let Some(&id) = self.ids.get(name) {
            return self.jit.spec_count_of(id);
        }
        let _ = name;
        0
    }

    /// The text `jit status` and `--stats` print: mode, backend, and what each
    /// function was compiled for or why not.
    ///
    /// ```
    /// let engine = grizzly::Engine::new();
    /// assert!(engine.jit_status().starts_with("JIT mode: On, threshold: 10"));
    /// ```
    pub fn jit_status(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "JIT mode: {:?}, threshold: {}",
            self.options.jit, self.options.threshold
        );
        #[cfg(not(feature = "jit"))]
        out.push_str(
            "JIT: not built (the `jit` feature is off): every function runs in the interpreter\n",
        );
        #[cfg(feature = "jit")]
        {
            if let Some(why) = self.jit.unavailable() {
                let _ = writeln!(out, "JIT: {why}");
            } else if let Some(name) = self.jit.backend() {
                let _ = writeln!(out, "JIT backend: {name}");
            }
            self.jit.status(&mut out, &self.listed());
        }
        out
    }

    /// The text `jit dump NAME` prints (the machine code of each specialization,
    /// annotated with the source), or an error if `name` is not a defined function.
    ///
    /// ```
    /// use grizzly::{Engine, JitMode};
    /// let mut engine = Engine::builder().jit(JitMode::Eager).build();
    /// engine.run("FUNCTION inc(x) => x + 1\ninc(1)").unwrap();
    /// # #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    /// assert!(engine.jit_dump("inc").unwrap().starts_with("inc(int) -> int"));
    /// assert!(engine.jit_dump("nope").is_err());
    /// ```
    pub fn jit_dump(&self, name: &str) -> Result<String> {
        match self.function(name) {
            #[cfg(feature = "jit")]
            Some(f) => Ok(self.jit.dump(f.id, name, &f.code.source.text)),
            #[cfg(not(feature = "jit"))]
            Some(_) => Ok(format!(
                "'{name}' has no compiled code: the JIT is not built\n"
            )),
            None => Err(unknown_function(name)),
        }
    }
}

/// What the JIT has done so far: see [`Engine::jit_stats`].
///
/// ```
/// use grizzly::{Engine, JitMode, JitStats};
/// let engine = Engine::builder().jit(JitMode::Off).build();
/// assert_eq!(engine.jit_stats(), JitStats::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JitStats {
    /// Live compiled specializations.
    pub specializations: usize,
    /// Calls that entered compiled code from the interpreter or the host.
    pub entries: u64,
    /// Of those, calls that deoptimized and finished in the interpreter.
    pub fallbacks: u64,
    /// Defined functions that became hot (the interpreter offered them to the JIT).
    pub hot_functions: usize,
    /// Of those, functions that were compiled and never refused: for no argument
    /// types, and not after deoptimizing too often.
    pub hot_functions_compiled: usize,
    /// Calls of hot functions, after they became hot, that ran in the interpreter
    /// without entering compiled code: no code for their argument types (refused, or
    /// waiting to be offered again).
    pub interpreted_calls: u64,
}

impl JitStats {
    /// Hot functions compiled, as a share of hot functions (1 when none is hot).
    pub fn compile_success_rate(&self) -> f64 {
        match self.hot_functions {
            0 => 1.0,
            hot => self.hot_functions_compiled as f64 / hot as f64,
        }
    }

    /// Calls of hot functions that ran in the interpreter (deoptimized, or never
    /// entered compiled code), as a share of all calls of hot functions from the
    /// interpreter and the host (0 when there are none).
    pub fn fallback_rate(&self) -> f64 {
        let interpreted = self.fallbacks + self.interpreted_calls;
        match self.entries + self.interpreted_calls {
            0 => 0.0,
            all => interpreted as f64 / all as f64,
        }
    }
}
