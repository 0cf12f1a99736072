#!/usr/bin/env bash
# Compile latency as `--stats` reports it: each of the seven benchmark programs run
# in eager mode in a fresh process, ROUNDS times; prints every specialization's
# compile time and the median over all of them.
#   scripts/compile-times.sh                 # the release build of this tree
#   scripts/compile-times.sh path/to/grizzly # another build (to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/binary.sh
grizzly_binary "${1:-}"
rounds=${ROUNDS:-5}
for r in $(seq "$rounds"); do
    for p in examples/bench/*.grz; do
        "$bin" run "$p" --jit eager --stats 2>&1 >/dev/null |
            sed -n "s/^ *\([a-z_0-9]*\)(.*compiled in \([0-9.]*\) us.*/\1 \2/p"
    done
done | sort -k2 -n | awk '{ t[NR] = $2 } END {
    if (NR == 0) { print "no compile times"; exit 1 }
    m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    printf "%d compiles: median %.1f us, min %.1f us, max %.1f us\n", NR, m, t[1], t[NR]
}'
