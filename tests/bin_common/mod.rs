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
