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
use super::nullable::Validity;
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
        let masks: Vec<Validity<'_>> = validity.iter().flatten().copied().collect();
        if masks.is_empty() || u32::try_from(rows).is_err() {
            return None;
        }
        let (mut valid, mut null) = (Vec::with_capacity(rows), Vec::new());
        for i in 0..rows {
            if masks.iter().all(|v| v.is_valid(i)) {
                valid.push(i as u32);
            } else {
                null.push(i as u32);
            }
        }
        if null.len() * SPARSE < rows {
            return None;
        }
        let group = |rows: &[u32], generic: bool| -> Vec<Gathered> {
            columns
                .iter()
                .zip(validity)
                .map(|(c, v)| Gathered::of(c, *v, rows, generic && v.is_some()))
                .collect()
        };
        let valid_out = {
            let gathered = group(&valid, false);
            let cols: Vec<Column<'_>> = gathered.iter().map(Gathered::column).collect();
            self.call_batch(engine, &cols).ok()?
        };
        let null_out = {
            let gathered = group(&null, true);
            let cols: Vec<Column<'_>> = gathered.iter().map(Gathered::column).collect();
            let types: Vec<ColumnType> = cols.iter().map(Column::ty).collect();
            let f = self.null_func(engine, &types)?;
            f.call_batch(engine, &cols).ok()?
        };
        // Back in row order.
        let mut out = Vec::with_capacity(rows);
        let (mut valid_out, mut null_out) = (valid_out.into_iter(), null_out.into_iter());
        let mut next_null = null.iter().peekable();
        for i in 0..rows as u32 {
            let from_null = next_null.next_if(|&&n| n == i).is_some();
            let v = if from_null {
                null_out.next()
            } else {
                valid_out.next()
            };
            out.push(v?);
        }
        Some(out)
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
