//! `zynqdet detect`: still images through the network, detections printed, optionally drawn.

use crate::annotate;
use crate::model::load_network;
use crate::ModelArgs;
use anyhow::{Context, Result};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::network::{CpuRunner, Found, Network, SegmentRunner, StepKind, Timing, Timings};
use pl_driver::udmabuf::UdmabufOptions;
use pl_driver::uio::{UioOptions, DEFAULT_UIO_NAME};
use pl_driver::DriverConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Darknet's `detect` default.
pub const DARKNET_NMS: f32 = 0.45;

#[derive(clap::Args, Debug)]
pub struct DetectArgs {
    /// Image files (JPEG, PNG, BMP).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Report a class when its probability exceeds this.
    #[arg(long, default_value_t = 0.3)]
    pub thresh: f32,
    /// IoU above which NMS suppresses the less probable box (0 disables NMS). Default: the
    /// value the model's reference results use (0.3 for Tinier-YOLO), else Darknet's 0.45.
    #[arg(long)]
    pub nms: Option<f32>,
    /// Write each image annotated with its detections to this directory (as <name>.png).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one JSON object per image instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the time of each layer.
    #[arg(long, short)]
    pub verbose: bool,
    /// Where the binarized middle layers run: `model` drives a software model of the PL engine
    /// through the real driver, `uio` the engine on the board, `cpu` skips the driver, `rtl` drives
    /// the Verilator model of overlay/'s RTL through the real driver (seconds per frame; only in
    /// builds made where Verilator was installed).
    #[arg(long, value_enum, default_value_t = Backend::Model)]
    pub backend: Backend,
    /// UIO name of the engine (with --backend uio): its device-tree node name, `BlackBoxJam` for
    /// the Ultra96 design's HLS block.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_UIO_NAME)]
    pub uio_name: String,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Model,
    Cpu,
    Uio,
    /// Co-simulation with the RTL; present in builds where `pl_driver::HAS_RTL`.
    Rtl,
}

/// The runner of `--backend rtl`, or a clear error in a build without it.
pub fn rtl_runner() -> Result<Box<dyn SegmentRunner + Send>> {
    if !pl_driver::HAS_RTL {
        anyhow::bail!("--backend rtl: {}", pl_driver::NO_RTL);
    }
    Ok(pl_driver::rtl_segment_runner()?)
}

fn make_runner(args: &DetectArgs) -> Result<Box<dyn SegmentRunner>> {
    Ok(match args.backend {
        Backend::Cpu => Box::new(CpuRunner),
        Backend::Model => Box::new(pl_driver::model_runner(DriverConfig::default())?.0),
        Backend::Uio => {
            let uio = UioOptions {
                name: args.uio_name.clone(),
                ..UioOptions::default()
            };
            Box::new(pl_driver::uio_runner(
                &uio,
                &UdmabufOptions::default(),
                DriverConfig::default(),
            )?)
        }
        Backend::Rtl => rtl_runner()?,
    })
}

#[derive(Serialize)]
pub struct JsonDetection<'a> {
    class: &'a str,
    class_id: usize,
    prob: f32,
    #[serde(rename = "box")]
    bbox: [f32; 4],
}

#[derive(Serialize)]
struct JsonImage<'a> {
    image: String,
    width: usize,
    height: usize,
    detections: Vec<JsonDetection<'a>>,
}

pub fn json_detections(found: &[Found]) -> Vec<JsonDetection<'_>> {
    found
        .iter()
        .map(|f| JsonDetection {
            class: &f.class,
            class_id: f.class_id,
            prob: f.prob,
            bbox: f.bbox.map(|v| (v * 10.0).round() / 10.0),
        })
        .collect()
}

/// A timed step as the CLI names it: the layer's number right-aligned, then what it did.
pub fn step_label(step: &Timing) -> String {
    match step.layer {
        Some(layer) => format!("{layer:>2} {}", step.kind.name()),
        None => format!("   {}", step.kind.name()),
    }
}

pub fn run(args: &DetectArgs) -> Result<ExitCode> {
    if !(0.0..1.0).contains(&args.thresh) {
        anyhow::bail!("--thresh {} must be in [0, 1)", args.thresh);
    }
    let network = load_network(&args.model)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let mut runner = make_runner(args)?;
    let mut failures = 0;
    for path in &args.images {
        if let Err(e) = detect_one(&network, runner.as_mut(), path, args) {
            eprintln!("zynqdet: error: {e:#}");
            failures += 1;
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn detect_one(
    network: &Network,
    runner: &mut dyn SegmentRunner,
    path: &Path,
    args: &DetectArgs,
) -> Result<()> {
    let image = load_image(path)?;
    let start = Instant::now();
    let mut timings = match args.verbose {
        true => Timings::new(),
        false => Timings::off(),
    };
    let t0 = Instant::now();
    let input = letterbox(&image, network.width, network.height, network.resize);
    timings.push(None, StepKind::Letterbox, t0.elapsed());
    let output = network.forward(&input, runner, &mut timings)?;
    let t0 = Instant::now();
    let nms = args.nms.or(network.nms).unwrap_or(DARKNET_NMS);
    let found = network.decode(&output, image.width, image.height, args.thresh, nms)?;
    timings.push(None, StepKind::DecodeNms, t0.elapsed());
    let total = start.elapsed();

    if args.json {
        let line = JsonImage {
            image: path.display().to_string(),
            width: image.width,
            height: image.height,
            detections: json_detections(&found),
        };
        println!("{}", serde_json::to_string(&line)?);
    } else {
        println!(
            "{}: Predicted in {:.1} ms.",
            path.display(),
            total.as_secs_f64() * 1e3
        );
        for f in &found {
            let [x0, y0, x1, y1] = f.bbox;
            println!(
                "{}: {:.0}%\t({:.0}, {:.0})-({:.0}, {:.0})",
                f.class,
                f.prob * 100.0,
                x0,
                y0,
                x1,
                y1
            );
        }
    }
    if args.verbose {
        for step in timings.steps() {
            let ms = step.duration.as_secs_f64() * 1e3;
            eprintln!("  {:<16} {ms:>8.2} ms", step_label(step));
        }
        eprintln!("  {:<16} {:>8.2} ms", "total", total.as_secs_f64() * 1e3);
    }
    if let Some(dir) = &args.out {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        let out_path = dir.join(format!("{stem}.png"));
        annotate::save_annotated(path, &found, network.names.len(), &out_path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_rtl_runs_or_says_why_this_build_has_none() {
        let result = rtl_runner();
        let error = result.as_ref().err().map(|e| format!("{e:#}"));
        assert_eq!(result.is_ok(), pl_driver::HAS_RTL, "{error:?}");
        if let Some(message) = error {
            assert!(message.contains("--backend rtl"), "{message}");
            assert!(message.contains("Verilator was not found"), "{message}");
        }
    }
}
