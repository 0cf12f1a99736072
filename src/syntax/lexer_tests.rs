use super::*;

fn toks(text: &str) -> Vec<Token<'_>> {
    let lexed = lex(text);
    assert!(lexed.errors.is_empty(), "{text:?}: {:?}", lexed.errors);
    lexed.tokens.into_iter().map(|(t, _)| t).collect()
}

/// The messages and spans of the errors.
fn errors(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    lex(text)
        .errors
        .iter()
        .map(|e| (e.message().to_string(), e.span().unwrap().range()))
        .collect()
}

#[test]
fn every_operator_and_punctuation() {
    use Token::*;
    assert_eq!(
        toks("+ - * / % == != < <= > >= && || ?? ! = => , ( ) { } ; : :: ."),
        vec![
            Plus, Minus, Star, Slash, Percent, EqEq, NotEq, Lt, Le, Gt, Ge, AndAnd, OrOr, Coalesce,
            Bang, Assign, Arrow, Comma, LParen, RParen, LBrace, RBrace, Semi, Colon, ColonColon,
            Dot
        ]
    );
    // Longest match without spaces.
    assert_eq!(toks("a<=b>=c!=d"), {
        vec![
            Ident("a"),
            Le,
            Ident("b"),
            Ge,
            Ident("c"),
            NotEq,
            Ident("d"),
        ]
    });
    assert_eq!(toks("x::int"), vec![Ident("x"), ColonColon, Ident("int")]);
    assert_eq!(toks("=>="), vec![Arrow, Assign]);
}

#[test]
fn keywords_are_case_insensitive_identifiers_are_not() {
    use Token::*;
    let words =
        "CREATE OR REPLACE FUNCTION RETURNS LET IF ELSE TRY CATCH AND NOT AS TRUE FALSE NULL";
    let expected = vec![
        Create, Or, Replace, Function, Returns, Let, If, Else, Try, Catch, And, Not, As, True,
        False, Null,
    ];
    assert_eq!(toks(words), expected);
    assert_eq!(toks(&words.to_lowercase()), expected);
    assert_eq!(toks("CrEaTe fUnCtIoN nUlL"), vec![Create, Function, Null]);
    assert_eq!(
        toks("abc Abc _x x_1 ifx int"),
        vec![
            Ident("abc"),
            Ident("Abc"),
            Ident("_x"),
            Ident("x_1"),
            Ident("ifx"),
            Ident("int")
        ]
    );
}

#[test]
fn integers() {
    assert_eq!(
        toks("0 42 007"),
        vec![Token::Int(0), Token::Int(42), Token::Int(7)]
    );
    assert_eq!(
        toks("9223372036854775807"),
        vec![Token::Int(i64::MAX as u64)]
    );
    // 2^63 lexes (the parser accepts it only after `-`) and is remembered.
    let lexed = lex("1 9223372036854775808");
    assert_eq!(lexed.tokens[1].0, Token::Int(1 << 63));
    assert_eq!(lexed.min_literals, vec![2]);
    assert!(lexed.errors.is_empty());
    for big in [
        "9223372036854775809",
        "18446744073709551616",
        "99999999999999999999999",
    ] {
        assert_eq!(
            errors(big),
            vec![("integer literal too large".into(), 0..big.len())]
        );
        assert_eq!(lex(big).tokens[0].0, Token::Error);
    }
}

#[test]
fn floats() {
    use Token::*;
    assert_eq!(
        toks("1.5 0.25 1e9 1E9 2.5e-3 2.5E+3 1e0"),
        vec![
            Float(1.5),
            Float(0.25),
            Float(1e9),
            Float(1e9),
            Float(2.5e-3),
            Float(2500.0),
            Float(1.0)
        ]
    );
    // Correct rounding, and overflow to infinity.
    assert_eq!(toks("0.1"), vec![Float(0.1)]);
    assert_eq!(toks("1e400"), vec![Float(f64::INFINITY)]);
    assert_eq!(toks("1e-400"), vec![Float(0.0)]);
    assert_eq!(
        toks("2.2250738585072011e-308"),
        vec![Float(2.225073858507201e-308)]
    );
    // `1.` and `.5` are not literals; `2.abs()` is a method call on 2.
    assert_eq!(toks("1."), vec![Int(1), Dot]);
    assert_eq!(toks(".5"), vec![Dot, Int(5)]);
    assert_eq!(
        toks("2.abs()"),
        vec![Int(2), Dot, Ident("abs"), LParen, RParen]
    );
    assert_eq!(toks("1.5.abs()")[..2], [Float(1.5), Dot]);
}

#[test]
fn numbers_glued_to_letters_are_errors() {
    assert_eq!(
        errors("12ab + 1"),
        vec![("invalid number `12ab`".into(), 0..4)]
    );
    assert_eq!(errors("1e"), vec![("invalid number `1e`".into(), 0..2)]);
    assert_eq!(errors("1.5x"), vec![("invalid number `1.5x`".into(), 0..4)]);
    assert_eq!(errors("1e+2"), vec![]);
    assert_eq!(errors("1e+"), vec![("invalid number `1e`".into(), 0..2)]);
}

#[test]
fn strings_and_escapes() {
    let lexed = lex(r#""a\\b\"c\nd\te\rf" "" "é ✓""#);
    assert!(lexed.errors.is_empty());
    let Token::Str(raw) = lexed.tokens[0].0 else {
        panic!()
    };
    assert_eq!(unescape(raw), "a\\b\"c\nd\te\rf");
    assert_eq!(lexed.tokens[1].0, Token::Str(""));
    assert_eq!(lexed.tokens[2].0, Token::Str("é ✓"));
    assert_eq!(lexed.tokens[0].1, SimpleSpan::from(0..18));
    // A line break inside a string is part of it.
    assert_eq!(toks("\"a\nb\""), vec![Token::Str("a\nb")]);
}

#[test]
fn bad_escapes_point_at_the_escape_and_lexing_goes_on() {
    let text = r#""ab\qc" + "\x" + "\é""#;
    assert_eq!(
        errors(text),
        vec![
            ("unknown escape `\\q` in string".into(), 3..5),
            ("unknown escape `\\x` in string".into(), 11..13),
            ("unknown escape `\\é` in string".into(), 18..21),
        ]
    );
    // The string token is still there, with the escaped character kept.
    let lexed = lex(text);
    assert_eq!(lexed.tokens.len(), 5);
    assert_eq!(unescape("ab\\qc"), "abqc");
}

#[test]
fn unterminated_string_points_at_the_opening_quote() {
    let lexed = lex("1 + \"abc\ndef");
    assert!(lexed.unterminated_string);
    assert_eq!(
        errors("1 + \"abc\ndef"),
        vec![("unterminated string".into(), 4..5)]
    );
    assert_eq!(
        errors("\"abc\\\""),
        vec![("unterminated string".into(), 0..1)]
    );
    assert_eq!(
        errors("\"abc\\"),
        vec![("unterminated string".into(), 0..1)]
    );
}

#[test]
fn comments() {
    use Token::*;
    assert_eq!(
        toks("1 # one \"not a string\n# whole line\n2 #"),
        vec![Int(1), Newline, Newline, Int(2)]
    );
}

#[test]
fn unknown_characters_are_reported_and_skipped() {
    let text = "a & b\nc $$ d @\n'x'";
    assert_eq!(
        errors(text),
        vec![
            ("unexpected character `&`".into(), 2..3),
            ("unexpected characters `$$`".into(), 8..10),
            ("unexpected character `@`".into(), 13..14),
            ("unexpected character `'`".into(), 15..16),
            ("unexpected character `'`".into(), 17..18),
        ]
    );
    let e = &lex("a & b").errors[0];
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert_eq!(lex("a & b").tokens[1].0, Token::Error);
    // Non-ASCII letters are not identifiers; Unicode spaces are spaces.
    assert_eq!(
        errors("été"),
        vec![
            ("unexpected character `é`".into(), 0..2),
            ("unexpected character `é`".into(), 3..5)
        ]
    );
    assert_eq!(
        toks("1\u{a0}+\u{2003}2"),
        vec![Token::Int(1), Token::Plus, Token::Int(2)]
    );
}

#[test]
fn spans_are_byte_ranges() {
    let lexed = lex("ab  <= \"é\"");
    let spans: Vec<_> = lexed.tokens.iter().map(|(_, s)| s.start..s.end).collect();
    assert_eq!(spans, vec![0..2, 4..6, 7..11]);
}

fn breaks(text: &str) -> Vec<Token<'_>> {
    apply_line_breaks(lex(text).tokens)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

#[test]
fn line_breaks_end_items_only_where_the_rule_says() {
    use Token::*;
    // Ends: the token before can end an expression, the next can begin an item.
    assert_eq!(breaks("a\nb"), vec![Ident("a"), Newline, Ident("b")]);
    assert_eq!(
        breaks("f(x)\n-1"),
        vec![
            Ident("f"),
            LParen,
            Ident("x"),
            RParen,
            Newline,
            Minus,
            Int(1)
        ]
    );
    assert_eq!(breaks("1\n\n\n2"), vec![Int(1), Newline, Int(2)]);
    // After a token that cannot end an expression.
    for op in [
        "+",
        "*",
        "AND",
        "=",
        "=>",
        ",",
        "AS",
        "::",
        "NOT",
        "!",
        "IF",
        "ELSE",
        "TRY",
        "CATCH",
        ".",
        ":",
        "LET",
        "FUNCTION",
        "CREATE",
        "RETURNS",
        "OR REPLACE",
    ] {
        let text = format!("a {op}\nb");
        assert!(!breaks(&text).contains(&Newline), "{text:?}");
    }
    // Before a token that cannot begin an item.
    for op in [
        "{", "}", ")", "ELSE", "CATCH", "RETURNS", "=>", "AS", "::", ".", "AND", "OR", "&&", "||",
        "??", "+", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "=", ",", ":", "REPLACE",
    ] {
        let text = format!("a\n{op} b");
        assert!(!breaks(&text).contains(&Newline), "{text:?}");
    }
    // Inside brackets.
    assert!(!breaks("f(a\nb)").contains(&Newline));
    assert!(!breaks("{ a\nb }").contains(&Newline));
    assert_eq!(
        breaks("(a)\nb").iter().filter(|t| **t == Newline).count(),
        1
    );
    // Comments and blank lines in between do not matter.
    assert!(!breaks("1 + # more\n\n2").contains(&Newline));
    assert!(breaks("1 # done\n\n2").contains(&Newline));
    // Leading and trailing line breaks are dropped.
    assert_eq!(breaks("\n1\n"), vec![Int(1)]);
}

#[test]
fn open_brackets_counts_unclosed() {
    assert_eq!(open_brackets(&lex("f(1, {").tokens), 2);
    assert_eq!(open_brackets(&lex("f(1) }").tokens), 0);
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push((x >> 24) as u8);
    }
    let text = String::from_utf8_lossy(&bytes);
    let lexed = lex(&text);
    assert!(!lexed.errors.is_empty());
    let _ = apply_line_breaks(lexed.tokens);
}
