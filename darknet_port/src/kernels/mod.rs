//! The CPU kernels of the hot loops, and the one place that picks them.
//!
//! A [`Kernels`] table holds one function per kernel. [`generic()`] is the portable table: plain
//! Rust, the reference every fast version is tested against. Each architecture folder builds
//! tables that replace some entries with SIMD versions (`x86_64`: POPCNT, AVX2, FMA, AVX-VNNI,
//! AVX-512, AVX-512 VNNI; `aarch64`: NEON). [`best()`] detects the CPU's features once and
//! returns the fastest table it can run, or the one `ZYNQDET_KERNELS` names (read at that moment,
//! once a process; see [`KERNELS_VAR`]). Layers never test CPU features: they call [`active()`] once per forward pass and use its
//! entries.
//!
//! Every kernel computes exactly what its generic twin computes, to the bit: integer kernels
//! trivially, float kernels by doing each output's multiplies and adds in the generic order
//! (lane by lane; fused multiply-adds only where the generic twin fuses too, see [`SgemmFma`]),
//! so a network gives the same detections on every table.
//!
//! Layouts the kernels share with their callers are described on each function type.
//!
//! Float convolutions with many input channels (Tinier-YOLO's last layer, most layers of other
//! tiny-YOLO models) are matrix products with fused multiply-adds, which round once a term
//! where the generic direct kernel rounds twice. Their kernel, [`SgemmFma`], fixes the order of
//! its fused steps instead, so its generic twin ([`generic::sgemm_fma`], `f32::mul_add` in that
//! order) gives the same bits; it is in the x86 tables with FMA or AVX-512. Tables without it
//! leave the product to `matrixmultiply`, which detects the CPU itself (NEON, ...) and whose
//! scalar twin is `FloatConv::forward_reference`, to a tolerance.

// The kernels' signatures are flat lists of slices and sizes on purpose: they are entries of a
// table of plain function pointers, the same for every architecture.
#![allow(clippy::too_many_arguments)]

pub mod generic;
mod limit;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(test)]
mod tests;

pub use limit::{popcount_limit, popcount_limits, PopcountLimit};

use std::cell::Cell;
use std::ops::Range;
use std::sync::OnceLock;

/// Output channels of a binarized layer handled together by the popcount and threshold
/// kernels: per-channel arrays are laid out in groups of `BIN_GROUP` (padded with zeros).
pub const BIN_GROUP: usize = 8;

/// The popcounts of a row of output pixels of a binarized convolution: for pixel `p` and
/// channel `o`, `acc[p*channels + o] = sum_b 2^b * sum_s popcount(windows[(p*bits + b)*span + s]
/// & weights[(o/8*span + s)*8 + o%8])`, the weighted count of activation bits that meet a -1
/// weight. Each pixel's window is `bits` planes of `span` words; `weights` is `[o/8][s][o%8]`
/// for `channels = weights.len() / span` (a multiple of [`BIN_GROUP`]).
pub type PopcountDots =
    fn(windows: &[u64], bits: usize, span: usize, weights: &[u64], acc: &mut [i32]);

/// The weighted bit count of each pixel's window (as [`PopcountDots`] lays them out):
/// `sums[p] = sum_b 2^b * sum_s popcount(windows[(p*bits + b)*span + s])`, `sums.len()` pixels.
pub type WindowSums = fn(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]);

/// The multi-threshold activation of a binarized layer for a row of pixels: for pixel `p` and
/// channel `o < channels = flip.len()` (a multiple of [`BIN_GROUP`]), with
/// `a = sums[p] - 2*neg[p*channels + o]`,
/// `levels[p*channels + o] = #{t < n : a >= thresholds[(o/8*n + t)*8 + o%8]} ^ flip[o]`.
pub type Activate =
    fn(neg: &[i32], sums: &[i32], thresholds: &[i32], n: usize, flip: &[i32], levels: &mut [u8]);

/// Stores one pixel's levels as `bits` bit planes: bit `c % 64` of `planes[b*words + c/64]` is
/// bit `b` of `levels[c]`, with `words = levels.len().div_ceil(64)` and `planes.len()` equal
/// to `bits * words`. Every word is written (bits beyond the channels are zero).
pub type PackPlanes = fn(levels: &[u8], bits: usize, planes: &mut [u64]);

/// Output channels a [`GemmI8`] computes together: packed weights come in groups this size.
pub const GEMM_GROUP: usize = 16;
/// Consecutive inputs a [`GemmI8`] lane sums in one step: spans are multiples of this.
pub const GEMM_DEPTH: usize = 4;
/// The offset of the 8-bit values in a [`GemmI8`] row: `q` is stored as the byte `q + 128`.
pub const GEMM_OFFSET: i32 = 128;

/// The INT8 convolution as a matrix product (the layout of AVX-512 VNNI's `vpdpbusd`, and a
/// good one for NEON too): for pixel `p < rows.len() / span` and channel
/// `o < channels = wsum.len()`,
/// `acc[p*channels + o] = sum_{k < span} (rows[p*span + k] as i32 - 128) * w(o, k)`
/// exactly, where `w(o, k)` is `weights[((o/16 * span/4 + k/4) * 16 + o%16) * 4 + k%4]` (see
/// [`pack_gemm_i8`]) and `wsum[o] = sum_k w(o, k)`. `channels` is a multiple of [`GEMM_GROUP`],
/// `span` a multiple of [`GEMM_DEPTH`] and at most [`GEMM_MAX_SPAN`]; weights are within the
/// table's [`Kernels::gemm_i8_max_weight`] (at most [`GEMM_MAX_WEIGHT`], which packing
/// checks), so every sum fits in i32. The AVX2 kernel adds four products of a byte and a weight
/// in i16 (`vpmaddubsw`): exact by construction, for its table's 6-bit weights, rather than
/// saturating; callers split wider weights in two products for it (see `layers::intconv`).
pub type GemmI8 = fn(rows: &[u8], span: usize, weights: &[i8], wsum: &[i32], acc: &mut [i32]);

/// The largest weight magnitude a [`GemmI8`] takes on any table: a byte's, symmetric.
pub const GEMM_MAX_WEIGHT: i32 = 127;

/// The longest [`GemmI8`] span: `255 * GEMM_MAX_WEIGHT * span` stays below `2^31`.
pub const GEMM_MAX_SPAN: usize = 65536;

const _: () = assert!(255 * GEMM_MAX_WEIGHT as i64 * (GEMM_MAX_SPAN as i64) < 1 << 31);

/// INT8 weights `[o][k]` (`channels` kernels of `span` values, `|w| <= GEMM_MAX_WEIGHT`) in
/// the layout of [`GemmI8`]: the span rounded up to a multiple of [`GEMM_DEPTH`] and the
/// channels to a multiple of [`GEMM_GROUP`], both padded with zero weights. Returns the packed
/// weights, their sums per (padded) channel and the padded span.
pub fn pack_gemm_i8(weights: &[i8], channels: usize, span: usize) -> (Vec<i8>, Vec<i32>, usize) {
    assert_eq!(weights.len(), channels * span, "one kernel a channel");
    assert!(
        weights
            .iter()
            .all(|&w| i32::from(w).abs() <= GEMM_MAX_WEIGHT),
        "INT8 weights within +-{GEMM_MAX_WEIGHT}"
    );
    let padded_span = span.next_multiple_of(GEMM_DEPTH);
    let padded_channels = channels.next_multiple_of(GEMM_GROUP);
    let mut packed = vec![0i8; padded_channels * padded_span];
    let mut sums = vec![0i32; padded_channels];
    for o in 0..channels {
        for k in 0..span {
            let w = weights[o * span + k];
            let at = ((o / GEMM_GROUP * padded_span / GEMM_DEPTH + k / GEMM_DEPTH) * GEMM_GROUP
                + o % GEMM_GROUP)
                * GEMM_DEPTH
                + k % GEMM_DEPTH;
            packed[at] = w;
            sums[o] += i32::from(w);
        }
    }
    (packed, sums, padded_span)
}

/// Consecutive inputs a [`GemmI16`] lane sums in one step (`vpmaddwd` adds pairs of
/// products): its spans are multiples of this. Its channels come in groups of [`GEMM_GROUP`].
pub const GEMM_I16_DEPTH: usize = 2;

/// The INT16 convolution as a matrix product, on weights packed once by [`pack_gemm_i16`]:
/// for pixel `p < rows.len() / span` and channel `o < channels = weights.len() / span`,
/// `acc[p*channels + o] = sum_{k < span} rows[p*span + k] * w(o, k)` exactly in i64, where
/// `w(o, k)` is `weights[((o/16 * span/2 + k/2) * 16 + o%16) * 2 + k%2]`: each step of a group
/// is 16 channels' pairs of consecutive inputs, what `vpmaddwd` multiplies by one pixel's pair.
/// `channels` is a multiple of [`GEMM_GROUP`], `span` of [`GEMM_I16_DEPTH`] (and not 0).
/// Weights are in `[-32767, 32767]` ([`pack_gemm_i16`] checks it), so a pair of products of a
/// weight and any i16 stays below `2^31` in magnitude and fits the i32 of a `vpmaddwd`.
pub type GemmI16 = fn(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i64]);

// A pair sum of products of a packed weight (`|w| <= 32767`, which packing checks) and any i16
// fits i32 exactly, what the SIMD kernels' 32-bit pair products hold; the sum of two such
// would not, so they widen to i64 at every step.
const _: () = assert!(2 * 32767 * 32768 <= i32::MAX as i64);

/// [`GemmI16`]'s product (the same rows and packed weights) with every sum in i32: for callers
/// whose sums stay within i32 by construction, whatever the order of the additions (INT8's
/// Winograd F(2x2, 3x3), see `layers::int_winograd`, checks it when it packs its kernels;
/// INT8's 16-bit product of bytes less 128 and 8-bit weights, see `layers::intconv`).
/// `vpmaddwd`'s pair sums then go straight into i32 accumulators, with no widening: 16
/// products a multiply where [`GemmI8`] on AVX2 gets 21 with 6-bit weights, and 8-bit ones
/// take it two products. The sums wrap where they would leave i32 (the same bits on every
/// table).
pub type GemmI16I32 = fn(rows: &[i16], span: usize, weights: &[i16], acc: &mut [i32]);

/// Where a block of a SIMD [`GemmI16`] (or [`GemmI16I32`]) writes: `acc` holds its pixels'
/// whole rows of `channels` sums, the block channels `first..first + GEMM_GROUP` of each.
#[allow(dead_code)] // no SIMD table on some targets
pub(crate) struct GroupOut<'a, T = i64> {
    pub acc: &'a mut [T],
    pub channels: usize,
    pub first: usize,
}

/// How the SIMD [`GemmI16`] kernels walk the product: a group of [`GEMM_GROUP`] channels at a
/// time, outermost, so that its packed weights stay in L2 while every pixel passes by; within
/// it up to `pixels_per_block` pixels at a time, `block(pixels, rows, weights, out)` holding
/// their sums in registers over the whole span.
#[allow(dead_code)] // no SIMD table on some targets
pub(crate) fn walk_gemm_i16<T>(
    (rows, span, weights, acc): (&[i16], usize, &[i16], &mut [T]),
    pixels_per_block: usize,
    mut block: impl FnMut(usize, &[i16], &[i16], GroupOut<T>),
) {
    let channels = weights.len() / span;
    let pixels = rows.len() / span;
    for (g, weights) in weights.chunks_exact(GEMM_GROUP * span).enumerate() {
        for p in (0..pixels).step_by(pixels_per_block) {
            let n = (pixels - p).min(pixels_per_block);
            let out = GroupOut {
                acc: &mut acc[p * channels..][..n * channels],
                channels,
                first: g * GEMM_GROUP,
            };
            block(n, &rows[p * span..][..n * span], weights, out);
        }
    }
}

/// INT16 weights `[o][k]` (`channels` kernels of `span` values, symmetric: `|w| <= 32767`) in
/// the layout of [`GemmI16`]: the span rounded up to a multiple of [`GEMM_I16_DEPTH`] and the
/// channels to a multiple of [`GEMM_GROUP`], both padded with zero weights. Returns the packed
/// weights and the padded span.
pub fn pack_gemm_i16(weights: &[i16], channels: usize, span: usize) -> (Vec<i16>, usize) {
    assert_eq!(weights.len(), channels * span, "one kernel a channel");
    assert!(
        !weights.contains(&i16::MIN),
        "INT16 weights within +-{}",
        i16::MAX
    );
    let padded_span = span.next_multiple_of(GEMM_I16_DEPTH);
    let padded_channels = channels.next_multiple_of(GEMM_GROUP);
    let mut packed = vec![0i16; padded_channels * padded_span];
    for o in 0..channels {
        for k in 0..span {
            let at = ((o / GEMM_GROUP * padded_span / GEMM_I16_DEPTH + k / GEMM_I16_DEPTH)
                * GEMM_GROUP
                + o % GEMM_GROUP)
                * GEMM_I16_DEPTH
                + k % GEMM_I16_DEPTH;
            packed[at] = weights[o * span + k];
        }
    }
    (packed, padded_span)
}

/// Output channels a [`SgemmFma`] computes together: [`PackedF32`] kernels come in groups this
/// size, one 64-byte line of 16 floats a group and input.
pub const SGEMM_GROUP: usize = 16;

/// Sixteen floats on one 64-byte line: a [`PackedF32`] group's weights for one input.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C, align(64))]
pub struct Lanes(pub [f32; SGEMM_GROUP]);

/// Float kernels `[o][k]` (`channels` kernels of `span` inputs) in the layout of [`SgemmFma`]:
/// `lines[o/16 * span + k].0[o%16]`, the channels padded with zero kernels to whole groups.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedF32 {
    pub channels: usize,
    pub span: usize,
    pub lines: Vec<Lanes>,
}

impl PackedF32 {
    pub fn new(weights: &[f32], channels: usize, span: usize) -> PackedF32 {
        assert_eq!(weights.len(), channels * span, "one kernel a channel");
        let groups = channels.div_ceil(SGEMM_GROUP);
        let mut lines = vec![Lanes::default(); groups * span];
        for (o, kernel) in weights.chunks_exact(span.max(1)).enumerate() {
            for (k, &w) in kernel.iter().enumerate() {
                lines[o / SGEMM_GROUP * span + k].0[o % SGEMM_GROUP] = w;
            }
        }
        PackedF32 {
            channels,
            span,
            lines,
        }
    }

    /// Channel groups, the last one padded.
    pub fn groups(&self) -> usize {
        self.channels.div_ceil(SGEMM_GROUP)
    }
}

/// The float convolution as a matrix product with fused multiply-adds, on kernels packed once:
/// for pixel `p < rows.len() / span` and `j < width = 16 * groups.len()`,
/// `acc[p*width + j]` is the chain `s = fma(rows[p*span + k], w(16*groups.start + j, k), s)`
/// over `k = 0, 1, .., span-1` from `s = 0` (`span = kernels.span > 0`), each step one
/// correctly rounded `f32::mul_add`, so its bits do not depend on how a kernel blocks the work.
/// Not every table has one: without fused multiply-adds in hardware `matrixmultiply` is faster
/// than this order allows (see [`Kernels::sgemm_fma`]).
pub type SgemmFma = fn(rows: &[f32], kernels: &PackedF32, groups: Range<usize>, acc: &mut [f32]);

/// Points of a tile transformed by Winograd's F(4x4, 3x3) (6 x 6), and outputs of a tile (4 x 4).
pub const WINOGRAD_POINTS: usize = 36;
pub const WINOGRAD_OUTPUTS: usize = 16;

/// The input transform of Winograd's F(4x4, 3x3) (`Bᵀ d B`, see
/// [`crate::layers::winograd`]), 16 channels at once: each 36 [`Lanes`] of `tiles` (a 6x6
/// block of inputs, row-major) become the 36 transformed points at the same place of `points`
/// (row-major), each lane its own channel. Exact float formulas in a fixed order
/// ([`generic::winograd_input`]).
pub type WinogradInput = fn(tiles: &[Lanes], points: &mut [Lanes]);

/// The output transform of F(4x4, 3x3) (`Aᵀ m A`): each 36 [`Lanes`] of `products` (a tile's
/// points, row-major) become the tile's 4x4 outputs, 16 [`Lanes`] of `outputs` (row-major).
pub type WinogradOutput = fn(products: &[Lanes], outputs: &mut [Lanes]);

/// Convolution of a zero-padded CHW input (`channels` planes of `in_h` x `in_w`) with `k` x `k`
/// kernels `weights[o][i][ky][kx]` and stride `stride`, into `out[o][y][x]` of
/// `(in_h-k)/stride+1` x `(in_w-k)/stride+1`: each output starts at `bias[o]` and adds
/// `weights * input` term by term in `(i, ky, kx)` order, one f32 multiply and one f32 add a
/// term. `bias.len()` is the output channel count.
pub type ConvDirect = fn(
    input: &[f32],
    in_h: usize,
    in_w: usize,
    k: usize,
    stride: usize,
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
);

/// One image row of a CHW float tensor to bit-plane levels: channel `c` of pixel `x` is
/// `src[c*plane + x]`; its level is `round_ties_even(clamp(v, 0, max) / max * (2^bits - 1))`
/// (NaN gives 0); pixel `x` goes to `planes[x*bits*words..][..bits*words]` in the layout of
/// [`PackPlanes`], `words = channels.div_ceil(64)`. The row is `planes.len() / (bits*words)`
/// pixels long.
pub type QuantizeRow =
    fn(src: &[f32], plane: usize, channels: usize, max: f32, bits: usize, planes: &mut [u64]);

/// Darknet's horizontal resize pass on `rows` rows of `src_w` values, into rows of `dst_w`:
/// `dst[r*dst_w + c] = wa[c] * src[r*src_w + ix[c]] + wb[c] * src[r*src_w + ix[c] + 1]` (two
/// multiplies, then the add) for `c < ix.len() <= dst_w`, every `ix[c] + 1 < src_w`; the rest
/// of each row is left alone.
pub type ResizeH = fn(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
);

/// Darknet's vertical resize pass on one row: `dst[c] = wa * top[c] + wb * bottom[c]`.
pub type ResizeV = fn(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]);

/// The resize passes as the reference board's Darknet computes them: built with `-Ofast` for
/// aarch64, GCC contracts each blend into one product and a fused multiply-add,
/// `dst = fma(wb, b, wa * a)` (horizontal: `a`, `b` the two source columns; vertical: `top`,
/// `bottom`). The same signatures as [`ResizeH`] and [`ResizeV`]; every table gives the same
/// bits, since a fused multiply-add is exactly rounded wherever it runs.
pub type ResizeHFused = ResizeH;
pub type ResizeVFused = ResizeV;

/// One row of packed 4:2:2 video (Y0 U Y1 V per pair of pixels) to interleaved RGB, BT.601
/// studio range with 8-bit fixed-point coefficients (see [`generic::yuv_to_rgb`]). The row is
/// `dst.len() / 3` pixels; `src` holds at least `pixels.div_ceil(2) * 4` bytes.
pub type YuyvToRgb = fn(src: &[u8], dst: &mut [u8]);

/// One row of NV12 to interleaved RGB: `luma` holds the row's Y bytes, `chroma` the U, V pairs
/// it shares with its neighbour row (at least `pixels.div_ceil(2) * 2` bytes).
pub type Nv12ToRgb = fn(luma: &[u8], chroma: &[u8], dst: &mut [u8]);

/// The JPEG decoder's inverse DCT of one 8x8 block (stb_image's integer "islow" IDCT, see
/// [`generic::idct_block`]): dequantized coefficients in natural (row-major) order to 8 rows of
/// 8 samples, row `r` at `out[r*stride..][..8]` (`out.len() >= 7*stride + 8`). Wrapping 32-bit
/// arithmetic, so any coefficients give the same bytes on every table.
pub type IdctBlock = fn(out: &mut [u8], stride: usize, coefficients: &[i16; 64]);

/// The JPEG decoder's colour conversion of one row (stb_image's, see
/// [`generic::ycbcr_to_rgb`]): full-range Y, Cb, Cr samples to interleaved RGB in `out`, whose
/// length gives the pixels; `y`, `cb` and `cr` hold at least one sample a pixel.
pub type YcbcrToRgb = fn(out: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]);

/// The JPEG decoder's "fancy" upsampling of a chroma row subsampled 2x2 (stb_image's, see
/// [`generic::upsample_h2v2`]): `near.len() > 0` samples of the nearer input row and as many
/// of the farther one (`far` may be longer) to `2 * near.len()` samples at the start of `out`.
pub type UpsampleH2V2 = fn(out: &mut [u8], near: &[u8], far: &[u8]);

/// The same for a chroma row subsampled 2x1 (4:2:2, see [`generic::upsample_h2v1`]): the
/// `near.len() > 0` samples of its one input row to `2 * near.len()` at the start of `out`.
pub type UpsampleH2V1 = fn(out: &mut [u8], near: &[u8]);

/// A block of INT8 sums back into float planes (the integer layers' epilogue before the
/// activation): for pixel `p < sums.len() / width` and channel `o < planes.len() <= width`,
/// `planes[o][at + p] = (sums[p * width + o] + bias[o]) as f32 * rescale[o]`, the addition in
/// i32 (wrapping; callers keep it within i32) and one rounding to the nearest float.
pub type RescaleSums = fn(
    sums: &[i32],
    width: usize,
    bias: &[i32],
    rescale: &[f32],
    planes: &mut [&mut [f32]],
    at: usize,
);

/// How an INT8 layer's float inputs become integers: `x * scale` clamped to `[low, high]`
/// (integers within 2^22) and rounded to the nearest, ties to even, plus `offset`; NaN is
/// `low` plus `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub scale: f32,
    pub low: f32,
    pub high: f32,
    pub offset: i32,
}

/// A CHW tensor's pixels `pixels` (of planes `plane` long) quantized as [`Levels`] says into
/// `dst` in HWC order: `dst[p * channels + c]` is channel `c` of pixel `pixels.start + p`.
/// The levels plus the offset lie within the output type (checked).
pub type QuantizeHwcU8 =
    fn(src: &[f32], plane: usize, pixels: Range<usize>, levels: &Levels, dst: &mut [u8]);
/// [`QuantizeHwcU8`] into i16.
pub type QuantizeHwcI16 =
    fn(src: &[f32], plane: usize, pixels: Range<usize>, levels: &Levels, dst: &mut [i16]);

/// One implementation of every kernel.
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    /// What the table runs on, for logs and benchmarks: "generic", "x86_64 avx2", ...
    pub name: &'static str,
    pub popcount_dots: PopcountDots,
    pub window_sums: WindowSums,
    pub activate: Activate,
    pub pack_planes: PackPlanes,
    pub gemm_i8: GemmI8,
    /// The largest weight magnitude `gemm_i8` is exact for: [`GEMM_MAX_WEIGHT`], or 32 for
    /// AVX2's `vpmaddubsw` (four products of a byte and a weight added in i16).
    pub gemm_i8_max_weight: i32,
    /// The INT16 convolution as a matrix product, like `gemm_i8`: each weight load feeds a
    /// few pixels, each input load a group of channels.
    pub gemm_i16: GemmI16,
    /// The INT16 product summed in i32, where the table has one faster than [`GemmI8`]
    /// (AVX2 without VNNI): INT8's 3x3 layers then run Winograd's F(2x2, 3x3) on it. `None`
    /// elsewhere, and they keep `gemm_i8` (with VNNI's 64 products a multiply, or NEON).
    pub gemm_i16_i32: Option<GemmI16I32>,
    /// The float convolution's product where the CPU fuses multiply-adds at a width that beats
    /// `matrixmultiply` (AVX-512); `None` elsewhere, and the layers use `matrixmultiply`.
    pub sgemm_fma: Option<SgemmFma>,
    /// The fewest 4x4 output tiles on which a 3x3 stride-1 float layer runs Winograd's
    /// F(4x4, 3x3) rather than the plain fused product (tables with `sgemm_fma`): on few
    /// tiles the 36 transformed kernels, 4 times the plain ones, are read for little work, and
    /// which wins depends on the product. On 13x13 outputs (16 tiles) the plain product won
    /// with AVX-512; with AVX2's 8 lanes Winograd does (YOLOv3-tiny's 13x13 layers on Zen 2).
    pub winograd_min_tiles: usize,
    pub winograd_input: WinogradInput,
    pub winograd_output: WinogradOutput,
    pub conv_direct: ConvDirect,
    pub quantize_row: QuantizeRow,
    pub resize_h: ResizeH,
    pub resize_v: ResizeV,
    pub resize_h_fused: ResizeHFused,
    pub resize_v_fused: ResizeVFused,
    pub yuyv_to_rgb: YuyvToRgb,
    pub nv12_to_rgb: Nv12ToRgb,
    pub idct_block: IdctBlock,
    pub ycbcr_to_rgb: YcbcrToRgb,
    pub upsample_h2v2: UpsampleH2V2,
    pub upsample_h2v1: UpsampleH2V1,
    pub rescale_sums: RescaleSums,
    pub quantize_hwc_u8: QuantizeHwcU8,
    pub quantize_hwc_i16: QuantizeHwcI16,
}

/// The environment variable that names the table [`best()`] returns: one of [`supported()`]'s
/// names (`generic`, `x86_64 avx2`, `aarch64 neon`, ...), to run or time another table than
/// the fastest.
pub const KERNELS_VAR: &str = "ZYNQDET_KERNELS";

/// `ZYNQDET_FORCE_GENERIC=1`, the older spelling of `ZYNQDET_KERNELS=generic` (CI's board
/// check uses it).
pub const FORCE_GENERIC_VAR: &str = "ZYNQDET_FORCE_GENERIC";

static GENERIC: Kernels = generic::TABLE;

/// The portable table.
pub fn generic() -> &'static Kernels {
    &GENERIC
}

/// The table [`KERNELS_VAR`] names (or [`FORCE_GENERIC_VAR`] forces), else the fastest this
/// CPU runs. The CPU and the variables are looked at on the first call only; a name this CPU
/// does not run is reported on stderr once and the fastest table used (a program checks
/// [`from_env`] first to refuse it instead).
pub fn best() -> &'static Kernels {
    static BEST: OnceLock<&'static Kernels> = OnceLock::new();
    BEST.get_or_init(|| {
        from_env().unwrap_or_else(|e| {
            let fastest = fastest();
            eprintln!("{e}; using {}", fastest.name);
            fastest
        })
    })
}

/// The table the environment asks for: [`KERNELS_VAR`]'s, `generic` when
/// [`FORCE_GENERIC_VAR`] is `1`, else the fastest. A name this CPU does not run is an error
/// naming the ones it does.
pub fn from_env() -> Result<&'static Kernels, String> {
    let named = std::env::var(KERNELS_VAR).ok().filter(|n| !n.is_empty());
    let forced = std::env::var(FORCE_GENERIC_VAR).is_ok_and(|v| v == "1");
    match (named, forced) {
        (Some(name), _) => named_table(&name),
        (None, true) => Ok(generic()),
        (None, false) => Ok(fastest()),
    }
}

/// The table of that name among those this CPU runs.
pub fn named_table(name: &str) -> Result<&'static Kernels, String> {
    let tables = supported();
    tables
        .iter()
        .find(|t| t.name == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<_> = tables.iter().map(|t| t.name).collect();
            format!("{KERNELS_VAR}={name}: this CPU runs {names:?}")
        })
}

fn fastest() -> &'static Kernels {
    supported()
        .pop()
        .expect("the generic table is always supported")
}

/// Every table this CPU can run, slowest first: the generic one, then each SIMD level. Tests
/// and benchmarks compare them all with the generic one.
pub fn supported() -> Vec<&'static Kernels> {
    let mut tables = vec![generic()];
    #[cfg(target_arch = "x86_64")]
    tables.extend(x86_64::supported());
    #[cfg(target_arch = "aarch64")]
    tables.extend(aarch64::supported());
    tables
}

thread_local! {
    static OVERRIDE: Cell<Option<&'static Kernels>> = const { Cell::new(None) };
}

/// The table the layers use on this thread: [`best()`], unless [`with_kernels`] says otherwise.
pub fn active() -> &'static Kernels {
    OVERRIDE.with(Cell::get).unwrap_or_else(best)
}

/// Runs `f` with the layers on this thread using `kernels` (for comparing tables within one
/// process, e.g. a whole network on the generic table and on the SIMD one).
pub fn with_kernels<R>(kernels: &'static Kernels, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<&'static Kernels>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(kernels))));
    f()
}

/// The length check of a frame, with the pipeline's wording.
fn check_frame(what: &str, w: usize, h: usize, have: usize, need: usize) -> Result<(), String> {
    if w == 0 || h == 0 {
        return Err(format!("{what} frame of {w}x{h} pixels"));
    }
    if have < need {
        return Err(format!(
            "{what} frame of {w}x{h} needs {need} bytes, it has {have}"
        ));
    }
    Ok(())
}

/// A packed 4:2:2 frame (rows of `w.div_ceil(2) * 4` bytes, Y0 U Y1 V) to interleaved RGB in
/// `dst` (resized to `w * h * 3`, so a recycled buffer is reused), with the [`active()`]
/// table's kernel. An empty or short frame is an error.
pub fn yuyv_to_rgb(w: usize, h: usize, src: &[u8], dst: &mut Vec<u8>) -> Result<(), String> {
    let stride = w.div_ceil(2) * 4;
    check_frame("YUYV", w, h, src.len(), stride * h)?;
    dst.clear();
    dst.resize(w * h * 3, 0);
    let row = active().yuyv_to_rgb;
    for (s, d) in src.chunks_exact(stride).zip(dst.chunks_exact_mut(w * 3)) {
        row(s, d);
    }
    Ok(())
}

/// An NV12 frame (a `w` x `h` Y plane, then rows of `w.div_ceil(2)` U, V pairs, one for each
/// pair of rows) to interleaved RGB in `dst` (resized to `w * h * 3`), with the [`active()`]
/// table's kernel. An empty or short frame is an error.
pub fn nv12_to_rgb(w: usize, h: usize, src: &[u8], dst: &mut Vec<u8>) -> Result<(), String> {
    let cstride = w.div_ceil(2) * 2;
    check_frame("NV12", w, h, src.len(), w * h + cstride * h.div_ceil(2))?;
    dst.clear();
    dst.resize(w * h * 3, 0);
    let (luma, chroma) = src.split_at(w * h);
    let row = active().nv12_to_rgb;
    for (y, d) in dst.chunks_exact_mut(w * 3).enumerate() {
        row(
            &luma[y * w..][..w],
            &chroma[y / 2 * cstride..][..cstride],
            d,
        );
    }
    Ok(())
}
