use super::*;
use crate::syntax::ast::{Body, DefStyle, Span, TypeName, UnaryOp};
use crate::Source;

/// A compact form of an expression: `(+ 1 (* 2 3))`.
fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Null => "null".into(),
        ExprKind::Var(n) => n.to_string(),
        ExprKind::Unary(UnaryOp::Neg, a) => format!("(neg {})", sexp(a)),
        ExprKind::Unary(UnaryOp::Not, a) => format!("(not {})", sexp(a)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sexp(a), sexp(b)),
        ExprKind::Cast(a, t) => format!("(as {} {})", sexp(a), t.name()),
        ExprKind::Call(f, args) => {
            let args: Vec<String> = args.iter().map(sexp).collect();
            format!("(call {} [{}])", f.name, args.join(" "))
        }
        ExprKind::If(c, t, o) => format!("(if {} {} {})", sexp(c), body(t), body(o)),
        ExprKind::Try(a, b) => format!("(try {} {})", sexp(a), sexp(b)),
    }
}

fn body(b: &Body) -> String {
    let lets: String = b
        .lets
        .iter()
        .map(|l| format!("let {} {}; ", l.name.name, sexp(&l.value)))
        .collect();
    format!("{{{lets}{}}}", sexp(&b.result))
}

fn parse_ok(text: &str) -> Program {
    match parse_program(text) {
        Ok(p) => p,
        Err(e) => panic!("{text:?}: {}", e.report()),
    }
}

/// The one expression item of `text`, as an s-expression.
fn ex(text: &str) -> String {
    let p = parse_ok(text);
    assert_eq!(p.items.len(), 1, "{text:?}");
    match &p.items[0] {
        Item::Expr(e) => sexp(e),
        other => panic!("not an expression: {other:?}"),
    }
}

/// Each item, as a short string.
fn items(text: &str) -> Vec<String> {
    parse_ok(text)
        .items
        .iter()
        .map(|i| match i {
            Item::Expr(e) => sexp(e),
            Item::Let(l) => format!("LET {} {}", l.name.name, sexp(&l.value)),
            Item::Function(f) => {
                let params: Vec<String> = f
                    .params
                    .iter()
                    .map(|p| match p.ty {
                        Some(t) => format!("{}:{}", p.name.name, t.name()),
                        None => p.name.name.to_string(),
                    })
                    .collect();
                let returns = f.returns.map_or("", |t| t.name());
                format!(
                    "{:?} {}({}){} {}",
                    f.style,
                    f.name.name,
                    params.join(","),
                    returns,
                    body(&f.body)
                )
            }
        })
        .collect()
}

/// The errors of `text`: (message, span).
fn errs(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    match parse_program(text) {
        Ok(p) => panic!("{text:?} parsed: {p:?}"),
        Err(e) => e
            .all()
            .map(|e| {
                assert_eq!(e.kind(), ErrorKind::Parse);
                (e.message().to_string(), e.span().expect("span").range())
            })
            .collect(),
    }
}

fn first_err(text: &str) -> String {
    errs(text).remove(0).0
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(ex("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(ex("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_eq!(ex("a - b - c"), "(- (- a b) c)");
    assert_eq!(ex("a / b * c % d"), "(% (* (/ a b) c) d)");
    assert_eq!(ex("a < b == c > d"), "(== (< a b) (> c d))");
    assert_eq!(ex("a == b != c"), "(!= (== a b) c)");
    assert_eq!(ex("a AND b OR c AND d"), "(OR (AND a b) (AND c d))");
    assert_eq!(ex("a && b || c"), "(OR (AND a b) c)");
    assert_eq!(ex("a ?? b OR c"), "(?? a (OR b c))");
    assert_eq!(ex("a OR b ?? c ?? d"), "(?? (?? (OR a b) c) d)");
    assert_eq!(ex("a + b <= c - d"), "(<= (+ a b) (- c d))");
}

#[test]
fn prefix_cast_and_calls() {
    assert_eq!(ex("-x AS float"), "(as (neg x) float)");
    assert_eq!(ex("-(x AS float)"), "(neg (as x float))");
    assert_eq!(ex("NOT a AND b"), "(AND (not a) b)");
    assert_eq!(ex("!a == b"), "(== (not a) b)");
    assert_eq!(ex("--x"), "(neg (neg x))");
    assert_eq!(ex("NOT !x"), "(not (not x))");
    assert_eq!(ex("x AS int + 1"), "(+ (as x int) 1)");
    assert_eq!(ex("a * b AS int"), "(* a (as b int))");
    assert_eq!(ex("x :: integer :: TEXT"), "(as (as x int) string)");
    assert_eq!(ex("x AS Double AS BOOLEAN"), "(as (as x float) bool)");
    assert_eq!(ex("-a.f()"), "(neg (call f [a]))");
    assert_eq!(ex("a.f(b).g()"), "(call g [(call f [a b])])");
    assert_eq!(ex("2.abs()"), "(call abs [2])");
    assert_eq!(ex("1.5.floor()"), "(call floor [1.5])");
    assert_eq!(
        ex("\"ab\".len() + f() * g(1, h(2))"),
        "(+ (call len [\"ab\"]) (* (call f []) (call g [1 (call h [2])])))"
    );
    assert_eq!(ex("(a + b).f(c)"), "(call f [(+ a b) c])");
}

#[test]
fn try_catch_is_lowest() {
    assert_eq!(ex("TRY a CATCH b ?? c"), "(try a (?? b c))");
    assert_eq!(ex("TRY a ?? b CATCH c + 1"), "(try (?? a b) (+ c 1))");
    assert_eq!(ex("TRY TRY a CATCH b CATCH c"), "(try (try a b) c)");
    assert_eq!(ex("TRY a CATCH TRY b CATCH c"), "(try a (try b c))");
    assert_eq!(ex("1 + (TRY a CATCH b)"), "(+ 1 (try a b))");
    assert_eq!(ex("f(TRY a CATCH b)"), "(call f [(try a b)])");
}

#[test]
fn literals() {
    assert_eq!(ex("007"), "7");
    assert_eq!(ex("TRUE"), "true");
    assert_eq!(ex("false"), "false");
    assert_eq!(ex("Null"), "null");
    assert_eq!(ex("\"a\\n\\\"b\\\"\""), "\"a\\n\\\"b\\\"\"");
    assert_eq!(ex("1e400"), "inf");
    assert_eq!(ex("0.1"), "0.1");
    assert_eq!(ex("-1.5"), "(neg 1.5)");
    assert_eq!(ex("-5"), "(neg 5)");
}

#[test]
fn the_integer_minimum() {
    for text in [
        "-9223372036854775808",
        "- 9223372036854775808",
        "-\n9223372036854775808",
    ] {
        assert_eq!(ex(text), "-9223372036854775808");
    }
    // The parentheses only group: the minus still applies to the literal.
    assert_eq!(ex("-(9223372036854775808)"), "-9223372036854775808");
    assert_eq!(ex("--9223372036854775808"), "(neg -9223372036854775808)");
    assert_eq!(
        ex("1 + -9223372036854775808 AS float"),
        "(+ 1 (as -9223372036854775808 float))"
    );
    assert_eq!(
        ex("f(-9223372036854775808)"),
        "(call f [-9223372036854775808])"
    );
    let p = parse_ok("-9223372036854775808");
    assert_eq!(p.items[0].span(), Span::new(0, 20));
    for text in [
        "9223372036854775808",
        "-9223372036854775808.abs()",
        "1 - 9223372036854775808",
        "-(9223372036854775808 AS int)",
        "f(9223372036854775808)",
    ] {
        assert_eq!(first_err(text), "integer literal too large", "{text:?}");
    }
    assert_eq!(errs("x - 9223372036854775808")[0].1, 4..23);
    assert_eq!(
        first_err("-9223372036854775809"),
        "integer literal too large"
    );
}

#[test]
fn if_else_chains() {
    assert_eq!(ex("IF a { 1 } ELSE { 2 }"), "(if a {1} {2})");
    assert_eq!(
        ex("IF a { LET x = 1; LET y = x; y } ELSE IF b { 2 } ELSE { 3 }"),
        "(if a {let x 1; let y x; y} {(if b {2} {3})})"
    );
    assert_eq!(
        ex("if a {1} else if b {2} else if c {3} else {4}"),
        "(if a {1} {(if b {2} {(if c {3} {4})})})"
    );
    assert_eq!(ex("IF a { 1 } ELSE { 2 } + 1"), "(+ (if a {1} {2}) 1)");
    assert_eq!(
        ex("IF a + 1 > 2 { 1 } ELSE { 2 }"),
        "(if (> (+ a 1) 2) {1} {2})"
    );
    // An ELSE IF is a body with no LETs whose result is the nested IF, spanning it.
    let p = parse_ok("IF a {1} ELSE IF b {2} ELSE {3}");
    let Item::Expr(e) = &p.items[0] else { panic!() };
    let ExprKind::If(_, _, otherwise) = &e.kind else {
        panic!()
    };
    assert!(otherwise.lets.is_empty());
    assert_eq!(otherwise.span, otherwise.result.span);
    assert_eq!(otherwise.span, Span::new(14, 31));
}

#[test]
fn items_and_separators() {
    let text = "CREATE FUNCTION add(x, y) RETURNS int { x + y }
create or replace function f(a: int, b: NUMBER) { LET c = a; c * b }
FUNCTION pi() => 3.14159
FUNCTION g(s: text) RETURNS boolean => s == \"\"
LET z = add(1, 2); z;; ;
z";
    assert_eq!(
        items(text),
        vec![
            "Create add(x,y)int {(+ x y)}",
            "CreateOrReplace f(a:int,b:number) {let c a; (* c b)}",
            "Arrow pi() {3.14159}",
            "Arrow g(s:string)bool {(== s \"\")}",
            "LET z (call add [1 2])",
            "z",
            "z",
        ]
    );
    assert!(parse_ok("").items.is_empty());
    assert!(parse_ok(";;\n\n;  # nothing\n").items.is_empty());
}

#[test]
fn spans_are_source_ranges() {
    let text = "LET a = f(1, 2)\nCREATE FUNCTION g(x) { LET y = x; y.h() }";
    let p = parse_ok(text);
    let Item::Let(l) = &p.items[0] else { panic!() };
    assert_eq!(&text[l.span.range()], "LET a = f(1, 2)");
    assert_eq!(&text[l.value.span.range()], "f(1, 2)");
    let ExprKind::Call(f, args) = &l.value.kind else {
        panic!()
    };
    assert_eq!(&text[f.span.range()], "f");
    assert_eq!(&text[args[1].span.range()], "2");
    let Item::Function(g) = &p.items[1] else {
        panic!()
    };
    assert_eq!(&text[g.span.range()], &text[16..]);
    assert_eq!(&text[g.name.span.range()], "g");
    assert_eq!(&text[g.params[0].name.span.range()], "x");
    assert_eq!(&text[g.body.span.range()], "{ LET y = x; y.h() }");
    assert_eq!(&text[g.body.lets[0].span.range()], "LET y = x");
    assert_eq!(&text[g.body.result.span.range()], "y.h()");
    let p = parse_ok("(1 + 2) * -x AS float");
    let Item::Expr(e) = &p.items[0] else { panic!() };
    assert_eq!(e.span, Span::new(0, 21));
    let ExprKind::Binary(_, l, r) = &e.kind else {
        panic!()
    };
    assert_eq!(l.span, Span::new(1, 6));
    assert_eq!(r.span, Span::new(10, 21));
}

#[test]
fn line_breaks_in_programs() {
    // A line that begins with `-` is a new item.
    assert_eq!(items("1\n-2"), vec!["1", "(neg 2)"]);
    // Lines that begin with an operator, `.`, `ELSE` or `CATCH` continue the item.
    assert_eq!(items("1\n+ 2\n* 3"), vec!["(+ 1 (* 2 3))"]);
    assert_eq!(items("x\n.f()\n.g()"), vec!["(call g [(call f [x])])"]);
    assert_eq!(items("IF a { 1 }\nELSE { 2 }"), vec!["(if a {1} {2})"]);
    assert_eq!(items("TRY a\nCATCH b"), vec!["(try a b)"]);
    assert_eq!(items("a\nAND b\nOR c"), vec!["(OR (AND a b) c)"]);
    assert_eq!(items("x\nAS int"), vec!["(as x int)"]);
    // A trailing operator or an open bracket continues it too.
    assert_eq!(items("1 +\n2"), vec!["(+ 1 2)"]);
    assert_eq!(items("f(1,\n2\n)"), vec!["(call f [1 2])"]);
    assert_eq!(items("LET x =\n5"), vec!["LET x 5"]);
    let text = "CREATE FUNCTION f(x)\nRETURNS int\n{\n  LET a = x\n    + 1;\n  a * 2\n}\nf(1)";
    assert_eq!(
        items(text),
        vec!["Create f(x)int {let a (+ x 1); (* a 2)}", "(call f [1])"]
    );
    assert_eq!(
        items("FUNCTION f(x)\n=> x\nf(2)"),
        vec!["Arrow f(x) {x}", "(call f [2])"]
    );
    // Otherwise a line break ends the item.
    assert_eq!(items("a\nb\n(c)"), vec!["a", "b", "c"]);
}

#[test]
fn keywords_in_any_case() {
    assert_eq!(
        items("Create Or Replace Function f(x) Returns Int { Let y = x; If y { Try y Catch 0 } Else { Not y } }"),
        vec!["CreateOrReplace f(x)int {let y x; (if y {(try y 0)} {(not y)})}"]
    );
    assert_eq!(ex("a and b or c AS TEXT"), "(OR (AND a b) (as c string))");
}

#[test]
fn error_messages() {
    let cases: &[(&str, &str, std::ops::Range<usize>)] = &[
        (
            "add(1, 2",
            "expected `)` after the arguments of `add`",
            8..8,
        ),
        (
            "add(1, 2\nx",
            "expected `)` after the arguments of `add`",
            8..9,
        ),
        (
            "add(1 2)",
            "expected `,` or `)` after an argument of `add`",
            6..7,
        ),
        ("x.f(1; 2", "expected `)` after the arguments of `f`", 5..6),
        (
            "CREATE FUNCTION f(x) { x + 1",
            "expected `}` to close the body of `f`",
            28..28,
        ),
        (
            "CREATE FUNCTION f(x) { LET a = 1; a; }",
            "expected `}` to close the body of `f`",
            35..36,
        ),
        (
            "CREATE FUNCTION f(x) { LET a = 1 a }",
            "expected `;` after `LET a = …`",
            33..34,
        ),
        (
            "CREATE FUNCTION f(x) { LET a = 1; }",
            "a body must end with a result expression",
            34..35,
        ),
        (
            "CREATE FUNCTION f(x y) { x }",
            "expected `,` between the parameters of `f`",
            20..21,
        ),
        (
            "CREATE FUNCTION f(x { x }",
            "expected `)` after the parameters of `f`",
            20..21,
        ),
        (
            "CREATE FUNCTION f { x }",
            "expected `(` and the parameters of `f`",
            18..19,
        ),
        (
            "CREATE FUNCTION f(x) x",
            "expected `{` to begin the body of `f`",
            21..22,
        ),
        (
            "CREATE FUNCTION (x) { x }",
            "expected a function name after `FUNCTION`",
            16..17,
        ),
        (
            "CREATE FUNCTION f(1) { 1 }",
            "expected a parameter name or `)`, found `1`",
            18..19,
        ),
        (
            "CREATE FUNCTION f(x,) { 1 }",
            "expected a parameter name after `,`",
            20..21,
        ),
        (
            "CREATE f(x) { x }",
            "expected `FUNCTION` or `OR REPLACE`, found `f`",
            7..8,
        ),
        (
            "CREATE OR f(x) { x }",
            "expected `REPLACE`, found `f`",
            10..11,
        ),
        (
            "FUNCTION f(x) { x }",
            "expected `=>` after the parameters of `f`",
            14..15,
        ),
        ("FUNCTION f(x: numbr) => x", "unknown type `numbr`", 14..19),
        (
            "FUNCTION f(x) RETURNS => x",
            "expected a type (int, float, bool or string) after `RETURNS`",
            22..24,
        ),
        (
            "IF x { 1 }",
            "`ELSE` is required after the `IF` branch",
            10..10,
        ),
        (
            "IF x { 1 }\n2",
            "`ELSE` is required after the `IF` branch",
            10..11,
        ),
        (
            "IF x { 1 ELSE { 2 }",
            "expected `}` to close the `IF` branch",
            9..13,
        ),
        (
            "IF x { 1 } ELSE { 2",
            "expected `}` to close the `ELSE` branch",
            19..19,
        ),
        (
            "IF x 1 } ELSE { 2 }",
            "expected `{` after the `IF` condition",
            5..6,
        ),
        (
            "IF x { 1 } ELSE 2",
            "expected `{` or `IF` after `ELSE`",
            16..17,
        ),
        ("TRY x", "expected `CATCH` after the `TRY` expression", 5..5),
        (
            "1 + TRY a CATCH b",
            "`TRY` must be in parentheses when it is an operand",
            4..7,
        ),
        ("1 + )", "unexpected `)`", 4..5),
        ("1 +", "expected an expression after `+`", 3..3),
        ("LET x = ;", "expected an expression after `=`", 8..9),
        ("LET = 1", "expected a name after `LET`", 4..5),
        ("LET x 1", "expected `=` after `LET x`", 6..7),
        ("(1 + 2", "expected `)` to close the parenthesis", 6..6),
        ("(1 2)", "expected `)` to close the parenthesis", 3..4),
        ("1 2", "unexpected `2`", 2..3),
        ("f(x) )", "unexpected `)`", 5..6),
        ("x AS number", "`number` is not a cast target", 5..11),
        ("x :: foo", "unknown type `foo`", 5..8),
        (
            "x AS",
            "expected a type (int, float, bool or string) after `AS`",
            4..4,
        ),
        ("x.1", "expected a function name after `.`", 2..3),
        ("x.f", "expected `(`, found end of input", 3..3),
        ("ELSE", "unexpected `ELSE`", 0..4),
        ("CATCH", "unexpected `CATCH`", 0..5),
        ("{ 1 }", "unexpected `{`", 0..1),
        ("x AS int.f()", "unexpected `.`", 8..9),
        ("f(1,)", "unexpected `)`", 4..5),
        ("f(1,", "expected an expression after `,`", 4..4),
    ];
    let mut wrong = Vec::new();
    for (text, message, span) in cases {
        let found = errs(text);
        if (found[0].0.as_str(), found[0].1.clone()) != (*message, span.clone()) {
            wrong.push(format!("{text:?}: {found:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn several_errors_in_one_file() {
    let text = "LET a = 1 + ;\nLET b = (2 3)\nc & d\n3 4\nIF x { 1 }\nadd(1, 2\n";
    let found = errs(text);
    let messages: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "expected an expression after `+`",
            "expected `)` to close the parenthesis",
            "unexpected character `&`",
            "unexpected `4`",
            "`ELSE` is required after the `IF` branch",
            "expected `)` after the arguments of `add`",
        ],
        "{found:?}"
    );
    // A line break after `+` does not end the item: the error is at `LET`.
    assert_eq!(errs("LET a = 1 +\nLET b = 2")[0].0, "unexpected `LET`");
    // The first line is fine: errors start after it; each line's error is reported once.
    let text = "1\n2 +\n3 )\n4\n5 5\n\"\\q\"\nIF a { 1 }\n6";
    let found = errs(text);
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn lexical_and_syntax_errors_are_reported_together() {
    let found = errs("1 + \"a\\qb\"\n2 +\n1 2");
    let messages: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        vec!["unknown escape `\\q` in string", "unexpected `2`"]
    );
    // A bad character is reported by the lexer only, not again by the parser.
    assert_eq!(errs("a $ b").len(), 1);
}

#[test]
fn reports_render_with_a_caret() {
    let text = "LET x = 1\nadd(x, 2";
    let err = parse_program(text)
        .unwrap_err()
        .in_source(&Source::new("t.grz", text));
    let report = err.report();
    assert!(
        report.contains("parse error: expected `)` after the arguments of `add`"),
        "{report}"
    );
    assert!(report.contains("t.grz"), "{report}");
    let err = parse_program("1 +")
        .unwrap_err()
        .in_source(&Source::new("t.grz", "1 +"));
    assert!(err.report().contains("expected an expression after `+`"));
}

#[test]
fn needs_more_input_for_the_repl() {
    for text in [
        "f(1,",
        "CREATE FUNCTION f(x) {",
        "1 +",
        "LET x =",
        "\"abc",
        "x AS",
        "IF a { 1 }",
        "IF a { 1 } ELSE",
        "FUNCTION f(x) =>",
        "CREATE FUNCTION f(x)",
        "TRY f(x)",
        "(1\n+ 2",
    ] {
        assert!(needs_more_input(text), "{text:?}");
    }
    for text in [
        "",
        "1",
        "1;",
        "f(1)",
        "IF a { 1 } ELSE { 2 }",
        "1 )",
        "a & b",
        "\"abc\"",
        "1 2",
        "LET x = 1",
        "# comment",
        "CREATE FUNCTION f(x) { x }",
        "9223372036854775808",
    ] {
        assert!(!needs_more_input(text), "{text:?}");
    }
}

#[test]
fn types_in_annotations() {
    let p =
        parse_ok("FUNCTION f(a: INT, b: Float, c: bool, d: string, e: number) RETURNS double => a");
    let Item::Function(f) = &p.items[0] else {
        panic!()
    };
    let tys: Vec<_> = f.params.iter().map(|p| p.ty.unwrap()).collect();
    use TypeName::*;
    assert_eq!(tys, vec![Int, Float, Bool, Str, Number]);
    assert_eq!(f.returns, Some(Float));
    assert_eq!(f.style, DefStyle::Arrow);
}

#[path = "robustness_tests.rs"]
mod robustness;
