//! The calls of a [`Case`] through typed handles (`Engine::typed`): each call whose
//! arguments have a tuple type handles take (up to four words: ints, floats, bools)
//! is made through a handle made for it, in an eager engine, so that leaves run as
//! native functions and the rest through the direct entry. The result type is the
//! interpreter's; where the interpreter raised an error, the first result type the
//! handle accepts.

use super::program::{fname, Case, Step};
use super::run::Outcome;
use grizzly::{Engine, ErrorKind, JitMode, NativeArgs, NativeType, Value};

/// A call through a handle `TypedFunc<A, R>`.
fn via<A: NativeArgs, R: NativeType>(e: &mut Engine, name: &str, args: A) -> Outcome {
    let r = e.typed::<A, R>(name).and_then(|h| h.call(e, args));
    r.map(R::to_value)
        .map_err(|err| (err.kind(), err.message().to_string()))
}

/// A call through a handle on `name` taking `A`, returning what `want` holds.
fn call_as<A: NativeArgs>(e: &mut Engine, name: &str, args: A, want: &Outcome) -> Outcome {
    match want {
        Ok(Value::Int(_)) => via::<A, i64>(e, name, args),
        Ok(Value::Float(_)) => via::<A, f64>(e, name, args),
        Ok(Value::Bool(_)) => via::<A, bool>(e, name, args),
        Ok(_) => e
            .call(name, &args.to_values())
            .map_err(|err| (err.kind(), err.message().to_string())),
        Err(_) => {
            // A handle refuses a result type it knows is wrong: try the next.
            let tries = [via::<A, i64>, via::<A, f64>, via::<A, bool>];
            let mut last = None;
            for t in tries {
                let got = t(e, name, args);
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
fn call(e: &mut Engine, name: &str, args: &[Value], want: &Outcome) -> Outcome {
    use Value::{Bool as B, Float as F, Int as I};
    match *args {
        [] => call_as(e, name, (), want),
        [I(a)] => call_as(e, name, (a,), want),
        [F(a)] => call_as(e, name, (a,), want),
        [B(a)] => call_as(e, name, (a,), want),
        [I(a), I(b)] => call_as(e, name, (a, b), want),
        [I(a), F(b)] => call_as(e, name, (a, b), want),
        [F(a), I(b)] => call_as(e, name, (a, b), want),
        [F(a), F(b)] => call_as(e, name, (a, b), want),
        [B(a), I(b)] => call_as(e, name, (a, b), want),
        [I(a), I(b), I(c)] => call_as(e, name, (a, b, c), want),
        [F(a), F(b), F(c)] => call_as(e, name, (a, b, c), want),
        [I(a), I(b), I(c), I(d)] => call_as(e, name, (a, b, c, d), want),
        [F(a), F(b), F(c), F(d)] => call_as(e, name, (a, b, c, d), want),
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
