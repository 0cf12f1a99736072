//! Fuzz target `differential`: a terminating PL-GRIZZLY session generated from the bytes
//! (`grizzly_fuzz::Case`: functions over int, float and bool, operators, builtins, casts,
//! IF, LET, TRY, ??, calls of earlier functions and bounded self recursion, calls of host
//! functions registered on every engine (`Err` results, panics, wrong argument counts and
//! types), calls from the host), run by the interpreter (`JitMode::Off`), by compiled
//! code from the first call (`JitMode::Eager`) and by a tiering engine (`JitMode::On`,
//! threshold 1 to 10). Every step must give the same values (floats by bits, NaN equal
//! to NaN) or the same error (kind and message) in all three; a difference, an internal
//! error or a panic (other than a host function's, which is an error) is a crash. In one
//! session in four, one step runs in one JIT engine while a second thread interrupts it
//! (or a tiny deadline stops it) at a random point: it must give the interpreter's
//! outcome but for one `interrupted` call or item, and every later step exactly the
//! interpreter's. `cargo fuzz fmt differential FILE` prints the session an input
//! stands for.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: grizzly_fuzz::Case| {
    grizzly_fuzz::check(&case);
});
