//! PL-GRIZZLY functions as SQL user-defined functions in Apache DataFusion.
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = grizzly_datafusion::session();
//! grizzly_datafusion::register_program(&ctx, "FUNCTION tier(x: int) RETURNS string =>
//!     IF x > 100 { \"gold\" } ELSE { \"basic\" }").unwrap();
//! ctx.sql("CREATE FUNCTION twice(x BIGINT) RETURNS BIGINT LANGUAGE grizzly AS 'x * 2'").await?;
//! ctx.sql("SELECT tier(twice(a)) FROM (VALUES (10), (70)) AS t(a)").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! Each function becomes a [`GrizzlyUdf`] (a `ScalarUDFImpl`): its SQL signature
//! comes from the parameter annotations and `RETURNS` (the table in `types.rs`:
//! `int` is `Int64`, `float` `Float64`, `bool` `Boolean`, `string` `Utf8`, with
//! `Utf8View` and `LargeUtf8` taken as they are; other integer and float widths are
//! coerced). A batch runs in compiled code over the Arrow buffers; a null argument is
//! PL-GRIZZLY `null` and the value beneath it is never read. An error names the
//! function, the row of its batch and the message.

mod arrays;
mod factory;
mod types;
mod udf;
mod workers;

pub use factory::GrizzlyFunctionFactory;
pub use udf::GrizzlyUdf;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Registers every function `program` (a `.grz` source) defines as a UDF of `ctx`,
/// and returns their names. A program that does not parse or check is an error (its
/// [`report`](grizzly::Error::report) is ariadne's, as `grizzly` prints it).
pub fn register_program(ctx: &SessionContext, program: &str) -> grizzly::Result<Vec<String>> {
    let udfs = GrizzlyUdf::all(program)?;
    let names = udfs.iter().map(|u| u.declaration().name.clone()).collect();
    for udf in udfs {
        ctx.register_udf(ScalarUDF::new_from_impl(udf));
    }
    Ok(names)
}

/// A session whose `CREATE FUNCTION ... LANGUAGE grizzly` defines Grizzly UDFs.
pub fn session() -> SessionContext {
    SessionContext::new().with_function_factory(Arc::new(GrizzlyFunctionFactory::default()))
}
