//! The JPEG decoder's arithmetic (see [`crate::jpeg`]): stb_image's integer IDCT, its "fancy"
//! 4:2:2 and 4:2:0 chroma upsampling and its YCbCr->RGB conversion, bit for bit.

/// The IDCT's constants in 12-bit fixed point, `(int)(c * 4096 + 0.5)` as stb_image computes
/// them from jidctint's cosines.
pub(crate) mod fix {
    pub const C0_541: i32 = 2217; // 0.5411961
    pub const C1_848N: i32 = -7567; // -1.847759065
    pub const C0_765: i32 = 3135; // 0.765366865
    pub const C1_176: i32 = 4816; // 1.175875602
    pub const C0_299: i32 = 1223; // 0.298631336
    pub const C2_053: i32 = 8410; // 2.053119869
    pub const C3_073: i32 = 12586; // 3.072711026
    pub const C1_501: i32 = 6149; // 1.501321110
    pub const C0_900N: i32 = -3685; // -0.899976223
    pub const C2_563N: i32 = -10497; // -2.562915447
    pub const C1_962N: i32 = -8034; // -1.961570560
    pub const C0_390N: i32 = -1597; // -0.390180644
    /// YCbCr->RGB factors, 12-bit values shifted to 20-bit fixed point.
    pub const CR_R: i32 = 5743 << 8; // 1.40200
    pub const CR_G: i32 = -(2925 << 8); // -0.71414
    pub const CB_G: i32 = -(1410 << 8); // -0.34414
    pub const CB_B: i32 = 7258 << 8; // 1.77200
}

/// What the column pass adds before its `>> 10`: rounding.
pub(crate) const COLUMN_BIAS: i32 = 512;
/// What the row pass adds before its `>> 17`: rounding, and the +128 level shift.
pub(crate) const ROW_BIAS: i32 = 65536 + (128 << 17);

/// One 1-D pass of the integer IDCT: returns (x0..x3, t0..t3) for the butterfly. Wrapping
/// arithmetic: C's `int` arithmetic in the reference, and no panic on hostile coefficients.
#[inline]
fn idct_1d(s: [i32; 8]) -> ([i32; 4], [i32; 4]) {
    use std::num::Wrapping as W;
    let k = W;
    let s = s.map(W);
    let p1 = (s[2] + s[6]) * k(fix::C0_541);
    let t2 = p1 + s[6] * k(fix::C1_848N);
    let t3 = p1 + s[2] * k(fix::C0_765);
    let t0 = (s[0] + s[4]) << 12;
    let t1 = (s[0] - s[4]) << 12;
    let x = [t0 + t3, t1 + t2, t1 - t2, t0 - t3];
    let (mut t0, mut t1, mut t2, mut t3) = (s[7], s[5], s[3], s[1]);
    let p3 = t0 + t2;
    let p4 = t1 + t3;
    let p1 = t0 + t3;
    let p2 = t1 + t2;
    let p5 = (p3 + p4) * k(fix::C1_176);
    t0 *= k(fix::C0_299);
    t1 *= k(fix::C2_053);
    t2 *= k(fix::C3_073);
    t3 *= k(fix::C1_501);
    let p1 = p5 + p1 * k(fix::C0_900N);
    let p2 = p5 + p2 * k(fix::C2_563N);
    let p3 = p3 * k(fix::C1_962N);
    let p4 = p4 * k(fix::C0_390N);
    t3 += p1 + p4;
    t2 += p2 + p3;
    t1 += p2 + p4;
    t0 += p1 + p3;
    (x.map(|v| v.0), [t0.0, t1.0, t2.0, t3.0])
}

fn clamp(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

pub(crate) fn check_idct(out: &[u8], stride: usize) {
    assert!(out.len() >= 7 * stride + 8, "8 rows of 8 samples");
}

/// Inverse DCT of one block of dequantized coefficients (natural order) into 8x8 samples.
pub fn idct_block(out: &mut [u8], stride: usize, d: &[i16; 64]) {
    check_idct(out, stride);
    let mut v = [0i32; 64];
    for i in 0..8 {
        let col = |r: usize| i32::from(d[r * 8 + i]);
        if (1..8).all(|r| col(r) == 0) {
            let dc = col(0) << 2;
            for r in 0..8 {
                v[r * 8 + i] = dc;
            }
        } else {
            let (x, t) = idct_1d([
                col(0),
                col(1),
                col(2),
                col(3),
                col(4),
                col(5),
                col(6),
                col(7),
            ]);
            let x = x.map(|x| x.wrapping_add(COLUMN_BIAS));
            for (j, (xj, tj)) in x.iter().zip(t.iter().rev()).enumerate() {
                v[j * 8 + i] = xj.wrapping_add(*tj) >> 10;
                v[(7 - j) * 8 + i] = xj.wrapping_sub(*tj) >> 10;
            }
        }
    }
    for r in 0..8 {
        let row: [i32; 8] = v[r * 8..r * 8 + 8].try_into().expect("8 values");
        let (x, t) = idct_1d(row);
        let x = x.map(|x| x.wrapping_add(ROW_BIAS));
        let o = &mut out[r * stride..r * stride + 8];
        for (j, (xj, tj)) in x.iter().zip(t.iter().rev()).enumerate() {
            o[j] = clamp(xj.wrapping_add(*tj) >> 17);
            o[7 - j] = clamp(xj.wrapping_sub(*tj) >> 17);
        }
    }
}

pub(crate) fn check_ycbcr(out: &[u8], y: &[u8], cb: &[u8], cr: &[u8]) -> usize {
    assert!(out.len().is_multiple_of(3), "whole RGB pixels");
    let w = out.len() / 3;
    assert!(
        y.len() >= w && cb.len() >= w && cr.len() >= w,
        "a Y, Cb and Cr sample a pixel"
    );
    w
}

/// One row of full-range (JFIF) Y, Cb, Cr samples to interleaved RGB, with stb_image's
/// reduced-precision factors (the green term of Cb keeps only its high 16 bits).
pub fn ycbcr_to_rgb(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    check_ycbcr(out, y, cb, cr);
    let (kr, kg_cr, kg_cb, kb) = (fix::CR_R, fix::CR_G, fix::CB_G, fix::CB_B);
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        let y_fixed = (i32::from(y[i]) << 20) + (1 << 19);
        let cr = i32::from(cr[i]) - 128;
        let cb = i32::from(cb[i]) - 128;
        let r = y_fixed + cr * kr;
        let g = y_fixed + cr * kg_cr + ((cb * kg_cb) & (0xffff_0000u32 as i32));
        let b = y_fixed + cb * kb;
        px[0] = (r >> 20).clamp(0, 255) as u8;
        px[1] = (g >> 20).clamp(0, 255) as u8;
        px[2] = (b >> 20).clamp(0, 255) as u8;
    }
}

pub(crate) fn check_upsample(out: &[u8], near: &[u8], far: &[u8]) -> usize {
    let w = near.len();
    assert!(w > 0, "a row of samples");
    assert!(
        far.len() >= w && out.len() >= 2 * w,
        "rows of {w} and {} samples",
        2 * w
    );
    w
}

fn div4(x: u32) -> u8 {
    (x >> 2) as u8
}

fn div16(x: u32) -> u8 {
    (x >> 4) as u8
}

/// One row of a chroma component subsampled 2x2 at full resolution (`2 * near.len()`
/// samples), from the nearer and the farther of its two closest input rows (weights 3:1
/// vertically, then 3:1 horizontally between neighbouring columns; the first and the last
/// output 3:1 vertically only).
pub fn upsample_h2v2(out: &mut [u8], near: &[u8], far: &[u8]) {
    let w = check_upsample(out, near, far);
    let (n, f) = (|i: usize| u32::from(near[i]), |i: usize| u32::from(far[i]));
    if w == 1 {
        let v = div4(3 * n(0) + f(0) + 2);
        out[0] = v;
        out[1] = v;
        return;
    }
    out[0] = div4(3 * n(0) + f(0) + 2);
    upsample_h2v2_columns(out, near, far, 1..w);
    out[2 * w - 1] = div4(3 * n(w - 1) + f(w - 1) + 2);
}

/// [`upsample_h2v2`]'s outputs `2i - 1` and `2i` for `i` in `columns` (from 1 on), which mix
/// input columns `i - 1` and `i`.
pub(crate) fn upsample_h2v2_columns(
    out: &mut [u8],
    near: &[u8],
    far: &[u8],
    columns: std::ops::Range<usize>,
) {
    let (n, f) = (|i: usize| u32::from(near[i]), |i: usize| u32::from(far[i]));
    let mut t1 = 3 * n(columns.start - 1) + f(columns.start - 1);
    for i in columns {
        let t0 = t1;
        t1 = 3 * n(i) + f(i);
        out[2 * i - 1] = div16(3 * t0 + t1 + 8);
        out[2 * i] = div16(3 * t1 + t0 + 8);
    }
}

/// One row of a chroma component subsampled 2x1 at full resolution (`2 * near.len()`
/// samples): each output 3:1 between its input column and the neighbour on its side; the first
/// and the last output copy the end columns.
pub fn upsample_h2v1(out: &mut [u8], near: &[u8]) {
    let w = check_upsample(out, near, near);
    let n = |i: usize| u32::from(near[i]);
    if w == 1 {
        out[0] = near[0];
        out[1] = near[0];
        return;
    }
    out[0] = near[0];
    out[1] = div4(n(0) * 3 + n(1) + 2);
    upsample_h2v1_columns(out, near, 1..w - 1);
    let i = w - 1;
    out[2 * i] = div4(n(w - 2) * 3 + n(w - 1) + 2);
    out[2 * i + 1] = near[w - 1];
}

/// [`upsample_h2v1`]'s outputs `2i` and `2i + 1` for the inner columns `i` in `columns`.
pub(crate) fn upsample_h2v1_columns(out: &mut [u8], near: &[u8], columns: std::ops::Range<usize>) {
    let n = |i: usize| u32::from(near[i]);
    for i in columns {
        let m = 3 * n(i) + 2;
        out[2 * i] = div4(m + n(i - 1));
        out[2 * i + 1] = div4(m + n(i + 1));
    }
}
