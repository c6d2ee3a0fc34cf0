//! The float-to-levels bridge into the binarized layers.

/// The level of `x` out of `top + 1`: `round_ties_even(clamp(x, 0, max) / max * top)`, in f32
/// as the reference system computes it (NumPy); NaN gives 0.
#[inline]
pub fn level(x: f32, max: f32, top: f32) -> u8 {
    // NaN survives the clamp and the arithmetic; the saturating cast turns it into 0.
    (x.clamp(0.0, max) / max * top).round_ties_even() as u8
}

/// Checks a [`quantize_row`](crate::kernels::QuantizeRow) call; returns the row's width.
pub(crate) fn check_quantize(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &[u64],
) -> usize {
    assert!((1..=8).contains(&bits), "levels of 1 to 8 bits");
    assert!(channels > 0, "no channels");
    assert!(max > 0.0, "a positive range");
    let stride = bits * channels.div_ceil(64);
    assert!(planes.len().is_multiple_of(stride), "whole pixels");
    let w = planes.len() / stride;
    assert!(plane >= w, "channel planes of at least a row");
    assert!(
        src.len() >= (channels - 1) * plane + w,
        "{channels} channels of {w} pixels"
    );
    w
}

pub fn quantize_row(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &mut [u64],
) {
    let w = check_quantize(src, plane, channels, max, bits, planes);
    let words = channels.div_ceil(64);
    let top = ((1u32 << bits) - 1) as f32;
    planes.fill(0);
    for c in 0..channels {
        let row = &src[c * plane..][..w];
        for (x, &v) in row.iter().enumerate() {
            let level = level(v, max, top);
            let pixel = &mut planes[x * bits * words..][..bits * words];
            for b in 0..bits {
                pixel[b * words + c / 64] |= u64::from((level >> b) & 1) << (c % 64);
            }
        }
    }
}
