use super::*;
use chumsky::input::Input as _;
use std::time::Instant;

#[test]
fn explore() {
    let text = format!("1{}", "+1".repeat(50_000));
    let t = Instant::now();
    let lexed = lexer::lex(&text);
    println!("lex {:?}", t.elapsed());
    let tokens = lexer::apply_line_breaks(lexed.tokens);
    println!("lines {:?}", t.elapsed());
    let eoi = SimpleSpan::from(text.len()..text.len());
    let input = tokens.as_slice().map(eoi, |(t, s): &Spanned<'_>| (t, s));
    let p = grammar::program(Rc::from(vec![]));
    let r = p.parse(input).into_output_errors();
    println!("parse {:?}", t.elapsed());
    drop(r);
    println!("drop {:?}", t.elapsed());
    let input = tokens.as_slice().map(eoi, |(t, s): &Spanned<'_>| (t, s));
    let e = grammar::expression(Rc::from(vec![]));
    let r = e.parse(input).into_output_errors();
    println!("expr only {:?}", t.elapsed());
    drop(r);
}
