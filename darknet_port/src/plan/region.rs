//! `[region]`: YOLOv2's detection layer.

use super::{Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::Region;

pub(super) fn parse_region(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let region = Region {
        classes: s.int_at_least("classes", 20, 1)? as usize,
        coords: s.int_at_least("coords", 4, 1)? as usize,
        num: s.int_at_least("num", 1, 1)? as usize,
        anchors: s.float_list("anchors")?.unwrap_or_default(),
        softmax: s.int_or("softmax", 0)? != 0,
    };
    region
        .validate()
        .map_err(|m| s.error(s.line(), format!("[region]: {m}")))?;
    if region.channels() != prev.channels {
        return Err(s.error(
            s.line(),
            format!(
                "[region] needs {} input channels, the layer before gives {}",
                region.channels(),
                prev.channels
            ),
        ));
    }
    Ok((LayerPlan::Region(region), prev))
}
