//! Hostile input through the whole engine (the public API) and the `grizzly` binary:
//! every case gives a clear error or runs, never a panic, a crash (a signal) or a Rust
//! stack overflow. The parser alone is tested in `src/syntax/parser/robustness_tests.rs`;
//! here the trees also go through the checks, the bytecode compiler, the VM and the JIT.
//!
//! Time is not asserted (machines are noisy). The full-size cases that take more than a
//! few seconds in a debug build are ignored there; each has a smaller twin that always
//! runs. All of them: `cargo test --release --test hostile -- --include-ignored`.

use grizzly::{Engine, ErrorKind, JitMode, Source, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const MODES: [JitMode; 3] = [JitMode::Off, JitMode::On, JitMode::Eager];

fn mode_arg(mode: JitMode) -> String {
    format!("{mode:?}").to_lowercase()
}

/// How a program must end: the values it printed, then (if it failed) the error's kind
/// and the start of its message.
struct Want {
    printed: Vec<String>,
    error: Option<(ErrorKind, String)>,
}

impl std::fmt::Debug for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, first) = (self.printed.len(), self.printed.first());
        write!(f, "{n} values (first {first:?}), error {:?}", self.error)
    }
}

fn prints(values: &[&str]) -> Want {
    Want {
        printed: values.iter().map(|v| v.to_string()).collect(),
        error: None,
    }
}

fn fails(printed: &[&str], kind: ErrorKind, prefix: &str) -> Want {
    Want {
        error: Some((kind, prefix.to_string())),
        ..prints(printed)
    }
}

/// Too deep for the bytecode compiler's registers: a definition error, nothing runs.
fn too_large(what: &str) -> Want {
    fails(&[], ErrorKind::Definition, &format!("{what} is too large"))
}

fn overflows(printed: &[&str]) -> Want {
    fails(printed, ErrorKind::IntegerOverflow, "integer overflow")
}

fn overflows_stack(printed: &[&str]) -> Want {
    fails(printed, ErrorKind::StackOverflow, "stack overflow")
}

fn engine(mode: JitMode, max_depth: u32) -> Engine {
    Engine::builder().jit(mode).max_depth(max_depth).build()
}

/// Runs `src` and returns what it printed and how it ended, with the error's report
/// rendered (the rendering must not panic either).
fn outcome(engine: &mut Engine, src: &str) -> (Vec<String>, Option<(ErrorKind, String)>) {
    let mut printed = Vec::new();
    let source = Source::new("<hostile>", src);
    let result = engine.run_source(&source, &mut |v| printed.push(v.to_string()));
    let error = result.err().map(|e| {
        assert!(!e.render().is_empty());
        assert_ne!(e.kind(), ErrorKind::Internal, "{}", e.message());
        (e.kind(), e.message().to_string())
    });
    (printed, error)
}

/// Runs `src` through the API in `mode` and asserts it ends as one of `wants`.
#[track_caller]
fn api(src: &str, mode: JitMode, max_depth: u32, wants: &[Want]) {
    let (printed, error) = outcome(&mut engine(mode, max_depth), src);
    let matches = |w: &Want| {
        w.printed == printed
            && match (&w.error, &error) {
                (None, None) => true,
                (Some((k, p)), Some((kind, message))) => k == kind && message.starts_with(p),
                _ => false,
            }
    };
    assert!(
        wants.iter().any(matches),
        "mode {mode:?}: printed {} values (first {:?}), error {:?}; wanted one of {wants:?}",
        printed.len(),
        printed.first(),
        error.map(|(k, m)| (k, m.chars().take(200).collect::<String>()))
    );
}

/// Runs the binary on a program file holding `contents`, with `options`. Asserts that
/// it exited on its own (no signal), without a panic, with status 0 or 1.
fn grizzly_run(contents: &[u8], options: &[&str]) -> Output {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let name = format!("grizzly-hostile-{}-{n}.grz", std::process::id());
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, contents).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_grizzly"))
        .arg("run")
        .arg(&path)
        .args(options)
        .output();
    let _ = std::fs::remove_file(&path);
    let o = run.expect("start grizzly");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let head: String = stderr.chars().take(2000).collect();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{options:?}: {:?} (a signal or a panic)\nstderr:\n{head}",
        o.status
    );
    for bad in ["panicked", "overflowed its stack", "internal error"] {
        assert!(
            !stderr.contains(bad),
            "{options:?}: '{bad}' in stderr:\n{head}"
        );
    }
    o
}

/// Runs `contents` through the binary and asserts it ends as one of `wants`: the
/// values on stdout, exit status 1 and the message on stderr for an error.
#[track_caller]
fn cli(contents: &str, options: &[&str], wants: &[Want]) {
    let o = grizzly_run(contents.as_bytes(), options);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let matches = |w: &Want| {
        let expected: String = w.printed.iter().map(|v| format!("{v}\n")).collect();
        let ended = match &w.error {
            None => o.status.code() == Some(0) && stderr.is_empty(),
            Some((ErrorKind::Parse, p)) => {
                o.status.code() == Some(1) && stderr.contains(&format!("parse error: {p}"))
            }
            Some((_, p)) => o.status.code() == Some(1) && stderr.contains(p.as_str()),
        };
        stdout == expected && ended
    };
    assert!(
        wants.iter().any(matches),
        "{options:?}: exit {:?}, stdout {:?}..., stderr {:?}...; wanted one of {wants:?}",
        o.status.code(),
        stdout.chars().take(200).collect::<String>(),
        stderr.chars().take(300).collect::<String>()
    );
}

/// Modes of the API runs at full size (the binary always runs in eager mode) ...
const FULL: &[JitMode] = &[JitMode::Eager];
/// ... and at the smaller size of the debug twins.
const SMALL: &[JitMode] = &[JitMode::Off, JitMode::Eager];

/// Through the API in each of `modes` and through the binary in eager mode.
#[track_caller]
fn check(src: &str, modes: &[JitMode], wants: &[Want]) {
    for &mode in modes {
        api(src, mode, 10_000, wants);
    }
    cli(src, &["--jit", "eager"], wants);
}

/// Two tests of `case`: at full size, and at a smaller size for debug builds, where the
/// full size takes well over a few seconds (so it is ignored there).
macro_rules! sized {
    ($full:ident, $small:ident, $case:ident($n:expr, $debug_n:expr)) => {
        #[test]
        #[cfg_attr(debug_assertions, ignore = "slow unoptimised: use --release")]
        fn $full() {
            $case($n, FULL);
        }
        #[test]
        fn $small() {
            $case($debug_n, SMALL);
        }
    };
}

// ---- deep nesting: top level, and in a function body that eager mode compiles ----

fn nested_parentheses(n: usize, modes: &[JitMode]) {
    let program = format!(
        "{open}1{close}\nFUNCTION f(x) => {open}x{close}\nf(2)\nf(2.5)",
        open = "(".repeat(n),
        close = ")".repeat(n)
    );
    check(&program, modes, &[prints(&["1", "2", "2.5"])]);
    let unclosed = format!("7\n{}1", "(".repeat(n));
    check(&unclosed, modes, &[fails(&[], ErrorKind::Parse, "")]);
}

fn nested_minus_and_not(n: usize, modes: &[JitMode]) {
    // Each operand needs a register until the operator runs: beyond 32,767 levels the
    // compiler refuses the definition rather than running out.
    let even = n.is_multiple_of(2);
    let minus = format!("{}1", "-".repeat(n));
    let value = prints(&[if even { "1" } else { "-1" }]);
    check(&minus, modes, &[value, too_large("expression")]);
    let not = format!("{}true", "NOT ".repeat(n));
    let value = prints(&[if even { "true" } else { "false" }]);
    check(&not, modes, &[value, too_large("expression")]);
    let mixed = format!("{}1", "NOT - ".repeat(n / 2));
    let type_error = fails(&[], ErrorKind::Type, "type error");
    check(&mixed, modes, &[type_error, too_large("expression")]);
    // In a function body, with an odd count: -MIN overflows in compiled code, which
    // deoptimizes; the interpreter reports the overflow.
    let program = format!(
        "FUNCTION f(x) => {}x\nf(3)\nf(-2.5)\nf(-9223372036854775807)\nf(-9223372036854775808)",
        "-".repeat(n | 1)
    );
    let ran = overflows(&["-3", "2.5", "9223372036854775807"]);
    check(&program, modes, &[ran, too_large("function 'f'")]);
}

fn nested_ifs(n: usize, modes: &[JitMode]) {
    let program = format!(
        "{}7{}\nFUNCTION f(x) => {}x{}\nf(3); f(-3)",
        "IF true { ".repeat(n),
        " } ELSE { 0 }".repeat(n),
        "IF x > 0 { ".repeat(n),
        " } ELSE { 0 }".repeat(n),
    );
    check(&program, modes, &[prints(&["7", "3", "0"])]);
    let mut chain = String::from("FUNCTION f(x) => ");
    for i in 0..n {
        let _ = write!(chain, "IF x == {i} {{ {i} }} ELSE ");
    }
    let _ = write!(chain, "{{ -1 }}\nf(0); f({}); f({n}); f(1.5)", n - 1);
    let last = (n - 1).to_string();
    check(&chain, modes, &[prints(&["0", &last, "-1", "-1"])]);
}

fn nested_calls_and_handlers(n: usize, modes: &[JitMode]) {
    // Arguments need registers too: the same limit as for `-`.
    let program = format!(
        "FUNCTION inc(x) => x + 1\nFUNCTION f(x) => {}x{}\nf(0)",
        "inc(".repeat(n),
        ")".repeat(n)
    );
    let value = n.to_string();
    let wants = [prints(&[&value]), too_large("function 'f'")];
    check(&program, modes, &wants);
    // The innermost division fails: compiled code deoptimizes, the interpreter catches.
    let program = format!(
        "FUNCTION f(x) => {}x / 0{}\nf(3)\nf(0) ?? \"none\"",
        "TRY (".repeat(n),
        ") CATCH x".repeat(n)
    );
    check(&program, modes, &[prints(&["3", "0"])]);
}

/// `1+1+...`: the left operand of each `+` is the sum before it, so the tree is as
/// deep as the sum is long.
fn long_sums(terms: usize, modes: &[JitMode]) {
    let sum = format!("1{}", "+1".repeat(terms - 1));
    let value = terms.to_string();
    check(&sum, modes, &[prints(&[&value]), too_large("expression")]);
    let body = format!(
        "FUNCTION f(x) => x{}\nf(2)\nf(0.5)\nf(4611686018427387904)",
        "+x".repeat(terms - 1)
    );
    let (int, float) = ((2 * terms).to_string(), format!("{:?}", 0.5 * terms as f64));
    let ran = overflows(&[&int, &float]);
    check(&body, modes, &[ran, too_large("function 'f'")]);
}

sized! { parentheses_100_000_deep, parentheses_5_000_deep, nested_parentheses(100_000, 5_000) }
sized! {
    minus_and_not_100_000_deep, minus_and_not_5_000_deep,
    nested_minus_and_not(100_000, 5_000)
}
sized! { ifs_100_000_deep, ifs_2_000_deep, nested_ifs(100_000, 2_000) }
sized! {
    calls_and_handlers_100_000_deep, calls_and_handlers_5_000_deep,
    nested_calls_and_handlers(100_000, 5_000)
}
sized! { a_1_000_000_term_sum, a_10_000_term_sum, long_sums(1_000_000, 10_000) }

// ---- big names, strings and programs ----

fn long_identifiers(bytes: usize, modes: &[JitMode]) {
    let id = "x".repeat(bytes);
    let program = format!("LET {id} = 20\nFUNCTION {id}(a) => a * 2\n{id}({id} + 1)");
    check(&program, modes, &[prints(&["42"])]);
    let unbound = format!("1\n{id}y + 1");
    let unknown = fails(&["1"], ErrorKind::UnknownVariable, "unknown variable");
    check(&unbound, modes, &[unknown]);
    let uncalled = format!("1\n{id}z(1)");
    let unknown = fails(&["1"], ErrorKind::UnknownFunction, "unknown function");
    check(&uncalled, modes, &[unknown]);
    let mut e = engine(JitMode::Eager, 10_000);
    e.run(&format!("FUNCTION {id}(a) => a + 1")).unwrap();
    assert_eq!(e.call(&id, &[Value::Int(1)]).unwrap(), Value::Int(2));
}

fn long_strings(bytes: usize, modes: &[JitMode]) {
    // `ab\n` in the source, three characters in the string.
    let (s, len) = ("ab\\n".repeat(bytes / 4), 3 * (bytes / 4));
    let program = format!(
        "LET s = \"{s}\"\nlen(s)\nlen(s + s) == 2 * len(s)\n(s + \"x\") > s\n\
         FUNCTION f(t) => len(t + t)\nf(s) / 2"
    );
    let len = len.to_string();
    check(&program, modes, &[prints(&[&len, "true", "true", &len])]);
    let unterminated = format!("1\n\"{s}");
    check(&unterminated, modes, &[fails(&[], ErrorKind::Parse, "")]);
    let mut e = engine(JitMode::Eager, 10_000);
    e.run("FUNCTION f(t) => len(t + t)").unwrap();
    let big = Value::from("é".repeat(bytes / 2));
    assert_eq!(e.call("f", &[big]).unwrap(), Value::Int(bytes as i64));
}

sized! { a_1_mb_identifier, a_64_kb_identifier, long_identifiers(1 << 20, 64 << 10) }
sized! { a_10_mb_string, a_256_kb_string, long_strings(10 << 20, 256 << 10) }

/// About `bytes` of program text: many small functions, each called once. Returns the
/// program and the values it prints.
fn many_small_functions(bytes: usize) -> (String, Vec<String>) {
    let (mut program, mut printed) = (String::new(), Vec::new());
    let mut i = 0i64;
    while program.len() < bytes {
        // f(i, 3): if i > 3 then i - 3, else f(4, i) = 4 - i.
        let _ = writeln!(
            program,
            "FUNCTION f{i}(x, y) => IF x > y {{ x - y }} ELSE {{ f{i}(y + 1, x) }}\nf{i}({i}, 3)"
        );
        printed.push(if i > 3 { i - 3 } else { 4 - i }.to_string());
        i += 1;
    }
    (program, printed)
}

fn a_big_program(bytes: usize, modes: &[JitMode]) {
    let (program, printed) = many_small_functions(bytes);
    let printed: Vec<&str> = printed.iter().map(String::as_str).collect();
    let printed = [prints(&printed)];
    for &mode in modes {
        api(&program, mode, 10_000, &printed);
        cli(&program, &["--jit", &mode_arg(mode)], &printed);
    }
}

#[test]
fn a_100_kb_program() {
    a_big_program(100_000, &MODES);
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow unoptimised: use --release")]
fn a_10_mb_program() {
    a_big_program(10_000_000, &[JitMode::Off, JitMode::On, JitMode::Eager]);
}

#[test]
#[ignore = "a timing ratio: run it with --release --ignored on a quiet machine"]
fn a_definition_takes_no_longer_after_much_compiled_code() {
    // Defining 2,000 functions after n were compiled must not take time in proportion
    // to n (it did, once: 10 ms after 1,000, 355 ms after 20,000).
    let defs = |name: &str, n| -> String {
        (0..n)
            .map(|i| format!("FUNCTION {name}{i}(x) => x\n"))
            .collect()
    };
    let time = |n: usize| {
        let mut e = engine(JitMode::Eager, 10_000);
        e.run(&defs("c", n)).unwrap();
        (0..n).for_each(|i| drop(e.call(&format!("c{i}"), &[Value::Int(1)]).unwrap()));
        let start = std::time::Instant::now();
        e.run(&defs("d", 2_000)).unwrap();
        start.elapsed()
    };
    let (few, many) = (time(1_000), time(20_000));
    assert!(
        many < few * 5,
        "after 1,000: {few:?}; after 20,000: {many:?}"
    );
}

// ---- bytes that are not a program ----

#[test]
fn invalid_utf8_files_exit_1_with_the_line() {
    let big = "1\n".repeat(1 << 20);
    let cases: [(&[u8], &[u8], usize); 7] = [
        (b"", b"\xff", 1),
        (b"1\n2\n", b"\"caf\xe9\"", 3),
        (b"1\n# a comment \xc3", b"\n", 2),
        (b"1\n\"ok\"\n", b"\xed\xa0\x80", 3), // an encoded surrogate
        (b"LET a = 1\n", b"\xc0\xaf", 2),     // an overlong encoding
        (b"1\n2\n\"\xe2\x82", b"", 3),        // truncated at the end
        (big.as_bytes(), b"\xf8\x88\x80\x80\x80", 1 << 20 | 1), // after 2 MB
    ];
    for (before, bad, line) in cases {
        let o = grizzly_run(&[before, bad].concat(), &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(o.stdout.is_empty(), "nothing runs");
        assert!(err.contains("not valid UTF-8"), "{err}");
        assert!(err.contains(&format!("(line {line},")), "{line}: {err}");
    }
    // Valid UTF-8 that is no program: a byte order mark, a NUL, a lone replacement.
    for text in ["\u{feff}1", "1\n\0", "\u{fffd}", "1 +\u{7f}2"] {
        check(text, &[JitMode::Eager], &[fails(&[], ErrorKind::Parse, "")]);
    }
}

#[test]
fn the_interactive_session_takes_hostile_lines() {
    // Fed through a pipe: values on stdout, an error report per bad entry, exit 0; an
    // entry left open at the end of input is a parse error. Bytes that are not UTF-8
    // end the session with status 1.
    let (open, close) = ("(".repeat(20_000), ")".repeat(20_000));
    let (minus, id) = ("-".repeat(40_000), "y".repeat(100_000));
    let input = format!("{open}1{close}\n{minus}1\nLET {id} = 3\n{id} + 1\n{open}2\n");
    let session = |input: Vec<u8>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_grizzly"))
            .env("HOME", std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start grizzly");
        let mut stdin = child.stdin.take().unwrap();
        // From another thread: the session writes reports while it reads.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let o = child.wait_with_output().unwrap();
        let _ = writer.join().unwrap();
        (
            o.status.code(),
            o.stdout,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (status, stdout, stderr) = session(input.into_bytes());
    assert_eq!((status, stdout.as_slice()), (Some(0), b"1\n4\n".as_slice()));
    assert!(
        stderr.contains("expression is too large"),
        "{}",
        &stderr[..200]
    );
    assert!(stderr.contains("parse error"), "{}", &stderr[..200]);
    let (status, stdout, stderr) = session(b"1\n\"caf\xe9\"\n2\n".to_vec());
    assert_eq!((status, stdout.as_slice()), (Some(1), b"1\n".as_slice()));
    assert!(stderr.contains("UTF-8"), "{stderr}");
}

/// A simple xorshift generator, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 40) as u8).collect()
    }
}

/// Random source text: bytes (mostly not UTF-8), printable ASCII, or tokens of the
/// language, which get much further: into definitions, calls and the JIT.
fn random_source(seed: u64) -> Vec<u8> {
    // Separated by `|`; a newline is a token (an item separator).
    const TOKENS: &str =
        "(|)|{|}|,|;|\n|1|0|2.5|-9223372036854775808|x|y|f|g|\"s\"|+|-|*|/|%|==|<|\
        >=|AS int|:: float|AS string|.|IF|ELSE|TRY|CATCH|LET|=|CREATE|OR REPLACE|FUNCTION|=>|\
        RETURNS int|x: int|NOT|??|AND|OR|null|true|abs(|len(|f(|g(|FUNCTION f(x) =>|\
        FUNCTION g(x, y) =>|f(x)|g(1, x)";
    let tokens: Vec<&str> = TOKENS.split('|').collect();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let len = 1 + rng.below(600);
    match seed % 3 {
        0 => rng.bytes(len),
        1 => rng.bytes(len).iter().map(|b| b' ' + b % 95).collect(),
        _ => {
            let picks: Vec<&str> = (0..len / 4)
                .map(|_| tokens[rng.below(tokens.len())])
                .collect();
            picks.join(" ").into_bytes()
        }
    }
}

#[test]
fn random_text_parses_or_fails_cleanly() {
    for seed in 0..600 {
        let bytes = random_source(seed);
        let text = String::from_utf8_lossy(&bytes);
        let mode = MODES[seed as usize % 3];
        // A low depth limit bounds the time of runaway recursion.
        let mut e = engine(mode, 200);
        outcome(&mut e, &text);
        // The engine is still usable afterwards.
        assert_eq!(e.run("1 + 1").unwrap(), [Value::Int(2)], "seed {seed}");
    }
}

#[test]
fn random_files_run_or_fail_cleanly() {
    for seed in 0..150 {
        let bytes = random_source(seed);
        let mode = mode_arg(MODES[seed as usize % 3]);
        let o = grizzly_run(&bytes, &["--jit", &mode, "--max-depth", "200"]);
        let err = String::from_utf8_lossy(&o.stderr);
        if std::str::from_utf8(&bytes).is_err() {
            assert_eq!(o.status.code(), Some(1), "seed {seed}");
            assert!(err.contains("not valid UTF-8"), "seed {seed}: {err}");
        } else if o.status.code() == Some(1) {
            assert!(!err.is_empty(), "seed {seed}: exit 1 without a report");
        }
    }
}

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
