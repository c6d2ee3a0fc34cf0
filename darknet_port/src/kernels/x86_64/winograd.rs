//! The generic Winograd transforms compiled for AVX-512 (the loops over 16 lanes one register
//! wide) and for AVX2 (two registers): the same operations in the same order.

use crate::kernels::{generic, Lanes};

pub(super) fn winograd_input_avx512(tiles: &[Lanes], points: &mut [Lanes]) {
    #[target_feature(enable = "avx512f")]
    fn body(tiles: &[Lanes], points: &mut [Lanes]) {
        generic::winograd_input_body(tiles, points);
    }
    // SAFETY: reachable only through the AVX-512 tables, handed out after AVX-512F was
    // detected.
    unsafe { body(tiles, points) }
}

pub(super) fn winograd_output_avx512(products: &[Lanes], outputs: &mut [Lanes]) {
    #[target_feature(enable = "avx512f")]
    fn body(products: &[Lanes], outputs: &mut [Lanes]) {
        generic::winograd_output_body(products, outputs);
    }
    // SAFETY: as above.
    unsafe { body(products, outputs) }
}

pub(super) fn winograd_input_avx2(tiles: &[Lanes], points: &mut [Lanes]) {
    #[target_feature(enable = "avx2")]
    fn body(tiles: &[Lanes], points: &mut [Lanes]) {
        generic::winograd_input_body(tiles, points);
    }
    // SAFETY: reachable only through the tables handed out after AVX2 was detected.
    unsafe { body(tiles, points) }
}

pub(super) fn winograd_output_avx2(products: &[Lanes], outputs: &mut [Lanes]) {
    #[target_feature(enable = "avx2")]
    fn body(products: &[Lanes], outputs: &mut [Lanes]) {
        generic::winograd_output_body(products, outputs);
    }
    // SAFETY: as above.
    unsafe { body(products, outputs) }
}
