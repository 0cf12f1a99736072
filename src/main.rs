//! The `grizzly` command line: built on the library's public API alone.

#[path = "cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
