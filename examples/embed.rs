//! A host program applying a PL-GRIZZLY function to a million rows, the way a database
//! applies a user-defined function: `cargo run --release --example embed`.

use grizzly::{Engine, ErrorKind, JitMode};
use std::time::Instant;

const UDF: &str = "
# The score of a row: a discount that grows with the quantity, capped.
CREATE FUNCTION score(price, qty) {
    LET gross = price * qty;
    IF qty > 100 { gross * 0.9 } ELSE IF qty > 10 { gross * 0.95 } ELSE { gross }
}
";

fn main() -> Result<(), grizzly::Error> {
    let mut engine = Engine::builder().jit(JitMode::On).build();
    engine.run(UDF)?;
    // Checked and compiled here, once: a wrong signature fails now, not per row.
    let score = engine.typed::<(f64, i64), f64>("score")?;

    let rows: Vec<(f64, i64)> = (0..1_000_000)
        .map(|i| (1.0 + (i % 97) as f64 * 0.25, i % 250))
        .collect();
    let start = Instant::now();
    let mut total = 0.0;
    for &row in &rows {
        total += score.call(&mut engine, row)?;
    }
    let per_row = start.elapsed().as_secs_f64() * 1e9 / rows.len() as f64;
    println!(
        "total score {total:.2} over {} rows, {per_row:.1} ns per row",
        rows.len()
    );
    println!("{}", engine.jit_status().lines().last().unwrap_or_default());

    // A handle whose result type the function does not have is refused when made.
    let err = engine
        .typed::<(f64, i64), i64>("score")
        .expect_err("score returns a float");
    assert_eq!(err.kind(), ErrorKind::Type);
    println!("{}", err.message());
    Ok(())
}
