use super::*;
use crate::syntax::ast::BinaryOp;
use crate::syntax::parse_program;

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn b(kind: ExprKind) -> Box<Expr> {
    Box::new(e(kind))
}

/// Prints the program of `text` and checks that it reads back the same.
fn reprint(text: &str) -> String {
    let p = parse_program(text).unwrap();
    let printed = program(&p);
    let again = parse_program(&printed).unwrap_or_else(|err| panic!("{printed}: {err:?}"));
    assert_eq!(without_spans(&again), without_spans(&p), "{printed}");
    printed
}

#[test]
fn parenthesises_by_precedence_only() {
    assert_eq!(reprint("(1 + 2) * 3"), "(1 + 2) * 3\n");
    assert_eq!(reprint("1 + (2 * 3)"), "1 + 2 * 3\n");
    assert_eq!(reprint("a - (b - c)"), "a - (b - c)\n");
    assert_eq!(reprint("(a - b) - c"), "a - b - c\n");
    assert_eq!(reprint("-x AS float"), "-x AS float\n");
    assert_eq!(reprint("-(x AS float)"), "-(x AS float)\n");
    assert_eq!(reprint("(-x).f()"), "f(-x)\n");
    assert_eq!(reprint("-x.f()"), "-f(x)\n");
    assert_eq!(reprint("a ?? (b OR c)"), "a ?? b OR c\n");
    assert_eq!(reprint("(a ?? b) OR c"), "(a ?? b) OR c\n");
    assert_eq!(reprint("a && b || !c"), "a AND b OR NOT c\n");
    assert_eq!(reprint("TRY a CATCH (b ?? c)"), "TRY a CATCH b ?? c\n");
    assert_eq!(reprint("(TRY a CATCH b) ?? c"), "(TRY a CATCH b) ?? c\n");
    assert_eq!(reprint("-(TRY a CATCH b)"), "-(TRY a CATCH b)\n");
    assert_eq!(reprint("(1 + 2) AS int"), "(1 + 2) AS int\n");
    assert_eq!(reprint("x :: text :: int"), "x AS string AS int\n");
    assert_eq!(reprint("- -x"), "--x\n");
    assert_eq!(reprint("a - -1"), "a - -1\n");
    assert_eq!(
        reprint("(IF a {1} ELSE {2}) + 1"),
        "IF a { 1 } ELSE { 2 } + 1\n"
    );
}

#[test]
fn items() {
    let text = "CREATE FUNCTION f(x, y: int) RETURNS float { LET a = x; a + y }
create or replace function g() { IF a { LET b = 1; b } ELSE IF c { 2 } ELSE { 3 } }
FUNCTION h(s: number) => s
LET v = h(1); v";
    assert_eq!(
        reprint(text),
        "CREATE FUNCTION f(x, y: int) RETURNS float {
    LET a = x;
    a + y
}
CREATE OR REPLACE FUNCTION g() {
    IF a { LET b = 1; b } ELSE IF c { 2 } ELSE { 3 }
}
FUNCTION h(s: number) => s
LET v = h(1)
v
"
    );
}

#[test]
fn literals_read_back_exactly() {
    assert_eq!(reprint("-9223372036854775808"), "(-9223372036854775808)\n");
    assert_eq!(
        reprint("-(-9223372036854775808)"),
        "-(-9223372036854775808)\n"
    );
    assert_eq!(
        reprint("-9223372036854775808 AS float"),
        "(-9223372036854775808) AS float\n"
    );
    assert_eq!(reprint("1e400"), "1e999\n");
    assert_eq!(
        reprint("0.1 + 2.0 + 1e-7 + 1e16 + 5e-324"),
        "0.1 + 2.0 + 1e-7 + 1e16 + 5e-324\n"
    );
    assert_eq!(
        reprint("1.7976931348623157e308"),
        "1.7976931348623157e308\n"
    );
    assert_eq!(
        reprint(r#""a\"b\\c\nd\te\rf é""#),
        "\"a\\\"b\\\\c\\nd\\te\\rf é\"\n"
    );
    assert_eq!(
        reprint("true AND FALSE OR NULL"),
        "true AND false OR null\n"
    );
    for bits in [
        1u64,
        0x3ff0_0000_0000_0001,
        0x7fef_ffff_ffff_ffff,
        0x0010_0000_0000_0000,
        0x4009_21fb_5444_2d18,
    ] {
        let v = f64::from_bits(bits);
        let text = expr(&e(ExprKind::Float(v)));
        let p = parse_program(&text).unwrap();
        let Item::Expr(x) = &p.items[0] else { panic!() };
        assert_eq!(x.kind, ExprKind::Float(v), "{text}");
        assert!(matches!(x.kind, ExprKind::Float(r) if r.to_bits() == bits));
    }
}

#[test]
fn trees_the_parser_never_builds_still_print_sensibly() {
    assert_eq!(expr(&e(ExprKind::Int(-5))), "(-5)");
    assert_eq!(expr(&e(ExprKind::Float(-1.5))), "(-1.5)");
    assert_eq!(expr(&e(ExprKind::Float(-0.0))), "(-0.0)");
    assert_eq!(expr(&e(ExprKind::Float(f64::NEG_INFINITY))), "(-1e999)");
    assert_eq!(expr(&e(ExprKind::Float(f64::NAN))), "(0.0 / 0.0)");
    let neg = e(ExprKind::Binary(
        BinaryOp::Mul,
        b(ExprKind::Int(-5)),
        b(ExprKind::Int(2)),
    ));
    assert_eq!(expr(&neg), "(-5) * 2");
    for text in ["(-5)", "(-1.5)", "(0.0 / 0.0)", "(-5) * 2"] {
        assert!(parse_program(text).is_ok());
    }
}

#[test]
fn deep_trees_print_and_strip() {
    let n = 100_000;
    let text = format!("1{}", "+1".repeat(n));
    let p = parse_program(&text).unwrap();
    let printed = program(&p);
    assert_eq!(printed.len(), text.len() + 2 * n + 1);
    let stripped = without_spans(&p);
    let Item::Expr(x) = &stripped.items[0] else {
        panic!()
    };
    assert_eq!(x.span, Span::default());
    let text = format!("{}1{}", "f(".repeat(n / 4), ")".repeat(n / 4));
    let p = parse_program(&text).unwrap();
    assert_eq!(program(&p), format!("{text}\n"));
    // Right-nested: all parentheses but the outermost are needed.
    let text = format!("{}1{}", "(1 + ".repeat(n / 4), ")".repeat(n / 4));
    let p = parse_program(&text).unwrap();
    assert_eq!(program(&p), format!("{}\n", &text[1..text.len() - 1]));
}
