//! `[shortcut]`: the sum of the layer before and an earlier layer of the same shape.

use super::{activation, resolve, Earlier, LayerPlan, Shape};
use crate::cfg::SectionView;
use crate::error::Result;
use crate::layers::Shortcut;

pub(super) fn parse_shortcut(s: &SectionView, earlier: Earlier) -> Result<(LayerPlan, Shape)> {
    let prev = earlier.input;
    let from = s
        .int_list("from")?
        .filter(|l| l.len() == 1)
        .ok_or_else(|| s.error(s.line(), "[shortcut] needs one `from` layer"))?;
    let shortcut = Shortcut {
        from: resolve(s, earlier, from[0])?,
        activation: activation(s, "linear")?,
    };
    if earlier.layers[shortcut.from].output != prev {
        return Err(s.error(s.line(), "[shortcut] joins layers of different shapes"));
    }
    Ok((LayerPlan::Shortcut(shortcut), prev))
}
