//! The bridge from a float layer into the binarized segment: clip to `[0, max]` and round to
//! one of `2^bits` levels, as the reference system does after its first layer
//! (`round(clip(x, 0, 4) / 4 * 7)`, NumPy's round-half-to-even, in f32).

use super::{QTensor, Tensor};
use crate::kernels;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantizer {
    pub bits: usize,
    pub max: f32,
}

impl Quantizer {
    #[inline]
    pub fn level(&self, x: f32) -> u8 {
        let top = ((1u32 << self.bits) - 1) as f32;
        kernels::generic::level(x, self.max, top)
    }

    /// Quantizes a CHW tensor. With `transpose`, the segment sees the image with rows and
    /// columns swapped: the reference system hands its accelerator the first layer's output
    /// column-major, and its binarized weights were exported for that orientation.
    pub fn quantize(&self, input: &Tensor, transpose: bool) -> QTensor {
        let (h, w) = (input.height, input.width);
        let (qh, qw) = if transpose { (w, h) } else { (h, w) };
        let mut out = QTensor::zeros(qh, qw, input.channels, self.bits);
        if h == 0 || w == 0 || input.channels == 0 {
            return out;
        }
        let quantize_row = kernels::active().quantize_row;
        let (channels, plane) = (input.channels, h * w);
        if !transpose {
            for y in 0..h {
                let row = out.row_mut(y);
                quantize_row(
                    &input.data[y * w..],
                    plane,
                    channels,
                    self.max,
                    self.bits,
                    row,
                );
            }
            return out;
        }
        // An image row becomes a column of the output: quantize it whole, then scatter pixels.
        let stride = out.pixel_stride();
        let mut row = vec![0u64; w * stride];
        for y in 0..h {
            quantize_row(
                &input.data[y * w..],
                plane,
                channels,
                self.max,
                self.bits,
                &mut row,
            );
            for (x, pixel) in row.chunks_exact(stride).enumerate() {
                out.pixel_mut(x, y).copy_from_slice(pixel);
            }
        }
        out
    }

    /// Pixel by pixel, channel by channel: the reference of [`Quantizer::quantize`].
    pub fn quantize_reference(&self, input: &Tensor, transpose: bool) -> QTensor {
        let (h, w) = (input.height, input.width);
        let (qh, qw) = if transpose { (w, h) } else { (h, w) };
        let mut out = QTensor::zeros(qh, qw, input.channels, self.bits);
        let words = out.words();
        for y in 0..h {
            for x in 0..w {
                let (qy, qx) = if transpose { (x, y) } else { (y, x) };
                let planes = out.pixel_mut(qy, qx);
                for c in 0..input.channels {
                    let level = self.level(input.data[(c * h + y) * w + x]);
                    for b in 0..self.bits {
                        planes[b * words + c / 64] |= u64::from((level >> b) & 1) << (c % 64);
                    }
                }
            }
        }
        out
    }
}

/// The float input of the layer after the segment: the levels themselves (0..2^bits-1), back in
/// image orientation. The reference system feeds its last layer the raw levels, unscaled.
pub fn dequantize(input: &QTensor, transposed: bool) -> Tensor {
    let q = if transposed {
        input.transposed()
    } else {
        input.clone()
    };
    Tensor {
        channels: q.channels,
        height: q.height,
        width: q.width,
        data: q.to_levels_chw(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_clip_and_round_half_even() {
        let q = Quantizer { bits: 3, max: 4.0 };
        assert_eq!(q.level(-1.0), 0);
        assert_eq!(q.level(0.0), 0);
        assert_eq!(q.level(4.0), 7);
        assert_eq!(q.level(100.0), 7);
        assert_eq!(q.level(f32::NAN), 0);
        // 2/7*4 scaled back is 2.0 exactly; halfway points round to even
        assert_eq!(q.level(4.0 / 7.0 * 2.5), 2);
        assert_eq!(q.level(4.0 / 7.0 * 3.6), 4);
    }

    /// Inputs that land exactly on a halfway point: `x / 4 * 7 == k + 0.5` in float32, as the
    /// reference computes it (NumPy, float32). Its `np.round` rounds them to the even level; so
    /// does every kernel table, through the same division and multiplication order.
    #[test]
    fn halfway_inputs_round_to_even_as_numpy_does() {
        let q = Quantizer { bits: 3, max: 4.0 };
        for k in 0..7u8 {
            let half = f32::from(k) + 0.5;
            let guess = 4.0 * half / 7.0;
            // the float32 values around the exact quotient whose scaled value is the halfway
            // point itself, not a neighbour of it
            let on_boundary: Vec<f32> = (-64i32..=64)
                .map(|d| f32::from_bits(guess.to_bits().wrapping_add_signed(d)))
                .filter(|&x| x / 4.0 * 7.0 == half)
                .collect();
            assert!(!on_boundary.is_empty(), "no float32 input lands on {half}");
            let even = if k % 2 == 0 { k } else { k + 1 };
            for &x in &on_boundary {
                assert_eq!(q.level(x), even, "{x:e} -> {half}");
                let t = Tensor {
                    channels: 1,
                    height: 1,
                    width: 1,
                    data: vec![x],
                };
                for table in crate::kernels::supported() {
                    let level =
                        crate::kernels::with_kernels(table, || q.quantize(&t, false).get(0, 0, 0));
                    assert_eq!(level, even, "{}: {x:e} -> {half}", table.name);
                }
            }
        }
    }

    #[test]
    fn transpose_round_trip() {
        let t = Tensor {
            channels: 2,
            height: 2,
            width: 3,
            data: vec![0.0, 0.6, 1.2, 1.8, 2.4, 3.0, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5],
        };
        let q = Quantizer { bits: 3, max: 4.0 };
        let qt = q.quantize(&t, true);
        assert_eq!((qt.height, qt.width), (3, 2));
        assert_eq!(qt.get(2, 0, 0), q.level(1.2));
        let back = dequantize(&qt, true);
        assert_eq!((back.height, back.width), (2, 3));
        let direct = dequantize(&q.quantize(&t, false), false);
        assert_eq!(back, direct);
        assert_eq!(direct.data[2], f32::from(q.level(1.2)));
    }
}
