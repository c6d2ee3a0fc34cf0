//! `[yolo]`: YOLOv3's and YOLOv4's detection layer.

use super::{Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::Yolo;

pub(super) fn parse_yolo(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let num = s.int_at_least("num", 1, 1)? as usize;
    let mask = match s.int_list("mask")? {
        Some(m) => m
            .iter()
            .map(|&v| {
                usize::try_from(v)
                    .map_err(|_| s.error(s.line(), "[yolo] mask values must not be negative"))
            })
            .collect::<Result<Vec<_>>>()?,
        None => (0..num).collect(),
    };
    let yolo = Yolo {
        classes: s.int_at_least("classes", 20, 1)? as usize,
        mask,
        anchors: s.float_list("anchors")?.unwrap_or_default(),
        scale_x_y: s.float_or("scale_x_y", 1.0)?,
    };
    yolo.validate()
        .map_err(|m| s.error(s.line(), format!("[yolo]: {m}")))?;
    if yolo.channels() != prev.channels {
        return Err(s.error(
            s.line(),
            format!(
                "[yolo] needs {} input channels, the layer before gives {}",
                yolo.channels(),
                prev.channels
            ),
        ));
    }
    Ok((LayerPlan::Yolo(yolo), prev))
}
