//! A convolution's shape, apart from its numbers: what every convolution (float, integer,
//! Winograd) and the cfg's shape inference share, so the output size is computed in one place.

use super::windows::Windows;

/// `out_channels` kernels of `size` x `size` over `in_channels`, every `stride` pixels, with
/// `pad` zeros around the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub in_channels: usize,
    pub out_channels: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvGeometry {
    /// The output's size along a side of `input` pixels, or `None` where the kernel does not
    /// fit the padded input (as Darknet's `convolutional_out_height` computes it otherwise).
    pub fn checked_output_dim(&self, input: usize) -> Option<usize> {
        (input + 2 * self.pad)
            .checked_sub(self.size)
            .map(|v| v / self.stride + 1)
    }

    /// [`ConvGeometry::checked_output_dim`] of an input the network's plan has checked.
    pub fn output_dim(&self, input: usize) -> usize {
        self.checked_output_dim(input).unwrap_or_else(|| {
            panic!(
                "a {0}x{0} kernel does not fit a side of {input} pixels (padding {1})",
                self.size, self.pad
            )
        })
    }

    /// A 1x1, stride-1, unpadded convolution: each output pixel's window is its input pixel.
    pub fn is_pointwise(&self) -> bool {
        self.size == 1 && self.stride == 1 && self.pad == 0
    }

    /// The windows this convolution reads from an HWC input.
    pub(crate) fn windows(&self) -> Windows {
        Windows {
            size: self.size,
            stride: self.stride,
            pad: self.pad,
            channels: self.in_channels,
        }
    }
}
