//! The `grizzly` command line: `run FILE`, `eval SOURCE`, or (no subcommand) the
//! interactive session of [`repl`]. Everything goes through the library's [`Engine`].
//!
//! Exit status: 0 when all went well; 1 for a parse, definition or runtime error (and
//! for a program file that is not valid UTF-8, which is a fault of the file's content,
//! like a parse error); 2 for a usage error (unknown flag, bad option value, missing or
//! unreadable file).

mod repl;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use grizzly::{Engine, Error, JitMode, Source, Value};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status for a parse, definition or runtime error.
const EXIT_ERROR: u8 = 1;
/// Exit status for a usage error (clap uses the same for its own).
const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "grizzly",
    version,
    about = "Run PL-GRIZZLY programs; with no subcommand, start an interactive session"
)]
struct Cli {
    #[command(flatten)]
    options: Options,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a program file
    Run {
        /// The program file (PL-GRIZZLY source, UTF-8)
        file: PathBuf,
    },
    /// Run a program given on the command line
    Eval {
        /// The program text (use `--` before a program that starts with `-`)
        #[arg(allow_hyphen_values = true)]
        source: String,
    },
}

/// Options accepted before or after the subcommand, and for the interactive session.
#[derive(Args, Debug)]
struct Options {
    /// on: compile hot functions; off: interpret only; eager: compile at the first call
    #[arg(long, value_enum, value_name = "MODE", global = true)]
    jit: Option<JitArg>,
    /// Calls before a function is compiled (at least 1)
    #[arg(long, value_name = "N", global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    threshold: Option<u32>,
    /// Call-depth limit (at least 1; default 10000)
    #[arg(long, value_name = "N", global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_depth: Option<u32>,
    /// Size limit of the JIT's code memory in bytes (default 64 MiB); when it is
    /// full, functions stay interpreted
    #[arg(long, value_name = "BYTES", global = true)]
    code_limit: Option<usize>,
    /// Stop any item (a top-level expression or LET) that runs longer than this,
    /// with an `interrupted` error (exit status 1)
    #[arg(long, value_name = "SECONDS", global = true, value_parser = seconds)]
    timeout: Option<std::time::Duration>,
    /// Print JIT statistics to stderr at exit
    #[arg(long, global = true)]
    stats: bool,
}

/// A positive number of seconds (fractions allowed).
fn seconds(arg: &str) -> Result<std::time::Duration, String> {
    let s: f64 = arg
        .parse()
        .map_err(|_| format!("'{arg}' is not a number"))?;
    if !(s > 0.0 && s <= 1e9) {
        return Err(format!("'{arg}' is not a number of seconds above 0"));
    }
    Ok(std::time::Duration::from_secs_f64(s))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum JitArg {
    On,
    Off,
    Eager,
}

impl From<JitArg> for JitMode {
    fn from(arg: JitArg) -> JitMode {
        match arg {
            JitArg::On => JitMode::On,
            JitArg::Off => JitMode::Off,
            JitArg::Eager => JitMode::Eager,
        }
    }
}

impl Options {
    fn engine(&self) -> Engine {
        let mut builder = Engine::builder().jit(self.jit.map_or(JitMode::On, JitMode::from));
        if let Some(n) = self.threshold {
            builder = builder.threshold(n);
        }
        if let Some(n) = self.max_depth {
            builder = builder.max_depth(n);
        }
        if let Some(n) = self.code_limit {
            builder = builder.code_limit(n);
        }
        if let Some(limit) = self.timeout {
            builder = builder.deadline(limit);
        }
        builder.build()
    }
}

/// The whole program: parses the arguments (clap exits with 2 on its own errors) and
/// returns the exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut engine = cli.options.engine();
    let status = match &cli.command {
        None => repl::run(&mut engine),
        Some(Command::Run { file }) => match read_program(file) {
            Ok(text) => run_program(&mut engine, &Source::new(file.display().to_string(), text)),
            Err(status) => return status,
        },
        Some(Command::Eval { source }) => {
            reject_unknown_flag(source);
            run_program(&mut engine, &Source::new("<eval>", source.as_str()))
        }
    };
    if cli.options.stats {
        print_stats(&engine);
    }
    status
}

/// `eval` takes a program that starts with `-` (`grizzly eval -5`), so clap hands an
/// unknown long flag to it as the program: treat `--word...` as the usage error it is.
fn reject_unknown_flag(source: &str) {
    let flag = source.strip_prefix("--").filter(|rest| {
        rest.starts_with(|c: char| c.is_ascii_alphabetic())
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c))
    });
    if flag.is_some() {
        let message = format!("unexpected argument '{source}' found");
        Cli::command()
            .error(ErrorKind::UnknownArgument, message)
            .exit();
    }
}

/// Reads a program file; on failure reports it and gives the exit status.
fn read_program(path: &Path) -> Result<String, ExitCode> {
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("error: cannot read file '{}': {e}", path.display());
        ExitCode::from(EXIT_USAGE)
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        eprintln!(
            "error: file '{}' is not valid UTF-8 (line {line}, byte offset {at})",
            path.display()
        );
        ExitCode::from(EXIT_ERROR)
    })
}

/// Runs one program, printing its values as they come and reporting an error on stderr.
fn run_program(engine: &mut Engine, source: &std::sync::Arc<Source>) -> ExitCode {
    let mut out = Printer::new();
    let result = engine.run_source(source, &mut |v| out.print(v));
    let written = out.finish();
    if let Err(e) = result {
        report(&e);
        return ExitCode::from(EXIT_ERROR);
    }
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("error: cannot write to stdout: {e}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Writes printed values to stdout, one per line, as soon as they are produced.
/// After a write error (say, a closed pipe) it stops writing and remembers the error.
struct Printer {
    error: Option<io::Error>,
}

impl Printer {
    fn new() -> Printer {
        Printer { error: None }
    }

    fn print(&mut self, value: &Value) {
        if self.error.is_none() {
            if let Err(e) = writeln!(io::stdout().lock(), "{value}") {
                self.error = Some(e);
            }
        }
    }

    /// Flushes stdout (so that it comes before any error report) and gives the first error.
    fn finish(self) -> io::Result<()> {
        match self.error {
            Some(e) => Err(e),
            None => io::stdout().flush(),
        }
    }
}

/// Reports an engine error on stderr, in colour only when stderr is a terminal.
fn report(error: &Error) {
    let text = error.report_with(io::stderr().is_terminal());
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = writeln!(err);
    }
}

/// `--stats`: the engine's JIT statistics on stderr.
fn print_stats(engine: &Engine) {
    let status = engine.jit_status();
    if !status.is_empty() {
        eprintln!("{}", status.trim_end_matches('\n'));
    }
}
