//! INT8's sums back to float planes ([`RescaleSums`](crate::kernels::RescaleSums)).

use std::ops::Range;

/// Checks a [`RescaleSums`](crate::kernels::RescaleSums) call; returns the pixels.
pub(crate) fn check_rescale(
    sums: &[i32],
    width: usize,
    bias: &[i32],
    rescale: &[f32],
    planes: &[&mut [f32]],
    at: usize,
) -> usize {
    let channels = planes.len();
    assert!(
        channels <= width,
        "{channels} planes of {width} sums a pixel"
    );
    assert!(sums.len().is_multiple_of(width.max(1)), "whole pixels");
    assert!(
        bias.len() >= channels && rescale.len() >= channels,
        "a bias a plane"
    );
    let pixels = sums.len() / width.max(1);
    assert!(
        planes.iter().all(|plane| plane.len() >= at + pixels),
        "{pixels} pixels from {at} in every plane"
    );
    pixels
}

/// A sum and its bias in i32 (wrapping where they would leave it: callers rule that out), to
/// the nearest float, times the rescale.
#[inline(always)]
pub(crate) fn rescaled(sum: i32, bias: i32, rescale: f32) -> f32 {
    sum.wrapping_add(bias) as f32 * rescale
}

/// Through a small tile ([`sums_into_planes`]).
pub fn rescale_sums(
    sums: &[i32],
    width: usize,
    bias: &[i32],
    rescale: &[f32],
    planes: &mut [&mut [f32]],
    at: usize,
) {
    check_rescale(sums, width, bias, rescale, planes, at);
    let values = |sums: &[i32], channels: Range<usize>, out: &mut [f32]| {
        let (bias, rescale) = (&bias[channels.clone()], &rescale[channels]);
        for ((v, &s), (&b, &r)) in out.iter_mut().zip(sums).zip(bias.iter().zip(rescale)) {
            *v = rescaled(s, b, r);
        }
    };
    sums_into_planes(sums, width, planes, at, values);
}

/// A block's sums `[pixel][width]` into `planes` (one a channel) from pixel `at`:
/// `planes[o][at + p]` is a value `values(sums, channels, out)` makes of pixel `p`'s sums of
/// `channels` into `out`. Through a small tile: the values are made along each pixel's sums
/// (in vectors, as the sums lie), turned around, and stored along each plane.
#[inline(always)]
pub(crate) fn sums_into_planes<T: Copy>(
    sums: &[T],
    width: usize,
    planes: &mut [&mut [f32]],
    at: usize,
    values: impl Fn(&[T], Range<usize>, &mut [f32]),
) {
    const TILE: usize = 16;
    let count = sums.len() / width.max(1);
    let mut by_pixel = [[0f32; TILE]; TILE];
    for p0 in (0..count).step_by(TILE) {
        let n = TILE.min(count - p0);
        for o0 in (0..planes.len()).step_by(TILE) {
            let channels = o0..(o0 + TILE).min(planes.len());
            let m = channels.len();
            for (p, sums) in sums[p0 * width..].chunks(width).take(n).enumerate() {
                values(
                    &sums[channels.clone()],
                    channels.clone(),
                    &mut by_pixel[p][..m],
                );
            }
            for (o, plane) in planes[channels].iter_mut().enumerate() {
                for (p, v) in plane[at + p0..][..n].iter_mut().enumerate() {
                    *v = by_pixel[p][o];
                }
            }
        }
    }
}
