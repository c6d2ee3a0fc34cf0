//! Direct convolution with NEON: eight output columns (two vectors) a step, each lane adding
//! its terms in the generic order (`fmul`, then `fadd`: no fused `fmla`, which would round
//! differently).

use crate::kernels::generic::{self, ConvDims};
use std::arch::aarch64::*;

pub(super) fn conv_direct(
    input: &[f32],
    in_h: usize,
    in_w: usize,
    k: usize,
    stride: usize,
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { conv_direct_neon(input, in_h, in_w, k, stride, weights, bias, out) }
}

#[target_feature(enable = "neon")]
fn conv_direct_neon(
    input: &[f32],
    in_h: usize,
    in_w: usize,
    k: usize,
    stride: usize,
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let d = generic::check_conv(input, in_h, in_w, k, stride, weights, bias, out);
    match stride {
        1 => blocks::<1>(input, weights, bias, &d, out),
        2 => blocks::<2>(input, weights, bias, &d, out),
        // No layer of the models at hand has a larger stride.
        _ => generic::conv_direct(input, in_h, in_w, k, stride, weights, bias, out),
    }
}

/// Blocks of output channels share each input load; smaller blocks take the remainder.
#[target_feature(enable = "neon")]
fn blocks<const S: usize>(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    d: &ConvDims,
    out: &mut [f32],
) {
    let mut o = 0;
    while o + 8 <= d.out_channels {
        block::<8, S>(input, weights, bias, d, o, out);
        o += 8;
    }
    if o + 4 <= d.out_channels {
        block::<4, S>(input, weights, bias, d, o, out);
        o += 4;
    }
    if o + 2 <= d.out_channels {
        block::<2, S>(input, weights, bias, d, o, out);
        o += 2;
    }
    if o < d.out_channels {
        block::<1, S>(input, weights, bias, d, o, out);
    }
}

/// Eight input values `S` apart from `p`, as two vectors: two loads for stride 1; for stride
/// 2, `ld2` splits sixteen values into the even ones (kept) and the odd ones.
///
/// # Safety
/// `8 * S` floats must be readable at `p`.
#[target_feature(enable = "neon")]
#[inline]
unsafe fn load<const S: usize>(p: *const f32) -> [float32x4_t; 2] {
    // SAFETY: the caller guarantees 8 * S readable floats at `p`.
    unsafe {
        if S == 1 {
            [vld1q_f32(p), vld1q_f32(p.add(4))]
        } else {
            [vld2q_f32(p).0, vld2q_f32(p.add(8)).0]
        }
    }
}

/// Output channels `o0..o0 + N`, every row; the columns that a full step cannot reach go
/// through the generic code (same order of operations).
#[target_feature(enable = "neon")]
fn block<const N: usize, const S: usize>(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    d: &ConvDims,
    o0: usize,
    out: &mut [f32],
) {
    let (k, plane) = (d.k, d.out_h * d.out_w);
    let taps = d.channels * k * k;
    // The block's weights tap-major, its N channels side by side.
    let mut wt = vec![0f32; taps * N];
    for (j, kernel) in weights[o0 * taps..(o0 + N) * taps]
        .chunks_exact(taps)
        .enumerate()
    {
        for (t, &w) in kernel.iter().enumerate() {
            wt[t * N + j] = w;
        }
    }
    // Columns x0 .. x0 + 8 read input columns x0*S .. x0*S + k - 1 + 8*S.
    let fits = |x0: usize| x0 + 8 <= d.out_w && x0 * S + k - 1 + 8 * S <= d.in_w;
    for y in 0..d.out_h {
        let mut x0 = 0;
        while fits(x0) {
            let mut acc = [[vdupq_n_f32(0.0); 2]; N];
            for (j, a) in acc.iter_mut().enumerate() {
                *a = [vdupq_n_f32(bias[o0 + j]); 2];
            }
            let mut w = wt.as_ptr();
            for i in 0..d.channels {
                for ky in 0..k {
                    let row = (i * d.in_h + y * S + ky) * d.in_w + x0 * S;
                    for kx in 0..k {
                        // SAFETY: `fits(x0)` keeps the 8*S values from column x0*S + kx inside
                        // the input row; `w` walks the taps * N weights of `wt` N at a time.
                        unsafe {
                            let v = load::<S>(input.as_ptr().add(row + kx));
                            for (j, a) in acc.iter_mut().enumerate() {
                                let wj = vdupq_n_f32(*w.add(j));
                                a[0] = vaddq_f32(a[0], vmulq_f32(wj, v[0]));
                                a[1] = vaddq_f32(a[1], vmulq_f32(wj, v[1]));
                            }
                            w = w.add(N);
                        }
                    }
                }
            }
            for (j, a) in acc.into_iter().enumerate() {
                let dst = &mut out[(o0 + j) * plane + y * d.out_w + x0..][..8];
                // SAFETY: `dst` is 8 floats long.
                unsafe {
                    vst1q_f32(dst.as_mut_ptr(), a[0]);
                    vst1q_f32(dst.as_mut_ptr().add(4), a[1]);
                }
            }
            x0 += 8;
        }
        if x0 < d.out_w {
            for j in 0..N {
                let dst = &mut out[(o0 + j) * plane + y * d.out_w..][x0..d.out_w];
                generic::conv_span(input, weights, bias, d, o0 + j, y, x0, dst);
            }
        }
    }
}
