//! Cycles through everything that allocates, installs or frees memory in the engine and
//! the JIT, for a leak and memory-error checker (`.ci/leaks` runs it under valgrind):
//! define functions, compile them (eager mode, `jit_compile`), call them from programs
//! and from the host, make compiled code deoptimize (integer overflow, division by
//! zero, the depth limit, the host stack of a small thread) and raise errors caught by
//! compiled handlers, with strings and nulls live in compiled frames, stop runs by a
//! deadline, call host functions (failing and panicking ones too), call them through typed
//! handles (native and batch functions, entry stubs), redefine functions
//! (`CREATE OR REPLACE`), fill a small code arena, `jit_clear()`, and drop and rebuild
//! engines now and then. Errors are rendered as the command line would. Prints a
//! checksum of the values, which compiled code must not change.
//!
//! `cargo run --release --example leak_cycles -- [CYCLES]` (default 1,000); with
//! `LEAK_CYCLES_STATUS` set, prints `jit status` after each cycle on stderr.

use grizzly::{Engine, JitMode, Value};

/// Functions defined in every cycle; `{k}` varies per cycle, so bodies differ.
const DEFINITIONS: &str = "
CREATE OR REPLACE FUNCTION sq(x) RETURNS number { x * x + {k} }
FUNCTION fib(n) => IF n < 2 { n } ELSE { fib(n - 1) + fib(n - 2) }
FUNCTION sum(n, acc) => IF n == 0 { acc } ELSE { sum(n - 1, acc + n) }
FUNCTION add(a, b) => a + b
FUNCTION quot(a, b) => a / b + a % b
FUNCTION down(n) => IF n == 0 { 0 } ELSE { 1 + down(n - 1) }
FUNCTION ev(n) => IF n == 0 { true } ELSE { od(n - 1) }
FUNCTION od(n) => IF n == 0 { false } ELSE { ev(n - 1) }
FUNCTION half(x: float) => x / 2 + sq(x)
FUNCTION shout(s) => s + \"!\" + (len(s) AS string)
FUNCTION safe(a, b) => TRY quot(a, b) CATCH -1
FUNCTION uses_later(x) => later(x) * 2
FUNCTION maybe(x) => IF x % 3 == 0 { null } ELSE { \"v\" + (x AS string) }
FUNCTION deep_safe(n) => TRY down(n) + quot(n, n % 4) CATCH -2
FUNCTION grow(s, n) => IF n < 0 { s } ELSE { grow(maybe(n) ?? s + \"x\", n + 1 - 1) }
FUNCTION build(n) => IF n == 0 { \"\" } ELSE { build(n - 1) + \"ab\" }
FUNCTION tag_all(i, acc) => IF i == 0 { acc } ELSE { tag_all(i - 1, acc + (maybe(i) ?? \"-\")) }
FUNCTION parse_or(s) => TRY (s AS int) * 2 CATCH -1
FUNCTION deep_str(n, s) => IF n == 0 { s AS int } ELSE { len(s) + deep_str(n - 1, s + \"x\") }
FUNCTION catch_str(n) => TRY deep_str(n, \"a\") CATCH -7
FUNCTION mixed(n) => IF n % 2 == 0 { n } ELSE { n * 0.5 }
FUNCTION tag(s) => (s ?? \"none\") + \"!\"
FUNCTION alt(i, acc) => IF i == 0 { acc } ELSE { alt(i - 1, acc + len(((IF i % 2 == 0 { \"x\" } ELSE { i }) + (IF i % 2 == 0 { \"y\" } ELSE { 2 })) AS string)) }
FUNCTION hosted(n: int) => h_scale(n) + (TRY h_div(n, n % 3) CATCH -1) + (TRY h_panic(n) CATCH -2)
FUNCTION hosted_str(s) => h_upper(s + \"x\") + (TRY h_fail(s) CATCH \"caught\")
";

/// Expressions run each cycle: calls of compiled code, and deopts of every kind.
const PROGRAM: &str = "
LET k = {k}
sq(k) + fib(12) + sum(2000, 0)
half(1.5) + half(k)
add(k, 1) + (TRY add(9223372036854775807, k + 1) CATCH 0)
quot(k + 7, 3) + safe(k, 0) + (quot(1, 0) ?? 5)
TRY down(100000) CATCH down(300)
IF ev(301) { 1 } ELSE { 2 }
len(shout(\"cycle \" + (k AS string)))
TRY uses_later(k) CATCH 3
len(maybe(k) ?? \"none\") + len(maybe(k + 1) ?? \"ñ\") + (IF maybe(k) == null { 1 } ELSE { 0 })
deep_safe(k) + deep_safe(k * 10 + 4) + deep_safe(50000)
len(build(100)) + len(tag_all(200, \"\"))
TRY len(build(5000)) CATCH -4
parse_or(\"12\") + parse_or(\"x\" + (k AS string))
catch_str(50) + catch_str(k % 5)
mixed(k) + mixed(k + 1)
build(k % 3) ?? \"none\"
alt(40 + k % 3, 0)
hosted(k) + hosted(k + 1) + hosted(k + 2)
len(hosted_str(\"k\" + (k AS string)))
";

fn engine(cycle: u64) -> Engine {
    let builder = Engine::builder().max_depth(2_000);
    let mut e = match cycle / 50 % 4 {
        0 => builder.jit(JitMode::Eager),
        1 => builder.jit(JitMode::On).threshold(2),
        // Room for a few batches only: compiles start failing for lack of memory.
        2 => builder.jit(JitMode::Eager).code_limit(4 * 4096),
        _ => builder.jit(JitMode::Off),
    }
    .build();
    // Host functions: machine-word and generic, failing and panicking ones.
    e.register_fn("h_scale", |x: i64| x * 3).unwrap();
    e.register_fn("h_div", |a: i64, b: i64| a.checked_div(b).ok_or("by zero"))
        .unwrap();
    e.register_fn("h_panic", |x: i64| -> i64 {
        if x % 4 == 0 {
            panic!("four")
        }
        x
    })
    .unwrap();
    e.register_fn("h_upper", |s: &str| s.to_uppercase())
        .unwrap();
    e.register_fn("h_fail", |s: String| -> Result<String, String> { Err(s) })
        .unwrap();
    e
}

/// Adds what a run printed (or the error's rendered length) to the checksum.
fn run(engine: &mut Engine, source: &str, checksum: &mut u64) {
    match engine.run(source) {
        Ok(values) => values.iter().for_each(|v| add(checksum, v)),
        Err(e) => *checksum = checksum.wrapping_add(e.report().len() as u64),
    }
}

fn add(checksum: &mut u64, v: &Value) {
    let x = match v {
        Value::Int(i) => *i as u64,
        Value::Float(f) => f.to_bits(),
        Value::Bool(b) => *b as u64,
        Value::Str(s) => s.len() as u64,
        Value::Null => 7,
    };
    *checksum = checksum.wrapping_mul(31).wrapping_add(x);
}

/// Typed handles: native and batch functions for the leaves (`add`, `sum`), the entry
/// stubs for the rest (`fib`), with deopts in both.
fn typed_calls(e: &mut Engine, k: i64, checksum: &mut u64) {
    let mut results = Vec::new();
    if let Ok(h) = e.typed::<(i64, i64), i64>("add") {
        results.push(h.call(e, (k, 1)));
        results.push(h.call(e, (i64::MAX, k + 1)));
        let batch = h.call_batch(e, (&[k, 2, i64::MAX, 4], &[1, 2, 3, 4]));
        results.push(batch.map(|rows| rows.iter().sum()));
    }
    if let Ok(h) = e.typed::<(i64, i64), i64>("sum") {
        results.push(h.call(e, (100 + k, 0)));
        let batch = h.call_batch(e, (&[10, k], &[0, i64::MAX]));
        results.push(batch.map(|rows| rows.iter().sum()));
    }
    if let Ok(h) = e.typed::<(i64,), i64>("fib") {
        results.push(h.call(e, (10 + k % 3,)));
    }
    // Generic arguments and results: strings made per call, nulls, a deopt (`quot` by
    // zero is an uncaught error) and a result of another type (a type error).
    let text = format!("row {k}");
    if let Ok(h) = e.typed::<(&str,), String>("shout") {
        results.push(h.call(e, (text.as_str(),)).map(|s| s.len() as i64));
        let batch = h.call_batch(e, (&["a", text.as_str(), "ç"],));
        results.push(batch.map(|rows| rows.iter().map(|s| s.len() as i64).sum()));
    }
    if let Ok(h) = e.typed::<(i64,), Option<String>>("maybe") {
        let batch = h.call_batch(e, (&[k, k + 1, k + 2],));
        results.push(batch.map(|rows| rows.iter().flatten().map(|s| s.len() as i64).sum()));
    }
    if let Ok(h) = e.typed::<(Option<i64>, i64), i64>("quot") {
        results.push(h.call(e, (Some(k), 0)));
        results.push(h.call(e, (None, 1)));
    }
    if let Ok(h) = e.typed::<(Value,), i64>("mixed") {
        results.push(h.call(e, (Value::Int(k),)));
        results.push(h.call(e, (Value::Int(k + 1),)));
    }
    for r in results {
        match r {
            Ok(v) => add(checksum, &Value::Int(v)),
            Err(err) => *checksum = checksum.wrapping_add(err.message().len() as u64),
        }
    }
    column_calls(e, k, checksum);
}

/// Column batches with validity bitmaps: runs written in place, rows with a null
/// through compiled code taking generic values (strings among them), deopts.
fn column_calls(e: &mut Engine, k: i64, checksum: &mut u64) {
    use grizzly::{Column, ColumnType, Validity};
    let ints = [k, 2, i64::MAX, 4, 5, 6, 7, 8, 9];
    let texts: Vec<Value> = (0..9).map(|i| Value::from(format!("s{}", i + k))).collect();
    // Rows 1 and 6 are null.
    let valid = [Some(Validity {
        bits: &[0b1011_1101, 0b1],
        offset: 0,
    })];
    if let Ok(h) = e.column_func::<Option<i64>>("add", &[ColumnType::Int, ColumnType::Int]) {
        let v = [valid[0], None];
        if let Ok(out) = h.call_batch_nullable(e, &[Column::Int(&ints), Column::Int(&ints)], &v) {
            *checksum = checksum.wrapping_add(out.values.iter().sum::<i64>() as u64);
        }
    }
    if let Ok(h) = e.column_func::<Option<String>>("tag", &[ColumnType::Value]) {
        let strings = [Column::Value(&texts)];
        if let Ok(out) = h.call_batch_nullable(e, &strings, &valid) {
            let chars: usize = out.values.iter().map(String::len).sum();
            *checksum = checksum.wrapping_add(chars as u64);
        }
    }
    if let Ok(h) = e.column_func::<Value>("maybe", &[ColumnType::Int]) {
        if let Ok(out) = h.call_batch_masked(e, &[Column::Int(&ints)], &valid) {
            out.iter().for_each(|v| add(checksum, v));
        }
    }
    // Strings moved out by the batch, then a null that is not a `String` (an error
    // after values were moved).
    if let Ok(h) = e.column_func::<String>("maybe", &[ColumnType::Int]) {
        match h.call_batch(e, &[Column::Int(&ints[1..3])]) {
            Ok(out) => *checksum = checksum.wrapping_add(out.concat().len() as u64),
            Err(err) => *checksum = checksum.wrapping_add(err.message().len() as u64),
        }
        if let Err(err) = h.call_batch(e, &[Column::Int(&ints[..6])]) {
            *checksum = checksum.wrapping_add(err.message().len() as u64);
        }
    }
}

fn main() {
    // The panicking host function's message, once per call, would flood the output.
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains("four") {
            eprintln!("{info}");
        }
    }));
    let cycles: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse().expect("the number of cycles"),
        None => 1_000,
    };
    let mut checksum = 0u64;
    // Calls that entered compiled code, and those that fell back, over all engines.
    let (mut entries, mut fallbacks) = (0, 0);
    let mut count = |e: &Engine| {
        let stats = e.jit_stats();
        entries += stats.entries;
        fallbacks += stats.fallbacks;
    };
    let mut e = engine(0);
    for cycle in 0..cycles {
        if cycle % 50 == 0 {
            // Dropped with all its compiled code, specializations and values.
            count(&e);
            e = engine(cycle);
        }
        let k = (cycle % 17).to_string();
        run(&mut e, &DEFINITIONS.replace("{k}", &k), &mut checksum);
        run(&mut e, &PROGRAM.replace("{k}", &k), &mut checksum);
        // Compile explicitly, for types the programs did not use, then call from Rust.
        let _ = e.jit_compile("add", &[Value::Float(1.5), Value::Int(2)]);
        let _ = e.jit_compile("quot", &[Value::Int(1), Value::Int(3)]);
        for i in 0..20 {
            // Overflow and division by zero in compiled code, enough to discard it.
            for r in [
                e.call("add", &[Value::Int(i64::MAX - i), Value::Int(i + 1)]),
                e.call("quot", &[Value::Int(i), Value::Int(i % 2)]),
                e.call("fib", &[Value::Int(i % 15)]),
                e.call("shout", &[Value::from("é")]),
            ] {
                match r {
                    Ok(v) => add(&mut checksum, &v),
                    Err(err) => checksum = checksum.wrapping_add(err.message().len() as u64),
                }
            }
        }
        if let Ok(v) = e.call("down", &[Value::Int(1_999)]) {
            add(&mut checksum, &v);
        }
        typed_calls(&mut e, (cycle % 17) as i64, &mut checksum);
        // Redefinitions drop compiled code and its callers; a later definition
        // drops code compiled while `later` was undefined.
        let redefine = format!(
            "CREATE OR REPLACE FUNCTION fib(n) {{ IF n < 3 {{ {k} }} ELSE {{ fib(n - 1) + 1 }} }}\n\
             FUNCTION later(x) => x + {k}\nfib(20) + uses_later(1)\nCREATE FUNCTION fib(n) {{ 0 }}"
        );
        run(&mut e, &redefine, &mut checksum);
        // A parse error and a definition error, rendered.
        run(&mut e, "FUNCTION (x) => 1\n1 +", &mut checksum);
        run(&mut e, "FUNCTION bad(x) => y", &mut checksum);
        if cycle % 7 == 3 {
            // Not in the checksum: they depend on what was compiled.
            std::hint::black_box(e.jit_status());
            let _ = std::hint::black_box(e.jit_dump("sum"));
        }
        if cycle % 10 == 5 {
            // Another thread, with little stack: compiled code runs short of host stack
            // and falls back to the interpreter.
            let thread = std::thread::Builder::new().stack_size(320 << 10);
            std::thread::scope(|s| {
                let v = thread.spawn_scoped(s, || e.call("down", &[Value::Int(1_999)]));
                if let Ok(v) = v.expect("a thread").join().expect("no panic") {
                    add(&mut checksum, &v);
                }
            });
        }
        if cycle % 10 == 7 {
            // Stopped by a deadline while strings are live in compiled (or
            // interpreted) frames: not in the checksum (where it stops varies).
            e.set_deadline(Some(std::time::Duration::from_millis(2)));
            let stopped = e.call("grow", &[Value::str("s"), Value::Int(1)]);
            assert!(stopped.is_err_and(|err| err.kind() == grizzly::ErrorKind::Interrupted));
            e.set_deadline(None);
        }
        if std::env::var_os("LEAK_CYCLES_STATUS").is_some() {
            eprintln!("cycle {cycle}:\n{}", e.jit_status());
        }
        if cycle % 10 == 9 {
            count(&e);
            e.jit_clear();
        }
        if cycle % 25 == 24 {
            // Modes switch with compiled code live.
            let mode = [JitMode::Off, JitMode::Eager, JitMode::On][(cycle / 25 % 3) as usize];
            e.set_jit_mode(mode);
        }
    }
    // The checksum does not depend on what was compiled (compiled code gives the
    // interpreter's values); the statistics do.
    println!("{cycles} cycles, checksum {checksum:016x}");
    count(&e);
    println!("{entries} calls entered compiled code, {fallbacks} fell back to the interpreter");
}
