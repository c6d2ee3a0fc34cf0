//! INT8 inputs quantized into HWC order ([`QuantizeHwcU8`](crate::kernels::QuantizeHwcU8),
//! [`QuantizeHwcI16`](crate::kernels::QuantizeHwcI16)).

use crate::kernels::Levels;
use std::ops::Range;

/// Checks a quantize-to-HWC call whose values lie in `min..=max`; returns the channels.
pub(crate) fn check_levels(
    src: &[f32],
    plane: usize,
    pixels: &Range<usize>,
    levels: &Levels,
    dst_len: usize,
    (min, max): (i32, i32),
) -> usize {
    assert!(plane > 0 && src.len().is_multiple_of(plane), "whole planes");
    assert!(
        pixels.end <= plane,
        "pixels {pixels:?} of a plane of {plane}"
    );
    let channels = src.len() / plane;
    assert_eq!(
        dst_len,
        pixels.len() * channels,
        "every channel of every pixel"
    );
    let (low, high) = (levels.low, levels.high);
    assert!(
        low <= high && low.fract() == 0.0 && high.fract() == 0.0,
        "integer bounds"
    );
    assert!(
        low.abs() <= 4_194_304.0 && high.abs() <= 4_194_304.0,
        "bounds within 2^22"
    );
    assert!(
        low as i32 + levels.offset >= min && high as i32 + levels.offset <= max,
        "levels within the output's range"
    );
    channels
}

/// `x` as its level plus the offset: `x * scale` clamped to `[low, high]` and rounded to the
/// nearest integer, ties to even; NaN is `low`. Adding `1.5 * 2^23` leaves the sum a unit of
/// 1, so the addition rounds, and the integer is in the sum's low bits.
#[inline(always)]
pub(crate) fn level_of(x: f32, levels: &Levels) -> i32 {
    const ROUNDER: f32 = 12_582_912.0;
    let rounded = (x * levels.scale).max(levels.low).min(levels.high) + ROUNDER;
    rounded.to_bits() as i32 - ROUNDER.to_bits() as i32 + levels.offset
}

pub fn quantize_hwc_u8(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [u8],
) {
    check_levels(src, plane, &pixels, levels, dst.len(), (0, 255));
    quantize_hwc(src, plane, pixels, levels, dst, |v| v as u8);
}

pub fn quantize_hwc_i16(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [i16],
) {
    check_levels(src, plane, &pixels, levels, dst.len(), (-32768, 32767));
    quantize_hwc(src, plane, pixels, levels, dst, |v| v as i16);
}

/// A tile at a time: `PASS` channels of `RUN` pixels quantized along each plane (on vectors),
/// then copied into place pixel by pixel (a pass fills one stretch of each pixel, so a line is
/// written in one go, not once a channel).
#[inline(always)]
fn quantize_hwc<T: Copy + Default>(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [T],
    cast: impl Fn(i32) -> T,
) {
    const PASS: usize = 16;
    const RUN: usize = 64;
    let c = src.len() / plane;
    let mut converted = [[T::default(); RUN]; PASS];
    for first in (0..c).step_by(PASS) {
        let channels = first..(first + PASS).min(c);
        for (run, out) in dst.chunks_mut(RUN * c).enumerate() {
            let start = pixels.start + run * RUN;
            let n = out.len() / c;
            for (values, i) in converted.iter_mut().zip(channels.clone()) {
                let from = &src[i * plane + start..][..n];
                for (v, &x) in values[..n].iter_mut().zip(from) {
                    *v = cast(level_of(x, levels));
                }
            }
            for (p, pixel) in out.chunks_exact_mut(c).enumerate() {
                for (v, values) in pixel[channels.clone()].iter_mut().zip(&converted) {
                    *v = values[p];
                }
            }
        }
    }
}
