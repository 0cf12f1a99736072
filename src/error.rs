//! The one error type of the engine: parse, definition and runtime errors, each
//! with the span it concerns and the source it came from, rendered with ariadne.

use crate::syntax::ast::Span;
use std::fmt;
use std::sync::Arc;

/// What went wrong. Runtime kinds match the words the contract's messages begin with.
///
/// ```
/// use grizzly::{Engine, ErrorKind};
/// let mut engine = Engine::new();
/// assert_eq!(engine.run("1 +").unwrap_err().kind(), ErrorKind::Parse);
/// assert_eq!(engine.run("9223372036854775807 + 1").unwrap_err().kind(), ErrorKind::IntegerOverflow);
/// assert_eq!(engine.run("TRY 1 / 0 CATCH -1").unwrap(), [grizzly::Value::Int(-1)]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The source is not a program (nothing was run).
    Parse,
    /// A definition item was rejected (nothing was defined).
    Definition,
    /// `integer overflow`: int arithmetic whose result does not fit 64 bits.
    IntegerOverflow,
    /// `division by zero`: int `/` or `%` by 0.
    DivisionByZero,
    /// `type error: ...`: an operation on types it does not take.
    Type,
    /// `cast error: ...`: a value that does not convert.
    Cast,
    /// `unknown function '...'`.
    UnknownFunction,
    /// `unknown variable '...'`.
    UnknownVariable,
    /// `wrong number of arguments: ...`.
    WrongArgumentCount,
    /// `stack overflow: ...`: the call-depth limit was passed.
    StackOverflow,
    /// A string would exceed the engine's limit (`EngineBuilder::max_string_bytes`,
    /// 256 MiB by default; the contract is silent).
    StringTooLong,
    /// `host error: ...`: a host function (`Engine::register_fn`) returned an error or
    /// panicked.
    Host,
    /// `interrupted: ...`: the run was stopped by an [`InterruptHandle`](crate::InterruptHandle)
    /// or its deadline passed. `TRY` and `??` do not catch it.
    Interrupted,
    /// A bad call from the host API (e.g. `engine.call` of an unknown name is
    /// `UnknownFunction`; this is for misuse such as invalid options).
    Usage,
    /// A bug in Grizzly itself, caught before it could do harm.
    Internal,
}

impl ErrorKind {
    /// True for errors raised while evaluating an expression (all of which `TRY`
    /// catches but [`ErrorKind::Interrupted`]).
    ///
    /// ```
    /// use grizzly::ErrorKind;
    /// assert!(ErrorKind::DivisionByZero.is_runtime());
    /// assert!(ErrorKind::Interrupted.is_runtime());
    /// assert!(!ErrorKind::Parse.is_runtime());
    /// ```
    pub fn is_runtime(self) -> bool {
        !matches!(
            self,
            ErrorKind::Parse | ErrorKind::Definition | ErrorKind::Usage | ErrorKind::Internal
        )
    }

    /// True for the errors `TRY` and `??` catch: runtime errors but `interrupted`.
    ///
    /// ```
    /// use grizzly::ErrorKind;
    /// assert!(ErrorKind::Cast.is_catchable());
    /// assert!(!ErrorKind::Interrupted.is_catchable());
    /// ```
    pub fn is_catchable(self) -> bool {
        self.is_runtime() && self != ErrorKind::Interrupted
    }
}

/// A named source text, kept alive by errors and function definitions that point into it.
///
/// ```
/// let source = grizzly::Source::new("rules.grz", "1 + 2");
/// assert_eq!((source.name.as_str(), source.text.as_str()), ("rules.grz", "1 + 2"));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// The name reports show (a file name, say).
    pub name: String,
    /// The program text.
    pub text: String,
}

impl Source {
    /// A shared source.
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// let source = grizzly::Source::new("<query>", "6 * 7");
    /// engine.run_source(&source, &mut |v| assert_eq!(v.to_string(), "42")).unwrap();
    /// ```
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source {
            name: name.into(),
            text: text.into(),
        })
    }
}

/// An error of the engine: what kind, a message (the contract's words for runtime
/// errors), and where in which source, when known.
///
/// One pointer wide, so that `Result<i64>` comes back in registers.
///
/// ```
/// use grizzly::{Engine, ErrorKind};
/// let mut engine = Engine::new();
/// let err = engine.run("1 / 0").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::DivisionByZero);
/// assert_eq!(err.message(), "division by zero");
/// assert_eq!(err.span().map(|s| (s.start, s.end)), Some((0, 5)));
/// ```
#[derive(Clone, Debug)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    span: Option<Span>,
    /// Text shown under the caret, when it says more than the message.
    label: Option<String>,
    source: Option<Arc<Source>>,
    /// Further errors found in the same parse (recovery), reported after this one.
    more: Vec<Error>,
}

impl Error {
    /// An error with no span and no source (a host's own errors, say).
    ///
    /// ```
    /// use grizzly::{Error, ErrorKind};
    /// let err = Error::new(ErrorKind::Usage, "no such rule");
    /// assert_eq!(err.to_string(), "no such rule");
    /// assert_eq!(err.report(), "error: no such rule\n");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                span: None,
                label: None,
                source: None,
                more: Vec::new(),
            }),
        }
    }

    /// The error at `span`.
    pub(crate) fn at(mut self, span: Span) -> Error {
        self.inner.span = Some(span);
        self
    }

    /// The error with a label under its caret.
    pub(crate) fn with_label(mut self, label: impl Into<String>) -> Error {
        self.inner.label = Some(label.into());
        self
    }

    /// Attaches the source if the error has none yet.
    pub(crate) fn in_source(mut self, source: &Arc<Source>) -> Error {
        if self.inner.source.is_none() {
            self.inner.source = Some(source.clone());
        }
        for e in &mut self.inner.more {
            if e.inner.source.is_none() {
                e.inner.source = Some(source.clone());
            }
        }
        self
    }

    /// Joins several errors of one parse into one value: the first is the main one.
    pub(crate) fn many(mut errors: Vec<Error>) -> Error {
        assert!(!errors.is_empty(), "Error::many needs at least one error");
        let mut first = errors.remove(0);
        first.inner.more.extend(errors);
        first
    }

    /// What went wrong.
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("\"x\" AS int").unwrap_err();
    /// assert_eq!(err.kind(), grizzly::ErrorKind::Cast);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, as the contract words it for runtime errors.
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("nope(1)").unwrap_err();
    /// assert_eq!(err.message(), "unknown function 'nope'");
    /// ```
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Where in its source the error is, in bytes.
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("1 + 2\n3 / 0").unwrap_err();
    /// let span = err.span().unwrap();
    /// assert_eq!((span.start, span.end), (6, 11));
    /// ```
    pub fn span(&self) -> Option<Span> {
        self.inner.span
    }

    /// The source the span points into, when known.
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("1 / 0").unwrap_err();
    /// assert_eq!(err.source().unwrap().text, "1 / 0");
    /// ```
    pub fn source(&self) -> Option<&Arc<Source>> {
        self.inner.source.as_ref()
    }

    /// All errors this value carries: itself first, then the ones found after it
    /// (a parse reports every error it recovers from).
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("1 +").unwrap_err();
    /// let first = err.all().next().unwrap();
    /// assert_eq!(first.message(), err.message());
    /// ```
    pub fn all(&self) -> impl Iterator<Item = &Error> {
        std::iter::once(self).chain(self.inner.more.iter())
    }

    /// The report a person reads: source line, caret and message (no colours), in
    /// the source the error came from (see [`Error::source`]).
    ///
    /// ```
    /// let mut engine = grizzly::Engine::new();
    /// let err = engine.run("1 +").unwrap_err();
    /// assert!(err.report().contains("1 +"));
    /// ```
    pub fn report(&self) -> String {
        self.report_with(false)
    }

    /// Like [`Error::report`], optionally with terminal colours.
    ///
    /// ```
    /// let err = grizzly::Engine::new().run("1 / 0").unwrap_err();
    /// assert!(err.report_with(true).contains("\u{1b}["), "ANSI colours");
    /// assert_eq!(err.report_with(false), err.report());
    /// ```
    pub fn report_with(&self, color: bool) -> String {
        self.render_all(None, color)
    }

    /// The report against `source`, the text this error's span points into (for a
    /// host that keeps its program text itself).
    ///
    /// ```
    /// let source = "FUNCTION f(x) => x +";
    /// let err = grizzly::Engine::new().run(source).unwrap_err();
    /// let report = err.render(source);
    /// assert!(report.starts_with("Error: parse error"));
    /// assert!(report.contains("FUNCTION f(x) => x +"));
    /// ```
    pub fn render(&self, source: &str) -> String {
        self.render_all(Some(source), false)
    }

    /// Every error's report, each in `text` or else in its own source.
    fn render_all(&self, text: Option<&str>, color: bool) -> String {
        let mut out = String::new();
        for e in self.all() {
            let own = e.inner.source.as_deref();
            let name = own.map_or("<input>", |s| s.name.as_str());
            let source = text.or(own.map(|s| s.text.as_str())).map(|t| (name, t));
            out.push_str(&e.render_one(source, color));
        }
        out
    }

    fn render_one(&self, source: Option<(&str, &str)>, color: bool) -> String {
        use ariadne::{Config, IndexType, Label, Report, ReportKind};
        let header = self.header();
        let (Some(span), Some((name, text))) = (self.inner.span, source) else {
            return format!("error: {header}\n");
        };
        let len = text.len();
        let start = (span.start as usize).min(len);
        let end = (span.end as usize).clamp(start, len);
        // A span in other text than the one given may end inside a character.
        let (start, end) = (floor_char(text, start), floor_char(text, end));
        let label = self
            .inner
            .label
            .clone()
            .unwrap_or_else(|| self.inner.message.clone());
        let report = Report::build(ReportKind::Error, (name, start..end))
            .with_config(
                Config::new()
                    .with_index_type(IndexType::Byte)
                    .with_color(color),
            )
            .with_message(header)
            .with_label(Label::new((name, start..end)).with_message(label))
            .finish();
        let mut buf = Vec::new();
        let cache = (name, ariadne::Source::from(text));
        if report.write(cache, &mut buf).is_err() {
            return format!("error: {}\n", self.header());
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn header(&self) -> String {
        match self.inner.kind {
            ErrorKind::Parse => format!("parse error: {}", self.inner.message),
            _ => self.inner.message.clone(),
        }
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of the engine.
///
/// ```
/// fn total(engine: &mut grizzly::Engine) -> grizzly::Result<i64> {
///     let v = engine.call("total", &[])?;
///     i64::try_from(v)
/// }
/// let mut engine = grizzly::Engine::new();
/// engine.run("FUNCTION total() => 40 + 2").unwrap();
/// assert_eq!(total(&mut engine).unwrap(), 42);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
