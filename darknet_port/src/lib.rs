//! Darknet port: the `.cfg` description of a network, model import, the layers (float and
//! binarized/quantized), Darknet's region decoding and NMS.
//!
//! Pure computation: no threads (layers split their work over the caller's threads, see
//! [`parallel`]), no device I/O beyond reading model and image files.

pub mod boxes;
pub mod cfg;
pub mod darknet_weights;
pub mod error;
pub mod image_input;
pub mod jpeg;
pub mod kernels;
pub mod layers;
pub mod limits;
pub mod metrics;
pub mod model_file;
pub mod network;
pub mod npy;
pub mod parallel;
pub mod plan;
pub mod qnn_import;
pub mod qnn_layout;
pub mod voc_map;

pub use error::{Error, Result};
