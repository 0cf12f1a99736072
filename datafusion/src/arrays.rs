//! Arrow arrays in, Arrow arrays out.
//!
//! Int64 and Float64 arguments are read in place (their value buffers are the
//! columns compiled code reads) with their validity bitmaps as they are, sliced
//! arrays included. Booleans are bit-packed in Arrow and strings are offsets and
//! bytes, so those become a column of bools or of PL-GRIZZLY values (a null row is
//! `null`). Int64 and Float64 results become the array's buffers without a copy.

use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, Result};
use grizzly::{Column, NullableColumn, Validity, Value};
use std::sync::Arc;

/// One argument, ready to be borrowed as a [`Column`].
pub(crate) enum Input<'a> {
    Int(&'a [i64], Option<Validity<'a>>),
    Float(&'a [f64], Option<Validity<'a>>),
    Bool(Vec<bool>, Option<Validity<'a>>),
    /// Strings or nulls, a null row as `null` (so no validity).
    Values(Vec<Value>),
}

impl Input<'_> {
    pub(crate) fn column(&self) -> Column<'_> {
        match self {
            Input::Int(v, _) => Column::Int(v),
            Input::Float(v, _) => Column::Float(v),
            Input::Bool(v, _) => Column::Bool(v),
            Input::Values(v) => Column::Value(v),
        }
    }

    pub(crate) fn validity(&self) -> Option<Validity<'_>> {
        match self {
            Input::Int(_, v) | Input::Float(_, v) | Input::Bool(_, v) => *v,
            Input::Values(_) => None,
        }
    }

    /// Row `i` as a PL-GRIZZLY value (`null` under a null).
    pub(crate) fn value(&self, i: usize) -> Value {
        if self.validity().is_some_and(|v| !v.is_valid(i)) {
            return Value::Null;
        }
        match self {
            Input::Int(v, _) => Value::Int(v[i]),
            Input::Float(v, _) => Value::Float(v[i]),
            Input::Bool(v, _) => Value::Bool(v[i]),
            Input::Values(v) => v[i].clone(),
        }
    }
}

fn validity(array: &dyn Array) -> Option<Validity<'_>> {
    let nulls = array.nulls().filter(|n| n.null_count() > 0)?;
    Some(Validity {
        bits: nulls.validity(),
        offset: nulls.offset(),
    })
}

/// An argument array (of a type `types::coerce` gives) as an input.
pub(crate) fn input(array: &ArrayRef) -> Result<Input<'_>> {
    let strings = |it: &mut dyn Iterator<Item = Option<&str>>| {
        it.map(|s| s.map_or(Value::Null, Value::from)).collect()
    };
    Ok(match array.data_type() {
        DataType::Int64 => Input::Int(array.as_primitive::<Int64Type>().values(), validity(array)),
        DataType::Float64 => Input::Float(
            array.as_primitive::<Float64Type>().values(),
            validity(array),
        ),
        DataType::Boolean => {
            let b = array.as_boolean();
            Input::Bool(b.values().iter().collect(), validity(array))
        }
        DataType::Utf8 => Input::Values(strings(&mut array.as_string::<i32>().iter())),
        DataType::LargeUtf8 => Input::Values(strings(&mut array.as_string::<i64>().iter())),
        DataType::Utf8View => Input::Values(strings(&mut array.as_string_view().iter())),
        DataType::Null => Input::Values(vec![Value::Null; array.len()]),
        other => return exec_err!("a Grizzly function cannot take {other}"),
    })
}

/// A validity bitmap from the core (bit `i` set: row `i` valid) as Arrow's.
fn nulls(bits: Option<Vec<u8>>, rows: usize) -> Option<NullBuffer> {
    let mut bits = bits?;
    bits.resize(rows.div_ceil(8), 0);
    Some(NullBuffer::new(BooleanBuffer::new(
        Buffer::from_vec(bits),
        0,
        rows,
    )))
}

pub(crate) fn int64(out: NullableColumn<i64>) -> ArrayRef {
    let rows = out.values.len();
    let values = ScalarBuffer::from(out.values);
    Arc::new(Int64Array::new(values, nulls(out.validity, rows)))
}

pub(crate) fn float64(out: NullableColumn<f64>) -> ArrayRef {
    let rows = out.values.len();
    let values = ScalarBuffer::from(out.values);
    Arc::new(Float64Array::new(values, nulls(out.validity, rows)))
}

pub(crate) fn boolean(out: NullableColumn<bool>) -> ArrayRef {
    let rows = out.values.len();
    let values = BooleanBuffer::from_iter(out.values);
    Arc::new(BooleanArray::new(values, nulls(out.validity, rows)))
}

/// `RETURNS string`: each result's text copied once into the array's bytes.
pub(crate) fn utf8(out: Vec<Value>, name: &str) -> Result<ArrayRef> {
    let mut offsets: Vec<i32> = Vec::with_capacity(out.len() + 1);
    let mut bytes: Vec<u8> = Vec::new();
    let mut nulls: Option<NullBufferBuilder> = None;
    offsets.push(0);
    for (row, v) in out.iter().enumerate() {
        match v {
            Value::Str(s) => bytes.extend_from_slice(s.as_bytes()),
            Value::Null => {
                let nulls = nulls.get_or_insert_with(|| {
                    let mut b = NullBufferBuilder::new(out.len());
                    b.append_n_non_nulls(row);
                    b
                });
                nulls.append_null();
                offsets.push(offsets[row]);
                continue;
            }
            other => return wrong_type(name, row, other, "string"),
        }
        if let Some(nulls) = &mut nulls {
            nulls.append_non_null();
        }
        let Ok(end) = i32::try_from(bytes.len()) else {
            return exec_err!("Grizzly function '{name}': results over 2 GiB in one batch");
        };
        offsets.push(end);
    }
    drop(out);
    // SAFETY: the offsets start at 0 and never decrease, the last is the bytes'
    // length (checked to fit an `i32`), and each range is a whole `str`'s bytes.
    let array = unsafe {
        StringArray::new_unchecked(
            OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
            Buffer::from_vec(bytes),
            nulls.and_then(|mut n| n.finish()),
        )
    };
    Ok(Arc::new(array))
}

/// The error of a result that is not of the function's `RETURNS` type.
fn wrong_type<T>(name: &str, row: usize, got: &Value, wanted: &str) -> Result<T> {
    exec_err!(
        "Grizzly function '{name}' failed at row {row}: type error: '{name}' returned {}, not {wanted}",
        got.ty().name()
    )
}

/// `RETURNS number`: ints converted to float, as `AS float` converts them.
pub(crate) fn number(out: Vec<Value>, name: &str) -> Result<ArrayRef> {
    let mut array = Vec::with_capacity(out.len());
    for (row, v) in out.into_iter().enumerate() {
        array.push(match v {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            Value::Null => None,
            other => return wrong_type(name, row, &other, "number"),
        });
    }
    Ok(Arc::new(Float64Array::from(array)))
}
