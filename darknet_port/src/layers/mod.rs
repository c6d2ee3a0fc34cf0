//! Layers, one file a layer type. Float layers work on Darknet's CHW `f32` layout; the
//! binarized layers on [`QTensor`] bit planes.

pub mod binconv;
pub mod conv;
pub mod intconv;
pub mod maxpool;
pub mod qtensor;
pub mod quantize;
pub mod region;
pub mod route;
pub mod shortcut;
pub mod upsample;
mod windows;
pub mod winograd;
pub mod yolo;

pub use binconv::BinaryConv;
pub use conv::{Activation, FloatConv};
pub use intconv::{InputStats, IntConv, Precision};
pub use maxpool::MaxPool;
pub use qtensor::QTensor;
pub use quantize::Quantizer;
pub use region::Region;
pub use route::Route;
pub use shortcut::Shortcut;
pub use yolo::Yolo;

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
}
