//! Camera pixel formats to interleaved RGB.

fn clamp8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// One BT.601 studio-range Y'CbCr pixel to R, G, B with the usual 8-bit fixed-point
/// coefficients (as libyuv and swscale use): `C = 298 (Y - 16)`, `D = U - 128`, `E = V - 128`,
/// `R = (C + 409 E + 128) >> 8`, `G = (C - 100 D - 208 E + 128) >> 8`,
/// `B = (C + 516 D + 128) >> 8`, each clamped to 0..=255.
#[inline]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    [
        clamp8((c + 409 * e + 128) >> 8),
        clamp8((c - 100 * d - 208 * e + 128) >> 8),
        clamp8((c + 516 * d + 128) >> 8),
    ]
}

pub(crate) fn check_yuyv(src: &[u8], dst: &[u8]) -> usize {
    assert!(dst.len().is_multiple_of(3), "whole RGB pixels");
    let w = dst.len() / 3;
    assert!(src.len() >= w.div_ceil(2) * 4, "a YUYV row of {w} pixels");
    w
}

pub fn yuyv_to_rgb(src: &[u8], dst: &mut [u8]) {
    let w = check_yuyv(src, dst);
    for x in 0..w {
        let quad = &src[x / 2 * 4..][..4];
        let rgb = yuv_to_rgb(quad[(x & 1) * 2], quad[1], quad[3]);
        dst[x * 3..][..3].copy_from_slice(&rgb);
    }
}

pub(crate) fn check_nv12(luma: &[u8], chroma: &[u8], dst: &[u8]) -> usize {
    assert!(dst.len().is_multiple_of(3), "whole RGB pixels");
    let w = dst.len() / 3;
    assert!(luma.len() >= w, "a luma row of {w} pixels");
    assert!(
        chroma.len() >= w.div_ceil(2) * 2,
        "a chroma row of {w} pixels"
    );
    w
}

pub fn nv12_to_rgb(luma: &[u8], chroma: &[u8], dst: &mut [u8]) {
    let w = check_nv12(luma, chroma, dst);
    for x in 0..w {
        let c = x / 2 * 2;
        let rgb = yuv_to_rgb(luma[x], chroma[c], chroma[c + 1]);
        dst[x * 3..][..3].copy_from_slice(&rgb);
    }
}
