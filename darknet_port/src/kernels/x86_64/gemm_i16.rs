//! The INT16 matrix product ([`GemmI16`](crate::kernels::GemmI16)) with AVX2: `vpmaddwd`
//! multiplies a pixel's pair of inputs (one i32, broadcast) by 8 channels' pairs of weights and
//! adds each pair into i32. The pair sums are widened to i64 at every step: two of them can
//! overflow i32.
//!
//! The output is walked as [`walk_gemm_i16`] does (a group's packed weights, 144 KiB for a
//! 3x3x512 span, in L2 while every pixel passes by), so each weight load feeds every pixel of
//! a block and each input broadcast the 16 channels. Integer sums, so the order of the
//! additions changes nothing: the results are the generic ones.

use crate::kernels::{generic, walk_gemm_i16, GroupOut, GEMM_GROUP, GEMM_I16_DEPTH};
use std::arch::x86_64::*;

/// Pixels of a block: 2 pixels x 16 channels are 8 accumulators of 4 i64; with the step's two
/// weight vectors, the broadcast input and the widening's temporaries, within the 16 registers.
const PIXELS: usize = 2;

/// The i16 of one step of a group's packed weights: 16 channels x 2 inputs.
const STEP: usize = GEMM_GROUP * GEMM_I16_DEPTH;

pub(super) fn gemm_i16(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]) {
    generic::check_gemm_i16(rows, span, weights, acc);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { avx2(rows, span, weights, acc) }
}

#[target_feature(enable = "avx2")]
fn avx2(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]) {
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

/// `P` pixels (`rows`, `P * span` values) against one group (`weights`, `16 * span`): each
/// step loads the group's 32 weights as two registers (channels 0-7 and 8-15, two inputs each)
/// and broadcasts each pixel's two inputs once, for `2 * P` `vpmaddwd`.
#[target_feature(enable = "avx2")]
fn block<const P: usize>(rows: &[i16], span: usize, weights: &[i16], out: GroupOut) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(out.acc.len() == P * out.channels && out.first + GEMM_GROUP <= out.channels);
    let (r, w) = (rows.as_ptr(), weights.as_ptr());
    // sums[i][2h], sums[i][2h + 1]: pixel i's channels 8h + (0, 1, 4, 5) and 8h + (2, 3, 6, 7),
    // the order in which unpacking a vector of 8 i32 leaves them
    let mut sums = [[_mm256_setzero_si256(); 4]; P];
    for s in 0..span / GEMM_I16_DEPTH {
        // SAFETY: s * 32 + 32 <= 16 * span = weights.len(), as s < span / 2; unaligned loads
        // are allowed.
        let wv = unsafe { [0, 16].map(|at| _mm256_loadu_si256(w.add(s * STEP + at).cast())) };
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 2 + 2 <= P * span = rows.len().
            let x = unsafe {
                r.add(i * span + s * GEMM_I16_DEPTH)
                    .cast::<i32>()
                    .read_unaligned()
            };
            let x = _mm256_set1_epi32(x);
            for (h, &v) in wv.iter().enumerate() {
                let pairs = _mm256_madd_epi16(x, v);
                // each pair sum next to its sign: 4 i64 in each of the two unpacked halves
                let sign = _mm256_srai_epi32::<31>(pairs);
                let (low, high) = (
                    _mm256_unpacklo_epi32(pairs, sign),
                    _mm256_unpackhi_epi32(pairs, sign),
                );
                sums[2 * h] = _mm256_add_epi64(sums[2 * h], low);
                sums[2 * h + 1] = _mm256_add_epi64(sums[2 * h + 1], high);
            }
        }
    }
    for (i, sums) in sums.iter().enumerate() {
        for h in 0..2 {
            let (a, b) = (sums[2 * h], sums[2 * h + 1]);
            // (0, 1, 4, 5) and (2, 3, 6, 7) back to 0..4 and 4..8
            let quarters = [
                _mm256_permute2x128_si256::<0x20>(a, b),
                _mm256_permute2x128_si256::<0x31>(a, b),
            ];
            for (q, v) in quarters.into_iter().enumerate() {
                let at = i * out.channels + out.first + h * 8 + q * 4;
                let dst = &mut out.acc[at..at + 4];
                // SAFETY: `dst` holds exactly 4 i64.
                unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), v) };
            }
        }
    }
}

/// Pixels of a block of the i32 product: 6 pixels x 16 channels are 12 accumulators; with
/// the step's two weight vectors and the broadcast input, 15 of the 16 registers.
const NARROW_PIXELS: usize = 6;

pub(super) fn gemm_i16_i32(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]) {
    generic::check_gemm_i16(rows, span, weights, acc);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { avx2_narrow(rows, span, weights, acc) }
}

#[target_feature(enable = "avx2")]
fn avx2_narrow(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]) {
    walk_gemm_i16(
        (rows, span, weights, acc),
        NARROW_PIXELS,
        |n, rows, weights, out| {
            // (the closure has the features of the function it is in)
            match n {
                6 => narrow_block::<6>(rows, span, weights, out),
                5 => narrow_block::<5>(rows, span, weights, out),
                4 => narrow_block::<4>(rows, span, weights, out),
                3 => narrow_block::<3>(rows, span, weights, out),
                2 => narrow_block::<2>(rows, span, weights, out),
                _ => narrow_block::<1>(rows, span, weights, out),
            }
        },
    );
}

/// As [`block`], the pair sums added into i32 lanes as they are (wrapping, as the generic
/// kernel's sums do): `2 * P` `vpmaddwd` and as many additions a step, nothing else.
#[target_feature(enable = "avx2")]
fn narrow_block<const P: usize>(rows: &[i16], span: usize, weights: &[i16], out: GroupOut<i32>) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(out.acc.len() == P * out.channels && out.first + GEMM_GROUP <= out.channels);
    let (r, w) = (rows.as_ptr(), weights.as_ptr());
    let mut sums = [[_mm256_setzero_si256(); 2]; P];
    for s in 0..span / GEMM_I16_DEPTH {
        // SAFETY: s * 32 + 32 <= 16 * span = weights.len(), as s < span / 2; unaligned loads
        // are allowed.
        let wv = unsafe { [0, 16].map(|at| _mm256_loadu_si256(w.add(s * STEP + at).cast())) };
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 2 + 2 <= P * span = rows.len().
            let x = unsafe {
                r.add(i * span + s * GEMM_I16_DEPTH)
                    .cast::<i32>()
                    .read_unaligned()
            };
            let x = _mm256_set1_epi32(x);
            for (sum, &v) in sums.iter_mut().zip(&wv) {
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(x, v));
            }
        }
    }
    for (i, sums) in sums.iter().enumerate() {
        for (h, &v) in sums.iter().enumerate() {
            let at = i * out.channels + out.first + h * 8;
            let dst = &mut out.acc[at..at + 8];
            // SAFETY: `dst` holds exactly 8 i32.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), v) };
        }
    }
}
