#!/usr/bin/env bash
# The performance report: runs the criterion benches (`programs`: the seven
# programs in the interpreter, the JIT and native Rust; `jit`: compile latency,
# call overhead and batch calls), then prints the tables with ratios and the
# machine they came from (`examples/perf_report.rs`). About ten minutes on two
# cores; the numbers are criterion's medians of this one run.
#
#   scripts/perf-report.sh            # everything
#   scripts/perf-report.sh > report.md
set -euo pipefail
cd "$(dirname "$0")/.."
# Criterion's own output goes to stderr: stdout is the report alone.
cargo bench --bench programs >&2
cargo bench --bench jit >&2
cargo run --quiet --release --example perf_report
