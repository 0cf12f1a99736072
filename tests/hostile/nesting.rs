//! Deep nesting, long names and strings, big programs.

use super::*;

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

/// Found by the `differential` fuzz target: a string doubled at every level of a
/// recursion asked for terabytes, and the allocator aborted the process. A string may
/// hold at most 256 MiB; going past it is a runtime error, which `TRY` catches.
#[test]
fn a_string_doubled_past_the_limit_is_an_error() {
    let program = "FUNCTION dup(s, d) => IF d <= 0 { s } ELSE { dup(s + s, d - 1) }\n\
                   len(dup(\"7\", 20))\n\
                   TRY len(dup(\"7\", 43)) CATCH -1\n\
                   len(dup(\"ab\", 43))";
    let too_long = fails(
        &["1048576", "-1"],
        ErrorKind::StringTooLong,
        "string too long: 536870912 bytes, more than the limit of 268435456",
    );
    check(program, SMALL, &[too_long]);
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
