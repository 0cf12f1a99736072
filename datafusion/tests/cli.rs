//! `grizzly-sql` as users run it: the example data set, both output formats, the
//! prompt, and a clear message with exit status 1 (2 for usage) on every bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_grizzly-sql");
const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sql/rules.grz");
const ORDERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sql/orders.csv");

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_query_over_the_example_data_prints_a_table_or_csv() {
    let table = format!("orders={ORDERS}");
    let sql = "SELECT id, tier(amount) AS tier, label(region, id, items) AS label, \
               quantity(note) AS q, net(amount, discount) AS net FROM orders ORDER BY id LIMIT 4";
    let out = run(&["--udf", RULES, "--table", &table, sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("| id | tier   | label      | q  | net"),
        "{shown}"
    );
    assert!(
        shown.contains("| 4  | basic  | EU-4 x5    | 40 | 2.56"),
        "{shown}"
    );

    let out = run(
        &["--udf", RULES, "--table", &table, "--format", "csv", sql],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,tier,label,q,net");
    // Row 1: 360.27 with a 0.27 discount; no items is NULL, and the label says x1.
    assert!(lines[1].starts_with("1,silver,US-1 x1,0,262.9971"), "{csv}");
    assert_eq!(lines.len(), 5);
}

#[test]
fn the_prompt_runs_each_statement() {
    let out = run(
        &["--udf", RULES],
        "SELECT tier(600.0) AS t;\nSELECT nope(1);\nSELECT tier(\n 5.0) AS u;\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("gold") && shown.contains("basic"), "{shown}");
    assert!(
        text(&out.stderr).contains("nope"),
        "the error is printed and the prompt goes on"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let bad = std::env::temp_dir().join(format!("grizzly-sql-bad-{}.grz", std::process::id()));
    std::fs::write(&bad, "FUNCTION f(x) => x +\n").unwrap();
    let bad = bad.to_str().unwrap();
    for (args, status, message) in [
        (
            vec!["--udf", "no/such.grz", "SELECT 1"],
            1,
            "cannot read no/such.grz",
        ),
        (
            vec!["--table", "orders", "SELECT 1"],
            1,
            "expected NAME=FILE",
        ),
        (
            vec!["--table", "t=no/such.csv", "SELECT 1"],
            1,
            "no file no/such.csv",
        ),
        (
            vec!["--table", &format!("t={RULES}"), "SELECT 1"],
            1,
            "neither .csv nor .parquet",
        ),
        (vec!["SELEC 1"], 1, "SQL error"),
        (
            vec!["--udf", bad, "SELECT 1"],
            1,
            "expected an expression after `+`",
        ),
        (
            vec!["--format", "xml", "SELECT 1"],
            2,
            "invalid value 'xml'",
        ),
    ] {
        let out = run(&args, "");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
