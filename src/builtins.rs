//! The builtin functions of contract section 6, shared by every tier.

use crate::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Abs,
    Min,
    Max,
    Sqrt,
    Floor,
    Ceil,
    Round,
    Pow,
    Len,
}

/// Why a builtin call failed; the caller turns it into an error.
#[derive(Debug, PartialEq)]
pub enum BuiltinError {
    Overflow,
    /// A wrong argument type, with the whole message: "type error: abs expects a number, got string".
    Type(String),
}

impl Builtin {
    pub const ALL: [Builtin; 9] = [
        Builtin::Abs,
        Builtin::Min,
        Builtin::Max,
        Builtin::Sqrt,
        Builtin::Floor,
        Builtin::Ceil,
        Builtin::Round,
        Builtin::Pow,
        Builtin::Len,
    ];

    /// Builtin names are lower case only: `ABS` is not a builtin.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Abs => "abs",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Sqrt => "sqrt",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
            Builtin::Round => "round",
            Builtin::Pow => "pow",
            Builtin::Len => "len",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Builtin::Min | Builtin::Max | Builtin::Pow => 2,
            _ => 1,
        }
    }

    /// Applies the builtin to exactly `arity()` arguments.
    pub fn apply(self, args: &[Value]) -> Result<Value, BuiltinError> {
        use Value::{Float, Int};
        let number = |v: &Value| -> Result<f64, BuiltinError> {
            match v {
                Int(i) => Ok(*i as f64),
                Float(f) => Ok(*f),
                other => Err(self.type_error("a number", other)),
            }
        };
        match self {
            Builtin::Abs => match &args[0] {
                Int(i) => i.checked_abs().map(Int).ok_or(BuiltinError::Overflow),
                Float(f) => Ok(Float(f.abs())),
                other => Err(self.type_error("a number", other)),
            },
            // `min` is `IF b < a { b } ELSE { a }`, `max` is `IF b > a { b } ELSE { a }`.
            Builtin::Min | Builtin::Max => {
                let min = self == Builtin::Min;
                match (&args[0], &args[1]) {
                    (Int(x), Int(y)) => {
                        let pick_b = if min { y < x } else { y > x };
                        Ok(Int(if pick_b { *y } else { *x }))
                    }
                    (a, b) => {
                        let (x, y) = (number(a)?, number(b)?);
                        let pick_b = if min { y < x } else { y > x };
                        Ok(Float(if pick_b { y } else { x }))
                    }
                }
            }
            Builtin::Sqrt => Ok(Float(number(&args[0])?.sqrt())),
            Builtin::Floor | Builtin::Ceil | Builtin::Round => match &args[0] {
                Int(i) => Ok(Int(*i)),
                Float(f) => Ok(Float(match self {
                    Builtin::Floor => f.floor(),
                    Builtin::Ceil => f.ceil(),
                    _ => f.round(),
                })),
                other => Err(self.type_error("a number", other)),
            },
            Builtin::Pow => Ok(Float(number(&args[0])?.powf(number(&args[1])?))),
            Builtin::Len => match &args[0] {
                Value::Str(s) => Ok(Int(s.char_count() as i64)),
                other => Err(self.type_error("a string", other)),
            },
        }
    }

    fn type_error(self, expected: &str, got: &Value) -> BuiltinError {
        BuiltinError::Type(format!(
            "type error: {} expects {expected}, got {}",
            self.name(),
            got.ty()
        ))
    }
}
