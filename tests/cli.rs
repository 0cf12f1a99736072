//! The `grizzly` binary, run as a user runs it: `run`, `eval`, options, exit codes,
//! error reports on stderr, and the interactive session fed through stdin.

mod bin_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs the binary with `args` and `stdin` as its whole input.
fn grizzly_with_input(args: &[&str], stdin: &str) -> Output {
    let mut child = bin_common::spawn_piped(args);
    // The program may exit before reading everything (`quit`); that is not an error here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait for grizzly")
}

fn grizzly(args: &[&str]) -> Output {
    grizzly_with_input(args, "")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Asserts the exit status, showing both streams when it is not the expected one.
#[track_caller]
fn assert_exit(o: &Output, expected: i32) {
    assert_eq!(
        code(o),
        expected,
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A program file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: impl AsRef<[u8]>) -> TempFile {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("grizzly-cli-{}-{n}.grz", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn run_file(contents: &str, options: &[&str]) -> Output {
    let file = TempFile::new(contents);
    let mut args = vec!["run", file.path()];
    args.extend_from_slice(options);
    grizzly(&args)
}

/// Asserts that an error report gives `message`, shows the source line `line`, and
/// marks the error with ariadne's caret starting under `at` (a piece of `line`): the
/// next line of the report has a marker there (`^`, `|`, or Unicode `┬`, `─`) and a
/// space just before it.
#[track_caller]
fn assert_report(err: &str, line: &str, at: &str, message: &str) {
    assert!(err.contains(message), "no '{message}' in:\n{err}");
    assert!(
        !err.contains('\x1b'),
        "colour codes while stderr is a pipe:\n{err}"
    );
    let lines: Vec<Vec<char>> = err
        .lines()
        .map(|l| l.trim_end().chars().collect())
        .collect();
    let shown = err.lines().position(|l| l.trim_end().ends_with(line));
    let shown = shown.unwrap_or_else(|| panic!("source line '{line}' not shown in:\n{err}"));
    let column = lines[shown].len() - line.chars().count()
        + line[..line.find(at).expect("`at` is in `line`")]
            .chars()
            .count();
    let under = lines
        .get(shown + 1)
        .map(|l| (l.get(column - 1), l.get(column)));
    assert!(
        matches!(under, Some((Some(' '), Some('^' | '|' | '┬' | '─')))),
        "no caret under '{at}' (column {column}) in:\n{err}"
    );
}

const PROGRAM: &str = "\
# comments and blank lines are fine

CREATE FUNCTION add(x, y) RETURNS int { x + y }
FUNCTION twice(s) => s + s
LET a = add(2, 3)
a
twice(\"ab\")
0.1 + 0.2; 1.0 / 0
a > 4
null
-7 / 2
";

#[test]
fn run_prints_each_value_on_its_own_line() {
    let o = run_file(PROGRAM, &[]);
    assert_exit(&o, 0);
    assert_eq!(
        stdout(&o),
        "5\nabab\n0.30000000000000004\ninf\ntrue\nnull\n-3\n"
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn options_are_accepted_before_and_after_the_subcommand() {
    let file = TempFile::new(PROGRAM);
    let before = grizzly(&["--jit", "off", "--max-depth", "50", "run", file.path()]);
    let after = grizzly(&["run", file.path(), "--jit", "eager", "--threshold", "1"]);
    for o in [&before, &after] {
        assert_exit(o, 0);
        assert_eq!(stdout(o), stdout(&run_file(PROGRAM, &[])));
    }
}

#[test]
fn runtime_error_exits_1_and_keeps_what_was_printed() {
    let o = run_file("1\n2\nLET z = 0\n10 / z\n3\n", &[]);
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "1\n2\n", "items after the error must not run");
    assert_report(&stderr(&o), "10 / z", "10 / z", "division by zero");
}

#[test]
fn timeout_stops_a_runaway_item_with_exit_1() {
    let program = "FUNCTION spin(n) => spin(n + 1 - 1)\n\"before\"\nspin(0)\n\"never\"\n";
    for jit in ["off", "on", "eager"] {
        let o = run_file(program, &["--timeout", "0.2", "--jit", jit]);
        assert_exit(&o, 1);
        assert_eq!(stdout(&o), "before\n", "{jit}");
        assert!(
            stderr(&o).contains("interrupted: the deadline passed"),
            "{}",
            stderr(&o)
        );
    }
    let fine = grizzly(&["eval", "--timeout", "5", "1 + 1"]);
    assert_exit(&fine, 0);
    for bad in ["0", "-1", "soon", "NaN"] {
        let o = grizzly(&["eval", "--timeout", bad, "1"]);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("--timeout"), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn runtime_error_inside_a_function_is_reported() {
    let o = run_file(
        "FUNCTION f(x) => x + 1\n\"start\"\nf(\"s\")\n\"never\"\n",
        &[],
    );
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "start\n");
    // The report points at the operation that failed, in the function's body.
    let line = "FUNCTION f(x) => x + 1";
    assert_report(&stderr(&o), line, "x + 1", "type error");
}

#[test]
fn parse_error_exits_1_and_runs_nothing() {
    let o = run_file("1\n2\nLET = 5\n3\n", &[]);
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "", "a parse error must run nothing");
    assert_report(&stderr(&o), "LET = 5", "= 5", "parse error");
}

#[test]
fn unterminated_string_is_a_parse_error() {
    let o = grizzly(&["eval", "1\n\"abc"]);
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "");
    assert_report(&stderr(&o), "\"abc", "\"abc", "parse error");
}

#[test]
fn definition_errors_exit_1_after_earlier_items() {
    let cases = [
        ("FUNCTION f(x) => x + y", "unknown identifier in a body"),
        ("FUNCTION abs(x) => x", "builtin name"),
        ("FUNCTION g(x, x) => x", "duplicate parameter"),
        (
            "CREATE FUNCTION h() { 1 }\nCREATE FUNCTION h() { 2 }",
            "CREATE of a defined name",
        ),
    ];
    for (definition, what) in cases {
        let o = run_file(&format!("1\n{definition}\n2\n"), &[]);
        assert_exit(&o, 1);
        assert_eq!(stdout(&o), "1\n", "{what}: the rest must be skipped");
        let err = stderr(&o);
        assert!(!err.is_empty(), "{what}: no report");
        assert!(
            !err.contains("parse error"),
            "{what} is not a parse error:\n{err}"
        );
    }
}

#[test]
fn unknown_flags_are_usage_errors() {
    let file = TempFile::new("1\n");
    for args in [
        vec!["--bogus"],
        vec!["run", file.path(), "--bogus"],
        vec!["eval", "--bogus"],
        vec!["eval", "1", "--bogus"],
        vec!["frobnicate"],
        vec!["run"],
    ] {
        let o = grizzly(&args);
        assert_exit(&o, 2);
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(stderr(&o).contains("error"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn help_lists_the_subcommands_and_options() {
    let o = grizzly(&["--help"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let words = [
        "run",
        "eval",
        "--jit",
        "--threshold",
        "--max-depth",
        "--stats",
    ];
    for word in words {
        assert!(out.contains(word), "--help lacks '{word}':\n{out}");
    }
}

#[test]
fn bad_option_values_are_usage_errors() {
    for (args, shown) in [
        (vec!["eval", "1", "--jit", "maybe"], "maybe"),
        (vec!["--jit", "ON", "eval", "1"], "ON"),
        (vec!["eval", "1", "--threshold", "0"], "0"),
        (vec!["eval", "1", "--threshold", "ten"], "ten"),
        (vec!["eval", "1", "--max-depth", "-3"], "-3"),
        (vec!["eval", "1", "--max-depth", "0"], "0"),
    ] {
        let o = grizzly(&args);
        assert_exit(&o, 2);
        assert_eq!(stdout(&o), "", "{args:?}");
        assert!(stderr(&o).contains(shown), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn missing_file_is_a_usage_error_naming_the_file() {
    let path = std::env::temp_dir().join("grizzly-cli-no-such-file.grz");
    let o = grizzly(&["run", path.to_str().unwrap()]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("grizzly-cli-no-such-file.grz"), "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn a_directory_is_not_a_program_file() {
    let o = grizzly(&["run", std::env::temp_dir().to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn non_utf8_file_is_an_error_with_a_clear_message() {
    let file = TempFile::new(b"1\n\"caf\xe9\"\n".as_slice());
    let o = grizzly(&["run", file.path()]);
    assert_exit(&o, 1);
    assert_eq!(stdout(&o), "", "nothing runs");
    let err = stderr(&o);
    assert!(
        err.contains("not valid UTF-8") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn eval_gives_the_same_output_in_every_jit_mode() {
    let program = "\
FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }
FUNCTION sum(n, acc) => IF n == 0 { acc } ELSE { sum(n - 1, acc + n) }
fib(20); sum(100000, 0); fib(10) :: float / 4; TRY fib(\"x\") CATCH \"caught\"";
    let expected = "6765\n5000050000\n13.75\ncaught\n";
    for mode in ["on", "off", "eager"] {
        for threshold in ["1", "10"] {
            let o = grizzly(&["eval", program, "--jit", mode, "--threshold", threshold]);
            assert_exit(&o, 0);
            assert_eq!(stdout(&o), expected, "--jit {mode} --threshold {threshold}");
        }
    }
}

#[test]
fn eval_accepts_a_program_starting_with_minus() {
    let o = grizzly(&["eval", "-5 + 1"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "-4\n");
}

#[test]
fn max_depth_sets_where_stack_overflow_happens() {
    // down(50) runs at depths 1 to 51: `1 + down(..)` is not a tail call.
    let program = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }\ndown(50)";
    for mode in ["on", "off", "eager"] {
        let ok = grizzly(&["eval", program, "--max-depth", "51", "--jit", mode]);
        assert_exit(&ok, 0);
        assert_eq!(stdout(&ok), "50\n", "--jit {mode}");

        let over = grizzly(&["eval", program, "--max-depth", "50", "--jit", mode]);
        assert_exit(&over, 1);
        assert_eq!(stdout(&over), "", "--jit {mode}");
        assert!(
            stderr(&over).contains("stack overflow"),
            "{}",
            stderr(&over)
        );
    }
}

#[test]
fn default_max_depth_allows_deep_recursion_and_catches_the_overflow() {
    let program = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }
down(9999); TRY down(10000) CATCH -1";
    let o = grizzly(&["eval", program]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "9999\n-1\n");
}

#[test]
fn stats_go_to_stderr_also_after_an_error() {
    let program = "FUNCTION sq(x) => x * x\nsq(3); sq(4)";
    let plain = grizzly(&["eval", program]);
    let stats = grizzly(&["eval", program, "--stats"]);
    assert_exit(&plain, 0);
    assert_exit(&stats, 0);
    assert_eq!(
        stdout(&stats),
        stdout(&plain),
        "stats must not touch stdout"
    );
    assert_eq!(stderr(&plain), "");
    assert!(!stderr(&stats).is_empty(), "--stats wrote nothing");

    let failing = format!("{program}\nsq(true)");
    let plain = grizzly(&["eval", &failing]);
    let stats = grizzly(&["--stats", "eval", &failing]);
    assert_exit(&stats, 1);
    assert_eq!(stdout(&stats), "9\n16\n");
    let (with, without) = (stderr(&stats), stderr(&plain));
    assert!(
        with.starts_with(&without) && with.len() > without.len(),
        "--stats after an error:\n{with}"
    );
}

// ---- the interactive session, fed through stdin ----

fn repl(input: &str) -> Output {
    grizzly_with_input(&[], input)
}

#[test]
fn repl_keeps_definitions_and_lets_between_lines() {
    let o = repl("FUNCTION sq(x) => x * x\nLET a = 3\nsq(a)\nLET a = a + 1\nsq(a)\n");
    assert_exit(&o, 0);
    assert_eq!(
        stdout(&o),
        "9\n16\n",
        "no prompts or escape codes on a pipe"
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn repl_reads_a_multi_line_definition() {
    let o =
        repl("CREATE FUNCTION f(n) RETURNS int {\n  LET m = n + 1;\n  m * 2\n}\nf(4)\n(1 +\n 2)\n");
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "10\n3\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn repl_reports_an_error_and_goes_on() {
    let o = repl("LET x = 1\nx / 0\nx + 1\nLET = 2\nx + 2\n");
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "2\n3\n");
    let err = stderr(&o);
    assert_report(&err, "x / 0", "x / 0", "division by zero");
    assert!(err.contains("parse error"), "{err}");
}

#[test]
fn repl_jit_status_prints_what_stats_prints() {
    let o = grizzly_with_input(&["--stats"], "jit status\n");
    assert_exit(&o, 0);
    // The same fresh engine: `jit status` on stdout, `--stats` on stderr at exit.
    assert_eq!(stdout(&o), stderr(&o));
}

#[test]
fn repl_jit_commands_are_commands() {
    let input = "FUNCTION inc(x) => x + 1\nJIT DISABLE\ninc(1)\njit enable\njit threshold 1\n\
                 inc(2); inc(3)\njit clear\njit dump inc\ninc(4)\n";
    let o = repl(input);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let values: Vec<&str> = out.lines().filter(|l| l.parse::<i64>().is_ok()).collect();
    assert_eq!(values, ["2", "3", "4", "5"], "stdout:\n{out}");
    assert!(!stderr(&o).contains("parse error"), "{}", stderr(&o));
}

#[test]
fn repl_rejects_a_bad_threshold_and_goes_on() {
    let o = repl("jit threshold 0\njit threshold x\njit threshold\n7\n");
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "7\n");
    let err = stderr(&o);
    assert!(err.contains("'0'") && err.contains("'x'"), "{err}");
    assert!(err.contains("usage: jit threshold N"), "{err}");
}

#[test]
fn repl_jit_dump_of_an_unknown_function_is_an_error() {
    let o = repl("jit dump nosuch\n1\n");
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "1\n");
    assert!(stderr(&o).contains("nosuch"), "{}", stderr(&o));
}

#[test]
fn repl_help_lists_the_commands() {
    let o = repl("help\n");
    assert_exit(&o, 0);
    let out = stdout(&o);
    for command in ["jit status", "jit threshold N", "jit dump NAME", "quit"] {
        assert!(out.contains(command), "help lacks '{command}':\n{out}");
    }
}

#[test]
fn repl_quit_and_exit_end_the_session() {
    for word in ["quit", "EXIT", "  Quit  "] {
        let o = repl(&format!("1\n{word}\n2\n"));
        assert_exit(&o, 0);
        assert_eq!(stdout(&o), "1\n", "'{word}'");
    }
}

#[test]
fn repl_reports_an_unfinished_entry_at_end_of_input() {
    let o = repl("1\nFUNCTION f(x) => (x +\n");
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "1\n");
    assert!(stderr(&o).contains("parse error"), "{}", stderr(&o));
}

#[test]
fn repl_uses_the_options() {
    let program = "FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }\ndown(9)\n";
    let o = grizzly_with_input(&["--max-depth", "5", "--jit", "off"], program);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("stack overflow"), "{}", stderr(&o));
}

#[test]
fn repl_fed_by_a_pipe_leaves_the_history_file_alone() {
    let home = std::env::temp_dir().join(format!("grizzly-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = bin_common::grizzly()
        .env("HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"1\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    let history = Path::new(&home).join(".grizzly_history");
    assert!(
        !history.exists(),
        "a piped session wrote {}",
        history.display()
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// Sends SIGINT to `child` (as Ctrl-C in a terminal would).
fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// A session fed by a pipe, its output read line by line.
fn session() -> (
    std::process::Child,
    std::process::ChildStdin,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut child = bin_common::spawn_piped(&[]);
    let stdin = child.stdin.take().unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    (child, stdin, lines)
}

#[test]
fn repl_ctrl_c_stops_the_running_entry_and_keeps_the_session() {
    let (child, mut stdin, mut lines) = session();
    stdin
        .write_all(b"FUNCTION spin(n) => spin(n + 1 - 1)\nLET k = 40\nk\nspin(0)\n")
        .unwrap();
    stdin.flush().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "40", "the session is up");
    std::thread::sleep(std::time::Duration::from_millis(200));
    interrupt(&child);
    // The session goes on, with its definitions and variables.
    stdin.write_all(b"k + 2\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "42");
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains("interrupted: stopped by an interrupt handle"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn repl_ctrl_c_between_entries_of_a_pipe_ends_it() {
    let (child, mut stdin, mut lines) = session();
    stdin.write_all(b"1 + 1\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "2");
    interrupt(&child);
    let o = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(o.status.code(), Some(130), "{:?}", o.status);
}
