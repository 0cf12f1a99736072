//! Deopt exits: one per reason, shared by every guard of that reason (an error's exit
//! goes to a caller's compiled `TRY` handler when one is active); and the handlers of
//! the `TRY`s being compiled, where guards of errors go instead.

use super::{site, Gen};
use crate::jit::ir::DeoptReason;
use grizzly_arch::MacroAssembler;

pub(super) struct Exits<L> {
    labels: Vec<(DeoptReason, L)>,
    /// The handlers of the enclosing `TRY`s, innermost last, and whether a guard jumps
    /// to each.
    handlers: Vec<(L, bool)>,
}

impl<L> Exits<L> {
    pub(super) fn new() -> Self {
        Exits {
            labels: Vec::new(),
            handlers: Vec::new(),
        }
    }
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// The label a guard of `reason` jumps to: the innermost `TRY`'s handler for an
    /// error, else the deopt exit of `reason` (bound by `bind_exits` at the end).
    pub(super) fn deopt(&mut self, reason: DeoptReason) -> M::Label {
        if reason.is_error() {
            if let Some((handler, used)) = self.exits.handlers.last_mut() {
                *used = true;
                return *handler;
            }
        }
        if let Some(&(_, l)) = self.exits.labels.iter().find(|(r, _)| *r == reason) {
            return l;
        }
        let l = self.m.new_label();
        self.exits.labels.push((reason, l));
        l
    }

    /// Guards of errors go to `handler` until [`Gen::end_handler`].
    pub(super) fn begin_handler(&mut self, handler: M::Label) {
        self.exits.handlers.push((handler, false));
    }

    /// Whether a guard jumped to the innermost handler, which ends.
    pub(super) fn end_handler(&mut self) -> bool {
        self.exits.handlers.pop().is_some_and(|(_, used)| used)
    }

    /// Emits the exits, after the body.
    pub(super) fn bind_exits(&mut self) {
        for (reason, label) in std::mem::take(&mut self.exits.labels) {
            let site = site(self.spec, reason);
            if reason.is_error() {
                // A caller's compiled TRY may catch it.
                self.m.raise_exit(label, site);
            } else {
                self.m.deopt_exit(label, site);
            }
        }
    }
}
