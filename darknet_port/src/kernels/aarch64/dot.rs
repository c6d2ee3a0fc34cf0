//! The NEON INT16 dot product: `smull` into exact i32 products that `sadalp` adds pairwise
//! into i64.

use crate::kernels::generic;
use std::arch::aarch64::*;

pub(super) fn dot_i16(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { dot_i16_neon(kernels, row, acc) }
}

#[target_feature(enable = "neon")]
fn dot_i16_neon(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    generic::check_dot(kernels, row, acc);
    dot_all(kernels, row, acc);
}

/// Four kernels at a time against one row, eight values a step; the rest of the row and the
/// kernels left over go through the generic code.
#[target_feature(enable = "neon")]
fn dot_all(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    let span = row.len();
    let body = span / 8 * 8;
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

#[target_feature(enable = "neon")]
fn dot4_i64(k: [&[i16]; 4], row: &[i16], body: usize) -> [i64; 4] {
    let mut a = [vdupq_n_s64(0); 4];
    let mut i = 0;
    while i < body {
        // SAFETY: i + 8 <= body <= every slice's length.
        let r = unsafe { vld1q_s16(row.as_ptr().add(i)) };
        for j in 0..4 {
            // SAFETY: as above, the kernels are as long as the row.
            let w = unsafe { vld1q_s16(k[j].as_ptr().add(i)) };
            // each product of symmetric 16-bit values fits i32 (below 2^30)
            a[j] = vpadalq_s32(a[j], vmull_s16(vget_low_s16(w), vget_low_s16(r)));
            a[j] = vpadalq_s32(a[j], vmull_high_s16(w, r));
        }
        i += 8;
    }
    a.map(|v| vaddvq_s64(v))
}
