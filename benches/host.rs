//! The cost of calling a host function (`Engine::register_fn`) from compiled code,
//! against calling the same Rust function through a `fn` pointer.
//!
//! Four loops of 1,000 iterations, each adding `h(i)` (`h(x) = x * 3 + 1`) to an
//! accumulator: in Rust with `h` inlined and through a `fn` pointer the optimizer
//! cannot see through; in PL-GRIZZLY (compiled, through a typed handle) with the
//! arithmetic inline and with `h` a host function. The host call's extra cost per
//! iteration is `(host - inline)` in PL-GRIZZLY against `(pointer - inline)` in Rust.
//!
//! `cargo bench --bench host`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use grizzly::{Engine, JitMode};
use std::hint::black_box;

const N: i64 = 1_000;

fn h(x: i64) -> i64 {
    x.wrapping_mul(3).wrapping_add(1)
}

fn rust_inline(n: i64) -> i64 {
    let mut acc = 0i64;
    for i in (1..=n).rev() {
        acc = acc.wrapping_add(black_box(i).wrapping_mul(3).wrapping_add(1));
    }
    acc
}

fn rust_pointer(n: i64, f: fn(i64) -> i64) -> i64 {
    let mut acc = 0i64;
    for i in (1..=n).rev() {
        acc = acc.wrapping_add(f(black_box(i)));
    }
    acc
}

fn bench(c: &mut Criterion) {
    let mut e = Engine::builder().jit(JitMode::Eager).build();
    e.register_fn("h", |x: i64| x.wrapping_mul(3).wrapping_add(1))
        .unwrap();
    e.run(
        "FUNCTION inline(i: int, acc: int) => IF i == 0 { acc } ELSE { inline(i - 1, acc + (i * 3 + 1)) }\n\
         FUNCTION host(i: int, acc: int) => IF i == 0 { acc } ELSE { host(i - 1, acc + h(i)) }",
    )
    .unwrap();
    let inline = e.typed::<(i64, i64), i64>("inline").unwrap();
    let host = e.typed::<(i64, i64), i64>("host").unwrap();
    let expected = rust_inline(N);
    assert_eq!(inline.call(&mut e, (N, 0)).unwrap(), expected);
    assert_eq!(host.call(&mut e, (N, 0)).unwrap(), expected);
    assert_eq!(rust_pointer(N, black_box(h)), expected);

    let mut g = c.benchmark_group("host_call");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("rust_inline", |b| b.iter(|| rust_inline(black_box(N))));
    g.bench_function("rust_pointer", |b| {
        b.iter(|| rust_pointer(black_box(N), black_box(h)))
    });
    g.bench_function("grizzly_inline", |b| {
        b.iter(|| inline.call(&mut e, (black_box(N), 0)).unwrap())
    });
    g.bench_function("grizzly_host", |b| {
        b.iter(|| host.call(&mut e, (black_box(N), 0)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
