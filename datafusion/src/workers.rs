//! One Grizzly engine per thread and program: DataFusion calls a UDF from several
//! partitions at once, and an [`Engine`] is called through `&mut`. Each thread runs
//! its own engine (its own compiled code), found in a thread-local map: no lock
//! anywhere on the way from a batch to compiled code.

use crate::arrays::{self, Input};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, DataFusionError, Result};
use grizzly::{Column, ColumnFunc, ColumnType, Engine, Validity, Value, ValueType};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// A handle for one result type.
enum Handle {
    Int(ColumnFunc<Option<i64>>),
    Float(ColumnFunc<Option<f64>>),
    Bool(ColumnFunc<Option<bool>>),
    /// Strings are taken as values, so the array is built from each result's text
    /// (no `String` per row).
    Str(ColumnFunc<Value>),
    /// `RETURNS number`.
    Number(ColumnFunc<Value>),
}

/// A program's engine on this thread, and its handles by function, argument types
/// and result type.
struct Worker {
    engine: Engine,
    handles: HashMap<(String, Vec<ColumnType>, DataType), Handle>,
}

thread_local! {
    static WORKERS: RefCell<HashMap<Arc<str>, Worker>> = RefCell::new(HashMap::new());
}

/// An engine that has run `program`, or its error (a definition that does not parse
/// or check). Compiles as the default engine does (the JIT on).
pub(crate) fn load(program: &str) -> grizzly::Result<Engine> {
    let mut engine = Engine::new();
    engine.run(program)?;
    Ok(engine)
}

fn with_worker<T>(program: &Arc<str>, f: impl FnOnce(&mut Worker) -> Result<T>) -> Result<T> {
    WORKERS.with(|workers| {
        let mut workers = workers.borrow_mut();
        if !workers.contains_key(program) {
            let engine =
                load(program).map_err(|e| DataFusionError::Execution(e.message().into()))?;
            let worker = Worker {
                engine,
                handles: HashMap::new(),
            };
            workers.insert(Arc::clone(program), worker);
        }
        let worker = workers.get_mut(program).expect("inserted above");
        f(worker)
    })
}

/// The type every call of `name` with arguments of `types` returns, when compiled
/// code proves it (for a function without `RETURNS`).
pub(crate) fn proven_result(
    program: &Arc<str>,
    name: &str,
    types: &[ColumnType],
) -> Result<Option<ValueType>> {
    with_worker(program, |w| {
        let f = w
            .engine
            .column_func::<Value>(name, types)
            .map_err(|e| DataFusionError::Plan(e.message().into()))?;
        Ok(f.result_type())
    })
}

/// Runs `name` over `inputs` (all of `rows` rows), giving an array of `ret`.
pub(crate) fn run(
    program: &Arc<str>,
    name: &str,
    inputs: &[Input<'_>],
    rows: usize,
    ret: &DataType,
    number: bool,
) -> Result<ArrayRef> {
    let columns: Vec<Column<'_>> = inputs.iter().map(Input::column).collect();
    let validity: Vec<Option<Validity<'_>>> = inputs.iter().map(Input::validity).collect();
    let types: Vec<ColumnType> = columns.iter().map(Column::ty).collect();
    with_worker(program, |w| {
        let key = (name.to_string(), types.clone(), ret.clone());
        if !w.handles.contains_key(&key) {
            let e = &mut w.engine;
            let made = match ret {
                DataType::Float64 if number => e.column_func(name, &types).map(Handle::Number),
                DataType::Int64 => e.column_func(name, &types).map(Handle::Int),
                DataType::Float64 => e.column_func(name, &types).map(Handle::Float),
                DataType::Boolean => e.column_func(name, &types).map(Handle::Bool),
                DataType::Utf8 => e.column_func(name, &types).map(Handle::Str),
                other => return exec_err!("a Grizzly function cannot return {other}"),
            };
            let made = made.map_err(|e| DataFusionError::Execution(e.message().into()))?;
            w.handles.insert(key.clone(), made);
        }
        let handle = &w.handles[&key];
        let e = &mut w.engine;
        let ran = match handle {
            Handle::Int(f) => f
                .call_batch_nullable(e, &columns, &validity)
                .map(arrays::int64),
            Handle::Float(f) => f
                .call_batch_nullable(e, &columns, &validity)
                .map(arrays::float64),
            Handle::Bool(f) => f
                .call_batch_nullable(e, &columns, &validity)
                .map(arrays::boolean),
            Handle::Str(f) => match f.call_batch_masked(e, &columns, &validity) {
                Ok(values) => return arrays::utf8(values, name),
                Err(err) => Err(err),
            },
            Handle::Number(f) => match f.call_batch_masked(e, &columns, &validity) {
                Ok(values) => return arrays::number(values, name),
                Err(err) => Err(err),
            },
        };
        match ran {
            Ok(array) => Ok(array),
            Err(err) => Err(failed_row(e, name, inputs, rows, err)),
        }
    })
}

/// The error of a batch, naming the first row that fails (the language is pure: the
/// rows are called again one by one, in the interpreter's way, until one fails).
#[cold]
fn failed_row(
    engine: &mut Engine,
    name: &str,
    inputs: &[Input<'_>],
    rows: usize,
    err: grizzly::Error,
) -> DataFusionError {
    let row = (0..rows).find(|&i| {
        let args: Vec<Value> = inputs.iter().map(|c| c.value(i)).collect();
        engine.call(name, &args).is_err()
    });
    let at = row.map_or(String::new(), |r| format!(" at row {r}"));
    DataFusionError::Execution(format!(
        "Grizzly function '{name}' failed{at}: {}",
        err.message()
    ))
}
