//! The public face of Grizzly: an [`Engine`] holds defined functions and session
//! variables, runs programs, and calls functions from Rust.

use crate::error::{Error, ErrorKind, Result, Source};
use crate::interp::compile::compile;
use crate::interp::host::HostFunction;
use crate::interp::interrupt::InterruptWord;
use crate::interp::profile::Profile;
#[cfg(feature = "jit")]
use crate::interp::tier::Tier;
use crate::interp::vm::{Context, Vm};
use crate::interp::Function;
use crate::resolve::{self, FuncId, Names};
use crate::syntax::ast::{Expr, FunctionDef, Item, Program};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[cfg(feature = "jit")]
mod column_compact;
mod column_nulls;
mod columns;
mod deadline;
mod declaration;
mod handle;
mod host;
mod interrupt;
mod jit_control;
mod native;
mod nullable;
mod options;
mod typed;
pub use columns::{Column, ColumnFunc, ColumnType};
pub use declaration::{Annotation, Declaration};
pub use host::{BorrowedStr, HostArg, HostFn, HostRet};
pub use interrupt::InterruptHandle;
pub use jit_control::JitStats;
pub use native::{NativeArg, NativeArgs, NativeType};
pub use nullable::{NullableColumn, Validity};
pub use options::{
    EngineBuilder, JitMode, DEFAULT_CODE_LIMIT, DEFAULT_MAX_DEPTH, DEFAULT_MAX_STRING_BYTES,
    DEFAULT_THRESHOLD,
};
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

/// A PL-GRIZZLY engine: defined functions, session variables, the interpreter and
/// the JIT.
///
/// An engine is `Send` (it may move to another thread between calls, its compiled
/// code with it) but not `Sync`: every call takes `&mut Engine`. One engine per
/// thread, or a `Mutex<Engine>`, serves several threads.
///
/// ```
/// use grizzly::{Engine, Value};
/// let mut engine = Engine::new();
/// engine.run("FUNCTION score(amount, risky) => IF risky { amount * 2 } ELSE { amount }").unwrap();
/// let score = std::thread::spawn(move || {
///     engine.call("score", &[Value::Int(10), Value::Bool(true)]).unwrap()
/// })
/// .join()
/// .unwrap();
/// assert_eq!(score, Value::Int(20));
/// ```
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
    /// Host functions by id (never removed: ids are stable), and their ids by name.
    hosts: Vec<Arc<HostFunction>>,
    host_ids: HashMap<Arc<str>, u32>,
    vm: Vm,
    /// Set by interrupt handles (and the deadline): read by every tier.
    interrupt: Arc<InterruptWord>,
    deadline: Option<deadline::Deadline>,
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
    hosts: &'e [Arc<HostFunction>],
    host_ids: &'e HashMap<Arc<str>, u32>,
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
    fn host(&self, name: &str) -> Option<(u32, usize)> {
        let &id = self.host_ids.get(name)?;
        Some((id, self.hosts[id as usize].arity))
    }
}

impl Engine {
    fn with_options(options: EngineBuilder) -> Engine {
        let interrupt = InterruptWord::new();
        #[cfg(feature = "jit")]
        let mut jit = crate::jit::Jit::new(options.code_limit, interrupt.clone());
        // The JIT's one-time setup (code memory, the entry trampoline) belongs to
        // building an engine that will compile, not to its first compile.
        #[cfg(feature = "jit")]
        if options.jit != JitMode::Off {
            jit.prepare();
        }
        let deadline = options.deadline;
        let mut engine = Engine {
            #[cfg(feature = "jit")]
            jit,
            options,
            serial: ENGINES.fetch_add(1, Ordering::Relaxed),
            functions: Vec::new(),
            names: Vec::new(),
            ids: HashMap::new(),
            profiles: Vec::new(),
            globals: HashMap::new(),
            hosts: Vec::new(),
            host_ids: HashMap::new(),
            vm: Vm::default(),
            deadline: None,
            interrupt,
        };
        engine.set_deadline(deadline);
        engine
    }

    /// An engine with the default options (see [`EngineBuilder`]).
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// assert_eq!(engine.run("2 * 21").unwrap(), [grizzly::Value::Int(42)]);
    /// ```
    pub fn new() -> Engine {
        EngineBuilder::default().build()
    }

    /// Options for a new engine.
    ///
    /// ```
    /// let engine = grizzly::Engine::builder().threshold(3).build();
    /// assert_eq!(engine.threshold(), 3);
    /// ```
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
            hosts: &self.hosts,
            host_ids: &self.host_ids,
        }
    }

    /// Runs a program and returns the values its top-level expressions printed.
    /// Definitions and session variables stay for later programs and calls. A
    /// parse error runs nothing; the first other error stops the program.
    ///
    /// ```
    /// use grizzly::{Engine, Value};
    /// let mut engine = Engine::new();
    /// let printed = engine.run("LET rate = 0.5\nFUNCTION tax(x, r) => x * r\ntax(10.0, rate)").unwrap();
    /// assert_eq!(printed, [Value::Float(5.0)]);
    /// assert_eq!(engine.run("tax(4.0, rate)").unwrap(), [Value::Float(2.0)]);
    /// ```
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
    ///
    /// ```
    /// use grizzly::{Engine, Source};
    /// let mut engine = Engine::new();
    /// let source = Source::new("rules.grz", "1 + 1\n1 / 0\n3");
    /// let mut printed = Vec::new();
    /// let err = engine.run_source(&source, &mut |v| printed.push(v.to_string())).unwrap_err();
    /// assert_eq!(printed, ["2"]);
    /// assert!(err.report().contains("rules.grz:2:1"));
    /// ```
    pub fn run_source(&mut self, source: &Arc<Source>, out: &mut dyn FnMut(&Value)) -> Result<()> {
        let program = crate::syntax::parse(&source.text).map_err(|e| e.in_source(source))?;
        self.run_program(&program, source, out)
    }

    /// Runs an already parsed program whose spans point into `source`.
    pub(crate) fn run_program(
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
        let _running = self.begin_run();
        let resolved = resolve::top_level(expr, &mut self.name_table())?;
        let code = compile(&resolved, None, source)?;
        let mut ctx = Context {
            functions: &self.functions,
            names: &self.names,
            profiles: &mut self.profiles,
            max_depth: self.options.max_depth,
            interrupt: &self.interrupt,
            hosts: &self.hosts,
            tier: tier!(self),
        };
        self.vm.run(&mut ctx, &code, &[], 0)
    }

    /// Calls a defined function with arguments, at call depth 1 (like a top-level
    /// call). Hot functions run in compiled code; the result or error is always the
    /// interpreter's.
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind, Value};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION add(x, y) => x + y").unwrap();
    /// let args = [Value::Int(2), Value::Float(0.5)];
    /// assert_eq!(engine.call("add", &args).unwrap(), Value::Float(2.5));
    /// let err = engine.call("add", &[Value::Int(1)]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::WrongArgumentCount);
    /// assert_eq!(engine.call("nope", &[]).unwrap_err().kind(), ErrorKind::UnknownFunction);
    /// ```
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Value> {
        let id = *self.ids.get(name).ok_or_else(|| unknown_function(name))?;
        self.call_id(id, name, args)
    }

    /// The definition of `name`, or the contract's error for an unknown function.
    fn defined(&self, name: &str) -> Result<(FuncId, &Arc<Function>)> {
        let id = *self.ids.get(name).ok_or_else(|| unknown_function(name))?;
        let f = self.functions[id.0 as usize].as_ref();
        Ok((id, f.ok_or_else(|| unknown_function(name))?))
    }

    /// [`Engine::call`] of the function with id `id`, named `name`.
    fn call_id(&mut self, id: FuncId, name: &str, args: &[Value]) -> Result<Value> {
        let _running = self.begin_run();
        // Borrowed, not cloned: an Arc's atomic count is a tenth of a compiled call.
        let Some(f) = self.functions[id.0 as usize].as_ref() else {
            return Err(unknown_function(name));
        };
        check_arity(name, f.code.params, args.len())?;
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
                hosts: &self.hosts,
            };
            if let Some(v) = self.jit.enter(program, id.0, args, 1) {
                return Ok(v);
            }
        }
        let Some(f) = self.functions[id.0 as usize].as_ref() else {
            return Err(unknown_function(name));
        };
        let mut ctx = Context {
            functions: &self.functions,
            names: &self.names,
            profiles: &mut self.profiles,
            max_depth: self.options.max_depth,
            interrupt: &self.interrupt,
            hosts: &self.hosts,
            tier: tier!(self),
        };
        self.vm.run(&mut ctx, &f.code, args, 1)
    }

    /// The value of a session variable bound by a top-level `LET`.
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// engine.run("LET limit = 100").unwrap();
    /// assert_eq!(engine.variable("limit"), Some(&grizzly::Value::Int(100)));
    /// assert_eq!(engine.variable("other"), None);
    /// ```
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.globals.get(name)
    }

    /// How many times a defined function has been called (self tail calls, the
    /// iterations of its loops, included), or `None` if it is not defined.
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// engine.run("FUNCTION twice(x) => x * 2\ntwice(1)\ntwice(2)").unwrap();
    /// assert_eq!(engine.calls("twice"), Some(2));
    /// assert_eq!(engine.calls("other"), None);
    /// ```
    pub fn calls(&self, name: &str) -> Option<u64> {
        let id = self.ids.get(name)?;
        self.functions[id.0 as usize].as_ref()?;
        Some(self.profiles[id.0 as usize].calls)
    }

    /// The checked form and bytecode of a defined function.
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions[self.ids.get(name)?.0 as usize].as_ref()
    }
}

/// The contract's error for a call of an undefined function.
fn unknown_function(name: &str) -> Error {
    Error::new(
        ErrorKind::UnknownFunction,
        format!("unknown function '{name}'"),
    )
}

/// The contract's error for a call of `name`, which takes `params` arguments, with `got`.
fn check_arity(name: &str, params: usize, got: usize) -> Result<()> {
    if params == got {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::WrongArgumentCount,
        format!("wrong number of arguments: '{name}' expects {params}, got {got}"),
    ))
}
