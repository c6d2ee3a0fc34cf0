//! The float convolution's product ([`SgemmFma`](crate::kernels::SgemmFma)) with AVX-512 fused
//! multiply-adds.
//!
//! The inputs go by in slices of [`DEPTH`]; within a slice, each pair of channel groups (their
//! weights stay in L1 and L2) meets every pixel, [`PIXELS`] at a time, the block's 24 sums
//! in registers. A sum leaves its register between slices only to come back for the next one,
//! unchanged, so every output is still one chain of fused steps in input order: the generic
//! kernel's bits. (Copying each slice of the rows into panels first, input by input, as BLAS
//! libraries do, measured slower on every layer shape of tiny YOLO.)

use crate::kernels::{generic, PackedF32, SGEMM_GROUP};
use std::arch::x86_64::*;
use std::ops::Range;

/// Inputs of one slice: two groups' weights for them are 64 KiB (slices of 256 to 1024 were
/// within a few percent of each other on tiny YOLO's layers; 512 was the best).
const DEPTH: usize = 512;
/// Pixels of a block: 12 pixels x 2 groups of sums are 24 of the 32 registers.
const PIXELS: usize = 12;

pub(super) fn sgemm_fma_avx512(
    rows: &[f32],
    kernels: &PackedF32,
    groups: Range<usize>,
    acc: &mut [f32],
) {
    generic::check_sgemm_fma(rows, kernels, &groups, acc);
    // SAFETY: reachable only through the AVX-512 tables, handed out after AVX-512F was
    // detected; the sizes were checked just above.
    unsafe { avx512(rows, kernels, groups, acc) }
}

/// # Safety
/// AVX-512F is available and the sizes passed `check_sgemm_fma`.
#[target_feature(enable = "avx512f")]
unsafe fn avx512(rows: &[f32], kernels: &PackedF32, groups: Range<usize>, acc: &mut [f32]) {
    let span = kernels.span;
    let pixels = rows.len() / span;
    let width = groups.len() * SGEMM_GROUP;
    for k0 in (0..span).step_by(DEPTH) {
        let depth = DEPTH.min(span - k0);
        let mut g = groups.start;
        while g < groups.end {
            let pair = groups.end - g >= 2;
            for p0 in (0..pixels).step_by(PIXELS) {
                let n = PIXELS.min(pixels - p0);
                // SAFETY (of every access through these pointers): rows p0..p0+n hold inputs
                // k0..k0+depth; group g's lines start at g*span, each a 64-byte line, and the
                // groups read are below groups.end; the sums written are pixels p0..p0+n of
                // this call's groups.
                let block = Block {
                    rows: rows[p0 * span + k0..].as_ptr(),
                    span,
                    weights: kernels.lines[g * span + k0..].as_ptr().cast::<f32>(),
                    group_stride: span * SGEMM_GROUP,
                    depth,
                    sums: acc[p0 * width + (g - groups.start) * SGEMM_GROUP..].as_mut_ptr(),
                    width,
                    first: k0 == 0,
                };
                if pair {
                    by_pixels::<2>(n, &block);
                } else {
                    by_pixels::<1>(n, &block);
                }
            }
            g += if pair { 2 } else { 1 };
        }
    }
}

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

/// # Safety
/// As [`block`], for `n <= PIXELS` pixels.
#[target_feature(enable = "avx512f")]
unsafe fn by_pixels<const G: usize>(n: usize, b: &Block) {
    match n {
        1 => block::<1, G>(b),
        2 => block::<2, G>(b),
        3 => block::<3, G>(b),
        4 => block::<4, G>(b),
        5 => block::<5, G>(b),
        6 => block::<6, G>(b),
        7 => block::<7, G>(b),
        8 => block::<8, G>(b),
        9 => block::<9, G>(b),
        10 => block::<10, G>(b),
        11 => block::<11, G>(b),
        12 => block::<12, G>(b),
        _ => unreachable!("{n} pixels in a block"),
    }
}

/// `P` pixels by `G` groups over one slice of inputs: the sums start at zero on the first
/// slice, from where the last slice left them otherwise.
///
/// # Safety
/// AVX-512F is available; `P` rows of `depth` values, `G` groups of `depth` lines and `P` x
/// `G` x 16 sums are inside their buffers.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn block<const P: usize, const G: usize>(b: &Block) {
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
