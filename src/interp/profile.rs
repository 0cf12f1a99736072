//! What the interpreter observes for the JIT: calls and argument types per function.

use crate::value::{Value, ValueType};

/// A set of value types, one bit per [`ValueType`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TypeSet(pub u8);

impl TypeSet {
    pub fn contains(self, t: ValueType) -> bool {
        self.0 & (1 << t as u8) != 0
    }
    pub fn insert(&mut self, t: ValueType) {
        self.0 |= 1 << t as u8;
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

/// The profile of one function since it was (re)defined or the JIT was cleared.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Calls, self tail calls included.
    pub calls: u64,
    /// Per parameter, the types of the arguments it has received.
    pub arg_types: Vec<TypeSet>,
}

impl Profile {
    pub fn new(params: usize) -> Profile {
        Profile {
            calls: 0,
            arg_types: vec![TypeSet::default(); params],
        }
    }

    /// Counts one call with these arguments (a few nanoseconds: one add, one or per argument).
    #[inline]
    pub fn record(&mut self, args: &[Value]) {
        self.calls += 1;
        // Equal-length slices let the loop run without bounds checks or a
        // vectorized prologue (arities are small).
        let n = args.len().min(self.arg_types.len());
        let (sets, args) = (&mut self.arg_types[..n], &args[..n]);
        let mut i = 0;
        while i < n {
            sets[i].0 |= 1 << args[i].ty() as u8;
            i += 1;
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
        p.reset();
        assert!(p.arg_types[0].is_empty() && p.calls == 0);
    }
}
