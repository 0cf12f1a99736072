//! Batch calls whose argument types are known only at run time, as a query engine
//! knows them: one [`Column`] per argument, of ints, floats, bools or any values.
//!
//! A [`ColumnFunc`] is a [`TypedFunc`](super::TypedFunc) whose argument types are data:
//! it caches the specialization compiled for its column types the same way, runs
//! columns of ints and floats through the compiled batch function in place, and other
//! columns row by row straight into compiled code (a generic value by its address in
//! the column). A row that deoptimizes runs in the interpreter, and the batch goes on.

#[cfg(feature = "jit")]
use super::handle::machine_of;
use super::handle::Handle;
use super::native::NativeType;
use super::typed::takes;
use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Value, ValueType};
#[cfg(feature = "jit")]
use grizzly_arch::BatchOut;
use std::marker::PhantomData;

/// The type of a [`Column`]: how its values cross into compiled code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `i64`s, machine words read in place.
    Int,
    /// `f64`s, machine words read in place.
    Float,
    /// `bool`s, machine words.
    Bool,
    /// Any [`Value`]s (strings, say), passed by address.
    Value,
}

impl ColumnType {
    /// The machine type compiled code takes it as (`None`: a generic value).
    pub(super) fn machine(self) -> Option<ValueType> {
        match self {
            ColumnType::Int => Some(ValueType::Int),
            ColumnType::Float => Some(ValueType::Float),
            ColumnType::Bool => Some(ValueType::Bool),
            ColumnType::Value => None,
        }
    }
}

/// One argument's values in a [`ColumnFunc`] batch call.
#[derive(Clone, Copy, Debug)]
pub enum Column<'a> {
    /// Ints.
    Int(&'a [i64]),
    /// Floats.
    Float(&'a [f64]),
    /// Bools.
    Bool(&'a [bool]),
    /// Any values.
    Value(&'a [Value]),
}

impl Column<'_> {
    /// Its type.
    pub fn ty(&self) -> ColumnType {
        match self {
            Column::Int(_) => ColumnType::Int,
            Column::Float(_) => ColumnType::Float,
            Column::Bool(_) => ColumnType::Bool,
            Column::Value(_) => ColumnType::Value,
        }
    }

    /// Its number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Int(c) => c.len(),
            Column::Float(c) => c.len(),
            Column::Bool(c) => c.len(),
            Column::Value(c) => c.len(),
        }
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` as a value (`i` in bounds).
    pub(super) fn value(&self, i: usize) -> Value {
        match self {
            Column::Int(c) => Value::Int(c[i]),
            Column::Float(c) => Value::Float(c[i]),
            Column::Bool(c) => Value::Bool(c[i]),
            Column::Value(c) => c[i].clone(),
        }
    }

    /// Row `i` as compiled code takes it: a machine value's bits, or a generic value's
    /// address (valid while the column is borrowed). `i` in bounds.
    #[cfg(feature = "jit")]
    pub(super) fn word(&self, i: usize) -> u64 {
        match self {
            Column::Int(c) => c[i] as u64,
            Column::Float(c) => c[i].to_bits(),
            Column::Bool(c) => c[i] as u64,
            Column::Value(c) => &c[i] as *const Value as u64,
        }
    }

    /// The address of row `from` of a column of machine words (ints or floats).
    #[cfg(feature = "jit")]
    fn words_from(&self, from: usize) -> Option<*const u64> {
        match self {
            Column::Int(c) => Some(c[from..].as_ptr() as *const u64),
            Column::Float(c) => Some(c[from..].as_ptr() as *const u64),
            Column::Bool(_) | Column::Value(_) => None,
        }
    }

    /// Rows `from..to`.
    pub(super) fn slice(&self, from: usize, to: usize) -> Self {
        match self {
            Column::Int(c) => Column::Int(&c[from..to]),
            Column::Float(c) => Column::Float(&c[from..to]),
            Column::Bool(c) => Column::Bool(&c[from..to]),
            Column::Value(c) => Column::Value(&c[from..to]),
        }
    }
}

/// A handle on a function of one [`Engine`], called over columns whose types were
/// given at run time: made by [`Engine::column_func`].
///
/// ```
/// use grizzly::{Column, ColumnType, Engine, Value};
/// let mut engine = Engine::new();
/// engine.run("FUNCTION label(score, name) => name + \": \" + ((score * 2) AS string)").unwrap();
/// let label = engine
///     .column_func::<String>("label", &[ColumnType::Int, ColumnType::Value])
///     .unwrap();
/// let names = [Value::from("a"), Value::from("b")];
/// let out = label.call_batch(&mut engine, &[Column::Int(&[1, 2]), Column::Value(&names)]);
/// assert_eq!(out.unwrap(), ["a: 2", "b: 4"]);
/// ```
pub struct ColumnFunc<R> {
    pub(super) h: Handle,
    pub(super) types: Box<[ColumnType]>,
    machine: Box<[Option<ValueType>]>,
    /// The type every call returns, when compiled code proved it.
    known: Option<ValueType>,
    /// For rows with a null argument: compiled code taking the columns that have
    /// validity bitmaps as generic values (made at the first such row).
    #[cfg(feature = "jit")]
    pub(super) nulls: std::sync::OnceLock<super::column_nulls::NullRows>,
    /// For compacted batches' rows with a null argument: the function over columns
    /// with the nullable ones generic (made at the first such batch).
    #[cfg(feature = "jit")]
    pub(super) null_func: std::sync::OnceLock<Box<ColumnFunc<R>>>,
    ret: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for ColumnFunc<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnFunc")
            .field("name", &self.h.name)
            .field("types", &self.types)
            .field("compiled", &self.h.compiled())
            .finish()
    }
}

impl Engine {
    /// A handle on the function `name`, called over columns of `types` (one per
    /// argument) and giving `R`s: for argument types known only at run time, where
    /// [`Engine::typed`] needs them in Rust.
    ///
    /// Checks that the function exists and takes `types.len()` arguments, and
    /// compiles its specialization for those types now (when the JIT is on and can
    /// compile it). A call whose result is not an `R` is a type error.
    pub fn column_func<R: NativeType>(
        &mut self,
        name: &str,
        types: &[ColumnType],
    ) -> Result<ColumnFunc<R>> {
        let (id, f) = self.defined(name)?;
        super::check_arity(name, f.code.params, types.len())?;
        let mut handle = ColumnFunc {
            h: Handle::new(self, id),
            types: types.into(),
            machine: types.iter().map(|t| t.machine()).collect(),
            known: None,
            #[cfg(feature = "jit")]
            nulls: std::sync::OnceLock::new(),
            #[cfg(feature = "jit")]
            null_func: std::sync::OnceLock::new(),
            ret: PhantomData,
        };
        handle.known = handle.h.refresh(self, &handle.machine, takes::<R>);
        Ok(handle)
    }
}

impl<R: NativeType> ColumnFunc<R> {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.h.name
    }

    /// The column types it takes.
    pub fn types(&self) -> &[ColumnType] {
        &self.types
    }

    /// The type every call with these column types returns, when the compiled
    /// specialization made with the handle proves it (`None`: not known, for example
    /// in an engine without the JIT, or when some rows may give another type).
    ///
    /// ```
    /// use grizzly::{ColumnType, Engine, Value, ValueType};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION f(x) => x * 2\nFUNCTION g(x) => TRY x * 2 CATCH null").unwrap();
    /// let f = engine.column_func::<Value>("f", &[ColumnType::Int]).unwrap();
    /// let g = engine.column_func::<Value>("g", &[ColumnType::Int]).unwrap();
    /// assert_eq!(f.result_type(), Some(ValueType::Int));
    /// assert_eq!(g.result_type(), None);
    /// ```
    pub fn result_type(&self) -> Option<ValueType> {
        self.known
    }

    /// Calls the function once per row of `columns` (one per argument, of the types
    /// the handle was made for, all of one length) and returns the results in row
    /// order. The first row whose call fails ends the batch with its error, the
    /// interpreter's.
    pub fn call_batch(&self, engine: &mut Engine, columns: &[Column<'_>]) -> Result<Vec<R>> {
        let _running = engine.begin_run();
        self.h.check_engine(engine)?;
        let rows = self.rows(columns)?;
        let mut out = Vec::with_capacity(rows);
        #[cfg(feature = "jit")]
        if self.h.is_current(engine) || self.relook(engine) {
            self.run_compiled(engine, columns, rows, &mut out)?;
        }
        while out.len() < rows {
            let row = out.len();
            out.push(self.call_row(engine, columns, row)?);
        }
        Ok(out)
    }

    /// Looks again for compiled code after the cached entry stopped being current:
    /// whether it is current now.
    #[cfg(feature = "jit")]
    pub(super) fn relook(&self, engine: &mut Engine) -> bool {
        self.h.relook(engine, &self.machine, takes::<R>)
    }

    /// The number of rows of `columns`, or the usage error saying why they do not fit.
    pub(super) fn rows(&self, columns: &[Column<'_>]) -> Result<usize> {
        let usage = |what: String| {
            Error::new(
                ErrorKind::Usage,
                format!("a batch call of '{}' {what}", self.h.name),
            )
        };
        if columns.len() != self.types.len() {
            return Err(usage(format!(
                "needs {} columns, got {}",
                self.types.len(),
                columns.len()
            )));
        }
        for (i, (c, &t)) in columns.iter().zip(self.types.iter()).enumerate() {
            if c.ty() != t {
                return Err(usage(format!(
                    "takes a {t:?} column as argument {}, got {:?}",
                    i + 1,
                    c.ty()
                )));
            }
        }
        let rows = columns.first().map_or(0, Column::len);
        if columns.iter().any(|c| c.len() != rows) {
            return Err(usage("needs columns all of one length".into()));
        }
        Ok(rows)
    }

    /// Row `row` as [`Engine::call`] makes it, then the result's type checked.
    pub(super) fn call_row(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        row: usize,
    ) -> Result<R> {
        let args: Vec<Value> = columns.iter().map(|c| c.value(row)).collect();
        self.call_values(engine, &args)
    }

    pub(super) fn call_values(&self, engine: &mut Engine, args: &[Value]) -> Result<R> {
        let value = engine.call_id(self.h.id, &self.h.name, args)?;
        self.check(value)
    }

    /// A result as an `R`, or the type error saying it is not one.
    fn check(&self, value: Value) -> Result<R> {
        let ty = value.ty();
        R::from_owned(value).ok_or_else(|| self.h.wrong_type(ty, R::NAME))
    }

    /// Runs the rows from `out.len()` on in compiled code (the entry is current),
    /// pushing their results; a row that deoptimizes runs in the interpreter. Stops
    /// early (leaving the rest to the interpreter) if the entry stops being current.
    #[cfg(feature = "jit")]
    fn run_compiled(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        rows: usize,
        out: &mut Vec<R>,
    ) -> Result<()> {
        let mut words = vec![0u64; columns.len()];
        while out.len() < rows && self.h.is_current(engine) {
            let from = out.len();
            let ran = match self.h.machine_ret(engine) {
                Some(machine) => self.run_batch(engine, columns, from, rows, machine, out)?,
                // (Current: the loop's condition.)
                None => self.run_value_batch(engine, columns, from, rows, out)?,
            };
            match ran {
                Some(None) => continue,
                Some(Some((id, site))) => {
                    engine.jit.typed_fell_back(&mut engine.profiles, id, site);
                    // (The batch pushed the rows before this one.)
                    let row = out.len();
                    out.push(self.call_row(engine, columns, row)?);
                    continue;
                }
                // No batch entry for this many columns: row by row.
                None => {}
            }
            for (w, c) in words.iter_mut().zip(columns) {
                *w = c.word(from);
            }
            let entry = self.h.entry();
            let max_depth = engine.options.max_depth;
            // Current entry (the loop's condition) for `self.machine`; one word per
            // parameter (arity checked at creation), generic ones pointing into columns.
            // SAFETY: live code of these types; the values outlive the call.
            let ran = unsafe { engine.jit.run_typed(entry, &words, max_depth) };
            let result = match ran {
                Ok(bits) => self.compiled_result(engine, bits),
                Err(site) => {
                    if let Some(site) = site {
                        engine
                            .jit
                            .typed_fell_back(&mut engine.profiles, entry.id, site);
                    }
                    self.call_row(engine, columns, from)
                }
            };
            out.push(result?);
        }
        Ok(())
    }

    /// Rows `from..rows` of the columns through the batch function (or the batch
    /// entry stub), results pushed to `out`: `Some(deopt)` as for
    /// `TypedFunc::run_columns`, `None` when there is no way in for a batch.
    #[cfg(feature = "jit")]
    fn run_batch(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        from: usize,
        rows: usize,
        machine: ValueType,
        out: &mut Vec<R>,
    ) -> Result<Option<Option<(u32, u64)>>> {
        let mut bits: Vec<u64> = Vec::with_capacity(rows - from);
        // SAFETY: `bits` has room for the rows from `from`.
        let ran = unsafe { self.run_words(engine, columns, from, rows, bits.as_mut_ptr()) };
        let Some((done, deopt)) = ran else {
            return Ok(None);
        };
        // SAFETY: the batch wrote `done` words.
        unsafe { bits.set_len(done) };
        for b in bits {
            out.push(R::from_bits(machine, b).ok_or_else(|| self.h.wrong_type(machine, R::NAME))?);
        }
        Ok(Some(deopt))
    }

    /// Rows `from..rows` of the columns through the batch entry stub of a
    /// specialization returning generic values, results pushed to `out`: as
    /// [`run_batch`](Self::run_batch).
    #[cfg(feature = "jit")]
    fn run_value_batch(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        from: usize,
        rows: usize,
        out: &mut Vec<R>,
    ) -> Result<Option<Option<(u32, u64)>>> {
        let n = rows - from;
        // An `R` that is a `Value` is written in place; others are converted after.
        let in_place = R::IS_VALUE && std::mem::size_of::<R>() == std::mem::size_of::<Value>();
        let mut values: Vec<Value> = Vec::new();
        let start = out.len();
        let at: *mut Value = if in_place {
            out.reserve(n);
            // SAFETY: `out` has room for `n` more `R`s, which are `Value`s (`IS_VALUE`
            // is only `Value`'s).
            unsafe { out.as_mut_ptr().add(start).cast() }
        } else {
            values.reserve(n);
            values.as_mut_ptr()
        };
        let ran = with_word_pointers(columns, from, |pointers| {
            // A current entry (the caller's loop condition) returning generic values
            // (its machine result is none), compiled for these columns' machine types.
            // SAFETY: one column per parameter, each of words with `n` rows from
            // `from` (checked by `rows`); `at` has room for `n` values.
            unsafe {
                self.h
                    .run_batch(engine, pointers, n, at.cast(), BatchOut::Values)
            }
        });
        let Some((done, deopt)) = ran else {
            return Ok(None);
        };
        if in_place {
            // SAFETY: the batch moved `done` values (`R`s) there.
            unsafe { out.set_len(start + done) };
        } else {
            // SAFETY: the batch moved `done` values there.
            unsafe { values.set_len(done) };
            out.reserve(done);
            for v in values {
                out.push(self.check(v)?);
            }
        }
        Ok(Some(deopt))
    }

    /// Rows `from..rows` of the columns through the batch function (or the batch
    /// entry stub), the results' bits written from `at` on: the rows done, and
    /// `Some((spec, site))` when the next row deoptimized; `None` when there is no way
    /// in for a batch.
    ///
    /// # Safety
    /// The entry must be current, every column with `rows` rows (as `rows` checks),
    /// and `at` valid for writing `rows - from` words.
    #[cfg(feature = "jit")]
    pub(super) unsafe fn run_words(
        &self,
        engine: &mut Engine,
        columns: &[Column<'_>],
        from: usize,
        rows: usize,
        at: *mut u64,
    ) -> Option<(usize, Option<(u32, u64)>)> {
        with_word_pointers(columns, from, |pointers| {
            // SAFETY: a current entry compiled for these columns' machine types, one
            // column per parameter, each of words with `rows - from` rows from `from`;
            // `at` has room for as many words (the caller's contract).
            unsafe {
                self.h
                    .run_batch(engine, pointers, rows - from, at, BatchOut::Words)
            }
        })
    }

    /// The result of a compiled call that returned `bits` (or a generic value).
    #[cfg(feature = "jit")]
    fn compiled_result(&self, engine: &mut Engine, bits: u64) -> Result<R> {
        self.result_of(&self.h, engine, bits)
    }

    /// The result of a call through `h` that returned `bits` (or a generic value).
    #[cfg(feature = "jit")]
    pub(super) fn result_of(&self, h: &Handle, engine: &mut Engine, bits: u64) -> Result<R> {
        match machine_of(h.ret()) {
            Some(t) => R::from_bits(t, bits).ok_or_else(|| self.h.wrong_type(t, R::NAME)),
            None => {
                let value = engine.jit.take_value_ret();
                self.check(value)
            }
        }
    }
}

/// `f` given, per column, the address of row `from` of its words as compiled code
/// takes them: ints and floats in place, bools as words and generic values as their
/// addresses in a column made for the call (valid while `columns` are borrowed).
/// Short runs between nulls make this per-run work: no allocation for the usual
/// handful of word columns.
#[cfg(feature = "jit")]
fn with_word_pointers<T>(
    columns: &[Column<'_>],
    from: usize,
    f: impl FnOnce(&[*const u64]) -> T,
) -> T {
    let made: Vec<Vec<u64>> = columns
        .iter()
        .filter(|c| c.words_from(from).is_none())
        .map(|c| (from..c.len()).map(|i| c.word(i)).collect())
        .collect();
    let mut made_iter = made.iter();
    let mut pointer = |c: &Column<'_>| match c.words_from(from) {
        Some(p) => p,
        // (One made per such column, in order.)
        None => made_iter.next().map_or(std::ptr::null(), |m| m.as_ptr()),
    };
    let mut inline = [std::ptr::null::<u64>(); 8];
    let heap: Vec<*const u64>;
    let pointers: &[*const u64] = match inline.get_mut(..columns.len()) {
        Some(slots) => {
            for (slot, c) in slots.iter_mut().zip(columns) {
                *slot = pointer(c);
            }
            slots
        }
        None => {
            heap = columns.iter().map(&mut pointer).collect();
            &heap
        }
    };
    f(pointers)
}
