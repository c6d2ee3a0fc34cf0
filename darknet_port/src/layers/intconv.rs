//! Integer convolution with power-of-two scales (the hardware-friendly scheme of "Trained
//! Quantization Thresholds", Jain et al.): a real value `x` is stored as
//! `q = round(clamp(x * 2^shift))` (ties to even), so every rescaling is a shift.
//!
//! The layer quantizes its float input with its calibrated input shift, multiplies integer
//! weights and activations into integer accumulators, adds the bias quantized to the
//! accumulator's scale, and rescales each output channel by `2^-(w_shifts[o] + in_shift)`
//! (exact in floating point) before the activation. Pools, routes, upsampling and the detection
//! layers between convolutions see the same floats they would see from the FP32 network, so
//! the convolutions, where all the arithmetic is, run in INT8 or INT16 and nothing else
//! changes.
//!
//! INT8 inputs are bytes with a zero point ([`input_bytes`]): the levels below zero only as
//! many as the most negative input needs, so that a leaky ReLU's output (negatives a tenth of
//! the positives) gets nearly twice the resolution a byte centred on zero would give it.
//!
//! INT8 weights are bytes (`|w| <= 127`, [`kernels::GEMM_MAX_WEIGHT`]), with a scale for each
//! output channel: with one scale a tensor, channels whose weights are much smaller than the
//! largest have few levels. Where the table's byte product takes narrower weights (AVX2's
//! `vpmaddubsw`, exact for 6 bits), they go through it in two parts, `16 * coarse + fine`;
//! Winograd and the 16-bit product (below) take them whole. 6-bit weights, which once spared AVX2 the second product,
//! cost YOLOv3-tiny 0.03 and YOLOv4-tiny 0.08 of INT8's mAP against FP32 (README).
//!
//! What keeps INT8 close to FP32:
//! - each shift minimizes the squared error of its values (a channel's weights, or the
//!   tensor's for INT16; the inputs' calibration histogram), trading clipping of rare large
//!   values against resolution;
//! - inputs use all 8 bits: the zero point leaves no level below the most negative input;
//! - the bias absorbs the mean error the rounded weights cause on the calibration inputs
//!   ("bias correction", Nagel et al. 2019).
//!
//! INT8 and INT16 run as one matrix product of the kernel table ([`kernels::GemmI8`],
//! [`kernels::GemmI16`]) a block of output pixels, the blocks split over the caller's workers
//! ([`crate::parallel`]). INT8 layers with few inputs a pixel (the image) run the float direct
//! kernel on integer values instead. On tables with [`kernels::GemmI16I32`], 3x3 stride-1
//! INT8 layers can run Winograd's F(2x2, 3x3) in integers ([`super::int_winograd`]), and where
//! the byte product would take the weights in two parts, any INT8 layer can run the 16-bit
//! product of the bytes less 128 and the weights whole. Every way gives the same bits, so the
//! layer times each on its first calls and keeps the fastest ([`super::race`]).

use super::activation::Activation;
use super::conv::{FloatConv, DIRECT_MAX_SPAN};
use super::geometry::ConvGeometry;
use super::int_winograd::{self, IntWinograd};
use super::race::Race;
use super::spare;
use super::windows::{
    for_each_block, narrow_bias, quantize_to_hwc, rescale_to_planes, sums_to_planes, taps_hwc,
    to_hwc, ROW_SPLIT,
};
use super::Tensor;
use crate::kernels::generic::level_of;
use crate::kernels::{self, GEMM_OFFSET};
use crate::parallel;
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Int16,
    Int8,
}

impl Precision {
    pub fn parse(name: &str) -> Option<Precision> {
        Some(match name.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float" => Precision::Fp32,
            "int16" | "i16" => Precision::Int16,
            "int8" | "i8" => Precision::Int8,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int16 => "int16",
            Precision::Int8 => "int8",
        }
    }

    /// Bits of a quantized value (0 for floats).
    pub fn bits(self) -> u32 {
        match self {
            Precision::Fp32 => 0,
            Precision::Int16 => 16,
            Precision::Int8 => 8,
        }
    }
}

/// The shift with the least squared error for values distributed as `histogram` (equal bins
/// over `[0, max_abs]`): from the largest shift that clips nothing, up to three finer ones that
/// clip the rarest large values. Rounding costs `step^2/12` a value, clipping `(x - top)^2`.
pub fn best_shift(max_abs: f32, histogram: &[u64], bits: u32) -> i32 {
    let top = ((1i64 << (bits - 1)) - 1) as f64;
    least_error_shift(max_abs, histogram, shift_for(max_abs, bits), |_| top)
}

/// Among `safe..=safe + 3`, the shift whose quantization of `histogram` (magnitudes in equal
/// bins over `[0, max_abs]`) has the least squared error, when values above `top(shift)` steps
/// clip.
fn least_error_shift(max_abs: f32, histogram: &[u64], safe: i32, top: impl Fn(i32) -> f64) -> i32 {
    if histogram.is_empty() || max_abs <= 0.0 {
        return safe;
    }
    let bin_width = f64::from(max_abs) / histogram.len() as f64;
    let error = |shift: i32| -> f64 {
        let step = (-f64::from(shift)).exp2();
        let clip = top(shift) * step;
        histogram
            .iter()
            .enumerate()
            .map(|(b, &count)| {
                let x = (b as f64 + 0.5) * bin_width;
                let e = if x <= clip {
                    step * step / 12.0
                } else {
                    (x - clip).powi(2)
                };
                count as f64 * e
            })
            .sum()
    };
    (safe..=safe + 3)
        .min_by(|&a, &b| error(a).total_cmp(&error(b)))
        .unwrap_or(safe)
}

/// An INT8 layer's input scale and zero point: a value `x` is the byte `round(x * 2^shift) +
/// zero`, in `0..=255`. The zero point is the fewest levels that hold the most negative input
/// (at most half of them), so the rest go to the positive side: after a leaky ReLU the
/// negatives are a tenth of the positives, and a byte centred on zero would leave nearly half
/// its levels unused. The shift is chosen as [`best_shift`] does, on the levels above zero.
pub fn input_bytes(stats: &InputStats) -> (i32, i32) {
    let negative = f64::from((-stats.min).max(0.0));
    let zero_at = |shift: i32| (negative * f64::from(shift).exp2()).ceil().min(128.0) as i32;
    let top = |shift: i32| f64::from(255 - zero_at(shift));
    let max_abs = f64::from(stats.max_abs);
    if stats.max_abs <= 0.0 || !stats.max_abs.is_finite() {
        return (0, zero_at(0));
    }
    // the largest shift at which the largest value fits above the zero point
    let mut safe = shift_for(stats.max_abs, 9);
    while max_abs * f64::from(safe).exp2() > top(safe) {
        safe -= 1;
    }
    let shift = least_error_shift(stats.max_abs, stats.histogram, safe, top);
    (shift, zero_at(shift))
}

/// The shift with the least squared error for the exact `values` stored in `[-top, top]`,
/// among the same candidates.
fn best_shift_exact(values: &[f32], top: i32) -> i32 {
    let max_abs = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let safe = shift_to(max_abs, top);
    let top = top as f32;
    let error = |shift: i32| -> f64 {
        let scale = (shift as f32).exp2();
        values
            .iter()
            .map(|&v| f64::from(v - quantize_scaled(v, scale, -top, top) / scale).powi(2))
            .sum()
    };
    (safe..=safe + 3)
        .map(|shift| (error(shift), shift))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(safe, |best| best.1)
}

/// The float bias less the mean shift the quantized weights cause in each output: `sum_i
/// (w_q - w) * mean(input_i)` over each kernel (without `means`, the bias as it is).
fn corrected_bias(
    conv: &FloatConv,
    quantized: &[i16],
    w_shifts: &[i32],
    means: &[f32],
) -> Vec<f64> {
    let taps = conv.size * conv.size;
    let span = conv.in_channels * taps;
    (0..conv.out_channels)
        .map(|o| {
            let step = f64::from(-w_shifts[o]).exp2();
            let bias = f64::from(conv.bias[o]);
            if means.len() != conv.in_channels {
                return bias;
            }
            let shift: f64 = (0..span)
                .map(|k| {
                    let error = f64::from(quantized[o * span + k]) * step
                        - f64::from(conv.weights[o * span + k]);
                    error * f64::from(means[k / taps])
                })
                .sum();
            bias - shift
        })
        .collect()
}

/// The largest shift that keeps `max_abs` representable in `bits` signed bits.
pub fn shift_for(max_abs: f32, bits: u32) -> i32 {
    shift_to(max_abs, (1i32 << (bits - 1)) - 1)
}

/// The largest shift that keeps `max_abs` within `[-top, top]`.
fn shift_to(max_abs: f32, top: i32) -> i32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return 0;
    }
    (top as f32 / max_abs).log2().floor() as i32
}

/// `x` at scale `2^shift`, rounded and clamped to `[-top, top]` (symmetric, so that negating
/// a value never overflows).
fn quantize_to(x: f32, shift: i32, top: i32) -> i32 {
    let top = top as f32;
    quantize_scaled(x, (shift as f32).exp2(), -top, top) as i32
}

/// `x * scale` clamped to `[low, high]` (integers, at most 2^22 in magnitude) and rounded to
/// the nearest integer, ties to even; NaN stays NaN (and converts to 0).
#[inline]
fn quantize_scaled(x: f32, scale: f32, low: f32, high: f32) -> f32 {
    // Adding and taking off 1.5 * 2^23 leaves no bits for a fraction: the add rounds. Unlike
    // `f32::round`, no libm call in the hot loops.
    const ROUNDER: f32 = 12_582_912.0;
    ((x * scale).clamp(low, high) + ROUNDER) - ROUNDER
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub precision: Precision,
    /// `[out][in*k*k]`: INT16 in `[-32767, 32767]`, INT8 in
    /// `[-GEMM_MAX_WEIGHT, GEMM_MAX_WEIGHT]` (see [`kernels::GemmI8`]).
    pub weights: Vec<i16>,
    /// The scale of each output channel's weights, `2^w_shifts[o]`: INT8 has one a channel
    /// (channels with small weights keep their levels), INT16 one for the tensor (the same in
    /// each).
    pub w_shifts: Vec<i32>,
    pub in_shift: i32,
    /// INT8: the byte a real 0 becomes (inputs are bytes `0..=255`, see [`input_bytes`]);
    /// 0 for INT16.
    pub input_zero: i32,
    /// At each channel's accumulator scale `2^(w_shifts[o] + in_shift)`.
    pub bias: Vec<i64>,
    pub activation: Activation,
    /// The weights as the layer's kernel reads them.
    packed: Packed,
}

/// A layer's weights laid out for its kernel, each kernel's taps in `(ky, kx, i)` order: the
/// order of the rows they meet (see `windows.rs`).
#[derive(Debug, Clone, PartialEq)]
enum Packed {
    /// INT8: the layout of [`kernels::GemmI8`] (boxed: with the forms other ways pack, the
    /// largest of the three).
    Gemm(Box<GemmWeights>),
    /// INT8 with few inputs a pixel (the image layer, [`FloatConv::runs_direct`]): the float
    /// direct kernel on integer values, which is exact (see [`IntConv::forward_direct`]). The
    /// weights as floats, no bias, no activation.
    Direct(FloatConv),
    /// INT16: the layout of [`kernels::GemmI16`], and its span (`in_channels * k * k`
    /// rounded up to the kernel's depth).
    GemmI16 { packed: Vec<i16>, span: usize },
}

/// What calibration measured of a convolution's input.
#[derive(Debug, Clone, Copy)]
pub struct InputStats<'a> {
    /// The largest magnitude.
    pub max_abs: f32,
    /// The smallest value: a layer whose inputs are never negative can use unsigned bytes.
    pub min: f32,
    /// Counts of magnitudes in equal bins over `[0, max_abs]` (empty: scale for the maximum).
    pub histogram: &'a [u64],
    /// The mean of each input channel (empty: no bias correction).
    pub channel_means: &'a [f32],
}

impl InputStats<'_> {
    /// Inputs of any sign up to `max_abs`, nothing else known.
    pub fn range(max_abs: f32) -> InputStats<'static> {
        InputStats {
            max_abs,
            min: -max_abs,
            histogram: &[],
            channel_means: &[],
        }
    }
}

/// INT8 weights in the layout of [`kernels::GemmI8`]: as they are, and for a table whose
/// product takes narrower weights (AVX2's 6 bits, [`kernels::Kernels::gemm_i8_max_weight`]) as
/// `SPLIT * coarse + fine`, two products within its range, packed the first time such a table
/// runs the layer.
#[derive(Debug, Clone, PartialEq)]
struct GemmWeights {
    packed: Vec<i8>,
    sums: Vec<i32>,
    /// The weights' largest magnitude.
    largest_weight: i32,
    /// The coarse and the fine parts, packed, with their sums.
    split: Derived<Box<[PackedI8; 2]>>,
    /// The weights whole in the layout of [`kernels::GemmI16I32`] and its span, packed the
    /// first time a table whose byte product would split them runs the layer.
    wide: Derived<(Vec<i16>, usize)>,
    /// `in_channels * k * k`, rounded up to the kernel's depth.
    span: usize,
    /// The largest magnitude a sum can have, `255 * max|w| * span`: with its bias within i32
    /// too, the sums are rescaled on vectors (see [`rescale_to_planes`]).
    largest_sum: i64,
    /// Winograd's transformed kernels of a 3x3 stride-1 layer, packed the first time a table
    /// with [`kernels::GemmI16I32`] runs it (`None` inside: its sums could leave i32).
    winograd: Derived<Option<IntWinograd>>,
    /// The fastest here of the ways the table offers (see [`super::race`]): [`PRODUCT`],
    /// [`WINOGRAD`], [`WIDE`].
    race: Race,
}

/// Packed weights and their sums, for one [`kernels::GemmI8`].
type PackedI8 = (Vec<i8>, Vec<i32>);
/// The same, borrowed.
type PackedI8Ref<'a> = (&'a [i8], &'a [i32]);

/// Something derived from the weights the first time a kernel table needs it, so any two
/// are alike.
#[derive(Debug, Clone)]
struct Derived<T>(OnceLock<T>);

impl<T> Default for Derived<T> {
    fn default() -> Derived<T> {
        Derived(OnceLock::new())
    }
}

impl<T> PartialEq for Derived<T> {
    fn eq(&self, _: &Derived<T>) -> bool {
        true
    }
}

/// INT8's 16-bit product for a layer: its packed weights, their span, the product.
type Wide<'a> = (&'a [i16], usize, kernels::GemmI16I32);

/// INT8's Winograd for a layer: its transformed kernels, each output channel's sum of
/// weights (the packed product's), the product.
#[derive(Clone, Copy)]
struct Winograd<'a> {
    kernels: &'a IntWinograd,
    kernel_sums: &'a [i32],
    product: kernels::GemmI16I32,
}

/// The [`Race`] ways of an INT8 layer with a matrix product: the table's byte product
/// ([`IntConv::forward_gemm`]), Winograd ([`IntConv::forward_winograd`]) and the 16-bit
/// product ([`IntConv::forward_wide`]).
const PRODUCT: usize = 0;
const WINOGRAD: usize = 1;
const WIDE: usize = 2;

// The 16-bit product's sums, of bytes less 128 and 8-bit weights, stay within i32.
const _: () = assert!(128 * 127 * kernels::GEMM_MAX_SPAN as i64 <= i32::MAX as i64);

/// The factor of the coarse part of split weights: `|w| <= 127` gives parts within `+-8`.
const SPLIT: i32 = 16;

impl GemmWeights {
    fn new(weights: &[i16], out_channels: usize, in_channels: usize, k: usize) -> GemmWeights {
        let bytes: Vec<i8> = taps_hwc(weights, in_channels, k)
            .iter()
            .map(|&w| i8::try_from(w).expect("INT8 weights are bytes"))
            .collect();
        let largest_weight = bytes.iter().map(|&w| i32::from(w).abs()).max().unwrap_or(0);
        let largest_sum = 255 * i64::from(largest_weight) * (in_channels * k * k) as i64;
        let (packed, sums, span) = kernels::pack_gemm_i8(&bytes, out_channels, in_channels * k * k);
        GemmWeights {
            packed,
            sums,
            largest_weight,
            split: Derived::default(),
            wide: Derived::default(),
            span,
            largest_sum,
            winograd: Derived::default(),
            race: Race::default(),
        }
    }

    /// The packed weights for a product that takes weights up to `max`: as they are, or
    /// their coarse part and then the fine one (`weights` are the layer's, `[out][in][k][k]`).
    fn for_product(
        &self,
        max: i32,
        weights: &[i16],
        (out_channels, in_channels, k): (usize, usize, usize),
    ) -> (PackedI8Ref<'_>, Option<PackedI8Ref<'_>>) {
        if self.largest_weight <= max {
            return ((&self.packed, &self.sums), None);
        }
        // both parts within +-8 (see SPLIT)
        assert!(max >= SPLIT / 2, "a product of weights up to {max}");
        let [coarse, fine] = &**self.split.0.get_or_init(|| {
            let taps = taps_hwc(weights, in_channels, k);
            let coarse: Vec<i8> = taps
                .iter()
                .map(|&w| (i32::from(w) + SPLIT / 2).div_euclid(SPLIT) as i8)
                .collect();
            let fine: Vec<i8> = taps
                .iter()
                .zip(&coarse)
                .map(|(&w, &c)| (i32::from(w) - SPLIT * i32::from(c)) as i8)
                .collect();
            let pack = |part: &[i8]| {
                let (packed, sums, _) =
                    kernels::pack_gemm_i8(part, out_channels, in_channels * k * k);
                (packed, sums)
            };
            Box::new([pack(&coarse), pack(&fine)])
        });
        (
            (coarse.0.as_slice(), coarse.1.as_slice()),
            Some((fine.0.as_slice(), fine.1.as_slice())),
        )
    }

    fn channels(&self) -> usize {
        self.sums.len()
    }
}

// The direct kernel's sums of bytes and 8-bit weights are exact in f32 (`forward_direct`).
const _: () = assert!(255 * 127 * DIRECT_MAX_SPAN < 1 << f32::MANTISSA_DIGITS);

/// Pixels whose rows are built and multiplied together: a block of rows (up to 64 x 4608
/// values) stays in L2 while every kernel meets it.
const BLOCK_PIXELS: usize = 64;

impl IntConv {
    /// Quantizes a float convolution whose inputs are described by `stats`.
    pub fn from_float(conv: &FloatConv, precision: Precision, stats: &InputStats) -> IntConv {
        assert!(precision != Precision::Fp32);
        let bits = precision.bits();
        let span = conv.in_channels * conv.size * conv.size;
        let (top, w_shifts) = match precision {
            Precision::Int8 => {
                let top = kernels::GEMM_MAX_WEIGHT;
                let shifts = conv
                    .weights
                    .chunks_exact(span)
                    .map(|kernel| best_shift_exact(kernel, top))
                    .collect();
                (top, shifts)
            }
            _ => {
                let top = (1i32 << (bits - 1)) - 1;
                let shift = best_shift_exact(&conv.weights, top);
                (top, vec![shift; conv.out_channels])
            }
        };
        let (in_shift, input_zero) = match precision {
            Precision::Int8 => input_bytes(stats),
            _ => (best_shift(stats.max_abs, stats.histogram, bits), 0),
        };
        let weights: Vec<i16> = conv
            .weights
            .iter()
            .enumerate()
            .map(|(i, &w)| quantize_to(w, w_shifts[i / span], top) as i16)
            .collect();
        let packed = match precision {
            Precision::Int8 if conv.runs_direct() => Packed::Direct(FloatConv {
                weights: weights.iter().map(|&w| f32::from(w)).collect(),
                bias: vec![0.0; conv.out_channels],
                activation: Activation::Linear,
                packed: Default::default(),
                ..*conv
            }),
            Precision::Int8 => Packed::Gemm(Box::new(GemmWeights::new(
                &weights,
                conv.out_channels,
                conv.in_channels,
                conv.size,
            ))),
            _ => {
                let taps = taps_hwc(&weights, conv.in_channels, conv.size);
                let (packed, span) = kernels::pack_gemm_i16(&taps, conv.out_channels, span);
                Packed::GemmI16 { packed, span }
            }
        };
        let bias: Vec<i64> = corrected_bias(conv, &weights, &w_shifts, stats.channel_means)
            .iter()
            .enumerate()
            .map(|(o, &b)| {
                let acc_scale = f64::from(w_shifts[o] + in_shift).exp2();
                let bias = (b * acc_scale).round() as i64;
                match precision {
                    // The GEMM takes 128 off every byte where the zero point should come off.
                    Precision::Int8 => {
                        bias + i64::from(GEMM_OFFSET - input_zero) * kernel_sum(&weights, o, span)
                    }
                    _ => bias,
                }
            })
            .collect();
        IntConv {
            in_channels: conv.in_channels,
            out_channels: conv.out_channels,
            size: conv.size,
            stride: conv.stride,
            pad: conv.pad,
            precision,
            weights,
            w_shifts,
            in_shift,
            input_zero,
            bias,
            activation: conv.activation,
            packed,
        }
    }

    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            size: self.size,
            stride: self.stride,
            pad: self.pad,
        }
    }

    /// What the layer is, for timings: its precision, and for an INT8 layer that runs
    /// Winograd or the 16-bit product, that (once its race is decided; see [`super::race`]).
    pub fn kind(&self) -> &'static str {
        match (&self.packed, self.precision) {
            (_, Precision::Int16) => "conv-int16",
            (Packed::Gemm(gemm), _) => match gemm.race.winner() {
                Some(WINOGRAD) => "conv-int8-wino",
                Some(WIDE) => "conv-int8-wide",
                _ => "conv-int8",
            },
            _ => "conv-int8",
        }
    }

    /// Whether the layer has chosen its way (see [`super::race`]); always, where it has one.
    pub fn settled(&self) -> bool {
        match &self.packed {
            Packed::Gemm(gemm) => gemm.race.winner().is_some(),
            _ => true,
        }
    }

    pub fn output_dim(&self, input: usize) -> usize {
        self.geometry().output_dim(input)
    }

    /// Output pixels in blocks, split over the workers: each block's windows as rows (in
    /// cache), multiplied by the kernels (one INT8 or INT16 matrix product),
    /// rescaled and activated into the worker's slice of every output plane; or, with few
    /// inputs a pixel, the direct kernel ([`IntConv::forward_direct`]).
    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let (n, m) = (oh * ow, self.out_channels);
        let dims = (input.height, input.width);
        let windows = self.geometry().windows();
        // each channel's bias and its factor back to floats, `2^-(w_shifts[o] + in_shift)`
        let outputs: Vec<(i64, f32)> = self
            .bias
            .iter()
            .zip(&self.w_shifts)
            .map(|(&b, &shift)| (b, (-(shift + self.in_shift) as f32).exp2()))
            .collect();
        match &self.packed {
            Packed::Direct(exact) => self.forward_direct(exact, input, &outputs),
            Packed::Gemm(gemm) => {
                // Every way gives the same bits: the fastest on this CPU and layer wins.
                let (winograd, wide) = (self.winograd(gemm), self.wide(gemm));
                let ways = 1 << PRODUCT
                    | u8::from(winograd.is_some()) << WINOGRAD
                    | u8::from(wide.is_some()) << WIDE;
                let entry = gemm.race.next(ways);
                let start = Instant::now();
                let out = match (entry.way, winograd, wide) {
                    (WINOGRAD, Some(winograd), _) => {
                        self.forward_winograd(winograd, input, &outputs)
                    }
                    (WIDE, _, Some(wide)) => self.forward_wide(gemm, wide, input, &outputs),
                    _ => self.forward_gemm(gemm, input, &outputs),
                };
                gemm.race.finish(entry, start.elapsed());
                out
            }
            Packed::GemmI16 { packed, span } => {
                let mut out = Tensor::for_overwrite(m, oh, ow);
                let scale = (self.in_shift as f32).exp2();
                let top = ((1i32 << (self.precision.bits() - 1)) - 1) as f32;
                let hwc = to_hwc(input, |x| quantize_scaled(x, scale, -top, top) as i16);
                let (gemm_i16, span) = (kernels::active().gemm_i16, *span);
                let channels = packed.len() / span;
                for_each_block(
                    &mut out.data,
                    n,
                    (BLOCK_PIXELS, ROW_SPLIT),
                    || (Vec::new(), vec![0i64; BLOCK_PIXELS * channels]),
                    |(rows, acc), pixels, first, planes| {
                        let count = pixels.len();
                        windows.rows(&hwc, dims, ow, pixels, span, 0, rows);
                        let acc = &mut acc[..count * channels];
                        gemm_i16(rows, span, packed, acc);
                        self.rescale(acc, channels, &outputs, planes, first..first + count);
                    },
                );
                out
            }
        }
    }

    /// INT8 on the float direct kernel: the inputs quantized as the GEMM's bytes are, less
    /// the zero point (integers in `-255..=255`, the padding 0), convolved with the integer
    /// weights as floats. Every partial sum is an integer below `255 * 127 * DIRECT_MAX_SPAN <
    /// 2^24` in magnitude, so each is exact in f32 whatever the order of the additions: the
    /// sums are the integer ones, and so are the outputs, bit for bit. Building the GEMM's rows
    /// for 27 values a pixel and turning its sums around into planes cost twice the direct
    /// kernel.
    fn forward_direct(&self, exact: &FloatConv, input: &Tensor, outputs: &[(i64, f32)]) -> Tensor {
        let quantization = self.input_levels(0);
        let mut levels = Tensor::for_overwrite(input.channels, input.height, input.width);
        for (q, &x) in levels.data.iter_mut().zip(&input.data) {
            *q = level_of(x, &quantization) as f32;
        }
        let mut out = exact.forward_direct(&levels);
        spare::keep(levels.data);
        let span = self.in_channels * self.size * self.size;
        let plane = out.height * out.width;
        // The bias carries the GEMM's offset (see `from_float`): these sums are without it.
        let offset = i64::from(GEMM_OFFSET - self.input_zero);
        parallel::for_each_part(&mut out.data, plane, 2, |channels, mine| {
            for (o, sums) in channels.zip(mine.chunks_exact_mut(plane)) {
                let (bias, rescale) = outputs[o];
                let bias = bias - offset * kernel_sum(&self.weights, o, span);
                // A float addition rounds the exact sum to the nearest float, as converting
                // the integer sum does: the same value when the bias is a float exactly (on
                // vectors), else the sum in i64.
                let float_bias = bias as f32;
                if float_bias as i64 == bias {
                    for v in sums.iter_mut() {
                        *v = (*v + float_bias) * rescale;
                    }
                } else {
                    for v in sums.iter_mut() {
                        *v = (*v as i64 + bias) as f32 * rescale;
                    }
                }
                self.activation.apply_in_place(sums);
            }
        });
        out
    }

    /// INT8 as one matrix product a block of output pixels ([`kernels::GemmI8`]), or two
    /// where the table's takes narrower weights (see [`GemmWeights::for_product`]).
    fn forward_gemm(&self, gemm: &GemmWeights, input: &Tensor, outputs: &[(i64, f32)]) -> Tensor {
        let hwc = self.quantize_hwc_i8(input);
        let table = kernels::active();
        let shape = (self.out_channels, self.in_channels, self.size);
        let ((packed, sums), fine) =
            gemm.for_product(table.gemm_i8_max_weight, &self.weights, shape);
        let (gemm_i8, span) = (table.gemm_i8, gemm.span);
        let rows = (hwc.as_slice(), self.zero_byte(), span);
        let product = |rows: &[u8], acc: &mut [i32], fine_acc: &mut Vec<i32>| {
            gemm_i8(rows, span, packed, sums, acc);
            if let Some((fine, fine_sums)) = fine {
                fine_acc.resize(acc.len(), 0);
                gemm_i8(rows, span, fine, fine_sums, fine_acc);
                for (a, &f) in acc.iter_mut().zip(fine_acc.iter()) {
                    *a = SPLIT * *a + f;
                }
            }
        };
        self.forward_rows(input, rows, gemm, outputs, product)
    }

    /// INT8 as the 16-bit product ([`kernels::GemmI16I32`]) of the bytes less 128 and the
    /// weights whole: one product where the table's byte product takes the weights in two
    /// parts. The sums are the byte product's, exactly (within i32: see [`WIDE`]).
    fn forward_wide(
        &self,
        gemm: &GemmWeights,
        (packed, span, product): Wide,
        input: &Tensor,
        outputs: &[(i64, f32)],
    ) -> Tensor {
        let offset = self.input_zero - GEMM_OFFSET;
        let levels = self.input_levels(offset);
        let hwc = quantize_to_hwc(input, &levels, kernels::active().quantize_hwc_i16);
        let rows = (hwc.as_slice(), offset as i16, span);
        let product = |rows: &[i16], acc: &mut [i32], _: &mut Vec<i32>| {
            product(rows, span, packed, acc);
        };
        self.forward_rows(input, rows, gemm, outputs, product)
    }

    /// The walk both products take: output pixels in blocks, split over the workers; each
    /// block's windows of `hwc` as rows of `span` (`zero` the padding), multiplied into a
    /// pixel's sums of `gemm`'s channels by `product(rows, sums, scratch)`, rescaled and
    /// activated into the worker's slice of every output plane.
    fn forward_rows<T: Copy + Send + Sync>(
        &self,
        input: &Tensor,
        (hwc, zero, span): (&[T], T, usize),
        gemm: &GemmWeights,
        outputs: &[(i64, f32)],
        product: impl Fn(&[T], &mut [i32], &mut Vec<i32>) + Sync,
    ) -> Tensor {
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let dims = (input.height, input.width);
        let windows = self.geometry().windows();
        let mut out = Tensor::for_overwrite(self.out_channels, oh, ow);
        let narrow = narrow_outputs(outputs, gemm.largest_sum);
        let rescale_sums = kernels::active().rescale_sums;
        let channels = gemm.channels();
        for_each_block(
            &mut out.data,
            oh * ow,
            (BLOCK_PIXELS, ROW_SPLIT),
            || (Vec::new(), vec![0i32; BLOCK_PIXELS * channels], Vec::new()),
            |(rows, acc, scratch), pixels, first, planes| {
                let count = pixels.len();
                windows.rows(hwc, dims, ow, pixels, span, zero, rows);
                let acc = &mut acc[..count * channels];
                product(rows, acc, scratch);
                let pixels = first..first + count;
                match &narrow {
                    Some((bias, rescale)) => {
                        let epilogue = (rescale_sums, &bias[..], &rescale[..], self.activation);
                        rescale_to_planes(epilogue, acc, channels, planes, pixels.start);
                    }
                    None => self.rescale(acc, channels, outputs, planes, pixels),
                }
            },
        );
        out
    }

    /// The weights for INT8's 16-bit product and the product, on a table with
    /// [`kernels::GemmI16I32`] whose byte product would take them in two parts (packed on the
    /// first call); `None` where it does not apply.
    fn wide<'a>(&self, gemm: &'a GemmWeights) -> Option<Wide<'a>> {
        let table = kernels::active();
        let product = table.gemm_i16_i32?;
        if gemm.largest_weight <= table.gemm_i8_max_weight {
            return None;
        }
        let (packed, span) = gemm.wide.0.get_or_init(|| {
            let taps = taps_hwc(&self.weights, self.in_channels, self.size);
            let span = self.in_channels * self.size * self.size;
            kernels::pack_gemm_i16(&taps, self.out_channels, span)
        });
        Some((packed, *span, product))
    }

    /// The kernels of INT8's Winograd and the product that runs it, for a 3x3 stride-1 layer
    /// on a table with [`kernels::GemmI16I32`] (packed on the first call); `None` where it
    /// does not apply.
    fn winograd<'a>(&self, gemm: &'a GemmWeights) -> Option<Winograd<'a>> {
        let product = kernels::active().gemm_i16_i32?;
        if !int_winograd::fits(self.size, self.stride, self.pad) {
            return None;
        }
        let kernels = gemm
            .winograd
            .0
            .get_or_init(|| IntWinograd::new(&self.weights, self.out_channels, self.in_channels))
            .as_ref()?;
        Some(Winograd {
            kernels,
            kernel_sums: &gemm.sums,
            product,
        })
    }

    /// INT8 3x3 stride-1 layers by Winograd's F(2x2, 3x3) in integers
    /// ([`int_winograd`]), on tables with [`kernels::GemmI16I32`]: the same sums as the
    /// GEMM's, exactly, so the same outputs.
    fn forward_winograd(
        &self,
        winograd: Winograd,
        input: &Tensor,
        outputs: &[(i64, f32)],
    ) -> Tensor {
        let Winograd {
            kernels,
            kernel_sums,
            product,
        } = winograd;
        let levels = self.input_levels(0);
        let levels = quantize_to_hwc(input, &levels, kernels::active().quantize_hwc_i16);
        // The bias carries the GEMM's offset (see `from_float`): these sums are of levels.
        let offset = i64::from(GEMM_OFFSET - self.input_zero);
        let bias: Vec<i64> = outputs
            .iter()
            .zip(kernel_sums)
            .map(|(&(b, _), &sum)| b - offset * i64::from(sum))
            .collect();
        let rescale: Vec<f32> = outputs.iter().map(|&(_, r)| r).collect();
        let epilogue = int_winograd::Epilogue {
            bias: &bias,
            rescale: &rescale,
            activation: self.activation,
        };
        let dims = (input.height, input.width, self.in_channels);
        int_winograd::forward(
            kernels,
            &levels,
            dims,
            self.out_channels,
            &epilogue,
            product,
        )
    }

    /// The byte a quantized 0 becomes in the GEMM's rows (the padding).
    fn zero_byte(&self) -> u8 {
        self.input_zero as u8
    }

    /// How INT8 inputs are quantized: each becomes its byte less the zero point, an integer in
    /// `-input_zero..=255 - input_zero` (NaN the byte 0), plus `offset`.
    fn input_levels(&self, offset: i32) -> kernels::Levels {
        let zero = self.input_zero as f32;
        kernels::Levels {
            scale: (self.in_shift as f32).exp2(),
            low: -zero,
            high: 255.0 - zero,
            offset,
        }
    }

    /// The input quantized to bytes in HWC order: `level + input_zero`, in `0..=255`.
    fn quantize_hwc_i8(&self, input: &Tensor) -> Vec<u8> {
        let levels = self.input_levels(self.input_zero);
        quantize_to_hwc(input, &levels, kernels::active().quantize_hwc_u8)
    }

    /// `planes[o][pixels]` from the kernels' sums `acc[pixel][channels]`: bias (the sum and
    /// bias exact in i64, then one rounding to f32), rescale (a power of two, exact) and
    /// activation; `outputs[o]` is channel `o`'s bias and rescale.
    fn rescale<T: Copy + Into<i64>>(
        &self,
        acc: &[T],
        channels: usize,
        outputs: &[(i64, f32)],
        planes: &mut [&mut [f32]],
        pixels: std::ops::Range<usize>,
    ) {
        let values = |sums: &[T], channels: std::ops::Range<usize>, out: &mut [f32]| {
            for ((v, &s), &(b, rescale)) in out.iter_mut().zip(sums).zip(&outputs[channels]) {
                *v = (s.into() + b) as f32 * rescale;
            }
        };
        let at = pixels.start;
        sums_to_planes(acc, channels, planes, at, values, self.activation);
    }
}

/// The sum of output channel `o`'s weights (`weights` is `[out][span]`).
fn kernel_sum(weights: &[i16], o: usize, span: usize) -> i64 {
    weights[o * span..][..span]
        .iter()
        .map(|&w| i64::from(w))
        .sum()
}

/// Each channel's bias in i32 and its rescale, when no sum plus its bias can leave i32 (sums
/// are at most `largest_sum` in magnitude).
fn narrow_outputs(outputs: &[(i64, f32)], largest_sum: i64) -> Option<(Vec<i32>, Vec<f32>)> {
    let bias = narrow_bias(outputs.iter().map(|&(b, _)| b), largest_sum)?;
    Some((bias, outputs.iter().map(|&(_, r)| r).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::binconv::tests::TestRng;
    use crate::layers::race;

    /// In `bits` signed bits.
    fn quantize(x: f32, shift: i32, bits: u32) -> i32 {
        quantize_to(x, shift, (1i32 << (bits - 1)) - 1)
    }

    #[test]
    fn shifts_fit_the_range() {
        assert_eq!(shift_for(1.0, 8), 6); // 1.0 * 64 = 64 <= 127 < 128
        assert_eq!(shift_for(0.9, 8), 7);
        assert_eq!(shift_for(300.0, 8), -2);
        assert_eq!(shift_for(1.0, 16), 14);
        assert_eq!(quantize(1000.0, 0, 8), 127);
        assert_eq!(quantize(-1000.0, 0, 8), -127);
    }

    /// The integer form rounds and clamps as the float one does (ties to even), and takes
    /// NaN to the bottom of the range.
    #[test]
    fn integer_quantization_is_the_float_one() {
        let (low, high) = (-37.0, 218.0);
        let mut rng = TestRng(5);
        let ties = (-80..500).map(|i| i as f32 * 0.5);
        let random = (0..20_000).map(|_| (rng.next() % 1_000_000) as f32 * 1e-3 - 250.0);
        let special = [f32::INFINITY, f32::NEG_INFINITY, -0.0, 1e30, -1e30];
        for x in ties.chain(random).chain(special) {
            for scale in [1.0, 0.5, 4.0] {
                let float = quantize_scaled(x, scale, low, high);
                let levels = kernels::Levels {
                    scale,
                    low,
                    high,
                    offset: 0,
                };
                assert_eq!(level_of(x, &levels), float as i32, "{x}");
            }
        }
        let levels = kernels::Levels {
            scale: 1.0,
            low,
            high,
            offset: 0,
        };
        assert_eq!(level_of(f32::NAN, &levels), -37);
    }

    /// INT8 scales each output channel's weights on its own, within the GEMM's range; INT16
    /// has one scale for the tensor.
    #[test]
    fn int8_weights_have_a_scale_a_channel() {
        // channel 1's weights are 100 times smaller than channel 0's
        let weights: Vec<f32> = (0..2 * 9)
            .map(|i| if i < 9 { 0.9 } else { 0.009 } * if i % 2 == 0 { 1.0 } else { -0.5 })
            .collect();
        let conv = FloatConv {
            in_channels: 1,
            out_channels: 2,
            size: 3,
            stride: 1,
            pad: 1,
            weights,
            bias: vec![0.0; 2],
            activation: Activation::Linear,
            packed: Default::default(),
        };
        let q = IntConv::from_float(&conv, Precision::Int8, &InputStats::range(1.0));
        let top = kernels::GEMM_MAX_WEIGHT;
        assert!(q.weights.iter().all(|&w| i32::from(w).abs() <= top));
        // each channel's largest weight uses the range: 0.9 * 2^7 = 115.2, 0.009 * 2^13 = 73.7
        // (one shift more would clip both)
        assert_eq!(q.w_shifts, [7, 13]);
        assert_eq!((q.weights[0], q.weights[10]), (115, 74));
        let q = IntConv::from_float(&conv, Precision::Int16, &InputStats::range(1.0));
        assert_eq!(q.w_shifts[0], q.w_shifts[1]);
    }

    #[test]
    fn integer_convolution_tracks_the_float_one() {
        let mut rng = TestRng(11);
        let mut rand = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
                .collect()
        };
        let conv = FloatConv {
            in_channels: 4,
            out_channels: 3,
            size: 3,
            stride: 1,
            pad: 1,
            weights: rand(4 * 3 * 9),
            bias: rand(3),
            activation: Activation::Leaky,
            packed: Default::default(),
        };
        let input = Tensor {
            channels: 4,
            height: 5,
            width: 6,
            data: rand(4 * 30),
        };
        let want = conv.forward_reference(&input);
        for (precision, tolerance) in [(Precision::Int16, 1e-3), (Precision::Int8, 0.15)] {
            let q = IntConv::from_float(&conv, precision, &InputStats::range(1.0));
            let got = q.forward(&input);
            let worst = got
                .data
                .iter()
                .zip(&want.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < tolerance, "{precision:?}: worst error {worst}");
            assert!(worst > 0.0, "{precision:?} is really quantized");
        }
    }

    #[test]
    fn int16_products_give_the_generic_bits_on_every_table() {
        let mut rng = TestRng(13);
        // (in, out, size, stride, pad, input h x w): odd spans and channel counts (past whole
        // groups of 16), pixel counts past whole register blocks, more pixels than a block
        for (inputs, outputs, size, stride, pad, (h, w)) in [
            (3, 13, 3, 1, 1, (7, 5)),
            (20, 17, 1, 1, 0, (4, 9)),
            (8, 40, 3, 2, 0, (9, 9)),
            (5, 6, 3, 1, 1, (13, 11)),
        ] {
            let shape = (inputs, outputs, size, stride, pad);
            let (conv, input) = random_case(&mut rng, shape, (h, w), -1.0);
            let q = IntConv::from_float(&conv, Precision::Int16, &InputStats::range(1.0));
            let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let want = bits(&kernels::with_kernels(kernels::generic(), || {
                q.forward(&input)
            }));
            let plain = bits(&integer_reference(&q, &input));
            assert_eq!(
                want, plain,
                "the plain integer arithmetic on {inputs}x{outputs}"
            );
            for table in kernels::supported() {
                let got = kernels::with_kernels(table, || q.forward(&input));
                assert_eq!(bits(&got), want, "{} on {inputs}x{outputs}", table.name);
            }
            let split = parallel::with_workers(&parallel::SplitWays::<3>, || q.forward(&input));
            assert_eq!(bits(&split), want, "split three ways");
        }
    }

    /// The layer's integer arithmetic written out plainly: its own quantized weights and inputs,
    /// multiplied and summed output by output.
    fn integer_reference(q: &IntConv, input: &Tensor) -> Tensor {
        let (oh, ow) = (q.output_dim(input.height), q.output_dim(input.width));
        let (k, c) = (q.size, q.in_channels);
        let zero = q.input_zero;
        let quantized = |x: f32| match q.precision {
            Precision::Int8 => (quantize_to(x, q.in_shift, 255) + zero).clamp(0, 255) - zero,
            _ => quantize(x, q.in_shift, q.precision.bits()),
        };
        // an INT8 layer's bias carries the GEMM's offset back: take it off again
        let offset = match q.precision {
            Precision::Int8 => i64::from(GEMM_OFFSET - zero),
            _ => 0,
        };
        let mut out = Tensor::zeros(q.out_channels, oh, ow);
        for o in 0..q.out_channels {
            let rescale = (-(q.w_shifts[o] + q.in_shift) as f32).exp2();
            for y in 0..oh {
                for x in 0..ow {
                    let w: i64 = q.weights[o * c * k * k..][..c * k * k]
                        .iter()
                        .map(|&w| i64::from(w))
                        .sum();
                    let mut sum = q.bias[o] - offset * w;
                    for i in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (y * q.stride + ky) as isize - q.pad as isize;
                                let ix = (x * q.stride + kx) as isize - q.pad as isize;
                                if iy < 0 || ix < 0 {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                if iy >= input.height || ix >= input.width {
                                    continue;
                                }
                                let v = input.data[(i * input.height + iy) * input.width + ix];
                                let w = q.weights[((o * c + i) * k + ky) * k + kx];
                                sum += i64::from(quantized(v)) * i64::from(w);
                            }
                        }
                    }
                    out.data[(o * oh + y) * ow + x] = q.activation.apply(sum as f32 * rescale);
                }
            }
        }
        out
    }

    /// A random leaky INT8-able convolution of `(in, out, size, stride, pad)` and its
    /// `h` x `w` input, the inputs no lower than `low` (weights and biases in `[-1, 1]`).
    fn random_case(
        rng: &mut TestRng,
        (inputs, outputs, size, stride, pad): (usize, usize, usize, usize, usize),
        (h, w): (usize, usize),
        low: f32,
    ) -> (FloatConv, Tensor) {
        let mut rand = |n: usize, low: f32| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.next() % 2001) as f32 / 2000.0 * (1.0 - low) + low)
                .collect()
        };
        let conv = FloatConv {
            in_channels: inputs,
            out_channels: outputs,
            size,
            stride,
            pad,
            weights: rand(inputs * outputs * size * size, -1.0),
            bias: rand(outputs, -1.0),
            packed: Default::default(),
            activation: Activation::Leaky,
        };
        let input = Tensor {
            channels: inputs,
            height: h,
            width: w,
            data: rand(inputs * h * w, low),
        };
        (conv, input)
    }

    #[test]
    fn int8_gemm_path_is_the_integer_arithmetic_exactly() {
        let mut rng = TestRng(12);
        // (in, out, size, stride, pad, input h x w, smallest input): the first layer of
        // YOLOv4-tiny (stride 2 on an image), odd spans and channel counts, a 1x1; inputs never
        // negative, as negative as positive, and as after a leaky ReLU (a tenth)
        let shapes = [
            (3, 32, 3, 2, 1, (9, 11), 0.0),
            (3, 16, 3, 1, 1, (7, 5), 0.0),
            // an image of more channels than the direct kernel takes: the GEMM on 8-bit weights
            (5, 16, 3, 1, 1, (7, 7), 0.0),
            (5, 13, 3, 1, 1, (6, 6), -1.0),
            (20, 17, 1, 1, 0, (4, 9), -0.1),
            (8, 40, 3, 2, 0, (9, 9), -1.0),
            // more output pixels than a block, so that each worker gets some
            (4, 16, 3, 1, 1, (20, 24), -0.1),
        ];
        for (inputs, outputs, size, stride, pad, (h, w), low) in shapes {
            let shape = (inputs, outputs, size, stride, pad);
            let (conv, input) = random_case(&mut rng, shape, (h, w), low);
            let stats = InputStats {
                min: low,
                ..InputStats::range(1.0)
            };
            let q = IntConv::from_float(&conv, Precision::Int8, &stats);
            // few inputs a pixel: the direct kernel, exact as the GEMM is
            let direct = matches!(q.packed, Packed::Direct(_));
            assert_eq!(direct, inputs * size * size <= 36, "{inputs}x{size}x{size}");
            // the zero point holds the most negative input and no more
            let step = (-q.in_shift as f32).exp2();
            assert!(q.input_zero as f32 * step >= -low, "zero {}", q.input_zero);
            assert!(
                (q.input_zero - 1) as f32 * step < -low,
                "zero {}",
                q.input_zero
            );
            // 8-bit weights, wider than AVX2's product takes in one go
            let widest = q.weights.iter().map(|&w| i32::from(w).abs()).max();
            assert!(widest > Some(64) && widest <= Some(127), "{widest:?}");
            let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let want = integer_reference(&q, &input);
            // every table, and the generic product told to take 6-bit weights only: the
            // weights split in two products, as for AVX2
            let narrow: &'static kernels::Kernels = Box::leak(Box::new(kernels::Kernels {
                gemm_i8_max_weight: 32,
                ..*kernels::generic()
            }));
            for table in kernels::supported().into_iter().chain([narrow]) {
                let got = kernels::with_kernels(table, || q.forward(&input));
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{} on {inputs}x{outputs}",
                    table.name
                );
            }
            // split over workers, the same bits
            let split = parallel::with_workers(&parallel::SplitWays::<3>, || q.forward(&input));
            assert_eq!(bits(&split), bits(&want), "split three ways");
            // a bias that a sum could carry past i32 takes the layer's sums through i64
            let mut wide = q.clone();
            wide.bias[0] = i64::from(i32::MAX);
            let want_wide = integer_reference(&wide, &input);
            assert_eq!(bits(&wide.forward(&input)), bits(&want_wide), "sums in i64");
            // and it is a convolution: close to the float one
            let float = conv.forward_reference(&input);
            let worst = want
                .data
                .iter()
                .zip(&float.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                worst < 0.1 * (inputs * size * size) as f32 / 8.0,
                "worst {worst}"
            );
        }
    }

    /// On a table with the i32 product, a 3x3 stride-1 INT8 layer races Winograd against the
    /// byte product, and where the byte product takes narrower weights than the layer's (as
    /// AVX2's), the 16-bit product races too: every call, whichever way it took, is the
    /// integer arithmetic exactly, and the race ends. Other shapes race the products only;
    /// a table without the i32 product has the byte product alone.
    #[test]
    fn int8_ways_race_to_the_same_bits() {
        let with_i32: &'static kernels::Kernels = Box::leak(Box::new(kernels::Kernels {
            gemm_i16_i32: Some(kernels::generic::gemm_i16_i32),
            ..*kernels::generic()
        }));
        let narrow_bytes: &'static kernels::Kernels = Box::leak(Box::new(kernels::Kernels {
            gemm_i8_max_weight: 32,
            ..*with_i32
        }));
        let (product, winograd, wide) = (1 << PRODUCT, 1 << WINOGRAD, 1 << WIDE);
        let mut rng = TestRng(13);
        // (in, out, size, stride, pad, input h x w): the small-image and the large-image
        // paths with odd sides, then shapes Winograd does not take
        for (inputs, outputs, size, stride, pad, (h, w), winograd_takes) in [
            (6, 20, 3, 1, 1, (13, 11), true),
            (5, 16, 3, 1, 1, (70, 9), true),
            (6, 16, 3, 2, 1, (13, 13), false),
            (40, 16, 1, 1, 0, (13, 13), false),
        ] {
            let shape = (inputs, outputs, size, stride, pad);
            let (conv, input) = random_case(&mut rng, shape, (h, w), -0.1);
            let stats = InputStats {
                min: -0.1,
                ..InputStats::range(1.0)
            };
            let q = IntConv::from_float(&conv, Precision::Int8, &stats);
            let bits = |t: &Tensor| t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let want = bits(&integer_reference(&q, &input));
            let winograd = if winograd_takes { winograd } else { 0 };
            for (table, ways) in [
                (with_i32, product | winograd),
                (narrow_bytes, product | winograd | wide),
                (kernels::generic(), product),
            ] {
                let layer = q.clone();
                assert!(!layer.settled());
                for call in 0..3 * (1 + race::TIMED) + 1 {
                    let got = kernels::with_kernels(table, || layer.forward(&input));
                    assert_eq!(
                        bits(&got),
                        want,
                        "{inputs}x{size}x{size} /{stride}, ways {ways:#b}, call {call}"
                    );
                }
                let Packed::Gemm(gemm) = &layer.packed else {
                    panic!("an INT8 layer of {} inputs a pixel", inputs * size * size);
                };
                assert_eq!(gemm.race.ways(), ways, "{inputs}x{size}x{size} /{stride}");
                let winner = gemm.race.winner().expect("the race is decided");
                assert!(ways & 1 << winner != 0);
                assert!(layer.settled());
            }
        }
    }
}
