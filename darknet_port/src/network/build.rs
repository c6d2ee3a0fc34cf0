//! Building a network: the layers a model file's cfg describes, with the file's parameters.

use super::{Layer, Network};
use crate::cfg::Cfg;
use crate::error::{Error, Result};
use crate::layers::{BinaryConv, FloatConv};
use crate::model_file::ModelFile;
use crate::plan::{LayerPlan, Plan};
use std::path::Path;

impl Network {
    pub fn load(path: &Path) -> Result<Network> {
        let model = ModelFile::load(path)?;
        Network::from_model(&model, path)
    }

    /// Builds the layers that `model.cfg` describes with the parameters in `model`; `origin` is
    /// named in errors.
    pub fn from_model(model: &ModelFile, origin: &Path) -> Result<Network> {
        let cfg = Cfg::parse(&model.cfg, &origin.join("cfg"))?;
        let plan = Plan::from_cfg(&cfg)?;
        let model_err = |m: String| Error::format(origin, m);
        let mut layers = Vec::with_capacity(plan.layers.len());
        for (li, planned) in plan.layers.iter().enumerate() {
            let layer = match &planned.plan {
                LayerPlan::Conv(c) if c.binary => {
                    let q = model.quantization.ok_or_else(|| {
                        model_err(format!(
                            "layer {li} is binary but the model has no quantization settings"
                        ))
                    })?;
                    if c.stride != 1 || c.pad != c.size / 2 {
                        return Err(model_err(format!(
                            "layer {li}: binary layers support stride 1 with same padding only"
                        )));
                    }
                    let conv = BinaryConv {
                        in_channels: planned.input.channels,
                        out_channels: c.filters,
                        size: c.size,
                        bits: q.bits,
                        weights: model
                            .u64(&format!("layer{li}.weights"))
                            .map_err(&model_err)?
                            .1
                            .to_vec(),
                        thresholds: model
                            .i16(&format!("layer{li}.thresholds"))
                            .map_err(&model_err)?
                            .1
                            .to_vec(),
                        invert: model
                            .u8(&format!("layer{li}.invert"))
                            .map_err(&model_err)?
                            .1
                            .iter()
                            .map(|&v| v != 0)
                            .collect(),
                        dense: Default::default(),
                    };
                    conv.validate()
                        .map_err(|m| model_err(format!("layer {li}: {m}")))?;
                    Layer::Binary(conv)
                }
                LayerPlan::Conv(c) => {
                    let conv = FloatConv {
                        in_channels: planned.input.channels,
                        out_channels: c.filters,
                        size: c.size,
                        stride: c.stride,
                        pad: c.pad,
                        weights: model
                            .f32(&format!("layer{li}.weights"))
                            .map_err(&model_err)?
                            .1
                            .to_vec(),
                        bias: model
                            .f32(&format!("layer{li}.biases"))
                            .map_err(&model_err)?
                            .1
                            .to_vec(),
                        activation: c.activation,
                        packed: Default::default(),
                    };
                    conv.validate()
                        .map_err(|m| model_err(format!("layer {li}: {m}")))?;
                    Layer::Conv(conv)
                }
                LayerPlan::MaxPool(p) => Layer::MaxPool(*p),
                LayerPlan::Route(r) => Layer::Route(r.clone()),
                LayerPlan::Shortcut(s) => Layer::Shortcut(s.clone()),
                LayerPlan::Region(r) => Layer::Region(r.clone()),
                LayerPlan::Yolo(y) => Layer::Yolo(y.clone()),
                LayerPlan::Plain(p) => Layer::Plain(p.clone()),
            };
            let classes = match &layer {
                Layer::Region(r) => Some(r.classes),
                Layer::Yolo(y) => Some(y.classes),
                _ => None,
            };
            if let Some(classes) = classes {
                if classes != model.names.len() {
                    return Err(model_err(format!(
                        "layer {li} has {classes} classes but the model names {}",
                        model.names.len()
                    )));
                }
            }
            layers.push(layer);
        }
        if !layers.iter().any(Layer::is_head) {
            return Err(model_err(
                "the network has no [region] or [yolo] layer".into(),
            ));
        }
        let network = Network {
            name: model.name.clone(),
            width: plan.input.width,
            height: plan.input.height,
            channels: plan.input.channels,
            layers,
            names: model.names.clone(),
            quantization: model.quantization,
            nms: model.nms,
            resize: model.resize,
        };
        network.check_references().map_err(model_err)?;
        Ok(network)
    }

    /// Routes and shortcuts may only read layers whose output exists as floats: not a layer
    /// inside a binarized segment, except the segment's last.
    fn check_references(&self) -> std::result::Result<(), String> {
        let segments = self.segments()?;
        let hidden = |l: usize| segments.iter().any(|(s, e, _)| l >= *s && l + 1 < *e);
        for (i, layer) in self.layers.iter().enumerate() {
            let refs: Vec<usize> = match layer {
                Layer::Route(r) => r.layers.clone(),
                Layer::Shortcut(s) => vec![s.from],
                _ => continue,
            };
            if let Some(l) = refs.into_iter().find(|&l| hidden(l)) {
                return Err(format!(
                    "layer {i} reads layer {l}, which is inside a binarized segment"
                ));
            }
        }
        Ok(())
    }
}
