//! The JIT: specializations of hot functions compiled to machine code, entered from
//! the interpreter through [`Tier`], left through deopt exits.
//!
//! A specialization is a function and the types of its arguments ([`SpecKey`]). It
//! is compiled together with every specialization it calls that is not compiled yet
//! (one batch: one type pass, one arena install). Compiled code calls other
//! specializations through their entry slots. When a guard fails, the whole chain of
//! compiled frames is dropped and the interpreter reruns the call it had offered.

mod backend;
pub mod codegen;
mod compile;
mod depth;
mod dump;
mod helpers;
pub mod ir;
pub mod specialize;
mod stack;
mod status;
mod typed;
mod values;

pub use status::Listed;
pub use typed::{TypedEntry, TypedRet};

use crate::interp::interrupt::InterruptWord;
use crate::interp::tier::{Program, Tier};
use crate::resolve::FuncId;
use crate::syntax::ast::Span;
use crate::value::Value;
use codegen::decode_site;
use grizzly_arch::arena::{CodeArena, CodeHandle};
use grizzly_arch::{
    BatchEntry, BatchOut, DirectEntry, JitContext, Trampoline, BATCH_ARGS, STATUS_OK,
};
use ir::{DeoptReason, SpecKey, Ty};
use rustc_hash::FxHashMap;
use stack::stack_limit;
use std::sync::Arc;

/// Specializations one function may hold at once.
pub const MAX_SPECS: usize = 4;
/// Deopts after which a specialization is discarded and its key given up on...
pub const DEOPT_LIMIT: u64 = 16;
/// ...if also more than one in this many calls entering compiled code fall back.
pub const DEOPT_RATIO: u64 = 32;
/// Arguments of an entry from the interpreter passed in a buffer on the stack (more
/// go in a vector).
const FEW_ARGS: usize = 8;

/// One compiled specialization.
struct Spec {
    key: SpecKey,
    ret: Ty,
    /// Every value a call of it gives is a `ret`, deopt or not ([`ir::TFunction::exact`],
    /// its callees included).
    exact: bool,
    handle: CodeHandle,
    entry: *const u8,
    /// The entry address, read by callers' code: a stable heap cell.
    slot: Box<usize>,
    code_bytes: usize,
    compile_us: f64,
    spans: Vec<(u32, Span)>,
    /// The generic constants its code reads in place (at their boxes' addresses):
    /// kept, never read, as long as the code is.
    #[allow(dead_code, clippy::vec_box)]
    constants: Vec<Box<Value>>,
    /// The host functions its code calls at their addresses: kept, never read, as
    /// long as the code is.
    #[allow(dead_code)]
    hosts: Vec<Arc<crate::interp::host::HostFunction>>,
    deopts: [u64; DeoptReason::ALL.len()],
    /// Calls from the interpreter that entered here, and those that deoptimized.
    entries: u64,
    fallbacks: u64,
    /// Specializations whose code calls this one.
    callers: Vec<u32>,
    /// Its code calls a function that was undefined (or had another arity) when it
    /// was compiled: defining any function drops it.
    calls_undefined: bool,
    /// Its code in the platform's convention, for typed handles: compiled at the
    /// first handle's asking (`Err` once it could not be: not a leaf, say).
    native: Option<Result<NativeCode, String>>,
}

impl Spec {
    /// The addresses of its native and batch functions (0 where it has none).
    fn native_addresses(&self) -> (usize, usize) {
        match &self.native {
            Some(Ok(n)) => (n.entry, n.batch),
            _ => (0, 0),
        }
    }
}

/// A specialization compiled as a native (C ABI) function, and as a batch function
/// (installed together).
struct NativeCode {
    handle: CodeHandle,
    entry: usize,
    bytes: usize,
    spans: Vec<(u32, Span)>,
    batch_handle: CodeHandle,
    batch: usize,
}

/// Per function: its live specializations and what was given up on.
#[derive(Default)]
struct FuncState {
    specs: Vec<u32>,
    /// Argument types not compiled, with the reason.
    refused: Vec<(Vec<Ty>, String)>,
    /// Calls made with a value no specialization can take (a string or null).
    other: Option<String>,
    /// Consecutive calls that fell back to the interpreter.
    fallback_streak: u32,
    /// Its calls before it first became hot (`None`: it has not).
    hot_after: Option<u64>,
    /// Calls from the interpreter that entered its compiled code (dropped code included).
    entered: u64,
    /// Whether code was ever compiled for it (as a callee in a batch included).
    compiled: bool,
    /// Why code compiled for it was dropped.
    dropped: Vec<status::Dropped>,
}

#[derive(Default, Clone, Copy)]
struct Totals {
    /// Specializations compiled, callees compiled in the same batch included.
    compiled: u64,
    entries: u64,
    fallbacks: u64,
    discarded: u64,
}

/// A generation no engine has had: a handle that matches one engine's generation
/// cannot belong to another.
fn next_generation() -> u64 {
    static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The ways in from Rust, each installed when first needed: the trampoline
/// (arguments in an array: `Engine::call`) by the first compile, in its batch; the
/// direct entry (arguments in registers) and the batch entry for its argument count
/// (columns of arguments) by the first typed handle that may use them.
#[derive(Default)]
struct Entries {
    trampoline: Option<Trampoline>,
    direct: Option<DirectEntry>,
    /// By argument count: results as words, and as generic values.
    batch: [Option<BatchEntry>; BATCH_ARGS + 1],
    value_batch: [Option<BatchEntry>; BATCH_ARGS + 1],
}

/// The JIT of one engine.
pub struct Jit {
    arena: CodeArena,
    /// The ways in from Rust (each installed when first needed).
    entries: Entries,
    /// Why nothing can be compiled here, if so.
    unavailable: Option<String>,
    /// By spec id; `None` once discarded (ids are not reused).
    specs: Vec<Option<Spec>>,
    by_key: FxHashMap<SpecKey, u32>,
    /// By function id.
    funcs: Vec<FuncState>,
    totals: Totals,
    /// Changes whenever a specialization is discarded (and at `clear`, after which
    /// spec ids restart, and when typed handles must stop entering compiled code):
    /// a typed handle whose cached code has the current generation needs no
    /// liveness check. Unique across engines (see `next_generation`).
    generation: u64,
    /// The context of typed entries.
    ctx: JitContext,
    /// By spec id: entries from typed handles and batch calls (a dense vector, so
    /// that counting costs a typed call one increment).
    typed_entries: Vec<u64>,
    /// Specializations compiled while some callee was undefined (dropped by any definition).
    undefined_callees: Vec<u32>,
    /// Functions with a refusal that names a callee (forgotten at any definition).
    callee_refusals: Vec<u32>,
    /// The stack of generic values, made by the first compile that uses them.
    values: Option<values::ValueStack>,
    /// Compiled code reads it (its address is in the code): kept as long as the code.
    interrupt: Arc<InterruptWord>,
}

// SAFETY: the raw pointers in `Spec` point into the arena this `Jit` owns; nothing is
// shared with other threads, and compiled code runs only on the thread calling `enter`.
unsafe impl Send for Jit {}

impl Jit {
    /// A JIT whose code stops (deoptimizes) when `interrupt` is set.
    pub fn new(limit: usize, interrupt: Arc<InterruptWord>) -> Jit {
        // The process's first clock read maps the kernel's clock pages: a fault worth
        // microseconds that would otherwise land in the first compile's timing.
        let _ = std::time::Instant::now();
        Jit {
            arena: CodeArena::new(limit),
            entries: Entries::default(),
            unavailable: backend::available().err(),
            specs: Vec::new(),
            by_key: FxHashMap::default(),
            funcs: Vec::new(),
            totals: Totals::default(),
            generation: next_generation(),
            ctx: JitContext {
                stack_limit: interrupt.stack_limit_address(),
                ..JitContext::default()
            },
            typed_entries: Vec::new(),
            undefined_callees: Vec::new(),
            callee_refusals: Vec::new(),
            values: None,
            interrupt,
        }
    }

    /// Makes the value stack, unless there is one, and points the context at it.
    fn attach_values(&mut self) {
        let stack = self.values.get_or_insert_with(values::ValueStack::new);
        stack.attach(&mut self.ctx);
    }
}

/// After compiled code running with `ctx` was left: drops the generic values it left
/// on the stack (a deopt, or an error nothing compiled caught, leaves its frames).
#[inline]
fn release_values(values: &mut Option<values::ValueStack>, ctx: &mut JitContext) {
    if let Some(stack) = values {
        let base = stack.base();
        if ctx.values_top != base {
            stack.release_to(ctx, base);
        }
    }
}

impl Jit {
    /// Drops all code and statistics, and returns the memory.
    pub fn clear(&mut self) {
        self.specs.clear();
        self.typed_entries.clear();
        self.by_key.clear();
        self.funcs.clear();
        self.entries = Entries::default();
        self.arena.clear();
        self.totals = Totals::default();
        self.generation = next_generation();
        self.undefined_callees.clear();
        self.callee_refusals.clear();
    }

    /// A function was (re)defined: its code, every specialization that calls it, and
    /// every one compiled while some callee was undefined is dropped; refusals that
    /// may depend on it are forgotten, so hot functions are tried again.
    pub fn invalidate(&mut self, func: FuncId) {
        let mut drop: Vec<u32> = self
            .funcs
            .get(func.0 as usize)
            .map(|s| s.specs.clone())
            .unwrap_or_default();
        // Only the lists below are scanned: a definition costs nothing per compiled
        // function (a program alternating definitions and calls stays linear).
        drop.extend(std::mem::take(&mut self.undefined_callees));
        for id in drop {
            self.discard(id, status::Cause::definition());
        }
        if let Some(state) = self.funcs.get_mut(func.0 as usize) {
            *state = FuncState::default();
        }
        for f in std::mem::take(&mut self.callee_refusals) {
            if let Some(state) = self.funcs.get_mut(f as usize) {
                // Only a reason about a callee can change with another function.
                state.refused.retain(|(_, why)| !why.starts_with("calls "));
            }
        }
    }

    /// Records that specialization arguments `args` of `func` are not compiled.
    fn refuse(&mut self, func: u32, args: Vec<Ty>, why: String) {
        if why.starts_with("calls ") {
            self.callee_refusals.push(func);
        }
        let state = self.state(func);
        if !state.refused.iter().any(|(t, _)| *t == args) {
            state.refused.push((args, why));
        }
    }

    /// Live specializations of one function.
    pub fn spec_count_of(&self, func: FuncId) -> usize {
        self.funcs.get(func.0 as usize).map_or(0, |s| s.specs.len())
    }

    fn state(&mut self, func: u32) -> &mut FuncState {
        let i = func as usize;
        if self.funcs.len() <= i {
            self.funcs.resize_with(i + 1, FuncState::default);
        }
        &mut self.funcs[i]
    }

    /// Drops spec `id` for `cause`, and every spec whose code calls it.
    fn discard(&mut self, id: u32, cause: status::Cause) {
        let mut work = vec![(id, cause)];
        while let Some((id, cause)) = work.pop() {
            let Some(spec) = self.specs.get_mut(id as usize).and_then(Option::take) else {
                continue;
            };
            self.by_key.remove(&spec.key);
            if let Some(state) = self.funcs.get_mut(spec.key.func.0 as usize) {
                state.specs.retain(|&s| s != id);
                status::Dropped::record(&mut state.dropped, &spec.key.args, cause);
            }
            self.arena.release(spec.handle);
            if let Some(Ok(native)) = spec.native {
                self.arena.release(native.handle);
                self.arena.release(native.batch_handle);
            }
            self.totals.discarded += 1;
            self.generation = next_generation();
            let callee = status::Cause::callee(spec.key);
            work.extend(spec.callers.into_iter().map(|c| (c, callee.clone())));
        }
    }

    fn find(&self, func: u32, args: &[Value]) -> Option<u32> {
        let state = self.funcs.get(func as usize)?;
        state.specs.iter().copied().find(|&id| {
            self.specs[id as usize].as_ref().is_some_and(|s| {
                s.key.args.iter().zip(args).all(|(t, v)| {
                    matches!(
                        (t, v),
                        (Ty::Int, Value::Int(_))
                            | (Ty::Float, Value::Float(_))
                            | (Ty::Bool, Value::Bool(_))
                            | (Ty::Value, Value::Str(_) | Value::Null)
                    )
                })
            })
        })
    }

    /// Asks again only after twice as many calls (a function with no code for what it
    /// is called with costs the interpreter one comparison per call).
    fn back_off(&self, program: &mut Program<'_>, func: u32) {
        let p = &mut program.profiles[func as usize];
        let none_live = self
            .funcs
            .get(func as usize)
            .is_none_or(|s| s.specs.is_empty());
        if none_live {
            p.hot_at = p.calls.saturating_mul(2).max(p.calls + 16);
        }
    }

    fn key_of(func: u32, args: &[Value]) -> Result<SpecKey, &'static str> {
        // (Every value has a key now; the `Result` stays for values that may not.)
        let mut types = Vec::with_capacity(args.len());
        for a in args {
            types.push(match a {
                Value::Int(_) => Ty::Int,
                Value::Float(_) => Ty::Float,
                Value::Bool(_) => Ty::Bool,
                Value::Str(_) | Value::Null => Ty::Value,
            });
        }
        Ok(SpecKey {
            func: FuncId(func),
            args: types,
        })
    }

    fn run(
        &mut self,
        program: &mut Program<'_>,
        id: u32,
        args: &[Value],
        depth: u32,
    ) -> Option<Value> {
        let spec = self.specs[id as usize].as_ref()?;
        let (ret, func) = (spec.ret, spec.key.func.0);
        // A generic argument is passed by its address (the callee reads or clones it):
        // `args` outlives the call. The function's generic specialization takes any
        // value so.
        let word = |(a, ty): (&Value, &Ty)| match (a, ty) {
            (_, Ty::Value) => a as *const Value as u64,
            (Value::Int(i), _) => *i as u64,
            (Value::Float(f), _) => f.to_bits(),
            (Value::Bool(b), _) => *b as u64,
            (Value::Str(_) | Value::Null, _) => a as *const Value as u64,
        };
        let pairs = args.iter().zip(&spec.key.args);
        // Few arguments (nearly every call) go in a buffer on the stack.
        let mut few = [0u64; FEW_ARGS];
        let mut many = Vec::new();
        let words: &[u64] = match few.get_mut(..args.len()) {
            Some(buf) => {
                for (w, a) in buf.iter_mut().zip(pairs) {
                    *w = word(a);
                }
                buf
            }
            None => {
                many.extend(pairs.map(word));
                &many
            }
        };
        // SAFETY: `words` are `args` as spec `id`'s argument types take them: machine
        // words where `find` matched them or `compile_new` compiled it for them, and
        // addresses of values that outlive the call for its generic arguments.
        let result = unsafe { self.run_words(id, words, program.max_depth, depth) };
        let bits = match result {
            Ok(bits) => bits,
            Err(site) => {
                if let Some(site) = site {
                    self.fell_back(program.profiles, id, site);
                }
                return None;
            }
        };
        if let Some(state) = self.funcs.get_mut(func as usize) {
            state.fallback_streak = 0;
        }
        Some(match (bits, ret) {
            (bits, Ty::Int) => Value::Int(bits as i64),
            (bits, Ty::Float) => Value::Float(f64::from_bits(bits)),
            (_, Ty::Value) => self.values.as_mut()?.take_ret(),
            (bits, _) => Value::Bool(bits != 0),
        })
    }

    /// Runs specialization `id` (live, and `words` of its argument types) through the
    /// trampoline at call depth `depth`: its result's bits, or the deopt site when it
    /// deoptimized (see `fell_back`), or `Err(None)` when there is nothing to enter.
    /// Either way the caller runs the call in the interpreter.
    ///
    /// # Safety
    /// `words` must hold one argument of spec `id`'s argument types per parameter
    /// (its liveness is checked here).
    #[inline]
    unsafe fn run_words(
        &mut self,
        id: u32,
        words: &[u64],
        max_depth: u32,
        depth: u32,
    ) -> Result<u64, Option<u64>> {
        let (tramp, spec) = match (self.entries.trampoline, self.specs.get_mut(id as usize)) {
            (Some(t), Some(Some(s))) => (t, s),
            _ => return Err(None),
        };
        self.interrupt.arm(stack_limit());
        let mut ctx = JitContext {
            stack_limit: self.interrupt.stack_limit_address(),
            depth_budget: max_depth.saturating_sub(depth) as u64,
            values_top: self.ctx.values_top,
            values_end: self.ctx.values_end,
            value_ret: self.ctx.value_ret,
            ..JitContext::default()
        };
        let mut result = 0u64;
        // The instruction barrier code new to this thread needs (free where there is none).
        self.arena.prepare_for_execution(spec.handle);
        // `spec.entry` is live (looked up above); it leaves by returning or through the
        // trampoline's landing pad.
        // SAFETY: C-ABI trampoline; code of exactly these argument types (the caller's
        // contract); `words` holds `words.len()` words; ctx/result outlive it.
        let status = unsafe {
            tramp(
                spec.entry,
                words.as_ptr(),
                words.len(),
                &mut ctx,
                &mut result,
            )
        };
        spec.entries += 1;
        let (ret, func) = (spec.ret, spec.key.func.0);
        release_values(&mut self.values, &mut ctx);
        self.totals.entries += 1;
        // A live specialization's function has its state (`compile` made it).
        if let Some(state) = self.funcs.get_mut(func as usize) {
            state.entered += 1;
        }
        if status == STATUS_OK && ret != Ty::Never {
            return Ok(result);
        }
        Err(Some(ctx.deopt_site))
    }

    /// A call of spec `id` deoptimized at `site`: the deopt is counted, and since the
    /// interpreter reruns the call, it must not offer the function
    /// again at once (a loop would enter, fail at the same point and fall back at every
    /// iteration): it waits twice as long after each consecutive fallback.
    #[cold]
    fn fell_back(&mut self, profiles: &mut [crate::interp::profile::Profile], id: u32, site: u64) {
        let Some(spec) = self.specs[id as usize].as_mut() else {
            return;
        };
        spec.fallbacks += 1;
        self.totals.fallbacks += 1;
        let func = spec.key.func.0;
        let state = self.state(func);
        state.fallback_streak = (state.fallback_streak + 1).min(40);
        let wait = 16u64 << state.fallback_streak;
        if let Some(p) = profiles.get_mut(func as usize) {
            p.hot_at = p.calls.saturating_add(wait);
        }
        self.deoptimized(id, site);
    }

    /// Entries into compiled code, from every way in.
    fn total_entries(&self) -> u64 {
        self.totals.entries + self.typed_entries.iter().sum::<u64>()
    }

    /// Typed and batch entries of spec `id`.
    fn entries_typed(&self, id: u32) -> u64 {
        self.typed_entries.get(id as usize).copied().unwrap_or(0)
    }

    /// Counts a deopt against the specialization whose guard failed (`entered` is the
    /// one the call entered). The failing one is discarded, and its key given up on,
    /// after `DEOPT_LIMIT` deopts if calls entering `entered` fall back often (more
    /// than one in `DEOPT_RATIO`): nothing cycles between compiled code and deopts.
    fn deoptimized(&mut self, entered: u32, site: u64) {
        let (id, reason) = decode_site(site);
        let often = self.specs[entered as usize].as_ref().is_some_and(|s| {
            s.fallbacks.saturating_mul(DEOPT_RATIO) >= s.entries + self.entries_typed(entered)
        });
        let Some(spec) = self.specs.get_mut(id as usize).and_then(Option::as_mut) else {
            return;
        };
        // (Interrupts say nothing about the code: one makes the host stack look short.)
        let reason = match reason {
            DeoptReason::HostStack if self.interrupt.pending() => DeoptReason::Interrupted,
            r => r,
        };
        spec.deopts[reason as usize] += 1;
        let interrupts = spec.deopts[DeoptReason::Interrupted as usize];
        let total: u64 = spec.deopts.iter().sum::<u64>() - interrupts;
        if total >= DEOPT_LIMIT && often {
            let key = spec.key.clone();
            let why = format!("deoptimized {total} times (last: {})", reason.name());
            self.refuse(key.func.0, key.args, why.clone());
            self.discard(id, status::Cause::deopts(why));
        }
    }

    /// Installs the direct entry and the batch entry for `nargs` arguments, unless
    /// they are; on failure typed handles go through the trampoline or row by row.
    fn install_typed_entries(&mut self, nargs: usize) -> Result<(), String> {
        let mut pieces = Vec::new();
        if self.entries.direct.is_none() {
            pieces.push(backend::direct_entry().map_err(|e| e.0)?);
        }
        // Both batch entries for `nargs`, or neither.
        let batch = self.entries.batch.get(nargs).is_some_and(Option::is_none);
        if batch {
            pieces.push(backend::batch_entry(nargs, BatchOut::Words).map_err(|e| e.0)?);
            pieces.push(backend::batch_entry(nargs, BatchOut::Values).map_err(|e| e.0)?);
        }
        let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let mut handles = self.arena.install(&slices).map_err(|e| e.to_string())?;
        // The pieces stay installed until `clear`, which drops `self.entries` too.
        if batch {
            for table in [&mut self.entries.value_batch, &mut self.entries.batch] {
                let entry = handles.pop().map(|h| self.arena.entry(h));
                // SAFETY: the piece is a batch entry for `nargs` arguments (the one this
                // table holds), with exactly the `BatchEntry` signature and ABI.
                table[nargs] =
                    entry.map(|e| unsafe { std::mem::transmute::<*const u8, BatchEntry>(e) });
            }
        }
        if let Some(h) = handles.pop() {
            let entry = self.arena.entry(h);
            // SAFETY: the piece is the direct entry, with exactly the `DirectEntry`
            // signature and ABI.
            self.entries.direct =
                Some(unsafe { std::mem::transmute::<*const u8, DirectEntry>(entry) });
        }
        Ok(())
    }
}

impl Tier for Jit {
    fn enter(
        &mut self,
        mut program: Program<'_>,
        func: u32,
        args: &[Value],
        depth: u32,
    ) -> Option<Value> {
        let state = self.state(func);
        if state.hot_after.is_none() {
            // This call is counted already.
            let calls = program.profiles.get(func as usize).map_or(1, |p| p.calls);
            state.hot_after = Some(calls.saturating_sub(1));
        }
        let id = match self.find(func, args) {
            Some(id) => id,
            None => {
                let key = match Self::key_of(func, args) {
                    Ok(k) => k,
                    Err(why) => {
                        self.state(func).other = Some(why.to_string());
                        self.back_off(&mut program, func);
                        return None;
                    }
                };
                match self.compile_new(&program, key) {
                    Ok(id) => id,
                    Err(_) => {
                        self.back_off(&mut program, func);
                        return None;
                    }
                }
            }
        };
        self.run(&mut program, id, args, depth)
    }
}
