//! The AVX2 INT16 dot product: `vpmaddwd` multiplies pairs of i16 and sums them into i32.

use crate::kernels::generic;
use std::arch::x86_64::*;

pub(super) fn dot_i16(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    generic::check_dot(kernels, row, acc);
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected.
    unsafe { dot_all(kernels, row, acc) }
}

/// Four kernels at a time against one row: each 16-value slice of the row is loaded once and
/// multiplied into four accumulators. The pair sums (below 2 * 32767^2 < 2^31) are widened to
/// i64 every step.
#[target_feature(enable = "avx2")]
fn dot_all(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    let span = row.len();
    let body = span / 16 * 16;
    let mut o = 0;
    while o + 4 <= acc.len() {
        let k = [0, 1, 2, 3].map(|j| &kernels[(o + j) * span..(o + j + 1) * span]);
        let sums = dot4_i64(k, row, body);
        for j in 0..4 {
            let tail: i64 = k[j][body..]
                .iter()
                .zip(&row[body..])
                .map(|(&x, &y)| i64::from(x) * i64::from(y))
                .sum();
            acc[o + j] = sums[j] + tail;
        }
        o += 4;
    }
    let (rest, acc) = (&kernels[o * span..], &mut acc[o..]);
    generic::dot_i16(rest, row, acc);
}

#[target_feature(enable = "avx2")]
fn dot4_i64(k: [&[i16]; 4], row: &[i16], body: usize) -> [i64; 4] {
    let mut a = [_mm256_setzero_si256(); 4];
    let mut i = 0;
    while i < body {
        // SAFETY: i + 16 <= body <= every slice's length; unaligned loads are allowed.
        let r = unsafe { _mm256_loadu_si256(row.as_ptr().add(i).cast()) };
        for j in 0..4 {
            // SAFETY: as above, the kernels are as long as the row.
            let w = unsafe { _mm256_loadu_si256(k[j].as_ptr().add(i).cast()) };
            let pairs = _mm256_madd_epi16(w, r);
            let low = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pairs));
            let high = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(pairs));
            a[j] = _mm256_add_epi64(a[j], _mm256_add_epi64(low, high));
        }
        i += 16;
    }
    a.map(|v| {
        let mut lanes = [0i64; 4];
        // SAFETY: `lanes` holds exactly one 256-bit vector.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
        lanes.iter().sum()
    })
}
