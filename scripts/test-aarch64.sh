#!/usr/bin/env bash
# The whole test suite for aarch64-unknown-linux-gnu, cross-compiled on an x86-64 Debian
# machine and run under qemu-user. Installs what it needs (root or sudo).
#   scripts/test-aarch64.sh                      # cargo test, every test
#   scripts/test-aarch64.sh --test golden        # arguments go to cargo test
#   scripts/test-aarch64.sh bench --bench programs   # cargo bench under qemu
# A64_TARGET_DIR moves the build directory (default target/aarch64-qemu).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! [ -x /usr/bin/rustc ] || ! command -v qemu-aarch64 >/dev/null ||
    ! command -v aarch64-linux-gnu-gcc >/dev/null ||
    ! dpkg -s libstd-rust-web-dev:arm64 >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo dpkg --add-architecture arm64
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
        rustc-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
fi

# Debian's rustc (1.96) has the AArch64 standard library; rustup's has not.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# `-L /`, not `-L /usr/aarch64-linux-gnu`: libstd-rust-web-dev:arm64 installs Debian's
# arm64 glibc in /lib/aarch64-linux-gnu, and qemu would then load the cross toolchain's
# ld.so with that libc.so.6, a mix that spins forever in the first thread spawn.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /"
# The tests that start the `grizzly` binary themselves (tests/bin_common) need it too.
export GRIZZLY_TEST_RUNNER="$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"
export CARGO_TARGET_DIR="${A64_TARGET_DIR:-target/aarch64-qemu}"
# Tests that time something (tests/interrupt_latency.rs) skip their bounds: emulated
# time says nothing about the engine.
export GRIZZLY_EMULATED=1
# Emulated unoptimised code is slow (the 5,000 generated programs take 17 minutes):
# optimise the test build, keeping debug assertions and overflow checks on.
export CARGO_PROFILE_DEV_OPT_LEVEL="${A64_OPT_LEVEL:-2}" CARGO_PROFILE_DEV_DEBUG="${A64_DEBUG:-line-tables-only}"

if [ "${1:-}" = bench ]; then
    shift
    cargo bench --target aarch64-unknown-linux-gnu "$@"
else
    cargo test --target aarch64-unknown-linux-gnu "$@"
fi
