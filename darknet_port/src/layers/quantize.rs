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
