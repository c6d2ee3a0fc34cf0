//! Direct convolution with AVX2: eight output columns a vector, each lane adding its terms in
//! the generic order (a multiply, then an add: no FMA, which would round differently).

use crate::kernels::generic::{self, ConvDims};
use std::arch::x86_64::*;

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
    let d = generic::check_conv(input, in_h, in_w, k, stride, weights, bias, out);
    match stride {
        1 => blocks::<1>(input, weights, bias, &d, out),
        2 => blocks::<2>(input, weights, bias, &d, out),
        // No layer of the models at hand has a larger stride.
        _ => generic::conv_direct(input, in_h, in_w, k, stride, weights, bias, out),
    }
}

/// Blocks of output channels share each input load; smaller blocks take the remainder.
fn blocks<const S: usize>(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    d: &ConvDims,
    out: &mut [f32],
) {
    let mut o = 0;
    // SAFETY (all four calls): reachable only through the AVX2 table, handed out after AVX2
    // was detected; the shapes were checked by the caller.
    while o + 8 <= d.out_channels {
        unsafe { block::<8, S>(input, weights, bias, d, o, out) };
        o += 8;
    }
    if o + 4 <= d.out_channels {
        unsafe { block::<4, S>(input, weights, bias, d, o, out) };
        o += 4;
    }
    if o + 2 <= d.out_channels {
        unsafe { block::<2, S>(input, weights, bias, d, o, out) };
        o += 2;
    }
    if o < d.out_channels {
        unsafe { block::<1, S>(input, weights, bias, d, o, out) };
    }
}

/// Eight input values `S` apart from `p`: one load for stride 1; for stride 2, sixteen values
/// with the odd ones dropped.
#[target_feature(enable = "avx2")]
unsafe fn load<const S: usize>(p: *const f32) -> __m256 {
    // SAFETY: the caller guarantees 8 * S readable floats at `p`.
    unsafe {
        if S == 1 {
            _mm256_loadu_ps(p)
        } else {
            let (lo, hi) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], then the middle quarters swapped
            let even = _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi);
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
                even,
            )))
        }
    }
}

/// Output channels `o0..o0 + N`, every row; the columns that a full vector cannot reach go
/// through the generic code (same order of operations).
#[target_feature(enable = "avx2")]
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
    // The block's weights tap-major, its N channels side by side: one cache line a tap.
    let mut wt = vec![0f32; taps * N];
    for (j, kernel) in weights[o0 * taps..(o0 + N) * taps]
        .chunks_exact(taps)
        .enumerate()
    {
        for (t, &w) in kernel.iter().enumerate() {
            wt[t * N + j] = w;
        }
    }
    // Vector columns x0 .. x0 + 8 read input columns x0*S .. x0*S + k - 1 + 8*S.
    let fits = |x0: usize| x0 + 8 <= d.out_w && x0 * S + k - 1 + 8 * S <= d.in_w;
    for y in 0..d.out_h {
        let mut x0 = 0;
        while fits(x0) {
            let mut acc = [_mm256_setzero_ps(); N];
            for (j, a) in acc.iter_mut().enumerate() {
                *a = _mm256_set1_ps(bias[o0 + j]);
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
                                let wj = _mm256_broadcast_ss(&*w.add(j));
                                *a = _mm256_add_ps(*a, _mm256_mul_ps(wj, v));
                            }
                            w = w.add(N);
                        }
                    }
                }
            }
            for (j, a) in acc.into_iter().enumerate() {
                let dst = &mut out[(o0 + j) * plane + y * d.out_w + x0..][..8];
                // SAFETY: `dst` is 8 floats long.
                unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), a) };
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
