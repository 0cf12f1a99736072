//! What typed handles (`Engine::typed`) need from the JIT: a specialization for
//! argument types known in Rust, and an entry that takes argument words directly,
//! without `Value`s or a specialization lookup.

use super::{stack_limit, Jit, MAX_SPECS};
use crate::interp::profile::Profile;
use crate::interp::tier::Program;
use crate::jit::ir::{SpecKey, Ty};
use crate::resolve::FuncId;
use crate::value::ValueType;
use grizzly_arch::{JitContext, DIRECT_ARGS, NO_DEOPT};

/// A compiled specialization as a typed handle remembers it: its id and the JIT's
/// generation when it was last known to be live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedSpec {
    id: u32,
    generation: u32,
}

impl TypedSpec {
    /// Packed into one word, so that a handle can cache it in an atomic.
    pub fn pack(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.id)
    }
    pub fn unpack(word: u64) -> TypedSpec {
        TypedSpec {
            id: word as u32,
            generation: (word >> 32) as u32,
        }
    }
}

fn ty_of(t: ValueType) -> Option<Ty> {
    match t {
        ValueType::Int => Some(Ty::Int),
        ValueType::Float => Some(Ty::Float),
        ValueType::Bool => Some(Ty::Bool),
        ValueType::Str | ValueType::Null => None,
    }
}

impl Jit {
    /// The specialization of `func` for `types`, compiled now unless it exists, and
    /// its result type (`None` when every call deoptimizes); `Err` says why not.
    pub fn typed_spec(
        &mut self,
        program: Program<'_>,
        func: u32,
        types: &[ValueType],
    ) -> Result<(TypedSpec, Option<ValueType>), String> {
        let args = types
            .iter()
            .map(|&t| ty_of(t).ok_or("only int, float and bool arguments are compiled"))
            .collect::<Result<Vec<Ty>, _>>()?;
        let key = SpecKey {
            func: FuncId(func),
            args,
        };
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => {
                let state = self.state(func);
                if let Some((_, why)) = state.refused.iter().find(|(t, _)| *t == key.args) {
                    return Err(why.clone());
                }
                if state.specs.len() >= MAX_SPECS {
                    return Err(format!("more than {MAX_SPECS} argument type combinations"));
                }
                self.totals.attempted += 1;
                match self.compile(&program, key.clone()) {
                    Ok(id) => {
                        self.totals.succeeded += 1;
                        id
                    }
                    Err(why) => {
                        self.refuse(func, key.args, why.clone());
                        return Err(why);
                    }
                }
            }
        };
        let ret = match self.specs[id as usize].as_ref().map(|s| s.ret) {
            Some(Ty::Int) => Some(ValueType::Int),
            Some(Ty::Float) => Some(ValueType::Float),
            Some(Ty::Bool) => Some(ValueType::Bool),
            _ => None,
        };
        let spec = TypedSpec {
            id,
            generation: self.generation,
        };
        Ok((spec, ret))
    }

    /// Whether `spec` is certainly live: nothing was discarded since it was cached.
    #[inline]
    pub fn is_current(&self, spec: TypedSpec) -> bool {
        spec.generation == self.generation
    }

    /// `spec`, cached before some discard, as a current spec if it is still the live
    /// specialization of `func` for `types`.
    pub fn revalidate(&self, spec: TypedSpec, func: u32, types: &[ValueType]) -> Option<TypedSpec> {
        let live = self.specs.get(spec.id as usize)?.as_ref()?;
        let same = live.key.func.0 == func
            && live.key.args.len() == types.len()
            && live
                .key
                .args
                .iter()
                .zip(types)
                .all(|(&t, &v)| ty_of(v) == Some(t));
        same.then_some(TypedSpec {
            id: spec.id,
            generation: self.generation,
        })
    }

    /// Enters `spec` (current: see [`Jit::is_current`]) at call depth 1 with `words`
    /// of its argument types: the result's bits, or `None` when it deoptimized.
    #[inline]
    pub fn run_typed(
        &mut self,
        profiles: &mut [Profile],
        spec: TypedSpec,
        words: &[u64],
        max_depth: u32,
    ) -> Option<u64> {
        debug_assert!(self.is_current(spec));
        if words.len() > DIRECT_ARGS {
            return self.run_words(profiles, spec.id, words, max_depth, 1);
        }
        let (direct, code) = match (&self.entries, self.specs.get_mut(spec.id as usize)) {
            (Some(e), Some(Some(code))) => (e.direct, code),
            _ => return None,
        };
        let mut ctx = JitContext {
            stack_limit: stack_limit(),
            depth_budget: max_depth.saturating_sub(1) as u64,
            deopt_site: NO_DEOPT,
            ..JitContext::default()
        };
        if cfg!(target_arch = "aarch64") {
            // The instruction barrier code new to this thread needs (free elsewhere).
            self.arena.prepare_for_execution(code.handle);
        }
        let mut a = [0u64; DIRECT_ARGS];
        a[..words.len()].copy_from_slice(words);
        // `code.entry` is live code for exactly these argument types (the spec is
        // current); it leaves by returning or through the direct entry's landing pad.
        // SAFETY: C-ABI direct entry; the words are passed by value; ctx outlives it.
        let bits = unsafe { direct(&mut ctx, code.entry, a[0], a[1], a[2], a[3]) };
        code.entries += 1;
        self.totals.entries += 1;
        if ctx.deopt_site == NO_DEOPT && code.ret != Ty::Never {
            return Some(bits);
        }
        let site = if ctx.deopt_site == NO_DEOPT {
            0
        } else {
            ctx.deopt_site
        };
        self.fell_back(profiles, spec.id, site);
        None
    }
}
