//! YUYV and NV12 to RGB with NEON: sixteen pixels a step, split into the even and the odd
//! ones (which share their U, V), the generic integer formula in 32-bit lanes, clamped by
//! saturating narrows, interleaved by `st3`.

use crate::kernels::generic;
use std::arch::aarch64::*;

pub(super) fn yuyv_to_rgb(src: &[u8], dst: &mut [u8]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { yuyv_to_rgb_neon(src, dst) }
}

#[target_feature(enable = "neon")]
fn yuyv_to_rgb_neon(src: &[u8], dst: &mut [u8]) {
    let w = generic::check_yuyv(src, dst);
    let full = w / 16 * 16;
    for x in (0..full).step_by(16) {
        // SAFETY: pixels x .. x + 16 are bytes 2x .. 2x + 32 of `src`, inside it (the row has
        // at least 2 bytes a pixel, checked above): Y0, U, Y1, V of eight pairs.
        let q = unsafe { vld4_u8(src.as_ptr().add(x * 2)) };
        store(&mut dst[x * 3..][..48], q.0, q.2, q.1, q.3);
    }
    if full < w {
        generic::yuyv_to_rgb(&src[full * 2..], &mut dst[full * 3..]);
    }
}

pub(super) fn nv12_to_rgb(luma: &[u8], chroma: &[u8], dst: &mut [u8]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { nv12_to_rgb_neon(luma, chroma, dst) }
}

#[target_feature(enable = "neon")]
fn nv12_to_rgb_neon(luma: &[u8], chroma: &[u8], dst: &mut [u8]) {
    let w = generic::check_nv12(luma, chroma, dst);
    let full = w / 16 * 16;
    for x in (0..full).step_by(16) {
        // SAFETY: x + 16 <= w and luma and chroma hold at least w bytes (checked above).
        let (y, uv) = unsafe {
            (
                vld2_u8(luma.as_ptr().add(x)),
                vld2_u8(chroma.as_ptr().add(x)),
            )
        };
        store(&mut dst[x * 3..][..48], y.0, y.1, uv.0, uv.1);
    }
    if full < w {
        generic::nv12_to_rgb(&luma[full..], &chroma[full..], &mut dst[full * 3..]);
    }
}

/// Eight pixels' R, G, B from their Y and the U, V they use.
#[target_feature(enable = "neon")]
fn convert(y: uint8x8_t, u: uint8x8_t, v: uint8x8_t) -> [uint8x8_t; 3] {
    let wide = |x: uint8x8_t, minus: i16| {
        vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(x)), vdupq_n_s16(minus))
    };
    let (c, d, e) = (wide(y, 16), wide(u, 128), wide(v, 128));
    let round = vdupq_n_s32(128);
    // (low four lanes, high four lanes) of C = 298 (Y - 16), plus the rounding term
    let c = (
        vmlal_n_s16(round, vget_low_s16(c), 298),
        vmlal_high_n_s16(round, c, 298),
    );
    // `sqshrun` shifts right by 8 (arithmetic, truncating) and saturates to 0..=65535,
    // `uqxtn` then to 0..=255: together the generic clamp of `x >> 8`.
    let narrow = |lo: int32x4_t, hi: int32x4_t| -> uint8x8_t {
        vqmovn_u16(vcombine_u16(vqshrun_n_s32::<8>(lo), vqshrun_n_s32::<8>(hi)))
    };
    let r = narrow(
        vmlal_n_s16(c.0, vget_low_s16(e), 409),
        vmlal_high_n_s16(c.1, e, 409),
    );
    let g = narrow(
        vmlsl_n_s16(vmlsl_n_s16(c.0, vget_low_s16(d), 100), vget_low_s16(e), 208),
        vmlsl_high_n_s16(vmlsl_high_n_s16(c.1, d, 100), e, 208),
    );
    let b = narrow(
        vmlal_n_s16(c.0, vget_low_s16(d), 516),
        vmlal_high_n_s16(c.1, d, 516),
    );
    [r, g, b]
}

/// Sixteen pixels from the Y of the even and of the odd ones and the eight U, V pairs.
#[target_feature(enable = "neon")]
fn store(out: &mut [u8], even: uint8x8_t, odd: uint8x8_t, u: uint8x8_t, v: uint8x8_t) {
    assert_eq!(out.len(), 48);
    let e = convert(even, u, v);
    let o = convert(odd, u, v);
    let rgb = uint8x16x3_t(
        vcombine_u8(vzip1_u8(e[0], o[0]), vzip2_u8(e[0], o[0])),
        vcombine_u8(vzip1_u8(e[1], o[1]), vzip2_u8(e[1], o[1])),
        vcombine_u8(vzip1_u8(e[2], o[2]), vzip2_u8(e[2], o[2])),
    );
    // SAFETY: `out` is 48 bytes long (asserted above).
    unsafe { vst3q_u8(out.as_mut_ptr(), rgb) };
}
