//! `grizzly-sql`: SQL over CSV and Parquet files, with PL-GRIZZLY functions as UDFs.
//!
//! ```text
//! grizzly-sql --udf rules.grz --table orders=orders.csv [--table t=file.parquet]
//!             [--format table|csv] ["SELECT ..."]
//! ```
//! With no query it reads SQL statements from an interactive prompt (one per line, or
//! several lines ended by `;`). Exit status: 0, 1 for an error, 2 for bad usage.

use clap::{Parser, ValueEnum};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use grizzly_datafusion::{register_program, GrizzlyFunctionFactory};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "grizzly-sql",
    about = "SQL over CSV and Parquet files, with PL-GRIZZLY functions as UDFs"
)]
struct Args {
    /// A PL-GRIZZLY program whose functions become SQL functions (repeatable).
    #[arg(long = "udf", value_name = "FILE.grz")]
    udfs: Vec<String>,
    /// A table: NAME=FILE, a .csv (with a header row) or .parquet file (repeatable).
    #[arg(long = "table", value_name = "NAME=FILE")]
    tables: Vec<String>,
    /// How results are printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The query; without one, an interactive prompt.
    query: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// An aligned table.
    Table,
    /// CSV with a header row.
    Csv,
}

/// An error for the user, printed as it is.
struct Failure(String);

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Failure(format!("error: cannot start: {e}"))),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => fail(f),
    }
}

fn fail(f: Failure) -> ExitCode {
    eprintln!("{}", f.0);
    ExitCode::from(1)
}

async fn run(args: Args) -> Result<(), Failure> {
    let mut program = String::new();
    for path in &args.udfs {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure(format!("error: cannot read {path}: {e}")))?;
        // Each file is checked on its own, so that a report points into its text.
        let source = grizzly::Source::new(path, &text);
        grizzly::Engine::new()
            .run_source(&source, &mut |_| {})
            .map_err(|e| Failure(e.report()))?;
        program.push_str(&text);
        program.push('\n');
    }
    let ctx = SessionContext::new()
        .with_function_factory(Arc::new(GrizzlyFunctionFactory::with_program(&program)));
    register_program(&ctx, &program).map_err(|e| Failure(e.report()))?;
    for spec in &args.tables {
        register_table(&ctx, spec).await?;
    }
    match &args.query {
        Some(q) => execute(&ctx, q, args.format).await,
        None => prompt(&ctx, args.format).await,
    }
}

async fn register_table(ctx: &SessionContext, spec: &str) -> Result<(), Failure> {
    let Some((name, path)) = spec
        .split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
    else {
        return Err(Failure(format!(
            "error: --table {spec}: expected NAME=FILE (a .csv or .parquet file)"
        )));
    };
    if !std::path::Path::new(path).is_file() {
        return Err(Failure(format!("error: --table {spec}: no file {path}")));
    }
    let registered = if path.ends_with(".csv") {
        ctx.register_csv(name, path, CsvReadOptions::new()).await
    } else if path.ends_with(".parquet") {
        ctx.register_parquet(name, path, ParquetReadOptions::default())
            .await
    } else {
        return Err(Failure(format!(
            "error: --table {spec}: {path} is neither .csv nor .parquet"
        )));
    };
    registered.map_err(|e| Failure(format!("error: --table {spec}: {e}")))
}

async fn execute(ctx: &SessionContext, sql: &str, format: Format) -> Result<(), Failure> {
    let batches = async { ctx.sql(sql).await?.collect().await }
        .await
        .map_err(|e| Failure(format!("error: {e}")))?;
    print!("{}", render(&batches, format)?);
    Ok(())
}

fn render(batches: &[RecordBatch], format: Format) -> Result<String, Failure> {
    let failure = |e: datafusion::arrow::error::ArrowError| Failure(format!("error: {e}"));
    match format {
        Format::Table => Ok(format!(
            "{}\n",
            pretty_format_batches(batches).map_err(failure)?
        )),
        Format::Csv => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                for b in batches {
                    writer.write(b).map_err(failure)?;
                }
            }
            String::from_utf8(out).map_err(|e| Failure(format!("error: {e}")))
        }
    }
}

/// Statements from the terminal (or stdin), each run as it is complete: a line, or
/// lines up to one ending with `;`. An error is printed and the prompt goes on.
async fn prompt(ctx: &SessionContext, format: Format) -> Result<(), Failure> {
    let mut editor = DefaultEditor::new().map_err(|e| Failure(format!("error: no prompt: {e}")))?;
    let mut pending = String::new();
    loop {
        let line = match editor.readline(if pending.is_empty() { "sql> " } else { "...> " }) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(Failure(format!("error: {e}"))),
        };
        if pending.is_empty() && line.trim().is_empty() {
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        let text = pending.trim();
        let complete = text.ends_with(';') || !line.trim_end().ends_with(['(', ',']);
        if !complete {
            continue;
        }
        let _ = editor.add_history_entry(text);
        let statement = std::mem::take(&mut pending);
        if let Err(Failure(message)) = execute(ctx, statement.trim(), format).await {
            eprintln!("{message}");
        }
    }
}
