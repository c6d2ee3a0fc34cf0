//! Darknet's `[maxpool]`: `size`x`size` windows every `stride` pixels. Darknet pads with
//! `size-1` in total, starting at offset `-padding/2`, and ignores positions outside the input;
//! so size 2 stride 1 keeps the dimension (the window hangs over the right and bottom edges).

use super::{QTensor, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool {
    pub size: usize,
    pub stride: usize,
    pub padding: usize,
}

impl MaxPool {
    pub fn new(size: usize, stride: usize) -> MaxPool {
        MaxPool {
            size,
            stride,
            padding: size - 1,
        }
    }

    pub fn output_dim(&self, input: usize) -> usize {
        (input + self.padding - self.size) / self.stride + 1
    }

    fn offset(&self) -> isize {
        -((self.padding / 2) as isize)
    }

    /// The input positions of output position `o` along one axis that lie inside the input.
    fn window(&self, o: usize, input: usize) -> impl Iterator<Item = usize> {
        let start = (o * self.stride) as isize + self.offset();
        (start..start + self.size as isize)
            .filter(move |&i| i >= 0 && (i as usize) < input)
            .map(|i| i as usize)
    }

    pub fn forward(&self, input: &Tensor) -> Tensor {
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let mut out = Tensor::zeros(input.channels, oh, ow);
        for c in 0..input.channels {
            let plane = &input.data[c * input.height * input.width..];
            for y in 0..oh {
                for x in 0..ow {
                    let mut max = f32::NEG_INFINITY;
                    for iy in self.window(y, input.height) {
                        for ix in self.window(x, input.width) {
                            max = max.max(plane[iy * input.width + ix]);
                        }
                    }
                    out.data[(c * oh + y) * ow + x] = max;
                }
            }
        }
        out
    }

    /// Max over unsigned levels, computed on whole bit planes: a bit-serial comparison from the
    /// most significant plane selects, per channel, the larger of two pixels.
    pub fn forward_quantized(&self, input: &QTensor) -> QTensor {
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let mut out = QTensor::zeros(oh, ow, input.channels, input.bits);
        let (bits, words) = (input.bits, input.words());
        let mut acc = vec![0u64; input.pixel_stride()];
        for y in 0..oh {
            for x in 0..ow {
                acc.fill(0); // levels are unsigned: zero is the identity of max
                for iy in self.window(y, input.height) {
                    for ix in self.window(x, input.width) {
                        max_planes(&mut acc, input.pixel(iy, ix), bits, words);
                    }
                }
                out.pixel_mut(y, x).copy_from_slice(&acc);
            }
        }
        out
    }
}

fn max_planes(acc: &mut [u64], other: &[u64], bits: usize, words: usize) {
    for w in 0..words {
        let mut greater = 0u64; // other > acc, decided so far
        let mut equal = !0u64;
        for b in (0..bits).rev() {
            let (a, o) = (acc[b * words + w], other[b * words + w]);
            greater |= equal & o & !a;
            equal &= !(a ^ o);
        }
        for b in 0..bits {
            let i = b * words + w;
            acc[i] = (acc[i] & !greater) | (other[i] & greater);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::binconv::tests::{random_input, TestRng};

    #[test]
    fn dims_follow_darknet() {
        assert_eq!(MaxPool::new(2, 2).output_dim(208), 104);
        assert_eq!(MaxPool::new(2, 2).output_dim(13), 7);
        assert_eq!(MaxPool::new(2, 1).output_dim(13), 13);
        assert_eq!(MaxPool::new(3, 2).output_dim(13), 7);
    }

    #[test]
    fn float_pool_with_overhang() {
        let t = Tensor {
            channels: 1,
            height: 2,
            width: 2,
            data: vec![1.0, -2.0, 3.0, -4.0],
        };
        let out = MaxPool::new(2, 1).forward(&t);
        assert_eq!(out.data, vec![3.0, -2.0, 3.0, -4.0]);
    }

    #[test]
    fn quantized_pool_matches_elementwise_max() {
        let mut rng = TestRng(99);
        let input = random_input(&mut rng, 7, 6, 70);
        for pool in [MaxPool::new(2, 2), MaxPool::new(2, 1)] {
            let out = pool.forward_quantized(&input);
            for y in 0..out.height {
                for x in 0..out.width {
                    for c in 0..70 {
                        let want = pool
                            .window(y, 7)
                            .flat_map(|iy| pool.window(x, 6).map(move |ix| (iy, ix)))
                            .map(|(iy, ix)| input.get(iy, ix, c))
                            .max()
                            .unwrap();
                        assert_eq!(out.get(y, x, c), want);
                    }
                }
            }
        }
    }
}
