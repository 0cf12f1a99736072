//! Free registers: one bit set per class.

use grizzly_arch::{Fpr, Gpr};
use std::marker::PhantomData;

/// A register of one class, numbered below 32 (its bit in a [`RegSet`]).
pub(super) trait Reg: Copy {
    fn bit(self) -> u32;
    fn from_bit(bit: u32) -> Self;
}

impl Reg for Gpr {
    fn bit(self) -> u32 {
        self.0 as u32
    }
    fn from_bit(bit: u32) -> Self {
        Gpr(bit as u8)
    }
}

impl Reg for Fpr {
    fn bit(self) -> u32 {
        self.0 as u32
    }
    fn from_bit(bit: u32) -> Self {
        Fpr(bit as u8)
    }
}

/// A set of registers of one class as a mask of their numbers (Winch's `RegSet`):
/// allocating, freeing and copying cost one instruction or two.
#[derive(Clone, Copy)]
pub(super) struct RegSet<R> {
    mask: u32,
    class: PhantomData<R>,
}

impl<R: Reg> RegSet<R> {
    pub(super) fn of(regs: &[R]) -> Self {
        let mask = regs.iter().fold(0, |m, r| {
            debug_assert!(r.bit() < 32, "register number out of range");
            m | 1 << r.bit()
        });
        RegSet {
            mask,
            class: PhantomData,
        }
    }

    pub(super) fn len(self) -> u32 {
        self.mask.count_ones()
    }

    pub(super) fn contains(self, r: R) -> bool {
        self.mask & 1 << r.bit() != 0
    }

    /// Takes the free register of the lowest number.
    pub(super) fn take(&mut self) -> Option<R> {
        if self.mask == 0 {
            return None;
        }
        let bit = self.mask.trailing_zeros();
        self.mask &= !(1 << bit);
        Some(R::from_bit(bit))
    }

    /// Takes the free register of the highest number other than `except` (long-lived
    /// values take from the top, temporaries from the bottom).
    pub(super) fn take_highest(&mut self, except: R) -> Option<R> {
        let candidates = self.mask & !(1 << except.bit());
        if candidates == 0 {
            return None;
        }
        let bit = 31 - candidates.leading_zeros();
        self.mask &= !(1 << bit);
        Some(R::from_bit(bit))
    }

    /// Takes a given register, which must be free.
    pub(super) fn claim(&mut self, r: R) {
        debug_assert!(
            self.contains(r),
            "register {} claimed while in use",
            r.bit()
        );
        self.mask &= !(1 << r.bit());
    }

    /// Gives a register back.
    pub(super) fn free(&mut self, r: R) {
        debug_assert!(!self.contains(r), "register {} freed twice", r.bit());
        self.mask |= 1 << r.bit();
    }
}

/// The free registers of both classes, and the join registers: where each branch of a
/// value `IF` leaves its result (the first allocatable register of each class).
#[derive(Clone)]
pub(super) struct Regs {
    pub(super) gprs: RegSet<Gpr>,
    pub(super) fprs: RegSet<Fpr>,
    pub(super) join_gpr: Gpr,
    pub(super) join_fpr: Fpr,
}

impl Regs {
    pub(super) fn new(gprs: &[Gpr], fprs: &[Fpr]) -> Regs {
        Regs {
            gprs: RegSet::of(gprs),
            fprs: RegSet::of(fprs),
            join_gpr: gprs[0],
            join_fpr: fprs[0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_lowest_first_and_highest_for_long_lived_values() {
        let mut s = RegSet::of(&[Gpr(3), Gpr(1), Gpr(9), Gpr(12)]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.take_highest(Gpr(3)), Some(Gpr(12)));
        assert_eq!(s.take(), Some(Gpr(1)));
        assert_eq!(s.take(), Some(Gpr(3)));
        assert_eq!(s.take_highest(Gpr(9)), None);
        s.free(Gpr(1));
        assert!(s.contains(Gpr(1)));
        assert_eq!(s.take(), Some(Gpr(1)));
        assert_eq!(s.take(), Some(Gpr(9)));
        assert_eq!(s.take(), None);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "freed twice")]
    fn a_double_free_is_caught() {
        let mut s = RegSet::of(&[Fpr(2), Fpr(3)]);
        s.free(Fpr(2));
    }
}
