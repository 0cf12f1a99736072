//! How the interpreter hands a hot call to a compiled tier. The interpreter knows only
//! this trait; the JIT implements it (and depends on the interpreter, not the reverse).

use super::profile::Profile;
use super::Function;
use crate::value::Value;
use std::sync::Arc;

/// What a tier may read (and the profiles it may adjust) when it is entered.
// Read by the JIT, the only tier: unread without it.
#[cfg_attr(not(feature = "jit"), allow(dead_code))]
pub struct Program<'a> {
    /// By function id.
    pub functions: &'a [Option<Arc<Function>>],
    /// By function id.
    pub names: &'a [Arc<str>],
    /// By function id. A tier moves `hot_at` to say when it wants to be asked again.
    pub profiles: &'a mut [Profile],
    pub max_depth: u32,
    /// The host functions, by id.
    pub hosts: &'a [Arc<super::host::HostFunction>],
}

pub trait Tier {
    /// Runs function `func` with `args` (arity already checked) at call depth `depth`
    /// (within the limit) in compiled code, if it can. `None`: the interpreter runs
    /// the call, because there is no code for these argument types or the code
    /// deoptimized (then the interpreter, rerunning the call, raises any error).
    fn enter(
        &mut self,
        program: Program<'_>,
        func: u32,
        args: &[Value],
        depth: u32,
    ) -> Option<Value>;
}
