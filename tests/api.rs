//! The library API's promises: what is `Send` and `Sync`, engines moving between
//! threads with their compiled code, and errors a host can take apart and render.

use grizzly::{Engine, Error, ErrorKind, JitMode, TypedFunc, Value};

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn the_documented_auto_traits_hold() {
    send::<Engine>();
    send_sync::<Value>();
    send_sync::<Error>();
    send_sync::<TypedFunc<(i64, f64), bool>>();
    send_sync::<grizzly::Source>();
}

#[test]
fn an_engine_keeps_its_compiled_code_on_another_thread() {
    let mut e = Engine::builder()
        .jit(JitMode::Eager)
        .max_depth(100_000)
        .build();
    e.run("FUNCTION depth(n) => IF n == 0 { 0 } ELSE { 1 + depth(n - 1) }")
        .unwrap();
    assert_eq!(e.call("depth", &[Value::Int(10)]).unwrap(), Value::Int(10));
    let compiled = e.jit_stats().specializations;
    assert!(compiled >= 1);
    // A smaller stack than the first thread's: compiled code must find this
    // thread's limit (deoptimizing, not crashing, near it) and still give the
    // interpreter's answer.
    let (e, results) = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let results: Vec<Value> = [10, 1_000, 50_000]
                .iter()
                .map(|&n| e.call("depth", &[Value::Int(n)]).unwrap())
                .collect();
            (e, results)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        results,
        [Value::Int(10), Value::Int(1_000), Value::Int(50_000)]
    );
    assert_eq!(e.jit_stats().specializations, compiled, "the same code ran");
    assert!(e.jit_stats().entries >= 4);
}

#[test]
fn errors_carry_kind_span_and_source_and_render_anywhere() {
    let source = "FUNCTION f(x) => x * 2\nf(4611686018427387904)";
    let err = Engine::new().run(source).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    assert_eq!(err.message(), "integer overflow");
    let span = err.span().expect("a runtime error has a span");
    assert_eq!(&source[span.start as usize..span.end as usize], "x * 2");
    let report = err.report();
    assert!(report.contains("<input>:1:18"), "{report}");
    assert!(report.contains("integer overflow"), "{report}");
    // The same report from text the host kept.
    assert_eq!(err.render(source), report);
    // Rendering against other text never panics, even mid-character.
    let odd = err.render("héé");
    assert!(odd.contains("integer overflow"), "{odd}");
    // A parse error lists every error it recovered from.
    let err = Engine::new().run("FUNCTION f(x) => \n1 +").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.all().count() >= 1);
    assert!(err.report().starts_with("Error: parse error"));
}
