# Sourced by the measuring scripts: sets `bin` to the grizzly binary to measure, the
# one named by the script's first argument, or else the release build of this tree
# (built now). Run from the repository's root.
grizzly_binary() {
    bin=${1:-}
    if [ -z "$bin" ]; then
        cargo build --quiet --release
        bin=target/release/grizzly
    fi
    [ -x "$bin" ] || { echo "$0: $bin is not an executable" >&2; exit 2; }
}
