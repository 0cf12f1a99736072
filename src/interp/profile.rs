//! What the interpreter observes for the JIT: calls and argument types per function.

use crate::value::Value;
#[cfg(test)]
use crate::value::ValueType;

/// A set of value types, one bit per [`ValueType`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TypeSet(pub u8);

// Read by the tests only: nothing in the engine reads the recorded types yet.
#[cfg(test)]
impl TypeSet {
    pub fn contains(self, t: ValueType) -> bool {
        self.0 & (1 << t as u8) != 0
    }
    /// The one type in the set, if it holds exactly one.
    pub fn single(self) -> Option<ValueType> {
        ValueType::ALL
            .into_iter()
            .find(|&t| self == TypeSet(1 << t as u8))
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn types(self) -> impl Iterator<Item = ValueType> {
        ValueType::ALL
            .into_iter()
            .filter(move |&t| self.contains(t))
    }
}

/// One self tail call in this many has its argument types recorded.
pub const RESTART_SAMPLE: u64 = 16;

/// The profile of one function since it was (re)defined or the JIT was cleared.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Calls, self tail calls included.
    pub calls: u64,
    /// Per parameter, the types of the arguments it has received.
    pub arg_types: Vec<TypeSet>,
    /// The call count at which the interpreter asks its compiled tier to take the
    /// calls (`u64::MAX`: never). The engine sets it from the threshold; the tier
    /// moves it (back off after a refusal).
    pub hot_at: u64,
}

impl Default for Profile {
    fn default() -> Profile {
        Profile::new(0)
    }
}

impl Profile {
    pub fn new(params: usize) -> Profile {
        Profile {
            calls: 0,
            arg_types: vec![TypeSet::default(); params],
            hot_at: u64::MAX,
        }
    }

    /// Counts one call with these arguments (a few nanoseconds: one add, one or per argument).
    #[inline(always)]
    pub fn record(&mut self, args: &[Value]) {
        self.calls += 1;
        // Arities are small: a plain loop, not the vectorized one `zip` becomes.
        let mut sets = self.arg_types.iter_mut();
        for a in args {
            match sets.next() {
                Some(set) => set.0 |= 1 << a.ty() as u8,
                None => break,
            }
        }
    }

    /// Counts a self tail call. Its argument types are sampled (one call in
    /// [`RESTART_SAMPLE`]): a loop's types rarely change from one iteration to the
    /// next, every entry by a real call is recorded in full, and compiled code
    /// checks its argument types itself, so sampling costs precision, never
    /// correctness. Recording every iteration was a tenth of a tight loop's time.
    #[inline(always)]
    pub fn record_restart(&mut self, args: &[Value]) {
        if self.calls.is_multiple_of(RESTART_SAMPLE) {
            self.record(args);
        } else {
            self.calls += 1;
        }
    }

    pub fn reset(&mut self) {
        self.calls = 0;
        self.arg_types
            .iter_mut()
            .for_each(|t| *t = TypeSet::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_calls_and_types() {
        let mut p = Profile::new(2);
        p.record(&[Value::Int(1), Value::Float(2.0)]);
        p.record(&[Value::Int(3), Value::Null]);
        assert_eq!(p.calls, 2);
        assert_eq!(p.arg_types[0].single(), Some(ValueType::Int));
        assert_eq!(p.arg_types[1].single(), None);
        assert!(p.arg_types[1].contains(ValueType::Null));
        assert_eq!(p.arg_types[1].types().count(), 2);
        // Self tail calls all count; their types are sampled.
        for _ in 0..RESTART_SAMPLE {
            p.record_restart(&[Value::Int(0), Value::Bool(true)]);
        }
        assert_eq!(p.calls, 2 + RESTART_SAMPLE);
        assert!(p.arg_types[1].contains(ValueType::Bool));
        p.reset();
        assert!(p.arg_types[0].is_empty() && p.calls == 0);
    }
}
