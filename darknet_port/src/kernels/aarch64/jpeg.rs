//! The JPEG decoder's kernels with NEON. The IDCT runs the generic integer IDCT on four
//! columns (then four rows) at once, one 32-bit lane each; the colour conversion sixteen pixels
//! a step; the upsampling eight columns a step in 16-bit lanes (its sums stay below 2^12). The
//! generic versions compute in wrapping 32-bit arithmetic and shift at fixed points; `mul`,
//! `add`, `and`, `shl` and `sshr` on 32-bit lanes are those very operations, and the saturating
//! narrows clamp to 0..=255 as the generic `clamp` does, so every lane gives the generic bits,
//! whatever the inputs.

use crate::kernels::generic::{self, jpeg_fix as fix, COLUMN_BIAS, ROW_BIAS};
use std::arch::aarch64::*;

pub(super) fn idct_block(out: &mut [u8], stride: usize, coefficients: &[i16; 64]) {
    generic::check_idct(out, stride);
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { idct_neon(out, stride, coefficients) }
}

/// The low 32 bits of the product: C's (and `Wrapping`'s) `int` multiplication.
#[target_feature(enable = "neon")]
fn mul(a: int32x4_t, c: i32) -> int32x4_t {
    vmulq_n_s32(a, c)
}

#[target_feature(enable = "neon")]
fn add(a: int32x4_t, b: int32x4_t) -> int32x4_t {
    vaddq_s32(a, b)
}

#[target_feature(enable = "neon")]
fn sub(a: int32x4_t, b: int32x4_t) -> int32x4_t {
    vsubq_s32(a, b)
}

/// [`generic::idct_block`]'s 1-D pass, lane by lane: the same products and sums (in a
/// different order only where wrapping addition makes the order irrelevant).
#[target_feature(enable = "neon")]
fn idct_1d(s: &[int32x4_t; 8]) -> ([int32x4_t; 4], [int32x4_t; 4]) {
    let p1 = mul(add(s[2], s[6]), fix::C0_541);
    let t2 = add(p1, mul(s[6], fix::C1_848N));
    let t3 = add(p1, mul(s[2], fix::C0_765));
    let t0 = vshlq_n_s32::<12>(add(s[0], s[4]));
    let t1 = vshlq_n_s32::<12>(sub(s[0], s[4]));
    let x = [add(t0, t3), add(t1, t2), sub(t1, t2), sub(t0, t3)];
    let (t0, t1, t2, t3) = (s[7], s[5], s[3], s[1]);
    let p3 = add(t0, t2);
    let p4 = add(t1, t3);
    let p1 = add(t0, t3);
    let p2 = add(t1, t2);
    let p5 = mul(add(p3, p4), fix::C1_176);
    let t0 = mul(t0, fix::C0_299);
    let t1 = mul(t1, fix::C2_053);
    let t2 = mul(t2, fix::C3_073);
    let t3 = mul(t3, fix::C1_501);
    let p1 = add(p5, mul(p1, fix::C0_900N));
    let p2 = add(p5, mul(p2, fix::C2_563N));
    let p3 = mul(p3, fix::C1_962N);
    let p4 = mul(p4, fix::C0_390N);
    (
        x,
        [
            add(t0, add(p1, p3)),
            add(t1, add(p2, p4)),
            add(t2, add(p2, p3)),
            add(t3, add(p1, p4)),
        ],
    )
}

/// The butterfly after a 1-D pass: output `j` and `7 - j` from `x[j]` and `t[3 - j]`, with the
/// bias added and the arithmetic shift by `SHIFT`.
#[target_feature(enable = "neon")]
fn butterfly<const SHIFT: i32>(s: &[int32x4_t; 8], bias: i32) -> [int32x4_t; 8] {
    let (x, t) = idct_1d(s);
    let bias = vdupq_n_s32(bias);
    let mut v = [vdupq_n_s32(0); 8];
    for j in 0..4 {
        let xj = add(x[j], bias);
        v[j] = vshrq_n_s32::<SHIFT>(add(xj, t[3 - j]));
        v[7 - j] = vshrq_n_s32::<SHIFT>(sub(xj, t[3 - j]));
    }
    v
}

/// A 4x4 transpose: vector `k` of the result holds lane `k` of each input.
#[target_feature(enable = "neon")]
fn transpose4(m: [int32x4_t; 4]) -> [int32x4_t; 4] {
    let (a0, a1) = (vtrn1q_s32(m[0], m[1]), vtrn2q_s32(m[0], m[1]));
    let (a2, a3) = (vtrn1q_s32(m[2], m[3]), vtrn2q_s32(m[2], m[3]));
    let w = |v: int32x4_t| vreinterpretq_s64_s32(v);
    let n = |v: int64x2_t| vreinterpretq_s32_s64(v);
    [
        n(vtrn1q_s64(w(a0), w(a2))),
        n(vtrn1q_s64(w(a1), w(a3))),
        n(vtrn2q_s64(w(a0), w(a2))),
        n(vtrn2q_s64(w(a1), w(a3))),
    ]
}

/// An 8x8 block held as two halves of 8 vectors: `lo[r]` lanes 0..4 of row `r`, `hi[r]` lanes
/// 4..8. Returns the transposed block in the same form.
#[target_feature(enable = "neon")]
fn transpose8(lo: &[int32x4_t; 8], hi: &[int32x4_t; 8]) -> ([int32x4_t; 8], [int32x4_t; 8]) {
    let quarter = |h: &[int32x4_t; 8], r: usize| transpose4([h[r], h[r + 1], h[r + 2], h[r + 3]]);
    // the top-left and bottom-right quarters stay in place, the other two swap
    let (a, b) = (quarter(lo, 0), quarter(lo, 4));
    let (c, d) = (quarter(hi, 0), quarter(hi, 4));
    (
        [a[0], a[1], a[2], a[3], c[0], c[1], c[2], c[3]],
        [b[0], b[1], b[2], b[3], d[0], d[1], d[2], d[3]],
    )
}

#[target_feature(enable = "neon")]
fn idct_neon(out: &mut [u8], stride: usize, d: &[i16; 64]) {
    // Columns: vector r holds coefficient row r, lane i column i (or 4 + i). The generic
    // code's shortcut for a column with only a DC term gives what the full pass gives
    // (`(dc << 12 + 512) >> 10` is `dc << 2` for a 16-bit `dc`), so every column takes it.
    let mut lo = [vdupq_n_s32(0); 8];
    let mut hi = [vdupq_n_s32(0); 8];
    for r in 0..8 {
        // SAFETY: row r is coefficients 8r..8r + 8 of the 64.
        let row = unsafe { vld1q_s16(d.as_ptr().add(r * 8)) };
        lo[r] = vmovl_s16(vget_low_s16(row));
        hi[r] = vmovl_s16(vget_high_s16(row));
    }
    let (lo, hi) = (
        butterfly::<10>(&lo, COLUMN_BIAS),
        butterfly::<10>(&hi, COLUMN_BIAS),
    );
    // Rows: after the transpose vector k holds column k of the intermediate block, lanes rows.
    let (lo, hi) = transpose8(&lo, &hi);
    let (lo, hi) = (
        butterfly::<17>(&lo, ROW_BIAS),
        butterfly::<17>(&hi, ROW_BIAS),
    );
    // Back to vector r = output row r, then saturating narrows to 16 and to 8 bits.
    let (lo, hi) = transpose8(&lo, &hi);
    for r in 0..8 {
        let row = vqmovun_s16(vcombine_s16(vqmovn_s32(lo[r]), vqmovn_s32(hi[r])));
        let dst = &mut out[r * stride..][..8];
        // SAFETY: `dst` holds exactly 8 bytes.
        unsafe { vst1_u8(dst.as_mut_ptr(), row) };
    }
}

pub(super) fn ycbcr_to_rgb(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    let w = generic::check_ycbcr(out, y, cb, cr);
    let full = w / 16 * 16;
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway; the
    // lengths were checked just above.
    unsafe { ycbcr_neon(&mut out[..full * 3], y, cb, cr) };
    if full < w {
        generic::ycbcr_to_rgb(&mut out[full * 3..], &y[full..], &cb[full..], &cr[full..]);
    }
}

/// `out` holds a whole number of 16-pixel blocks; `y`, `cb` and `cr` a byte for each pixel.
#[target_feature(enable = "neon")]
fn ycbcr_neon(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    let half = vdupq_n_s32(1 << 19);
    let offset = vdupq_n_s32(128);
    let high16 = vdupq_n_s32(0xffff_0000u32 as i32);
    // four 4-pixel quarters of 16 bytes, widened to 32-bit lanes
    let quarters = |v: uint8x16_t| {
        let (l, h) = (vmovl_u8(vget_low_u8(v)), vmovl_u8(vget_high_u8(v)));
        [
            vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(l))),
            vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(l))),
            vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h))),
            vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(h))),
        ]
    };
    // clamping to 0..=255 as the generic `clamp`: saturating to 16 bits, then to 8
    let bytes = |q: [int32x4_t; 4]| {
        vcombine_u8(
            vqmovun_s16(vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]))),
            vqmovun_s16(vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]))),
        )
    };
    for (block, px) in out.chunks_exact_mut(48).enumerate() {
        // SAFETY: pixels 16b..16b + 16 exist and each plane holds a byte a pixel (checked by
        // the caller).
        let (yv, cbv, crv) = unsafe {
            (
                vld1q_u8(y.as_ptr().add(block * 16)),
                vld1q_u8(cb.as_ptr().add(block * 16)),
                vld1q_u8(cr.as_ptr().add(block * 16)),
            )
        };
        let (yq, cbq, crq) = (quarters(yv), quarters(cbv), quarters(crv));
        let mut rgb = [[vdupq_n_s32(0); 4]; 3];
        for k in 0..4 {
            let y_fixed = add(vshlq_n_s32::<20>(yq[k]), half);
            let cr = sub(crq[k], offset);
            let cb = sub(cbq[k], offset);
            let g_cb = vandq_s32(mul(cb, fix::CB_G), high16);
            rgb[0][k] = vshrq_n_s32::<20>(add(y_fixed, mul(cr, fix::CR_R)));
            rgb[1][k] = vshrq_n_s32::<20>(add(add(y_fixed, mul(cr, fix::CR_G)), g_cb));
            rgb[2][k] = vshrq_n_s32::<20>(add(y_fixed, mul(cb, fix::CB_B)));
        }
        let planes = uint8x16x3_t(bytes(rgb[0]), bytes(rgb[1]), bytes(rgb[2]));
        // SAFETY: `px` holds exactly 48 bytes, 16 interleaved RGB pixels.
        unsafe { vst3q_u8(px.as_mut_ptr(), planes) };
    }
}

pub(super) fn upsample_h2v2(out: &mut [u8], near: &[u8], far: &[u8]) {
    let w = generic::check_upsample(out, near, far);
    // Inner columns 1..=8k in vectors (each reads input columns i - 1 and i), the rest and the
    // two ends as the generic kernel does them.
    let vectors = (w - 1) / 8;
    if vectors == 0 {
        return generic::upsample_h2v2(out, near, far);
    }
    // SAFETY: NEON is part of the aarch64 target; `vectors` 8-column steps from column 1 need
    // input columns 0..8 * vectors + 1 <= w and outputs 1..16 * vectors + 1 < 2w, inside the
    // rows as checked above.
    unsafe { upsample_h2v2_neon(out, near, far, vectors) };
    let done = 8 * vectors + 1;
    generic::upsample_h2v2_columns(out, near, far, done..w);
    let t = |i: usize| 3 * u32::from(near[i]) + u32::from(far[i]);
    out[0] = ((t(0) + 2) >> 2) as u8;
    out[2 * w - 1] = ((t(w - 1) + 2) >> 2) as u8;
}

/// Outputs `2i - 1` and `2i` for columns `i` in `1..8 * vectors + 1`.
#[target_feature(enable = "neon")]
fn upsample_h2v2_neon(out: &mut [u8], near: &[u8], far: &[u8], vectors: usize) {
    // 3 * near + far of 8 columns from `at`, 16-bit lanes
    let column_sums = |at: usize| {
        // SAFETY: the caller's `vectors` keeps columns at..at + 8 inside both rows.
        let (n, f) = unsafe {
            (
                vld1_u8(near.as_ptr().add(at)),
                vld1_u8(far.as_ptr().add(at)),
            )
        };
        vmlal_u8(vmovl_u8(f), n, vdup_n_u8(3))
    };
    for v in 0..vectors {
        let i = 1 + 8 * v;
        let (t0, t1) = (column_sums(i - 1), column_sums(i));
        // 3 * a + b + 8, then >> 4: below 2^12, narrowed exactly
        let mix = |a: uint16x8_t, b: uint16x8_t| {
            vshrn_n_u16::<4>(vmlaq_n_u16(vaddq_u16(b, vdupq_n_u16(8)), a, 3))
        };
        let pairs = uint8x8x2_t(mix(t0, t1), mix(t1, t0));
        // SAFETY: outputs 2i - 1..2i + 15 are inside `out` (see the caller); `st2` writes
        // them as (odd, even) pairs in memory order.
        unsafe { vst2_u8(out.as_mut_ptr().add(2 * i - 1), pairs) };
    }
}

pub(super) fn upsample_h2v1(out: &mut [u8], near: &[u8]) {
    let w = generic::check_upsample(out, near, near);
    // Inner columns 1..=8k in vectors (each reads input columns i - 1, i and i + 1), the rest
    // and the two ends as the generic kernel does them.
    let vectors = w.saturating_sub(2) / 8;
    if vectors == 0 {
        return generic::upsample_h2v1(out, near);
    }
    // SAFETY: NEON is part of the aarch64 target; `vectors` 8-column steps from column 1 read
    // input columns 0..8 * vectors + 2 <= w and write outputs 2..16 * vectors + 2 <= 2w - 2,
    // inside the rows as checked above.
    unsafe { upsample_h2v1_neon(out, near, vectors) };
    let done = 8 * vectors + 1;
    generic::upsample_h2v1_columns(out, near, done..w - 1);
    let n = |i: usize| u32::from(near[i]);
    out[0] = near[0];
    out[1] = ((n(0) * 3 + n(1) + 2) >> 2) as u8;
    out[2 * w - 2] = ((n(w - 2) * 3 + n(w - 1) + 2) >> 2) as u8;
    out[2 * w - 1] = near[w - 1];
}

/// Outputs `2i` and `2i + 1` for columns `i` in `1..8 * vectors + 1`.
#[target_feature(enable = "neon")]
fn upsample_h2v1_neon(out: &mut [u8], near: &[u8], vectors: usize) {
    // 8 columns from `at`
    let columns = |at: usize| {
        // SAFETY: the caller's `vectors` keeps columns at..at + 8 inside the row.
        unsafe { vld1_u8(near.as_ptr().add(at)) }
    };
    for v in 0..vectors {
        let i = 1 + 8 * v;
        let (left, n, right) = (columns(i - 1), columns(i), columns(i + 1));
        // 3 * n + 2, 16-bit lanes
        let m = vmlal_u8(vdupq_n_u16(2), n, vdup_n_u8(3));
        // (m + neighbour) >> 2 is below 2^10 >> 2: narrowed exactly
        let even = vshrn_n_u16::<2>(vaddw_u8(m, left));
        let odd = vshrn_n_u16::<2>(vaddw_u8(m, right));
        // SAFETY: outputs 2i..2i + 16 are inside `out` (see the caller); `st2` writes them as
        // (even, odd) pairs in memory order.
        unsafe { vst2_u8(out.as_mut_ptr().add(2 * i), uint8x8x2_t(even, odd)) };
    }
}
