//! Darknet's `[maxpool]`: `size`x`size` windows every `stride` pixels. Darknet pads with
//! `size-1` in total, starting at offset `-padding/2`, and ignores positions outside the input;
//! so size 2 stride 1 keeps the dimension (the window hangs over the right and bottom edges).

use super::{QTensor, Tensor};
use crate::parallel;

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

    /// Each axis's windows as index ranges, clipped to the input.
    fn windows(&self, outputs: usize, input: usize) -> Vec<std::ops::Range<usize>> {
        (0..outputs)
            .map(|o| {
                let start = (o * self.stride) as isize + self.offset();
                let end = (start + self.size as isize).clamp(0, input as isize) as usize;
                start.clamp(0, input as isize) as usize..end
            })
            .collect()
    }

    /// Channels split over the caller's workers.
    pub fn forward(&self, input: &Tensor) -> Tensor {
        let (ih, iw) = (input.height, input.width);
        let (oh, ow) = (self.output_dim(ih), self.output_dim(iw));
        let (rows, cols) = (self.windows(oh, ih), self.windows(ow, iw));
        let mut out = Tensor::zeros(input.channels, oh, ow);
        // YOLO's 2x2 stride-2 pool on even sizes: every window is a pair of pairs.
        let pairs = self.size == 2 && self.stride == 2 && ih == 2 * oh && iw == 2 * ow;
        let min_channels = 1.max(16384 / (ih * iw).max(1));
        parallel::for_each_part(&mut out.data, oh * ow, min_channels, |range, mine| {
            let planes = input.data[range.start * ih * iw..range.end * ih * iw]
                .chunks_exact(ih * iw)
                .zip(mine.chunks_exact_mut(oh * ow));
            for (plane, out) in planes {
                if pairs {
                    pool_pairs(plane, iw, out);
                } else {
                    pool_windows(plane, iw, &rows, &cols, out);
                }
            }
        });
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

/// One plane's 2x2 stride-2 pool, `out` rows half as long as the plane's `iw`.
fn pool_pairs(plane: &[f32], iw: usize, out: &mut [f32]) {
    let ow = iw / 2;
    for (two_rows, out) in plane.chunks_exact(2 * iw).zip(out.chunks_exact_mut(ow)) {
        let (top, bottom) = two_rows.split_at(iw);
        for ((o, t), b) in out
            .iter_mut()
            .zip(top.chunks_exact(2))
            .zip(bottom.chunks_exact(2))
        {
            *o = t[0].max(t[1]).max(b[0].max(b[1]));
        }
    }
}

/// One plane's pool over any windows (clipped index ranges along each axis).
fn pool_windows(
    plane: &[f32],
    iw: usize,
    rows: &[std::ops::Range<usize>],
    cols: &[std::ops::Range<usize>],
    out: &mut [f32],
) {
    for (window_rows, out) in rows.iter().zip(out.chunks_exact_mut(cols.len())) {
        for (window_cols, o) in cols.iter().zip(out) {
            let mut max = f32::NEG_INFINITY;
            for y in window_rows.clone() {
                for &v in &plane[y * iw..][window_cols.clone()] {
                    max = max.max(v);
                }
            }
            *o = max;
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
    fn float_pool_matches_elementwise_max() {
        let mut rng = TestRng(98);
        for (h, w) in [(8, 6), (7, 6), (1, 1), (4, 9)] {
            let input = Tensor {
                channels: 3,
                height: h,
                width: w,
                data: (0..3 * h * w)
                    .map(|_| (rng.next() % 2001) as f32 - 1000.0)
                    .collect(),
            };
            for pool in [MaxPool::new(2, 2), MaxPool::new(2, 1), MaxPool::new(3, 2)] {
                let out = pool.forward(&input);
                let (oh, ow) = (pool.output_dim(h), pool.output_dim(w));
                for c in 0..3 {
                    for y in 0..oh {
                        for x in 0..ow {
                            let want = pool
                                .window(y, h)
                                .flat_map(|iy| pool.window(x, w).map(move |ix| (iy, ix)))
                                .map(|(iy, ix)| input.data[(c * h + iy) * w + ix])
                                .fold(f32::NEG_INFINITY, f32::max);
                            assert_eq!(out.data[(c * oh + y) * ow + x], want, "{pool:?} {h}x{w}");
                        }
                    }
                }
            }
        }
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
