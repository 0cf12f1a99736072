//! The generated session's syntax: expressions, bodies, steps and the whole [`Case`],
//! and how each prints as PL-GRIZZLY source (fully parenthesised, so that printing never
//! depends on precedence). The generator that builds them is in `gen/`. Calls of host
//! functions (`crate::host`) are `E::Call`s like those of builtins.

use grizzly::Value;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    Int,
    Float,
    Bool,
}

impl T {
    pub(crate) fn name(self) -> &'static str {
        match self {
            T::Int => "int",
            T::Float => "float",
            T::Bool => "bool",
        }
    }
}

pub(crate) const TYPES: [T; 3] = [T::Int, T::Float, T::Bool];

/// A generated expression, printed fully parenthesised.
#[derive(Clone, Debug)]
pub enum E {
    /// Literal text (`true`, `null`, a string literal).
    Lit(&'static str),
    Int(i64),
    Float(f64),
    Var(String),
    Neg(Box<E>),
    /// `NOT e`, or `!e` when the flag is set.
    Not(Box<E>, bool),
    Bin(&'static str, Box<E>, Box<E>),
    /// `e AS t`, or `e :: t` when the flag is set.
    Cast(Box<E>, &'static str, bool),
    /// `f(args)`, or `(arg0).f(rest)` when the flag is set.
    Call(String, Vec<E>, bool),
    If(Box<E>, Box<Body>, Box<Body>),
    Try(Box<E>, Box<E>),
}

#[derive(Clone, Debug)]
pub struct Body {
    pub lets: Vec<(String, E)>,
    pub result: E,
}

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            E::Lit(s) => f.write_str(s),
            E::Int(v) if *v == i64::MIN => f.write_str("(-9223372036854775808)"),
            E::Int(v) if *v < 0 => write!(f, "({v})"),
            E::Int(v) => write!(f, "{v}"),
            E::Float(v) if v.is_nan() => f.write_str("(0.0 / 0.0)"),
            E::Float(v) if v.is_infinite() => {
                f.write_str(if *v > 0.0 { "1e999" } else { "(-1e999)" })
            }
            E::Float(v) if v.is_sign_negative() => write!(f, "(-{:?})", -v),
            E::Float(v) => write!(f, "{v:?}"),
            E::Var(n) => f.write_str(n),
            E::Neg(a) => write!(f, "(-{a})"),
            E::Not(a, false) => write!(f, "(NOT {a})"),
            E::Not(a, true) => write!(f, "(!{a})"),
            E::Bin(op, a, b) => write!(f, "({a} {op} {b})"),
            E::Cast(a, t, false) => write!(f, "({a} AS {t})"),
            E::Cast(a, t, true) => write!(f, "({a} :: {t})"),
            E::Call(name, args, true) if !args.is_empty() => {
                write!(f, "({}).{name}(", args[0])?;
                list(f, &args[1..])?;
                f.write_str(")")
            }
            E::Call(name, args, _) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
            E::If(c, t, o) => write!(f, "(IF {c} {{ {t} }} ELSE {{ {o} }})"),
            E::Try(a, b) => write!(f, "(TRY {a} CATCH {b})"),
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[E]) -> fmt::Result {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.lets {
            write!(f, "LET {name} = {value}; ")?;
        }
        write!(f, "{}", self.result)
    }
}

/// One thing done to the engine.
#[derive(Clone)]
pub enum Step {
    /// Items as source text, run with `Engine::run_source`.
    Source(String),
    /// `Engine::call(name, args)`, `times` times.
    Call {
        name: String,
        args: Vec<Value>,
        times: u32,
    },
    /// `Engine::jit_clear()`: compiled code dropped, call counts restarted.
    JitClear,
}

impl Step {
    /// Whether the step may be interrupted ([`Interrupt`]): a host call, or top-level
    /// expressions (no `LET`, no definition: an interrupted item leaves nothing behind
    /// that later steps see).
    pub fn interruptible(&self) -> bool {
        match self {
            Step::Call { .. } => true,
            Step::Source(text) => !text.starts_with("LET ") && !text.contains("FUNCTION"),
            Step::JitClear => false,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Source(text) => f.write_str(text),
            Step::Call { name, args, times } => {
                let shown: Vec<String> = args.iter().map(|v| format!("{v:?}")).collect();
                write!(f, "# host: call {name}({}) x{times}", shown.join(", "))
            }
            Step::JitClear => f.write_str("# host: jit clear"),
        }
    }
}

/// One step of a session run on one JIT engine while it is stopped at a random point:
/// by a second thread's interrupt `micros` µs after the step begins, or by a deadline
/// of `micros` µs on each call or item of the step (`crate::check`).
#[derive(Clone, Copy, Debug)]
pub struct Interrupt {
    /// The step (an index into `Case::steps`; an [`Step::interruptible`] one).
    pub step: usize,
    /// The engine (an index into `crate::engines`: 1 or 2, a JIT one).
    pub engine: usize,
    pub micros: u32,
    pub deadline: bool,
}

impl Interrupt {
    /// The message of the error it causes.
    pub fn message(&self) -> &'static str {
        if self.deadline {
            crate::interrupter::BY_DEADLINE
        } else {
            crate::interrupter::BY_HANDLE
        }
    }
}

/// A generated session: engine options and the steps.
#[derive(Clone)]
pub struct Case {
    pub max_depth: u32,
    /// The threshold of the `JitMode::On` engine.
    pub threshold: u32,
    /// The JIT engines' code memory limit, when not the default (a small one fills up).
    pub code_limit: Option<usize>,
    pub steps: Vec<Step>,
    /// A step interrupted in one JIT engine.
    pub interrupt: Option<Interrupt>,
}

/// The session as a program with its options; host calls are comments.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "# max_depth {}, jit=on threshold {}",
            self.max_depth, self.threshold
        )?;
        match self.code_limit {
            Some(bytes) => writeln!(f, ", code limit {bytes} bytes")?,
            None => writeln!(f)?,
        }
        if let Some(i) = &self.interrupt {
            let engine = if i.engine == 1 { "jit=eager" } else { "jit=on" };
            let how = if i.deadline {
                format!("a deadline of {} µs on each call", i.micros)
            } else {
                format!("an interrupt {} µs after it begins", i.micros)
            };
            writeln!(f, "# step {} runs on {engine} with {how}", i.step + 1)?;
        }
        // what the host functions called do (`name(` or, as a method, `.name(`)
        for h in crate::host::HOSTS {
            let call = format!("{}(", h.name());
            if self.steps.iter().any(|s| s.to_string().contains(&call)) {
                writeln!(f, "# host function {}", h.describe())?;
            }
        }
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}
