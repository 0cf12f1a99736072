//! Deep recursion, wide calls, many functions.

use super::*;

// ---- deep recursion, wide calls, many functions ----

const DOWN: &str = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }
FUNCTION ev(n) => IF n == 0 { true } ELSE { od(n - 1) }
FUNCTION od(n) => IF n == 0 { false } ELSE { ev(n - 1) }
FUNCTION fdown(x) => IF x < 1 { 0.5 } ELSE { 1.0 + fdown(x - 1.0) }";

/// At the depth limit `down(limit - 1)` runs and `down(limit)` overflows (non-tail
/// recursion); mutual recursion nests too; the overflow can be caught.
fn recursion_at_the_limit(limit: u32) -> (String, Want) {
    let (l, k) = (limit as i64, limit as i64 - 1);
    let program = format!(
        "{DOWN}\ndown({k})\nTRY down({l}) CATCH -1\nev({k})\nTRY od({l}) CATCH \"caught\"\n\
         fdown({k}.0)\ndown({l})"
    );
    let (v, even, f) = (k.to_string(), k % 2 == 0, format!("{:?}", k as f64 + 0.5));
    let even = even.to_string();
    (program, overflows_stack(&[&v, "-1", &even, "caught", &f]))
}

fn deep_recursion(limit: u32, _: &[JitMode]) {
    let (program, want) = recursion_at_the_limit(limit);
    let want = std::slice::from_ref(&want);
    for mode in MODES {
        api(&program, mode, limit, want);
        let (jit, depth) = (mode_arg(mode), limit.to_string());
        cli(&program, &["--jit", &jit, "--max-depth", &depth], want);
        // From the host: `call` runs at depth 1; the second time, compiled code runs.
        let mut e = engine(mode, limit);
        e.run(DOWN).unwrap();
        for _ in 0..2 {
            let ok = e.call("down", &[Value::Int(limit as i64 - 1)]);
            assert_eq!(ok.unwrap(), Value::Int(limit as i64 - 1), "{mode:?}");
            let over = e.call("down", &[Value::Int(limit as i64)]).unwrap_err();
            assert_eq!(over.kind(), ErrorKind::StackOverflow, "{mode:?}");
        }
    }
}

sized! { recursion_1_000_000_deep, recursion_10_000_deep, deep_recursion(1_000_000, 10_000) }

#[test]
fn a_million_deep_recursion_in_every_mode_of_the_binary() {
    // Compiled code falls back to the interpreter when the host stack runs short.
    let program = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }\n\
                   down(999999)\nTRY down(1000000) CATCH -1\ndown(1000000)";
    for mode in MODES {
        let options = ["--jit", &mode_arg(mode), "--max-depth", "1000000"];
        cli(program, &options, &[overflows_stack(&["999999", "-1"])]);
    }
}

#[test]
fn compiled_code_on_a_small_host_stack_falls_back() {
    // Compiled frames live on the host stack: on a 256 KiB thread 100,000 levels do not
    // fit, and compiled code must hand over to the interpreter rather than crash.
    let run = || {
        let (program, want) = recursion_at_the_limit(100_000);
        api(&program, JitMode::Eager, 100_000, &[want]);
        let mut e = engine(JitMode::Eager, 100_000);
        e.run(DOWN).unwrap();
        let v = e.call("down", &[Value::Int(99_999)]).unwrap();
        assert_eq!(v, Value::Int(99_999));
        let status = e.jit_status();
        assert!(status.contains("host stack limit"), "{status}");
    };
    let thread = std::thread::Builder::new().stack_size(256 << 10);
    thread.spawn(run).unwrap().join().expect("no panic");
}

fn wide_calls(n: usize, _: &[JitMode]) {
    let names = |p: &str| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let (params, args) = (names("p").join(", "), names("").join(", "));
    let last = n - 1;
    let big = format!("FUNCTION big({params}) => p0 + p{last} * 2 + p{}", n / 2);
    let value = (2 * last + n / 2).to_string();
    let sum = format!("FUNCTION sum({params}) => {}", names("p").join(" + "));
    let program = format!("{big}\nbig({args})\nbig({args})\n{sum}\nsum({args})\nbig({args}, 1)");
    let message = format!(
        "wrong number of arguments: 'big' expects {n}, got {}",
        n + 1
    );
    let (sum, kind) = ((n * last / 2).to_string(), ErrorKind::WrongArgumentCount);
    let want = fails(&[&value, &value, &sum], kind, &message);
    check(&program, FULL, &[want]);
    // From the host, in eager mode: the JIT may refuse, the call runs anyway.
    let mut e = engine(JitMode::Eager, 10_000);
    e.run(&big).unwrap();
    let values: Vec<Value> = (0..n as i64).map(Value::Int).collect();
    for _ in 0..3 {
        assert_eq!(e.call("big", &values).unwrap().to_string(), value);
    }
    if let Err(e) = e.jit_compile("big", &values) {
        assert_eq!(e.kind(), ErrorKind::Usage, "{}", e.message());
    }
    let wrong = e.call("big", &values[1..]).unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongArgumentCount);
}

sized! { ten_thousand_arguments, a_thousand_arguments, wide_calls(10_000, 1_000) }

#[test]
fn more_lets_than_a_frame_holds_is_a_definition_error() {
    let lets: String = (0..30_001).map(|i| format!("LET a{i} = {i}; ")).collect();
    let program = format!("1\nCREATE FUNCTION huge(x) {{ {lets}x }}\n2");
    check(&program, FULL, &[too_many_slots()]);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow unoptimised: use --release")]
fn more_parameters_than_a_frame_holds_is_a_definition_error() {
    // Parameter names are checked for duplicates one by one: quadratic, but bounded by
    // the limit of 30,000 (a second with optimisations, over ten without).
    let params: Vec<String> = (0..40_000).map(|i| format!("q{i}")).collect();
    let program = format!("1\nFUNCTION huge({}) => q0\n2", params.join(", "));
    check(&program, FULL, &[too_many_slots()]);
}

fn too_many_slots() -> Want {
    fails(
        &["1"],
        ErrorKind::Definition,
        "too many parameters and LETs",
    )
}

fn many_functions(n: usize, _: &[JitMode]) {
    // A chain: g(i)(x) = g(i + 1)(x) + 1, down to g(n)(x) = x. g(n - d)(0) is d; with a
    // depth limit of n, g0(0) overflows.
    let d = (n / 10).min(9_000);
    let mut program = String::new();
    for i in 0..n {
        let _ = writeln!(program, "FUNCTION g{i}(x) => g{}(x) + 1", i + 1);
    }
    let (a, b) = (n - 5, n - d);
    let _ = write!(program, "FUNCTION g{n}(x) => x\ng{a}(0)\ng{b}(0)\ng0(0)");
    let printed = ["5".to_string(), d.to_string()];
    let want = overflows_stack(&["5", &printed[1]]);
    let limit = n.to_string();
    cli(
        &program,
        &["--jit", "eager", "--max-depth", &limit, "--stats"],
        &[want],
    );
    // In an engine where they are compiled and called: redefine one, clear the JIT.
    let mut e = engine(JitMode::Eager, n as u32);
    let (out, error) = outcome(&mut e, &program);
    assert_eq!(out, printed);
    assert_eq!(error.map(|e| e.0), Some(ErrorKind::StackOverflow));
    let replace = format!("FUNCTION g{}(x) => x * 2\ng{a}(1)", n - 3);
    assert_eq!(e.run(&replace).unwrap(), [Value::Int(4)]);
    e.jit_clear();
    // g(i)(1) is now 2 + (n - 3 - i).
    let g = e.call(&format!("g{b}"), &[Value::Int(1)]).unwrap();
    assert_eq!(g, Value::Int(d as i64 - 1));
    assert!(e.jit_status().lines().count() > n, "a line per function");
}

sized! { a_hundred_thousand_functions, three_thousand_functions, many_functions(100_000, 3_000) }
