//! The public face of Grizzly: an [`Engine`] holds defined functions and session
//! variables, runs programs, and calls functions from Rust.

use crate::error::{Error, ErrorKind, Result, Source};
use crate::interp::compile::compile;
use crate::interp::profile::Profile;
#[cfg(feature = "jit")]
use crate::interp::tier::Tier;
use crate::interp::vm::{Context, Vm};
use crate::interp::Function;
use crate::resolve::{self, FuncId, Names};
use crate::syntax::ast::{Expr, FunctionDef, Item, Program};
use crate::value::Value;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod native;
mod typed;
pub use native::{NativeArgs, NativeType};
pub use typed::TypedFunc;

/// Engines are numbered, so that a typed handle can tell its own.
static ENGINES: AtomicU64 = AtomicU64::new(0);

/// The compiled tier as the interpreter sees it (none without the `jit` feature).
#[cfg(feature = "jit")]
macro_rules! tier {
    ($engine:ident) => {
        Some(&mut $engine.jit as &mut dyn Tier)
    };
}
#[cfg(not(feature = "jit"))]
macro_rules! tier {
    ($engine:ident) => {
        None
    };
}

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
/// Default size limit of the JIT's code memory, in bytes.
pub const DEFAULT_CODE_LIMIT: usize = 64 << 20;

/// Options for an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    jit: JitMode,
    threshold: u32,
    max_depth: u32,
    code_limit: usize,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            jit: JitMode::default(),
            threshold: DEFAULT_THRESHOLD,
            max_depth: DEFAULT_MAX_DEPTH,
            code_limit: DEFAULT_CODE_LIMIT,
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
    /// The JIT's code memory limit in bytes: when it is full, functions stay interpreted.
    pub fn code_limit(mut self, bytes: usize) -> Self {
        self.code_limit = bytes;
        self
    }
    pub fn build(self) -> Engine {
        Engine {
            #[cfg(feature = "jit")]
            jit: crate::jit::Jit::new(self.code_limit),
            options: self,
            serial: ENGINES.fetch_add(1, Ordering::Relaxed),
            functions: Vec::new(),
            names: Vec::new(),
            ids: HashMap::new(),
            profiles: Vec::new(),
            globals: HashMap::new(),
            vm: Vm::default(),
        }
    }
}

/// A PL-GRIZZLY engine: defined functions, session variables and the interpreter.
///
/// An engine is `Send`: it may move to another thread between calls.
pub struct Engine {
    options: EngineBuilder,
    /// This engine's number (typed handles check it).
    serial: u64,
    /// By function id; `None` for a name that is called but not (or no longer) defined.
    functions: Vec<Option<Arc<Function>>>,
    /// By function id.
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, FuncId>,
    /// By function id.
    profiles: Vec<Profile>,
    /// Session variables bound by top-level `LET`.
    globals: HashMap<Arc<str>, Value>,
    vm: Vm,
    #[cfg(feature = "jit")]
    jit: crate::jit::Jit,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// The engine's name table as the resolver sees it.
struct NameTable<'e> {
    functions: &'e mut Vec<Option<Arc<Function>>>,
    names: &'e mut Vec<Arc<str>>,
    ids: &'e mut HashMap<Arc<str>, FuncId>,
    profiles: &'e mut Vec<Profile>,
    globals: &'e HashMap<Arc<str>, Value>,
}

impl Names for NameTable<'_> {
    fn function_id(&mut self, name: &str) -> FuncId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = FuncId(self.names.len() as u32);
        let name: Arc<str> = Arc::from(name);
        self.ids.insert(name.clone(), id);
        self.names.push(name);
        self.functions.push(None);
        self.profiles.push(Profile::default());
        id
    }
    fn is_defined(&self, name: &str) -> bool {
        self.ids
            .get(name)
            .is_some_and(|id| self.functions[id.0 as usize].is_some())
    }
    fn session_var(&self, name: &str) -> Option<Value> {
        self.globals.get(name).cloned()
    }
}

impl Engine {
    pub fn new() -> Engine {
        EngineBuilder::default().build()
    }

    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    fn name_table(&mut self) -> NameTable<'_> {
        NameTable {
            functions: &mut self.functions,
            names: &mut self.names,
            ids: &mut self.ids,
            profiles: &mut self.profiles,
            globals: &self.globals,
        }
    }

    /// Runs a program and returns the values its top-level expressions printed.
    pub fn run(&mut self, source: &str) -> Result<Vec<Value>> {
        let mut printed = Vec::new();
        self.run_source(&Source::new("<input>", source), &mut |v| {
            printed.push(v.clone())
        })?;
        Ok(printed)
    }

    /// Runs a program, handing each printed value to `out` as soon as it is produced,
    /// so that what was printed before an error is not lost. A parse error runs nothing;
    /// the first definition or runtime error stops the program.
    pub fn run_source(&mut self, source: &Arc<Source>, out: &mut dyn FnMut(&Value)) -> Result<()> {
        let program = crate::syntax::parse(&source.text).map_err(|e| e.in_source(source))?;
        self.run_program(&program, source, out)
    }

    /// Runs an already parsed program whose spans point into `source`.
    pub fn run_program(
        &mut self,
        program: &Program,
        source: &Arc<Source>,
        out: &mut dyn FnMut(&Value),
    ) -> Result<()> {
        for item in &program.items {
            match item {
                Item::Function(def) => self.define(def, source),
                Item::Let(l) => self.eval_top(&l.value, source).map(|v| {
                    self.globals.insert(l.name.name.clone(), v);
                }),
                Item::Expr(e) => self.eval_top(e, source).map(|v| out(&v)),
            }
            .map_err(|e| e.in_source(source))?;
        }
        Ok(())
    }

    fn define(&mut self, def: &FunctionDef, source: &Arc<Source>) -> Result<()> {
        let mut names = self.name_table();
        let resolved = resolve::function(def, &mut names)?;
        let id = names.function_id(&def.name.name);
        let code = compile(&resolved, Some(id), source)?;
        let params = resolved.params.len();
        self.functions[id.0 as usize] = Some(Arc::new(Function {
            id,
            name: def.name.name.clone(),
            resolved,
            code,
        }));
        #[cfg(feature = "jit")]
        self.jit.invalidate(id);
        self.profiles[id.0 as usize] = Profile::new(params);
        self.profiles[id.0 as usize].hot_at = self.hot_at();
        Ok(())
    }

    fn eval_top(&mut self, expr: &Expr, source: &Arc<Source>) -> Result<Value> {
        let resolved = resolve::top_level(expr, &mut self.name_table())?;
        let code = compile(&resolved, None, source)?;
        let mut ctx = Context {
            functions: &self.functions,
            names: &self.names,
            profiles: &mut self.profiles,
            max_depth: self.options.max_depth,
            tier: tier!(self),
        };
        self.vm.run(&mut ctx, &code, &[], 0)
    }

    /// Calls a defined function with arguments, at call depth 1 (like a top-level call).
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Value> {
        let unknown = || {
            Error::new(
                ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            )
        };
        let id = *self.ids.get(name).ok_or_else(unknown)?;
        self.call_id(id, name, args)
    }

    /// [`Engine::call`] of the function with id `id`, named `name`.
    fn call_id(&mut self, id: FuncId, name: &str, args: &[Value]) -> Result<Value> {
        let unknown = || {
            Error::new(
                ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            )
        };
        // Borrowed, not cloned: an Arc's atomic count is a tenth of a compiled call.
        let Some(f) = self.functions[id.0 as usize].as_ref() else {
            return Err(unknown());
        };
        if args.len() != f.code.params {
            return Err(Error::new(
                ErrorKind::WrongArgumentCount,
                format!(
                    "wrong number of arguments: '{name}' expects {}, got {}",
                    f.code.params,
                    args.len()
                ),
            ));
        }
        if self.options.max_depth < 1 {
            return Err(Error::new(
                ErrorKind::StackOverflow,
                format!(
                    "stack overflow: call depth limit of {} exceeded",
                    self.options.max_depth
                ),
            ));
        }
        let profile = &mut self.profiles[id.0 as usize];
        profile.record(args);
        #[cfg(feature = "jit")]
        if profile.calls >= profile.hot_at {
            let program = crate::interp::tier::Program {
                functions: &self.functions,
                names: &self.names,
                profiles: &mut self.profiles,
                max_depth: self.options.max_depth,
            };
            if let Some(v) = self.jit.enter(program, id.0, args, 1) {
                return Ok(v);
            }
        }
        let Some(f) = self.functions[id.0 as usize].as_ref() else {
            return Err(unknown());
        };
        let mut ctx = Context {
            functions: &self.functions,
            names: &self.names,
            profiles: &mut self.profiles,
            max_depth: self.options.max_depth,
            tier: tier!(self),
        };
        self.vm.run(&mut ctx, &f.code, args, 1)
    }

    /// The value of a session variable bound by a top-level `LET`.
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.globals.get(name)
    }

    /// The profile of a defined function: its calls and observed argument types.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        let id = self.ids.get(name)?;
        self.functions[id.0 as usize].as_ref()?;
        Some(&self.profiles[id.0 as usize])
    }

    /// The checked form and bytecode of a defined function.
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions[self.ids.get(name)?.0 as usize].as_ref()
    }

    pub fn jit_mode(&self) -> JitMode {
        self.options.jit
    }
    pub fn set_jit_mode(&mut self, mode: JitMode) {
        self.options.jit = mode;
        #[cfg(feature = "jit")]
        self.jit.invalidate_typed();
        self.retarget();
    }
    pub fn threshold(&self) -> u32 {
        self.options.threshold
    }
    pub fn set_threshold(&mut self, calls: u32) {
        self.options.threshold = calls.max(1);
        self.retarget();
    }
    pub fn max_depth(&self) -> u32 {
        self.options.max_depth
    }

    /// The call count at which a function's calls go to the JIT.
    fn hot_at(&self) -> u64 {
        match self.options.jit {
            _ if !cfg!(feature = "jit") => u64::MAX,
            JitMode::Off => u64::MAX,
            JitMode::On => self.options.threshold as u64,
            JitMode::Eager => 1,
        }
    }

    /// Applies the mode and threshold to every function's profile.
    fn retarget(&mut self) {
        let hot_at = self.hot_at();
        for p in &mut self.profiles {
            p.hot_at = hot_at;
        }
    }

    /// Drops all compiled code (returning its memory) and restarts the call counters.
    pub fn jit_clear(&mut self) {
        #[cfg(feature = "jit")]
        self.jit.clear();
        self.profiles.iter_mut().for_each(Profile::reset);
        self.retarget();
    }

    /// Counts of what the JIT did, for tests and embedders.
    pub fn jit_stats(&self) -> JitStats {
        #[cfg(feature = "jit")]
        {
            let (specializations, entries, fallbacks) = self.jit.counts();
            JitStats {
                specializations,
                entries,
                fallbacks,
            }
        }
        #[cfg(not(feature = "jit"))]
        JitStats::default()
    }

    /// Compiles the function `name` for the types of `args` now (if the JIT can), as
    /// if it had become hot with these arguments. For benchmarks and tests of the JIT.
    pub fn jit_compile(&mut self, name: &str, args: &[Value]) -> Result<()> {
        let Some(f) = self.function(name).cloned() else {
            return Err(Error::new(
                ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            ));
        };
        if args.len() != f.code.params {
            return Err(Error::new(
                ErrorKind::WrongArgumentCount,
                format!(
                    "wrong number of arguments: '{name}' expects {}, got {}",
                    f.code.params,
                    args.len()
                ),
            ));
        }
        #[cfg(feature = "jit")]
        {
            let program = crate::interp::tier::Program {
                functions: &self.functions,
                names: &self.names,
                profiles: &mut self.profiles,
                max_depth: self.options.max_depth,
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

    /// Live compiled specializations of the function `name`.
    pub fn jit_specializations(&self, name: &str) -> usize {
        #[cfg(feature = "jit")]
        if let Some(&id) = self.ids.get(name) {
            return self.jit.spec_count_of(id);
        }
        let _ = name;
        0
    }

    /// The text `jit status` and `--stats` print.
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
            let listed: Vec<crate::jit::Listed<'_>> = self
                .functions
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    f.as_ref().map(|f| crate::jit::Listed {
                        id: f.id,
                        name: &f.name,
                        calls: self.profiles[i].calls,
                    })
                })
                .collect();
            self.jit.status(&mut out, &listed);
        }
        out
    }

    /// The text `jit dump NAME` prints, or an error if `name` is not a defined function.
    pub fn jit_dump(&self, name: &str) -> Result<String> {
        match self.function(name) {
            #[cfg(feature = "jit")]
            Some(f) => Ok(self.jit.dump(f.id, name, &f.code.source.text)),
            #[cfg(not(feature = "jit"))]
            Some(_) => Ok(format!(
                "'{name}' has no compiled code: the JIT is not built\n"
            )),
            None => Err(Error::new(
                ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            )),
        }
    }
}

/// What the JIT has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Live compiled specializations.
    pub specializations: usize,
    /// Calls that entered compiled code from the interpreter or the host.
    pub entries: u64,
    /// Of those, calls that deoptimized and finished in the interpreter.
    pub fallbacks: u64,
}
