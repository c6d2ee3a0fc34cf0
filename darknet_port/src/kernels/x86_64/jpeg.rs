//! The JPEG decoder's kernels with AVX2. The IDCT runs the generic integer IDCT on eight
//! columns (then eight rows) at once, one 32-bit lane each; the colour conversion eight pixels
//! a vector; the upsampling sixteen columns a vector in 16-bit lanes (its sums stay below
//! 2^12). The generic versions compute in wrapping 32-bit arithmetic and shift at fixed
//! points; `vpmulld`, `vpaddd`, `vpand`, `vpslld` and `vpsrad` are those very operations, so
//! every lane gives the generic bits, whatever the inputs.

use super::colour::store_rgb;
use crate::kernels::generic::{self, jpeg_fix as fix, COLUMN_BIAS, ROW_BIAS};
use std::arch::x86_64::*;

pub(super) fn idct_block(out: &mut [u8], stride: usize, coefficients: &[i16; 64]) {
    generic::check_idct(out, stride);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { idct_avx2(out, stride, coefficients) }
}

#[target_feature(enable = "avx2")]
fn add(a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi32(a, b)
}

#[target_feature(enable = "avx2")]
fn sub(a: __m256i, b: __m256i) -> __m256i {
    _mm256_sub_epi32(a, b)
}

/// The low 32 bits of the product: C's (and `Wrapping`'s) `int` multiplication.
#[target_feature(enable = "avx2")]
fn mul(a: __m256i, c: i32) -> __m256i {
    _mm256_mullo_epi32(a, _mm256_set1_epi32(c))
}

/// [`generic::idct_block`]'s 1-D pass, lane by lane: the same products and sums (in a
/// different order only where wrapping addition makes the order irrelevant).
#[target_feature(enable = "avx2")]
fn idct_1d(s: &[__m256i; 8]) -> ([__m256i; 4], [__m256i; 4]) {
    let p1 = mul(add(s[2], s[6]), fix::C0_541);
    let t2 = add(p1, mul(s[6], fix::C1_848N));
    let t3 = add(p1, mul(s[2], fix::C0_765));
    let t0 = _mm256_slli_epi32::<12>(add(s[0], s[4]));
    let t1 = _mm256_slli_epi32::<12>(sub(s[0], s[4]));
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
#[target_feature(enable = "avx2")]
fn butterfly<const SHIFT: i32>(s: &[__m256i; 8], bias: i32) -> [__m256i; 8] {
    let (x, t) = idct_1d(s);
    let bias = _mm256_set1_epi32(bias);
    let mut v = [_mm256_setzero_si256(); 8];
    for j in 0..4 {
        let xj = add(x[j], bias);
        v[j] = _mm256_srai_epi32::<SHIFT>(add(xj, t[3 - j]));
        v[7 - j] = _mm256_srai_epi32::<SHIFT>(sub(xj, t[3 - j]));
    }
    v
}

/// Vector `k` of the result holds lane `k` of each input vector (an 8x8 transpose).
#[target_feature(enable = "avx2")]
fn transpose(m: &[__m256i; 8]) -> [__m256i; 8] {
    // pairs of 32-bit values, then of 64-bit ones, within each 128-bit half ...
    let a = [
        _mm256_unpacklo_epi32(m[0], m[1]),
        _mm256_unpackhi_epi32(m[0], m[1]),
        _mm256_unpacklo_epi32(m[2], m[3]),
        _mm256_unpackhi_epi32(m[2], m[3]),
        _mm256_unpacklo_epi32(m[4], m[5]),
        _mm256_unpackhi_epi32(m[4], m[5]),
        _mm256_unpacklo_epi32(m[6], m[7]),
        _mm256_unpackhi_epi32(m[6], m[7]),
    ];
    let b = [
        _mm256_unpacklo_epi64(a[0], a[2]),
        _mm256_unpackhi_epi64(a[0], a[2]),
        _mm256_unpacklo_epi64(a[1], a[3]),
        _mm256_unpackhi_epi64(a[1], a[3]),
        _mm256_unpacklo_epi64(a[4], a[6]),
        _mm256_unpackhi_epi64(a[4], a[6]),
        _mm256_unpacklo_epi64(a[5], a[7]),
        _mm256_unpackhi_epi64(a[5], a[7]),
    ];
    // ... then the halves: b[k] holds lanes k and k + 4 of inputs 0..4, b[k + 4] of 4..8.
    [
        _mm256_permute2x128_si256::<0x20>(b[0], b[4]),
        _mm256_permute2x128_si256::<0x20>(b[1], b[5]),
        _mm256_permute2x128_si256::<0x20>(b[2], b[6]),
        _mm256_permute2x128_si256::<0x20>(b[3], b[7]),
        _mm256_permute2x128_si256::<0x31>(b[0], b[4]),
        _mm256_permute2x128_si256::<0x31>(b[1], b[5]),
        _mm256_permute2x128_si256::<0x31>(b[2], b[6]),
        _mm256_permute2x128_si256::<0x31>(b[3], b[7]),
    ]
}

#[target_feature(enable = "avx2")]
fn idct_avx2(out: &mut [u8], stride: usize, d: &[i16; 64]) {
    // Columns: vector r holds coefficient row r, lane i column i. The generic code's shortcut
    // for a column with only a DC term gives what the full pass gives (`(dc << 12 + 512) >> 10`
    // is `dc << 2` for a 16-bit `dc`), so every column takes the full pass here.
    let mut s = [_mm256_setzero_si256(); 8];
    for (r, v) in s.iter_mut().enumerate() {
        // SAFETY: row r is coefficients 8r..8r + 8 of the 64, 16 bytes.
        *v = _mm256_cvtepi16_epi32(unsafe { _mm_loadu_si128(d.as_ptr().add(r * 8).cast()) });
    }
    let columns = butterfly::<10>(&s, COLUMN_BIAS);
    // Rows: after the transpose vector k holds column k of the intermediate block, lane r row r.
    let rows = butterfly::<17>(&transpose(&columns), ROW_BIAS);
    // Back to vector r = output row r, lane j = sample j.
    let o = transpose(&rows);
    // Saturating packs to 16 then 8 bits clamp to 0..=255 as the generic `clamp` does; they
    // interleave 4-sample halves of rows 0..4 (and 4..8), which the permute puts back in order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (half, o) in o.chunks_exact(4).enumerate() {
        let bytes = _mm256_packus_epi16(
            _mm256_packs_epi32(o[0], o[1]),
            _mm256_packs_epi32(o[2], o[3]),
        );
        let bytes = _mm256_permutevar8x32_epi32(bytes, order);
        let (lo, hi) = (
            _mm256_castsi256_si128(bytes),
            _mm256_extracti128_si256::<1>(bytes),
        );
        let samples = [
            _mm_cvtsi128_si64(lo),
            _mm_extract_epi64::<1>(lo),
            _mm_cvtsi128_si64(hi),
            _mm_extract_epi64::<1>(hi),
        ];
        for (k, v) in samples.iter().enumerate() {
            let r = half * 4 + k;
            out[r * stride..][..8].copy_from_slice(&v.to_le_bytes());
        }
    }
}

pub(super) fn ycbcr_to_rgb(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    let w = generic::check_ycbcr(out, y, cb, cr);
    let full = w / 16 * 16;
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected; the
    // lengths were checked just above.
    unsafe { ycbcr_avx2(&mut out[..full * 3], y, cb, cr) };
    if full < w {
        generic::ycbcr_to_rgb(&mut out[full * 3..], &y[full..], &cb[full..], &cr[full..]);
    }
}

/// `out` holds a whole number of 16-pixel blocks; `y`, `cb` and `cr` a byte for each pixel.
#[target_feature(enable = "avx2")]
fn ycbcr_avx2(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    let half = _mm256_set1_epi32(1 << 19);
    let offset = _mm256_set1_epi32(128);
    let high16 = _mm256_set1_epi32(0xffff_0000u32 as i32);
    // The saturating packs interleave 4-pixel groups of the two 8-pixel halves: put them back.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let bytes = |lo: __m256i, hi: __m256i| -> __m128i {
        // clamping to 0..=255 as the generic `clamp`: saturating to 16 bits, then to 8
        let v = _mm256_packus_epi16(_mm256_packs_epi32(lo, hi), _mm256_setzero_si256());
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, order))
    };
    for (block, px) in out.chunks_exact_mut(48).enumerate() {
        // SAFETY: pixels 16b..16b + 16 exist and each plane holds a byte a pixel (checked by
        // the caller).
        let (yv, cbv, crv) = unsafe {
            (
                _mm_loadu_si128(y.as_ptr().add(block * 16).cast()),
                _mm_loadu_si128(cb.as_ptr().add(block * 16).cast()),
                _mm_loadu_si128(cr.as_ptr().add(block * 16).cast()),
            )
        };
        // pixels 0..8 and 8..16 of the block, one 32-bit lane each
        let mut rgb = [[_mm256_setzero_si256(); 2]; 3];
        for (h, shift) in [(0, 0), (1, 8)] {
            let take = |v: __m128i| {
                let v = if shift == 0 {
                    v
                } else {
                    _mm_srli_si128::<8>(v)
                };
                _mm256_cvtepu8_epi32(v)
            };
            let y_fixed = add(_mm256_slli_epi32::<20>(take(yv)), half);
            let cr = sub(take(crv), offset);
            let cb = sub(take(cbv), offset);
            let g_cb = _mm256_and_si256(mul(cb, fix::CB_G), high16);
            rgb[0][h] = _mm256_srai_epi32::<20>(add(y_fixed, mul(cr, fix::CR_R)));
            rgb[1][h] = _mm256_srai_epi32::<20>(add(add(y_fixed, mul(cr, fix::CR_G)), g_cb));
            rgb[2][h] = _mm256_srai_epi32::<20>(add(y_fixed, mul(cb, fix::CB_B)));
        }
        store_rgb(px, rgb.map(|[lo, hi]| bytes(lo, hi)));
    }
}

pub(super) fn upsample_h2v2(out: &mut [u8], near: &[u8], far: &[u8]) {
    let w = generic::check_upsample(out, near, far);
    // Inner columns 1..=16k in vectors (each reads input columns i - 1 and i), the rest and
    // the two ends as the generic kernel does them.
    let vectors = (w - 1) / 16;
    if vectors == 0 {
        return generic::upsample_h2v2(out, near, far);
    }
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected;
    // `vectors` 16-column steps from column 1 need input columns 0..16 * vectors + 1 <= w and
    // outputs 1..32 * vectors + 1 < 2w, inside the rows as checked above.
    unsafe { upsample_h2v2_avx2(out, near, far, vectors) };
    let done = 16 * vectors + 1;
    generic::upsample_h2v2_columns(out, near, far, done..w);
    let t = |i: usize| 3 * u32::from(near[i]) + u32::from(far[i]);
    out[0] = ((t(0) + 2) >> 2) as u8;
    out[2 * w - 1] = ((t(w - 1) + 2) >> 2) as u8;
}

/// Outputs `2i - 1` and `2i` for columns `i` in `1..16 * vectors + 1`.
#[target_feature(enable = "avx2")]
fn upsample_h2v2_avx2(out: &mut [u8], near: &[u8], far: &[u8], vectors: usize) {
    let eight = _mm256_set1_epi16(8);
    // 3 * near + far of 16 columns from `at`, 16-bit lanes
    let column_sums = |at: usize| {
        // SAFETY: the caller's `vectors` keeps columns at..at + 16 inside both rows.
        let (n, f) = unsafe {
            (
                _mm_loadu_si128(near.as_ptr().add(at).cast()),
                _mm_loadu_si128(far.as_ptr().add(at).cast()),
            )
        };
        let (n, f) = (_mm256_cvtepu8_epi16(n), _mm256_cvtepu8_epi16(f));
        _mm256_add_epi16(_mm256_add_epi16(n, n), _mm256_add_epi16(n, f))
    };
    for v in 0..vectors {
        let i = 1 + 16 * v;
        let (t0, t1) = (column_sums(i - 1), column_sums(i));
        let triple = |a: __m256i| _mm256_add_epi16(_mm256_add_epi16(a, a), a);
        let odd = _mm256_srli_epi16::<4>(_mm256_add_epi16(_mm256_add_epi16(triple(t0), t1), eight));
        let even =
            _mm256_srli_epi16::<4>(_mm256_add_epi16(_mm256_add_epi16(triple(t1), t0), eight));
        // Both fit in a byte: the 16-bit lane odd | even << 8 is the output pair 2i - 1, 2i
        // in memory order, so the 16 lanes are outputs 2i - 1..2i + 31.
        let pairs = _mm256_or_si256(odd, _mm256_slli_epi16::<8>(even));
        // SAFETY: outputs 2i - 1..2i + 31 are inside `out` (see the caller).
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(2 * i - 1).cast(), pairs) };
    }
}

pub(super) fn upsample_h2v1(out: &mut [u8], near: &[u8]) {
    let w = generic::check_upsample(out, near, near);
    // Inner columns 1..=16k in vectors (each reads input columns i - 1, i and i + 1), the
    // rest and the two ends as the generic kernel does them.
    let vectors = w.saturating_sub(2) / 16;
    if vectors == 0 {
        return generic::upsample_h2v1(out, near);
    }
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected;
    // `vectors` 16-column steps from column 1 read input columns 0..16 * vectors + 2 <= w and
    // write outputs 2..32 * vectors + 2 <= 2w - 2, inside the rows as checked above.
    unsafe { upsample_h2v1_avx2(out, near, vectors) };
    let done = 16 * vectors + 1;
    generic::upsample_h2v1_columns(out, near, done..w - 1);
    let n = |i: usize| u32::from(near[i]);
    out[0] = near[0];
    out[1] = ((n(0) * 3 + n(1) + 2) >> 2) as u8;
    out[2 * w - 2] = ((n(w - 2) * 3 + n(w - 1) + 2) >> 2) as u8;
    out[2 * w - 1] = near[w - 1];
}

/// Outputs `2i` and `2i + 1` for columns `i` in `1..16 * vectors + 1`.
#[target_feature(enable = "avx2")]
fn upsample_h2v1_avx2(out: &mut [u8], near: &[u8], vectors: usize) {
    let two = _mm256_set1_epi16(2);
    // 16 columns from `at`, 16-bit lanes
    let columns = |at: usize| {
        // SAFETY: the caller's `vectors` keeps columns at..at + 16 inside the row.
        _mm256_cvtepu8_epi16(unsafe { _mm_loadu_si128(near.as_ptr().add(at).cast()) })
    };
    for v in 0..vectors {
        let i = 1 + 16 * v;
        let (left, n, right) = (columns(i - 1), columns(i), columns(i + 1));
        let m = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(n, n), n), two);
        let even = _mm256_srli_epi16::<2>(_mm256_add_epi16(m, left));
        let odd = _mm256_srli_epi16::<2>(_mm256_add_epi16(m, right));
        // Both fit in a byte: the 16-bit lane even | odd << 8 is the output pair 2i, 2i + 1 in
        // memory order.
        let pairs = _mm256_or_si256(even, _mm256_slli_epi16::<8>(odd));
        // SAFETY: outputs 2i..2i + 32 are inside `out` (see the caller).
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(2 * i).cast(), pairs) };
    }
}
