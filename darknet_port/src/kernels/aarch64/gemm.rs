//! The INT8 matrix product ([`GemmI8`](crate::kernels::GemmI8)) with NEON, for ARMv8.0 (the
//! Cortex-A53 has no `sdot`): bytes widened to i16, and `smlal`/`smlal2` by element (a vector
//! of 4 channels' weights times one input, into i32 lanes).
//!
//! The output is walked in blocks: up to [`BLOCK_GROUPS`] channel groups, whose packed weights
//! stay in L2 while every pixel passes by; within them a few pixels at a time against half a
//! group (8 channels), the block's sums held in registers over the whole span, so each weight
//! load feeds every pixel of the block. Each block's rows are widened once, into a buffer. The
//! rows hold `q + 128`; `128 * wsum[o]` comes off at the end, as in the generic kernel. Integer
//! sums, exact: the results are the generic ones.

use crate::kernels::{generic, GEMM_DEPTH, GEMM_GROUP, GEMM_OFFSET};
use std::arch::aarch64::*;

/// Channel groups a pass over the pixels reuses: 64 channels, 288 KiB of weights for a 3x3x512
/// span, within the Zynq UltraScale+'s 1 MiB L2 cache.
const BLOCK_GROUPS: usize = 4;

/// Pixels of a block: 6 pixels x 8 channels are 12 accumulators, with the 4 widened weight
/// vectors and 6 inputs 22 of the 32 registers.
const PIXELS: usize = 6;

/// The bytes of one step of a group's packed weights: 16 channels x 4 inputs.
const STEP: usize = GEMM_GROUP * GEMM_DEPTH;

pub(super) fn gemm_i8(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    generic::check_gemm_i8(rows, span, weights, wsum, acc);
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { gemm_neon(rows, span, weights, wsum, acc) }
}

/// Where a block's results go: `acc` holds its pixels' whole rows of `channels` sums, the block
/// writes channels `first..first + 8` of each.
struct Out<'a> {
    acc: &'a mut [i32],
    channels: usize,
    first: usize,
}

#[target_feature(enable = "neon")]
fn gemm_neon(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    let channels = wsum.len();
    let groups = channels / GEMM_GROUP;
    let pixels = rows.len() / span;
    let group_len = GEMM_GROUP * span;
    let mut wide = vec![0i16; PIXELS * span];
    for g0 in (0..groups).step_by(BLOCK_GROUPS) {
        let g1 = groups.min(g0 + BLOCK_GROUPS);
        for p in (0..pixels).step_by(PIXELS) {
            let n = (pixels - p).min(PIXELS);
            let wide = &mut wide[..n * span];
            for (x, &b) in wide.iter_mut().zip(&rows[p * span..][..n * span]) {
                *x = i16::from(b);
            }
            let acc = &mut acc[p * channels..][..n * channels];
            for g in g0..g1 {
                let weights = &weights[g * group_len..][..group_len];
                for half in 0..2 {
                    let first = g * GEMM_GROUP + half * GEMM_GROUP / 2;
                    let wsum = &wsum[first..][..GEMM_GROUP / 2];
                    let out = Out {
                        acc: &mut *acc,
                        channels,
                        first,
                    };
                    match n {
                        6 => block::<6>(wide, span, weights, half, wsum, out),
                        5 => block::<5>(wide, span, weights, half, wsum, out),
                        4 => block::<4>(wide, span, weights, half, wsum, out),
                        3 => block::<3>(wide, span, weights, half, wsum, out),
                        2 => block::<2>(wide, span, weights, half, wsum, out),
                        _ => block::<1>(wide, span, weights, half, wsum, out),
                    }
                }
            }
        }
    }
}

/// `P` widened pixels (`wide`, `P * span` values) against half a group (channels
/// `8 * half..` of the group's `weights`). `ld4` splits a step's 32 weight bytes (8 channels
/// x 4 inputs) into one vector per input, 8 channels each; widened, each meets every pixel's
/// input with one `smlal` (channels 0-3) and one `smlal2` (4-7).
#[target_feature(enable = "neon")]
fn block<const P: usize>(
    wide: &[i16],
    span: usize,
    weights: &[i8],
    half: usize,
    wsum: &[i32],
    out: Out,
) {
    assert!(wide.len() == P * span && weights.len() == GEMM_GROUP * span && half < 2);
    assert!(wsum.len() == GEMM_GROUP / 2 && out.acc.len() == P * out.channels);
    assert!(out.first + GEMM_GROUP / 2 <= out.channels);
    let (r, w) = (wide.as_ptr(), weights[half * STEP / 2..].as_ptr());
    let mut sums = [[vdupq_n_s32(0); 2]; P];
    for s in 0..span / GEMM_DEPTH {
        // SAFETY: half * 32 + s * 64 + 32 <= 16 * span = weights.len(), as s < span / 4.
        let k = unsafe { vld4_s8(w.add(s * STEP)) };
        let k = [vmovl_s8(k.0), vmovl_s8(k.1), vmovl_s8(k.2), vmovl_s8(k.3)];
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 4 + 4 <= P * span = wide.len().
            let x = unsafe { vld1_s16(r.add(i * span + s * GEMM_DEPTH)) };
            let [mut low, mut high] = *sums;
            low = vmlal_lane_s16::<0>(low, vget_low_s16(k[0]), x);
            high = vmlal_high_lane_s16::<0>(high, k[0], x);
            low = vmlal_lane_s16::<1>(low, vget_low_s16(k[1]), x);
            high = vmlal_high_lane_s16::<1>(high, k[1], x);
            low = vmlal_lane_s16::<2>(low, vget_low_s16(k[2]), x);
            high = vmlal_high_lane_s16::<2>(high, k[2], x);
            low = vmlal_lane_s16::<3>(low, vget_low_s16(k[3]), x);
            high = vmlal_high_lane_s16::<3>(high, k[3], x);
            *sums = [low, high];
        }
    }
    // SAFETY: `wsum` holds exactly 8 i32.
    let wsum = unsafe { [vld1q_s32(wsum.as_ptr()), vld1q_s32(wsum.as_ptr().add(4))] };
    let offset = vdupq_n_s32(GEMM_OFFSET);
    let taken = [vmulq_s32(wsum[0], offset), vmulq_s32(wsum[1], offset)];
    for (i, sums) in sums.iter().enumerate() {
        let at = i * out.channels + out.first;
        let dst = &mut out.acc[at..at + GEMM_GROUP / 2];
        // SAFETY: `dst` holds exactly 8 i32.
        unsafe {
            vst1q_s32(dst.as_mut_ptr(), vsubq_s32(sums[0], taken[0]));
            vst1q_s32(dst.as_mut_ptr().add(4), vsubq_s32(sums[1], taken[1]));
        }
    }
}
