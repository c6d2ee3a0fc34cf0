#!/usr/bin/env bash
# Builds the zynqdet binary that a Zynq UltraScale+ board (aarch64 Linux, Cortex-A53) runs, with
# Debian's Rust cross toolchain (see .ci/aarch64.sh for the packages), and prints its path.
#
# Usage: scripts/build-aarch64.sh [CARGO BUILD OPTIONS...]   e.g. --no-default-features
#   AARCH64_TARGET_DIR  where the build goes (default target/aarch64: its own directory, so the
#                       host's and Debian's compilers do not rebuild each other's artefacts)
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64-unknown-linux-gnu
# Debian's cargo and rustc, which carry the aarch64 standard library (the rustup toolchain here
# cannot add targets).
export PATH=/usr/bin:$PATH
export CARGO_TARGET_DIR="${AARCH64_TARGET_DIR:-target/aarch64}"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# No RTL co-simulation backend in aarch64 builds: pl_driver's build script would link the host's
# Verilator library into them (the board has the real accelerator).
export ZYNQDET_NO_RTL=1
# Scheduling for the board's in-order core; it adds no instructions that core lacks.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-cpu=cortex-a53"

cargo build --release --locked --target "$target" -p zynqdet "$@" >&2
echo "$CARGO_TARGET_DIR/$target/release/zynqdet"
