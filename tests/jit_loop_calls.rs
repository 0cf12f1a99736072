//! Loops whose bodies call out (Rust helpers, compiled functions) on some paths
//! only: the loop parameters live in registers a call clobbers, so these check that
//! every call keeps them (`src/jit/codegen/homes.rs`). Each compares the JIT with the
//! interpreter and checks the values came from compiled code.
#![cfg(feature = "jit")]

mod jit_common;
use jit_common::*;

fn check(defs: &str, exprs: &[&str]) {
    let mut e = eager();
    let results = agree_each(&mut e, defs, exprs);
    assert_compiled_values(exprs, &results);
}

#[test]
fn a_helper_call_in_one_branch_of_a_loop() {
    // floor, pow and float % call Rust helpers; the other branch does not call.
    let defs = "\
CREATE FUNCTION fl(n, acc: float, x: float) { IF n == 0 { acc } ELSE { fl(n - 1, IF n % 3 == 0 { acc + floor(x) } ELSE { acc + x }, x * 1.25 + 0.5) } }
CREATE FUNCTION pw(n, a, b: float) { IF n <= 0 { a + b } ELSE { pw(n - 1, a + 1, IF a % 2 == 0 { pow(b, 0.5) + a } ELSE { b + 1.5 }) } }
CREATE FUNCTION fm(n, a: float, b: float, k) { IF n == 0 { a * 3.0 + b + k } ELSE { fm(n - 1, IF k > 3 { a % 7.5 } ELSE { a + b }, b + 0.25, k + 1 - n % 2) } }";
    check(
        defs,
        &["fl(40, 0.0, 1.0)", "pw(25, 0, 2.0)", "fm(50, 1.0, 2.0, 0)"],
    );
}

#[test]
fn a_compiled_call_in_one_if_arm_only() {
    let defs = "\
FUNCTION g(k) => k * 2 + 1
CREATE FUNCTION h(n, a, b) { IF n == 0 { a * 1000 + b } ELSE { h(n - 1, IF n % 2 == 0 { g(a) % 97 } ELSE { a + 3 }, b + a) } }
CREATE FUNCTION h2(n, a, b) { IF n == 0 { a * 1000 + b } ELSE { h2(n - 1, IF n % 2 == 0 { a + 3 } ELSE { g(a) % 97 }, b + a) } }
CREATE FUNCTION h3(n, a, b) { LET t = IF n % 3 == 0 { g(b) } ELSE { b }; IF n == 0 { a + t } ELSE { h3(n - 1, a + t % 11, b + 1) } }";
    check(
        defs,
        &["h(30, 1, 2)", "h(31, 5, 0)", "h2(30, 1, 2)", "h3(40, 0, 1)"],
    );
}

#[test]
fn calls_in_nested_ifs_and_conditions() {
    let defs = "\
FUNCTION sq(k) => k * k
CREATE FUNCTION nest(n, a, b, c) {
  IF n == 0 { a + b * 3 + c * 7 }
  ELSE {
    LET x = IF a % 2 == 0 { IF b > 10 { sq(b) % 13 } ELSE { b + 1 } } ELSE { IF c > 5 { c - 1 } ELSE { sq(c) % 7 + 2 } };
    nest(n - 1, b, c + x % 5, a + x)
  }
}
CREATE FUNCTION cnd(n, a, x: float) { IF n == 0 { a } ELSE { IF floor(x) > 3.0 AND sq(a) % 3 == 1 { cnd(n - 1, a + 2, x - 1.5) } ELSE { cnd(n - 1, a + 1, x + 2.0) } } }
CREATE FUNCTION mixed(n, a, b) { IF n == 0 { a - b } ELSE { IF sq(n) % 4 == 1 { mixed(n - 1, a + n, b) } ELSE { mixed(n - 1, a, b + sq(a) % 9) } } }";
    check(
        defs,
        &["nest(60, 1, 2, 3)", "cnd(50, 0, 1.0)", "mixed(45, 1, 1)"],
    );
}

#[test]
fn a_loop_of_more_parameters_than_homes_with_calls() {
    // Eight parameters: some live in registers, the others in their frame words only.
    let defs = "\
FUNCTION g(k) => k + 1
CREATE FUNCTION many(n, a, b, c, d, e, f, x: float) {
  IF n == 0 { a + b + c + d + e + f + floor(x) }
  ELSE { many(n - 1, b, c, IF n % 3 == 0 { g(d) } ELSE { d + 2 }, e, f, a + n % 4, IF n % 4 == 0 { floor(x) + 1.5 } ELSE { x + 1.0 }) }
}";
    check(defs, &["many(35, 1, 2, 3, 4, 5, 6, 0.5)"]);
}
