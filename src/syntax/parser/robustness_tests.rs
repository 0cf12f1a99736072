//! Hostile inputs: the parser must not panic, hang or overflow the stack, and its
//! time must grow about linearly.

use super::*;
use std::time::{Duration, Instant};

/// Follows the first operand down `depth` levels and returns what is there.
fn descend(mut e: &Expr, depth: usize) -> &Expr {
    for _ in 0..depth {
        e = match &e.kind {
            ExprKind::Unary(_, a) | ExprKind::Cast(a, _) => a,
            ExprKind::Binary(_, a, _) => a,
            ExprKind::Call(_, args) => &args[0],
            other => panic!("not deep enough: {other:?}"),
        };
    }
    e
}

fn single_expr(p: &Program) -> &Expr {
    match &p.items[..] {
        [Item::Expr(e)] => e,
        _ => panic!("expected one expression item"),
    }
}

#[test]
fn deeply_nested_parentheses() {
    let n = 100_000;
    let text = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let p = parse_program(&text).unwrap();
    assert_eq!(single_expr(&p).kind, ExprKind::Int(1));
    // Unclosed: one error, no crash.
    let errors = errs(&"(".repeat(n));
    assert_eq!(errors.len(), 1);
}

#[test]
fn deeply_nested_calls_and_ifs() {
    let n = 20_000;
    let text = format!("{}1{}", "f(".repeat(n), ")".repeat(n));
    let p = parse_program(&text).unwrap();
    assert_eq!(descend(single_expr(&p), n).kind, ExprKind::Int(1));
    let text = format!(
        "{}0{}",
        "IF a { 1 } ELSE IF b { 2 } ELSE { ".repeat(n),
        " }".repeat(n)
    );
    assert!(parse_program(&text).is_ok());
    let text = format!("{}x", "-x.f(".repeat(n));
    assert!(parse_program(&text).is_err());
}

#[test]
fn many_prefix_minuses() {
    let n = 100_000;
    let text = format!("{}1", "-".repeat(n));
    let p = parse_program(&text).unwrap();
    let e = single_expr(&p);
    assert_eq!(descend(e, n).kind, ExprKind::Int(1));
    assert!(matches!(
        descend(e, n - 1).kind,
        ExprKind::Unary(UnaryOp::Neg, _)
    ));
    let text = format!("{}9223372036854775808", "NOT - ".repeat(n / 2));
    assert!(parse_program(&text).is_ok());
    assert_eq!(errs(&"-".repeat(n)).len(), 1);
}

/// `1+1+...+1` of about `bytes` bytes: checks the tree and returns the time taken.
fn long_sum(bytes: usize) -> Duration {
    let terms = bytes / 2;
    let text = format!("1{}", "+1".repeat(terms - 1));
    let start = Instant::now();
    let p = parse_program(&text).unwrap();
    let e = single_expr(&p);
    assert_eq!(e.span, Span::new(0, text.len()));
    assert_eq!(descend(e, terms - 1).kind, ExprKind::Int(1));
    let elapsed = start.elapsed();
    drop(p);
    elapsed
}

#[test]
fn a_one_megabyte_sum() {
    let t = long_sum(1 << 20);
    assert!(t < Duration::from_secs(60), "{t:?}");
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow without optimisations: run with --release"
)]
fn a_million_term_sum_and_ten_megabytes() {
    let t = long_sum(2_000_000);
    assert!(t < Duration::from_secs(5), "{t:?}");
    // 10 MB of ordinary program text.
    let line = "CREATE OR REPLACE FUNCTION f(x: int) RETURNS int { LET y = x * 2 + 1; IF y > 10 { y } ELSE { f(y) } }\nf(3) ?? \"none\"; LET z = -x.abs() AS float\n";
    let text = line.repeat(10_000_000 / line.len());
    let start = Instant::now();
    let p = parse_program(&text).unwrap();
    assert_eq!(p.items.len(), 3 * (10_000_000 / line.len()));
    let t = start.elapsed();
    assert!(t < Duration::from_secs(20), "{t:?}");
    // Linear: ten times the text takes well under a hundred times as long.
    let small = long_sum(200_000);
    let large = long_sum(2_000_000);
    assert!(large < small * 40, "{small:?} vs {large:?}");
}

/// A simple xorshift generator, so the test needs no dependency.
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

#[test]
fn random_input_never_panics() {
    for seed in 1..4 {
        let bytes = random_bytes(50_000, seed);
        let text = String::from_utf8_lossy(&bytes);
        let e = parse_program(&text).unwrap_err();
        assert!(e.all().count() <= MAX_ERRORS);
        let _ = needs_more_input(&text);
    }
    // Random tokens, which get much further into the grammar.
    let words = [
        "(",
        ")",
        "{",
        "}",
        "1",
        "2.5",
        "x",
        "f",
        "\"s\"",
        "+",
        "-",
        "*",
        "AS",
        "int",
        "::",
        ".",
        ",",
        ";",
        "\n",
        "IF",
        "ELSE",
        "TRY",
        "CATCH",
        "LET",
        "=",
        "CREATE",
        "FUNCTION",
        "=>",
        "RETURNS",
        ":",
        "NOT",
        "??",
        "OR",
        "AND",
        "9223372036854775808",
        "null",
    ];
    for seed in 1..40 {
        let picks = random_bytes(400, seed);
        let text: Vec<&str> = picks
            .iter()
            .map(|b| words[usize::from(*b) % words.len()])
            .collect();
        let text = text.join(" ");
        let _ = parse_program(&text);
        let _ = needs_more_input(&text);
    }
}

/// Backtracking must stay linear: a construct that fails after consuming input
/// (an unclosed bracket) must not be retried by each enclosing level (that is
/// exponential: `-x.f(-x.f(...` once took minutes at depth 20).
#[test]
fn failed_nested_constructs_are_not_retried() {
    let openers = [
        "f(",
        "(",
        "x.f(",
        "-x.f(",
        "NOT x.f(",
        "!x.f(a, ",
        "-(",
        "-f(",
        "IF x { ",
        "IF ",
        "IF x { 1 } ELSE { ",
        "IF x {1} ELSE IF ",
        "TRY ",
        "TRY x CATCH ",
        "f(x, ",
        "x AS int + (",
        "-x AS int * f(",
        "CREATE FUNCTION f(x) { ",
        "LET a = (",
        "{ LET a = ",
        "x + -",
        "x ?? !",
        "IF x { LET a = ",
        "(x).f(",
        "x.f().g(",
        "- - x.f(",
    ];
    let start = Instant::now();
    for opener in openers {
        for tail in ["", "x", "x AS", "x.", "x 1", ")", "}"] {
            let text = format!("{}{tail}", opener.repeat(300));
            let t = Instant::now();
            let _ = parse_program(&text);
            let _ = needs_more_input(&text);
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{opener:?} {tail:?}: {:?}",
                t.elapsed()
            );
        }
    }
    // Mixed nestings.
    for seed in 1..20 {
        let picks = random_bytes(300, seed);
        let text: String = picks
            .iter()
            .map(|b| openers[usize::from(*b) % openers.len()])
            .collect();
        let t = Instant::now();
        let _ = parse_program(&text);
        assert!(t.elapsed() < Duration::from_secs(5), "{text:?}");
    }
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_file_full_of_errors() {
    let text = "1 2\nx & y\n(1 2)\nIF a { 1 }\nLET = 3\n\"\\q\"\n".repeat(5_000);
    let start = Instant::now();
    let e = parse_program(&text).unwrap_err();
    assert_eq!(e.all().count(), MAX_ERRORS);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}
