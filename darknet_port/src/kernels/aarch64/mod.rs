//! aarch64 kernels with NEON (Advanced SIMD), which every AArch64 CPU has (the Cortex-A53 of
//! the Zynq UltraScale+ included) and the target enables: these kernels are plain functions;
//! only their loads and stores need `unsafe`.

mod binconv;
mod colour;
mod conv;
mod gemm;
mod gemm_i16;
mod jpeg;
mod quantize;
mod resize;

use super::Kernels;

static NEON: Kernels = Kernels {
    name: "aarch64 neon",
    popcount_dots: binconv::popcount_dots,
    window_sums: binconv::window_sums,
    activate: binconv::activate,
    pack_planes: binconv::pack_planes,
    gemm_i8: gemm::gemm_i8,
    // bytes widened to 16 bits: any weight
    gemm_i8_max_weight: super::GEMM_MAX_WEIGHT,
    gemm_i16: gemm_i16::gemm_i16,
    // INT8's product widens bytes for `smlal` too: Winograd's 2.25 times fewer products race it
    gemm_i16_i32: Some(gemm_i16::gemm_i16_i32),
    // matrixmultiply's NEON kernel
    sgemm_fma: None,
    // unused where there is no fused product
    winograd_min_tiles: 36,
    winograd_input: super::generic::winograd_input,
    winograd_output: super::generic::winograd_output,
    conv_direct: conv::conv_direct,
    quantize_row: quantize::quantize_row,
    resize_h: resize::resize_h,
    resize_v: resize::resize_v,
    resize_h_fused: resize::resize_h_fused,
    resize_v_fused: resize::resize_v_fused,
    yuyv_to_rgb: colour::yuyv_to_rgb,
    nv12_to_rgb: colour::nv12_to_rgb,
    idct_block: jpeg::idct_block,
    ycbcr_to_rgb: jpeg::ycbcr_to_rgb,
    upsample_h2v2: jpeg::upsample_h2v2,
    upsample_h2v1: jpeg::upsample_h2v1,
    // the generic tile walks, on NEON (the target's baseline) as compiled
    rescale_sums: super::generic::rescale_sums,
    quantize_hwc_u8: super::generic::quantize_hwc_u8,
    quantize_hwc_i16: super::generic::quantize_hwc_i16,
};

/// The tables this CPU runs, slowest first.
pub(super) fn supported() -> Vec<&'static Kernels> {
    if std::arch::is_aarch64_feature_detected!("neon") {
        vec![&NEON]
    } else {
        Vec::new()
    }
}
