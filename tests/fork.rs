//! A process that forks keeps running the right code in both halves: the parent drops
//! and replaces compiled code after the fork while the child still runs the old code.
//! (With code memory mapped twice and shared, a page the parent reuses would be the
//! child's too.) Alone in its test binary: `fork` in a process with other test threads
//! running is asking for trouble.
#![cfg(target_os = "linux")]

use grizzly::{Engine, JitMode, Value};

const FIB: &str = "FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }";

fn compiled_engine() -> Engine {
    let mut engine = Engine::builder().jit(JitMode::On).build();
    engine.run(FIB).expect("fib defines");
    engine
        .jit_compile("fib", &[Value::Int(1)])
        .expect("fib compiles");
    assert_eq!(engine.jit_specializations("fib"), 1);
    engine
}

/// What the child does; its exit status says whether all went right.
fn child(engine: &mut Engine, go: libc::c_int) -> bool {
    let mut byte = 0u8;
    // Wait until the parent has replaced its code.
    // SAFETY: reads one byte into a local from a pipe descriptor we own.
    if unsafe { libc::read(go, (&mut byte as *mut u8).cast(), 1) } != 1 {
        return false;
    }
    let old = engine.call("fib", &[Value::Int(20)]);
    // New code in the child, too: it must not land where the parent's code is.
    let new = engine
        .run("FUNCTION double(n) => n * 2")
        .and_then(|_| engine.jit_compile("double", &[Value::Int(1)]))
        .and_then(|_| engine.call("double", &[Value::Int(21)]));
    old.ok() == Some(Value::Int(6765))
        && new.ok() == Some(Value::Int(42))
        && engine.jit_stats().fallbacks == 0
}

#[test]
fn parent_and_child_each_run_their_own_code_after_a_fork() {
    let mut engine = compiled_engine();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (go_read, go_write) = (fds[0], fds[1]);

    // SAFETY: the child only uses the engine, a pipe and `_exit`; this test binary runs
    // this one test, so no other thread holds a lock the child would need.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: closes the child's copy of the write end, so that the read sees the end
        // of the pipe if the parent dies.
        unsafe { libc::close(go_write) };
        let ok =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child(&mut engine, go_read)));
        // SAFETY: ends the child without running the parent's test harness again.
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }

    // SAFETY: the parent's copy of the read end is not used.
    unsafe { libc::close(go_read) };
    // The parent drops fib's code and compiles other code of the same size, which
    // would take fib's pages if they were free to take.
    engine
        .run("FUNCTION fib(n) => IF n < 2 { n * 1000 } ELSE { fib(n - 1) + fib(n - 2) }")
        .expect("fib redefines");
    engine
        .jit_compile("fib", &[Value::Int(1)])
        .expect("the new fib compiles");
    assert_eq!(
        engine.call("fib", &[Value::Int(3)]).ok(),
        Some(Value::Int(2000))
    );
    // SAFETY: writes one byte from a local to a pipe descriptor we own.
    assert_eq!(
        unsafe { libc::write(go_write, [1u8].as_ptr().cast(), 1) },
        1
    );

    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child ran the wrong code or failed (status {status:#x})"
    );
    assert_eq!(
        engine.call("fib", &[Value::Int(3)]).ok(),
        Some(Value::Int(2000))
    );
}
