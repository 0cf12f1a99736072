//! [`ColumnFunc`] batches over nullable columns (Arrow's layout: values and a
//! validity bitmap), split as `nullable.rs` splits them: runs of rows with no null
//! argument through compiled code over the columns, a row with a null argument called
//! with `null` in its place. An `Option<i64>` or `Option<f64>` result whose compiled
//! code returns that type is written by the batch straight into the result's values.

use super::columns::{Column, ColumnFunc};
#[cfg(feature = "jit")]
use super::handle::Handle;
use super::native::NativeType;
use super::nullable::{check_validity, mask_row, segments, NullableColumn, Segment, Validity};
use super::Engine;
use crate::error::Result;
use crate::value::Value;
#[cfg(feature = "jit")]
use crate::value::ValueType;

/// Compiled code for the rows of a [`ColumnFunc`] batch with a null argument: the
/// function specialized with the columns that have validity bitmaps taken as generic
/// values (so `null` is one of them), the others as the handle takes them.
#[cfg(feature = "jit")]
pub(super) struct NullRows {
    h: Handle,
    /// Per column: whether it is taken as a generic value.
    generic: Box<[bool]>,
    machine: Box<[Option<ValueType>]>,
}

/// `args` as words of `machine` types: a machine value's bits, a generic value's
/// address (valid while `args` is); `None` if some value is not of its type, or there
/// are more than eight (then the row takes [`Engine::call`]'s way).
#[cfg(feature = "jit")]
fn words_of(args: &[Value], machine: &[Option<ValueType>]) -> Option<([u64; 8], usize)> {
    let mut words = [0u64; 8];
    for ((word, arg), machine) in words
        .get_mut(..args.len())?
        .iter_mut()
        .zip(args)
        .zip(machine)
    {
        *word = match (machine, arg) {
            (None, arg) => arg as *const Value as u64,
            (Some(ValueType::Int), Value::Int(i)) => *i as u64,
            (Some(ValueType::Float), Value::Float(f)) => f.to_bits(),
            (Some(ValueType::Bool), Value::Bool(b)) => *b as u64,
            _ => return None,
        };
    }
    Some((words, args.len()))
}

#[cfg(feature = "jit")]
impl NullRows {
    fn new<R: NativeType>(
        engine: &mut Engine,
        f: &ColumnFunc<R>,
        validity: &[Option<Validity<'_>>],
    ) -> NullRows {
        let generic: Box<[bool]> = validity.iter().map(Option::is_some).collect();
        let machine = f
            .types
            .iter()
            .zip(generic.iter())
            .map(|(t, &g)| if g { None } else { t.machine() })
            .collect();
        let rows = NullRows {
            h: Handle::new(engine, f.h.id),
            generic,
            machine,
        };
        rows.h
            .refresh(engine, &rows.machine, super::typed::takes::<R>);
        rows
    }

    fn relook<R: NativeType>(&self, engine: &mut Engine) -> bool {
        self.h
            .relook(engine, &self.machine, super::typed::takes::<R>)
    }
}

impl<R: NativeType> ColumnFunc<R> {
    /// Calls the function once per row of nullable columns: `columns` are the values
    /// and `validity` each column's bitmap (`None`: no nulls). A row where an argument
    /// is null is called with `null` in its place (the value beneath is never read).
    /// Runs of rows with no null go through [`ColumnFunc::call_batch`]. For an `R`
    /// that holds `null` itself ([`Value`]); see also
    /// [`call_batch_nullable`](ColumnFunc::call_batch_nullable).
    ///
    /// ```
    /// use grizzly::{Column, ColumnType, Engine, Validity, Value};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION half(x) => x / 2").unwrap();
    /// let half = engine.column_func::<Value>("half", &[ColumnType::Float]).unwrap();
    /// let valid = Validity { bits: &[0b01], offset: 0 };
    /// let out = half.call_batch_masked(&mut engine, &[Column::Float(&[3.0, 0.0])], &[Some(valid)]);
    /// assert!(out.is_err(), "null / 2 is a type error");
    /// ```
    pub fn call_batch_masked(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
    ) -> Result<Vec<R>> {
        let _running = engine.begin_run();
        #[cfg(feature = "jit")]
        if let Some(out) = self.compacted(engine, columns, validity)? {
            return Ok(out);
        }
        let mut out = Vec::new();
        self.each_segment(engine, columns, validity, |f, engine, segment| {
            match segment {
                // (A batch with no null is one run: its results are the output.)
                Run::Valid(run) if out.is_empty() => out = f.call_batch(engine, run)?,
                Run::Valid(run) => out.extend(f.call_batch(engine, run)?),
                Run::Null(args) => out.push(f.null_row(engine, validity, args)?),
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// A row with a null argument (`args`, `null` there): through compiled code that
    /// takes the columns with validity bitmaps as generic values, or as
    /// [`Engine::call`] makes it.
    fn null_row(
        &self,
        engine: &mut Engine,
        validity: &[Option<Validity<'_>>],
        args: &[Value],
    ) -> Result<R> {
        #[cfg(feature = "jit")]
        {
            let nulls = self
                .nulls
                .get_or_init(|| NullRows::new(engine, self, validity));
            let fits = nulls.generic.len() == validity.len()
                && nulls
                    .generic
                    .iter()
                    .zip(validity)
                    .all(|(g, v)| *g == v.is_some());
            let current = fits && (nulls.h.is_current(engine) || nulls.relook::<R>(engine));
            if let (true, Some((words, count))) = (current, words_of(args, &nulls.machine)) {
                let entry = nulls.h.entry();
                let max_depth = engine.options.max_depth;
                // SAFETY: a current entry (checked above) compiled for `nulls.machine`,
                // one word per parameter (the arity was checked when the handle was
                // made), each of its type (`words_of`); `args` outlives the call.
                match unsafe { engine.jit.run_typed(entry, &words[..count], max_depth) } {
                    Ok(bits) => return self.result_of(&nulls.h, engine, bits),
                    Err(Some(site)) => {
                        engine
                            .jit
                            .typed_fell_back(&mut engine.profiles, entry.id, site)
                    }
                    Err(None) => {}
                }
            }
        }
        let _ = validity;
        self.call_values(engine, args)
    }

    /// Checks a nullable batch and runs it compacted (`column_compact.rs`) when that
    /// pays and no row fails: its results, or `None`.
    #[cfg(feature = "jit")]
    fn compacted(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
    ) -> Result<Option<Vec<R>>> {
        let rows = self.nullable_rows(engine, columns, validity)?;
        Ok(self.call_compacted(engine, columns, validity, rows))
    }

    /// Checks a nullable batch (the engine, the columns, the bitmaps): its rows.
    fn nullable_rows(
        &self,
        engine: &Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
    ) -> Result<usize> {
        self.h.check_engine(engine)?;
        let rows = self.rows(columns)?;
        check_validity(&self.h.name, validity, columns.len(), rows)?;
        Ok(rows)
    }

    /// Checks a nullable batch and hands each of its segments, in row order, to
    /// `each`: a run of valid rows as columns, a row with a null as its arguments.
    fn each_segment(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
        mut each: impl FnMut(&Self, &mut Engine, Run<'_, '_>) -> Result<()>,
    ) -> Result<()> {
        let rows = self.nullable_rows(engine, columns, validity)?;
        let mut run = Vec::with_capacity(columns.len());
        let mut args: Vec<Value> = Vec::with_capacity(columns.len());
        for segment in segments(validity, rows) {
            match segment {
                Segment::Valid(from, to) => {
                    run.clear();
                    run.extend(columns.iter().map(|c| c.slice(from, to)));
                    each(self, engine, Run::Valid(&run))?;
                }
                Segment::Null(row) => {
                    args.clear();
                    args.extend(columns.iter().map(|c| c.value(row)));
                    mask_row(&mut args, validity, row);
                    each(self, engine, Run::Null(&args))?;
                }
            }
        }
        Ok(())
    }
}

/// A segment of a nullable batch, as [`ColumnFunc::each_segment`] hands it over.
enum Run<'r, 'c> {
    /// Rows where every argument is valid.
    Valid(&'r [Column<'c>]),
    /// One row's arguments, `null` where the row is null.
    Null(&'r [Value]),
}

impl<T: NativeType + Default> ColumnFunc<Option<T>>
where
    Option<T>: NativeType,
{
    /// Calls the function once per row of nullable columns, as
    /// [`call_batch_masked`](ColumnFunc::call_batch_masked) does; a `null` result is
    /// a null row of the result.
    ///
    /// ```
    /// use grizzly::{Column, ColumnType, Engine, Validity};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION safe_div(a, b) => IF b == null OR b == 0 { null } ELSE { a / b }").unwrap();
    /// let div = engine
    ///     .column_func::<Option<i64>>("safe_div", &[ColumnType::Int, ColumnType::Int])
    ///     .unwrap();
    /// let valid = Validity { bits: &[0b011], offset: 0 }; // row 2 of `b` is null
    /// let cols = [Column::Int(&[6, 6, 6]), Column::Int(&[3, 0, 0])];
    /// let out = div.call_batch_nullable(&mut engine, &cols, &[None, Some(valid)]).unwrap();
    /// assert_eq!((out.get(0), out.get(1), out.get(2)), (Some(&2), None, None));
    /// ```
    pub fn call_batch_nullable(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        validity: &[Option<Validity<'_>>],
    ) -> Result<NullableColumn<T>> {
        let _running = engine.begin_run();
        let mut out = NullableColumn::with_capacity(columns.first().map_or(0, Column::len));
        #[cfg(feature = "jit")]
        {
            let rows = self.nullable_rows(engine, columns, validity)?;
            if let Some(out) = self.call_compacted_nullable(engine, columns, validity, rows) {
                return Ok(out);
            }
        }
        self.each_segment(engine, columns, validity, |f, engine, segment| {
            match segment {
                Run::Valid(run) => f.valid_run_into(engine, run, &mut out)?,
                Run::Null(args) => out.push(f.null_row(engine, validity, args)?),
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The results of a run of valid rows, appended to `out`: written by the batch
    /// straight into `out.values` when the compiled code returns a `T` that is a
    /// machine word (`i64`, `f64`), else as [`call_batch`](ColumnFunc::call_batch)
    /// gives them.
    pub(super) fn valid_run_into(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        out: &mut NullableColumn<T>,
    ) -> Result<()> {
        let rows = columns.first().map_or(0, Column::len);
        let done = self.compiled_into(engine, columns, rows, out)?;
        if done < rows {
            let rest: Vec<Column<'_>> = columns.iter().map(|c| c.slice(done, rows)).collect();
            for v in self.call_batch(engine, &rest)? {
                out.push(v);
            }
        }
        Ok(())
    }

    /// The first rows of a run of valid rows written by compiled code straight into
    /// `out.values` (a row that deoptimizes runs in the interpreter): how many were
    /// done. Zero when the code does not return a `T` that is a machine word.
    #[cfg(feature = "jit")]
    fn compiled_into(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        rows: usize,
        out: &mut NullableColumn<T>,
    ) -> Result<usize> {
        let mut done = 0;
        while done < rows && (self.h.is_current(engine) || self.relook(engine)) {
            let Some(machine) = self.h.machine_ret(engine) else {
                break;
            };
            if !super::typed::in_place::<T>(machine) {
                break;
            }
            let start = out.values.len();
            out.values.reserve(rows - done);
            // SAFETY: the entry is current (the loop's condition) and `columns` were
            // checked by `rows`; `values` has room for `rows - done` words after its
            // length, and a `T` is a word of the type the code returns (`in_place`).
            let ran = unsafe {
                let at = out.values.as_mut_ptr().add(start) as *mut u64;
                self.run_words(engine, columns, done, rows, at)
            };
            let Some((written, deopt)) = ran else {
                break;
            };
            // SAFETY: the batch wrote `written` words, each a `T` (`in_place`).
            unsafe { out.values.set_len(start + written) };
            out.mark_valid_from(start);
            done += written;
            match deopt {
                Some((id, site)) => {
                    engine.jit.typed_fell_back(&mut engine.profiles, id, site);
                    let value = self.call_row(engine, columns, done)?;
                    out.push(value);
                    done += 1;
                }
                // A batch stops early only at a deopt.
                None if done < rows => break,
                None => {}
            }
        }
        Ok(done)
    }

    #[cfg(not(feature = "jit"))]
    fn compiled_into(
        &self,
        _: &mut Engine,
        _: &[Column<'_>],
        _: usize,
        _: &mut NullableColumn<T>,
    ) -> Result<usize> {
        Ok(0)
    }
}
