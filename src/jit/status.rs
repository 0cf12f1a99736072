//! `jit status` / `--stats`: what was compiled, what it cost, what fell back, and why
//! anything was not compiled.

use super::ir::{DeoptReason, SpecKey, Ty};
use super::{Jit, Spec};
use crate::resolve::FuncId;
use std::fmt::Write;

/// A defined function as the status lists it.
pub struct Listed<'a> {
    pub id: FuncId,
    pub name: &'a str,
    pub calls: u64,
}

/// Why compiled code was dropped. (A struct whose fields are all set, rather than an
/// enum with payloads: comparing such enums compiles to conditional moves that read a
/// variant's absent payload, which valgrind reports.)
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Cause {
    kind: CauseKind,
    /// `Deopts`: how often and which.
    text: String,
    /// `Callee`: the callee's key.
    callee: SpecKey,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CauseKind {
    /// Its own guards failed too often.
    Deopts,
    /// Code it calls was dropped.
    Callee,
    /// A function was defined while it called an undefined one, or the function it
    /// calls was redefined.
    Definition,
}

impl Cause {
    fn new(kind: CauseKind, text: String, callee: SpecKey) -> Cause {
        Cause { kind, text, callee }
    }
    pub(super) fn deopts(why: String) -> Cause {
        Cause::new(CauseKind::Deopts, why, SpecKey::default())
    }
    pub(super) fn callee(key: SpecKey) -> Cause {
        Cause::new(CauseKind::Callee, String::new(), key)
    }
    pub(super) fn definition() -> Cause {
        Cause::new(CauseKind::Definition, String::new(), SpecKey::default())
    }
}

/// Code of one specialization dropped for one cause, and how many times.
pub(super) struct Dropped {
    args: Vec<Ty>,
    cause: Cause,
    times: u64,
}

/// Causes kept per function (the oldest go first).
const DROPPED_KEPT: usize = 8;

impl Dropped {
    pub(super) fn record(list: &mut Vec<Dropped>, args: &[Ty], cause: Cause) {
        match list.iter_mut().find(|d| d.args == args && d.cause == cause) {
            Some(d) => d.times += 1,
            None => {
                if list.len() == DROPPED_KEPT {
                    list.remove(0);
                }
                list.push(Dropped {
                    args: args.to_vec(),
                    cause,
                    times: 1,
                });
            }
        }
    }
}

/// What the totals say about the functions that became hot.
#[derive(Default)]
pub struct Summary {
    /// Defined functions that became hot, and those of them that were compiled and
    /// never refused (for no argument types, and not after deopts).
    pub hot: usize,
    pub hot_compiled: usize,
    /// Calls of hot functions, after they became hot, that ran in the interpreter
    /// without entering compiled code (no code for their types: refused, or waiting).
    pub interpreted: u64,
}

fn types(args: &[Ty]) -> String {
    args.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

fn signature(name: &str, key: &SpecKey) -> String {
    format!("{name}({})", types(&key.args))
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

impl Jit {
    /// Compiled specializations, calls that entered them, and calls that deoptimized.
    pub fn counts(&self) -> (usize, u64, u64) {
        (
            self.by_key.len(),
            self.total_entries(),
            self.totals.fallbacks,
        )
    }

    /// The machine backend compiled code is for (`x86-64`, `aarch64`), if there is one.
    pub fn backend(&self) -> Option<&'static str> {
        super::backend::available().ok()
    }

    /// Why nothing can be compiled on this machine, if so.
    pub fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    pub(super) fn specs_of(&self, id: FuncId) -> impl Iterator<Item = &Spec> {
        self.funcs
            .get(id.0 as usize)
            .map(|s| s.specs.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.specs[i as usize].as_ref())
    }

    /// Functions that became hot, and calls of them that did not enter compiled code.
    pub fn summary(&self, functions: &[Listed<'_>]) -> Summary {
        let mut sum = Summary::default();
        for f in functions {
            let Some(state) = self.funcs.get(f.id.0 as usize) else {
                continue;
            };
            let Some(before) = state.hot_after else {
                continue;
            };
            sum.hot += 1;
            let refused = !state.refused.is_empty() || state.other.is_some();
            sum.hot_compiled += (state.compiled && !refused) as usize;
            sum.interpreted += f.calls.saturating_sub(before).saturating_sub(state.entered);
        }
        sum
    }

    /// Writes the per-function lines and the totals.
    pub fn status(&self, out: &mut String, functions: &[Listed<'_>]) {
        let _ = writeln!(
            out,
            "code memory: {} bytes in use, limit {} bytes",
            self.arena.used(),
            self.arena.limit()
        );
        for f in functions {
            let _ = writeln!(out, "  {}: {} calls", f.name, f.calls);
            for s in self.specs_of(f.id) {
                let typed = self
                    .by_key
                    .get(&s.key)
                    .map_or(0, |&id| self.entries_typed(id));
                let deopts: Vec<String> = DeoptReason::ALL
                    .iter()
                    .filter(|r| s.deopts[**r as usize] > 0)
                    .map(|r| format!("{} {}", s.deopts[*r as usize], r.name()))
                    .collect();
                let native = match &s.native {
                    None => String::new(),
                    Some(Ok(n)) => format!(" (native function for typed calls: {} bytes)", n.bytes),
                    Some(Err(why)) => format!(" (no native function for typed calls: {why})"),
                };
                let _ = writeln!(
                    out,
                    "    {} -> {}: compiled in {:.1} us, {} bytes{native}, {} entries ({} fell back), deopts: {}",
                    signature(f.name, &s.key),
                    s.ret.name(),
                    s.compile_us,
                    s.code_bytes,
                    s.entries + typed,
                    s.fallbacks,
                    if deopts.is_empty() { "none".to_string() } else { deopts.join(", ") }
                );
            }
            if let Some(state) = self.funcs.get(f.id.0 as usize) {
                for (args, why) in &state.refused {
                    let _ = writeln!(out, "    {}({}) not compiled: {why}", f.name, types(args));
                }
                if let Some(why) = &state.other {
                    let _ = writeln!(out, "    not compiled for some calls: {why}");
                }
                for d in &state.dropped {
                    let cause = match d.cause.kind {
                        CauseKind::Deopts => d.cause.text.clone(),
                        CauseKind::Callee => {
                            let key = &d.cause.callee;
                            let name = functions
                                .iter()
                                .find(|g| g.id == key.func)
                                .map_or("(a function since redefined)", |g| g.name);
                            format!("calls {}, whose code was dropped", signature(name, key))
                        }
                        CauseKind::Definition => "a function it calls was defined".to_string(),
                    };
                    let times = if d.times == 1 {
                        String::new()
                    } else {
                        format!(" {} times", d.times)
                    };
                    let _ = writeln!(
                        out,
                        "    {}({}) code dropped{times}: {cause}",
                        f.name,
                        types(&d.args)
                    );
                }
            }
        }
        let t = &self.totals;
        let sum = self.summary(functions);
        let entries = self.total_entries();
        let _ = writeln!(
            out,
            "totals: {} specializations live ({} compiled, {} discarded); {} functions became hot, \
             {} of them compiled (compile success rate {}); {} calls entered compiled code, {} of them \
             finished in the interpreter after a deopt; {} calls of hot functions ran in the interpreter \
             without entering (fallback rate {})",
            self.by_key.len(),
            t.compiled,
            t.discarded,
            sum.hot,
            sum.hot_compiled,
            percent(sum.hot_compiled as u64, sum.hot as u64),
            entries,
            t.fallbacks,
            sum.interpreted,
            percent(t.fallbacks + sum.interpreted, entries + sum.interpreted)
        );
    }
}
