//! Media I/O: where frames come from (cameras, recordings, images), what they are (pixel
//! formats, decoding to RGB), and where pictures and detections go (files, the screen).
//! Nothing here knows about threads or the network: the pipeline and the commands use it.

pub mod decode;
pub mod error;
pub mod pixels;
pub mod sink;
pub mod source;
pub mod stills;
