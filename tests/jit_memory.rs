//! JIT code memory, deopt accounting and `jit dump`.
#![cfg(feature = "jit")]

mod jit_common;
use jit_common::*;

// ---- code memory ----

#[test]
fn a_tiny_code_limit_leaves_functions_interpreted_with_a_reason() {
    let defs = "FUNCTION inc(x) => x + 1\n\
                FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }\n\
                FUNCTION half(x) => x / 2.0";
    let exprs = ["inc(41)", "fib(15)", "half(3)", "inc(1) + fib(10)"];
    // Smaller than the trampoline, which every compile needs first (built with the
    // engine, or installed with the first batch): nothing compiles.
    for limit in [0, 1, 32] {
        let mut e = Engine::builder()
            .jit(JitMode::Eager)
            .code_limit(limit)
            .build();
        let out = agree(&mut e, defs, &exprs);
        assert_eq!(out[1], Outcome::Value("610".into(), int(610)));
        assert_eq!(e.jit_stats().specializations, 0, "limit {limit}");
        assert_eq!(e.jit_stats().entries, 0, "limit {limit}");
        let status = e.jit_status();
        let line = status_line(&status, "inc(int) not compiled:");
        assert!(line.contains("limit"), "limit {limit}: {line}");
        assert!(
            status.contains(&format!("limit {limit} bytes")),
            "limit {limit}:\n{status}"
        );
    }
}

#[test]
fn a_full_code_arena_keeps_what_fits() {
    // Exactly the code memory that the trampoline and `a` take (whole pages or 64-byte
    // lines, depending on the kind of code memory), measured in a roomy engine.
    let mut roomy = Engine::builder().jit(JitMode::Eager).build();
    define(&mut roomy, "FUNCTION a(x) => x + 1");
    assert_eq!(roomy.call("a", &[int(1)]).unwrap(), int(2));
    let limit = code_in_use(&roomy);
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .code_limit(limit)
        .build();
    let out = agree(
        &mut e,
        "FUNCTION a(x) => x + 1\nFUNCTION b(x) => x * 3\nFUNCTION c(x) => x - 5",
        &["a(1)", "b(2)", "c(3)", "a(b(c(10)))", "a(2)"],
    );
    assert_eq!(out[3], Outcome::Value("16".into(), int(16)));
    let stats = e.jit_stats();
    assert_eq!(stats.specializations, 1, "{}", e.jit_status());
    assert_eq!(e.jit_specializations("a"), 1);
    assert_eq!(stats.entries, 3, "{stats:?}");
    let status = e.jit_status();
    assert!(
        status_line(&status, "b(int) not compiled:").contains("limit"),
        "{status}"
    );

    // Clearing returns the memory: now b fits.
    e.jit_clear();
    assert_eq!(e.call("b", &[int(2)]).unwrap(), int(6));
    assert_eq!(e.jit_specializations("b"), 1);
}

/// Bytes of code memory in use, from the status.
fn code_in_use(e: &Engine) -> usize {
    let status = e.jit_status();
    status
        .split("code memory: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no code memory line:\n{status}"))
}

#[test]
fn redefinitions_give_their_code_memory_back() {
    // Room for the first batch (whose page the trampoline keeps) and two more: every
    // redefinition must release the old code, or compiling stops after the second.
    let limit = 3 * 4096;
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .code_limit(limit)
        .build();
    define(&mut e, "FUNCTION g(x) => f(x) * 2");
    for i in 0..200 {
        define(&mut e, &format!("FUNCTION f(x) => x + {i}"));
        assert_eq!(e.call("g", &[int(1)]).unwrap(), int(2 * (1 + i)));
        assert_eq!(
            e.jit_specializations("g"),
            1,
            "redefinition {i}:\n{}",
            e.jit_status()
        );
        assert!(code_in_use(&e) <= limit);
    }
    assert_eq!(e.jit_stats().entries, 200);
    assert_eq!(e.jit_stats().fallbacks, 0);
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn no_mapping_is_writable_and_executable_while_code_is_live() {
    let mut e = eager();
    define(
        &mut e,
        "FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }\n\
         FUNCTION h(x) => floor(x * 2.5)",
    );
    assert_eq!(e.call("fib", &[int(20)]).unwrap(), int(6765));
    assert_eq!(
        e.call("h", &[Value::Float(1.5)]).unwrap(),
        Value::Float(3.0)
    );
    assert_eq!(e.jit_stats().specializations, 2);

    let dump = e.jit_dump("fib").unwrap();
    let addr = dump
        .split(" bytes at 0x")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|hex| usize::from_str_radix(hex, 16).ok())
        .unwrap_or_else(|| panic!("no address in the dump:\n{dump}"));

    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut code_mapping = None;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (range, perms) = (fields.next().unwrap(), fields.next().unwrap());
        assert!(
            !(perms.contains('w') && perms.contains('x')),
            "a writable and executable mapping: {line}"
        );
        let (lo, hi) = range.split_once('-').unwrap();
        let lo = usize::from_str_radix(lo, 16).unwrap();
        let hi = usize::from_str_radix(hi, 16).unwrap();
        if (lo..hi).contains(&addr) {
            code_mapping = Some(perms.to_string());
        }
    }
    // The compiled code itself lives in a read-execute mapping.
    let perms = code_mapping.unwrap_or_else(|| panic!("{addr:#x} is in no mapping"));
    assert!(
        perms.starts_with("r-x"),
        "code at {addr:#x} is mapped {perms}"
    );
    assert_eq!(e.call("fib", &[int(10)]).unwrap(), int(55));
}

// ---- deopt accounting ----

#[test]
fn a_function_that_keeps_deopting_backs_off() {
    // Every call of bad(0) fails its guard. After each fallback the function waits
    // longer before compiled code is offered it again: no enter/fall back at every call.
    // (`safe`'s handler uses a string, which compiled code does not hold yet: an error
    // in `bad` deoptimizes instead of reaching a compiled handler.)
    let defs = "FUNCTION bad(x) => 100 / x\nFUNCTION safe(x) => TRY bad(x) CATCH slow(0, 2) - 3\n"
        .to_string()
        + &uncompiled_slow();
    let defs = defs.as_str();
    let mut e = eager();
    define(&mut e, defs);
    assert_eq!(e.call("safe", &[int(0)]).unwrap(), int(-1));
    assert_eq!(e.jit_specializations("safe"), 1);
    assert_eq!(e.jit_specializations("bad"), 1);
    // safe(0) entered and fell back; the interpreter's rerun offered bad(0) (hot too),
    // which fell back as well.
    // (The interpreter's rerun also offers the chain inside `slow`, whose short ends
    // compile: counts are read per specialization.)
    let counts = |e: &Engine| {
        let status = e.jit_status();
        let (safe, bad) = (
            entries_of(&status, "safe(int)"),
            entries_of(&status, "bad(int)"),
        );
        (safe.0 + bad.0, safe.1 + bad.1)
    };
    assert_eq!(counts(&e), (2, 2));
    for i in 0..1000 {
        assert_eq!(e.call("safe", &[int(0)]).unwrap(), int(-1), "call {i}");
    }
    let (entries, fallbacks) = counts(&e);
    assert!(entries <= 12, "1001 failing calls entered {entries} times");
    assert_eq!(entries, fallbacks);
    // The code was not discarded: calls that succeed run compiled again once the
    // current wait (about as long as the failing run) is over.
    assert_eq!(e.jit_specializations("safe"), 1);
    for i in 1..=1500 {
        assert_eq!(e.call("safe", &[int(i)]).unwrap(), int(100 / i));
    }
    let (entries, fallbacks) = counts(&e);
    assert!(
        entries - fallbacks > 100,
        "{entries} entries, {fallbacks} fell back"
    );
}

#[test]
fn a_specialization_that_deopts_for_many_callers_is_discarded() {
    // Each caller enters compiled code once and fails in the same callee, with no
    // handler (and the interpreter's rerun of the caller offers the callee itself,
    // which fails again): the callee's specialization reaches DEOPT_LIMIT deopts and
    // is discarded, with every specialization that calls it.
    assert_eq!(grizzly::internals::DEOPT_LIMIT, 16);
    let mut defs = String::from("FUNCTION bad(x) => 100 / x\n");
    for k in 1..=16 {
        defs.push_str(&format!("FUNCTION c{k}(x) => bad(x) - {k}\n"));
    }
    let division = Outcome::Error(ErrorKind::DivisionByZero, "division by zero".into());
    let mut e = eager();
    define(&mut e, &defs);
    let mut discarded_at = None;
    for k in 1..=16 {
        assert_eq!(call(&mut e, &format!("c{k}"), &[int(0)]), division);
        if discarded_at.is_none() && e.jit_specializations("bad") == 0 {
            discarded_at = Some(k);
        }
    }
    let k = discarded_at.unwrap_or_else(|| panic!("never discarded:\n{}", e.jit_status()));
    assert!(k >= 8, "discarded after {k} callers:\n{}", e.jit_status());
    assert_eq!(e.jit_stats().specializations, 0, "{}", e.jit_status());
    let status = e.jit_status();
    let line = status_line(&status, "bad(int) not compiled:");
    assert!(
        line.contains("deoptimized 16 times (last: division by zero)"),
        "{line}"
    );
    let settled = e.jit_stats();
    assert_eq!(settled.entries, settled.fallbacks);

    // No compile/deopt cycle: later calls stay interpreted, and stay correct.
    for i in 0..100 {
        for k in [1, 16] {
            let f = format!("c{k}");
            assert_eq!(call(&mut e, &f, &[int(0)]), division);
            assert_eq!(e.call(&f, &[int(i + 1)]).unwrap(), int(100 / (i + 1) - k));
        }
        assert_eq!(e.call("bad", &[int(4)]).unwrap(), int(25));
    }
    assert_eq!(e.jit_stats().entries, settled.entries, "{}", e.jit_status());
    assert_eq!(e.jit_stats().specializations, 0);
    assert_eq!(e.jit_specializations("bad"), 0);
    let status = e.jit_status();
    assert!(
        status_line(&status, "c1(int) not compiled:").contains("calls bad(int)"),
        "{status}"
    );
    assert_eq!(
        call(&mut e, "bad", &[int(0)]),
        Outcome::Error(ErrorKind::DivisionByZero, "division by zero".into())
    );
    // Another argument type is another key: bad(float) compiles (float division
    // cannot fail), once the function's back-off after the refusal is over.
    for _ in 0..2000 {
        assert_eq!(
            e.call("bad", &[Value::Float(0.0)]).unwrap(),
            Value::Float(f64::INFINITY)
        );
    }
    assert_eq!(e.jit_specializations("bad"), 1, "{}", e.jit_status());
    assert!(e.jit_stats().entries > settled.entries + 100);
}

// ---- dump ----

#[test]
fn status_names_the_backend_of_this_machine() {
    let e = eager();
    let status = e.jit_status();
    let want = match std::env::consts::ARCH {
        "x86_64" => "JIT backend: x86-64",
        "aarch64" => "JIT backend: aarch64",
        _ => "no JIT backend for this architecture",
    };
    assert!(status.contains(want), "{status}");
}

#[test]
fn jit_dump_shows_disassembly_with_source_lines() {
    let mut e = eager();
    define(
        &mut e,
        "FUNCTION add1(x) => x + 1\nFUNCTION cold(x) => x - 1\nFUNCTION s() => \"str\"",
    );
    assert_eq!(e.call("add1", &[int(1)]).unwrap(), int(2));
    assert_eq!(e.call("s", &[]).unwrap(), Value::str("str"));
    let dump = e.jit_dump("add1").unwrap();
    assert!(dump.starts_with("add1(int) -> int: "), "{dump}");
    assert!(
        dump.lines().any(|l| l.trim_end().ends_with(": ret")),
        "{dump}"
    );
    assert!(dump.lines().any(|l| l.trim() == "; x + 1"), "{dump}");
    // The host's instruction set: the checked add is `add` (then `jo`) on x86-64 and
    // `adds` (then `b.vs`) on AArch64.
    let add = if cfg!(target_arch = "aarch64") {
        "adds "
    } else {
        "add "
    };
    assert!(dump.contains(add), "{dump}");

    assert!(e
        .jit_dump("cold")
        .unwrap()
        .contains("'cold' has no compiled code"));
    assert_eq!(
        e.jit_dump("nosuch").unwrap_err().kind(),
        ErrorKind::UnknownFunction
    );

    // Two specializations, two listings.
    e.call("add1", &[Value::Float(0.5)]).unwrap();
    let dump = e.jit_dump("add1").unwrap();
    assert!(dump.contains("add1(int) -> int"), "{dump}");
    assert!(dump.contains("add1(float) -> float"), "{dump}");
}

#[test]
fn jit_compile_compiles_on_request_or_says_why_not() {
    let mut e = Engine::builder().jit(JitMode::On).threshold(1000).build();
    define(
        &mut e,
        "FUNCTION f(x) => x * 2\nFUNCTION s(x) => \"a\"\nFUNCTION mixed(p) => IF p { 1 } ELSE { 2.0 }",
    );
    e.jit_compile("f", &[int(0)]).unwrap();
    assert_eq!(e.jit_specializations("f"), 1);
    // Compiling is not calling: nothing entered yet, and the threshold still applies.
    assert_eq!(e.jit_stats().entries, 0);

    // Strings, null and results of two types compile as generic values.
    e.jit_compile("f", &[Value::str("x")]).unwrap();
    e.jit_compile("s", &[int(1)]).unwrap();
    e.jit_compile("mixed", &[Value::Bool(true)]).unwrap();
    assert_eq!(e.jit_specializations("f"), 2);
    // A function that reaches more specializations than one compile infers is not.
    define(&mut e, &uncompiled_slow());
    let err = e.jit_compile("slow", &[int(0), int(1)]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(
        err.message(),
        "'slow' not compiled: calls too many specializations (more than 32)"
    );
    assert_eq!(
        e.jit_compile("nosuch", &[]).unwrap_err().kind(),
        ErrorKind::UnknownFunction
    );
    assert_eq!(
        e.jit_compile("f", &[]).unwrap_err().kind(),
        ErrorKind::WrongArgumentCount
    );
    assert_eq!(
        e.call("mixed", &[Value::Bool(false)]).unwrap(),
        Value::Float(2.0)
    );
}

#[test]
fn jit_dump_shows_a_native_function_after_its_specialization() {
    let mut e = eager();
    define(&mut e, "FUNCTION add1(x) => x + 1");
    assert!(!e.jit_dump("add1").unwrap().contains("native function"));
    let add1 = e.typed::<(i64,), i64>("add1").unwrap();
    assert_eq!(add1.call(&mut e, (1,)).unwrap(), 2);
    let dump = e.jit_dump("add1").unwrap();
    let (compiled, native) = dump
        .split_once("add1(int) -> int, native function for typed calls: ")
        .unwrap_or_else(|| panic!("no native function in:\n{dump}"));
    assert!(compiled.starts_with("add1(int) -> int: "), "{dump}");
    // Its own listing, source lines included, ending in returns.
    assert!(native.lines().any(|l| l.trim() == "; x + 1"), "{dump}");
    assert!(
        native
            .lines()
            .filter(|l| l.trim_end().ends_with(": ret"))
            .count()
            >= 2,
        "{dump}"
    );
}
