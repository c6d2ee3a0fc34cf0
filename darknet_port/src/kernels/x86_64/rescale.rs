//! INT8's sums back to float planes ([`RescaleSums`](crate::kernels::RescaleSums)) with AVX2:
//! 8 pixels by 8 channels at a time, the sums of each pixel biased, converted and rescaled as
//! one vector, then the 8x8 block turned around in registers and stored along the planes. The
//! same operations on each value as the generic kernel (`vcvtdq2ps` rounds to nearest even, as
//! `as f32` does), so the same bits.

use crate::kernels::generic::{check_rescale, rescaled};
use std::arch::x86_64::*;

const LANES: usize = 8;

pub(super) fn rescale_sums(
    sums: &[i32],
    width: usize,
    bias: &[i32],
    rescale: &[f32],
    planes: &mut [&mut [f32]],
    at: usize,
) {
    check_rescale(sums, width, bias, rescale, planes, at);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { avx2(sums, width, bias, rescale, planes, at) }
}

#[target_feature(enable = "avx2")]
fn avx2(
    sums: &[i32],
    width: usize,
    bias: &[i32],
    rescale: &[f32],
    planes: &mut [&mut [f32]],
    at: usize,
) {
    let count = sums.len() / width.max(1);
    let (whole_pixels, whole_channels) =
        (count - count % LANES, planes.len() - planes.len() % LANES);
    for o0 in (0..whole_channels).step_by(LANES) {
        // SAFETY: o0 + 8 <= planes.len() <= bias.len(), rescale.len() (checked).
        let (b, r) = unsafe {
            (
                _mm256_loadu_si256(bias.as_ptr().add(o0).cast()),
                _mm256_loadu_ps(rescale.as_ptr().add(o0)),
            )
        };
        for p0 in (0..whole_pixels).step_by(LANES) {
            let rows: [__m256; LANES] = std::array::from_fn(|i| {
                let row = &sums[(p0 + i) * width + o0..][..LANES];
                // SAFETY: `row` holds exactly 8 i32.
                let s = unsafe { _mm256_loadu_si256(row.as_ptr().cast()) };
                _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s, b)), r)
            });
            let columns = transpose(rows);
            for (plane, column) in planes[o0..o0 + LANES].iter_mut().zip(columns) {
                let dst = &mut plane[at + p0..][..LANES];
                // SAFETY: `dst` holds exactly 8 f32.
                unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), column) };
            }
        }
    }
    // the edges: the last pixels of every channel, the last channels of every pixel
    for (o, plane) in planes.iter_mut().enumerate() {
        let pixels = if o < whole_channels { whole_pixels } else { 0 };
        for p in pixels..count {
            plane[at + p] = rescaled(sums[p * width + o], bias[o], rescale[o]);
        }
    }
}

/// The 8x8 block `rows[i][j]` as `columns[j][i]`.
#[target_feature(enable = "avx2")]
pub(super) fn transpose(rows: [__m256; LANES]) -> [__m256; LANES] {
    let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
    // pairs of rows interleaved, then quads, then the 128-bit halves swapped into place
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xee>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xee>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xee>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xee>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}
