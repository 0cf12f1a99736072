//! The calls of a [`Case`] through typed handles (`Engine::typed`): each call whose
//! arguments have a tuple type handles take (up to four words: ints, floats, bools)
//! is made through a handle made for it, in an eager engine, so that leaves run as
//! native functions and the rest through the direct entry; and as a batch call of
//! two rows (leaves as batch functions, the rest through the batch entry stub), also
//! through a `ColumnFunc` (the types given at run time). The result type is the
//! interpreter's; where the interpreter raised an error, the first result type the
//! handle accepts.

use super::program::{fname, Case, Step};
use super::run::{same_value, Outcome};
use grizzly::{Column, ColumnType, Engine, ErrorKind, JitMode, NativeArgs, NativeType, Value};

/// Two rows of `args` through a [`grizzly::ColumnFunc`] (argument types given at run
/// time): a column of ints, floats or bools where the argument is one, else of values.
fn by_columns<R: NativeType>(
    e: &mut Engine,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, (ErrorKind, String)> {
    let show = |err: grizzly::Error| (err.kind(), err.message().to_string());
    let ints: Vec<[i64; 2]> = args.iter().map(|v| [v.as_int().unwrap_or(0); 2]).collect();
    let floats: Vec<[f64; 2]> = args
        .iter()
        .map(|v| [v.as_float().unwrap_or(0.0); 2])
        .collect();
    let bools: Vec<[bool; 2]> = args
        .iter()
        .map(|v| [v.as_bool().unwrap_or(false); 2])
        .collect();
    let values: Vec<[Value; 2]> = args.iter().map(|v| [v.clone(), v.clone()]).collect();
    let columns: Vec<Column<'_>> = (0..args.len())
        .map(|i| match args[i] {
            Value::Int(_) => Column::Int(&ints[i]),
            Value::Float(_) => Column::Float(&floats[i]),
            Value::Bool(_) => Column::Bool(&bools[i]),
            _ => Column::Value(&values[i]),
        })
        .collect();
    let types: Vec<ColumnType> = columns.iter().map(Column::ty).collect();
    let handle = e.column_func::<R>(name, &types).map_err(show)?;
    handle
        .call_batch(e, &columns)
        .map(|rows| rows.iter().map(R::to_value).collect())
        .map_err(show)
}

/// A call through a handle `TypedFunc<A, R>`, and a batch call of it over `columns`
/// (two rows of the same arguments; none without arguments, which have no rows),
/// which must give the same twice.
fn via<A: NativeArgs, R: NativeType>(
    e: &mut Engine,
    name: &str,
    args: A,
    columns: Option<A::Columns<'_>>,
) -> Outcome {
    let show = |err: grizzly::Error| (err.kind(), err.message().to_string());
    let handle = e.typed::<A, R>(name).map_err(show)?;
    let values = args.to_values();
    let one = handle.call(e, args).map(|r| r.to_value()).map_err(show);
    let Some(columns) = columns else {
        return one;
    };
    let batch = handle
        .call_batch(e, columns)
        .map(|rows| rows.iter().map(R::to_value).collect::<Vec<_>>())
        .map_err(show);
    let columns = by_columns::<R>(e, name, &values);
    for (how, batch) in [("batch", batch), ("column batch", columns)] {
        let agree = match (&one, &batch) {
            (Ok(v), Ok(rows)) => rows.len() == 2 && rows.iter().all(|r| same_value(r, v)),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !agree {
            return Err((
                ErrorKind::Usage,
                format!("a {how} call gave {batch:?}, a call {one:?}"),
            ));
        }
    }
    one
}

/// A call through a handle on `name` taking `A`, returning what `want` holds.
fn call_as<A: NativeArgs>(
    e: &mut Engine,
    name: &str,
    args: A,
    columns: Option<A::Columns<'_>>,
    want: &Outcome,
) -> Outcome {
    match want {
        Ok(Value::Int(_)) => via::<A, i64>(e, name, args, columns),
        Ok(Value::Float(_)) => via::<A, f64>(e, name, args, columns),
        Ok(Value::Bool(_)) => via::<A, bool>(e, name, args, columns),
        Ok(Value::Str(_)) => via::<A, String>(e, name, args, columns),
        Ok(Value::Null) => via::<A, Option<i64>>(e, name, args, columns),
        #[allow(unreachable_patterns)]
        Ok(_) => e
            .call(name, &args.to_values())
            .map_err(|err| (err.kind(), err.message().to_string())),
        Err(_) => {
            // A handle refuses a result type it knows is wrong: try the next.
            let tries = [via::<A, i64>, via::<A, f64>, via::<A, bool>];
            let mut last = None;
            for t in tries {
                let got = t(e, name, args.clone(), columns);
                match &got {
                    Err((ErrorKind::Type, m)) if m.contains("' returns ") => last = Some(got),
                    _ => return got,
                }
            }
            last.unwrap_or_else(|| Err((ErrorKind::Type, "no handle".into())))
        }
    }
}

/// One call: through a handle when the arguments fit one, else `Engine::call`.
#[allow(clippy::clone_on_copy)]
fn call(e: &mut Engine, name: &str, args: &[Value], want: &Outcome) -> Outcome {
    use Value::{Bool as B, Float as F, Int as I, Null as N, Str as S};
    macro_rules! typed {
        ($($x:ident),*) => {
            call_as(e, name, ($($x.clone(),)*), Some(($(&[$x.clone(), $x.clone()][..],)*)), want)
        };
    }
    match *args {
        [] => call_as(e, name, (), None, want),
        [I(a)] => typed!(a),
        [F(a)] => typed!(a),
        [B(a)] => typed!(a),
        [I(a), I(b)] => typed!(a, b),
        [I(a), F(b)] => typed!(a, b),
        [F(a), I(b)] => typed!(a, b),
        [F(a), F(b)] => typed!(a, b),
        [B(a), I(b)] => typed!(a, b),
        [I(a), I(b), I(c)] => typed!(a, b, c),
        [F(a), F(b), F(c)] => typed!(a, b, c),
        [I(a), I(b), I(c), I(d)] => typed!(a, b, c, d),
        [F(a), F(b), F(c), F(d)] => typed!(a, b, c, d),
        // Generic values: strings by `&str`, null as an `Option`, anything as `Value`.
        [S(ref a)] => {
            let a = a.as_str();
            typed!(a)
        }
        [S(ref a), I(b)] => {
            let a = a.as_str();
            typed!(a, b)
        }
        [I(a), N] => {
            let b: Option<i64> = None;
            typed!(a, b)
        }
        [N] => {
            let a: Option<f64> = None;
            typed!(a)
        }
        [ref a, ref b] => {
            let (a, b) = (a.clone(), b.clone());
            typed!(a, b)
        }
        _ => e
            .call(name, args)
            .map_err(|err| (err.kind(), err.message().to_string())),
    }
}

/// What the typed run gave: an outcome per step (as `run::by_calls`), and whether a
/// native function was made.
pub struct Typed {
    pub outcomes: Vec<Outcome>,
    pub native: bool,
}

/// The definitions, then each step: a call through a typed handle where one fits
/// (`want` is the interpreter's outcome of the same step), a redefinition through
/// `Engine::run`.
pub fn by_typed_handles(
    case: &Case,
    defs: &str,
    lines: &[(String, bool)],
    want: &[Outcome],
) -> Typed {
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .max_depth(case.max_depth)
        .build();
    super::host::register(&mut e);
    let define = |e: &mut Engine, text: &str| {
        e.run(text)
            .map(|_| Value::Null)
            .map_err(|err| (err.kind(), err.message().to_string()))
    };
    let mut outcomes = vec![define(&mut e, defs)];
    let mut native = false;
    for (i, (step, (text, _))) in case.steps().into_iter().zip(lines).enumerate() {
        outcomes.push(match step {
            Step::Call(func, args) => {
                let none = Err((ErrorKind::Type, String::new()));
                call(&mut e, &fname(func), args, want.get(i + 1).unwrap_or(&none))
            }
            Step::Define(_) => define(&mut e, text),
        });
        native |= e.jit_status().contains("(native function for typed calls");
    }
    Typed { outcomes, native }
}
