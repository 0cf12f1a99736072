#!/usr/bin/env bash
# Two grizzly binaries on the seven benchmark programs, paired run by run (A B A B
# ...): per program, each binary's median wall time and the median of the per-pair
# ratios B/A. For the cost of a change: A built before it, B after.
#   scripts/paired.sh A B [--jit on|off|eager]     (ROUNDS=9 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
a=${1:?usage: scripts/paired.sh A B [options]}
b=${2:?usage: scripts/paired.sh A B [options]}
shift 2
rounds=${ROUNDS:-9}
now() { date +%s%N; }
run() {
    local t0
    t0=$(now)
    "$1" run "$2" "${@:3}" >/dev/null
    echo $(( $(now) - t0 ))
}
printf '%-10s %10s %10s %8s\n' program "A ms" "B ms" "B/A"
for p in examples/bench/*.grz; do
    ta=() tb=() ratios=()
    for _ in $(seq "$rounds"); do
        x=$(run "$a" "$p" "$@")
        y=$(run "$b" "$p" "$@")
        ta+=("$x") tb+=("$y")
        ratios+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.4f", y / x }')")
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf '%-10s %10.1f %10.1f %8.3f\n' "$(basename "$p" .grz)" \
        "$(awk -v v="$(median "${ta[@]}")" 'BEGIN { print v / 1e6 }')" \
        "$(awk -v v="$(median "${tb[@]}")" 'BEGIN { print v / 1e6 }')" \
        "$(median "${ratios[@]}")"
done
