//! Quantization with AVX2: eight pixels a vector, channel by channel.

use crate::kernels::generic;
use std::arch::x86_64::*;

pub(super) fn quantize_row(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &mut [u64],
) {
    let w = generic::check_quantize(src, plane, channels, max, bits, planes);
    let full = w / 8 * 8;
    let stride = bits * channels.div_ceil(64);
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected; the
    // shapes were checked just above.
    unsafe {
        quantize_avx2(
            src,
            plane,
            channels,
            max,
            bits,
            &mut planes[..full * stride],
        )
    };
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

/// The level of eight values as in [`generic::level`]: the same f32 operations in the same
/// order. `vmaxps(x, 0)` returns 0 for NaN, which the generic code reaches through the cast.
#[target_feature(enable = "avx2")]
fn levels(v: __m256, max: __m256, top: __m256) -> __m256i {
    let clamped = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), max);
    let scaled = _mm256_mul_ps(_mm256_div_ps(clamped, max), top);
    _mm256_cvttps_epi32(_mm256_round_ps::<
        { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
    >(scaled))
}

/// Whole blocks of eight pixels (`planes` holds exactly those). Each pixel's bit `b` of 32
/// channels collects in one 32-bit lane, then goes to its half of the plane word.
#[target_feature(enable = "avx2")]
fn quantize_avx2(
    src: &[f32],
    plane: usize,
    channels: usize,
    max: f32,
    bits: usize,
    planes: &mut [u64],
) {
    let words = channels.div_ceil(64);
    let stride = bits * words;
    let (vmax, vtop) = (
        _mm256_set1_ps(max),
        _mm256_set1_ps(((1u32 << bits) - 1) as f32),
    );
    let one = _mm256_set1_epi32(1);
    for (block, pixels) in planes.chunks_exact_mut(8 * stride).enumerate() {
        let x = block * 8;
        pixels.fill(0);
        for c0 in (0..channels).step_by(32) {
            let mut acc = [_mm256_setzero_si256(); 8];
            for c in c0..channels.min(c0 + 32) {
                // SAFETY: c < channels and x + 8 <= w, so c*plane + x + 8 <= src.len()
                // (checked by the caller).
                let v = unsafe { _mm256_loadu_ps(src.as_ptr().add(c * plane + x)) };
                let level = levels(v, vmax, vtop);
                let to = _mm_cvtsi32_si128((c - c0) as i32);
                for (b, a) in acc.iter_mut().enumerate().take(bits) {
                    let bit =
                        _mm256_and_si256(_mm256_srl_epi32(level, _mm_cvtsi32_si128(b as i32)), one);
                    *a = _mm256_or_si256(*a, _mm256_sll_epi32(bit, to));
                }
            }
            let (word, half) = (c0 / 64, c0 % 64);
            for (b, a) in acc.iter().enumerate().take(bits) {
                let mut lanes = [0u32; 8];
                // SAFETY: `lanes` holds exactly one 256-bit vector.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *a) };
                for (p, lane) in lanes.into_iter().enumerate() {
                    pixels[p * stride + b * words + word] |= u64::from(lane) << half;
                }
            }
        }
    }
}
