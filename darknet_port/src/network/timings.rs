//! Where a frame's time went, step by step, as data: the layer, what the step did, how long it
//! took. Tools that show them format them; a run nobody reads records nothing.

use std::time::Duration;

/// What a timed step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A layer run on the CPU, by [`super::Layer::kind`] (`conv`, `maxpool`, `binconv`, ...).
    Layer(&'static str),
    /// A binarized convolution on the accelerator, with the max-pool after it when `pooled`.
    Accelerated { pooled: bool },
    /// Floats to the bit planes a segment takes.
    Quantize,
    /// A segment's bit planes back to floats.
    Dequantize,
    /// The image letterboxed to the network's input.
    Letterbox,
    /// The heads decoded to boxes, and NMS.
    DecodeNms,
    /// A segment's input packed into the accelerator's memory.
    AcceleratorPack,
    /// A segment's output read back from the accelerator's memory.
    AcceleratorUnpack,
}

impl StepKind {
    /// A short name: the layer's kind, or the step's.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Layer(kind) => kind,
            StepKind::Accelerated { pooled: false } => "binconv",
            StepKind::Accelerated { pooled: true } => "binconv+pool",
            StepKind::Quantize => "quantize",
            StepKind::Dequantize => "dequantize",
            StepKind::Letterbox => "letterbox",
            StepKind::DecodeNms => "decode+nms",
            StepKind::AcceleratorPack => "pl pack",
            StepKind::AcceleratorUnpack => "pl unpack",
        }
    }
}

/// One timed step: of layer `layer` (Darknet's numbering), or of the whole frame (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub layer: Option<usize>,
    pub kind: StepKind,
    pub duration: Duration,
}

/// The steps of a frame, in order; [`Timings::off`] records nothing (and allocates nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    steps: Option<Vec<Timing>>,
}

impl Timings {
    /// Timings that record.
    pub fn new() -> Timings {
        Timings {
            steps: Some(Vec::new()),
        }
    }

    /// Timings that nobody reads.
    pub fn off() -> Timings {
        Timings { steps: None }
    }

    pub fn is_on(&self) -> bool {
        self.steps.is_some()
    }

    pub fn push(&mut self, layer: Option<usize>, kind: StepKind, duration: Duration) {
        if let Some(steps) = &mut self.steps {
            steps.push(Timing {
                layer,
                kind,
                duration,
            });
        }
    }

    /// The recorded steps, in order.
    pub fn steps(&self) -> &[Timing] {
        self.steps.as_deref().unwrap_or_default()
    }

    /// A mark to [`Timings::truncate`] back to.
    pub fn len(&self) -> usize {
        self.steps().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the steps from `mark` on (a failed attempt's, say).
    pub fn truncate(&mut self, mark: usize) {
        if let Some(steps) = &mut self.steps {
            steps.truncate(mark);
        }
    }

    /// Forgets every step, keeping the memory.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Appends `other`'s steps.
    pub fn append(&mut self, other: Timings) {
        if let (Some(steps), Some(more)) = (&mut self.steps, other.steps) {
            steps.extend(more);
        }
    }
}
