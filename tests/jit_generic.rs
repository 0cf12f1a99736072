//! Generic values in compiled code: strings, `null`, results whose type depends on the
//! row, compiled with the interpreter's own operations and identical to its results.
#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

mod jit_common;
use jit_common::*;

/// Every expression agrees with the interpreter and entered compiled code; those that
/// give a value got it from compiled code (no fallback).
fn compiled(defs: &str, exprs: &[&str]) -> Vec<Outcome> {
    let mut e = eager();
    let results = agree_each(&mut e, defs, exprs);
    for (src, (out, stats)) in exprs.iter().zip(&results) {
        assert!(stats.entries >= 1, "`{src}` never entered compiled code");
        if let Outcome::Value(..) = out {
            assert_eq!(stats.fallbacks, 0, "`{src}` = {out:?} fell back: {stats:?}");
        }
        assert!(
            !e.jit_status().contains("not compiled"),
            "`{src}`: {}",
            e.jit_status()
        );
    }
    results.into_iter().map(|(o, _)| o).collect()
}

fn text(s: &str) -> Value {
    Value::from(s)
}

#[test]
fn strings_concatenate_compare_and_cast() {
    let defs = "FUNCTION greet(name) => \"hello, \" + name + \"!\"
                FUNCTION longer(a, b) => IF len(a) >= len(b) { a } ELSE { b }
                FUNCTION order(a, b) => IF a < b { -1 } ELSE { IF a == b { 0 } ELSE { 1 } }
                FUNCTION show(n) => \"n=\" + (n AS string)
                FUNCTION parse(s) => (s AS int) * 2
                FUNCTION fparse(s) => (s AS float) / 4.0
                FUNCTION flag(s) => s AS bool";
    let out = compiled(
        defs,
        &[
            "greet(\"bob\")",
            "greet(\"żółw 🐢\")",
            "greet(\"tab\\tquote\\\"\")",
            "longer(\"abc\", \"ab\")",
            "longer(\"é\", \"ab\")",
            "order(\"apple\", \"banana\")",
            "order(\"b\", \"b\")",
            "order(\"b\", \"a\")",
            "show(42)",
            "show(2.5)",
            "show(true)",
            "show(null)",
            "show(\"s\")",
            "parse(\"21\")",
            "parse(\"x\")",
            "fparse(\"1e1\")",
            "flag(\"true\")",
            "flag(\"yes\")",
        ],
    );
    assert_eq!(
        out[0],
        Outcome::Value("hello, bob!".into(), text("hello, bob!"))
    );
    assert_eq!(out[4], Outcome::Value("ab".into(), text("ab")));
    assert!(
        matches!(&out[14], Outcome::Error(ErrorKind::Cast, _)),
        "{:?}",
        out[14]
    );
}

#[test]
fn nulls_and_coalescing() {
    let defs = "FUNCTION nz(x) => x ?? 0
                FUNCTION isnull(x) => x == null
                FUNCTION pick(a, b) => a ?? b ?? \"none\"
                FUNCTION plus(x) => x + 1
                FUNCTION typed(x: int) => x ?? -1
                FUNCTION opt(n) => IF n > 0 { n } ELSE { null }
                FUNCTION total(i, acc) => IF i == 0 { acc } ELSE { total(i - 1, acc + (opt(i % 4 - 1) ?? 100)) }";
    let out = compiled(
        defs,
        &[
            "nz(null)",
            "nz(5)",
            "nz(\"s\")",
            "isnull(null)",
            "isnull(0)",
            "pick(null, null)",
            "pick(null, 2)",
            "pick(1.5, 2)",
            "plus(null)",
            "typed(null)",
            "typed(7)",
            "typed(\"x\")",
            "opt(3)",
            "opt(-3)",
            "total(1000, 0)",
        ],
    );
    assert_eq!(out[0], Outcome::Value("0".into(), int(0)));
    assert_eq!(out[5], Outcome::Value("none".into(), text("none")));
    assert!(matches!(out[8], Outcome::Error(..)));
    assert!(matches!(out[11], Outcome::Error(..)));
}

#[test]
fn results_whose_type_depends_on_the_row() {
    let defs = "FUNCTION half(n) => IF n % 2 == 0 { n / 2 } ELSE { n / 2.0 }
                FUNCTION grade(n) => IF n >= 90 { \"A\" } ELSE { IF n >= 50 { n } ELSE { null } }
                FUNCTION fact(n) => IF n == 0 { 1 } ELSE { fact(n - 1) * 1.5 }
                FUNCTION sum(i, acc) => IF i == 0 { acc } ELSE { sum(i - 1, acc + half(i)) }
                FUNCTION num(x) RETURNS number => x
                FUNCTION safe(a, b) => TRY a / b CATCH \"undefined\"";
    let out = compiled(
        defs,
        &[
            "half(4)",
            "half(5)",
            "grade(95)",
            "grade(70)",
            "grade(10)",
            "fact(10)",
            "sum(1000, 0)",
            "num(3)",
            "num(2.5)",
            "num(\"x\")",
            "safe(6, 3)",
            "safe(1, 0)",
        ],
    );
    assert_eq!(out[1], Outcome::Value("2.5".into(), Value::Float(2.5)));
    assert_eq!(
        out[11],
        Outcome::Value("undefined".into(), text("undefined"))
    );
}

#[test]
fn loops_over_generic_values_swap_and_keep_their_parameters() {
    let defs =
        "FUNCTION rev(s, i, acc) => IF i == 0 { acc } ELSE { rev(s, i - 1, acc + (i AS string)) }
                FUNCTION swap(n, a, b) => IF n == 0 { a + \"|\" + b } ELSE { swap(n - 1, b, a) }
                FUNCTION same(n, a) => IF n == 0 { a } ELSE { same(n - 1, a) }
                FUNCTION both(n, a) => IF n == 0 { a } ELSE { both(n - 1, a + a) }";
    compiled(
        defs,
        &[
            "rev(\"x\", 50, \"\")",
            "swap(7, \"a\", \"b\")",
            "swap(8, \"a\", null)",
            "same(100, \"kept\")",
            "both(10, \"ab\")",
        ],
    );
}

#[test]
fn strings_pass_between_compiled_functions() {
    let defs = "FUNCTION wrap(s) => \"[\" + s + \"]\"
                FUNCTION twice(s) => wrap(wrap(s))
                FUNCTION label(n) => IF n > 0 { \"pos\" } ELSE { IF n < 0 { \"neg\" } ELSE { null } }
                FUNCTION describe(n) => twice(label(n) ?? \"zero\")
                FUNCTION count(i, n, acc) => IF i >= n { acc } ELSE { count(i + 1, n, acc + len(describe(i - n / 2))) }";
    let out = compiled(
        defs,
        &[
            "describe(3)",
            "describe(-3)",
            "describe(0)",
            "count(0, 500, 0)",
        ],
    );
    assert_eq!(out[2], Outcome::Value("[[zero]]".into(), text("[[zero]]")));
}

#[test]
fn errors_from_generic_operations_are_caught_in_compiled_code() {
    let defs = "FUNCTION parse(s) => TRY s AS int CATCH -1
                FUNCTION deep(s, d) => IF d == 0 { (s AS int) + 0 } ELSE { \"k\" + (deep(s, d - 1) AS string) }
                FUNCTION outer(s) => TRY deep(s, 5) CATCH \"caught\"
                FUNCTION rows(i, n, acc) => IF i >= n { acc } ELSE { rows(i + 1, n, acc + parse(IF i % 3 == 0 { \"x\" } ELSE { i AS string })) }";
    let out = compiled(
        defs,
        &[
            "parse(\"12\")",
            "parse(\"1x\")",
            "outer(\"7\")",
            "outer(\"seven\")",
            "rows(0, 3000, 0)",
        ],
    );
    assert_eq!(out[3], Outcome::Value("caught".into(), text("caught")));
    // The hot loop whose TRY fires on every third row stays compiled.
    let mut e = Engine::builder().jit(JitMode::On).threshold(10).build();
    agree(&mut e, defs, &["rows(0, 30000, 0)"]);
    let stats = e.jit_stats();
    assert_eq!(stats.fallbacks, 0, "{}", e.jit_status());
    assert_eq!(stats.interpreted_calls, 0, "{}", e.jit_status());
}

#[test]
fn deep_recursion_over_strings() {
    let defs = "FUNCTION build(n) => IF n == 0 { \"\" } ELSE { build(n - 1) + \"x\" }";
    let mut e = eager();
    let out = agree(&mut e, defs, &["len(build(3000))", "len(build(20000))"]);
    assert_eq!(out[0], Outcome::Value("3000".into(), int(3000)));
    assert!(matches!(
        out[1],
        Outcome::Error(ErrorKind::StackOverflow, _)
    ));
}

#[test]
fn generic_arguments_and_results_through_the_api() {
    let mut e = eager();
    define(
        &mut e,
        "FUNCTION tag(s, n) => s + \"#\" + (n AS string)
         FUNCTION maybe(n) => IF n > 0 { n } ELSE { null }",
    );
    for _ in 0..3 {
        assert_eq!(
            call(&mut e, "tag", &[text("id"), int(7)]),
            Outcome::Value("id#7".into(), text("id#7"))
        );
        assert_eq!(
            call(&mut e, "maybe", &[int(-1)]),
            Outcome::Value("null".into(), Value::Null)
        );
    }
    assert!(e.jit_stats().entries >= 6, "{}", e.jit_status());
}

#[test]
fn fast_paths_of_ints_and_floats_agree_with_the_helpers() {
    // Generic operands that are ints or floats most of the time: the inline paths;
    // overflow, mixed types, strings and a result slot that held a string: the helpers.
    let defs = "FUNCTION pick(i) => IF i % 5 == 0 { 1.5 } ELSE { IF i % 7 == 0 { \"s\" } ELSE { i } }
                FUNCTION mix(i, acc) => IF i == 0 { acc } ELSE { mix(i - 1, acc + (TRY pick(i) * pick(i + 1) CATCH 0)) }
                FUNCTION cmp(i, n) => IF i == 0 { n } ELSE { cmp(i - 1, n + (IF (TRY pick(i) < pick(i + 2) CATCH false) { 1 } ELSE { 0 })) }
                FUNCTION alt(i, acc) => IF i == 0 { acc } ELSE { alt(i - 1, acc + len(((IF i % 2 == 0 { \"x\" } ELSE { i }) + (IF i % 2 == 0 { \"y\" } ELSE { 2 })) AS string)) }
                FUNCTION big(x) => x * 3";
    let out = compiled(
        defs,
        &[
            "mix(300, 0)",
            "mix(300, 0.5)",
            "cmp(300, 0)",
            "alt(300, 0)",
            "big(pick(4))",
            "big(pick(5))",
            "big(IF true { 4611686018427387904 } ELSE { \"s\" })",
            "big(IF true { 0.0 / 0.0 } ELSE { \"s\" }) == big(0.0 / 0.0)",
        ],
    );
    assert_eq!(out[4], Outcome::Value("12".into(), int(12)));
    assert!(
        matches!(out[6], Outcome::Error(ErrorKind::IntegerOverflow, _)),
        "{:?}",
        out[6]
    );
}

#[test]
fn typed_handles_of_functions_using_generic_constants() {
    // No value slot, but a generic constant and helper calls: compiled code's
    // convention only (no native or batch function, whose code could not reach the
    // constants' pool); found by the differential generator.
    let mut e = eager();
    define(
        &mut e,
        "FUNCTION f(x) => IF x > 0 { len(\"abc\") + x } ELSE { TRY (IF NOT \"7\" { 1 } ELSE { 2 }) CATCH -1 }
         FUNCTION g(x) => x > len(\"ab\")",
    );
    let f = e.typed::<(i64,), i64>("f").unwrap();
    assert_eq!(f.call(&mut e, (2,)).unwrap(), 5);
    assert_eq!(f.call(&mut e, (-2,)).unwrap(), -1);
    assert_eq!(
        f.call_batch(&mut e, (&[1, 0, 7],)).unwrap(),
        vec![4, -1, 10]
    );
    let g = e.typed::<(i64,), bool>("g").unwrap();
    assert_eq!(g.call_batch(&mut e, (&[1, 3],)).unwrap(), vec![false, true]);
    for name in ["f", "g"] {
        let dump = e.jit_dump(name).unwrap();
        assert!(
            !dump.contains("native function for typed calls: "),
            "{dump}"
        );
    }
}

#[test]
fn value_frames_small_and_large_and_every_slow_path() {
    // `wide` has more generic values than frames taken inline (16 slots), `narrow`
    // a few; `alt` boxes an int into a slot that held a string and back; `keep`
    // clones a string parameter each round; `name` returns a fresh string into the
    // slot the last round's result still holds.
    let concat: Vec<String> = (0..20).map(|i| format!("(s + \"{i}\")")).collect();
    let defs = format!(
        "FUNCTION wide(s) => {}
         FUNCTION narrow(s) => IF len(s) > 3 {{ s + \"!\" }} ELSE {{ \"short\" }}
         FUNCTION alt(i, acc, v) => IF i == 0 {{ acc }} ELSE {{
           alt(i - 1, acc + len(v AS string), IF i % 2 == 0 {{ i }} ELSE {{ \"s\" + (i AS string) }}) }}
         FUNCTION keep(i, s, acc) => IF i == 0 {{ acc }} ELSE {{ keep(i - 1, s, acc + len(s)) }}
         FUNCTION name(i) => \"n\" + (i AS string)
         FUNCTION names(i, acc) => IF i == 0 {{ acc }} ELSE {{ names(i - 1, acc + len(name(i))) }}
         FUNCTION mix(i, acc) => IF i == 0 {{ acc }} ELSE {{
           mix(i - 1, acc + len(wide(narrow(\"ab\" + (i AS string)))) + len(narrow(\"x\"))) }}",
        concat.join(" + ")
    );
    let out = compiled(
        &defs,
        &[
            "wide(\"é\")",
            "narrow(\"abcd\")",
            "narrow(\"a\")",
            "alt(50, 0, \"start\")",
            "alt(51, 0, 7)",
            "keep(40, \"żółw\", 0)",
            "names(60, 0)",
            "mix(30, 0)",
        ],
    );
    assert_eq!(out[5], Outcome::Value("160".into(), int(160)));
}

#[test]
fn fast_paths_of_division_remainder_and_mixed_numbers() {
    // `pick` gives ints, floats (also NaN and -0.0), zero, -1, i64::MIN and a string:
    // every pair through `/`, `%`, `+`, `-`, `*` and the comparisons, inline or not.
    let defs = "FUNCTION pick(i) =>
                  IF i % 9 == 0 { 2.5 } ELSE IF i % 9 == 1 { 0 } ELSE IF i % 9 == 2 { -1 }
                  ELSE IF i % 9 == 3 { -9223372036854775807 - 1 } ELSE IF i % 9 == 4 { 0.0 / 0.0 }
                  ELSE IF i % 9 == 5 { -0.0 } ELSE IF i % 9 == 6 { \"s\" } ELSE IF i % 9 == 7 { 7 }
                  ELSE { -3.25 }
                FUNCTION show(x) => x AS string
                FUNCTION ops(i, acc) => IF i == 0 { acc } ELSE {
                  ops(i - 1, acc + \"|\" + show(TRY pick(i) / pick(i / 9) CATCH \"e\")
                             + show(TRY pick(i) % pick(i / 9) CATCH \"e\")
                             + show(TRY pick(i) - pick(i / 9) * pick(i + 1) CATCH \"e\")
                             + show(TRY pick(i) < pick(i / 9) CATCH \"e\")
                             + show(TRY pick(i) >= pick(i / 9) CATCH \"e\")
                             + show(TRY pick(i) == pick(i / 9) CATCH \"e\")
                             + show(TRY pick(i) != pick(i / 9) CATCH \"e\")) }";
    let out = compiled(defs, &["ops(81, \"\")", "len(ops(200, \"\"))"]);
    let Outcome::Value(all, _) = &out[0] else {
        panic!("{:?}", out[0]);
    };
    // Each of the 81 pairs appears: integer division by zero and MIN / -1 raise.
    assert!(all.contains("|e"), "{all}");
    assert!(all.contains("NaN"), "{all}");
}

#[test]
fn the_string_size_limit_is_caught_in_compiled_code() {
    // Doubling passes the 256 MiB limit at the 29th step: a runtime error that the
    // compiled `TRY` catches, as the interpreter's does.
    let out = compiled(
        "FUNCTION dbl(s, n) => IF n == 0 { len(s) } ELSE { dbl(s + s, n - 1) }
         FUNCTION safe(n) => TRY dbl(\"a\", n) CATCH -1",
        &["safe(3)", "safe(40)"],
    );
    assert_eq!(out[0], Outcome::Value("8".into(), int(8)));
    assert_eq!(out[1], Outcome::Value("-1".into(), int(-1)));
}

#[test]
fn tests_against_null_read_the_tag_alone() {
    let out = compiled(
        "FUNCTION pick(i) => IF i % 4 == 0 { null } ELSE IF i % 4 == 1 { \"s\" } ELSE IF i % 4 == 2 { 0 } ELSE { 0.0 }
         FUNCTION nulls(i, n) => IF i == 0 { n } ELSE {
           nulls(i - 1, n + (IF pick(i) == null { 1 } ELSE { 0 }) + (IF null != pick(i) { 10 } ELSE { 0 })) }",
        &["nulls(40, 0)", "pick(4) == null", "null == pick(5)", "pick(6) != null"],
    );
    assert_eq!(out[0], Outcome::Value("310".into(), int(310)));
    assert_eq!(out[1], Outcome::Value("true".into(), Value::Bool(true)));
    assert_eq!(out[2], Outcome::Value("false".into(), Value::Bool(false)));
}

#[test]
fn annotation_checks_of_generic_values_keep_copy_convert_or_fail_as_the_interpreter() {
    // `pick(k)` is generic: null, an int, a float, a bool or a string by `k`. Each
    // annotation keeps some inline (copied), converts an int to float, or fails; a
    // loop's annotated parameter is overwritten while it may hold a string.
    let mut defs = String::from(
        "FUNCTION pick(k) => IF k == 0 { null } ELSE IF k == 1 { 7 } ELSE IF k == 2 { 2.5 } ELSE IF k == 3 { true } ELSE { \"s\" }\n",
    );
    let types = ["int", "float", "number", "bool", "string"];
    for t in types {
        defs += &format!(
            "FUNCTION as_{t}(x: {t}) RETURNS {t} => x\n\
             FUNCTION via_{t}(k) => as_{t}(pick(k))\n\
             FUNCTION loop_{t}(i, k, acc: {t}) => IF i == 0 {{ acc }} ELSE {{ loop_{t}(i - 1, k, IF i % 2 == 0 {{ pick(k) }} ELSE {{ acc }}) }}\n"
        );
    }
    let mut exprs = Vec::new();
    for t in types {
        for k in 0..5 {
            exprs.push(format!("via_{t}({k})"));
            exprs.push(format!("loop_{t}(6, {k}, pick({k}))"));
        }
    }
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let out = agree_each(&mut eager(), &defs, &exprs);
    // Some kept, some converted, some failed.
    let value = |s: &str| &out[exprs.iter().position(|e| *e == s).unwrap()].0;
    assert_eq!(value("via_int(1)"), &Outcome::Value("7".into(), int(7)));
    assert_eq!(
        value("via_float(1)"),
        &Outcome::Value("7.0".into(), Value::Float(7.0))
    );
    assert!(matches!(
        value("via_int(4)"),
        Outcome::Error(ErrorKind::Type, _)
    ));
    assert_eq!(
        value("via_string(4)"),
        &Outcome::Value("s".into(), text("s"))
    );
}
