//! How PL-GRIZZLY annotations map to Arrow types: the SQL signature of a function.
//!
//! | annotation | argument types accepted (coerced to)                  | result    |
//! |------------|-------------------------------------------------------|-----------|
//! | `int`      | any integer (`Int64`)                                  | `Int64`   |
//! | `float`    | any integer or float, decimals (`Float64`)            | `Float64` |
//! | `number`   | integers (`Int64`), floats and decimals (`Float64`)   | `Float64` |
//! | `bool`     | `Boolean`                                              | `Boolean` |
//! | `string`   | `Utf8`, `LargeUtf8`, `Utf8View` (as they are)          | `Utf8`    |
//! | none       | as `number` for numbers, `Boolean`, strings as they are | see below |
//!
//! A SQL `NULL` literal passes every annotation (as PL-GRIZZLY's `null` does). A
//! result without `RETURNS` takes the type compiled code proves every row gives for
//! the argument types (int, float or bool); when nothing proves one, planning the
//! query fails and asks for a `RETURNS` annotation. `RETURNS number` gives `Float64`,
//! an int result converted to float.

use datafusion::arrow::datatypes::DataType;
use grizzly::{Annotation, ColumnType};

/// The type an argument of `ty` is coerced to for a parameter annotated `ann`, or
/// `None` when it cannot pass.
pub(crate) fn coerce(ann: Option<Annotation>, ty: &DataType) -> Option<DataType> {
    use DataType::*;
    let integer = ty.is_integer();
    let float = ty.is_floating()
        || matches!(
            ty,
            Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..)
        );
    let string = matches!(ty, Utf8 | LargeUtf8 | Utf8View);
    Some(match (ann, ty) {
        (_, Null) => match ann {
            Some(Annotation::Int) => Int64,
            Some(Annotation::Float) => Float64,
            Some(Annotation::Bool) => Boolean,
            Some(Annotation::String) => Utf8,
            Some(Annotation::Number) | None => Null,
        },
        (Some(Annotation::Int), _) if integer => Int64,
        (Some(Annotation::Float), _) if integer || float => Float64,
        (Some(Annotation::Number) | None, _) if integer => Int64,
        (Some(Annotation::Number) | None, _) if float => Float64,
        (Some(Annotation::Bool) | None, Boolean) => Boolean,
        (Some(Annotation::String) | None, _) if string => ty.clone(),
        _ => return None,
    })
}

/// How a coerced argument type crosses into PL-GRIZZLY.
pub(crate) fn column_type(ty: &DataType) -> Option<ColumnType> {
    Some(match ty {
        DataType::Int64 => ColumnType::Int,
        DataType::Float64 => ColumnType::Float,
        DataType::Boolean => ColumnType::Bool,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            ColumnType::Value
        }
        _ => return None,
    })
}

/// The result type `RETURNS ann` gives.
pub(crate) fn returned(ann: Annotation) -> DataType {
    match ann {
        Annotation::Int => DataType::Int64,
        Annotation::Float | Annotation::Number => DataType::Float64,
        Annotation::Bool => DataType::Boolean,
        Annotation::String => DataType::Utf8,
    }
}

/// The SQL type names of PL-GRIZZLY annotations, for `CREATE FUNCTION`: the
/// annotation a parameter or result of `ty` gets.
pub(crate) fn annotation_of(ty: &DataType) -> Option<Annotation> {
    use DataType::*;
    Some(match ty {
        _ if ty.is_integer() => Annotation::Int,
        _ if ty.is_floating() => Annotation::Float,
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => Annotation::Float,
        Boolean => Annotation::Bool,
        Utf8 | LargeUtf8 | Utf8View => Annotation::String,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_and_strings_keep_their_layout() {
        use DataType::*;
        assert_eq!(coerce(Some(Annotation::Int), &Int32), Some(Int64));
        assert_eq!(coerce(Some(Annotation::Int), &Float64), None);
        assert_eq!(coerce(Some(Annotation::Float), &UInt8), Some(Float64));
        assert_eq!(coerce(Some(Annotation::Number), &Int16), Some(Int64));
        assert_eq!(coerce(Some(Annotation::Number), &Float32), Some(Float64));
        assert_eq!(coerce(Some(Annotation::String), &Utf8View), Some(Utf8View));
        assert_eq!(coerce(Some(Annotation::String), &Int64), None);
        assert_eq!(coerce(Some(Annotation::Bool), &Null), Some(Boolean));
        assert_eq!(coerce(None, &LargeUtf8), Some(LargeUtf8));
        assert_eq!(coerce(None, &Date32), None);
        for ty in [Int64, Float64, Boolean, Utf8, Utf8View, Null] {
            assert!(column_type(&ty).is_some(), "{ty}");
        }
        assert_eq!(annotation_of(&Int8), Some(Annotation::Int));
        assert_eq!(annotation_of(&Utf8View), Some(Annotation::String));
    }
}
