//! The INT16 matrix product ([`GemmI16`](crate::kernels::GemmI16)) with NEON: `ld2` splits a
//! step's weights (8 channels x 2 inputs) into one vector per input; `smull`/`smlal` by a
//! scalar multiply them by the pixel's two inputs into a pair sum in i32, and `saddw` adds the
//! pair sums into i64 lanes at every step (two pair sums can overflow i32).
//!
//! Walked as the AVX2 kernel ([`walk_gemm_i16`]), two pixels a block. Integer sums, exact: the
//! results are the generic ones.
//!
//! The same product in i32 ([`GemmI16I32`](crate::kernels::GemmI16I32), for INT8's Winograd):
//! `smlal` adds each product into i32 lanes directly, four pixels a block.

use crate::kernels::{generic, walk_gemm_i16, GroupOut, GEMM_GROUP, GEMM_I16_DEPTH};
use std::arch::aarch64::*;

/// Pixels of a block: 2 pixels x 16 channels are 16 accumulators of 2 i64; with the step's 4
/// weight vectors and the pair sums, within the 32 registers.
const PIXELS: usize = 2;

/// The i16 of one step of a group's packed weights: 16 channels x 2 inputs.
const STEP: usize = GEMM_GROUP * GEMM_I16_DEPTH;

pub(super) fn gemm_i16(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]) {
    generic::check_gemm_i16(rows, span, weights, acc);
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { gemm_neon(rows, span, weights, acc) }
}

#[target_feature(enable = "neon")]
fn gemm_neon(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]) {
    walk_gemm_i16(
        (rows, span, weights, acc),
        PIXELS,
        |n, rows, weights, out| {
            // (the closure has the features of the function it is in)
            match n {
                2 => block::<2>(rows, span, weights, out),
                _ => block::<1>(rows, span, weights, out),
            }
        },
    );
}

/// `P` pixels (`rows`, `P * span` values) against one group (`weights`, `16 * span`):
/// `sums[i][q]` holds pixel `i`'s channels `2q, 2q + 1`.
#[target_feature(enable = "neon")]
fn block<const P: usize>(rows: &[i16], span: usize, weights: &[i16], out: GroupOut) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(out.acc.len() == P * out.channels && out.first + GEMM_GROUP <= out.channels);
    let w = weights.as_ptr();
    let mut sums = [[vdupq_n_s64(0); GEMM_GROUP / 2]; P];
    for s in 0..span / GEMM_I16_DEPTH {
        // SAFETY: s * 32 + 32 <= 16 * span = weights.len(), as s < span / 2.
        let halves = unsafe { [vld2q_s16(w.add(s * STEP)), vld2q_s16(w.add(s * STEP + 16))] };
        for (i, sums) in sums.iter_mut().enumerate() {
            let (x0, x1) = (rows[i * span + 2 * s], rows[i * span + 2 * s + 1]);
            for (h, k) in halves.iter().enumerate() {
                // channels 8h..8h + 4 and 8h + 4..8h + 8: each weight of input 0 times x0
                // plus its weight of input 1 times x1
                let low = vmlal_n_s16(vmull_n_s16(vget_low_s16(k.0), x0), vget_low_s16(k.1), x1);
                let high = vmlal_high_n_s16(vmull_high_n_s16(k.0, x0), k.1, x1);
                let q = &mut sums[4 * h..4 * h + 4];
                q[0] = vaddw_s32(q[0], vget_low_s32(low));
                q[1] = vaddw_high_s32(q[1], low);
                q[2] = vaddw_s32(q[2], vget_low_s32(high));
                q[3] = vaddw_high_s32(q[3], high);
            }
        }
    }
    for (i, sums) in sums.iter().enumerate() {
        let at = i * out.channels + out.first;
        let dst = &mut out.acc[at..at + GEMM_GROUP];
        for (q, &v) in sums.iter().enumerate() {
            // SAFETY: `dst` holds 16 i64: lanes 2q and 2q + 1 are within it.
            unsafe { vst1q_s64(dst.as_mut_ptr().add(2 * q), v) };
        }
    }
}

/// Pixels of a block of the i32 product: 4 pixels x 16 channels are 16 accumulators of 4 i32;
/// with the step's 4 weight vectors, within the 32 registers.
const NARROW_PIXELS: usize = 4;

pub(super) fn gemm_i16_i32(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]) {
    generic::check_gemm_i16(rows, span, weights, acc);
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { narrow_neon(rows, span, weights, acc) }
}

#[target_feature(enable = "neon")]
fn narrow_neon(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]) {
    walk_gemm_i16(
        (rows, span, weights, acc),
        NARROW_PIXELS,
        |n, rows, weights, out| {
            // (the closure has the features of the function it is in)
            match n {
                4 => narrow_block::<4>(rows, span, weights, out),
                3 => narrow_block::<3>(rows, span, weights, out),
                2 => narrow_block::<2>(rows, span, weights, out),
                _ => narrow_block::<1>(rows, span, weights, out),
            }
        },
    );
}

/// As [`block`], each weight times the pixel's input added straight into i32 lanes by `smlal`
/// (wrapping, as the generic kernel's sums do): `sums[i][q]` holds pixel `i`'s channels
/// `4q..4q + 4`.
#[target_feature(enable = "neon")]
fn narrow_block<const P: usize>(rows: &[i16], span: usize, weights: &[i16], out: GroupOut<i32>) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(out.acc.len() == P * out.channels && out.first + GEMM_GROUP <= out.channels);
    let w = weights.as_ptr();
    let mut sums = [[vdupq_n_s32(0); GEMM_GROUP / 4]; P];
    for s in 0..span / GEMM_I16_DEPTH {
        // SAFETY: s * 32 + 32 <= 16 * span = weights.len(), as s < span / 2.
        let halves = unsafe { [vld2q_s16(w.add(s * STEP)), vld2q_s16(w.add(s * STEP + 16))] };
        for (i, sums) in sums.iter_mut().enumerate() {
            let (x0, x1) = (rows[i * span + 2 * s], rows[i * span + 2 * s + 1]);
            for (h, k) in halves.iter().enumerate() {
                // channels 8h..8h + 4 and 8h + 4..8h + 8: input 0's weights times x0, then
                // input 1's times x1
                let low = vmlal_n_s16(sums[2 * h], vget_low_s16(k.0), x0);
                sums[2 * h] = vmlal_n_s16(low, vget_low_s16(k.1), x1);
                let high = vmlal_high_n_s16(sums[2 * h + 1], k.0, x0);
                sums[2 * h + 1] = vmlal_high_n_s16(high, k.1, x1);
            }
        }
    }
    for (i, sums) in sums.iter().enumerate() {
        let at = i * out.channels + out.first;
        let dst = &mut out.acc[at..at + GEMM_GROUP];
        for (q, &v) in sums.iter().enumerate() {
            // SAFETY: `dst` holds 16 i32: lanes 4q..4q + 4 are within it.
            unsafe { vst1q_s32(dst.as_mut_ptr().add(4 * q), v) };
        }
    }
}
