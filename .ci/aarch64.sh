#!/usr/bin/env bash
# CI for the board's target: installs Debian's aarch64 Rust cross toolchain and qemu, cross-builds
# the whole workspace, runs its tests under qemu-aarch64 (the NEON kernels against their scalar
# twins among them), and checks the board binary's detections on dog.jpg with and without SIMD.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive CARGO_TERM_COLOR=never
# rustc-web, cargo-web, libstd-rust-web-dev:arm64: a Rust compiler with the aarch64 standard
# library; rust-web-clippy: its clippy; the cross linker and libc; qemu-aarch64.
apt_packages=(rustc-web cargo-web libstd-rust-web-dev:arm64 rust-web-clippy gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross qemu-user)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    # Other jobs on the machine may hold the apt lock: wait for it rather than fail.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

target=aarch64-unknown-linux-gnu
export PATH=/usr/bin:$PATH
export CARGO_TARGET_DIR="${AARCH64_TARGET_DIR:-target/aarch64}"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# No RTL co-simulation backend in aarch64 builds: pl_driver's build script would link the host's
# Verilator library into them (the board has the real accelerator).
export ZYNQDET_NO_RTL=1
# qemu-aarch64 finds the multiarch /lib/ld-linux-aarch64.so.1 by itself. No `-L` and no
# QEMU_LD_PREFIX: they pair the cross package's ld.so with the multiarch libc, and every program
# that starts a thread then spins forever.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64
unset QEMU_LD_PREFIX

cargo build --locked --workspace --all-targets --target "$target"
# The architecture-specific code lives in darknet_port's kernels.
cargo clippy --locked -p darknet_port --all-targets --target "$target" -- -D warnings

# Every test but the app's integration tests (app/tests/), which start the zynqdet binary
# themselves: with no binfmt_misc here, the kernel cannot exec an aarch64 child. The board
# binary is run under qemu below instead.
cargo test --locked --target "$target" -p darknet_port -p pl_driver -p system-tests
cargo test --locked --target "$target" -p zynqdet --lib --bins

# The board binary on dog.jpg: the reference's detections, with the NEON kernels and with the
# generic ones.
bin=$(scripts/build-aarch64.sh)
want=$'dog: 86%\t(110, 237)-(348, 546)\ncar: 86%\t(382, 116)-(761, 155)\nbicycle: 78%\t(78, 72)-(564, 497)'
for force in 0 1; do
    got=$(ZYNQDET_FORCE_GENERIC=$force qemu-aarch64 "$bin" detect samples/dog.jpg --backend cpu \
        | tail -n +2)
    if [ "$got" != "$want" ]; then
        echo "aarch64 zynqdet (ZYNQDET_FORCE_GENERIC=$force) on dog.jpg:" >&2
        echo "$got" >&2
        echo "expected:" >&2
        echo "$want" >&2
        exit 1
    fi
done
echo "aarch64: dog.jpg gives the reference's detections with NEON and with the generic kernels"
