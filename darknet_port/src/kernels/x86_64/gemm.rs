//! The INT8 matrix product ([`GemmI8`](crate::kernels::GemmI8)) with AVX-512 VNNI, with
//! AVX-VNNI (its 256-bit form, on CPUs without AVX-512) and with AVX2 (`vpmaddubsw`, exact
//! for 6-bit weights, see [`avx2`]).
//!
//! All walk the output in blocks: up to [`BLOCK_GROUPS`] channel groups, whose packed weights
//! stay in L2 while every pixel passes by; within them a few pixels at a time against one or
//! more groups, the block's sums held in registers over the whole span, so each weight load
//! feeds every pixel of the block and each row load every channel. The rows hold `q + 128`
//! (unsigned bytes); `128 * wsum[o]` comes off at the end, as in the generic kernel. Integer
//! sums, so the order of the additions changes nothing: the results are the generic ones.

use crate::kernels::{generic, GEMM_DEPTH, GEMM_GROUP, GEMM_OFFSET};
use std::arch::x86_64::*;

/// Channel groups a pass over the pixels reuses: 64 channels, 288 KiB of weights for a 3x3x512
/// span, within the L2 cache.
const BLOCK_GROUPS: usize = 4;

/// The bytes of one step of a group's packed weights: 16 channels x 4 inputs.
const STEP: usize = GEMM_GROUP * GEMM_DEPTH;

/// Where a block's results go: `acc` holds its pixels' whole rows of `channels` sums, the block
/// writes channels `first..` of each.
struct Out<'a> {
    acc: &'a mut [i32],
    channels: usize,
    first: usize,
}

/// Runs `block(pixels, groups, first pixel, first group)` over the output, [`BLOCK_GROUPS`]
/// groups by at most `max_pixels` pixels at a time, the groups outermost.
fn for_blocks(
    pixels: usize,
    groups: usize,
    max_pixels: usize,
    mut block: impl FnMut(usize, usize, usize, usize),
) {
    for g in (0..groups).step_by(BLOCK_GROUPS) {
        let n = (groups - g).min(BLOCK_GROUPS);
        for p in (0..pixels).step_by(max_pixels) {
            block((pixels - p).min(max_pixels), n, p, g);
        }
    }
}

pub(super) fn gemm_i8_vnni(
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    acc: &mut [i32],
) {
    generic::check_gemm_i8(rows, span, weights, wsum, acc);
    // SAFETY: reachable only through the AVX-512 VNNI table, handed out after AVX-512F,
    // AVX-512BW and AVX-512 VNNI were detected.
    unsafe { vnni(rows, span, weights, wsum, acc) }
}

/// Pixels of a VNNI block: 6 pixels x 4 groups of accumulators are 24 of the 32 registers.
const VNNI_PIXELS: usize = 6;

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn vnni(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    let channels = wsum.len();
    let group_len = GEMM_GROUP * span;
    for_blocks(
        rows.len() / span,
        channels / GEMM_GROUP,
        VNNI_PIXELS,
        |pixels, groups, p, g| {
            let rows = &rows[p * span..][..pixels * span];
            let weights = &weights[g * group_len..][..groups * group_len];
            let wsum = &wsum[g * GEMM_GROUP..][..groups * GEMM_GROUP];
            let out = Out {
                acc: &mut acc[p * channels..][..pixels * channels],
                channels,
                first: g * GEMM_GROUP,
            };
            // (the closure has the features of the function it is in)
            match pixels {
                6 => vnni_groups::<6>(groups, rows, span, weights, wsum, out),
                5 => vnni_groups::<5>(groups, rows, span, weights, wsum, out),
                4 => vnni_groups::<4>(groups, rows, span, weights, wsum, out),
                3 => vnni_groups::<3>(groups, rows, span, weights, wsum, out),
                2 => vnni_groups::<2>(groups, rows, span, weights, wsum, out),
                _ => vnni_groups::<1>(groups, rows, span, weights, wsum, out),
            }
        },
    );
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn vnni_groups<const P: usize>(
    groups: usize,
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    out: Out,
) {
    match groups {
        4 => vnni_block::<P, 4>(rows, span, weights, wsum, out),
        3 => vnni_block::<P, 3>(rows, span, weights, wsum, out),
        2 => vnni_block::<P, 2>(rows, span, weights, wsum, out),
        _ => vnni_block::<P, 1>(rows, span, weights, wsum, out),
    }
}

/// `P` pixels (`rows`, `P * span` bytes) against `G` groups (`weights`, `G * 16 * span`): each
/// step of 4 inputs loads the `G` groups' 64 weight bytes once and broadcasts each pixel's 4
/// row bytes once, for `P * G` `vpdpbusd`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn vnni_block<const P: usize, const G: usize>(
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    out: Out,
) {
    let group_len = GEMM_GROUP * span;
    assert!(rows.len() == P * span && weights.len() == G * group_len);
    assert!(wsum.len() == G * GEMM_GROUP && out.acc.len() == P * out.channels);
    assert!(out.first + G * GEMM_GROUP <= out.channels);
    let (r, w) = (rows.as_ptr(), weights.as_ptr());
    let mut sums = [[_mm512_setzero_si512(); G]; P];
    let mut wv = [_mm512_setzero_si512(); G];
    for s in 0..span / GEMM_DEPTH {
        for (j, v) in wv.iter_mut().enumerate() {
            // SAFETY: j * group_len + s * 64 + 64 <= G * group_len = weights.len(), as
            // s < span / 4; unaligned loads are allowed.
            *v = unsafe { _mm512_loadu_si512(w.add(j * group_len + s * STEP).cast()) };
        }
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 4 + 4 <= P * span = rows.len().
            let x = unsafe {
                r.add(i * span + s * GEMM_DEPTH)
                    .cast::<i32>()
                    .read_unaligned()
            };
            let x = _mm512_set1_epi32(x);
            for (sum, &v) in sums.iter_mut().zip(&wv) {
                *sum = _mm512_dpbusd_epi32(*sum, x, v);
            }
        }
    }
    let offset = _mm512_set1_epi32(GEMM_OFFSET);
    for j in 0..G {
        // SAFETY: (j + 1) * 16 <= G * 16 = wsum.len().
        let wsum = unsafe { _mm512_loadu_si512(wsum.as_ptr().add(j * GEMM_GROUP).cast()) };
        let taken = _mm512_mullo_epi32(wsum, offset);
        for (i, sums) in sums.iter().enumerate() {
            let at = i * out.channels + out.first + j * GEMM_GROUP;
            let dst = &mut out.acc[at..at + GEMM_GROUP];
            // SAFETY: `dst` holds exactly 16 i32.
            unsafe {
                _mm512_storeu_si512(dst.as_mut_ptr().cast(), _mm512_sub_epi32(sums[j], taken))
            };
        }
    }
}

pub(super) fn gemm_i8_avx_vnni(
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    acc: &mut [i32],
) {
    generic::check_gemm_i8(rows, span, weights, wsum, acc);
    // SAFETY: reachable only through the AVX-VNNI table, handed out after AVX2 and AVX-VNNI
    // were detected.
    unsafe { avx_vnni(rows, span, weights, wsum, acc) }
}

/// Pixels of an AVX-VNNI block: 6 pixels x 16 channels are 12 accumulators of the 16
/// registers, the step's two weight vectors and the pixel's input 3 more.
const AVX_VNNI_PIXELS: usize = 6;

/// AVX-VNNI (the 256-bit `vpdpbusd` of CPUs without AVX-512): as [`vnni`], a group in two
/// registers, one group a block.
#[target_feature(enable = "avx2,avxvnni")]
fn avx_vnni(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    let channels = wsum.len();
    let group_len = GEMM_GROUP * span;
    for_blocks(
        rows.len() / span,
        channels / GEMM_GROUP,
        AVX_VNNI_PIXELS,
        |pixels, groups, p, g| {
            let rows = &rows[p * span..][..pixels * span];
            let acc = &mut acc[p * channels..][..pixels * channels];
            for g in g..g + groups {
                let weights = &weights[g * group_len..][..group_len];
                let wsum = &wsum[g * GEMM_GROUP..][..GEMM_GROUP];
                let out = Out {
                    acc: &mut *acc,
                    channels,
                    first: g * GEMM_GROUP,
                };
                match pixels {
                    6 => avx_vnni_block::<6>(rows, span, weights, wsum, out),
                    5 => avx_vnni_block::<5>(rows, span, weights, wsum, out),
                    4 => avx_vnni_block::<4>(rows, span, weights, wsum, out),
                    3 => avx_vnni_block::<3>(rows, span, weights, wsum, out),
                    2 => avx_vnni_block::<2>(rows, span, weights, wsum, out),
                    _ => avx_vnni_block::<1>(rows, span, weights, wsum, out),
                }
            }
        },
    );
}

/// `P` pixels against one group: each step's 64 weight bytes are two registers (channels 0-7
/// and 8-15, 4 inputs each), each pixel's 4 row bytes one broadcast, for `2 * P` `vpdpbusd`.
#[target_feature(enable = "avx2,avxvnni")]
fn avx_vnni_block<const P: usize>(
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    out: Out,
) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(wsum.len() == GEMM_GROUP && out.acc.len() == P * out.channels);
    assert!(out.first + GEMM_GROUP <= out.channels);
    let (r, w) = (rows.as_ptr(), weights.as_ptr());
    let mut sums = [[_mm256_setzero_si256(); 2]; P];
    for s in 0..span / GEMM_DEPTH {
        // SAFETY: s * 64 + 64 <= 16 * span = weights.len(), as s < span / 4; unaligned
        // loads are allowed.
        let (w0, w1) = unsafe {
            (
                _mm256_loadu_si256(w.add(s * STEP).cast()),
                _mm256_loadu_si256(w.add(s * STEP + 32).cast()),
            )
        };
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 4 + 4 <= P * span = rows.len().
            let x = unsafe {
                r.add(i * span + s * GEMM_DEPTH)
                    .cast::<i32>()
                    .read_unaligned()
            };
            let x = _mm256_set1_epi32(x);
            sums[0] = _mm256_dpbusd_avx_epi32(sums[0], x, w0);
            sums[1] = _mm256_dpbusd_avx_epi32(sums[1], x, w1);
        }
    }
    store_group(&sums, wsum, out);
}

pub(super) fn gemm_i8_avx2(
    rows: &[u8],
    span: usize,
    weights: &[i8],
    wsum: &[i32],
    acc: &mut [i32],
) {
    generic::check_gemm_i8(rows, span, weights, wsum, acc);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { avx2(rows, span, weights, wsum, acc) }
}

/// Pixels of an AVX2 block: 4 pixels x 16 channels are 8 accumulators; with two steps' 4
/// weight vectors, the pixel's two broadcast inputs and the ones, 15 of the 16 registers.
const AVX2_PIXELS: usize = 4;

/// The largest weight the AVX2 kernel is exact for: 6 bits and a sign, so that two steps'
/// `vpmaddubsw` pair sums added in i16 (four products of a byte and a weight) cannot saturate
/// or wrap.
pub(super) const AVX2_MAX_WEIGHT: i32 = 32;
const _: () = assert!(4 * 255 * AVX2_MAX_WEIGHT <= i16::MAX as i32);

/// Without VNNI: `vpmaddubsw` multiplies the row bytes by the weights and adds neighbouring
/// products into i16 (exact: the weights' range is narrower than a byte's, see
/// [`AVX2_MAX_WEIGHT`]), and `vpmaddwd` by ones adds pairs of those into i32. With such
/// weights the i16 sums of two steps can be added before one `vpmaddwd`: three
/// multiplies for 64 products a vector, the only port of some CPUs that multiplies being the
/// bottleneck. As [`avx_vnni`], one group a block.
#[target_feature(enable = "avx2")]
fn avx2(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]) {
    let channels = wsum.len();
    let group_len = GEMM_GROUP * span;
    for_blocks(
        rows.len() / span,
        channels / GEMM_GROUP,
        AVX2_PIXELS,
        |pixels, groups, p, g| {
            let rows = &rows[p * span..][..pixels * span];
            let acc = &mut acc[p * channels..][..pixels * channels];
            for g in g..g + groups {
                let weights = &weights[g * group_len..][..group_len];
                let wsum = &wsum[g * GEMM_GROUP..][..GEMM_GROUP];
                let out = Out {
                    acc: &mut *acc,
                    channels,
                    first: g * GEMM_GROUP,
                };
                match pixels {
                    4 => avx2_block::<4>(rows, span, weights, wsum, out),
                    3 => avx2_block::<3>(rows, span, weights, wsum, out),
                    2 => avx2_block::<2>(rows, span, weights, wsum, out),
                    _ => avx2_block::<1>(rows, span, weights, wsum, out),
                }
            }
        },
    );
}

/// `P` pixels against one group: each pair of steps loads the group's 128 weight bytes as four
/// registers (channels 0-7 and 8-15 of each step) and broadcasts each pixel's two steps of 4
/// row bytes, for `4 * P` `vpmaddubsw` and `2 * P` `vpmaddwd`; an odd last step alone.
#[target_feature(enable = "avx2")]
fn avx2_block<const P: usize>(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], out: Out) {
    assert!(rows.len() == P * span && weights.len() == GEMM_GROUP * span);
    assert!(wsum.len() == GEMM_GROUP && out.acc.len() == P * out.channels);
    assert!(out.first + GEMM_GROUP <= out.channels);
    let (r, w) = (rows.as_ptr(), weights.as_ptr());
    let ones = _mm256_set1_epi16(1);
    let steps = span / GEMM_DEPTH;
    let mut sums = [[_mm256_setzero_si256(); 2]; P];
    for s in (0..steps - steps % 2).step_by(2) {
        // SAFETY: s * 64 + 128 <= 16 * span = weights.len(), as s + 2 <= span / 4; unaligned
        // loads are allowed.
        let wv =
            unsafe { [0, 32, 64, 96].map(|at| _mm256_loadu_si256(w.add(s * STEP + at).cast())) };
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 4 + 8 <= P * span = rows.len(), as s + 2 <= span / 4.
            let (x, y) = unsafe {
                let at = r.add(i * span + s * GEMM_DEPTH).cast::<i32>();
                (at.read_unaligned(), at.add(1).read_unaligned())
            };
            let (x, y) = (_mm256_set1_epi32(x), _mm256_set1_epi32(y));
            for (h, sum) in sums.iter_mut().enumerate() {
                let pairs = _mm256_add_epi16(
                    _mm256_maddubs_epi16(x, wv[h]),
                    _mm256_maddubs_epi16(y, wv[h + 2]),
                );
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    if steps % 2 == 1 {
        let s = steps - 1;
        // SAFETY: s * 64 + 64 <= 16 * span = weights.len(), as s < span / 4.
        let wv = unsafe { [0, 32].map(|at| _mm256_loadu_si256(w.add(s * STEP + at).cast())) };
        for (i, sums) in sums.iter_mut().enumerate() {
            // SAFETY: i * span + s * 4 + 4 <= P * span = rows.len().
            let x = unsafe {
                r.add(i * span + s * GEMM_DEPTH)
                    .cast::<i32>()
                    .read_unaligned()
            };
            let x = _mm256_set1_epi32(x);
            for (sum, &v) in sums.iter_mut().zip(&wv) {
                let pairs = _mm256_maddubs_epi16(x, v);
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    store_group(&sums, wsum, out);
}

/// Writes a 256-bit block's sums (`sums[i][h]`: pixel `i`, channels `8h..8h + 8` of the group)
/// less `128 * wsum`, as the generic kernel does.
#[target_feature(enable = "avx2")]
fn store_group<const P: usize>(sums: &[[__m256i; 2]; P], wsum: &[i32], out: Out) {
    assert!(wsum.len() == GEMM_GROUP && out.acc.len() == P * out.channels);
    let offset = _mm256_set1_epi32(GEMM_OFFSET);
    for h in 0..2 {
        // SAFETY: (h + 1) * 8 <= 16 = wsum.len().
        let wsum = unsafe { _mm256_loadu_si256(wsum.as_ptr().add(h * 8).cast()) };
        let taken = _mm256_mullo_epi32(wsum, offset);
        for (i, sums) in sums.iter().enumerate() {
            let at = i * out.channels + out.first + h * 8;
            let dst = &mut out.acc[at..at + 8];
            // SAFETY: `dst` holds exactly 8 i32.
            unsafe {
                _mm256_storeu_si256(dst.as_mut_ptr().cast(), _mm256_sub_epi32(sums[h], taken))
            };
        }
    }
}
