//! What typed handles (`Engine::typed`) need from the JIT: a specialization for
//! argument types known in Rust, and a way in that takes argument words directly,
//! without `Value`s or a specialization lookup: for a leaf, the specialization
//! compiled as a native (C ABI) function, called like a Rust `extern "C" fn`; for
//! anything else, the direct entry stub.

use super::{next_generation, stack_limit, Jit};
use crate::interp::profile::Profile;
use crate::interp::tier::Program;
use crate::jit::ir::{SpecKey, Ty};
use crate::resolve::FuncId;
use crate::value::ValueType;
use grizzly_arch::arena::NEEDS_BARRIER;
use grizzly_arch::{BatchOut, NativeBatch, NativeEntry, DIRECT_ARGS, NO_DEOPT};

/// What a typed handle caches of its compiled specialization: valid while the JIT's
/// generation is the one the handle cached with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedEntry {
    /// The spec id.
    pub id: u32,
    /// The compiled code's entry address.
    pub code: usize,
    /// The address of its native (C ABI) function, 0 if it has none.
    pub native: usize,
    /// The address of its batch function, 0 if it has none.
    pub batch: usize,
}

/// What a typed entry's compiled code returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedRet {
    /// A machine value of this type, as bits.
    Machine(ValueType),
    /// A generic value, left in the context's `value_ret` ([`Jit::take_value_ret`]).
    Generic,
    /// Nothing: every call deoptimizes.
    Never,
}

/// The specialization key's type of an argument passed as machine type `t` (`None`:
/// a generic value, passed by address).
fn ty_of(t: Option<ValueType>) -> Ty {
    match t {
        Some(ValueType::Int) => Ty::Int,
        Some(ValueType::Float) => Ty::Float,
        Some(ValueType::Bool) => Ty::Bool,
        Some(ValueType::Str | ValueType::Null) | None => Ty::Value,
    }
}

impl Jit {
    /// The specialization of `func` for arguments of machine types `types` (`None`: a
    /// generic value), compiled now unless it exists, what its compiled code returns,
    /// and whether every value a call gives has that type (see `Spec::exact`); `Err`
    /// says why not.
    pub fn typed_spec(
        &mut self,
        program: Program<'_>,
        func: u32,
        types: &[Option<ValueType>],
    ) -> Result<(TypedEntry, TypedRet, bool), String> {
        let key = SpecKey {
            func: FuncId(func),
            args: types.iter().map(|&t| ty_of(t)).collect(),
        };
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => self.compile_new(&program, key.clone())?,
        };
        // (Not the generic specialization standing in: its arguments are generic.)
        if self.specs[id as usize]
            .as_ref()
            .is_some_and(|s| s.key != key)
        {
            return Err(format!(
                "more than {} argument type combinations",
                super::MAX_SPECS
            ));
        }
        // A function with no native code is still entered, through the direct entry
        // (or, should it not install, the trampoline).
        let (native, batch) = self.native_entry(&program, id).unwrap_or((0, 0));
        let _ = self.install_typed_entries(types.len());
        let Some(spec) = self.specs[id as usize].as_ref() else {
            return Err("discarded".into());
        };
        let exact = spec.exact;
        let ret = match spec.ret {
            Ty::Int => TypedRet::Machine(ValueType::Int),
            Ty::Float => TypedRet::Machine(ValueType::Float),
            Ty::Bool => TypedRet::Machine(ValueType::Bool),
            Ty::Never => TypedRet::Never,
            Ty::Value => TypedRet::Generic,
        };
        let spec = TypedEntry {
            id,
            code: spec.entry as usize,
            native,
            batch,
        };
        Ok((spec, ret, exact))
    }

    /// The generic value the last typed entry returned (`TypedRet::Generic`).
    pub fn take_value_ret(&mut self) -> crate::value::Value {
        self.values
            .as_mut()
            .map(|v| v.take_ret())
            .unwrap_or_default()
    }

    /// Typed handles whose code was cached with this generation may enter it.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Typed handles must look again before entering compiled code (the JIT was
    /// turned off, say).
    pub fn invalidate_typed(&mut self) {
        self.generation = next_generation();
    }

    /// Spec `id` as an entry, if it is still the live specialization of `func` for
    /// `types` (a handle cached it in an earlier generation).
    pub fn revalidate(
        &self,
        id: u32,
        func: u32,
        types: &[Option<ValueType>],
    ) -> Option<TypedEntry> {
        let live = self.specs.get(id as usize)?.as_ref()?;
        let same = live.key.func.0 == func
            && live.key.args.len() == types.len()
            && live
                .key
                .args
                .iter()
                .zip(types)
                .all(|(&t, &v)| ty_of(v) == t);
        let (native, batch) = live.native_addresses();
        same.then_some(TypedEntry {
            id,
            code: live.entry as usize,
            native,
            batch,
        })
    }

    /// Calls `entry`'s native function with `words` of its argument types: the
    /// result's bits, or the deopt site (give it to [`Jit::typed_fell_back`]; the
    /// caller runs the call in the interpreter).
    ///
    /// # Safety
    /// `entry` must come from this JIT ([`Jit::typed_spec`] or [`Jit::revalidate`])
    /// in its current [`generation`](Jit::generation), so that its code is live; it
    /// must have a native function (`entry.native != 0`); and `words` must hold
    /// arguments of its argument types, the unused ones zero.
    #[inline(always)]
    pub unsafe fn run_native(
        &mut self,
        entry: TypedEntry,
        words: [u64; DIRECT_ARGS],
    ) -> Result<u64, u64> {
        self.barrier(entry.id, true);
        // SAFETY: (the caller's contract) a live leaf of exactly these argument types
        // with the `NativeEntry` signature and ABI: it takes four words by value,
        // touches no memory of ours and returns, deopt or not.
        let r = unsafe {
            let f = std::mem::transmute::<usize, NativeEntry>(entry.native);
            f(words[0], words[1], words[2], words[3])
        };
        if let Some(n) = self.typed_entries.get_mut(entry.id as usize) {
            *n += 1;
        }
        match r.site {
            NO_DEOPT => Ok(r.bits),
            site => Err(site),
        }
    }

    /// Enters `entry` at call depth 1 with `words` of its argument types: the
    /// result's bits, or the deopt site when it deoptimized (give it to
    /// [`Jit::typed_fell_back`]), or `Err(None)` when there is nothing to enter.
    /// Either way the caller runs the call in the interpreter.
    ///
    /// # Safety
    /// `entry` must come from this JIT in its current [`generation`](Jit::generation),
    /// and `words` must hold one argument of its argument types per parameter (for a
    /// generic one, the address of a `Value` that outlives the call). A generic result
    /// is then in [`Jit::take_value_ret`].
    #[inline(always)]
    pub unsafe fn run_typed(
        &mut self,
        entry: TypedEntry,
        words: &[u64],
        max_depth: u32,
    ) -> Result<u64, Option<u64>> {
        let direct = match self.entries.direct {
            Some(d) if words.len() <= DIRECT_ARGS => d,
            // SAFETY: spec `entry.id` is live (current generation) and `words` are of
            // its argument types (the caller's contract).
            _ => return unsafe { self.run_words(entry.id, words, max_depth, 1) },
        };
        self.barrier(entry.id, false);
        self.interrupt.arm(stack_limit());
        self.ctx.depth_budget = max_depth.saturating_sub(1) as u64;
        self.ctx.deopt_site = NO_DEOPT;
        let mut a = [0u64; DIRECT_ARGS];
        a[..words.len()].copy_from_slice(words);
        // SAFETY: C-ABI direct entry; `entry.code` is live code of exactly these argument
        // types (the caller's contract); it leaves by returning or through the direct
        // entry's landing pad; the words are passed by value; ctx outlives the call.
        let bits = unsafe {
            direct(
                &mut self.ctx,
                entry.code as *const u8,
                a[0],
                a[1],
                a[2],
                a[3],
            )
        };
        if let Some(n) = self.typed_entries.get_mut(entry.id as usize) {
            *n += 1;
        }
        match self.ctx.deopt_site {
            NO_DEOPT => Ok(bits),
            site => {
                super::release_values(&mut self.values, &mut self.ctx);
                Err(Some(site))
            }
        }
    }

    /// Calls `entry`'s native function once per row of `rows` (argument words of its
    /// types), writing the results' bits from `out` on, until a row deoptimizes: the
    /// rows done, and that row's deopt site (give it to [`Jit::typed_fell_back`]; that
    /// row is not done).
    ///
    /// # Safety
    /// As for [`Jit::run_native`], every row being its `words`; `out` must be valid
    /// for writing as many words as there are rows.
    #[inline(always)]
    pub unsafe fn run_native_rows(
        &mut self,
        entry: TypedEntry,
        rows: impl Iterator<Item = [u64; DIRECT_ARGS]>,
        out: *mut u64,
    ) -> (usize, Option<u64>) {
        self.barrier(entry.id, true);
        // SAFETY: (the caller's contract) a live leaf of exactly these argument types
        // with the `NativeEntry` signature and ABI.
        let f = unsafe { std::mem::transmute::<usize, NativeEntry>(entry.native) };
        let mut done = 0;
        let mut deopt = None;
        for w in rows {
            // SAFETY: a C-ABI function taking four words by value, as in `run_native`.
            let r = unsafe { f(w[0], w[1], w[2], w[3]) };
            if r.site != NO_DEOPT {
                deopt = Some(r.site);
                break;
            }
            // SAFETY: one word per row fits (the caller's contract).
            unsafe { out.add(done).write(r.bits) };
            done += 1;
        }
        let entered = done as u64 + u64::from(deopt.is_some());
        if let Some(n) = self.typed_entries.get_mut(entry.id as usize) {
            *n += entered;
        }
        (done, deopt)
    }

    /// Runs `entry`'s batch function over `columns` (one per argument, `rows` words
    /// each, of its argument types), writing the results' bits to `out`: the rows
    /// done, and the deopt site of the next row when it deoptimized (give it to
    /// [`Jit::typed_fell_back`]).
    ///
    /// # Safety
    /// `entry` must come from this JIT in its current [`generation`](Jit::generation)
    /// and have a batch function (`entry.batch != 0`); there must be one column per
    /// parameter, of its type; every column must be valid for reading, and `out` for
    /// writing, `rows` words.
    pub unsafe fn run_native_batch(
        &mut self,
        entry: TypedEntry,
        columns: &[*const u64],
        rows: usize,
        out: *mut u64,
    ) -> (usize, Option<u64>) {
        self.barrier(entry.id, true);
        // SAFETY: (the caller's contract) a live leaf of these columns' types as a batch
        // function, with the `NativeBatch` signature and ABI, and columns and `out`
        // valid for `rows` words.
        let r = unsafe {
            let f = std::mem::transmute::<usize, NativeBatch>(entry.batch);
            f(columns.as_ptr(), rows, out)
        };
        let done = r.bits as usize;
        let deopt = (r.site != NO_DEOPT).then_some(r.site);
        if let Some(n) = self.typed_entries.get_mut(entry.id as usize) {
            *n += done as u64 + u64::from(deopt.is_some());
        }
        (done, deopt)
    }

    /// Runs `entry` once per row over `columns` (one per argument, `rows` words each,
    /// of its argument types), putting the results in `out` as `results` says (their
    /// bits, or the generic values moved out of `value_ret`): the rows done, and the
    /// deopt site of the next row when it deoptimized (give it to
    /// [`Jit::typed_fell_back`]); `None` if it cannot start (more columns than a batch
    /// entry takes).
    ///
    /// # Safety
    /// `entry` must come from this JIT in its current [`generation`](Jit::generation),
    /// returning generic values if and only if `results` is `Values`; there must be
    /// one column per parameter, of its type; every column must be valid for reading
    /// `rows` words, and `out` for writing `rows` results (`Values`: 16-byte values,
    /// overwritten, not dropped).
    pub unsafe fn run_batch(
        &mut self,
        entry: TypedEntry,
        columns: &[*const u64],
        rows: usize,
        out: *mut u64,
        max_depth: u32,
        results: BatchOut,
    ) -> Option<(usize, Option<u64>)> {
        let table = match results {
            BatchOut::Words => &self.entries.batch,
            BatchOut::Values => &self.entries.value_batch,
        };
        let batch = (*table.get(columns.len())?)?;
        if results == BatchOut::Values {
            // The stub moves each row's value out of `value_ret`, which must be `null`.
            drop(self.take_value_ret());
        }
        self.barrier(entry.id, false);
        self.interrupt.arm(stack_limit());
        self.ctx.depth_budget = max_depth.saturating_sub(1) as u64;
        self.ctx.deopt_site = NO_DEOPT;
        // It leaves each row by returning, or the batch through the landing pad.
        // SAFETY: C-ABI batch entry for this many columns; `entry.code` is live code of
        // these argument types, and the columns and `out` are valid (the caller's
        // contract); ctx outlives the call.
        let done = unsafe {
            batch(
                &mut self.ctx,
                entry.code as *const u8,
                columns.as_ptr(),
                rows,
                out,
            )
        };
        let deopted = done < rows;
        if deopted {
            super::release_values(&mut self.values, &mut self.ctx);
        }
        let entered = done as u64 + u64::from(deopted);
        if let Some(n) = self.typed_entries.get_mut(entry.id as usize) {
            *n += entered;
        }
        Some((done, deopted.then_some(self.ctx.deopt_site)))
    }

    /// A typed entry of spec `id` deoptimized at `site`: the interpreter reruns the call.
    #[cold]
    pub fn typed_fell_back(&mut self, profiles: &mut [Profile], id: u32, site: u64) {
        self.fell_back(profiles, id, site);
    }

    /// The instruction barrier code new to this thread needs, where the arena says
    /// there is one: spec `id`'s compiled code, or its native function.
    #[inline(always)]
    fn barrier(&self, id: u32, native: bool) {
        // A constant: elsewhere (x86-64) not even the lookup is left.
        if !NEEDS_BARRIER {
            return;
        }
        if let Some(Some(spec)) = self.specs.get(id as usize) {
            // The native and batch functions share their pages.
            let handle = match &spec.native {
                Some(Ok(n)) if native => n.handle,
                _ => spec.handle,
            };
            self.arena.prepare_for_execution(handle);
        }
    }
}
