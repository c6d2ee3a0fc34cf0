//! What a cfg says, layer by layer, before any parameter is loaded: each layer's kind, its
//! settings and its input and output shapes. The network builder and the `.weights` importer
//! both start from this plan, so shapes are inferred in one place.

use crate::cfg::{Cfg, SectionView};
use crate::error::Result;
use crate::layers::{Activation, MaxPool, Region, Route, Shortcut, Yolo};

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
    Upsample(usize),
    Shortcut(Shortcut),
    Region(Region),
    Yolo(Yolo),
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

fn activation(s: &SectionView, default: &str) -> Result<Activation> {
    let name = s.str_or("activation", default);
    Activation::parse(name).ok_or_else(|| {
        let line = s
            .section
            .options
            .iter()
            .find(|o| o.key == "activation")
            .map_or(s.line(), |o| o.line);
        s.error(
            line,
            format!("[{}] key `activation`: `{name}` is not supported", s.name()),
        )
    })
}

/// A layer reference as Darknet writes it: negative is relative to `current`, else absolute.
fn resolve(s: &SectionView, current: usize, value: i64) -> Result<usize> {
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
            let li = index - 1;
            let prev = layers.last().map_or(input, |l| l.output);
            let (plan, output) = match s.name() {
                "convolutional" | "conv" => {
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
                        activation: activation(&s, "logistic")?,
                        batch_normalize: s.int_or("batch_normalize", 0)? != 0,
                        binary: s.int_or("binary", 0)? != 0,
                    };
                    if s.int_or("groups", 1)? != 1 {
                        return Err(s.error(s.line(), "grouped convolutions are not supported"));
                    }
                    let dim =
                        |d: usize| (d + 2 * pad).checked_sub(size).map(|v| v / conv.stride + 1);
                    let (Some(h), Some(w)) = (dim(prev.height), dim(prev.width)) else {
                        return Err(s.error(
                            s.line(),
                            format!(
                                "a {size}x{size} kernel does not fit a {}x{} input",
                                prev.width, prev.height
                            ),
                        ));
                    };
                    let out = Shape {
                        channels: conv.filters,
                        height: h,
                        width: w,
                    };
                    (LayerPlan::Conv(conv), out)
                }
                "maxpool" | "max" => {
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
                    let out = Shape {
                        channels: prev.channels,
                        height: pool.output_dim(prev.height),
                        width: pool.output_dim(prev.width),
                    };
                    (LayerPlan::MaxPool(pool), out)
                }
                "route" => {
                    let refs = s
                        .int_list("layers")?
                        .filter(|l| !l.is_empty())
                        .ok_or_else(|| s.error(s.line(), "[route] needs `layers`"))?;
                    let route = Route {
                        layers: refs
                            .iter()
                            .map(|&v| resolve(&s, li, v))
                            .collect::<Result<_>>()?,
                        groups: s.int_at_least("groups", 1, 1)? as usize,
                        group_id: s.int_at_least("group_id", 0, 0)? as usize,
                    };
                    if route.group_id >= route.groups {
                        return Err(s.error(s.line(), "[route] group_id must be below groups"));
                    }
                    let first = layers[route.layers[0]].output;
                    let mut channels = 0;
                    for &l in &route.layers {
                        let shape = layers[l].output;
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
                    (LayerPlan::Route(route), Shape { channels, ..first })
                }
                "upsample" => {
                    let stride = s.int_at_least("stride", 2, 1)? as usize;
                    let out = Shape {
                        channels: prev.channels,
                        height: prev.height * stride,
                        width: prev.width * stride,
                    };
                    (LayerPlan::Upsample(stride), out)
                }
                "shortcut" => {
                    let from = s
                        .int_list("from")?
                        .filter(|l| l.len() == 1)
                        .ok_or_else(|| s.error(s.line(), "[shortcut] needs one `from` layer"))?;
                    let shortcut = Shortcut {
                        from: resolve(&s, li, from[0])?,
                        activation: activation(&s, "linear")?,
                    };
                    if layers[shortcut.from].output != prev {
                        return Err(
                            s.error(s.line(), "[shortcut] joins layers of different shapes")
                        );
                    }
                    (LayerPlan::Shortcut(shortcut), prev)
                }
                "region" => {
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
                    (LayerPlan::Region(region), prev)
                }
                "yolo" => {
                    let num = s.int_at_least("num", 1, 1)? as usize;
                    let mask = match s.int_list("mask")? {
                        Some(m) => m
                            .iter()
                            .map(|&v| {
                                usize::try_from(v).map_err(|_| {
                                    s.error(s.line(), "[yolo] mask values must not be negative")
                                })
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
                    (LayerPlan::Yolo(yolo), prev)
                }
                other => {
                    return Err(s.error(
                        s.line(),
                        format!("section [{other}] is not supported by this engine"),
                    ))
                }
            };
            crate::limits::check_layer(&s, input, &layers, &plan, prev, output)?;
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
