//! The subcommands of `zynqdet`, one file each. A command uses the modules below it (options,
//! media, the pipeline, results) and never another command.

pub mod agreement;
pub mod bench;
pub mod bench_pipeline;
pub mod calibrate;
pub mod detect;
pub mod eval;
pub mod import_qnn;
pub mod report;
pub mod run;
