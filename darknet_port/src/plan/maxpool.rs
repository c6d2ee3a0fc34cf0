//! `[maxpool]`: Darknet's padding (`size - 1` by default, split low and high).

use super::{Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::MaxPool;

pub(super) fn parse_maxpool(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let size = s.int_at_least("size", 1, 1)? as usize;
    let pool = MaxPool {
        size,
        stride: s.int_at_least("stride", size as i64, 1)? as usize,
        padding: s.int_at_least("padding", size as i64 - 1, 0)? as usize,
    };
    if size > prev.height + pool.padding || size > prev.width + pool.padding {
        return Err(s.error(
            s.line(),
            format!(
                "[maxpool] of size {size} does not fit a {}x{} input",
                prev.width, prev.height
            ),
        ));
    }
    let output = Shape {
        channels: prev.channels,
        height: pool.output_dim(prev.height),
        width: pool.output_dim(prev.width),
    };
    Ok((LayerPlan::MaxPool(pool), output))
}
