//! Integer products of the INT8/INT16 convolutions.

use crate::kernels::{GEMM_DEPTH, GEMM_GROUP, GEMM_I16_DEPTH, GEMM_MAX_SPAN, GEMM_OFFSET};

pub(crate) fn check_gemm_i16<T>(rows: &[i16], span: usize, weights: &[i16], acc: &[T]) {
    assert!(
        span > 0 && span.is_multiple_of(GEMM_I16_DEPTH),
        "span {span}"
    );
    assert!(
        weights.len().is_multiple_of(GEMM_GROUP * span),
        "whole channel groups"
    );
    assert!(rows.len().is_multiple_of(span), "whole rows");
    assert_eq!(
        acc.len(),
        rows.len() / span * (weights.len() / span),
        "one sum a pixel and channel"
    );
}

pub fn gemm_i16(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]) {
    product_i16(rows, span, weights, acc, |sum, x, w| {
        sum + i64::from(x) * i64::from(w)
    });
}

/// [`GemmI16I32`](crate::kernels::GemmI16I32): [`gemm_i16`] with wrapping i32 sums.
pub fn gemm_i16_i32(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]) {
    product_i16(rows, span, weights, acc, |sum: i32, x, w| {
        sum.wrapping_add(i32::from(x) * i32::from(w))
    });
}

/// The INT16 product on its packed weights, each sum built by `add(sum, input, weight)` from 0.
fn product_i16<T: Copy + Default>(
    rows: &[i16],
    span: usize,
    weights: &[i16],
    acc: &mut [T],
    add: impl Fn(T, i16, i16) -> T,
) {
    check_gemm_i16(rows, span, weights, acc);
    let channels = weights.len() / span;
    if channels == 0 {
        return;
    }
    let group_len = GEMM_GROUP * span;
    for (row, out) in rows.chunks_exact(span).zip(acc.chunks_exact_mut(channels)) {
        for (group, out) in weights
            .chunks_exact(group_len)
            .zip(out.chunks_exact_mut(GEMM_GROUP))
        {
            let mut lanes = [T::default(); GEMM_GROUP];
            for (step, inputs) in group
                .chunks_exact(GEMM_GROUP * GEMM_I16_DEPTH)
                .zip(row.chunks_exact(GEMM_I16_DEPTH))
            {
                for (lane, w) in lanes.iter_mut().zip(step.chunks_exact(GEMM_I16_DEPTH)) {
                    for (&x, &w) in inputs.iter().zip(w) {
                        *lane = add(*lane, x, w);
                    }
                }
            }
            out.copy_from_slice(&lanes);
        }
    }
}

pub(crate) fn check_gemm_i8(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &[i32]) {
    assert!(
        span > 0 && span.is_multiple_of(GEMM_DEPTH) && span <= GEMM_MAX_SPAN,
        "span {span}"
    );
    assert!(
        wsum.len().is_multiple_of(GEMM_GROUP),
        "whole channel groups"
    );
    assert_eq!(
        weights.len(),
        wsum.len() * span,
        "one packed kernel a channel"
    );
    assert!(rows.len().is_multiple_of(span), "whole rows");
    assert_eq!(
        acc.len(),
        rows.len() / span * wsum.len(),
        "one sum a pixel and channel"
    );
}

pub fn gemm_i8(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    check_gemm_i8(rows, span, weights, wsum, acc);
    let channels = wsum.len();
    if channels == 0 {
        return;
    }
    let group_len = GEMM_GROUP * span;
    for (row, out) in rows.chunks_exact(span).zip(acc.chunks_exact_mut(channels)) {
        for ((group, out), sums) in weights
            .chunks_exact(group_len)
            .zip(out.chunks_exact_mut(GEMM_GROUP))
            .zip(wsum.chunks_exact(GEMM_GROUP))
        {
            let mut lanes = [0i32; GEMM_GROUP];
            for (step, inputs) in group
                .chunks_exact(GEMM_GROUP * GEMM_DEPTH)
                .zip(row.chunks_exact(GEMM_DEPTH))
            {
                for (lane, w) in lanes.iter_mut().zip(step.chunks_exact(GEMM_DEPTH)) {
                    for (&x, &w) in inputs.iter().zip(w) {
                        *lane += i32::from(x) * i32::from(w);
                    }
                }
            }
            // The rows hold q + 128: take 128 * sum(w) back off.
            for ((o, lane), sum) in out.iter_mut().zip(lanes).zip(sums) {
                *o = lane - GEMM_OFFSET * sum;
            }
        }
    }
}
