//! Layers, one file a layer type. Float layers work on Darknet's CHW `f32` layout; the
//! binarized layers on [`QTensor`] bit planes.

pub mod activation;
pub mod binconv;
pub mod conv;
pub mod geometry;
pub mod int_winograd;
pub mod intconv;
pub mod maxpool;
pub mod qtensor;
pub mod quantize;
mod race;
pub mod region;
pub mod route;
pub mod shortcut;
pub mod spare;
pub mod upsample;
mod windows;
pub mod winograd;
pub mod yolo;

pub use activation::Activation;
pub use binconv::{BinaryConv, DenseCache};
pub use conv::FloatConv;
pub use geometry::ConvGeometry;
pub use intconv::{InputStats, IntConv, Precision};
pub use maxpool::MaxPool;
pub use qtensor::QTensor;
pub use quantize::Quantizer;
pub use region::Region;
pub use route::Route;
pub use shortcut::Shortcut;
pub use upsample::Upsample;
pub use yolo::Yolo;

use std::fmt::Debug;
use std::sync::Arc;

/// A layer that needs its input and its cfg settings only: no parameters from the model file,
/// no earlier layer's output. A new layer of that kind is one file, its section's parser
/// returning it as a [`crate::plan::LayerPlan::Plain`]; the network runs it as it is.
pub trait PlainLayer: Debug + Send + Sync {
    /// The layer's name in per-layer timings.
    fn kind(&self) -> &'static str;
    fn forward(&self, input: &Tensor) -> Tensor;
}

/// A shared [`PlainLayer`]. Two are equal when they are the same kind with the same settings
/// (their `Debug` forms, which show every setting, are equal).
#[derive(Debug, Clone)]
pub struct Plain(pub Arc<dyn PlainLayer>);

impl PartialEq for Plain {
    fn eq(&self, other: &Plain) -> bool {
        self.0.kind() == other.0.kind() && format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

/// A float feature map in Darknet's layout: `data[c][y][x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn zeros(channels: usize, height: usize, width: usize) -> Tensor {
        Tensor {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    /// A tensor for a layer that writes every one of its values: a spare buffer of an earlier
    /// frame's when there is one ([`spare`]), its old values in place.
    pub(crate) fn for_overwrite(channels: usize, height: usize, width: usize) -> Tensor {
        Tensor {
            channels,
            height,
            width,
            data: spare::buffer(channels * height * width),
        }
    }
}
