//! YUYV and NV12 to RGB with AVX2: sixteen pixels a step, the generic integer formula in
//! 32-bit lanes (`vpmaddwd` forms each pair of products exactly), clamped by saturating packs.

use crate::kernels::generic;
use std::arch::x86_64::*;

pub(super) fn yuyv_to_rgb(src: &[u8], dst: &mut [u8]) {
    let w = generic::check_yuyv(src, dst);
    let full = w / 16 * 16;
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected; the
    // lengths were checked just above.
    unsafe { yuyv_avx2(src, &mut dst[..full * 3]) };
    if full < w {
        generic::yuyv_to_rgb(&src[full * 2..], &mut dst[full * 3..]);
    }
}

pub(super) fn nv12_to_rgb(luma: &[u8], chroma: &[u8], dst: &mut [u8]) {
    let w = generic::check_nv12(luma, chroma, dst);
    let full = w / 16 * 16;
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected; the
    // lengths were checked just above.
    unsafe { nv12_avx2(luma, chroma, &mut dst[..full * 3]) };
    if full < w {
        generic::nv12_to_rgb(&luma[full..], &chroma[full..], &mut dst[full * 3..]);
    }
}

/// `dst` holds a whole number of 16-pixel blocks; `src` at least 32 bytes for each.
#[target_feature(enable = "avx2")]
fn yuyv_avx2(src: &[u8], dst: &mut [u8]) {
    let low_byte = _mm256_set1_epi16(0xff);
    for (block, out) in dst.chunks_exact_mut(48).enumerate() {
        // SAFETY: block b's 16 pixels are bytes 32b..32b + 32 of `src`, inside it as the
        // caller checked (the row holds at least 2 bytes a pixel).
        let v = unsafe { _mm256_loadu_si256(src.as_ptr().add(block * 32).cast()) };
        // Y0 U0 Y1 V0 ...: the low bytes of the 16-bit lanes are Y, the high ones U, V, U, V.
        let y = _mm256_and_si256(v, low_byte);
        let uv = _mm256_srli_epi16::<8>(v);
        store_rgb(out, convert(y, uv));
    }
}

#[target_feature(enable = "avx2")]
fn nv12_avx2(luma: &[u8], chroma: &[u8], dst: &mut [u8]) {
    for (block, out) in dst.chunks_exact_mut(48).enumerate() {
        // SAFETY: pixels 16b..16b + 16 exist, and luma and chroma hold at least a byte a pixel
        // (checked by the caller).
        let (y, uv) = unsafe {
            (
                _mm_loadu_si128(luma.as_ptr().add(block * 16).cast()),
                _mm_loadu_si128(chroma.as_ptr().add(block * 16).cast()),
            )
        };
        store_rgb(
            out,
            convert(_mm256_cvtepu8_epi16(y), _mm256_cvtepu8_epi16(uv)),
        );
    }
}

/// Two 16-bit coefficients for `vpmaddwd`: `a` multiplies the low half of a pair, `b` the high.
fn pair(a: i16, b: i16) -> i32 {
    (u32::from(b as u16) << 16 | u32::from(a as u16)) as i32
}

/// 16 pixels: `y` their Y values, `uv` the pairs U, V (one pair for two pixels), all as
/// 16-bit lanes. Returns R, G, B, 16 bytes each.
#[target_feature(enable = "avx2")]
fn convert(y: __m256i, uv: __m256i) -> [__m128i; 3] {
    // Each 32-bit lane of `uv` is U | V << 16 for the two pixels in the same lane of `y`.
    let u = _mm256_and_si256(uv, _mm256_set1_epi32(0xffff));
    let v = _mm256_srli_epi32::<16>(uv);
    let u = _mm256_or_si256(u, _mm256_slli_epi32::<16>(u));
    let v = _mm256_or_si256(v, _mm256_slli_epi32::<16>(v));
    let c = _mm256_sub_epi16(y, _mm256_set1_epi16(16));
    let d = _mm256_sub_epi16(u, _mm256_set1_epi16(128));
    let e = _mm256_sub_epi16(v, _mm256_set1_epi16(128));
    let e1 = (
        _mm256_unpacklo_epi16(e, _mm256_set1_epi16(1)),
        _mm256_unpackhi_epi16(e, _mm256_set1_epi16(1)),
    );
    let ce = (_mm256_unpacklo_epi16(c, e), _mm256_unpackhi_epi16(c, e));
    let cd = (_mm256_unpacklo_epi16(c, d), _mm256_unpackhi_epi16(c, d));
    let round = _mm256_set1_epi32(128);
    // (lo, hi) halves in unpack order; the signed pack restores pixel order.
    let channel = |lo: __m256i, hi: __m256i| -> __m128i {
        let v16 = _mm256_packs_epi32(_mm256_srai_epi32::<8>(lo), _mm256_srai_epi32::<8>(hi));
        let v8 = _mm256_packus_epi16(v16, v16);
        _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(v8))
    };
    let (r_ce, g_cd, g_e1, b_cd) = (
        _mm256_set1_epi32(pair(298, 409)),
        _mm256_set1_epi32(pair(298, -100)),
        _mm256_set1_epi32(pair(-208, 128)),
        _mm256_set1_epi32(pair(298, 516)),
    );
    let r = channel(
        _mm256_add_epi32(_mm256_madd_epi16(ce.0, r_ce), round),
        _mm256_add_epi32(_mm256_madd_epi16(ce.1, r_ce), round),
    );
    let g = channel(
        _mm256_add_epi32(_mm256_madd_epi16(cd.0, g_cd), _mm256_madd_epi16(e1.0, g_e1)),
        _mm256_add_epi32(_mm256_madd_epi16(cd.1, g_cd), _mm256_madd_epi16(e1.1, g_e1)),
    );
    let b = channel(
        _mm256_add_epi32(_mm256_madd_epi16(cd.0, b_cd), round),
        _mm256_add_epi32(_mm256_madd_epi16(cd.1, b_cd), round),
    );
    [r, g, b]
}

/// Shuffle masks interleaving three 16-byte planes into RGB: byte `i` of output vector `k`
/// takes byte `(16k + i) / 3` of plane `(16k + i) % 3` (the other masks' 0x80 give zeros).
const fn interleave_mask(k: usize, plane: usize) -> [u8; 16] {
    let mut m = [0x80u8; 16];
    let mut i = 0;
    while i < 16 {
        let p = 16 * k + i;
        if p % 3 == plane {
            m[i] = (p / 3) as u8;
        }
        i += 1;
    }
    m
}

static MASKS: [[[u8; 16]; 3]; 3] = {
    let mut m = [[[0u8; 16]; 3]; 3];
    let mut k = 0;
    while k < 3 {
        let mut p = 0;
        while p < 3 {
            m[k][p] = interleave_mask(k, p);
            p += 1;
        }
        k += 1;
    }
    m
};

/// 16 pixels' R, G and B bytes interleaved into the 48 bytes of `out`.
#[target_feature(enable = "avx2")]
pub(super) fn store_rgb(out: &mut [u8], rgb: [__m128i; 3]) {
    assert_eq!(out.len(), 48);
    for (k, masks) in MASKS.iter().enumerate() {
        let mut v = _mm_setzero_si128();
        for (plane, mask) in rgb.iter().zip(masks) {
            // SAFETY: each mask is 16 bytes.
            let mask = unsafe { _mm_loadu_si128(mask.as_ptr().cast()) };
            v = _mm_or_si128(v, _mm_shuffle_epi8(*plane, mask));
        }
        // SAFETY: `out` is 48 bytes long (asserted above), so bytes 16k..16k + 16 exist.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().add(16 * k).cast(), v) };
    }
}
