//! Frame words: parameters, `LET`s, spill slots and the outgoing argument area.

use crate::resolve::Slot;
use grizzly_arch::Mem;

/// What the frame holds, as far as the code generator decides it. Local words are
/// the `LET`s first, then spill slots; the first pass learns how many of each (and the
/// outgoing words) for the second, which has the frame fixed.
pub(super) struct Frame {
    params: usize,
    lets: u32,
    spills: u32,
    /// Spill slots given back, reused before new ones.
    free_spills: Vec<u32>,
    /// The most argument words any call passes.
    max_out: u32,
}

impl Frame {
    pub(super) fn new(params: usize, slots: usize) -> Frame {
        Frame {
            params,
            lets: (slots - params) as u32,
            spills: 0,
            free_spills: Vec::new(),
            max_out: 0,
        }
    }

    /// The frame word of a parameter or a `LET`.
    pub(super) fn slot(&self, slot: Slot) -> Mem {
        let s = slot as usize;
        if s < self.params {
            Mem::Param(s as u32)
        } else {
            Mem::Local((s - self.params) as u32)
        }
    }

    pub(super) fn params(&self) -> usize {
        self.params
    }

    /// A free spill slot (a local word index).
    pub(super) fn spill_slot(&mut self) -> u32 {
        self.free_spills.pop().unwrap_or_else(|| {
            self.spills += 1;
            self.lets + self.spills - 1
        })
    }

    pub(super) fn free_spill(&mut self, slot: u32) {
        debug_assert!(!self.free_spills.contains(&slot), "spill slot freed twice");
        self.free_spills.push(slot);
    }

    /// Makes room for a call passing `words` arguments.
    pub(super) fn outgoing(&mut self, words: u32) {
        self.max_out = self.max_out.max(words);
    }

    /// The local words and outgoing words the code used.
    pub(super) fn size(&self) -> (u32, u32) {
        (self.lets + self.spills, self.max_out)
    }
}
