//! The float convolution's product with fused multiply-adds, in the order
//! [`SgemmFma`](crate::kernels::SgemmFma) fixes.

use crate::kernels::{PackedF32, SGEMM_GROUP};
use std::ops::Range;

pub(crate) fn check_sgemm_fma(
    rows: &[f32],
    kernels: &PackedF32,
    groups: &Range<usize>,
    acc: &[f32],
) {
    let span = kernels.span;
    assert!(span > 0, "an empty span");
    assert_eq!(
        kernels.lines.len(),
        kernels.groups() * span,
        "one packed line a group and input"
    );
    assert!(
        groups.start <= groups.end && groups.end <= kernels.groups(),
        "groups {groups:?} of {}",
        kernels.groups()
    );
    assert!(rows.len().is_multiple_of(span), "whole rows");
    assert_eq!(
        acc.len(),
        rows.len() / span * groups.len() * SGEMM_GROUP,
        "one sum a pixel and channel"
    );
}

pub fn sgemm_fma(rows: &[f32], kernels: &PackedF32, groups: Range<usize>, acc: &mut [f32]) {
    check_sgemm_fma(rows, kernels, &groups, acc);
    let span = kernels.span;
    let width = groups.len() * SGEMM_GROUP;
    if width == 0 {
        return;
    }
    for (row, out) in rows.chunks_exact(span).zip(acc.chunks_exact_mut(width)) {
        for (j, sum) in out.iter_mut().enumerate() {
            let group = &kernels.lines[(groups.start + j / SGEMM_GROUP) * span..][..span];
            *sum = row
                .iter()
                .zip(group)
                .fold(0.0, |s, (&x, w)| x.mul_add(w.0[j % SGEMM_GROUP], s));
        }
    }
}
