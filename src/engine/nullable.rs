//! Batch calls over nullable columns, laid out as Arrow lays them out: the values,
//! and a validity bitmap saying which rows are not null.
//!
//! Runs of rows where every argument is valid go through [`TypedFunc::call_batch`]
//! (compiled code over the value slices in place); a row with a null argument is
//! called with PL-GRIZZLY `null` there (the value beneath it is never read), through
//! [`Engine::call`]'s way into compiled code.

use super::native::{NativeArgs, NativeType};
use super::{Engine, TypedFunc};
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Arrow's validity bitmap of a column: row `i` is valid (not null) when bit
/// `offset + i` of `bits` is set, least significant bit first.
///
/// ```
/// let v = grizzly::Validity { bits: &[0b0000_0101], offset: 0 };
/// assert!(v.is_valid(0) && !v.is_valid(1) && v.is_valid(2));
/// let sliced = grizzly::Validity { bits: &[0b0000_0101], offset: 1 };
/// assert!(!sliced.is_valid(0) && sliced.is_valid(1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Validity<'a> {
    /// The bitmap's bytes.
    pub bits: &'a [u8],
    /// The bit of row 0 (an Arrow array's offset, for a sliced array).
    pub offset: usize,
}

impl Validity<'_> {
    /// Whether row `i` is valid (false past the bitmap's end).
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        let bit = self.offset + i;
        self.bits
            .get(bit / 8)
            .is_some_and(|byte| byte & (1 << (bit % 8)) != 0)
    }

    /// Whether the bitmap covers `rows` rows.
    fn covers(&self, rows: usize) -> bool {
        self.offset
            .checked_add(rows)
            .is_some_and(|end| end <= self.bits.len().saturating_mul(8))
    }
}

/// A batch's nullable result, ready for an Arrow array: the values (a null row holds
/// `T::default()`) and, when some row is null, the validity bitmap (offset 0, least
/// significant bit first).
#[derive(Clone, Debug, PartialEq)]
pub struct NullableColumn<T> {
    /// One value per row.
    pub values: Vec<T>,
    /// Bit `i` set when row `i` is valid; `None` when no row is null.
    pub validity: Option<Vec<u8>>,
    /// The number of null rows.
    pub null_count: usize,
}

impl<T: Default> NullableColumn<T> {
    pub(super) fn with_capacity(rows: usize) -> NullableColumn<T> {
        NullableColumn {
            values: Vec::with_capacity(rows),
            validity: None,
            null_count: 0,
        }
    }

    pub(super) fn push(&mut self, value: Option<T>) {
        let row = self.values.len();
        match value {
            Some(v) => {
                if let Some(bits) = &mut self.validity {
                    set_bit(bits, row);
                }
                self.values.push(v);
            }
            None => {
                let bits = self.validity.get_or_insert_with(|| {
                    // Every row so far was valid.
                    let mut bits = Vec::new();
                    for r in 0..row {
                        set_bit(&mut bits, r);
                    }
                    bits
                });
                if bits.len() * 8 <= row {
                    bits.push(0);
                }
                self.null_count += 1;
                self.values.push(T::default());
            }
        }
    }

    /// Marks the rows from `from` to the end valid, after values were written to
    /// `values` directly (a bitmap exists only once some row is null).
    #[cfg(feature = "jit")]
    pub(super) fn mark_valid_from(&mut self, from: usize) {
        if let Some(bits) = &mut self.validity {
            for row in from..self.values.len() {
                set_bit(bits, row);
            }
        }
    }

    /// Row `i`, `None` when it is null (or past the end).
    ///
    /// ```
    /// use grizzly::Engine;
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION inv(x) => IF x == 0 { null } ELSE { 1.0 / x }").unwrap();
    /// let inv = engine.typed::<(i64,), Option<f64>>("inv").unwrap();
    /// let out = inv.call_batch_nullable(&mut engine, (&[4, 0, 2],), &[None]).unwrap();
    /// assert_eq!((out.get(0), out.get(1), out.null_count), (Some(&0.25), None, 1));
    /// ```
    pub fn get(&self, i: usize) -> Option<&T> {
        let valid = match &self.validity {
            Some(bits) => (Validity { bits, offset: 0 }).is_valid(i),
            None => true,
        };
        self.values.get(i).filter(|_| valid)
    }
}

/// A stretch of a batch: rows `from..to` where every argument is valid, or one row
/// where some argument is null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Segment {
    Valid(usize, usize),
    Null(usize),
}

/// The segments of `rows` rows under `validity`, in row order.
pub(super) fn segments<'a>(
    validity: &'a [Option<Validity<'a>>],
    rows: usize,
) -> impl Iterator<Item = Segment> + 'a {
    let masks: Vec<Validity<'a>> = validity.iter().flatten().copied().collect();
    let valid_row = move |i: usize| masks.iter().all(|v| v.is_valid(i));
    let mut row = 0;
    std::iter::from_fn(move || {
        if row >= rows {
            return None;
        }
        let start = row;
        if !valid_row(start) {
            row += 1;
            return Some(Segment::Null(start));
        }
        row = (start + 1..rows).find(|&i| !valid_row(i)).unwrap_or(rows);
        Some(Segment::Valid(start, row))
    })
}

/// `args` (row `row`'s values) with `null` where `validity` says the row is null.
pub(super) fn mask_row(args: &mut [Value], validity: &[Option<Validity<'_>>], row: usize) {
    for (arg, v) in args.iter_mut().zip(validity) {
        if v.is_some_and(|v| !v.is_valid(row)) {
            *arg = Value::Null;
        }
    }
}

fn usage(name: &str, what: &str) -> Error {
    Error::new(ErrorKind::Usage, format!("a batch call of '{name}' {what}"))
}

/// A usage error unless `validity` has one entry per argument (`count`), each
/// covering `rows` rows.
pub(super) fn check_validity(
    name: &str,
    validity: &[Option<Validity<'_>>],
    count: usize,
    rows: usize,
) -> Result<()> {
    if validity.len() != count {
        return Err(usage(name, "needs one validity entry per argument"));
    }
    if validity.iter().flatten().any(|v| !v.covers(rows)) {
        return Err(usage(name, "has a validity bitmap shorter than its column"));
    }
    Ok(())
}

fn set_bit(bits: &mut Vec<u8>, row: usize) {
    while bits.len() * 8 <= row {
        bits.push(0);
    }
    bits[row / 8] |= 1 << (row % 8);
}

impl<A: NativeArgs, T: Default> TypedFunc<A, Option<T>>
where
    Option<T>: NativeType,
{
    /// Calls the function once per row of nullable columns: `columns` are the values
    /// (one slice per argument, all of one length) and `validity` each column's
    /// bitmap (`None`: no nulls). A row where an argument is null is called with
    /// `null` in its place; a `null` result is a null row of the result.
    ///
    /// Rows with no null argument run as [`TypedFunc::call_batch`] does, in compiled
    /// code over the slices in place. The first row whose call fails ends the batch
    /// with its error, the interpreter's.
    ///
    /// ```
    /// use grizzly::{Engine, Validity};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION total(net, tax) => net + (tax ?? 0.0)").unwrap();
    /// let total = engine.typed::<(f64, f64), Option<f64>>("total").unwrap();
    /// let net = [10.0, 20.0, 30.0];
    /// let tax = [1.0, 0.0, 3.0]; // row 1 is null: its 0.0 is never read
    /// let valid = Validity { bits: &[0b101], offset: 0 };
    /// let out = total.call_batch_nullable(&mut engine, (&net, &tax), &[None, Some(valid)]).unwrap();
    /// assert_eq!(out.values, [11.0, 20.0, 33.0]);
    /// assert_eq!(out.null_count, 0);
    /// ```
    pub fn call_batch_nullable(
        &self,
        engine: &mut Engine,
        columns: A::Columns<'_>,
        validity: &[Option<Validity<'_>>],
    ) -> Result<NullableColumn<T>> {
        let _running = engine.begin_run();
        let rows = A::rows(columns).ok_or_else(|| {
            usage(
                self.name(),
                "needs one column per argument, all of one length",
            )
        })?;
        check_validity(self.name(), validity, A::COUNT, rows)?;
        let mut out = NullableColumn::with_capacity(rows);
        for segment in segments(validity, rows) {
            match segment {
                Segment::Valid(from, to) => {
                    for v in self.call_batch(engine, A::slice(columns, from, to))? {
                        out.push(v);
                    }
                }
                Segment::Null(row) => {
                    let mut args = A::row(columns, row).to_values();
                    mask_row(&mut args, validity, row);
                    out.push(self.call_values(engine, &args)?);
                }
            }
        }
        Ok(out)
    }
}
