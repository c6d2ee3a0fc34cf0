//! A network built from a model file: the cfg is the single description of the layers; the
//! model file supplies their parameters. Consecutive binarized layers (with the max-pools that
//! follow them) form a *segment*, the unit that an accelerator runs; a [`SegmentRunner`] decides
//! where it runs.

use crate::boxes::{nms_sort, Detection};
use crate::cfg::{Cfg, SectionView};
use crate::error::{Error, Result};
use crate::layers::quantize::dequantize;
use crate::layers::{
    Activation, BinaryConv, FloatConv, MaxPool, QTensor, Quantizer, Region, Tensor,
};
use crate::model_file::{ModelFile, QuantizationInfo};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Conv(FloatConv),
    Binary(BinaryConv),
    MaxPool(MaxPool),
    Region(Region),
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv(_) => "conv",
            Layer::Binary(_) => "binconv",
            Layer::MaxPool(_) => "maxpool",
            Layer::Region(_) => "region",
        }
    }
}

/// One accelerator call: a binarized convolution, optionally followed by a max-pool.
#[derive(Debug, Clone, Copy)]
pub struct SegmentStep<'a> {
    /// Index of the convolution in the network (Darknet's layer numbering).
    pub layer: usize,
    pub conv: &'a BinaryConv,
    pub pool: Option<MaxPool>,
}

#[derive(Debug, Clone)]
pub struct Segment<'a> {
    pub steps: Vec<SegmentStep<'a>>,
}

/// Time spent per layer (or step), in order.
pub type Timings = Vec<(String, Duration)>;

/// Runs a segment of binarized layers: on the CPU, on the accelerator, or on its model.
pub trait SegmentRunner {
    fn run(&mut self, segment: &Segment, input: QTensor, timings: &mut Timings) -> Result<QTensor>;
}

/// Runs segments with the popcount kernels of this crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuRunner;

impl SegmentRunner for CpuRunner {
    fn run(&mut self, segment: &Segment, input: QTensor, timings: &mut Timings) -> Result<QTensor> {
        let mut act = input;
        for step in &segment.steps {
            let start = Instant::now();
            act = step.conv.forward(&act);
            timings.push((format!("{:>2} binconv", step.layer), start.elapsed()));
            if let Some(pool) = step.pool {
                let start = Instant::now();
                act = pool.forward_quantized(&act);
                timings.push((format!("{:>2} maxpool", step.layer + 1), start.elapsed()));
            }
        }
        Ok(act)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub name: String,
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub layers: Vec<Layer>,
    pub names: Vec<String>,
    pub quantization: Option<QuantizationInfo>,
}

/// A detection as the user sees it: class, probability and box corners in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub class_id: usize,
    pub class: String,
    pub prob: f32,
    /// `[x0, y0, x1, y1]`, clamped to the image as Darknet's `draw_detections` does.
    pub bbox: [f32; 4],
}

impl Network {
    pub fn load(path: &Path) -> Result<Network> {
        let model = ModelFile::load(path)?;
        Network::from_model(&model, path)
    }

    /// Builds the layers that `model.cfg` describes with the parameters in `model`; `origin` is
    /// named in errors.
    pub fn from_model(model: &ModelFile, origin: &Path) -> Result<Network> {
        let cfg_path = origin.join("cfg");
        let cfg = Cfg::parse(&model.cfg, &cfg_path)?;
        let net = cfg.section(0);
        if !matches!(net.name(), "net" | "network") {
            return Err(net.error(net.line(), "the first section must be [net]"));
        }
        let width = net.int_at_least("width", 416, 1)? as usize;
        let height = net.int_at_least("height", 416, 1)? as usize;
        let channels = net.int_at_least("channels", 3, 1)? as usize;
        let model_err = |m: String| Error::format(origin, m);

        let mut layers = Vec::new();
        let (mut c, mut h, mut w) = (channels, height, width);
        for index in 1..cfg.sections.len() {
            let s = cfg.section(index);
            let li = index - 1;
            let layer = match s.name() {
                "convolutional" | "conv" => {
                    let filters = s.int_at_least("filters", 1, 1)? as usize;
                    let size = s.int_at_least("size", 1, 1)? as usize;
                    let stride = s.int_at_least("stride", 1, 1)? as usize;
                    let pad = if s.int_or("pad", 0)? != 0 {
                        size / 2
                    } else {
                        s.int_at_least("padding", 0, 0)? as usize
                    };
                    let activation = activation(&s)?;
                    if s.int_or("binary", 0)? != 0 {
                        let q = model.quantization.ok_or_else(|| {
                            model_err(format!(
                                "layer {li} is binary but the model has no quantization settings"
                            ))
                        })?;
                        if stride != 1 || pad != size / 2 {
                            return Err(s.error(
                                s.line(),
                                "binary layers support stride 1 with same padding only",
                            ));
                        }
                        let conv = BinaryConv {
                            in_channels: c,
                            out_channels: filters,
                            size,
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
                        };
                        conv.validate()
                            .map_err(|m| model_err(format!("layer {li}: {m}")))?;
                        c = filters;
                        Layer::Binary(conv)
                    } else {
                        let conv = FloatConv {
                            in_channels: c,
                            out_channels: filters,
                            size,
                            stride,
                            pad,
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
                            activation,
                        };
                        conv.validate()
                            .map_err(|m| model_err(format!("layer {li}: {m}")))?;
                        h = conv.output_dim(h);
                        w = conv.output_dim(w);
                        c = filters;
                        Layer::Conv(conv)
                    }
                }
                "maxpool" | "max" => {
                    let size = s.int_at_least("size", 1, 1)? as usize;
                    let stride = s.int_at_least("stride", size as i64, 1)? as usize;
                    let padding = s.int_at_least("padding", size as i64 - 1, 0)? as usize;
                    let pool = MaxPool {
                        size,
                        stride,
                        padding,
                    };
                    if size + stride > w + padding + stride || size > h + padding {
                        return Err(s.error(
                            s.line(),
                            format!("[maxpool] of size {size} does not fit a {w}x{h} input"),
                        ));
                    }
                    h = pool.output_dim(h);
                    w = pool.output_dim(w);
                    Layer::MaxPool(pool)
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
                    if region.channels() != c {
                        return Err(s.error(
                            s.line(),
                            format!(
                                "[region] needs {} input channels, the layer before gives {c}",
                                region.channels()
                            ),
                        ));
                    }
                    if region.classes != model.names.len() {
                        return Err(model_err(format!(
                            "[region] has {} classes but the model names {}",
                            region.classes,
                            model.names.len()
                        )));
                    }
                    Layer::Region(region)
                }
                other => {
                    return Err(s.error(
                        s.line(),
                        format!("section [{other}] is not supported by this engine"),
                    ))
                }
            };
            layers.push(layer);
        }
        let network = Network {
            name: model.name.clone(),
            width,
            height,
            channels,
            layers,
            names: model.names.clone(),
            quantization: model.quantization,
        };
        network.segments().map_err(model_err)?;
        Ok(network)
    }

    fn quantizer(&self) -> Option<Quantizer> {
        self.quantization.map(|q| Quantizer {
            bits: q.bits,
            max: q.clip,
        })
    }

    fn transposed(&self) -> bool {
        self.quantization.is_some_and(|q| q.transposed)
    }

    /// The binarized segments, as (first layer, one past the last layer, segment).
    pub fn segments(&self) -> std::result::Result<Vec<(usize, usize, Segment<'_>)>, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.layers.len() {
            if !matches!(self.layers[i], Layer::Binary(_)) {
                i += 1;
                continue;
            }
            let start = i;
            let mut steps = Vec::new();
            while let Some(Layer::Binary(conv)) = self.layers.get(i) {
                let pool = match self.layers.get(i + 1) {
                    Some(Layer::MaxPool(p)) => Some(*p),
                    _ => None,
                };
                steps.push(SegmentStep {
                    layer: i,
                    conv,
                    pool,
                });
                i += if pool.is_some() { 2 } else { 1 };
            }
            if let Some(Layer::MaxPool(_)) = self.layers.get(i) {
                return Err(format!(
                    "layer {i}: two max-pools in a row inside a binarized segment"
                ));
            }
            out.push((start, i, Segment { steps }));
        }
        Ok(out)
    }

    /// Runs the network on a letterboxed CHW image and returns the last layer's output.
    pub fn forward(
        &self,
        image: &Tensor,
        runner: &mut dyn SegmentRunner,
        timings: &mut Timings,
    ) -> Result<Tensor> {
        if (image.channels, image.height, image.width) != (self.channels, self.height, self.width) {
            return Err(Error::Model(format!(
                "input is {}x{}x{}, the network takes {}x{}x{}",
                image.channels, image.height, image.width, self.channels, self.height, self.width
            )));
        }
        let segments = self.segments().map_err(Error::Model)?;
        let mut act = image.clone();
        let mut i = 0;
        while i < self.layers.len() {
            if let Some((_, end, segment)) = segments.iter().find(|(s, _, _)| *s == i) {
                let quantizer = self.quantizer().expect("binary layers imply quantization");
                let start = Instant::now();
                let q = quantizer.quantize(&act, self.transposed());
                timings.push(("   quantize".into(), start.elapsed()));
                let q = runner.run(segment, q, timings)?;
                let start = Instant::now();
                act = dequantize(&q, self.transposed());
                timings.push(("   dequantize".into(), start.elapsed()));
                i = *end;
                continue;
            }
            let start = Instant::now();
            act = match &self.layers[i] {
                Layer::Conv(conv) => conv.forward(&act),
                Layer::MaxPool(pool) => pool.forward(&act),
                Layer::Region(region) => region.forward(&act),
                Layer::Binary(_) => unreachable!("binary layers run in segments"),
            };
            timings.push((format!("{i:>2} {}", self.layers[i].kind()), start.elapsed()));
            i += 1;
        }
        Ok(act)
    }

    pub fn region(&self) -> Option<&Region> {
        self.layers.iter().rev().find_map(|l| match l {
            Layer::Region(r) => Some(r),
            _ => None,
        })
    }

    /// Decodes the last layer's output for an image of `image_w` x `image_h`: region boxes,
    /// Darknet's per-class NMS, then one entry per (box, class) above `thresh`, as Darknet's
    /// `draw_detections` reports them, most probable first.
    pub fn decode(
        &self,
        output: &Tensor,
        image_w: usize,
        image_h: usize,
        thresh: f32,
        nms: f32,
    ) -> Result<Vec<Found>> {
        let region = self
            .region()
            .ok_or_else(|| Error::Model("the network has no [region] layer".into()))?;
        let mut dets: Vec<Detection> =
            region.detections(output, image_w, image_h, self.width, self.height, thresh);
        if nms > 0.0 {
            nms_sort(&mut dets, region.classes, nms);
        }
        let (iw, ih) = (image_w as f32, image_h as f32);
        let mut found = Vec::new();
        for d in &dets {
            for (class_id, &prob) in d.prob.iter().enumerate() {
                if prob > thresh {
                    let b = d.bbox;
                    let x0 = ((b.x - b.w / 2.0) * iw).max(0.0);
                    let x1 = ((b.x + b.w / 2.0) * iw).min(iw - 1.0);
                    let y0 = ((b.y - b.h / 2.0) * ih).max(0.0);
                    let y1 = ((b.y + b.h / 2.0) * ih).min(ih - 1.0);
                    found.push(Found {
                        class_id,
                        class: self.names[class_id].clone(),
                        prob,
                        bbox: [x0, y0, x1, y1],
                    });
                }
            }
        }
        found.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        Ok(found)
    }
}

fn activation(s: &SectionView) -> Result<Activation> {
    let name = s.str_or("activation", "logistic");
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
