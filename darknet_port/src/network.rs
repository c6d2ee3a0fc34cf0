//! A network built from a model file: the cfg is the single description of the layers; the
//! model file supplies their parameters. Consecutive binarized layers (with the max-pools that
//! follow them) form a *segment*, the unit that an accelerator runs; a [`SegmentRunner`] decides
//! where it runs.

use crate::boxes::{nms_sort, Detection};
use crate::cfg::Cfg;
use crate::error::{Error, Result};
use crate::image_input::ResizeArithmetic;
use crate::layers::quantize::dequantize;
use crate::layers::{
    BinaryConv, FloatConv, InputStats, IntConv, MaxPool, Plain, Precision, QTensor, Quantizer,
    Region, Route, Shortcut, Tensor, Yolo,
};
use crate::model_file::{ModelFile, QuantizationInfo};
use crate::plan::{LayerPlan, Plan};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Conv(FloatConv),
    /// A float convolution run in INT8 or INT16 (see [`IntConv`]).
    IntConv(IntConv),
    Binary(BinaryConv),
    MaxPool(MaxPool),
    Route(Route),
    Shortcut(Shortcut),
    Region(Region),
    Yolo(Yolo),
    /// A layer that needs its input only (`[upsample]`, `[dropout]`, ...).
    Plain(Plain),
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv(_) => "conv",
            Layer::IntConv(c) => match c.precision {
                Precision::Int16 => "conv-int16",
                _ => "conv-int8",
            },
            Layer::Binary(_) => "binconv",
            Layer::MaxPool(_) => "maxpool",
            Layer::Route(_) => "route",
            Layer::Shortcut(_) => "shortcut",
            Layer::Region(_) => "region",
            Layer::Yolo(_) => "yolo",
            Layer::Plain(p) => p.0.kind(),
        }
    }

    fn is_head(&self) -> bool {
        matches!(self, Layer::Region(_) | Layer::Yolo(_))
    }
}

/// The outputs of a network's detection layers (`[region]`, `[yolo]`), by layer index.
#[derive(Debug, Clone, PartialEq)]
pub struct Heads(pub Vec<(usize, Tensor)>);

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
    /// The NMS threshold the model's reference results use, when it has one.
    pub nms: Option<f32>,
    /// The letterbox arithmetic of the model's reference results.
    pub resize: ResizeArithmetic,
}

/// The largest input magnitude of each float convolution over a set of calibration images:
/// what fixes the power-of-two scale of its quantized input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub model: String,
    pub images: usize,
    /// (layer index, largest |input|)
    pub input_max_abs: Vec<(usize, f32)>,
    /// (layer index, smallest input): a layer never seeing a negative input (the first, on
    /// images) quantizes to unsigned bytes.
    #[serde(default)]
    pub input_min: Vec<(usize, f32)>,
    /// (layer index, counts of |input| in [`HISTOGRAM_BINS`] equal bins over `[0, max]`):
    /// lets a scale trade clipping of rare large values against resolution.
    #[serde(default)]
    pub input_histograms: Vec<(usize, Vec<u64>)>,
    /// (layer index, mean of each input channel): what the quantized weights' error shifts
    /// each output by on average, taken back off the bias.
    #[serde(default)]
    pub input_channel_means: Vec<(usize, Vec<f32>)>,
}

/// Bins of a calibration histogram.
pub const HISTOGRAM_BINS: usize = 512;

/// A detection as the user sees it: class, probability and box corners in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub class_id: usize,
    pub class: String,
    pub prob: f32,
    /// `[x0, y0, x1, y1]` in pixels, inside the image (see [`BBox::corners_in`]).
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

    /// Runs the network on a letterboxed CHW image and returns its detection layers' outputs.
    pub fn forward(
        &self,
        image: &Tensor,
        runner: &mut dyn SegmentRunner,
        timings: &mut Timings,
    ) -> Result<Heads> {
        self.run(image, runner, timings, &mut |_, _| {})
    }

    /// Measures, over `images` (letterboxed), the input statistics of every float convolution.
    pub fn calibrate(
        &self,
        images: &[Tensor],
        runner: &mut dyn SegmentRunner,
    ) -> Result<Calibration> {
        let convs: Vec<usize> = (0..self.layers.len())
            .filter(|&i| matches!(self.layers[i], Layer::Conv(_)))
            .collect();
        // Two passes: the ranges first, then histograms over them.
        let mut max_abs = vec![0f32; self.layers.len()];
        let mut min = vec![f32::INFINITY; self.layers.len()];
        for image in images {
            self.run(image, runner, &mut Timings::new(), &mut |i, input| {
                let m = input.data.iter().fold(0f32, |m, v| m.max(v.abs()));
                max_abs[i] = max_abs[i].max(m);
                min[i] = input.data.iter().fold(min[i], |m, &v| m.min(v));
            })?;
        }
        let mut histograms = vec![vec![0u64; HISTOGRAM_BINS]; self.layers.len()];
        let mut sums: Vec<Vec<f64>> = vec![Vec::new(); self.layers.len()];
        for image in images {
            self.run(image, runner, &mut Timings::new(), &mut |i, input| {
                if !matches!(self.layers[i], Layer::Conv(_)) {
                    return;
                }
                let plane = input.height * input.width;
                sums[i].resize(input.channels, 0.0);
                for (sum, values) in sums[i].iter_mut().zip(input.data.chunks_exact(plane)) {
                    *sum += values.iter().map(|&v| f64::from(v)).sum::<f64>() / plane as f64;
                }
                if max_abs[i] > 0.0 {
                    let scale = HISTOGRAM_BINS as f32 / max_abs[i];
                    for v in &input.data {
                        let bin = ((v.abs() * scale) as usize).min(HISTOGRAM_BINS - 1);
                        histograms[i][bin] += 1;
                    }
                }
            })?;
        }
        Ok(Calibration {
            model: self.name.clone(),
            images: images.len(),
            input_max_abs: convs.iter().map(|&i| (i, max_abs[i])).collect(),
            input_min: convs.iter().map(|&i| (i, min[i])).collect(),
            input_histograms: convs
                .iter()
                .map(|&i| (i, std::mem::take(&mut histograms[i])))
                .collect(),
            input_channel_means: convs
                .iter()
                .map(|&i| {
                    let means = sums[i]
                        .iter()
                        .map(|s| (s / images.len().max(1) as f64) as f32)
                        .collect();
                    (i, means)
                })
                .collect(),
        })
    }

    /// The same network with its float convolutions at `precision`, except the layers named in
    /// `overrides`; quantized inputs take their scales from `calibration`.
    pub fn with_precision(
        &self,
        precision: Precision,
        overrides: &[(usize, Precision)],
        calibration: &Calibration,
    ) -> Result<Network> {
        let mut out = self.clone();
        for (i, layer) in out.layers.iter_mut().enumerate() {
            let wanted = overrides
                .iter()
                .find(|(l, _)| *l == i)
                .map_or(precision, |o| o.1);
            let Layer::Conv(conv) = layer else {
                if overrides.iter().any(|(l, _)| *l == i) {
                    return Err(Error::Model(format!(
                        "layer {i} is not a float convolution: its precision cannot be set"
                    )));
                }
                continue;
            };
            if wanted == Precision::Fp32 {
                continue;
            }
            // The calibration's lists hold (layer, value) pairs.
            fn find<T>(list: &[(usize, T)], layer: usize) -> Option<&T> {
                list.iter().find(|(l, _)| *l == layer).map(|entry| &entry.1)
            }
            let max_abs = *find(&calibration.input_max_abs, i).ok_or_else(|| {
                Error::Model(format!(
                    "the calibration has no range for layer {i}: calibrate this model again"
                ))
            })?;
            let stats = InputStats {
                max_abs,
                min: find(&calibration.input_min, i).map_or(-max_abs, |&min| min),
                histogram: find(&calibration.input_histograms, i).map_or(&[], Vec::as_slice),
                channel_means: find(&calibration.input_channel_means, i).map_or(&[], Vec::as_slice),
            };
            *layer = Layer::IntConv(IntConv::from_float(conv, wanted, &stats));
        }
        Ok(out)
    }

    fn run(
        &self,
        image: &Tensor,
        runner: &mut dyn SegmentRunner,
        timings: &mut Timings,
        observe: &mut dyn FnMut(usize, &Tensor),
    ) -> Result<Heads> {
        if (image.channels, image.height, image.width) != (self.channels, self.height, self.width) {
            return Err(Error::Model(format!(
                "input is {}x{}x{}, the network takes {}x{}x{}",
                image.channels, image.height, image.width, self.channels, self.height, self.width
            )));
        }
        let segments = self.segments().map_err(Error::Model)?;
        let mut outputs: Vec<Option<Tensor>> = vec![None; self.layers.len()];
        let mut i = 0;
        while i < self.layers.len() {
            let input = match i {
                0 => image,
                _ => outputs[i - 1].as_ref().expect("layers run in order"),
            };
            if let Some((_, end, segment)) = segments.iter().find(|(s, _, _)| *s == i) {
                let quantizer = self.quantizer().expect("binary layers imply quantization");
                let start = Instant::now();
                let q = quantizer.quantize(input, self.transposed());
                timings.push(("   quantize".into(), start.elapsed()));
                let q = runner.run(segment, q, timings)?;
                let start = Instant::now();
                outputs[end - 1] = Some(dequantize(&q, self.transposed()));
                timings.push(("   dequantize".into(), start.elapsed()));
                i = *end;
                continue;
            }
            observe(i, input);
            let start = Instant::now();
            let earlier = |l: usize| outputs[l].as_ref().expect("references checked at build");
            let out = match &self.layers[i] {
                Layer::Conv(conv) => conv.forward(input),
                Layer::IntConv(conv) => conv.forward(input),
                Layer::MaxPool(pool) => pool.forward(input),
                Layer::Route(route) => {
                    let parts: Vec<&Tensor> = route.layers.iter().map(|&l| earlier(l)).collect();
                    route.forward(&parts)
                }
                Layer::Shortcut(s) => s.forward(input, earlier(s.from)),
                Layer::Region(region) => region.forward(input),
                Layer::Yolo(yolo) => yolo.forward(input),
                Layer::Plain(plain) => plain.0.forward(input),
                Layer::Binary(_) => unreachable!("binary layers run in segments"),
            };
            timings.push((format!("{i:>2} {}", self.layers[i].kind()), start.elapsed()));
            outputs[i] = Some(out);
            i += 1;
        }
        let heads = self
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_head())
            .map(|(i, _)| (i, outputs[i].take().expect("every layer ran")))
            .collect();
        Ok(Heads(heads))
    }

    /// Decodes the detection layers' outputs for an image of `image_w` x `image_h`: boxes of
    /// every head, Darknet's per-class NMS over all of them, then one entry per (box, class)
    /// above `thresh`, as Darknet's `draw_detections` reports them, most probable first.
    pub fn decode(
        &self,
        heads: &Heads,
        image_w: usize,
        image_h: usize,
        thresh: f32,
        nms: f32,
    ) -> Result<Vec<Found>> {
        let (w, h, nw, nh) = (image_w, image_h, self.width, self.height);
        let mut dets: Vec<Detection> = Vec::new();
        for (i, output) in &heads.0 {
            match self.layers.get(*i) {
                Some(Layer::Region(r)) => dets.extend(r.detections(output, w, h, nw, nh, thresh)),
                Some(Layer::Yolo(y)) => dets.extend(y.detections(output, w, h, nw, nh, thresh)),
                _ => return Err(Error::Model(format!("layer {i} is not a detection layer"))),
            }
        }
        if nms > 0.0 {
            nms_sort(&mut dets, self.names.len(), nms);
        }
        let (iw, ih) = (image_w as f32, image_h as f32);
        let mut found = Vec::new();
        for d in &dets {
            for (class_id, &prob) in d.prob.iter().enumerate() {
                if prob > thresh {
                    found.push(Found {
                        class_id,
                        class: self.names[class_id].clone(),
                        prob,
                        bbox: d.bbox.corners_in(iw, ih),
                    });
                }
            }
        }
        found.sort_by(|a, b| b.prob.total_cmp(&a.prob));
        Ok(found)
    }
}
