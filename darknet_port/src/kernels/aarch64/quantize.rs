//! Quantization with NEON: four pixels a vector, channel by channel.

use crate::kernels::generic;
use std::arch::aarch64::*;

pub(super) fn quantize_row(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &mut [u64],
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { quantize_row_neon(src, plane, channels, max, bits, planes) }
}

#[target_feature(enable = "neon")]
fn quantize_row_neon(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &mut [u64],
) {
    let w = generic::check_quantize(src, plane, channels, max, bits, planes);
    let full = w / 4 * 4;
    let words = channels.div_ceil(64);
    let stride = bits * words;
    let (vmax, vtop) = (vdupq_n_f32(max), vdupq_n_f32(((1u32 << bits) - 1) as f32));
    let one = vdupq_n_u32(1);
    for (block, pixels) in planes[..full * stride]
        .chunks_exact_mut(4 * stride)
        .enumerate()
    {
        let x = block * 4;
        pixels.fill(0);
        for c0 in (0..channels).step_by(32) {
            // bit b of 32 channels of each pixel, one u32 lane a pixel
            let mut acc = [vdupq_n_u32(0); 8];
            for c in c0..channels.min(c0 + 32) {
                // SAFETY: c < channels and x + 4 <= w, so c*plane + x + 4 <= src.len()
                // (checked just above).
                let v = unsafe { vld1q_f32(src.as_ptr().add(c * plane + x)) };
                // The generic f32 operations in order; NaN stays NaN through them and the
                // conversion (`fcvtzu`) turns it into 0, as the generic cast does.
                let clamped = vminq_f32(vmaxq_f32(v, vdupq_n_f32(0.0)), vmax);
                let level = vcvtq_u32_f32(vrndnq_f32(vmulq_f32(vdivq_f32(clamped, vmax), vtop)));
                let to = vdupq_n_s32((c - c0) as i32);
                for (b, a) in acc.iter_mut().enumerate().take(bits) {
                    let bit = vandq_u32(vshlq_u32(level, vdupq_n_s32(-(b as i32))), one);
                    *a = vorrq_u32(*a, vshlq_u32(bit, to));
                }
            }
            let (word, half) = (c0 / 64, c0 % 64);
            for (b, a) in acc.iter().enumerate().take(bits) {
                let lanes = [
                    vgetq_lane_u32::<0>(*a),
                    vgetq_lane_u32::<1>(*a),
                    vgetq_lane_u32::<2>(*a),
                    vgetq_lane_u32::<3>(*a),
                ];
                for (p, lane) in lanes.into_iter().enumerate() {
                    pixels[p * stride + b * words + word] |= u64::from(lane) << half;
                }
            }
        }
    }
    if full < w {
        generic::quantize_row(
            &src[full..],
            plane,
            channels,
            max,
            bits,
            &mut planes[full * stride..],
        );
    }
}
