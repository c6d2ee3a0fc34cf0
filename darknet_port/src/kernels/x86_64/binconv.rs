//! The binarized convolution's inner loops with AVX2: channels side by side in the lanes.

use crate::kernels::generic;
use crate::kernels::BIN_GROUP;
use std::arch::x86_64::*;

/// The generic loop with `count_ones` as one POPCNT instruction.
pub(super) fn popcount_dots_popcnt(
    windows: &[u64],
    bits: usize,
    span: usize,
    weights: &[u64],
    acc: &mut [i32],
) {
    #[target_feature(enable = "popcnt")]
    fn body(windows: &[u64], bits: usize, span: usize, weights: &[u64], acc: &mut [i32]) {
        generic::popcount_dots_body(windows, bits, span, weights, acc);
    }
    // SAFETY: reachable only through the POPCNT table, handed out after POPCNT was detected.
    unsafe { body(windows, bits, span, weights, acc) }
}

/// The generic window sums with `count_ones` as one POPCNT instruction.
pub(super) fn window_sums_popcnt(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
    #[target_feature(enable = "popcnt")]
    fn body(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
        generic::window_sums_body(windows, bits, span, sums);
    }
    // SAFETY: reachable only through the POPCNT and AVX2 tables, handed out after POPCNT was
    // detected.
    unsafe { body(windows, bits, span, sums) }
}

pub(super) fn popcount_dots(
    windows: &[u64],
    bits: usize,
    span: usize,
    weights: &[u64],
    acc: &mut [i32],
) {
    let channels = generic::check_popcount(windows, bits, span, weights, acc);
    // SAFETY (each arm): reachable only through the AVX2 table, handed out after AVX2 was
    // detected; the lengths were checked just above.
    match bits {
        1 => unsafe { popcount_avx2::<1>(windows, span, weights, channels, acc) },
        2 => unsafe { popcount_avx2::<2>(windows, span, weights, channels, acc) },
        3 => unsafe { popcount_avx2::<3>(windows, span, weights, channels, acc) },
        4 => unsafe { popcount_avx2::<4>(windows, span, weights, channels, acc) },
        5 => unsafe { popcount_avx2::<5>(windows, span, weights, channels, acc) },
        // Wider levels would overflow the byte counters (a word's weighted count reaches
        // 8 * (2^bits - 1) in one byte); no model at hand has them.
        _ => generic::popcount_dots(windows, bits, span, weights, acc),
    }
}

/// Eight channels in two vectors of four u64 lanes, one group of channels at a time over the
/// whole row of pixels, two pixels at once (they share the kernel's vectors). AVX2 has no
/// popcount instruction: each nibble of `window & kernel` is counted with a 16-entry table
/// (`vpshufb`), the tables pre-shifted by the plane's weight `2^b`; byte counts add up over as
/// many words as a byte holds, then `vpsadbw` sums them into the u64 lanes. Nibbles of the
/// windows are split once a call, those of the kernels once a group. `BITS` is a constant so
/// that the planes' loop unrolls and its tables stay in registers.
#[target_feature(enable = "avx2")]
fn popcount_avx2<const BITS: usize>(
    windows: &[u64],
    span: usize,
    weights: &[u64],
    channels: usize,
    acc: &mut [i32],
) {
    let per_pixel = BITS * span;
    let pixels = windows.len() / per_pixel;
    let nibbles = 0x0f0f_0f0f_0f0f_0f0fu64;
    let low: Vec<u64> = windows.iter().map(|w| w & nibbles).collect();
    let high: Vec<u64> = windows.iter().map(|w| (w >> 4) & nibbles).collect();
    let counts = [0i8, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];
    let luts: [__m256i; BITS] = std::array::from_fn(|b| {
        let t = counts.map(|c| c << b);
        _mm256_setr_epi8(
            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13],
            t[14], t[15], t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11],
            t[12], t[13], t[14], t[15],
        )
    });
    let nibble = _mm256_set1_epi8(0x0f);
    let zero = _mm256_setzero_si256();
    // Kernels whose last word holds 16 bits at most (conv1: 9 taps of 16 channels, 2.25
    // words) leave that word to `tail_counts`, which packs four channels into a lane.
    let short_tail = weights.chunks_exact(span * BIN_GROUP).all(|group| {
        group[(span - 1) * BIN_GROUP..]
            .iter()
            .all(|&k| k >> 16 == 0)
    });
    let words = if short_tail { span - 1 } else { span };
    // the group's kernels, split: [s][vector][low, high]
    let mut kernel = vec![[zero; 2]; span * 2];
    for (g, group) in weights.chunks_exact(span * BIN_GROUP).enumerate() {
        for (s, k) in kernel.chunks_exact_mut(2).enumerate() {
            for (j, halves) in k.iter_mut().enumerate() {
                // SAFETY: s < span, so words s*8 + 4j .. + 4 lie in the group's span * 8.
                let v =
                    unsafe { _mm256_loadu_si256(group.as_ptr().add(s * BIN_GROUP + j * 4).cast()) };
                *halves = [
                    _mm256_and_si256(v, nibble),
                    _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble),
                ];
            }
        }
        let mut p = 0;
        while p + 2 <= pixels {
            let totals = group_counts::<BITS, 2>(&low, &high, p, (span, words), &kernel, &luts);
            store_counts(&totals, &mut acc[p * channels + g * BIN_GROUP..], channels);
            p += 2;
        }
        if p < pixels {
            let totals = group_counts::<BITS, 1>(&low, &high, p, (span, words), &kernel, &luts);
            store_counts(&totals, &mut acc[p * channels + g * BIN_GROUP..], channels);
        }
    }
    if short_tail {
        tail_counts::<BITS>(&low, &high, span, weights, channels, &luts, acc);
    }
}

/// Adds the counts of each window's last word, where every kernel's last word holds 16 bits
/// at most: four channels' 16 bits share a u64 lane (channel `4j + k` at bit `16k` of lane
/// `j`), the window's 16 bits repeated four times against them, so a vector counts 16
/// channels; `vpmaddubsw` sums each channel's two bytes.
#[target_feature(enable = "avx2")]
fn tail_counts<const BITS: usize>(
    low: &[u64],
    high: &[u64],
    span: usize,
    weights: &[u64],
    channels: usize,
    luts: &[__m256i; BITS],
    acc: &mut [i32],
) {
    let per_pixel = BITS * span;
    let pixels = low.len() / per_pixel;
    let four_times = 0x0001_0001_0001_0001u64;
    // [pixel][plane]: the last word's nibbles, 16 bits repeated (no carries: below 2^16)
    let mut a_low = vec![0u64; pixels * BITS];
    let mut a_high = vec![0u64; pixels * BITS];
    for (i, (l, h)) in a_low.iter_mut().zip(&mut a_high).enumerate() {
        let at = (i + 1) * span - 1;
        *l = (low[at] & 0xffff) * four_times;
        *h = (high[at] & 0xffff) * four_times;
    }
    let ones = _mm256_set1_epi8(1);
    for pair in 0..channels.div_ceil(2 * BIN_GROUP) {
        let mut lanes = [0u64; 4];
        for c in 0..2 * BIN_GROUP {
            let o = pair * 2 * BIN_GROUP + c;
            if o < channels {
                let k = weights[(o / BIN_GROUP * span + span - 1) * BIN_GROUP + o % BIN_GROUP];
                lanes[c / 4] |= k << (16 * (c % 4));
            }
        }
        let split = |f: fn(u64) -> u64| {
            let l = lanes.map(f);
            _mm256_setr_epi64x(l[0] as i64, l[1] as i64, l[2] as i64, l[3] as i64)
        };
        let k_low = split(|l| l & 0x0f0f_0f0f_0f0f_0f0f);
        let k_high = split(|l| (l >> 4) & 0x0f0f_0f0f_0f0f_0f0f);
        let both = pair * 2 * BIN_GROUP + BIN_GROUP < channels;
        for p in 0..pixels {
            let mut bytes = _mm256_setzero_si256();
            for (b, lut) in luts.iter().enumerate() {
                let a_l = _mm256_set1_epi64x(a_low[p * BITS + b] as i64);
                let a_h = _mm256_set1_epi64x(a_high[p * BITS + b] as i64);
                let l = _mm256_shuffle_epi8(*lut, _mm256_and_si256(a_l, k_low));
                let h = _mm256_shuffle_epi8(*lut, _mm256_and_si256(a_h, k_high));
                bytes = _mm256_add_epi8(bytes, _mm256_add_epi8(l, h));
            }
            // a byte is at most 8 * (2^BITS - 1) <= 248: unsigned, and two fit an i16
            let counts = _mm256_maddubs_epi16(bytes, ones);
            let halves = [
                _mm256_cvtepi16_epi32(_mm256_castsi256_si128(counts)),
                _mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(counts)),
            ];
            let at = p * channels + pair * 2 * BIN_GROUP;
            for (h, half) in halves.iter().enumerate().take(if both { 2 } else { 1 }) {
                let out = &mut acc[at + h * BIN_GROUP..][..BIN_GROUP];
                // SAFETY: `out` holds exactly eight i32, one 256-bit vector.
                unsafe {
                    let sum = _mm256_add_epi32(_mm256_loadu_si256(out.as_ptr().cast()), *half);
                    _mm256_storeu_si256(out.as_mut_ptr().cast(), sum);
                }
            }
        }
    }
}

/// The weighted counts of one group of channels for pixels `p .. p + P` over the first `words`
/// words of each plane of `span`: `[pixel][vector]`, each vector four channels' u64 counts.
#[target_feature(enable = "avx2")]
#[inline]
fn group_counts<const BITS: usize, const P: usize>(
    low: &[u64],
    high: &[u64],
    p: usize,
    (span, words): (usize, usize),
    kernel: &[[__m256i; 2]],
    luts: &[__m256i; BITS],
) -> [[__m256i; 2]; P] {
    let per_pixel = BITS * span;
    assert!((p + P) * per_pixel <= low.len().min(high.len()) && kernel.len() == 2 * span);
    let words_per_flush = 255 / (8 * ((1 << BITS) - 1));
    let zero = _mm256_setzero_si256();
    let mut total = [[zero; 2]; P];
    let (low, high) = (low.as_ptr(), high.as_ptr());
    let mut s0 = 0;
    while s0 < words {
        let s1 = words.min(s0 + words_per_flush);
        let mut bytes = [[zero; 2]; P];
        for s in s0..s1 {
            let k = &kernel[s * 2..s * 2 + 2];
            for (b, lut) in luts.iter().enumerate() {
                for (q, bytes) in bytes.iter_mut().enumerate() {
                    let at = (p + q) * per_pixel + b * span + s;
                    // SAFETY: at < (p + P) * per_pixel, within both arrays (asserted above).
                    let (a_low, a_high) = unsafe {
                        (
                            _mm256_set1_epi64x(*low.add(at) as i64),
                            _mm256_set1_epi64x(*high.add(at) as i64),
                        )
                    };
                    for (count, [k_low, k_high]) in bytes.iter_mut().zip(k) {
                        let l = _mm256_shuffle_epi8(*lut, _mm256_and_si256(a_low, *k_low));
                        let h = _mm256_shuffle_epi8(*lut, _mm256_and_si256(a_high, *k_high));
                        *count = _mm256_add_epi8(*count, _mm256_add_epi8(l, h));
                    }
                }
            }
        }
        for (total, bytes) in total.iter_mut().zip(bytes) {
            for (t, count) in total.iter_mut().zip(bytes) {
                *t = _mm256_add_epi64(*t, _mm256_sad_epu8(count, zero));
            }
        }
        s0 = s1;
    }
    total
}

/// Each pixel's eight counts into `acc` (pixel `q`'s at `q * channels`): the low half of each
/// u64 lane (what `as i32` keeps), gathered into one vector.
#[target_feature(enable = "avx2")]
#[inline]
fn store_counts<const P: usize>(totals: &[[__m256i; 2]; P], acc: &mut [i32], channels: usize) {
    let evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (q, total) in totals.iter().enumerate() {
        let first = _mm256_permutevar8x32_epi32(total[0], evens);
        let second = _mm256_permutevar8x32_epi32(total[1], evens);
        let eight = _mm256_blend_epi32::<0xf0>(first, second);
        let out = &mut acc[q * channels..][..BIN_GROUP];
        // SAFETY: `out` holds exactly eight i32, one 256-bit vector.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), eight) };
    }
}

pub(super) fn activate(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    n: usize,
    flip: &[i32],
    levels: &mut [u8],
) {
    let channels = generic::check_activate(neg, sums, thresholds, n, flip, levels);
    // SAFETY (each arm): reachable only through the AVX2 table, handed out after AVX2 was
    // detected; the lengths were checked just above.
    match n {
        1 => unsafe { activate_avx2::<1>(neg, sums, thresholds, flip, channels, levels) },
        3 => unsafe { activate_avx2::<3>(neg, sums, thresholds, flip, channels, levels) },
        7 => unsafe { activate_avx2::<7>(neg, sums, thresholds, flip, channels, levels) },
        15 => unsafe { activate_avx2::<15>(neg, sums, thresholds, flip, channels, levels) },
        // levels of 5 bits or more: no model at hand has them
        _ => generic::activate(neg, sums, thresholds, n, flip, levels),
    }
}

/// Eight channels a vector, a group at a time over the whole row of pixels, so that the
/// group's `N` thresholds stay in registers: the level starts at `N` and each threshold above
/// the accumulator takes one off (`vpcmpgtd` gives -1).
#[target_feature(enable = "avx2")]
fn activate_avx2<const N: usize>(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    flip: &[i32],
    channels: usize,
    levels: &mut [u8],
) {
    let low_byte = _mm256_set1_epi32(0xff);
    for g in 0..channels / BIN_GROUP {
        let o = g * BIN_GROUP;
        // SAFETY: thresholds holds channels * N values and flip channels (checked by the
        // caller): the group's N vectors and its flags lie inside them.
        let (ths, flip): ([__m256i; N], __m256i) = unsafe {
            let at = thresholds.as_ptr().add(o * N);
            (
                std::array::from_fn(|t| _mm256_loadu_si256(at.add(t * BIN_GROUP).cast())),
                _mm256_loadu_si256(flip.as_ptr().add(o).cast()),
            )
        };
        for (p, &sum) in sums.iter().enumerate() {
            // SAFETY: neg holds sums.len() * channels values (checked by the caller).
            let neg = unsafe { _mm256_loadu_si256(neg.as_ptr().add(p * channels + o).cast()) };
            let acc = _mm256_sub_epi32(_mm256_set1_epi32(sum), _mm256_add_epi32(neg, neg));
            let mut level = _mm256_set1_epi32(N as i32);
            for th in &ths {
                level = _mm256_add_epi32(level, _mm256_cmpgt_epi32(*th, acc));
            }
            // the low byte of each (as `as u8` keeps it), narrowed to bytes without saturating
            // (each 128-bit half keeps its four in its low bytes), stored at once
            let level = _mm256_and_si256(_mm256_xor_si256(level, flip), low_byte);
            let words = _mm256_packs_epi32(level, level);
            let bytes = _mm256_packus_epi16(words, words);
            let low = _mm_cvtsi128_si32(_mm256_castsi256_si128(bytes)) as u32;
            let high = _mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(bytes)) as u32;
            let eight = u64::from(low) | u64::from(high) << 32;
            levels[p * channels + o..][..BIN_GROUP].copy_from_slice(&eight.to_le_bytes());
        }
    }
}

pub(super) fn pack_planes(levels: &[u8], bits: usize, planes: &mut [u64]) {
    generic::check_pack(levels, bits, planes);
    // SAFETY (each arm): reachable only through the AVX2 table, handed out after AVX2 was
    // detected; the lengths were checked just above.
    match bits {
        1 => unsafe { pack_avx2::<1>(levels, planes) },
        2 => unsafe { pack_avx2::<2>(levels, planes) },
        3 => unsafe { pack_avx2::<3>(levels, planes) },
        4 => unsafe { pack_avx2::<4>(levels, planes) },
        5 => unsafe { pack_avx2::<5>(levels, planes) },
        6 => unsafe { pack_avx2::<6>(levels, planes) },
        7 => unsafe { pack_avx2::<7>(levels, planes) },
        8 => unsafe { pack_avx2::<8>(levels, planes) },
        _ => unreachable!("check_pack takes 1 to 8 bits"),
    }
}

/// 32 channels a vector: shifting bit `b` of each byte to its top bit lets `vpmovmskb` gather
/// the plane's 32 bits at once; the highest plane first, one more shift for each next one.
/// `BITS` is a constant so that the planes' loop unrolls (it runs once a pixel).
#[target_feature(enable = "avx2")]
fn pack_avx2<const BITS: usize>(levels: &[u8], planes: &mut [u64]) {
    let words = levels.len().div_ceil(64);
    for word in 0..words {
        let mut masks = [0u64; BITS];
        for half in 0..2 {
            let start = word * 64 + half * 32;
            if start >= levels.len() {
                break;
            }
            let v = if levels.len() - start >= 32 {
                // SAFETY: start + 32 <= levels.len().
                unsafe { _mm256_loadu_si256(levels.as_ptr().add(start).cast()) }
            } else {
                let mut chunk = [0u8; 32];
                chunk[..levels.len() - start].copy_from_slice(&levels[start..]);
                // SAFETY: `chunk` holds exactly one 256-bit vector.
                unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) }
            };
            // 16-bit shifts: a low byte's bits never reach its neighbour's top bit (shifts of
            // 7 at most)
            let mut top = _mm256_sll_epi16(v, _mm_cvtsi32_si128(8 - BITS as i32));
            for mask in masks.iter_mut().rev() {
                *mask |= u64::from(_mm256_movemask_epi8(top) as u32) << (half * 32);
                top = _mm256_slli_epi16::<1>(top);
            }
        }
        for (b, mask) in masks.into_iter().enumerate() {
            planes[b * words + word] = mask;
        }
    }
}
