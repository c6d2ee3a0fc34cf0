//! `zynqdet detect`: still images through the network, detections printed, optionally drawn.

use crate::annotate;
use crate::media::sink::json_detections;
use crate::options::{nms_for, parse_nms, parse_thresh, Backend, BackendArgs, ModelArgs};
use crate::pipeline::stats::ms;
use crate::results::step_label;
use anyhow::{Context, Result};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::network::{Network, SegmentRunner, StepKind, Timings};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `detect` shows what the board computes: the engine's software model unless `--backend`.
const DEFAULT_BACKEND: Backend = Backend::Model;

#[derive(clap::Args, Debug)]
pub struct DetectArgs {
    /// Image files (JPEG, PNG, BMP).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Report a class when its probability exceeds this.
    #[arg(long, default_value_t = 0.3, value_parser = parse_thresh)]
    pub thresh: f32,
    /// IoU above which NMS suppresses the less probable box (0 disables NMS). Default: the
    /// value the model's reference results use (0.3 for Tinier-YOLO), else Darknet's 0.45.
    #[arg(long, value_parser = parse_nms)]
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
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Serialize)]
struct JsonImage<'a> {
    image: String,
    width: usize,
    height: usize,
    detections: Vec<crate::media::sink::JsonDetection<'a>>,
}

pub fn run(args: &DetectArgs) -> Result<ExitCode> {
    let network = args.model.load()?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let mut runner = args.backend.runner(DEFAULT_BACKEND)?;
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
    let nms = nms_for(args.nms, network);
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
        println!("{}: Predicted in {:.1} ms.", path.display(), ms(total));
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
            eprintln!("  {:<19} {:>8.2} ms", step_label(step), ms(step.duration));
        }
        eprintln!("  {:<19} {:>8.2} ms", "total", ms(total));
    }
    if let Some(dir) = &args.out {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        let out_path = dir.join(format!("{stem}.png"));
        annotate::save_annotated(path, &found, network.names.len(), &out_path)?;
    }
    Ok(())
}
