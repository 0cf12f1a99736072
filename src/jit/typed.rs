//! What typed handles (`Engine::typed`) need from the JIT: a specialization for
//! argument types known in Rust, and an entry that takes argument words directly,
//! without `Value`s or a specialization lookup.

use super::{Jit, MAX_SPECS};
use crate::interp::profile::Profile;
use crate::interp::tier::Program;
use crate::jit::ir::{SpecKey, Ty};
use crate::resolve::FuncId;
use crate::value::ValueType;

/// A compiled specialization as a typed handle remembers it. Spec ids are not reused
/// until `jit clear`, which starts a new epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedSpec {
    id: u32,
    epoch: u32,
}

impl TypedSpec {
    /// Packed into one word, so that a handle can cache it in an atomic.
    pub fn pack(self) -> u64 {
        (u64::from(self.epoch) << 32) | u64::from(self.id)
    }
    pub fn unpack(word: u64) -> TypedSpec {
        TypedSpec {
            id: word as u32,
            epoch: (word >> 32) as u32,
        }
    }
}

/// How a typed entry went.
pub enum TypedRun {
    /// The result's bits.
    Returned(u64),
    /// A guard failed: the interpreter must run the call.
    Deoptimized,
    /// The specialization is gone (redefinition, discarded after deopts, `jit clear`).
    Gone,
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
            epoch: self.epoch,
        };
        Ok((spec, ret))
    }

    /// Enters `spec`, a specialization of `func` whose argument types `words` has,
    /// at call depth 1, if it is still live.
    #[inline]
    pub fn run_typed(
        &mut self,
        profiles: &mut [Profile],
        spec: TypedSpec,
        func: u32,
        words: &[u64],
        max_depth: u32,
    ) -> TypedRun {
        let live = spec.epoch == self.epoch
            && self
                .specs
                .get(spec.id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|s| s.key.func.0 == func && s.key.args.len() == words.len());
        if !live {
            return TypedRun::Gone;
        }
        match self.run_words(profiles, spec.id, words, max_depth, 1) {
            Some(bits) => TypedRun::Returned(bits),
            None => TypedRun::Deoptimized,
        }
    }
}
