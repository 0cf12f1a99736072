//! What a defined function declares, for hosts that map it to their own types (a SQL
//! engine's signature): its parameters' names and annotations, and its `RETURNS`.

use super::Engine;
use crate::syntax::ast::TypeName;

/// A type a parameter annotation or `RETURNS` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Annotation {
    /// `int` (or `integer`).
    Int,
    /// `float` (or `double`): an int passes, converted.
    Float,
    /// `bool` (or `boolean`).
    Bool,
    /// `string` (or `text`).
    String,
    /// `number`: an int or a float passes.
    Number,
}

impl Annotation {
    fn of(t: TypeName) -> Annotation {
        match t {
            TypeName::Int => Annotation::Int,
            TypeName::Float => Annotation::Float,
            TypeName::Bool => Annotation::Bool,
            TypeName::Str => Annotation::String,
            TypeName::Number => Annotation::Number,
        }
    }

    /// The canonical spelling, as messages write it (`int`, `string`...).
    pub fn name(self) -> &'static str {
        match self {
            Annotation::Int => "int",
            Annotation::Float => "float",
            Annotation::Bool => "bool",
            Annotation::String => "string",
            Annotation::Number => "number",
        }
    }
}

/// A defined function's declaration.
///
/// ```
/// use grizzly::{Annotation, Engine};
/// let mut engine = Engine::new();
/// engine.run("FUNCTION f(a: int, b) RETURNS string => b").unwrap();
/// let d = engine.declaration("f").unwrap();
/// assert_eq!(d.params, [("a".to_string(), Some(Annotation::Int)), ("b".to_string(), None)]);
/// assert_eq!(d.returns, Some(Annotation::String));
/// assert!(engine.declaration("g").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Declaration {
    /// The function's name.
    pub name: String,
    /// Each parameter's name and annotation, in order.
    pub params: Vec<(String, Option<Annotation>)>,
    /// The `RETURNS` annotation.
    pub returns: Option<Annotation>,
}

impl Engine {
    /// The declaration of the defined function `name`, if there is one.
    pub fn declaration(&self, name: &str) -> Option<Declaration> {
        let f = self.functions[self.ids.get(name)?.0 as usize].as_ref()?;
        let r = &f.resolved;
        Some(Declaration {
            name: f.name.to_string(),
            params: r
                .params
                .iter()
                .map(|p| (p.name.to_string(), p.ty.map(Annotation::of)))
                .collect(),
            returns: r.returns.map(Annotation::of),
        })
    }

    /// The names of the defined functions, in the order their names were first met
    /// (defined, or called in an earlier definition).
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// engine.run("FUNCTION b() => 1\nFUNCTION a() => b()").unwrap();
    /// assert_eq!(engine.function_names(), ["b", "a"]);
    /// ```
    pub fn function_names(&self) -> Vec<String> {
        self.functions
            .iter()
            .flatten()
            .map(|f| f.name.to_string())
            .collect()
    }
}
