//! What every handle on a function caches: the engine and function it belongs to, and
//! the compiled specialization for its argument types (its code, native and batch
//! functions and result type), valid while the JIT's generation is the one it was
//! cached in. [`TypedFunc`](super::TypedFunc) knows its argument types in Rust,
//! [`ColumnFunc`](super::ColumnFunc) at run time; both keep one of these.

use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::resolve::FuncId;
use crate::value::ValueType;
#[cfg(feature = "jit")]
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub(super) struct Handle {
    pub(super) engine: u64,
    pub(super) id: FuncId,
    pub(super) name: Arc<str>,
    /// The JIT generation in which `spec` and `code` were known to be live (0: none).
    /// Generations are unique across engines, so a match also means "this engine".
    /// A call with `&mut Engine` is the only writer that can make them match.
    generation: AtomicU64,
    /// The specialization for the argument types: its id and code address.
    #[cfg(feature = "jit")]
    spec: AtomicU32,
    #[cfg(feature = "jit")]
    code: AtomicUsize,
    /// Its native function's address, 0 if it has none.
    #[cfg(feature = "jit")]
    native: AtomicUsize,
    /// Its batch function's address, 0 if it has none.
    #[cfg(feature = "jit")]
    batch: AtomicUsize,
    /// What its code returns (`ret_code`).
    #[cfg(feature = "jit")]
    ret: AtomicU8,
}

/// The machine type a `ret_code` stands for (`None`: a generic value, or nothing).
#[cfg(feature = "jit")]
#[inline(always)]
pub(super) const fn machine_of(code: u8) -> Option<ValueType> {
    match code {
        1 => Some(ValueType::Int),
        2 => Some(ValueType::Float),
        3 => Some(ValueType::Bool),
        _ => None,
    }
}

/// What a handle caches of `TypedRet`, as one byte.
#[cfg(feature = "jit")]
#[inline(always)]
pub(super) const fn ret_code(ret: crate::jit::TypedRet) -> u8 {
    use crate::jit::TypedRet;
    match ret {
        TypedRet::Machine(ValueType::Int) => 1,
        TypedRet::Machine(ValueType::Float) => 2,
        TypedRet::Machine(ValueType::Bool) => 3,
        TypedRet::Generic => 4,
        TypedRet::Machine(ValueType::Str | ValueType::Null) | TypedRet::Never => 0,
    }
}

impl Handle {
    /// A handle on function `id` of `engine`, with nothing cached.
    pub(super) fn new(engine: &Engine, id: FuncId) -> Handle {
        Handle {
            engine: engine.serial,
            id,
            name: Arc::clone(&engine.names[id.0 as usize]),
            generation: AtomicU64::new(0),
            #[cfg(feature = "jit")]
            spec: AtomicU32::new(0),
            #[cfg(feature = "jit")]
            code: AtomicUsize::new(0),
            #[cfg(feature = "jit")]
            native: AtomicUsize::new(0),
            #[cfg(feature = "jit")]
            batch: AtomicUsize::new(0),
            #[cfg(feature = "jit")]
            ret: AtomicU8::new(0),
        }
    }

    /// Whether anything is cached (for `Debug`).
    pub(super) fn compiled(&self) -> bool {
        self.generation.load(Ordering::Relaxed) != 0
    }

    /// Whether the cached entry is current in `engine`: its code is live and compiled
    /// for the handle's argument types.
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(super) fn is_current(&self, engine: &Engine) -> bool {
        self.generation.load(Ordering::Relaxed) == engine.jit.generation()
    }

    /// The cached entry (current when [`is_current`](Self::is_current)).
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(super) fn entry(&self) -> crate::jit::TypedEntry {
        crate::jit::TypedEntry {
            id: self.spec.load(Ordering::Relaxed),
            code: self.code.load(Ordering::Relaxed),
            native: self.native.load(Ordering::Relaxed),
            batch: self.batch.load(Ordering::Relaxed),
        }
    }

    /// Rows of columns of words through the current entry's batch function, or the
    /// batch entry stub, the results put in `at` as `results` says (their bits, or the
    /// generic values the rows returned): the rows done, and `Some((spec, site))` when
    /// the next row deoptimized (it is not done); `None` when there is no batch entry
    /// for this many columns.
    ///
    /// # Safety
    /// The entry must be current, returning generic values if and only if `results`
    /// is `Values`, with one pointer per parameter, each to `rows` words of its type (a
    /// generic one: the addresses of values that outlive the call); `at` must be valid
    /// for writing `rows` results (`Values`: values, overwritten, not dropped).
    #[cfg(feature = "jit")]
    pub(super) unsafe fn run_batch(
        &self,
        engine: &mut Engine,
        pointers: &[*const u64],
        rows: usize,
        at: *mut u64,
        results: grizzly_arch::BatchOut,
    ) -> Option<(usize, Option<(u32, u64)>)> {
        let entry = self.entry();
        let max_depth = engine.options.max_depth;
        let words = results == grizzly_arch::BatchOut::Words;
        // SAFETY: the caller's contract (a native batch function exists only for code
        // returning a machine word).
        let (done, deopt) = unsafe {
            if entry.batch != 0 && words {
                engine.jit.run_native_batch(entry, pointers, rows, at)
            } else {
                let jit = &mut engine.jit;
                jit.run_batch(entry, pointers, rows, at, max_depth, results)?
            }
        };
        Some((done, deopt.map(|site| (entry.id, site))))
    }

    /// The cached `ret_code`.
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(super) fn ret(&self) -> u8 {
        self.ret.load(Ordering::Relaxed)
    }

    #[cfg(feature = "jit")]
    fn cache(&self, engine: &Engine, entry: crate::jit::TypedEntry, ret: u8) {
        self.spec.store(entry.id, Ordering::Relaxed);
        self.code.store(entry.code, Ordering::Relaxed);
        self.native.store(entry.native, Ordering::Relaxed);
        self.batch.store(entry.batch, Ordering::Relaxed);
        self.ret.store(ret, Ordering::Relaxed);
        self.generation
            .store(engine.jit.generation(), Ordering::Relaxed);
    }

    /// The machine type the current entry returns (`None` when there is no current
    /// entry or it returns a generic value).
    #[cfg(feature = "jit")]
    pub(super) fn machine_ret(&self, engine: &Engine) -> Option<ValueType> {
        if !self.is_current(engine) {
            return None;
        }
        machine_of(self.ret())
    }

    /// Finds or compiles the specialization for arguments of machine types `machine`
    /// (`None`: generic), caches it if its result can be a `takes`, and returns the
    /// machine type every call returns, when that is known.
    pub(super) fn refresh(
        &self,
        engine: &mut Engine,
        machine: &[Option<ValueType>],
        takes: fn(ValueType) -> bool,
    ) -> Option<ValueType> {
        #[cfg(feature = "jit")]
        if usable(engine) {
            use crate::jit::TypedRet;
            engine.functions.get(self.id.0 as usize)?.as_ref()?;
            let program = crate::interp::tier::Program {
                functions: &engine.functions,
                names: &engine.names,
                profiles: &mut engine.profiles,
                max_depth: engine.options.max_depth,
                hosts: &engine.hosts,
            };
            let spec = engine.jit.typed_spec(program, self.id.0, machine);
            match spec {
                // Compiled code returns a `t` (or deopts, and the interpreter's value
                // is checked): it is entered only if a `t` is taken.
                Ok((entry, ret @ TypedRet::Machine(t), exact)) => {
                    if takes(t) {
                        self.cache(engine, entry, ret_code(ret));
                    }
                    return exact.then_some(t);
                }
                // A generic result is checked at each call.
                Ok((entry, ret @ TypedRet::Generic, _)) => self.cache(engine, entry, ret_code(ret)),
                Ok((_, TypedRet::Never, _)) | Err(_) => {}
            }
        }
        let _ = (engine, machine, takes);
        None
    }

    /// For a call whose cached entry is not current: the entry may still be live
    /// (other code was dropped), or need compiling again (after a redefinition).
    /// Returns whether the entry is current now.
    pub(super) fn relook(
        &self,
        engine: &mut Engine,
        machine: &[Option<ValueType>],
        takes: fn(ValueType) -> bool,
    ) -> bool {
        #[cfg(feature = "jit")]
        if engine.serial == self.engine && usable(engine) {
            let live = match self.generation.load(Ordering::Relaxed) {
                0 => None,
                _ => engine
                    .jit
                    .revalidate(self.spec.load(Ordering::Relaxed), self.id.0, machine),
            };
            match live {
                Some(entry) => self.cache(engine, entry, self.ret()),
                None => {
                    self.generation.store(0, Ordering::Relaxed);
                    let _ = self.refresh(engine, machine, takes);
                }
            }
            return self.is_current(engine);
        }
        let _ = (engine, machine, takes);
        false
    }

    /// A usage error unless `engine` made the handle.
    pub(super) fn check_engine(&self, engine: &Engine) -> Result<()> {
        if engine.serial != self.engine {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("the handle on '{}' belongs to another engine", self.name),
            ));
        }
        Ok(())
    }

    /// The type error of a result of type `got` where a `wanted` was asked for.
    #[cold]
    pub(super) fn wrong_type(&self, got: ValueType, wanted: &str) -> Error {
        Error::new(
            ErrorKind::Type,
            format!(
                "type error: '{}' returned {}, not {wanted}",
                self.name,
                got.name(),
            ),
        )
    }
}

/// Whether handles may enter compiled code in `engine`.
#[cfg(feature = "jit")]
fn usable(engine: &Engine) -> bool {
    engine.options.jit != super::JitMode::Off && engine.options.max_depth >= 1
}
