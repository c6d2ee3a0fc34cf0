//! What a cfg says, layer by layer, before any parameter is loaded: each layer's kind, its
//! settings and its input and output shapes. The network builder and the `.weights` importer
//! both start from this plan, so shapes are inferred in one place.
//!
//! Each section has its parser in a file of this folder, `parse_<section>` as in Darknet's
//! `parser.c`: it reads and checks its keys and returns its layer's plan and output shape.
//! [`sections!`] lists them; a new layer type is one more file and one more line there.

use crate::cfg::{Cfg, SectionView};
use crate::error::Result;
use crate::layers::{Activation, MaxPool, Plain, Region, Route, Shortcut, Yolo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConvPlan {
    pub filters: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub activation: Activation,
    pub batch_normalize: bool,
    pub binary: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LayerPlan {
    Conv(ConvPlan),
    MaxPool(MaxPool),
    Route(Route),
    Shortcut(Shortcut),
    Region(Region),
    Yolo(Yolo),
    /// A layer that needs its input only (`[upsample]`, `[dropout]`, ...).
    Plain(Plain),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedLayer {
    /// Line of the section header, for errors.
    pub line: usize,
    pub plan: LayerPlan,
    pub input: Shape,
    pub output: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub input: Shape,
    pub layers: Vec<PlannedLayer>,
}

/// What a section's parser sees of the layers before it.
#[derive(Debug, Clone, Copy)]
pub struct Earlier<'a> {
    /// The layers planned so far; the section's own layer is number `layers.len()`.
    pub layers: &'a [PlannedLayer],
    /// The section's input: the output of the layer before, or the network's input.
    pub input: Shape,
}

/// Darknet's `parse_<section>`: the layer's plan and its output shape.
type ParseSection = fn(&SectionView, Earlier) -> Result<(LayerPlan, Shape)>;

pub mod memory;

/// Declares each section's module and puts its parser in [`SECTIONS`] under the names a cfg
/// may give it.
macro_rules! sections {
    ($($module:ident::$parse:ident => [$($name:literal),+],)+) => {
        $(mod $module;)+

        /// The sections this engine builds, by the names a cfg may use.
        const SECTIONS: &[(&[&str], ParseSection)] = &[$((&[$($name),+], $module::$parse),)+];
    };
}

sections! {
    convolutional::parse_convolutional => ["convolutional", "conv"],
    maxpool::parse_maxpool => ["maxpool", "max"],
    route::parse_route => ["route"],
    upsample::parse_upsample => ["upsample"],
    shortcut::parse_shortcut => ["shortcut"],
    region::parse_region => ["region"],
    yolo::parse_yolo => ["yolo"],
    dropout::parse_dropout => ["dropout"],
}

/// The `activation` key, `default` when absent.
fn activation(s: &SectionView, default: &str) -> Result<Activation> {
    let name = s.str_or("activation", default);
    Activation::parse(name).ok_or_else(|| {
        let line = s
            .section
            .options
            .iter()
            .find(|o| o.key == "activation")
            .map_or_else(|| s.line(), |o| o.line);
        s.error(
            line,
            format!("[{}] key `activation`: `{name}` is not supported", s.name()),
        )
    })
}

/// A layer reference as Darknet writes it: negative is relative to the section's own layer,
/// else absolute; it must name an earlier layer.
fn resolve(s: &SectionView, earlier: Earlier, value: i64) -> Result<usize> {
    let current = earlier.layers.len();
    let index = if value < 0 {
        current as i64 + value
    } else {
        value
    };
    if index < 0 || index >= current as i64 {
        return Err(s.error(
            s.line(),
            format!(
                "[{}] refers to layer {value}, which is not an earlier layer",
                s.name()
            ),
        ));
    }
    Ok(index as usize)
}

impl Plan {
    pub fn from_cfg(cfg: &Cfg) -> Result<Plan> {
        let net = cfg.section(0);
        if !matches!(net.name(), "net" | "network") {
            return Err(net.error(net.line(), "the first section must be [net]"));
        }
        let input = Shape {
            channels: net.int_at_least("channels", 3, 1)? as usize,
            height: net.int_at_least("height", 416, 1)? as usize,
            width: net.int_at_least("width", 416, 1)? as usize,
        };
        let mut layers: Vec<PlannedLayer> = Vec::new();
        for index in 1..cfg.sections.len() {
            let s = cfg.section(index);
            let Some((_, parse)) = SECTIONS.iter().find(|(names, _)| names.contains(&s.name()))
            else {
                return Err(s.error(
                    s.line(),
                    format!("section [{}] is not supported by this engine", s.name()),
                ));
            };
            let prev = layers.last().map_or(input, |l| l.output);
            let earlier = Earlier {
                layers: &layers,
                input: prev,
            };
            let (plan, output) = parse(&s, earlier)?;
            memory::check_layer(&s, input, &layers, &plan, prev, output)?;
            layers.push(PlannedLayer {
                line: s.line(),
                plan,
                input: prev,
                output,
            });
        }
        Ok(Plan { input, layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(text: &str) -> Result<Plan> {
        Plan::from_cfg(&Cfg::parse(text, Path::new("t.cfg"))?)
    }

    #[test]
    fn shapes_through_conv_pool_route_upsample() {
        let p = plan(
            "[net]\nwidth=32\nheight=32\nchannels=3\n\
             [convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n\
             [maxpool]\nsize=2\nstride=2\n\
             [convolutional]\nfilters=4\nsize=1\nactivation=linear\n\
             [upsample]\nstride=2\n\
             [route]\nlayers=-1,0\n\
             [route]\nlayers=-1\ngroups=2\ngroup_id=1\n",
        )
        .unwrap();
        let out: Vec<(usize, usize, usize)> = p
            .layers
            .iter()
            .map(|l| (l.output.channels, l.output.height, l.output.width))
            .collect();
        assert_eq!(
            out,
            vec![
                (8, 32, 32),
                (8, 16, 16),
                (4, 16, 16),
                (4, 32, 32),
                (12, 32, 32),
                (6, 32, 32)
            ]
        );
    }

    #[test]
    fn bad_references_and_sections_name_their_line() {
        let e = plan("[net]\n[route]\nlayers=-1\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.cfg:2:") && e.contains("not an earlier layer"),
            "{e}"
        );
        let e = plan("[net]\n[convolutional]\nfilters=2\n[crop]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.cfg:4: section [crop] is not supported by this engine");
        let e = plan("[net]\nwidth=8\nheight=8\n[convolutional]\nfilters=3\nsize=1\n[yolo]\nmask=0\nanchors=1,1\nclasses=2\n").unwrap_err().to_string();
        assert!(e.contains("[yolo] needs 7 input channels"), "{e}");
    }
}
