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
    /// Compiled specializations, calls that entered them, and calls that fell back.
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
            }
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "totals: {} specializations live ({} compiled, {} discarded); {} of {} compiles succeeded \
             (compile success rate {}); {} calls entered compiled code, {} finished in the interpreter \
             (fallback rate {})",
            self.by_key.len(),
            t.compiled,
            t.discarded,
            t.succeeded,
            t.attempted,
            percent(t.succeeded, t.attempted),
            self.total_entries(),
            t.fallbacks,
            percent(t.fallbacks, self.total_entries())
        );
    }
}
