//! SQL DDL: `CREATE FUNCTION f(a BIGINT, b DOUBLE) RETURNS DOUBLE LANGUAGE grizzly AS
//! '<body>'` defines a PL-GRIZZLY function and registers it as a UDF.

use crate::{types, GrizzlyUdf};
use async_trait::async_trait;
use datafusion::common::{plan_datafusion_err, plan_err, DataFusionError, Result};
use datafusion::execution::context::{FunctionFactory, RegisterFunction, SessionState};
use datafusion::logical_expr::{CreateFunction, Expr, ScalarUDF};
use std::sync::{Arc, Mutex};

/// Makes Grizzly UDFs from `CREATE FUNCTION ... LANGUAGE grizzly AS '<body>'`.
///
/// The body is a PL-GRIZZLY expression, or a block `{ LET ...; result }`; parameters
/// and the result get the annotations of their SQL types (`BIGINT` and the other
/// integers: `int`; `DOUBLE`, `REAL`, decimals: `float`; `BOOLEAN`: `bool`;
/// `VARCHAR`/`TEXT`: `string`). Each function may call the functions defined before it
/// (by this factory, or in the program it was made with).
#[derive(Debug, Default)]
pub struct GrizzlyFunctionFactory {
    /// Every definition so far (locked only while a `CREATE FUNCTION` runs).
    program: Mutex<String>,
}

impl GrizzlyFunctionFactory {
    /// A factory whose functions may call those of `program` (a `.grz` source).
    pub fn with_program(program: &str) -> GrizzlyFunctionFactory {
        GrizzlyFunctionFactory {
            program: Mutex::new(format!("{program}\n")),
        }
    }
}

/// The PL-GRIZZLY definition of a `CREATE FUNCTION` statement.
fn definition(s: &CreateFunction) -> Result<String> {
    match &s.params.language {
        Some(l) if l.value.eq_ignore_ascii_case("grizzly") => {}
        Some(l) => return plan_err!("CREATE FUNCTION: language {} is not grizzly", l.value),
        None => return plan_err!("CREATE FUNCTION: say LANGUAGE grizzly"),
    }
    let mut params = Vec::new();
    for (i, arg) in s.args.iter().flatten().enumerate() {
        let Some(name) = &arg.name else {
            return plan_err!("CREATE FUNCTION {}: argument {} has no name", s.name, i + 1);
        };
        let Some(ann) = types::annotation_of(&arg.data_type) else {
            return plan_err!(
                "CREATE FUNCTION {}: argument '{}' of type {} has no PL-GRIZZLY type",
                s.name,
                name.value,
                arg.data_type
            );
        };
        params.push(format!("{}: {}", name.value, ann.name()));
    }
    let returns = match &s.return_type {
        None => String::new(),
        Some(t) => match types::annotation_of(t) {
            Some(ann) => format!(" RETURNS {}", ann.name()),
            None => {
                return plan_err!(
                    "CREATE FUNCTION {}: a result of type {t} has no PL-GRIZZLY type",
                    s.name
                )
            }
        },
    };
    let body = match &s.params.function_body {
        Some(Expr::Literal(v, _)) => v.try_as_str().flatten(),
        _ => None,
    };
    let Some(body) = body else {
        return plan_err!(
            "CREATE FUNCTION {}: give the body as a string: AS '<body>'",
            s.name
        );
    };
    let head = format!("{}({}){returns}", s.name, params.join(", "));
    Ok(if body.trim_start().starts_with('{') {
        format!("CREATE OR REPLACE FUNCTION {head} {body}")
    } else {
        format!("FUNCTION {head} => {body}")
    })
}

#[async_trait]
impl FunctionFactory for GrizzlyFunctionFactory {
    async fn create(
        &self,
        _state: &SessionState,
        statement: CreateFunction,
    ) -> Result<RegisterFunction> {
        let definition = definition(&statement)?;
        let mut program = self
            .program
            .lock()
            .map_err(|_| plan_datafusion_err!("CREATE FUNCTION: an earlier one panicked"))?;
        let candidate = format!("{program}{definition}\n");
        let udf = GrizzlyUdf::new(&candidate, &statement.name).map_err(|e| {
            DataFusionError::Plan(format!(
                "CREATE FUNCTION {}:\n{}",
                statement.name,
                e.report()
            ))
        })?;
        *program = candidate;
        Ok(RegisterFunction::Scalar(Arc::new(
            ScalarUDF::new_from_impl(udf),
        )))
    }
}
