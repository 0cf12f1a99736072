//! Typed handles: a PL-GRIZZLY function called from Rust with Rust argument and result
//! types, straight into its compiled code (as wasmtime's `TypedFunc`).
//!
//! A handle remembers the function and the specialization compiled for its argument
//! types. A call checks that the specialization is still live (one compare) and
//! calls its native function (a leaf compiled in the C ABI) with the arguments as
//! machine words, or enters its code through the direct entry stub.
//! When it deoptimizes, or is gone (the function was redefined, `jit clear`), the call
//! runs in the interpreter exactly as [`Engine::call`] would, so the result or the
//! error is always the interpreter's; a gone specialization is looked up or compiled
//! again at that call.

use super::handle::Handle;
#[cfg(feature = "jit")]
use super::handle::{machine_of, ret_code};
use super::native::{NativeArgs, NativeType};
use super::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::value::ValueType;
use std::marker::PhantomData;

/// A handle on a function of one [`Engine`], called with Rust types: made by
/// [`Engine::typed`], called with [`TypedFunc::call`].
///
/// ```
/// use grizzly::Engine;
/// let mut engine = Engine::new();
/// engine.run("FUNCTION add(x, y) => x + y").unwrap();
/// let add = engine.typed::<(i64, i64), i64>("add").unwrap();
/// assert_eq!(add.call(&mut engine, (1, 2)).unwrap(), 3);
/// // Errors are the interpreter's.
/// let err = add.call(&mut engine, (i64::MAX, 1)).unwrap_err();
/// assert_eq!(err.message(), "integer overflow");
/// ```
pub struct TypedFunc<A, R> {
    h: Handle,
    /// Covariant: a handle taking `&'static str` takes any `&str`.
    types: PhantomData<fn() -> (A, R)>,
}

impl<A, R> std::fmt::Debug for TypedFunc<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("name", &self.h.name)
            .field("compiled", &self.h.compiled())
            .finish()
    }
}

impl Engine {
    /// A typed handle on the function `name`, taking `A` (a tuple) and returning `R`.
    ///
    /// Checks that the function exists and takes `A::COUNT` arguments, and compiles
    /// its specialization for those types now (when the JIT is on and can compile
    /// it): `i64`, `f64` and `bool` as machine types, the others (`&str`, `String`,
    /// `Option<_>`, `Value`) as generic values. If every call with those types returns
    /// another type than `R`, making the handle is a type error; where that cannot be
    /// known in advance (the function is not compiled, returns a generic value, or a
    /// `TRY`, a `??` or a loop changing its argument types may give a value of
    /// another type), a call whose result is not an `R` is a type error.
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION half(x) => x / 2.0").unwrap();
    /// assert!(engine.typed::<(f64,), f64>("half").is_ok());
    /// let err = engine.typed::<(i64,), i64>("half").unwrap_err();
    /// assert_eq!(err.message(), "type error: 'half' returns float for (int), not int");
    /// let err = engine.typed::<(f64, f64), f64>("half").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::WrongArgumentCount);
    /// ```
    pub fn typed<A: NativeArgs, R: NativeType>(&mut self, name: &str) -> Result<TypedFunc<A, R>> {
        let (id, f) = self.defined(name)?;
        super::check_arity(name, f.code.params, A::COUNT)?;
        let handle = TypedFunc {
            h: Handle::new(self, id),
            types: PhantomData,
        };
        if let Some(ret) = handle.h.refresh(self, A::MACHINE, takes::<R>) {
            if R::from_bits(ret, 0).is_none() {
                return Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "type error: '{name}' returns {} for ({}), not {}",
                        ret.name(),
                        A::NAMES.join(", "),
                        R::NAME
                    ),
                ));
            }
        }
        Ok(handle)
    }
}

impl<A: NativeArgs, R: NativeType> TypedFunc<A, R> {
    /// The function's name.
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// engine.run("FUNCTION f() => 1").unwrap();
    /// assert_eq!(engine.typed::<(), i64>("f").unwrap().name(), "f");
    /// ```
    pub fn name(&self) -> &str {
        &self.h.name
    }

    /// Calls the function with `args` in `engine` (the engine that made the handle):
    /// straight into its compiled code when it has some, else (and after a deopt)
    /// in the interpreter. A call through another engine is a usage error.
    ///
    /// ```
    /// use grizzly::{Engine, ErrorKind};
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION clamp(x, lo, hi) => IF x < lo { lo } ELSE IF x > hi { hi } ELSE { x }").unwrap();
    /// let clamp = engine.typed::<(f64, f64, f64), f64>("clamp").unwrap();
    /// assert_eq!(clamp.call(&mut engine, (7.5, 0.0, 5.0)).unwrap(), 5.0);
    /// let mut other = Engine::new();
    /// assert_eq!(clamp.call(&mut other, (1.0, 0.0, 5.0)).unwrap_err().kind(), ErrorKind::Usage);
    ///
    /// // Strings and nulls cross as generic values.
    /// engine.run("FUNCTION tag(name, n) => name + \"#\" + ((n ?? 0) AS string)").unwrap();
    /// let tag = engine.typed::<(&str, Option<i64>), String>("tag").unwrap();
    /// assert_eq!(tag.call(&mut engine, ("żółw", Some(7))).unwrap(), "żółw#7");
    /// assert_eq!(tag.call(&mut engine, ("a", None)).unwrap(), "a#0");
    /// ```
    #[inline(always)]
    pub fn call(&self, engine: &mut Engine, args: A) -> Result<R> {
        let _running = engine.begin_run();
        // The generation is current: the entry was cached from this engine's JIT
        // (generations are unique across engines) since its last change, so its code
        // is live and compiled for `A::MACHINE`, the types of `args`' words.
        #[cfg(feature = "jit")]
        if self.h.is_current(engine) {
            let entry = self.h.entry();
            let words = args.words();
            if !A::WORDS {
                return self.call_generic(engine, entry, args, words);
            }
            if entry.native != 0 {
                if let Some(w) = padded(words.as_ref()) {
                    // SAFETY: a current entry (above) with a native function; `w` is
                    // `args`' words (all machine words), padded with zeros.
                    return match unsafe { engine.jit.run_native(entry, w) } {
                        Ok(bits) => self.native_result(engine, bits),
                        Err(site) => self.call_deoptimized(engine, entry.id, Some(site), args),
                    };
                }
            }
            let max_depth = engine.options.max_depth;
            // SAFETY: a current entry (above); `words` is `args`' words, one per
            // parameter (the arity was checked when the handle was made), all
            // machine words.
            return match unsafe { engine.jit.run_typed(entry, words.as_ref(), max_depth) } {
                Ok(bits) => self.result(engine, bits),
                Err(site) => self.call_deoptimized(engine, entry.id, site, args),
            };
        }
        self.call_slow(engine, args)
    }

    /// A current entry called with generic arguments: each is made a `Value` that
    /// outlives the call, and passed by its address.
    #[cfg(feature = "jit")]
    fn call_generic(
        &self,
        engine: &mut Engine,
        entry: crate::jit::TypedEntry,
        args: A,
        mut words: A::Words,
    ) -> Result<R> {
        let values = args.to_values();
        for ((w, v), machine) in words.as_mut().iter_mut().zip(&values).zip(A::MACHINE) {
            if machine.is_none() {
                *w = v as *const crate::value::Value as u64;
            }
        }
        let max_depth = engine.options.max_depth;
        // SAFETY: a current entry (checked by `call`); `words` holds one argument per
        // parameter: the machine ones' bits, the generic ones' addresses of values in
        // `values`, which outlives the call.
        let ran = unsafe { engine.jit.run_typed(entry, words.as_ref(), max_depth) };
        drop(values);
        match ran {
            Ok(bits) => self.result(engine, bits),
            Err(site) => self.call_deoptimized(engine, entry.id, site, args),
        }
    }

    /// The result of a native function's call: its code returns a machine value (a
    /// native function uses no generic value), so a machine `R` (cached only for code
    /// returning its type) is the bits as they are.
    #[cfg(feature = "jit")]
    #[inline(always)]
    fn native_result(&self, engine: &mut Engine, bits: u64) -> Result<R> {
        match R::MACHINE {
            Some(t) => R::from_bits(t, bits).ok_or_else(|| self.wrong_result(t)),
            None => self.result(engine, bits),
        }
    }

    /// The result of a compiled call that returned `bits` (or a generic value).
    #[cfg(feature = "jit")]
    #[inline(always)]
    fn result(&self, engine: &mut Engine, bits: u64) -> Result<R> {
        let ret = self.h.ret();
        // (A machine `R` with code returning its own type: one compare.)
        if let Some(t) = R::MACHINE {
            if ret == ret_code(crate::jit::TypedRet::Machine(t)) {
                return R::from_bits(t, bits).ok_or_else(|| self.wrong_result(t));
            }
        }
        let Some(machine) = machine_of(ret) else {
            let value = engine.jit.take_value_ret();
            return self.check(value);
        };
        // Cached only for a machine type `R` takes.
        R::from_bits(machine, bits).ok_or_else(|| self.wrong_result(machine))
    }

    /// Calls the function once per row of `columns` (a slice per argument, all of
    /// one length) and returns the results in row order.
    ///
    /// With columns of `i64` and `f64`, compiled code runs row after row without
    /// returning to Rust; with other columns each row is a [`TypedFunc::call`]. A row
    /// that deoptimizes runs in the interpreter, and the batch goes on after it.
    /// The first row whose call fails ends the batch with its error, the
    /// interpreter's.
    ///
    /// ```
    /// use grizzly::Engine;
    /// let mut engine = Engine::new();
    /// engine.run("FUNCTION price(net, rate) => net * (1.0 + rate)").unwrap();
    /// let price = engine.typed::<(f64, f64), f64>("price").unwrap();
    /// let net = [10.0, 20.0, 40.0];
    /// let rate = [0.5, 0.25, 0.0];
    /// assert_eq!(price.call_batch(&mut engine, (&net, &rate)).unwrap(), [15.0, 25.0, 40.0]);
    ///
    /// engine.run("FUNCTION double(x) => x * 2").unwrap();
    /// let double = engine.typed::<(i64,), i64>("double").unwrap();
    /// let err = double.call_batch(&mut engine, (&[1, i64::MAX, 3],)).unwrap_err();
    /// assert_eq!(err.message(), "integer overflow");
    ///
    /// // A nullable column.
    /// engine.run("FUNCTION or_zero(x) => x ?? 0").unwrap();
    /// let or_zero = engine.typed::<(Option<i64>,), i64>("or_zero").unwrap();
    /// assert_eq!(or_zero.call_batch(&mut engine, (&[Some(4), None],)).unwrap(), [4, 0]);
    /// ```
    pub fn call_batch(&self, engine: &mut Engine, columns: A::Columns<'_>) -> Result<Vec<R>> {
        let _running = engine.begin_run();
        let rows = A::rows(columns).ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!(
                    "a batch call of '{}' needs one column per argument, all of one length",
                    self.h.name
                ),
            )
        })?;
        let mut out: Vec<R> = Vec::with_capacity(rows);
        #[cfg(feature = "jit")]
        let mut bits: Vec<u64> = Vec::new();
        while out.len() < rows {
            #[cfg(feature = "jit")]
            if A::WORDS {
                let ran = match self.h.machine_ret(engine) {
                    Some(machine) if in_place::<R>(machine) => {
                        // SAFETY: `R` is `i64` or `f64` and the code returns that type
                        // (`in_place`): every word the batch writes is an `R`.
                        unsafe { self.run_columns_into(engine, columns, rows, &mut out) }
                    }
                    Some(machine) => {
                        bits.clear();
                        bits.reserve(rows - out.len());
                        // SAFETY: `bits` has room for the rows left.
                        let ran = unsafe {
                            self.run_columns(engine, columns, out.len(), rows, bits.as_mut_ptr())
                        };
                        let ran = ran.map(|(done, deopt)| {
                            // SAFETY: the batch wrote `done` words.
                            unsafe { bits.set_len(done) };
                            deopt
                        });
                        // Cached only for a machine type `R` takes.
                        let take =
                            |b| R::from_bits(machine, b).ok_or_else(|| self.wrong_result(machine));
                        for b in bits.drain(..) {
                            out.push(take(b)?);
                        }
                        ran
                    }
                    // Generic results: moved out row after row by the batch entry.
                    None if A::WORD_COLUMNS && self.h.is_current(engine) => {
                        self.run_value_columns(engine, columns, rows, &mut out)?
                    }
                    None => None,
                };
                match ran {
                    Some(None) => continue,
                    Some(Some((id, site))) => {
                        engine.jit.typed_fell_back(&mut engine.profiles, id, site);
                        let row = A::row(columns, out.len());
                        out.push(self.call_interpreted(engine, row)?);
                        continue;
                    }
                    None => {}
                }
            }
            let row = A::row(columns, out.len());
            out.push(self.call(engine, row)?);
        }
        Ok(out)
    }

    /// The rows from `out.len()` on through the batch entry of a current entry that
    /// returns generic values (word columns), each result checked into `out`: the
    /// deopt as [`TypedFunc::run_columns`] gives it, `None` when there is no batch
    /// entry for this many columns.
    #[cfg(feature = "jit")]
    fn run_value_columns(
        &self,
        engine: &mut Engine,
        columns: A::Columns<'_>,
        rows: usize,
        out: &mut Vec<R>,
    ) -> Result<Option<Option<(u32, u64)>>> {
        let from = out.len();
        let pointers = A::column_addresses(columns, from);
        let mut values: Vec<crate::value::Value> = Vec::with_capacity(rows - from);
        // A current entry (the caller checked) returning a generic value, whose
        // arguments are these columns' machine types (`A::WORD_COLUMNS`: `i64`, `f64`).
        // SAFETY: one column per parameter, each with `rows` rows (`A::rows`);
        // `values` has room for the `rows - from` results.
        let ran = unsafe {
            let at = values.as_mut_ptr().cast();
            let results = grizzly_arch::BatchOut::Values;
            self.h
                .run_batch(engine, pointers.as_ref(), rows - from, at, results)
        };
        let Some((done, deopt)) = ran else {
            return Ok(None);
        };
        // SAFETY: the batch moved `done` values there.
        unsafe { values.set_len(done) };
        for v in values {
            out.push(self.check(v)?);
        }
        Ok(Some(deopt))
    }

    /// [`TypedFunc::run_columns`] writing the results straight into `out`'s spare
    /// capacity, from row `out.len()` on.
    ///
    /// # Safety
    /// Every word the current entry returns must be a valid `R`, and `R` a word (see
    /// `in_place`).
    #[cfg(feature = "jit")]
    unsafe fn run_columns_into(
        &self,
        engine: &mut Engine,
        columns: A::Columns<'_>,
        rows: usize,
        out: &mut Vec<R>,
    ) -> Option<Option<(u32, u64)>> {
        let from = out.len();
        // SAFETY: `out` has capacity for `rows` values (`call_batch` made it so), `R`s
        // of 8 bytes aligned as `u64` (the caller's contract): room for `rows - from`
        // words after its length.
        let (done, deopt) = unsafe {
            let at = out.as_mut_ptr().add(from) as *mut u64;
            self.run_columns(engine, columns, from, rows, at)?
        };
        // SAFETY: the batch wrote `done` results, each a valid `R` (the caller's contract).
        unsafe { out.set_len(from + done) };
        Some(deopt)
    }

    /// Runs the rows from `from` on in compiled code, which is current with a machine
    /// result (its batch function, or the batch entry stub, over word columns; its
    /// native function row by row over others), writing the results' bits from `at`
    /// on: the rows done, and `Some((spec, site))` when the next row deoptimized (it
    /// is not done); `None` when it could not start.
    ///
    /// # Safety
    /// `at` must be valid for writing `rows - from` words.
    #[cfg(feature = "jit")]
    unsafe fn run_columns(
        &self,
        engine: &mut Engine,
        columns: A::Columns<'_>,
        from: usize,
        rows: usize,
        at: *mut u64,
    ) -> Option<(usize, Option<(u32, u64)>)> {
        let entry = self.h.entry();
        let n = rows - from;
        if A::WORD_COLUMNS {
            let pointers = A::column_addresses(columns, from);
            // Every column holds `rows` words (`A::rows` checked the lengths; word
            // columns are `i64` or `f64`), and `at` has room for `n` words.
            // SAFETY: a current entry (the caller checked) whose arguments are these
            // columns' machine types, one column per parameter; `n` words valid from
            // row `from` in each column and at `at` (the caller's contract).
            return unsafe {
                self.h.run_batch(
                    engine,
                    pointers.as_ref(),
                    n,
                    at,
                    grizzly_arch::BatchOut::Words,
                )
            };
        }
        let (done, deopt) = if entry.native != 0 && A::COUNT <= grizzly_arch::DIRECT_ARGS {
            // (Every row fits: the arity was checked.)
            let words = (from..rows).map_while(|i| padded(A::row(columns, i).words().as_ref()));
            // SAFETY: a current entry with a native function; each row is one row
            // of arguments' words (all machine words), padded with zeros; at most `n`
            // rows, and `at` has room for `n` words (the caller's contract).
            unsafe { engine.jit.run_native_rows(entry, words, at) }
        } else {
            return None;
        };
        Some((done, deopt.map(|site| (entry.id, site))))
    }

    /// A call whose compiled code is not known to be current: it may still be live
    /// (other code was dropped), it may need compiling (after a redefinition), or the
    /// interpreter runs the call.
    #[cold]
    fn call_slow(&self, engine: &mut Engine, args: A) -> Result<R> {
        if self.h.relook(engine, A::MACHINE, takes::<R>) {
            return self.call(engine, args);
        }
        self.call_interpreted(engine, args)
    }

    #[cfg(feature = "jit")]
    #[cold]
    fn call_deoptimized(
        &self,
        engine: &mut Engine,
        id: u32,
        site: Option<u64>,
        args: A,
    ) -> Result<R> {
        if let Some(site) = site {
            engine.jit.typed_fell_back(&mut engine.profiles, id, site);
        }
        self.call_interpreted(engine, args)
    }

    /// The call as [`Engine::call`] makes it, then the result's type checked.
    #[cold]
    fn call_interpreted(&self, engine: &mut Engine, args: A) -> Result<R> {
        self.call_values(engine, &args.to_values())
    }

    /// A call with `args` as [`Engine::call`] makes it (into compiled code for their
    /// types, or the interpreter), then the result's type checked.
    pub(super) fn call_values(
        &self,
        engine: &mut Engine,
        args: &[crate::value::Value],
    ) -> Result<R> {
        self.h.check_engine(engine)?;
        let value = engine.call_id(self.h.id, &self.h.name, args)?;
        self.check(value)
    }

    /// A result as an `R`, or the type error saying it is not one.
    fn check(&self, value: crate::value::Value) -> Result<R> {
        let ty = value.ty();
        R::from_owned(value).ok_or_else(|| {
            Error::new(
                ErrorKind::Type,
                format!(
                    "type error: '{}' returned {}, not {}",
                    self.h.name,
                    ty.name(),
                    R::NAME
                ),
            )
        })
    }

    /// A machine result of type `t` that is not an `R` (never cached so: a guard).
    #[cfg(feature = "jit")]
    #[cold]
    fn wrong_result(&self, t: ValueType) -> Error {
        self.h.wrong_type(t, R::NAME)
    }
}

/// Whether a result of machine type `t` can be an `R`.
pub(super) fn takes<R: NativeType>(t: ValueType) -> bool {
    R::from_bits(t, 0).is_some()
}

/// Whether `R` is `i64` or `f64` and the code returns `machine`, its own type: then the
/// words compiled code writes are `R`s.
#[cfg(feature = "jit")]
pub(super) fn in_place<R: NativeType>(machine: ValueType) -> bool {
    matches!(R::MACHINE, Some(ValueType::Int | ValueType::Float))
        && R::MACHINE == Some(machine)
        && std::mem::size_of::<R>() == 8
        && std::mem::align_of::<R>() == std::mem::align_of::<u64>()
}

/// Argument words as a native function takes them: four, the unused ones zero.
#[cfg(feature = "jit")]
#[inline(always)]
fn padded(words: &[u64]) -> Option<[u64; grizzly_arch::DIRECT_ARGS]> {
    let mut w = [0u64; grizzly_arch::DIRECT_ARGS];
    w.get_mut(..words.len())?.copy_from_slice(words);
    Some(w)
}
