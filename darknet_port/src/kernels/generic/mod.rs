//! The portable kernels: plain Rust, the reference of every SIMD version. Written for clarity
//! first; loops run along contiguous memory so the compiler can vectorise them where that keeps
//! the order of operations.

mod binconv;
mod colour;
mod conv;
mod dot;
mod jpeg;
mod levels;
mod quantize;
mod rescale;
mod resize;
mod sgemm;
mod winograd;

pub use binconv::{activate, pack_planes, popcount_dots, window_sums};
pub use colour::{nv12_to_rgb, yuv_to_rgb, yuyv_to_rgb};
pub use conv::conv_direct;
pub use dot::{gemm_i16, gemm_i16_i32, gemm_i8};
pub use jpeg::{idct_block, upsample_h2v1, upsample_h2v2, ycbcr_to_rgb};
pub use levels::{quantize_hwc_i16, quantize_hwc_u8};
pub use quantize::{level, quantize_row};
pub use rescale::rescale_sums;
pub use resize::{resize_h, resize_h_fused, resize_v, resize_v_fused};
pub use sgemm::sgemm_fma;
pub use winograd::{winograd_input, winograd_output};

use super::Kernels;

pub(super) const TABLE: Kernels = Kernels {
    name: "generic",
    popcount_dots,
    window_sums,
    activate,
    pack_planes,
    gemm_i8,
    gemm_i8_max_weight: super::GEMM_MAX_WEIGHT,
    gemm_i16,
    // gemm_i8 needs a third of its multiplies
    gemm_i16_i32: None,
    // correct but slow: on CPUs without a table of their own, matrixmultiply is faster
    sgemm_fma: None,
    winograd_min_tiles: 36,
    winograd_input,
    winograd_output,
    conv_direct,
    quantize_row,
    resize_h,
    resize_v,
    resize_h_fused,
    resize_v_fused,
    yuyv_to_rgb,
    nv12_to_rgb,
    idct_block,
    ycbcr_to_rgb,
    upsample_h2v2,
    upsample_h2v1,
    rescale_sums,
    quantize_hwc_u8,
    quantize_hwc_i16,
};

// The argument checks and shared pieces the SIMD versions reuse (unused where no architecture
// folder is compiled in).
#[allow(unused_imports)]
pub(crate) use binconv::{
    check_activate, check_pack, check_popcount, check_sums, popcount_dots_body, window_sums_body,
};
#[allow(unused_imports)]
pub(crate) use colour::{check_nv12, check_yuyv};
#[allow(unused_imports)]
pub(crate) use conv::{check_conv, conv_span, ConvDims};
#[allow(unused_imports)]
pub(crate) use dot::{check_gemm_i16, check_gemm_i8};
#[allow(unused_imports)]
pub(crate) use jpeg::{
    check_idct, check_upsample, check_ycbcr, fix as jpeg_fix, upsample_h2v1_columns,
    upsample_h2v2_columns, COLUMN_BIAS, ROW_BIAS,
};
#[allow(unused_imports)]
pub(crate) use levels::{check_levels, level_of};
#[allow(unused_imports)]
pub(crate) use quantize::check_quantize;
#[allow(unused_imports)]
pub(crate) use rescale::{check_rescale, rescaled, sums_into_planes};
#[allow(unused_imports)]
pub(crate) use resize::{check_resize_h, fused, separate};
#[allow(unused_imports)]
pub(crate) use sgemm::check_sgemm_fma;
#[allow(unused_imports)]
pub(crate) use winograd::{winograd_input_body, winograd_output_body};
