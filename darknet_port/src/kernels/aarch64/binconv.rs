//! The binarized convolution's inner loops with NEON: `cnt` counts the bits of each byte.

use crate::kernels::generic;
use crate::kernels::BIN_GROUP;
use std::arch::aarch64::*;

/// Activation bits the byte counters take: a word's weighted count reaches 8 * (2^bits - 1)
/// in one byte, which must stay below 256.
const MAX_BITS: usize = 5;

/// Eight channels in four vectors of two u64 lanes, one group of channels at a time over the
/// row of pixels: `cnt` of `window & kernel`, shifted left by the plane's bit, adds up in bytes
/// over as many words as a byte holds, then widens pairwise into u32 lanes (`uadalp`).
pub(super) fn popcount_dots(
    windows: &[u64],
    bits: usize,
    span: usize,
    weights: &[u64],
    acc: &mut [i32],
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { popcount_dots_neon(windows, bits, span, weights, acc) }
}

#[target_feature(enable = "neon")]
fn popcount_dots_neon(windows: &[u64], bits: usize, span: usize, weights: &[u64], acc: &mut [i32]) {
    let channels = generic::check_popcount(windows, bits, span, weights, acc);
    if bits > MAX_BITS {
        // Wider levels would overflow the byte counters; no model at hand has them.
        generic::popcount_dots(windows, bits, span, weights, acc);
        return;
    }
    let per_pixel = bits * span;
    let words_per_flush = 255 / (8 * ((1 << bits) - 1));
    let shifts: [int8x16_t; MAX_BITS] = std::array::from_fn(|b| vdupq_n_s8(b as i8));
    for (g, group) in weights.chunks_exact(span * BIN_GROUP).enumerate() {
        for (p, window) in windows.chunks_exact(per_pixel).enumerate() {
            let mut wide = [vdupq_n_u32(0); 4];
            let mut s0 = 0;
            while s0 < span {
                let s1 = span.min(s0 + words_per_flush);
                let mut bytes = [vdupq_n_u8(0); 4];
                for s in s0..s1 {
                    // SAFETY: s < span, so words s*8 .. s*8 + 8 lie in the group's span * 8.
                    let k = unsafe {
                        let at = group.as_ptr().add(s * BIN_GROUP);
                        [
                            vld1q_u64(at),
                            vld1q_u64(at.add(2)),
                            vld1q_u64(at.add(4)),
                            vld1q_u64(at.add(6)),
                        ]
                    };
                    for (b, shift) in shifts.iter().enumerate().take(bits) {
                        let a = vdupq_n_u64(window[b * span + s]);
                        for (count, k) in bytes.iter_mut().zip(k) {
                            let ones = vcntq_u8(vreinterpretq_u8_u64(vandq_u64(a, k)));
                            *count = vaddq_u8(*count, vshlq_u8(ones, *shift));
                        }
                    }
                }
                for (w, count) in wide.iter_mut().zip(bytes) {
                    *w = vpadalq_u16(*w, vpaddlq_u8(count));
                }
                s0 = s1;
            }
            let out = &mut acc[p * channels + g * BIN_GROUP..][..BIN_GROUP];
            for (pair, w) in out.chunks_exact_mut(2).zip(wide) {
                // the two u64 lanes are the two channels' counts
                let sums = vpaddlq_u32(w);
                pair[0] = vgetq_lane_u64::<0>(sums) as i32;
                pair[1] = vgetq_lane_u64::<1>(sums) as i32;
            }
        }
    }
}

/// Two words a vector: `cnt` per byte, widened pairwise up to the two words' counts.
pub(super) fn window_sums(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { window_sums_neon(windows, bits, span, sums) }
}

#[target_feature(enable = "neon")]
fn window_sums_neon(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
    generic::check_sums(windows, bits, span, sums);
    let pairs = span / 2;
    for (p, sum) in sums.iter_mut().enumerate() {
        let window = &windows[p * bits * span..(p + 1) * bits * span];
        let mut total = 0i32;
        for (b, plane) in window.chunks_exact(span).enumerate() {
            let mut wide = vdupq_n_u16(0);
            for i in 0..pairs {
                // SAFETY: 2i + 2 <= span, the plane's length.
                let v = unsafe { vld1q_u64(plane.as_ptr().add(2 * i)) };
                wide = vpadalq_u8(wide, vcntq_u8(vreinterpretq_u8_u64(v)));
                if i % 2048 == 2047 {
                    // u16 lanes gather 16 counts of at most 8 a step: widen before they fill
                    total += (vaddlvq_u16(wide) as i32) << b;
                    wide = vdupq_n_u16(0);
                }
            }
            let odd = if span % 2 == 1 {
                plane[span - 1].count_ones()
            } else {
                0
            };
            total += ((vaddlvq_u16(wide) + odd) as i32) << b;
        }
        *sum = total;
    }
}

pub(super) fn activate(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    n: usize,
    flip: &[i32],
    levels: &mut [u8],
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { activate_neon(neg, sums, thresholds, n, flip, levels) }
}

#[target_feature(enable = "neon")]
fn activate_neon(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    n: usize,
    flip: &[i32],
    levels: &mut [u8],
) {
    let channels = generic::check_activate(neg, sums, thresholds, n, flip, levels);
    for (p, &sum) in sums.iter().enumerate() {
        let sum = vdupq_n_s32(sum);
        for o in (0..channels).step_by(4) {
            // SAFETY: o + 4 <= channels (a multiple of 8); neg holds sums.len() * channels
            // values, flip channels and thresholds channels * n (checked just above).
            let lanes = unsafe {
                let neg = vld1q_s32(neg.as_ptr().add(p * channels + o));
                let acc = vsubq_s32(sum, vaddq_s32(neg, neg));
                let mut level = vdupq_n_s32(n as i32);
                let group = thresholds
                    .as_ptr()
                    .add(o / BIN_GROUP * n * BIN_GROUP + o % BIN_GROUP);
                for t in 0..n {
                    let th = vld1q_s32(group.add(t * BIN_GROUP));
                    // all ones (-1) where the threshold is above the accumulator
                    level = vaddq_s32(level, vreinterpretq_s32_u32(vcgtq_s32(th, acc)));
                }
                veorq_s32(level, vld1q_s32(flip.as_ptr().add(o)))
            };
            let out = &mut levels[p * channels + o..][..4];
            out[0] = vgetq_lane_s32::<0>(lanes) as u8;
            out[1] = vgetq_lane_s32::<1>(lanes) as u8;
            out[2] = vgetq_lane_s32::<2>(lanes) as u8;
            out[3] = vgetq_lane_s32::<3>(lanes) as u8;
        }
    }
}

/// 16 channels a vector: `cmtst` marks the bytes whose bit `b` is set, each mark keeps its
/// channel's bit of a byte (1, 2, 4, ... 128), and the sum of each half is eight bits of the
/// plane.
pub(super) fn pack_planes(levels: &[u8], bits: usize, planes: &mut [u64]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { pack_planes_neon(levels, bits, planes) }
}

#[target_feature(enable = "neon")]
fn pack_planes_neon(levels: &[u8], bits: usize, planes: &mut [u64]) {
    generic::check_pack(levels, bits, planes);
    let words = levels.len().div_ceil(64);
    let weights: [u8; 16] = std::array::from_fn(|i| 1 << (i % 8));
    // SAFETY: `weights` is 16 bytes.
    let weights = unsafe { vld1q_u8(weights.as_ptr()) };
    for word in 0..words {
        let mut plane_words = [0u64; 8];
        for quarter in 0..4 {
            let start = word * 64 + quarter * 16;
            if start >= levels.len() {
                break;
            }
            let mut chunk = [0u8; 16];
            let take = (levels.len() - start).min(16);
            chunk[..take].copy_from_slice(&levels[start..start + take]);
            // SAFETY: `chunk` is 16 bytes.
            let v = unsafe { vld1q_u8(chunk.as_ptr()) };
            for (b, w) in plane_words.iter_mut().enumerate().take(bits) {
                let marked = vandq_u8(vtstq_u8(v, vdupq_n_u8(1 << b)), weights);
                let low = u64::from(vaddv_u8(vget_low_u8(marked)));
                let high = u64::from(vaddv_u8(vget_high_u8(marked)));
                *w |= (low | high << 8) << (quarter * 16);
            }
        }
        for (b, &w) in plane_words.iter().enumerate().take(bits) {
            planes[b * words + word] = w;
        }
    }
}
