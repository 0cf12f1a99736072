//! A PL-GRIZZLY function as a DataFusion scalar UDF.

use crate::{arrays, types, workers};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use grizzly::{Annotation, ColumnType, Declaration, ValueType};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A function of a PL-GRIZZLY program, called from SQL.
///
/// The program (the whole source that defines it, so that it can call the others)
/// travels with the UDF; each thread that calls it runs the program in an engine of
/// its own and calls the function over each batch's Arrow buffers (see the crate
/// docs for the types). Volatility is immutable: PL-GRIZZLY functions are pure.
#[derive(Debug, Clone)]
pub struct GrizzlyUdf {
    program: Arc<str>,
    declaration: Declaration,
    signature: Signature,
}

impl PartialEq for GrizzlyUdf {
    fn eq(&self, other: &Self) -> bool {
        self.declaration == other.declaration && self.program == other.program
    }
}

impl Eq for GrizzlyUdf {}

impl Hash for GrizzlyUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.declaration.name.hash(state);
        self.program.hash(state);
    }
}

impl GrizzlyUdf {
    /// The function `name` of `program`. Runs the program first, so a definition that
    /// does not parse or check is an error here (with its report).
    pub fn new(program: &str, name: &str) -> grizzly::Result<GrizzlyUdf> {
        let engine = workers::load(program)?;
        Self::of(Arc::from(program), &engine, name)
    }

    /// Every function `program` defines, in the order they were defined.
    pub fn all(program: &str) -> grizzly::Result<Vec<GrizzlyUdf>> {
        let engine = workers::load(program)?;
        let program: Arc<str> = Arc::from(program);
        engine
            .function_names()
            .iter()
            .map(|name| Self::of(Arc::clone(&program), &engine, name))
            .collect()
    }

    fn of(program: Arc<str>, engine: &grizzly::Engine, name: &str) -> grizzly::Result<GrizzlyUdf> {
        let declaration = engine.declaration(name).ok_or_else(|| {
            grizzly::Error::new(
                grizzly::ErrorKind::UnknownFunction,
                format!("unknown function '{name}'"),
            )
        })?;
        Ok(GrizzlyUdf {
            program,
            declaration,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }

    /// The program that defines it.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// What the function declares.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    fn column_types(&self, arg_types: &[DataType]) -> Result<Vec<ColumnType>> {
        arg_types
            .iter()
            .map(|t| match types::column_type(t) {
                Some(c) => Ok(c),
                None => plan_err!(
                    "Grizzly function '{}' cannot take {t}",
                    self.declaration.name
                ),
            })
            .collect()
    }
}

impl ScalarUDFImpl for GrizzlyUdf {
    fn name(&self) -> &str {
        &self.declaration.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let d = &self.declaration;
        if arg_types.len() != d.params.len() {
            return plan_err!(
                "wrong number of arguments: '{}' expects {}, got {}",
                d.name,
                d.params.len(),
                arg_types.len()
            );
        }
        d.params
            .iter()
            .zip(arg_types)
            .map(|((param, ann), ty)| match types::coerce(*ann, ty) {
                Some(t) => Ok(t),
                None => plan_err!(
                    "Grizzly function '{}': parameter '{param}' ({}) cannot take {ty}",
                    d.name,
                    ann.map_or("not annotated", Annotation::name)
                ),
            })
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if let Some(ann) = self.declaration.returns {
            return Ok(types::returned(ann));
        }
        let columns = self.column_types(arg_types)?;
        match workers::proven_result(&self.program, &self.declaration.name, &columns)? {
            Some(ValueType::Int) => Ok(DataType::Int64),
            Some(ValueType::Float) => Ok(DataType::Float64),
            Some(ValueType::Bool) => Ok(DataType::Boolean),
            _ => plan_err!(
                "Grizzly function '{}' has no RETURNS annotation, and its result type for ({}) \
                 is not known before it runs: annotate it (for example RETURNS string)",
                self.declaration.name,
                arg_types
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        if arrays.iter().any(|a| a.len() != rows) {
            return exec_err!(
                "Grizzly function '{}': argument lengths differ",
                self.name()
            );
        }
        let inputs = arrays
            .iter()
            .map(arrays::input)
            .collect::<Result<Vec<_>>>()?;
        let number = self.declaration.returns == Some(Annotation::Number);
        let out = workers::run(
            &self.program,
            &self.declaration.name,
            &inputs,
            rows,
            args.return_type(),
            number,
        )?;
        Ok(ColumnarValue::Array(out))
    }
}
