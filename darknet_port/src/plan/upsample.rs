//! `[upsample]`: nearest-neighbour enlargement by `stride`.

use super::{Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::{Plain, Upsample};
use std::sync::Arc;

pub(super) fn parse_upsample(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let stride = s.int_at_least("stride", 2, 1)? as usize;
    let output = Shape {
        channels: prev.channels,
        height: prev.height * stride,
        width: prev.width * stride,
    };
    let layer = Plain(Arc::new(Upsample { stride }));
    Ok((LayerPlan::Plain(layer), output))
}
