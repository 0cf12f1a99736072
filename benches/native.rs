//! The benchmark programs of `examples/bench/*.grz`, written in plain Rust with exactly the same
//! arithmetic (same operations, same order), so that their results must be identical bit for bit.
//!
//! Included as a module by `tests/bench_programs.rs` (to check the programs' checksums) and by
//! benchmarks (as a native baseline):
//! `#[path = "../benches/native.rs"] mod native;`
//!
//! Each function takes the program's top-level `LET` parameters, in the order they appear there.
#![allow(dead_code)]

/// `fib.grz`: naive doubly recursive Fibonacci.
pub fn fib(n: i64) -> i64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// `tak.grz`: Takeuchi's function.
pub fn tak(x: i64, y: i64, z: i64) -> i64 {
    if y < x {
        tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
    } else {
        z
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `gcd_sum.grz`: the sum of `gcd(i, j)` over `1 <= i, j <= n`.
pub fn gcd_sum(n: i64) -> i64 {
    let mut acc = 0;
    for i in 1..=n {
        let mut row = 0;
        for j in 1..=n {
            row += gcd(i, j);
        }
        acc += row;
    }
    acc
}

/// `collatz.grz`: the total number of Collatz steps to reach 1 from each of `1..=n`.
pub fn collatz(n: i64) -> i64 {
    let mut acc = 0;
    for i in 1..=n {
        let mut x = i;
        let mut steps = 0;
        while x != 1 {
            x = if x % 2 == 0 { x / 2 } else { 3 * x + 1 };
            steps += 1;
        }
        acc += steps;
    }
    acc
}

/// `primes.grz`: the number of primes below `n`, by trial division.
pub fn primes(n: i64) -> i64 {
    let has_divisor = |k: i64| {
        let mut d = 2;
        loop {
            if d * d > k {
                return false;
            }
            if k % d == 0 {
                return true;
            }
            d += 1;
        }
    };
    (2..n).filter(|&k| !has_divisor(k)).count() as i64
}

/// `mandel.grz`: the sum of Mandelbrot escape counts over a `w` x `h` grid.
pub fn mandel(w: i64, h: i64, max_iter: i64) -> i64 {
    let mut acc = 0;
    for y in 0..h {
        let mut row = 0;
        for x in 0..w {
            let cr = -2.0 + 2.5 * x as f64 / w as f64;
            let ci = -1.25 + 2.5 * y as f64 / h as f64;
            let (mut zr, mut zi, mut i) = (0.0f64, 0.0f64, 0i64);
            while !(i == max_iter || zr * zr + zi * zi > 4.0) {
                (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
                i += 1;
            }
            row += i;
        }
        acc += row;
    }
    acc
}

/// `newton.grz`: the sum over `1..=n` of Newton's square root with `iters` iterations from `g = x`.
pub fn newton(n: i64, iters: i64) -> f64 {
    let mut acc = 0.0;
    for i in 1..=n {
        let x = i as f64;
        let mut g = x;
        for _ in 0..iters {
            g = (g + x / g) * 0.5;
        }
        acc += g;
    }
    acc
}
