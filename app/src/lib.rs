//! `zynqdet` as a library: what the binary (`main.rs`) is made of, and what the fuzz targets
//! and benches reach directly (the media parsers, the pipeline).
//!
//! From the top down: `commands` (one file per subcommand) use `options` (the shared command
//! line options and what they turn into), `pipeline` (the threaded stages), `media` (sources
//! and sinks with their parsers), `results` (the JSON the measuring commands write), and the
//! helpers `annotate`, `voc`, `heap` and `workers`.

pub mod annotate;
pub mod commands;
pub mod heap;
pub mod media;
pub mod options;
pub mod pipeline;
pub mod results;
pub mod voc;
pub mod workers;
