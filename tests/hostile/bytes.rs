//! Bytes that are not a program: invalid UTF-8, hostile REPL lines, random text.

use super::*;

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
        let mut child = bin_common::spawn_piped(&[]);
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
