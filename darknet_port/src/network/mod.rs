//! A network built from a model file: the cfg is the single description of the layers; the
//! model file supplies their parameters. Consecutive binarized layers (with the max-pools that
//! follow them) form a *segment*, the unit that an accelerator runs; a [`SegmentRunner`] decides
//! where it runs.
//!
//! Split by concern: `build.rs` makes a network from a model file, `forward.rs` runs it,
//! `calibrate.rs` measures its inputs and converts its precision, `decode.rs` turns its heads
//! into detections.

mod build;
mod calibrate;
mod decode;
mod forward;
mod timings;

pub use calibrate::{Calibration, HISTOGRAM_BINS};
pub use decode::Found;
pub use forward::MAX_WARM_UPS;
pub use timings::{StepKind, Timing, Timings};

use crate::error::Result;
use crate::image_input::ResizeArithmetic;
use crate::layers::{
    BinaryConv, FloatConv, IntConv, MaxPool, Plain, QTensor, Quantizer, Region, Route, Shortcut,
    Tensor, Yolo,
};
use crate::model_file::QuantizationInfo;
use std::time::Instant;

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
            Layer::IntConv(c) => c.kind(),
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

impl Segment<'_> {
    /// The one-bit multiply-accumulates of the segment on an `height` x `width` input (its
    /// convolutions keep the size, `same` padding at stride 1; its pools shrink it), and the
    /// activations' bits (W1A`bits`).
    pub fn macs(&self, height: usize, width: usize) -> (u64, usize) {
        let (mut h, mut w) = (height, width);
        let mut macs = 0u64;
        let mut bits = 1;
        for step in &self.steps {
            let c = step.conv;
            macs += (h * w * c.out_channels * c.size * c.size * c.in_channels) as u64;
            bits = bits.max(c.bits);
            if let Some(pool) = &step.pool {
                (h, w) = (pool.output_dim(h), pool.output_dim(w));
            }
        }
        (macs, bits)
    }
}

/// Runs a segment of binarized layers: on the CPU, on the accelerator, or on its model.
pub trait SegmentRunner {
    fn run(&mut self, segment: &Segment, input: QTensor, timings: &mut Timings) -> Result<QTensor>;

    /// Another runner doing the same work, for runners that own no device (the CPU kernels):
    /// a pipeline then runs whole frames on each of its threads instead of sending every
    /// segment to one. `None` (the default) for a runner that drives a device, or its model.
    fn duplicate(&self) -> Option<Box<dyn SegmentRunner + Send>> {
        None
    }
}

/// Runs segments with the popcount kernels of this crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuRunner;

impl SegmentRunner for CpuRunner {
    fn duplicate(&self) -> Option<Box<dyn SegmentRunner + Send>> {
        Some(Box::new(CpuRunner))
    }

    fn run(&mut self, segment: &Segment, input: QTensor, timings: &mut Timings) -> Result<QTensor> {
        let mut act = input;
        for step in &segment.steps {
            let start = Instant::now();
            act = step.conv.forward(&act);
            timings.push(
                Some(step.layer),
                StepKind::Layer("binconv"),
                start.elapsed(),
            );
            if let Some(pool) = step.pool {
                let start = Instant::now();
                act = pool.forward_quantized(&act);
                let layer = Some(step.layer + 1);
                timings.push(layer, StepKind::Layer("maxpool"), start.elapsed());
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

impl Network {
    /// Whether every layer has chosen how it runs: INT8 layers time their exact ways on their
    /// first calls (`layers::race`), so benchmarks run untimed frames until this holds.
    pub fn settled(&self) -> bool {
        self.layers.iter().all(|layer| match layer {
            Layer::IntConv(conv) => conv.settled(),
            _ => true,
        })
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
}
