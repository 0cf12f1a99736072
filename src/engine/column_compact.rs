//! Nullable [`ColumnFunc`] batches with many nulls, compacted: the rows with no null
//! argument are gathered into columns of their own and run as one batch, the rows
//! with a null as another (the nullable columns taken as generic values, `null`
//! where the row is null), and the results put back in row order. One batch entry
//! per group instead of one per run between nulls and one per null row.
//!
//! The language is pure, so the order rows run in cannot be seen, except in which
//! error a failing batch reports: on any error the caller runs the batch again in
//! row order (`each_segment`), which finds the first failing row.

use super::columns::{Column, ColumnFunc, ColumnType};
use super::native::NativeType;
use super::nullable::{NullableColumn, Validity};
use super::Engine;
use crate::value::Value;

/// Compaction pays once nulls are more than about one row in this many.
const SPARSE: usize = 32;

/// One argument's rows of one group, owned.
enum Gathered {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Value(Vec<Value>),
}

impl Gathered {
    /// Rows `rows` of `c`, as generic values (`null` where `validity` says) when
    /// `generic`.
    fn of(c: &Column<'_>, validity: Option<Validity<'_>>, rows: &[u32], generic: bool) -> Self {
        let rows = rows.iter().map(|&i| i as usize);
        if generic {
            let valid = |i: usize| validity.is_none_or(|v| v.is_valid(i));
            return Gathered::Value(
                rows.map(|i| if valid(i) { c.value(i) } else { Value::Null })
                    .collect(),
            );
        }
        match c {
            Column::Int(v) => Gathered::Int(rows.map(|i| v[i]).collect()),
            Column::Float(v) => Gathered::Float(rows.map(|i| v[i]).collect()),
            Column::Bool(v) => Gathered::Bool(rows.map(|i| v[i]).collect()),
            Column::Value(v) => Gathered::Value(rows.map(|i| v[i].clone()).collect()),
        }
    }

    fn column(&self) -> Column<'_> {
        match self {
            Gathered::Int(v) => Column::Int(v),
            Gathered::Float(v) => Column::Float(v),
            Gathered::Bool(v) => Column::Bool(v),
            Gathered::Value(v) => Column::Value(v),
        }
    }
}

/// A nullable batch split in two groups: the rows with no null argument and the rows
/// with one, each with its arguments gathered.
struct Groups {
    rows: usize,
    valid: Vec<u32>,
    null: Vec<u32>,
    valid_columns: Vec<Gathered>,
    null_columns: Vec<Gathered>,
}

/// The validity bits of rows `i..i + 8` of `v` (`i` a multiple of 8), bit `k` for row
/// `i + k`; bits past the bitmap are 0.
fn byte_at(v: &Validity<'_>, i: usize) -> u8 {
    let bit = v.offset + i;
    let (at, shift) = (bit / 8, bit % 8);
    let lo = v.bits.get(at).copied().unwrap_or(0) >> shift;
    if shift == 0 {
        return lo;
    }
    lo | v.bits.get(at + 1).copied().unwrap_or(0) << (8 - shift)
}

impl Groups {
    /// The groups of a checked batch, `None` when compacting does not pay.
    fn of(columns: &[Column<'_>], validity: &[Option<Validity<'_>>], rows: usize) -> Option<Self> {
        let masks: Vec<Validity<'_>> = validity.iter().flatten().copied().collect();
        if masks.is_empty() || u32::try_from(rows).is_err() {
            return None;
        }
        // Each row written to both lists and counted in one: no branch per row (nulls
        // fall at random).
        let (mut valid, mut null) = (vec![0u32; rows], vec![0u32; rows]);
        let (mut v, mut n) = (0, 0);
        for i in (0..rows).step_by(8) {
            let byte = masks.iter().fold(0xff, |b, m| b & byte_at(m, i));
            for k in 0..8.min(rows - i) {
                let bit = usize::from(byte >> k & 1);
                valid[v] = (i + k) as u32;
                null[n] = (i + k) as u32;
                v += bit;
                n += 1 - bit;
            }
        }
        valid.truncate(v);
        null.truncate(n);
        if null.len() * SPARSE < rows {
            return None;
        }
        let gather = |rows: &[u32], generic: bool| -> Vec<Gathered> {
            columns
                .iter()
                .zip(validity)
                .map(|(c, v)| Gathered::of(c, *v, rows, generic && v.is_some()))
                .collect()
        };
        Some(Groups {
            rows,
            valid_columns: gather(&valid, false),
            null_columns: gather(&null, true),
            valid,
            null,
        })
    }

    fn valid_columns(&self) -> Vec<Column<'_>> {
        self.valid_columns.iter().map(Gathered::column).collect()
    }

    fn null_columns(&self) -> Vec<Column<'_>> {
        self.null_columns.iter().map(Gathered::column).collect()
    }
}

impl<R: NativeType> ColumnFunc<R> {
    /// The batch's results in row order, compacted (see the module documentation);
    /// `None` when it does not pay (few nulls) or some row failed (the caller then
    /// runs the batch in row order). The columns and bitmaps were checked.
    pub(super) fn call_compacted(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
        rows: usize,
    ) -> Option<Vec<R>> {
        let groups = Groups::of(columns, validity, rows)?;
        let valid_out = self.call_batch(engine, &groups.valid_columns()).ok()?;
        let null_out = self.null_rows(engine, &groups)?;
        // Back in row order.
        let mut out = Vec::with_capacity(rows);
        let (mut valid_out, mut null_out) = (valid_out.into_iter(), null_out.into_iter());
        let mut next_null = groups.null.iter().peekable();
        for i in 0..rows as u32 {
            let v = if next_null.next_if(|&&n| n == i).is_some() {
                null_out.next()
            } else {
                valid_out.next()
            };
            out.push(v?);
        }
        Some(out)
    }

    /// The results of the rows with a null, `None` if one failed.
    fn null_rows(&self, engine: &mut Engine, groups: &Groups) -> Option<Vec<R>> {
        let columns = groups.null_columns();
        let types: Vec<ColumnType> = columns.iter().map(Column::ty).collect();
        let f = self.null_func(engine, &types)?;
        f.call_batch(engine, &columns).ok()
    }

    /// The handle for rows with a null: the function over columns of `types` (the
    /// nullable ones generic), made once and kept while the types stay the same.
    fn null_func(&self, engine: &mut Engine, types: &[ColumnType]) -> Option<&ColumnFunc<R>> {
        if let Some(f) = self.null_func.get() {
            return (*f.types == *types).then_some(&**f);
        }
        let f = engine.column_func::<R>(&self.h.name, types).ok()?;
        Some(&**self.null_func.get_or_init(|| Box::new(f)))
    }
}

impl<T: NativeType + Default + Clone> ColumnFunc<Option<T>>
where
    Option<T>: NativeType,
{
    /// As [`call_compacted`](ColumnFunc::call_compacted), into a nullable column: the
    /// rows with no null written in place by compiled code, then scattered.
    pub(super) fn call_compacted_nullable(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
        rows: usize,
    ) -> Option<NullableColumn<T>> {
        let groups = Groups::of(columns, validity, rows)?;
        let mut valid_out = NullableColumn::with_capacity(groups.valid.len());
        self.valid_run_into(engine, &groups.valid_columns(), &mut valid_out)
            .ok()?;
        let null_out = self.null_rows(engine, &groups)?;
        let mut values = vec![T::default(); groups.rows];
        let mut bits = vec![0u8; groups.rows.div_ceil(8)];
        let mut valid_count = 0;
        let mut put = |row: u32, v: Option<T>| {
            if let Some(v) = v {
                let row = row as usize;
                values[row] = v;
                bits[row / 8] |= 1 << (row % 8);
                valid_count += 1;
            }
        };
        let valid_bits = valid_out.validity.take();
        for (k, (&row, v)) in groups.valid.iter().zip(valid_out.values).enumerate() {
            let is_valid = valid_bits
                .as_ref()
                .is_none_or(|bits| Validity { bits, offset: 0 }.is_valid(k));
            put(row, is_valid.then_some(v));
        }
        for (&row, v) in groups.null.iter().zip(null_out) {
            put(row, v);
        }
        let null_count = groups.rows - valid_count;
        Some(NullableColumn {
            values,
            validity: (null_count > 0).then_some(bits),
            null_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_of_validity_bits_are_the_rows_bits_at_any_offset() {
        let bits = [0b1010_0110u8, 0b0111_0001, 0b1100_1011, 0b0000_0101];
        for offset in 0..12 {
            let v = Validity {
                bits: &bits,
                offset,
            };
            for i in (0..24).step_by(8) {
                let byte = byte_at(&v, i);
                for k in 0..8 {
                    let want = v.is_valid(i + k);
                    assert_eq!(byte & (1 << k) != 0, want, "offset {offset}, row {}", i + k);
                }
            }
        }
    }
}
