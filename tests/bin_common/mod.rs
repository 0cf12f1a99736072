//! The `grizzly` binary as a command, for the tests that run it.

use std::process::Command;

/// The binary as a command. Under emulation (`scripts/test-aarch64.sh`) the runner in
/// `GRIZZLY_TEST_RUNNER` (e.g. `qemu-aarch64 -L /`) starts it: the kernel cannot.
pub fn grizzly() -> Command {
    let runner = std::env::var("GRIZZLY_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(env!("CARGO_BIN_EXE_grizzly"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_grizzly")),
    }
}

/// The binary started with `args`, its standard streams piped, and a `HOME` of its own
/// (an interactive session fed by a pipe must not touch the user's history anyway).
pub fn spawn_piped(args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    grizzly()
        .args(args)
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start grizzly")
}
