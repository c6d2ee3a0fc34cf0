//! Integer convolution with power-of-two per-tensor scales (the hardware-friendly scheme of
//! "Trained Quantization Thresholds", Jain et al.): a real value `x` is stored as
//! `q = clamp(round(x * 2^shift))` in `bits` bits, so every rescaling is a shift.
//!
//! The layer quantizes its float input with its calibrated input shift, multiplies integer
//! weights and activations into integer accumulators, adds the bias quantized to the
//! accumulator's scale, and rescales by `2^-(w_shift + in_shift)` (exact in floating point)
//! before the activation. Pools, routes, upsampling and the detection layers between
//! convolutions see the same floats they would see from the FP32 network, so the convolutions,
//! where all the arithmetic is, run in INT8 or INT16 and nothing else changes.

use super::conv::{Activation, FloatConv};
use super::Tensor;
use crate::kernels::{self, Kernels};

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
    let safe = shift_for(max_abs, bits);
    if histogram.is_empty() || max_abs <= 0.0 {
        return safe;
    }
    let top = ((1i64 << (bits - 1)) - 1) as f64;
    let bin_width = f64::from(max_abs) / histogram.len() as f64;
    let error = |shift: i32| -> f64 {
        let step = (-f64::from(shift)).exp2();
        let clip = top * step;
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

/// The shift with the least squared error for the exact `values`, among the same candidates.
fn best_shift_exact(values: &[f32], bits: u32) -> i32 {
    let max_abs = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let safe = shift_for(max_abs, bits);
    let error = |shift: i32| -> f64 {
        let scale = (shift as f32).exp2();
        values
            .iter()
            .map(|&v| f64::from(v - quantize(v, shift, bits) as f32 / scale).powi(2))
            .sum()
    };
    (safe..=safe + 3)
        .min_by(|&a, &b| error(a).total_cmp(&error(b)))
        .unwrap_or(safe)
}

/// The largest shift that keeps `max_abs` representable in `bits` signed bits.
pub fn shift_for(max_abs: f32, bits: u32) -> i32 {
    let top = ((1i64 << (bits - 1)) - 1) as f32;
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return 0;
    }
    (top / max_abs).log2().floor() as i32
}

/// Symmetric: `[-top, top]`, so that negating a value never overflows.
fn quantize(x: f32, shift: i32, bits: u32) -> i32 {
    let top = ((1i32 << (bits - 1)) - 1) as f32;
    (x * (shift as f32).exp2()).round().clamp(-top, top) as i32
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub precision: Precision,
    /// `[out][in*k*k]`, in `precision.bits()` bits.
    pub weights: Vec<i16>,
    pub w_shift: i32,
    pub in_shift: i32,
    /// At the accumulator's scale `2^(w_shift + in_shift)`.
    pub bias: Vec<i64>,
    pub activation: Activation,
}

impl IntConv {
    /// Quantizes a float convolution whose input magnitudes reach `input_max_abs`, distributed
    /// as `input_histogram` (empty: scale for the maximum).
    pub fn from_float(
        conv: &FloatConv,
        precision: Precision,
        input_max_abs: f32,
        input_histogram: &[u64],
    ) -> IntConv {
        assert!(precision != Precision::Fp32);
        let bits = precision.bits();
        let w_shift = best_shift_exact(&conv.weights, bits);
        let in_shift = best_shift(input_max_abs, input_histogram, bits);
        let acc_scale = ((w_shift + in_shift) as f32).exp2();
        IntConv {
            in_channels: conv.in_channels,
            out_channels: conv.out_channels,
            size: conv.size,
            stride: conv.stride,
            pad: conv.pad,
            precision,
            weights: conv
                .weights
                .iter()
                .map(|&w| quantize(w, w_shift, bits) as i16)
                .collect(),
            w_shift,
            in_shift,
            bias: conv
                .bias
                .iter()
                .map(|&b| (f64::from(b) * f64::from(acc_scale)).round() as i64)
                .collect(),
            activation: conv.activation,
        }
    }

    pub fn output_dim(&self, input: usize) -> usize {
        (input + 2 * self.pad - self.size) / self.stride + 1
    }

    /// The quantized input laid out as rows: row `p` (an output position) holds the `in*k*k`
    /// values its kernel sees, so each output is one contiguous dot product.
    fn im2row(&self, input: &Tensor, oh: usize, ow: usize) -> Vec<i16> {
        let (k, bits) = (self.size, self.precision.bits());
        let (ih, iw) = (input.height, input.width);
        let span = self.in_channels * k * k;
        let q: Vec<i16> = input
            .data
            .iter()
            .map(|&x| quantize(x, self.in_shift, bits) as i16)
            .collect();
        let mut rows = vec![0i16; oh * ow * span];
        for y in 0..oh {
            for x in 0..ow {
                let row = &mut rows[(y * ow + x) * span..][..span];
                for i in 0..self.in_channels {
                    for ky in 0..k {
                        let iy = (y * self.stride + ky) as isize - self.pad as isize;
                        if iy < 0 || iy as usize >= ih {
                            continue;
                        }
                        for kx in 0..k {
                            let ix = (x * self.stride + kx) as isize - self.pad as isize;
                            if ix >= 0 && (ix as usize) < iw {
                                row[(i * k + ky) * k + kx] =
                                    q[(i * ih + iy as usize) * iw + ix as usize];
                            }
                        }
                    }
                }
            }
        }
        rows
    }

    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let span = self.in_channels * self.size * self.size;
        let rows = self.im2row(input, oh, ow);
        let rescale = (-(self.w_shift + self.in_shift) as f32).exp2();
        let n = oh * ow;
        let mut out = Tensor::zeros(self.out_channels, oh, ow);
        // Blocks of kernels small enough to stay in L2 (16 x 4608 x 2 bytes = 144 KiB) meet every
        // input row in turn, so neither the weights nor the rows stream from memory per output.
        const BLOCK: usize = 16;
        let mut acc = [0i64; BLOCK];
        let table = kernels::active();
        for first in (0..self.out_channels).step_by(BLOCK) {
            let count = BLOCK.min(self.out_channels - first);
            let kernels = &self.weights[first * span..(first + count) * span];
            for p in 0..n {
                let row = &rows[p * span..(p + 1) * span];
                dot_all(table, kernels, row, self.precision, &mut acc[..count]);
                for (j, a) in acc[..count].iter().enumerate() {
                    let o = first + j;
                    out.data[o * n + p] =
                        self.activation.apply((a + self.bias[o]) as f32 * rescale);
                }
            }
        }
        out
    }
}

/// `acc[o] = kernels[o] . row` for every kernel, with the table's kernel for the precision.
fn dot_all(table: &Kernels, kernels: &[i16], row: &[i16], precision: Precision, acc: &mut [i64]) {
    match precision {
        Precision::Int8 => (table.dot_i8)(kernels, row, acc),
        _ => (table.dot_i16)(kernels, row, acc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::binconv::tests::TestRng;

    #[test]
    fn shifts_fit_the_range() {
        assert_eq!(shift_for(1.0, 8), 6); // 1.0 * 64 = 64 <= 127 < 128
        assert_eq!(shift_for(0.9, 8), 7);
        assert_eq!(shift_for(300.0, 8), -2);
        assert_eq!(shift_for(1.0, 16), 14);
        assert_eq!(quantize(1000.0, 0, 8), 127);
        assert_eq!(quantize(-1000.0, 0, 8), -127);
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
        };
        let input = Tensor {
            channels: 4,
            height: 5,
            width: 6,
            data: rand(4 * 30),
        };
        let want = conv.forward_reference(&input);
        for (precision, tolerance) in [(Precision::Int16, 1e-3), (Precision::Int8, 0.15)] {
            let q = IntConv::from_float(&conv, precision, 1.0, &[]);
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
}
