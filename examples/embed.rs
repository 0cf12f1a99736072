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

    let prices: Vec<f64> = (0..1_000_000)
        .map(|i| 1.0 + (i % 97) as f64 * 0.25)
        .collect();
    let quantities: Vec<i64> = (0..1_000_000).map(|i| i % 250).collect();

    // Row by row: one typed call each, straight into the compiled code.
    let start = Instant::now();
    let mut total = 0.0;
    for (&price, &qty) in prices.iter().zip(&quantities) {
        total += score.call(&mut engine, (price, qty))?;
    }
    let per_row = start.elapsed().as_secs_f64() * 1e9 / prices.len() as f64;
    println!(
        "row by row: total score {total:.2} over {} rows, {per_row:.1} ns per row",
        prices.len()
    );

    // The whole columns in one batch call: compiled code loops over the rows.
    let start = Instant::now();
    let scores = score.call_batch(&mut engine, (&prices, &quantities))?;
    let per_row = start.elapsed().as_secs_f64() * 1e9 / prices.len() as f64;
    let batch_total: f64 = scores.iter().sum();
    println!(
        "one batch:  total score {batch_total:.2} over {} rows, {per_row:.1} ns per row",
        scores.len()
    );
    assert_eq!(batch_total.to_bits(), total.to_bits(), "the same results");
    println!("{}", engine.jit_status().lines().last().unwrap_or_default());

    // A row that fails ends the batch with the interpreter's error.
    engine.run("FUNCTION units(qty, packs) => qty * packs")?;
    let units = engine.typed::<(i64, i64), i64>("units")?;
    let err = units
        .call_batch(&mut engine, (&[3, i64::MAX, 5], &[4, 2, 6]))
        .expect_err("the second row overflows");
    assert_eq!(err.kind(), ErrorKind::IntegerOverflow);
    println!("units over a bad column: {}", err.message());

    // A handle whose result type the function does not have is refused when made.
    let err = engine
        .typed::<(f64, i64), i64>("score")
        .expect_err("score returns a float");
    assert_eq!(err.kind(), ErrorKind::Type);
    println!("{}", err.message());
    Ok(())
}

/// `cargo test` runs the example too (`test = true` in `Cargo.toml`).
#[test]
fn the_example_runs() {
    main().expect("the example runs");
}
