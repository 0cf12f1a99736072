//! Compiling: a specialization and every callee not compiled yet, in one batch (one
//! type pass, code generation for each, one install into executable memory).

use super::codegen::Linkage;
use super::ir::{SpecKey, Ty};
use super::specialize;
use super::{backend, codegen, Jit, NativeCode, Spec, MAX_SPECS};
use crate::interp::tier::Program;
use crate::interp::Function;
use crate::resolve::{FuncId, Resolved};
use crate::value::Value;
use grizzly_arch::{Convention, Trampoline, DIRECT_ARGS};
use std::sync::Arc;
use std::time::Instant;

impl Jit {
    /// Compiles `key`, a specialization not compiled yet, unless it was refused; a
    /// failed compile is refused from then on. When its function holds `MAX_SPECS`
    /// already, the function's generic specialization (compiled now unless it exists)
    /// stands in: the id returned may be of another key, whose arguments are generic.
    /// `Err` says why it is not compiled.
    pub(super) fn compile_new(
        &mut self,
        program: &Program<'_>,
        key: SpecKey,
    ) -> Result<u32, String> {
        let state = self.state(key.func.0);
        if let Some((_, why)) = state.refused.iter().find(|(t, _)| *t == key.args) {
            return Err(why.clone());
        }
        let generic = SpecKey {
            func: key.func,
            args: vec![Ty::Value; key.args.len()],
        };
        if state.specs.len() >= MAX_SPECS && key != generic {
            // The function's generic specialization (every argument a generic value)
            // takes the calls of every further combination of types.
            if let Some(&id) = self.by_key.get(&generic) {
                return Ok(id);
            }
            return self.compile_new(program, generic);
        }
        match self.compile(program, key.clone()) {
            Ok(id) => Ok(id),
            Err(why) => {
                self.refuse(key.func.0, key.args, why.clone());
                Err(why)
            }
        }
    }

    /// The one-time setup, ahead of the first compile: maps code memory and installs the
    /// entry trampoline (with two views, the first compiled batches share its page, so
    /// they touch no new page either). A failure is left to the first compile to report.
    pub fn prepare(&mut self) {
        if self.unavailable.is_some() || self.entries.trampoline.is_some() {
            return;
        }
        let Ok(code) = backend::trampoline() else {
            return;
        };
        if let Ok(handle) = self.arena.install_one(&code) {
            let entry = self.arena.entry(handle);
            // It stays installed until `clear`, which drops `self.entries` too.
            // SAFETY: the piece is the trampoline, with exactly the `Trampoline`
            // signature and ABI.
            self.entries.trampoline =
                Some(unsafe { std::mem::transmute::<*const u8, Trampoline>(entry) });
        }
    }

    /// Compiles `root` and the specializations it needs; returns root's id.
    pub(super) fn compile(&mut self, program: &Program<'_>, root: SpecKey) -> Result<u32, String> {
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        let start = Instant::now();
        let view = View {
            functions: program.functions,
            names: program.names,
            hosts: program.hosts,
            jit: self,
        };
        let tfs = specialize::specialize(&root, &view).map_err(|r| r.reason)?;
        let first = self.specs.len() as u32;
        let slots: Vec<Box<usize>> = tfs.iter().map(|_| Box::new(0usize)).collect();
        let batch: Vec<(&SpecKey, *const usize)> = tfs
            .iter()
            .zip(&slots)
            .map(|(f, slot)| (&f.key, &**slot as *const usize))
            .collect();
        if tfs.iter().any(|f| f.facts.generic) {
            self.attach_values();
        }
        let link = Link {
            batch: &batch,
            jit: self,
            hosts: program.hosts,
        };
        let mut emitted = Vec::with_capacity(tfs.len());
        let mut times = Vec::with_capacity(tfs.len());
        for (i, f) in tfs.iter().enumerate() {
            let t = Instant::now();
            let e = backend::generate(f, first + i as u32, &link, Convention::Jit)
                .map_err(|e| format!("code generation failed: {e}"))?;
            times.push(t.elapsed().as_secs_f64() * 1e6);
            emitted.push(e);
        }
        // The first compile installs the trampoline in its batch (one install).
        let trampoline = match self.entries.trampoline {
            Some(_) => None,
            None => Some(backend::trampoline().map_err(|e| e.0)?),
        };
        let pieces: Vec<&[u8]> = trampoline
            .iter()
            .chain(emitted.iter().map(|e| &e.code))
            .map(Vec::as_slice)
            .collect();
        let mut handles = self.arena.install(&pieces).map_err(|e| e.to_string())?;
        if trampoline.is_some() {
            let entry = self.arena.entry(handles.remove(0));
            // It stays installed until `clear`, which drops `self.entries` too.
            // SAFETY: the piece is the trampoline, with exactly the `Trampoline`
            // signature and ABI.
            self.entries.trampoline =
                Some(unsafe { std::mem::transmute::<*const u8, Trampoline>(entry) });
        }
        // The type pass and the install are shared by the batch: split them evenly.
        let own: f64 = times.iter().sum();
        let shared = (start.elapsed().as_secs_f64() * 1e6 - own).max(0.0) / tfs.len() as f64;
        let mut new: Vec<Spec> = Vec::with_capacity(tfs.len());
        for (i, ((f, e), mut slot)) in tfs.iter().zip(emitted).zip(slots).enumerate() {
            let entry = self.arena.entry(handles[i]);
            *slot = entry as usize;
            new.push(Spec {
                key: f.key.clone(),
                ret: f.ret,
                exact: f.exact,
                handle: handles[i],
                entry,
                slot,
                code_bytes: e.code.len(),
                compile_us: times[i] + shared,
                spans: e.spans,
                constants: e.constants,
                hosts: e.hosts,
                deopts: Default::default(),
                entries: 0,
                fallbacks: 0,
                callers: Vec::new(),
                calls_undefined: f.facts.bad_call,
                native: None,
            });
        }
        // Who calls whom, so that dropping a callee drops its callers; a caller of an
        // inexact callee is inexact.
        let mut in_batch = Vec::new();
        for (i, f) in tfs.iter().enumerate() {
            let id = first + i as u32;
            for callee in &f.facts.callees {
                if let Some(j) = tfs.iter().position(|g| g.key == *callee) {
                    if j != i {
                        new[j].callers.push(id);
                        in_batch.push((i, j));
                    }
                } else if let Some(&c) = self.by_key.get(callee) {
                    if let Some(Some(s)) = self.specs.get_mut(c as usize) {
                        s.callers.push(id);
                        new[i].exact &= s.exact;
                    }
                }
            }
        }
        while let Some(&(i, _)) = in_batch
            .iter()
            .find(|&&(i, j)| new[i].exact && !new[j].exact)
        {
            new[i].exact = false;
        }
        for (i, spec) in new.into_iter().enumerate() {
            let id = first + i as u32;
            if spec.calls_undefined {
                self.undefined_callees.push(id);
            }
            self.by_key.insert(spec.key.clone(), id);
            let state = self.state(spec.key.func.0);
            state.specs.push(id);
            state.compiled = true;
            self.specs.push(Some(spec));
            self.typed_entries.push(0);
            self.totals.compiled += 1;
        }
        Ok(first)
    }
}

/// What the type pass reads.
struct View<'a> {
    functions: &'a [Option<Arc<Function>>],
    names: &'a [Arc<str>],
    hosts: &'a [Arc<crate::interp::host::HostFunction>],
    jit: &'a Jit,
}

impl specialize::Functions for View<'_> {
    fn resolved(&self, id: FuncId) -> Option<&Resolved> {
        Some(&self.functions.get(id.0 as usize)?.as_ref()?.resolved)
    }
    fn compiled(&self, key: &SpecKey) -> Option<Ty> {
        let id = *self.jit.by_key.get(key)?;
        Some(self.jit.specs[id as usize].as_ref()?.ret)
    }
    fn refused(&self, key: &SpecKey) -> Option<String> {
        let state = self.jit.funcs.get(key.func.0 as usize)?;
        state
            .refused
            .iter()
            .find(|(t, _)| *t == key.args)
            .map(|(_, why)| why.clone())
    }
    fn name(&self, id: FuncId) -> &str {
        self.names.get(id.0 as usize).map_or("?", |n| n)
    }
    fn host(&self, id: u32) -> Option<&crate::interp::host::NativeHost> {
        self.hosts.get(id as usize)?.native.as_ref()
    }
}

struct Link<'a> {
    /// The entry slots of the batch being compiled (at most `MAX_SPECIALIZATIONS`).
    batch: &'a [(&'a SpecKey, *const usize)],
    jit: &'a Jit,
    hosts: &'a [std::sync::Arc<crate::interp::host::HostFunction>],
}

impl Linkage for Link<'_> {
    fn slot(&self, key: &SpecKey) -> Option<*const usize> {
        if let Some(&(_, s)) = self.batch.iter().find(|(k, _)| *k == key) {
            return Some(s);
        }
        let id = *self.jit.by_key.get(key)?;
        Some(&*self.jit.specs[id as usize].as_ref()?.slot as *const usize)
    }
    fn interrupt_word(&self) -> *const u64 {
        self.jit.interrupt.address()
    }
    fn host(&self, id: u32) -> Option<std::sync::Arc<crate::interp::host::HostFunction>> {
        self.hosts.get(id as usize).cloned()
    }
}

impl Jit {
    /// The native (C ABI) and batch functions of spec `id`, compiled now unless they
    /// were tried before: only a leaf of at most `DIRECT_ARGS` parameters has them.
    pub(super) fn native_entry(
        &mut self,
        program: &Program<'_>,
        id: u32,
    ) -> Result<(usize, usize), String> {
        let Some(spec) = self.specs.get(id as usize).and_then(Option::as_ref) else {
            return Err("discarded".into());
        };
        if let Some(tried) = &spec.native {
            return match tried {
                Ok(_) => Ok(spec.native_addresses()),
                Err(why) => Err(why.clone()),
            };
        }
        let key = spec.key.clone();
        let compiled = self.compile_native(program, &key, id);
        if let Some(Some(spec)) = self.specs.get_mut(id as usize) {
            spec.native = Some(compiled);
        }
        self.native_entry(program, id)
    }

    fn compile_native(
        &mut self,
        program: &Program<'_>,
        key: &SpecKey,
        id: u32,
    ) -> Result<NativeCode, String> {
        if key.args.len() > DIRECT_ARGS {
            return Err(format!("more than {DIRECT_ARGS} arguments"));
        }
        let view = View {
            functions: program.functions,
            names: program.names,
            hosts: program.hosts,
            jit: self,
        };
        // The same type pass as the compiled code's: the same IR, the same deopt sites.
        let tfs = specialize::specialize(key, &view).map_err(|r| r.reason)?;
        let f = tfs.iter().find(|f| f.key == *key).ok_or("no typed IR")?;
        if !codegen::is_leaf(f) {
            return Err("calls other functions".into());
        }
        let link = Link {
            batch: &[],
            jit: self,
            hosts: program.hosts,
        };
        let params = key.args.len() as u32;
        let generate = |convention| {
            backend::generate(f, id, &link, convention)
                .map_err(|e| format!("code generation failed: {e}"))
        };
        let call = generate(Convention::Native { params })?;
        let batch = generate(Convention::Batch { params })?;
        let handles = self
            .arena
            .install(&[&call.code, &batch.code])
            .map_err(|e| e.to_string())?;
        Ok(NativeCode {
            handle: handles[0],
            entry: self.arena.entry(handles[0]) as usize,
            bytes: call.code.len(),
            spans: call.spans,
            batch_handle: handles[1],
            batch: self.arena.entry(handles[1]) as usize,
        })
    }

    /// Compiles the specialization of `func` for the types of `args` now, unless it
    /// exists; `Err` says why it cannot be compiled.
    pub fn compile_for(
        &mut self,
        program: Program<'_>,
        func: u32,
        args: &[Value],
    ) -> Result<(), String> {
        if self.find(func, args).is_some() {
            return Ok(());
        }
        let key = Self::key_of(func, args).map_err(str::to_string)?;
        self.compile(&program, key)?;
        Ok(())
    }
}
