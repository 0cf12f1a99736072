//! Deopt exits: one per reason, shared by every guard of that reason.

use super::{site, Gen};
use crate::jit::ir::DeoptReason;
use grizzly_arch::MacroAssembler;

pub(super) struct Exits<L> {
    labels: Vec<(DeoptReason, L)>,
}

impl<L> Exits<L> {
    pub(super) fn new() -> Self {
        Exits { labels: Vec::new() }
    }
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// The label a guard of `reason` jumps to (bound by `bind_exits` at the end).
    pub(super) fn deopt(&mut self, reason: DeoptReason) -> M::Label {
        if let Some(&(_, l)) = self.exits.labels.iter().find(|(r, _)| *r == reason) {
            return l;
        }
        let l = self.m.new_label();
        self.exits.labels.push((reason, l));
        l
    }

    /// Emits the exits, after the body.
    pub(super) fn bind_exits(&mut self) {
        for (reason, label) in std::mem::take(&mut self.exits.labels) {
            self.m.deopt_exit(label, site(self.spec, reason));
        }
    }
}
