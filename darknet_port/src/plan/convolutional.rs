//! `[convolutional]`: float or binarized (`binary=1`), batch norm folded at load.

use super::{activation, ConvPlan, Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::ConvGeometry;

pub(super) fn parse_convolutional(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let size = s.int_at_least("size", 1, 1)? as usize;
    let pad = if s.int_or("pad", 0)? != 0 {
        size / 2
    } else {
        s.int_at_least("padding", 0, 0)? as usize
    };
    let conv = ConvPlan {
        filters: s.int_at_least("filters", 1, 1)? as usize,
        size,
        stride: s.int_at_least("stride", 1, 1)? as usize,
        pad,
        activation: activation(s, "logistic")?,
        batch_normalize: s.int_or("batch_normalize", 0)? != 0,
        binary: s.int_or("binary", 0)? != 0,
    };
    if s.int_or("groups", 1)? != 1 {
        return Err(s.error(s.line(), "grouped convolutions are not supported"));
    }
    let geometry = ConvGeometry {
        in_channels: prev.channels,
        out_channels: conv.filters,
        size,
        stride: conv.stride,
        pad,
    };
    let (Some(height), Some(width)) = (
        geometry.checked_output_dim(prev.height),
        geometry.checked_output_dim(prev.width),
    ) else {
        return Err(s.error(
            s.line(),
            format!(
                "a {size}x{size} kernel does not fit a {}x{} input",
                prev.width, prev.height
            ),
        ));
    };
    let output = Shape {
        channels: conv.filters,
        height,
        width,
    };
    Ok((LayerPlan::Conv(conv), output))
}
