//! x86_64 kernels: the generic popcount loop compiled for POPCNT, and AVX2 versions of every
//! kernel (AVX2 is the baseline of the x86 CPUs this runs on; AVX-512 would need Rust 1.89,
//! above the workspace's `rust-version`).
//!
//! The kernels here are safe functions that run `#[target_feature]` code: they are reachable
//! only through the tables below, which [`supported`] hands out after detecting the features
//! (POPCNT for the first; AVX2 and POPCNT for the second, which uses POPCNT too).

mod binconv;
mod colour;
mod conv;
mod dot;
mod quantize;
mod resize;

use super::{generic, Kernels};

/// The generic kernels, with POPCNT doing the popcounts.
static POPCNT: Kernels = Kernels {
    name: "x86_64 popcnt",
    popcount_dots: binconv::popcount_dots_popcnt,
    window_sums: binconv::window_sums_popcnt,
    ..generic::TABLE
};

static AVX2: Kernels = Kernels {
    name: "x86_64 avx2",
    popcount_dots: binconv::popcount_dots,
    // every AVX2 CPU has POPCNT (checked all the same)
    window_sums: binconv::window_sums_popcnt,
    activate: binconv::activate,
    pack_planes: binconv::pack_planes,
    dot_i8: dot::dot_i8,
    dot_i16: dot::dot_i16,
    conv_direct: conv::conv_direct,
    quantize_row: quantize::quantize_row,
    resize_h: resize::resize_h,
    resize_v: resize::resize_v,
    yuyv_to_rgb: colour::yuyv_to_rgb,
    nv12_to_rgb: colour::nv12_to_rgb,
};

/// The tables this CPU runs, slowest first.
pub(super) fn supported() -> Vec<&'static Kernels> {
    let mut tables = Vec::new();
    if std::arch::is_x86_feature_detected!("popcnt") {
        tables.push(&POPCNT);
    }
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("popcnt")
    {
        tables.push(&AVX2);
    }
    tables
}
