//! Generated whole programs for the differential tests (`tests/differential.rs`).
//!
//! - [`program`]: what a generated case is (functions, calls), lowered to Grizzly's
//!   syntax tree;
//! - [`print`]: that tree as source text, in one of several surface styles;
//! - [`arbitrary`]: generation (quickcheck `Arbitrary`), with a size control;
//! - [`args`]: argument values biased to the edges, and wrong types;
//! - [`host`]: the host functions every engine registers, which programs call;
//! - [`interrupter`]: stopping a run at a random point (a thread, a deadline);
//! - [`shrink`]: shrinking to small readable counter-examples;
//! - [`run`]: running a case in every JIT mode and comparing the outcomes, and an
//!   interrupted run.
#![allow(dead_code)]

pub mod arbitrary;
pub mod args;
pub mod expr;
pub mod host;
pub mod interrupter;
pub mod print;
pub mod program;
pub mod run;
pub mod shrink;
pub mod typed;

pub use program::Case;

use quickcheck::{Arbitrary, Gen};
use std::fmt;

/// A uniform number in `0..n`. (`u32::arbitrary` gives 0, 1 or `u32::MAX` one time
/// in ten: skipped, or `below(g, 50) == 0` would hold one time in twenty.)
pub fn below(g: &mut Gen, n: u32) -> u32 {
    loop {
        let v = u32::arbitrary(g);
        if v > 1 && v < u32::MAX {
            return v % n.max(1);
        }
    }
}

pub fn pick<T: Clone>(g: &mut Gen, items: &[T]) -> T {
    g.choose(items).expect("non-empty").clone()
}

/// A well-mixed seed for case `i` of a run with seed `seed` (splitmix64), so that each
/// case can be generated alone.
pub fn case_seed(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Case `i` of the run with seed `seed`: sizes cycle through `1..=max_size`, so that
/// small programs come often.
pub fn case_at(seed: u64, i: u64, max_size: usize) -> Case {
    let size = 1 + (i as usize % max_size.max(1));
    let mut g = Gen::from_size_and_seed(size, case_seed(seed, i));
    Case::arbitrary(&mut g)
}

impl Case {
    /// The whole program as source: definitions, then one call per line.
    pub fn source(&self) -> String {
        print::program(&self.ast(), &self.program.style)
    }

    /// The definitions alone, as source.
    pub fn definitions(&self) -> String {
        print::program(&self.program.ast(), &self.program.style)
    }

    /// Each step as source (a call on one line, a definition maybe on several), and
    /// whether it is a call.
    pub fn step_lines(&self) -> Vec<(String, bool)> {
        self.step_items()
            .into_iter()
            .map(|item| {
                let call = matches!(item, grizzly::internals::syntax::ast::Item::Expr(_));
                let one = grizzly::internals::syntax::ast::Program { items: vec![item] };
                let text = print::program(&one, &self.program.style);
                (text.trim_end().to_string(), call)
            })
            .collect()
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        if self.max_depth != grizzly::engine::DEFAULT_MAX_DEPTH {
            writeln!(f, "# call-depth limit {}", self.max_depth)?;
        }
        if let Some(i) = &self.interrupt {
            writeln!(f, "{}", print::interrupt_comment(i))?;
        }
        f.write_str(&print::host_comments(&self.hosts()))?;
        f.write_str(&self.source())
    }
}
