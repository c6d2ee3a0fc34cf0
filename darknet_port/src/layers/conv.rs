//! Darknet's float `[convolutional]` layer: weights `[out][in][ky][kx]`, a bias per output
//! channel (batch norm, when present, is folded into both at load), then the activation.

use super::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Linear,
    Relu,
    Leaky,
    Logistic,
}

impl Activation {
    pub fn parse(name: &str) -> Option<Activation> {
        Some(match name {
            "linear" => Activation::Linear,
            "relu" => Activation::Relu,
            "leaky" => Activation::Leaky,
            "logistic" => Activation::Logistic,
            _ => return None,
        })
    }

    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Linear => x,
            Activation::Relu => x.max(0.0),
            Activation::Leaky => {
                if x > 0.0 {
                    x
                } else {
                    0.1 * x
                }
            }
            Activation::Logistic => 1.0 / (1.0 + (-x).exp()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FloatConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub activation: Activation,
}

impl FloatConv {
    pub fn output_dim(&self, input: usize) -> usize {
        (input + 2 * self.pad - self.size) / self.stride + 1
    }

    pub fn validate(&self) -> Result<(), String> {
        let want = self.out_channels * self.in_channels * self.size * self.size;
        if self.weights.len() != want {
            return Err(format!(
                "{} weights, the shape needs {want}",
                self.weights.len()
            ));
        }
        if self.bias.len() != self.out_channels {
            return Err(format!(
                "{} biases for {} filters",
                self.bias.len(),
                self.out_channels
            ));
        }
        if self.stride == 0 || self.size == 0 {
            return Err("size and stride must be positive".into());
        }
        Ok(())
    }

    /// Direct convolution: each weight is applied to a whole output row at a time, with the
    /// row's valid range computed once so the inner loop carries no bounds tests.
    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (ih, iw) = (input.height, input.width);
        let (oh, ow) = (self.output_dim(ih), self.output_dim(iw));
        let (k, s, pad) = (self.size, self.stride, self.pad as isize);
        let mut out = Tensor::zeros(self.out_channels, oh, ow);
        // For each kx: the output columns whose input column is inside the image.
        let col_ranges: Vec<(usize, usize)> = (0..k)
            .map(|kx| {
                let first = (0..ow)
                    .find(|&x| (x * s) as isize + kx as isize - pad >= 0)
                    .unwrap_or(ow);
                let end = (0..ow)
                    .rev()
                    .find(|&x| (((x * s) as isize + kx as isize - pad) as usize) < iw)
                    .map_or(first, |x| x + 1);
                (first, end.max(first))
            })
            .collect();
        for o in 0..self.out_channels {
            let out_plane = &mut out.data[o * oh * ow..(o + 1) * oh * ow];
            out_plane.fill(self.bias[o]);
            for i in 0..self.in_channels {
                let in_plane = &input.data[i * ih * iw..(i + 1) * ih * iw];
                let kernel = &self.weights[(o * self.in_channels + i) * k * k..][..k * k];
                for y in 0..oh {
                    let out_row = &mut out_plane[y * ow..(y + 1) * ow];
                    for ky in 0..k {
                        let iy = (y * s) as isize + ky as isize - pad;
                        if iy < 0 || iy as usize >= ih {
                            continue;
                        }
                        let in_row = &in_plane[iy as usize * iw..(iy as usize + 1) * iw];
                        for (kx, &(x0, x1)) in col_ranges.iter().enumerate() {
                            let w = kernel[ky * k + kx];
                            for (x, o) in out_row[x0..x1].iter_mut().enumerate() {
                                *o += w * in_row[(x0 + x) * s + kx - self.pad];
                            }
                        }
                    }
                }
            }
            for v in out_plane.iter_mut() {
                *v = self.activation.apply(*v);
            }
        }
        out
    }

    /// One multiply-add per term, in the textbook order: the reference for faster kernels.
    pub fn forward_reference(&self, input: &Tensor) -> Tensor {
        let (ih, iw) = (input.height, input.width);
        let (oh, ow) = (self.output_dim(ih), self.output_dim(iw));
        let k = self.size;
        let mut out = Tensor::zeros(self.out_channels, oh, ow);
        for o in 0..self.out_channels {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = self.bias[o];
                    for i in 0..self.in_channels {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (y * self.stride + ky) as isize - self.pad as isize;
                                let ix = (x * self.stride + kx) as isize - self.pad as isize;
                                if iy < 0 || ix < 0 || iy as usize >= ih || ix as usize >= iw {
                                    continue;
                                }
                                sum += self.weights[((o * self.in_channels + i) * k + ky) * k + kx]
                                    * input.data[(i * ih + iy as usize) * iw + ix as usize];
                            }
                        }
                    }
                    out.data[(o * oh + y) * ow + x] = self.activation.apply(sum);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::binconv::tests::TestRng;

    fn random(rng: &mut TestRng, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    #[test]
    fn direct_matches_reference() {
        let mut rng = TestRng(42);
        for &(cin, cout, k, s, pad, h, w) in &[
            (3, 4, 3, 2, 1, 9, 8),
            (3, 2, 3, 1, 1, 5, 5),
            (5, 3, 1, 1, 0, 4, 3),
            (2, 2, 3, 2, 1, 4, 4),
        ] {
            let conv = FloatConv {
                in_channels: cin,
                out_channels: cout,
                size: k,
                stride: s,
                pad,
                weights: random(&mut rng, cout * cin * k * k),
                bias: random(&mut rng, cout),
                activation: Activation::Leaky,
            };
            conv.validate().unwrap();
            let input = Tensor {
                channels: cin,
                height: h,
                width: w,
                data: random(&mut rng, cin * h * w),
            };
            let (a, b) = (conv.forward(&input), conv.forward_reference(&input));
            assert_eq!((a.height, a.width), (b.height, b.width));
            for (x, y) in a.data.iter().zip(&b.data) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
        }
    }
}
