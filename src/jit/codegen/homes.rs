//! Loop homes: in a function with self tail calls, registers that hold the first
//! parameters for the whole body, so that a loop reads and writes them in registers.
//!
//! A home is a caller-saved register, and a parameter also has its frame word
//! (`Mem::Param`). Which of the two holds the parameter's current value is the
//! state of the homes at each point of the code:
//!
//! | state               | registers | frame words |
//! |---------------------|-----------|-------------|
//! | loaded, clean       | current   | current     |
//! | loaded, dirty       | current   | out of date |
//! | stale               | clobbered | current     |
//!
//! **Invariant: the homes are never stale and dirty at once**: at every point at
//! least one copy is current, and the state says which.
//!
//! - Entry loads the homes from the frame (clean). A self tail call writes the new
//!   values into the homes only and jumps to the loop head, so the loop head is
//!   loaded and dirty (the join of entry and every back edge).
//! - Every call out of compiled code goes through `Gen::call_out`, which writes loaded
//!   dirty homes back to their frame words, calls, and marks the homes stale. No list
//!   of "operations that call" is kept anywhere else.
//! - Any read of a stale home reloads all homes from the frame first
//!   (`ensure_homes`): loaded, clean.
//! - Joins: every edge out of a condition leaves the homes loaded, and nothing between
//!   a split and its join makes them dirtier (only a self tail call does, and it jumps
//!   away). So a branch of a value `IF` entered dirty ends loaded (reloading if a call
//!   in it made the homes stale), and the join is stale if either branch is, dirty if
//!   either is. A branch entered clean may end stale: the frame is current on both
//!   paths, and the join is stale.
//!
//! A loop without calls never writes its frame words and never reloads.

use super::Gen;
use crate::jit::ir::Ty;
use grizzly_arch::{FSrc, Fpr, Gpr, MacroAssembler, Mem, Src};

/// Registers of each class left to temporaries after homes are assigned.
const MIN_TEMPS: u32 = 4;
const MAX_HOMES: usize = 6;

#[derive(Clone, Copy, Debug)]
pub(super) enum Home {
    G(Gpr),
    F(Fpr),
}

/// Where the homes' current values are (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HomeState {
    /// A call clobbered the home registers: the frame words are current.
    pub(super) stale: bool,
    /// The frame words are out of date: the home registers are current.
    pub(super) dirty: bool,
}

impl HomeState {
    /// The state at a join of two paths whose homes are both valid in one place.
    pub(super) fn join(self, other: HomeState) -> HomeState {
        let s = HomeState {
            stale: self.stale || other.stale,
            dirty: self.dirty || other.dirty,
        };
        debug_assert!(
            !(s.stale && s.dirty),
            "homes stale on one path, dirty on another"
        );
        s
    }
}

pub(super) struct Homes {
    /// Per parameter, its home if it has one.
    regs: Vec<Option<Home>>,
    any: bool,
    state: HomeState,
}

impl Homes {
    pub(super) fn none(params: usize) -> Homes {
        Homes {
            regs: vec![None; params],
            any: false,
            state: HomeState {
                stale: false,
                dirty: false,
            },
        }
    }

    pub(super) fn of(&self, param: usize) -> Option<Home> {
        self.regs.get(param).copied().flatten()
    }

    pub(super) fn state(&self) -> HomeState {
        self.state
    }

    pub(super) fn set_state(&mut self, state: HomeState) {
        debug_assert!(!(state.stale && state.dirty), "homes stale and dirty");
        self.state = state;
    }
}

impl<M: MacroAssembler> Gen<'_, M> {
    /// Gives the first parameters registers of their own, leaving `MIN_TEMPS` of each
    /// class to temporaries (and the join registers free), and loads them.
    pub(super) fn assign_homes(&mut self) {
        let mut count = 0;
        for i in 0..self.frame.params() {
            if count >= MAX_HOMES {
                break;
            }
            let r = &mut self.regs;
            let home = if self.f.params[i] == Ty::Value {
                // A generic parameter lives in the value stack (its frame word only
                // brought the caller's value in).
                None
            } else if self.f.params[i] == Ty::Float {
                (r.fprs.len() > MIN_TEMPS)
                    .then(|| r.fprs.take_highest(r.join_fpr).map(Home::F))
                    .flatten()
            } else {
                (r.gprs.len() > MIN_TEMPS)
                    .then(|| r.gprs.take_highest(r.join_gpr).map(Home::G))
                    .flatten()
            };
            count += home.is_some() as usize;
            self.homes.regs[i] = home;
        }
        self.homes.any = count > 0;
        self.load_homes();
    }

    /// Loads every home from its parameter's frame word.
    fn load_homes(&mut self) {
        for (i, home) in self.homes.regs.iter().enumerate() {
            match home {
                Some(Home::G(r)) => self.m.mov(*r, Src::Mem(Mem::Param(i as u32))),
                Some(Home::F(r)) => self.m.fmov(*r, FSrc::Mem(Mem::Param(i as u32))),
                None => {}
            }
        }
        self.homes.state.stale = false;
    }

    /// Reloads the homes if a call clobbered them.
    pub(super) fn ensure_homes(&mut self) {
        if self.homes.state.stale {
            self.load_homes();
        }
    }

    /// The state at the loop head, where self tail calls jump with new values in the
    /// homes only.
    pub(super) fn enter_loop(&mut self) {
        self.homes.set_state(HomeState {
            stale: false,
            dirty: self.homes.any,
        });
    }

    /// Before a call (from `call_out` only): makes the frame words current.
    pub(super) fn write_back_homes(&mut self) {
        if !self.homes.state.dirty {
            return;
        }
        for (i, home) in self.homes.regs.iter().enumerate() {
            match home {
                Some(Home::G(r)) => self.m.store(Mem::Param(i as u32), Src::Reg(*r)),
                Some(Home::F(r)) => self.m.fstore(Mem::Param(i as u32), *r),
                None => {}
            }
        }
        self.homes.state.dirty = false;
    }

    /// After a call (from `call_out` only): the home registers are clobbered.
    pub(super) fn clobber_homes(&mut self) {
        debug_assert!(!self.homes.state.dirty, "a call with dirty homes");
        self.homes.state.stale = self.homes.any;
    }

    /// At the end of a branch of a value `IF` entered in state `split`: leaves the
    /// homes so that the join is never stale on one path and dirty on the other.
    pub(super) fn end_branch(&mut self, split: HomeState) {
        if split.dirty {
            self.ensure_homes();
        }
    }
}
