//! `[route]`: earlier layers' outputs joined along the channels, or one group of them.

use super::{resolve, Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::Route;

pub(super) fn parse_route(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let refs = s
        .int_list("layers")?
        .filter(|l| !l.is_empty())
        .ok_or_else(|| s.error(s.line(), "[route] needs `layers`"))?;
    let route = Route {
        layers: refs
            .iter()
            .map(|&v| resolve(s, earlier, v))
            .collect::<Result<_>>()?,
        groups: s.int_at_least("groups", 1, 1)? as usize,
        group_id: s.int_at_least("group_id", 0, 0)? as usize,
    };
    if route.group_id >= route.groups {
        return Err(s.error(s.line(), "[route] group_id must be below groups"));
    }
    let first = earlier.layers[route.layers[0]].output;
    let mut channels = 0;
    for &l in &route.layers {
        let shape = earlier.layers[l].output;
        if (shape.height, shape.width) != (first.height, first.width) {
            return Err(s.error(
                s.line(),
                format!(
                    "[route] joins layers of different sizes ({}x{} and {}x{})",
                    first.width, first.height, shape.width, shape.height
                ),
            ));
        }
        if !shape.channels.is_multiple_of(route.groups) {
            return Err(s.error(
                s.line(),
                format!(
                    "[route] cannot split {} channels into {} groups",
                    shape.channels, route.groups
                ),
            ));
        }
        channels += shape.channels / route.groups;
    }
    Ok((LayerPlan::Route(route), Shape { channels, ..first }))
}
