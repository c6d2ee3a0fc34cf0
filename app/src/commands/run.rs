//! `zynqdet run`: the real-time pipeline from a camera or a recording to annotated frames and
//! detections.

use crate::media::sink::{JsonSink, Output, Sink};
use crate::media::source::camera::{parse_size, CameraFormat, CameraRequest};
use crate::media::source::{self, SourceOptions};
use crate::options::{nms_for, parse_nms, parse_thresh, Backend, BackendArgs, ModelArgs};
use crate::pipeline::{self, Config};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `run` shows what the board computes: the engine's software model unless `--backend`.
const DEFAULT_BACKEND: Backend = Backend::Model;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Frames in: a camera (/dev/videoN), an MJPEG .avi, a .y4m, a directory of images, or any
    /// other video that ffmpeg reads.
    #[arg(long, short, value_name = "SRC")]
    pub input: String,
    /// Annotated frames out: FILE.avi (MJPEG), FILE.y4m, DIR/ (numbered PNGs), /dev/fbN (the
    /// screen), or none.
    #[arg(long, short, value_name = "SINK", default_value = "none")]
    pub output: String,
    /// Write each frame's detections to FILE as JSON lines (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Replay a recording at its frame rate, dropping frames when behind, as a camera would
    /// (by default a replay processes every frame as fast as it can).
    #[arg(long)]
    pub realtime: bool,
    /// Print statistics every few seconds (they are always printed at the end).
    #[arg(long)]
    pub stats: bool,
    /// Seconds between statistics lines with --stats.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub stats_interval: f64,
    /// Stop after this many frames.
    #[arg(long, value_name = "N")]
    pub max_frames: Option<u64>,
    /// Report a class when its probability exceeds this.
    #[arg(long, default_value_t = 0.3, value_parser = parse_thresh)]
    pub thresh: f32,
    /// IoU above which NMS suppresses the less probable box (0 disables NMS). Default: the
    /// model's reference value (0.3 for Tinier-YOLO), else Darknet's 0.45.
    #[arg(long, value_parser = parse_nms)]
    pub nms: Option<f32>,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Camera pixel format: yuyv, nv12 or mjpeg (default: the camera's best for the size).
    #[arg(long, value_name = "FORMAT", value_parser = |s: &str| s.parse::<CameraFormat>())]
    pub camera_format: Option<CameraFormat>,
    /// Camera picture size, WIDTHxHEIGHT (default: nearest to 640x480).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Camera frame rate; for a directory of images, the rate their timestamps assume.
    #[arg(long)]
    pub fps: Option<f64>,
    /// CPU threads for the float layers around the accelerator (at least; with `--backend
    /// cpu`, one for each core lent by `--threads`, each running whole frames).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    if args.stats_interval.is_nan() || args.stats_interval <= 0.0 {
        bail!("--stats-interval {} must be positive", args.stats_interval);
    }
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    let output = Output::parse(&args.output)?;
    let network = Arc::new(args.model.load()?);
    if network.channels != 3 {
        bail!(
            "the model takes {} channels; video frames have 3",
            network.channels
        );
    }
    let runner = args.backend.runner(DEFAULT_BACKEND)?;
    let options = SourceOptions {
        camera: CameraRequest {
            format: args.camera_format,
            size: args.size,
            fps: args.fps.map(|f| f.round() as u32),
        },
        fps: args.fps,
    };
    // the source first: a bad input must not leave an empty output file behind
    let source = source::open(&args.input, &options)?;
    let info = source.info().clone();
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(sink) = output.open(info.width, info.height, info.rate)? {
        sinks.push(sink);
    }
    if let Some(path) = &args.json {
        sinks.push(Box::new(JsonSink::create(path)?));
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // First Ctrl-C: stop reading, finish the frames in flight, close the files. A second
        // one exits at once; the AVI header is kept up to date after every frame, so even then
        // the file plays up to its last frame.
        let handler = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("zynqdet: stopping (Ctrl-C again to quit at once)");
        });
        if let Err(e) = handler {
            eprintln!("zynqdet: warning: Ctrl-C will not stop cleanly: {e}");
        }
    }

    let cfg = Config {
        thresh: args.thresh,
        nms: nms_for(args.nms, &network),
        realtime: args.realtime,
        max_frames: args.max_frames,
        annotate: output.shows_pictures(),
        workers: args.workers,
        stats_every: args
            .stats
            .then(|| Duration::from_secs_f64(args.stats_interval)),
        progress: true,
    };
    let outcome = pipeline::run(network, source, sinks, runner, &cfg, stop);
    let r = &outcome.report;
    if args.stats {
        eprint!("{}: {r}", info.name);
    } else {
        eprintln!(
            "{}: {} frames in, {} out, {} dropped, {:.2} frames/s",
            info.name,
            r.frames_in,
            r.frames_out,
            r.dropped,
            r.throughput()
        );
    }
    if let Some(e) = outcome.error {
        return Err(e);
    }
    // Ctrl-C is how a camera run ends; for a replay it means the output is incomplete.
    Ok(if outcome.interrupted && !info.live {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}
