//! x86_64 kernels: the generic popcount loop compiled for POPCNT, AVX2 versions of every kernel
//! (AVX2 is the baseline of the x86 CPUs this runs on), the float product with fused
//! multiply-adds (FMA on AVX2, and AVX-512), the INT16 matrix product with AVX2 (`vpmaddwd`;
//! the AVX-512 tables keep it; summed in i32 for INT8's Winograd in the tables without VNNI),
//! and the INT8 matrix product with AVX2
//! (`vpmaddubsw`, exact for 6-bit weights: wider ones come split in two), AVX-VNNI and AVX-512 VNNI
//! (`vpdpbusd`, whose layout [`GemmI8`](super::GemmI8) has; the intrinsics are stable since
//! Rust 1.89, the workspace's `rust-version`).
//!
//! The kernels here are safe functions that run `#[target_feature]` code: they are reachable
//! only through the tables below, which [`supported`] hands out after detecting the features
//! (POPCNT for the first; AVX2 and POPCNT for the second, which uses POPCNT too; FMA on top of
//! those for the third; AVX-VNNI on top of the third's for the fourth, AVX-512F for the fifth;
//! AVX-512BW and AVX-512 VNNI on top of the fifth's for the sixth). Each table keeps the
//! entries of the one it is built on that it does not replace.

mod binconv;
mod colour;
mod conv;
mod gemm;
mod gemm_i16;
mod jpeg;
mod levels;
mod quantize;
mod rescale;
mod resize;
mod sgemm;
mod winograd;

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
    gemm_i8: gemm::gemm_i8_avx2,
    gemm_i8_max_weight: gemm::AVX2_MAX_WEIGHT,
    gemm_i16: gemm_i16::gemm_i16,
    // INT8's 3x3 layers by Winograd on it: no VNNI here
    gemm_i16_i32: Some(gemm_i16::gemm_i16_i32),
    // matrixmultiply's AVX2/FMA kernel
    sgemm_fma: None,
    // used only with the fused product
    winograd_min_tiles: 36,
    winograd_input: generic::winograd_input,
    winograd_output: generic::winograd_output,
    conv_direct: conv::conv_direct,
    quantize_row: quantize::quantize_row,
    resize_h: resize::resize_h,
    resize_v: resize::resize_v,
    // without FMA in the table's features, `f32::mul_add`'s exact rounding
    resize_h_fused: generic::resize_h_fused,
    resize_v_fused: generic::resize_v_fused,
    yuyv_to_rgb: colour::yuyv_to_rgb,
    nv12_to_rgb: colour::nv12_to_rgb,
    idct_block: jpeg::idct_block,
    ycbcr_to_rgb: jpeg::ycbcr_to_rgb,
    upsample_h2v2: jpeg::upsample_h2v2,
    upsample_h2v1: jpeg::upsample_h2v1,
    rescale_sums: rescale::rescale_sums,
    quantize_hwc_u8: levels::quantize_hwc_u8,
    quantize_hwc_i16: levels::quantize_hwc_i16,
};

/// The AVX2 table with the float product on FMA.
static AVX2_FMA: Kernels = Kernels {
    name: "x86_64 avx2-fma",
    sgemm_fma: Some(sgemm::sgemm_fma_avx2),
    winograd_min_tiles: 16,
    winograd_input: winograd::winograd_input_avx2,
    winograd_output: winograd::winograd_output_avx2,
    resize_h_fused: resize::resize_h_fused,
    resize_v_fused: resize::resize_v_fused,
    ..AVX2
};

/// The AVX2 and FMA table with the INT8 product on AVX-VNNI.
static AVX_VNNI: Kernels = Kernels {
    name: "x86_64 avx-vnni",
    gemm_i8: gemm::gemm_i8_avx_vnni,
    gemm_i8_max_weight: super::GEMM_MAX_WEIGHT,
    // `vpdpbusd`: 32 products a multiply, on the direct taps
    gemm_i16_i32: None,
    ..AVX2_FMA
};

/// The AVX2 and FMA table with the float product on AVX-512.
static AVX512: Kernels = Kernels {
    name: "x86_64 avx512",
    sgemm_fma: Some(sgemm::sgemm_fma_avx512),
    winograd_min_tiles: 36,
    winograd_input: winograd::winograd_input_avx512,
    winograd_output: winograd::winograd_output_avx512,
    ..AVX2_FMA
};

/// The AVX-512 table with the INT8 matrix product on AVX-512 VNNI.
static AVX512_VNNI: Kernels = Kernels {
    name: "x86_64 avx512-vnni",
    gemm_i8: gemm::gemm_i8_vnni,
    gemm_i8_max_weight: super::GEMM_MAX_WEIGHT,
    gemm_i16_i32: None,
    ..AVX512
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
        if std::arch::is_x86_feature_detected!("fma") {
            tables.push(&AVX2_FMA);
            if std::arch::is_x86_feature_detected!("avxvnni") {
                tables.push(&AVX_VNNI);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                tables.push(&AVX512);
                if std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
                {
                    tables.push(&AVX512_VNNI);
                }
            }
        }
    }
    tables
}
