//! Fuzz target `parse`: arbitrary bytes through the front end, which must never panic.
//!
//! For input that is UTF-8:
//! - `grizzly::internals::syntax::parse`: a parse error is fine, and is rendered with ariadne
//!   (`Error::render`, with and without colours) against the input as its source;
//! - `needs_more_input` (the REPL's continuation rule) on the same text;
//! - when it parses, the pretty-printer's contract: the printed text parses back to the
//!   same tree (spans aside), and printing that again gives the same text.
//!
//! Nothing is run: arbitrary programs may loop forever (`FUNCTION f(x) => f(x)`).

#![no_main]

use grizzly::internals::syntax::{parse, pretty};
use grizzly::needs_more_input;
use grizzly::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = needs_more_input(text);
    match parse(text) {
        Err(e) => {
            let src = Source::new("<fuzz>", text);
            let e = grizzly::internals::in_source(e, &src);
            for err in e.all() {
                assert!(!err.message().is_empty(), "an error without a message");
                if let Some(span) = err.span() {
                    assert!(
                        span.start <= span.end && span.end as usize <= text.len(),
                        "span {span:?} outside a text of {} bytes",
                        text.len()
                    );
                }
            }
            let plain = e.report();
            assert!(!plain.is_empty());
            let _ = e.report_with(true);
        }
        Ok(program) => {
            let printed = pretty::program(&program);
            let reparsed = match parse(&printed) {
                Ok(p) => p,
                Err(e) => panic!(
                    "the pretty-printed program does not parse: {}\n--- printed:\n{printed}",
                    e.report()
                ),
            };
            assert!(
                pretty::without_spans(&reparsed) == pretty::without_spans(&program),
                "printing and parsing back changed the tree\n--- printed:\n{printed}"
            );
            let again = pretty::program(&reparsed);
            assert_eq!(printed, again, "printing is not stable");
        }
    }
});
