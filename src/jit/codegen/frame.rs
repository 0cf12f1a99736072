//! Frame words: parameters, `LET`s and spill slots. (The backend lays the frame out
//! and learns its size from the words the code uses: see `grizzly_arch::frame`.)

use crate::resolve::Slot;
use grizzly_arch::Mem;

/// What the frame holds, as far as the code generator decides it. Local words are
/// the `LET`s first, then spill slots.
pub(super) struct Frame {
    params: usize,
    lets: u32,
    spills: u32,
    /// Spill slots given back, reused before new ones.
    free_spills: Vec<u32>,
}

impl Frame {
    pub(super) fn new(params: usize, slots: usize) -> Frame {
        Frame {
            params,
            lets: (slots - params) as u32,
            spills: 0,
            free_spills: Vec::new(),
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

    /// The spill slots free now (to restore them on another path).
    pub(super) fn free_spills(&self) -> Vec<u32> {
        self.free_spills.clone()
    }

    /// Slots free on a path that starts where [`Frame::free_spills`] was asked (slots
    /// made since and not in the list are left unused).
    pub(super) fn set_free_spills(&mut self, free: Vec<u32>) {
        self.free_spills = free;
    }

    pub(super) fn free_spill(&mut self, slot: u32) {
        debug_assert!(!self.free_spills.contains(&slot), "spill slot freed twice");
        self.free_spills.push(slot);
    }
}
