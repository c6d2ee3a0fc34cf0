//! INT8 inputs quantized into HWC order with AVX2 ([`QuantizeHwcU8`](crate::kernels::QuantizeHwcU8),
//! [`QuantizeHwcI16`](crate::kernels::QuantizeHwcI16)): 8 channels by 8 pixels at a time, each
//! channel's pixels quantized as one vector (the generic kernel's operations: `vmaxps` takes
//! the bound over NaN as `f32::max` does, the rounding addition, the integer from the low bits),
//! the block turned around in registers and packed, 8 values a pixel stored at once.

use crate::kernels::generic::{check_levels, level_of};
use crate::kernels::Levels;
use std::arch::x86_64::*;
use std::ops::Range;

const LANES: usize = 8;
/// Pixels a pass over the channel groups covers: their outputs (`64 * channels` values) stay
/// in L2 while every group is written.
const BLOCK: usize = 64;

pub(super) fn quantize_hwc_u8(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [u8],
) {
    check_levels(src, plane, &pixels, levels, dst.len(), (0, 255));
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { avx2(src, plane, pixels, levels, dst) }
}

pub(super) fn quantize_hwc_i16(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [i16],
) {
    check_levels(src, plane, &pixels, levels, dst.len(), (-32768, 32767));
    // SAFETY: as above.
    unsafe { avx2(src, plane, pixels, levels, dst) }
}

/// The two outputs: the integer values as they are stored.
trait Output: Copy {
    fn from_level(level: i32) -> Self;

    /// Two pixels' 8 values (`pair`: as i16, the first pixel's in the low half) into the
    /// first 8 of `first` and of `second`.
    ///
    /// # Safety
    /// AVX2 must be available.
    unsafe fn store_pair(pair: __m256i, first: &mut [Self], second: &mut [Self]);
}

impl Output for i16 {
    #[inline(always)]
    fn from_level(level: i32) -> i16 {
        level as i16
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store_pair(pair: __m256i, first: &mut [i16], second: &mut [i16]) {
        let (first, second) = (&mut first[..LANES], &mut second[..LANES]);
        // SAFETY: each destination holds exactly 8 i16.
        unsafe {
            _mm_storeu_si128(first.as_mut_ptr().cast(), _mm256_castsi256_si128(pair));
            _mm_storeu_si128(
                second.as_mut_ptr().cast(),
                _mm256_extracti128_si256::<1>(pair),
            );
        }
    }
}

impl Output for u8 {
    #[inline(always)]
    fn from_level(level: i32) -> u8 {
        level as u8
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store_pair(pair: __m256i, first: &mut [u8], second: &mut [u8]) {
        // within each half, the 8 values as bytes (within 0..=255: no saturation)
        let bytes = _mm256_packus_epi16(pair, pair);
        let (first, second) = (&mut first[..LANES], &mut second[..LANES]);
        // SAFETY: each destination holds exactly 8 bytes.
        unsafe {
            _mm_storel_epi64(first.as_mut_ptr().cast(), _mm256_castsi256_si128(bytes));
            _mm_storel_epi64(
                second.as_mut_ptr().cast(),
                _mm256_extracti128_si256::<1>(bytes),
            );
        }
    }
}

#[target_feature(enable = "avx2")]
fn avx2<T: Output>(
    src: &[f32],
    plane: usize,
    pixels: Range<usize>,
    levels: &Levels,
    dst: &mut [T],
) {
    let c = src.len() / plane;
    let count = pixels.len();
    let whole_channels = c - c % LANES;
    let (scale, low, high) = (
        _mm256_set1_ps(levels.scale),
        _mm256_set1_ps(levels.low),
        _mm256_set1_ps(levels.high),
    );
    let rounder = _mm256_set1_ps(12_582_912.0);
    let unbias = _mm256_set1_epi32(12_582_912f32.to_bits() as i32 - levels.offset);
    for b0 in (0..count).step_by(BLOCK) {
        let block = b0..(b0 + BLOCK).min(count);
        let whole_pixels = block.start + (block.len() - block.len() % LANES);
        for c0 in (0..whole_channels).step_by(LANES) {
            for p0 in (block.start..whole_pixels).step_by(LANES) {
                let rows: [__m256; LANES] = std::array::from_fn(|j| {
                    let from = &src[(c0 + j) * plane + pixels.start + p0..][..LANES];
                    // SAFETY: `from` holds exactly 8 f32.
                    let x = unsafe { _mm256_loadu_ps(from.as_ptr()) };
                    let clamped = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, scale), low), high);
                    let rounded = _mm256_add_ps(clamped, rounder);
                    let level = _mm256_sub_epi32(_mm256_castps_si256(rounded), unbias);
                    _mm256_castsi256_ps(level)
                });
                // rows[j]: channel c0 + j of 8 pixels; by_pixel[i]: pixel p0 + i's 8 channels
                let by_pixel = super::rescale::transpose(rows).map(|v| _mm256_castps_si256(v));
                for i in (0..LANES).step_by(2) {
                    // the pair's values as i16, the first pixel's in the low half
                    let pair = _mm256_permute4x64_epi64::<0xd8>(_mm256_packs_epi32(
                        by_pixel[i],
                        by_pixel[i + 1],
                    ));
                    let (head, tail) = dst.split_at_mut((p0 + i + 1) * c);
                    let first = &mut head[(p0 + i) * c + c0..];
                    // SAFETY: AVX2 is enabled here.
                    unsafe { T::store_pair(pair, first, &mut tail[c0..]) };
                }
            }
            // the block's last pixels of these channels
            for p in whole_pixels..block.end {
                for ch in c0..c0 + LANES {
                    dst[p * c + ch] =
                        T::from_level(level_of(src[ch * plane + pixels.start + p], levels));
                }
            }
        }
        // the last channels of the block's pixels
        for p in block {
            for ch in whole_channels..c {
                dst[p * c + ch] =
                    T::from_level(level_of(src[ch * plane + pixels.start + p], levels));
            }
        }
    }
}
