SUMMARY = "zynqdet: real-time object detection with the W1A3 engine in the PL"
DESCRIPTION = "The zynqdet binary (camera in, detections drawn on the DisplayPort monitor), \
built with cargo from this repository, and its start at boot."
LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = " \
    file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302 \
    file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10 \
"

# The source: the repository this layer sits in (conf/layer.conf sets ZYNQDET_REPO).
inherit externalsrc
EXTERNALSRC = "${ZYNQDET_REPO}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"

inherit cargo
# The crates Cargo.lock names, for the crate fetcher; scripts/yocto-crates.sh writes the list.
require zynqdet-crates.inc
require zynqdet-files.inc

# Rust 1.89 or newer (the workspace's rust-version): see petalinux/README.md.
CARGO_SRC_DIR = "app"
# No RTL co-simulation backend on the board (pl_driver's build script would look for Verilator).
export ZYNQDET_NO_RTL = "1"
# Scheduling for the boards' Cortex-A53; it adds no instructions that core lacks.
RUSTFLAGS:append = " -C target-cpu=cortex-a53"

# camera: V4L2 cameras, through ioctls written out in the source (no bindgen, no extra
# dependencies); turning it off gives a binary for recordings and images only.
PACKAGECONFIG ??= "camera"
PACKAGECONFIG[camera] = ",,"
EXTRA_CARGO_FLAGS += "${@bb.utils.contains('PACKAGECONFIG', 'camera', '', '--no-default-features', d)}"

do_install:append() {
    install_zynqdet_files
}
