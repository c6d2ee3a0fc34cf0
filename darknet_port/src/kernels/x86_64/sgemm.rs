//! The float convolution's product ([`SgemmFma`](crate::kernels::SgemmFma)) with fused
//! multiply-adds: AVX-512 (a group of 16 channels in one register) and AVX2 with FMA (in two).
//!
//! The inputs go by in slices of [`DEPTH`]; within a slice, each run of channel groups (their
//! weights stay in L1 and L2) meets every pixel, a few at a time, the block's sums in
//! registers. A sum leaves its register between slices only to come back for the next one,
//! unchanged, so every output is still one chain of fused steps in input order: the generic
//! kernel's bits. (Copying each slice of the rows into panels first, input by input, as BLAS
//! libraries do, measured slower on every layer shape of tiny YOLO.)

use crate::kernels::{generic, PackedF32, SGEMM_GROUP};
use std::arch::x86_64::*;
use std::ops::Range;

/// Inputs of one slice: two groups' weights for them are 64 KiB (slices of 256 to 1024 were
/// within a few percent of each other on tiny YOLO's layers; 512 was the best).
const DEPTH: usize = 512;

/// One block's operands: its first pixel's row at the slice's first input (the next pixel
/// `span` floats on), the first group's weights there (the next group `group_stride` floats
/// on), and its first pixel's sums (the next pixel `width` floats on).
struct Block {
    rows: *const f32,
    span: usize,
    weights: *const f32,
    group_stride: usize,
    depth: usize,
    sums: *mut f32,
    width: usize,
    first: bool,
}

/// Walks the product in blocks of up to `pixels` pixels by `groups_per_block` groups, slice by
/// slice, handing each to `block(pixels, groups, operands)`.
///
/// # Safety
/// The sizes passed `check_sgemm_fma`; `block` reads and writes only what its operands
/// describe.
unsafe fn for_blocks(
    rows: &[f32],
    kernels: &PackedF32,
    groups: Range<usize>,
    acc: &mut [f32],
    (pixels_per_block, groups_per_block): (usize, usize),
    mut block: impl FnMut(usize, usize, &Block),
) {
    let span = kernels.span;
    let pixels = rows.len() / span;
    let width = groups.len() * SGEMM_GROUP;
    for k0 in (0..span).step_by(DEPTH) {
        let depth = DEPTH.min(span - k0);
        for g in groups.clone().step_by(groups_per_block) {
            let n_groups = groups_per_block.min(groups.end - g);
            for p0 in (0..pixels).step_by(pixels_per_block) {
                let n = pixels_per_block.min(pixels - p0);
                // Rows p0..p0+n hold inputs k0..k0+depth; group g's lines start at g*span, each
                // a 64-byte line, and the groups read are below groups.end; the sums written
                // are pixels p0..p0+n of this call's groups.
                let operands = Block {
                    rows: rows[p0 * span + k0..].as_ptr(),
                    span,
                    weights: kernels.lines[g * span + k0..].as_ptr().cast::<f32>(),
                    group_stride: span * SGEMM_GROUP,
                    depth,
                    sums: acc[p0 * width + (g - groups.start) * SGEMM_GROUP..].as_mut_ptr(),
                    width,
                    first: k0 == 0,
                };
                block(n, n_groups, &operands);
            }
        }
    }
}

/// Runs `$block::<P, G>(operands)` for the block's pixel count `P` (1 to 12) and a constant
/// group count.
macro_rules! by_pixels {
    ($block:ident, $n:expr, $g:literal, $operands:expr) => {
        match $n {
            1 => $block::<1, $g>($operands),
            2 => $block::<2, $g>($operands),
            3 => $block::<3, $g>($operands),
            4 => $block::<4, $g>($operands),
            5 => $block::<5, $g>($operands),
            6 => $block::<6, $g>($operands),
            7 => $block::<7, $g>($operands),
            8 => $block::<8, $g>($operands),
            9 => $block::<9, $g>($operands),
            10 => $block::<10, $g>($operands),
            11 => $block::<11, $g>($operands),
            12 => $block::<12, $g>($operands),
            n => unreachable!("{n} pixels in a block"),
        }
    };
}

/// Pixels of an AVX-512 block: 12 pixels x 2 groups of sums are 24 of the 32 registers.
const AVX512_PIXELS: usize = 12;

pub(super) fn sgemm_fma_avx512(
    rows: &[f32],
    kernels: &PackedF32,
    groups: Range<usize>,
    acc: &mut [f32],
) {
    generic::check_sgemm_fma(rows, kernels, &groups, acc);
    #[target_feature(enable = "avx512f")]
    fn body(rows: &[f32], kernels: &PackedF32, groups: Range<usize>, acc: &mut [f32]) {
        // SAFETY: the sizes were checked by the caller; the blocks get their operands.
        unsafe {
            for_blocks(rows, kernels, groups, acc, (AVX512_PIXELS, 2), |n, g, b| {
                if g == 2 {
                    by_pixels!(block_avx512, n, 2, b)
                } else {
                    by_pixels!(block_avx512, n, 1, b)
                }
            })
        }
    }
    // SAFETY: reachable only through the AVX-512 tables, handed out after AVX-512F was
    // detected.
    unsafe { body(rows, kernels, groups, acc) }
}

/// `P` pixels by `G` groups over one slice of inputs: the sums start at zero on the first
/// slice, from where the last slice left them otherwise.
///
/// # Safety
/// AVX-512F is available; `P` rows of `depth` values, `G` groups of `depth` lines and `P` x
/// `G` x 16 sums are inside their buffers.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn block_avx512<const P: usize, const G: usize>(b: &Block) {
    let mut sums = [[_mm512_setzero_ps(); G]; P];
    if !b.first {
        for (p, row) in sums.iter_mut().enumerate() {
            for (g, s) in row.iter_mut().enumerate() {
                *s = _mm512_loadu_ps(b.sums.add(p * b.width + g * SGEMM_GROUP));
            }
        }
    }
    for k in 0..b.depth {
        let mut w = [_mm512_setzero_ps(); G];
        for (g, w) in w.iter_mut().enumerate() {
            // lines are 64-byte aligned
            *w = _mm512_load_ps(b.weights.add(g * b.group_stride + k * SGEMM_GROUP));
        }
        for (p, row) in sums.iter_mut().enumerate() {
            let x = _mm512_set1_ps(*b.rows.add(p * b.span + k));
            for (s, &w) in row.iter_mut().zip(&w) {
                *s = _mm512_fmadd_ps(x, w, *s);
            }
        }
    }
    for (p, row) in sums.iter().enumerate() {
        for (g, &s) in row.iter().enumerate() {
            _mm512_storeu_ps(b.sums.add(p * b.width + g * SGEMM_GROUP), s);
        }
    }
}

/// Pixels of an AVX2 block: 6 pixels x one group (two registers) of sums are 12 of the 16
/// registers, with the group's two and the broadcast input.
const AVX2_PIXELS: usize = 6;

pub(super) fn sgemm_fma_avx2(
    rows: &[f32],
    kernels: &PackedF32,
    groups: Range<usize>,
    acc: &mut [f32],
) {
    generic::check_sgemm_fma(rows, kernels, &groups, acc);
    #[target_feature(enable = "avx2,fma")]
    fn body(rows: &[f32], kernels: &PackedF32, groups: Range<usize>, acc: &mut [f32]) {
        // SAFETY: the sizes were checked by the caller; the blocks get their operands.
        unsafe {
            for_blocks(rows, kernels, groups, acc, (AVX2_PIXELS, 1), |n, _, b| {
                by_pixels!(block_avx2, n, 1, b)
            })
        }
    }
    // SAFETY: reachable only through the tables handed out after AVX2 and FMA were detected.
    unsafe { body(rows, kernels, groups, acc) }
}

/// As [`block_avx512`], a group in two 8-lane registers.
///
/// # Safety
/// AVX2 and FMA are available; as [`block_avx512`] otherwise.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block_avx2<const P: usize, const G: usize>(b: &Block) {
    let mut sums = [[[_mm256_setzero_ps(); 2]; G]; P];
    if !b.first {
        for (p, row) in sums.iter_mut().enumerate() {
            for (g, s) in row.iter_mut().enumerate() {
                for (h, s) in s.iter_mut().enumerate() {
                    *s = _mm256_loadu_ps(b.sums.add(p * b.width + g * SGEMM_GROUP + h * 8));
                }
            }
        }
    }
    for k in 0..b.depth {
        let mut w = [[_mm256_setzero_ps(); 2]; G];
        for (g, w) in w.iter_mut().enumerate() {
            for (h, w) in w.iter_mut().enumerate() {
                *w = _mm256_load_ps(b.weights.add(g * b.group_stride + k * SGEMM_GROUP + h * 8));
            }
        }
        for (p, row) in sums.iter_mut().enumerate() {
            let x = _mm256_broadcast_ss(&*b.rows.add(p * b.span + k));
            for (s, w) in row.iter_mut().zip(&w) {
                for (s, &w) in s.iter_mut().zip(w) {
                    *s = _mm256_fmadd_ps(x, w, *s);
                }
            }
        }
    }
    for (p, row) in sums.iter().enumerate() {
        for (g, s) in row.iter().enumerate() {
            for (h, &s) in s.iter().enumerate() {
                _mm256_storeu_ps(b.sums.add(p * b.width + g * SGEMM_GROUP + h * 8), s);
            }
        }
    }
}
