//! Darknet's `[upsample]`: nearest-neighbour enlargement by an integer `stride`.

use super::{PlainLayer, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upsample {
    pub stride: usize,
}

impl PlainLayer for Upsample {
    fn kind(&self) -> &'static str {
        "upsample"
    }

    fn forward(&self, input: &Tensor) -> Tensor {
        upsample(input, self.stride)
    }
}

pub fn upsample(input: &Tensor, stride: usize) -> Tensor {
    let (h, w) = (input.height * stride, input.width * stride);
    let mut out = Tensor::zeros(input.channels, h, w);
    for c in 0..input.channels {
        for y in 0..h {
            let src = &input.data[(c * input.height + y / stride) * input.width..][..input.width];
            let dst = &mut out.data[(c * h + y) * w..][..w];
            for (x, v) in dst.iter_mut().enumerate() {
                *v = src[x / stride];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_each_pixel() {
        let t = Tensor {
            channels: 1,
            height: 1,
            width: 2,
            data: vec![1.0, 2.0],
        };
        let u = upsample(&t, 2);
        assert_eq!((u.height, u.width), (2, 4));
        assert_eq!(u.data, vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
