#!/usr/bin/env bash
# The JIT on realistic UDF-style code: runs every examples/udf/*.grz with `--jit off`
# and `--jit on`, alternately, ROUNDS times each (default 3), checks that both modes
# (and `--jit eager`) print the same output, and prints one row per program: what
# `--jit on --stats` says (specializations compiled, functions refused, specializations
# discarded, fallback rate) and the median wall times in both modes.
#   scripts/udf-corpus.sh                  # the release build of this tree
#   scripts/udf-corpus.sh path/to/grizzly  # another build (to compare)
#   ROUNDS=5 scripts/udf-corpus.sh         # more rounds
# Exits 1 (and says which program) when a program fails or the modes disagree. After the
# table it lists every refusal reason seen, with the number of functions refused for it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/binary.sh
grizzly_binary "${1:-}"
rounds=${ROUNDS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------------------------------
# `--stats` parsing. Everything that depends on the statistics' format is here.
#
# Reads `grizzly run P --jit on --stats` stderr on stdin; prints one line
#   funcs compiled refused discarded fallback
# (fallback as printed, e.g. `47.4%` or `-`; `?` for a field the format did not give),
# and appends the refusal reasons, one `program<TAB>function<TAB>reason` line each, to
# the file $1. The format this expects (src/jit/status.rs):
#   "  f: 12 calls"                                   a function
#   "    f(int) -> int: compiled in 3.1 us, ..."      a compiled specialization
#   "    f(int) not compiled: REASON"                 refused for these argument types
#   "    not compiled for some calls: REASON"         refused for calls it cannot type
#   "    f(int) code dropped [N times]: CAUSE"        compiled code discarded
#   "totals: L specializations live (C compiled, D discarded); ... (fallback rate R)"
# A function counts as refused when it has at least one "not compiled" line. Reasons are
# normalized: numbers become N, and "calls g(..), which is not compiled: R" becomes
# "calls a refused function: R" (the root reason).
parse_stats() {
    local reasons=$1 program=$2
    awk -v reasons="$reasons" -v program="$program" '
        function normalize(r) {
            while (match(r, /^calls [A-Za-z_0-9]+\([^)]*\), which (calls [A-Za-z_0-9]+\([^)]*\), which )*is not compiled: /))
                r = "calls a refused function: " substr(r, RLENGTH + 1)
            gsub(/[0-9]+/, "N", r)
            return r
        }
        /^  [A-Za-z_][A-Za-z_0-9]*: [0-9]+ calls$/ {
            fn = $1; sub(/:$/, "", fn); funcs++; next
        }
        match($0, /^    ([A-Za-z_][A-Za-z_0-9]*\([^)]*\) not compiled|not compiled for some calls): /) {
            r = normalize(substr($0, RLENGTH + 1))
            if (!(fn in refused_fn)) { refused_fn[fn] = 1; refused++ }
            if (!((fn, r) in seen)) { seen[fn, r] = 1; printf "%s\t%s\t%s\n", program, fn, r >> reasons }
            next
        }
        /^totals:/ {
            if (match($0, /\([0-9]+ compiled, [0-9]+ discarded\)/)) {
                split(substr($0, RSTART + 1, RLENGTH - 2), p, /[ ,]+/)
                compiled = p[1]; discarded = p[3]
            }
            if (match($0, /fallback rate [^)]*\)/)) fallback = substr($0, RSTART + 14, RLENGTH - 15)
        }
        END {
            printf "%s %s %s %s %s\n", funcs + 0, compiled == "" ? "?" : compiled, refused + 0,
                discarded == "" ? "?" : discarded, fallback == "" ? "?" : fallback
        }'
}
# ---------------------------------------------------------------------------------------

# Runs `$bin run $1 --jit $2`: stdout and exit status to $3, wall time in microseconds
# (bash's EPOCHREALTIME, no extra process in the measurement) on stdout.
timed_run() {
    local t0 t1 rc=0
    t0=${EPOCHREALTIME/./}
    "$bin" run "$1" --jit "$2" >"$3" 2>"$3.err" || rc=$?
    t1=${EPOCHREALTIME/./}
    echo "exit status $rc" >>"$3"
    echo $((t1 - t0))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

fail() { echo "udf-corpus: $*" >&2; exit 1; }

programs=(examples/udf/*.grz)
[ -e "${programs[0]}" ] || fail "no programs in examples/udf"
reasons=$tmp/reasons
: >"$reasons"
fmt="%-16s %5s %8s %7s %9s %9s %8s %8s %8s\n"
printf "$fmt" program funcs compiled refused discarded fallback "off ms" "on ms" speedup
tot_funcs=0 tot_compiled=0 tot_refused=0 tot_discarded=0 tot_off=0 tot_on=0
for p in "${programs[@]}"; do
    name=$(basename "$p" .grz)
    : >"$tmp/off.times"
    : >"$tmp/on.times"
    for _ in $(seq "$rounds"); do
        timed_run "$p" off "$tmp/off.out" >>"$tmp/off.times"
        timed_run "$p" on "$tmp/on.out" >>"$tmp/on.times"
        grep -qx "exit status 0" "$tmp/off.out" ||
            fail "$name failed with --jit off: $(cat "$tmp/off.out.err")"
        cmp -s "$tmp/off.out" "$tmp/on.out" ||
            fail "$name prints differently with --jit on: $(diff "$tmp/off.out" "$tmp/on.out"; cat "$tmp/on.out.err")"
    done
    timed_run "$p" eager "$tmp/eager.out" >/dev/null
    cmp -s "$tmp/off.out" "$tmp/eager.out" ||
        fail "$name prints differently with --jit eager: $(diff "$tmp/off.out" "$tmp/eager.out"; cat "$tmp/eager.out.err")"
    "$bin" run "$p" --jit on --stats 2>"$tmp/stats" >/dev/null || fail "$name failed with --stats"
    read -r funcs compiled refused discarded fallback < <(parse_stats "$reasons" "$name" <"$tmp/stats")
    off=$(median <"$tmp/off.times")
    on=$(median <"$tmp/on.times")
    off_ms=$(awk -v t="$off" 'BEGIN { printf "%.1f", t / 1000 }')
    on_ms=$(awk -v t="$on" 'BEGIN { printf "%.1f", t / 1000 }')
    speedup=$(awk -v a="$off" -v b="$on" 'BEGIN { printf "%.2fx", a / b }')
    printf "$fmt" "$name" "$funcs" "$compiled" "$refused" "$discarded" "$fallback" "$off_ms" "$on_ms" "$speedup"
    tot_funcs=$((tot_funcs + funcs)) tot_refused=$((tot_refused + refused))
    [[ $compiled =~ ^[0-9]+$ ]] && tot_compiled=$((tot_compiled + compiled))
    [[ $discarded =~ ^[0-9]+$ ]] && tot_discarded=$((tot_discarded + discarded))
    tot_off=$(awk -v a="$tot_off" -v b="$off" 'BEGIN { print a + b }')
    tot_on=$(awk -v a="$tot_on" -v b="$on" 'BEGIN { print a + b }')
    echo "$off $on" >>"$tmp/speedups"
done
geomean=$(awk '{ s += log($1 / $2); n++ } END { printf "%.2fx", exp(s / n) }' "$tmp/speedups")
printf "$fmt" "total (${#programs[@]})" "$tot_funcs" "$tot_compiled" "$tot_refused" "$tot_discarded" "" \
    "$(awk -v t="$tot_off" 'BEGIN { printf "%.1f", t / 1000 }')" \
    "$(awk -v t="$tot_on" 'BEGIN { printf "%.1f", t / 1000 }')" \
    "$(awk -v a="$tot_off" -v b="$tot_on" 'BEGIN { printf "%.2fx", a / b }')"
echo "geometric mean of the speedups: $geomean (medians of $rounds rounds; all modes printed the same)"
if [ -s "$reasons" ]; then
    echo
    echo "refusal reasons (functions refused for each, over all programs):"
    cut -f3 "$reasons" | sort | uniq -c | sort -rn | sed 's/^ */  /'
fi
