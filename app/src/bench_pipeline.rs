//! `zynqdet bench-pipeline`: does pipelining pay? The same frames run once stage after stage
//! on one thread (each stage timed) and once through the threaded pipeline; the pipeline's
//! throughput is printed next to the bound that its slowest stage sets and next to the
//! sequential rate.

use crate::annotate;
use crate::detect::{Backend, DARKNET_NMS};
use crate::model::load_network;
use crate::pipeline::pixels::PixelFormat;
use crate::pipeline::preprocess;
use crate::pipeline::sink::{avi::AviWriter, encode_jpeg, Sink};
use crate::pipeline::source::{self, Rate, RawFrame, Source, SourceInfo, SourceOptions};
use crate::pipeline::stats::Report;
use crate::pipeline::{self, Config, Frame, Stage, STAGES};
use crate::run::segment_runner;
use crate::ModelArgs;
use anyhow::{bail, Context, Result};
use darknet_port::image_input::Letterboxer;
use darknet_port::layers::{QTensor, Tensor};
use darknet_port::network::{Network, Segment, SegmentRunner, Timings};
use pl_driver::uio::DEFAULT_UIO_NAME;
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Video to run (default: a synthetic 768x576 MJPEG clip of moving rectangles).
    #[arg(long, short, value_name = "SRC")]
    pub input: Option<String>,
    /// Frames per pass (a shorter input is repeated).
    #[arg(long, default_value_t = 30)]
    pub frames: usize,
    /// CPU threads for the float layers in the pipeline.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Where the binarized middle layers run.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    #[arg(long, value_name = "NAME", default_value = DEFAULT_UIO_NAME)]
    pub uio_name: String,
    /// Also write the results, with each frame's stage timeline, as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// A stage of `bench-pipeline --json`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StageJson {
    pub stage: String,
    pub alone_ms: f64,
    pub pipeline_p50_ms: f64,
}

/// One frame's (start, end) in ms of each stage, in the order of `stages`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TimelineJson {
    pub stages: Vec<String>,
    pub frames: Vec<Vec<(f64, f64)>>,
}

impl TimelineJson {
    pub fn of(report: &Report) -> TimelineJson {
        TimelineJson {
            stages: STAGES.iter().map(|s| s.name().to_string()).collect(),
            frames: report
                .timeline
                .iter()
                .map(|f| f.spans.iter().map(|(a, b)| (ms(*a), ms(*b))).collect())
                .collect(),
        }
    }
}

/// What `bench-pipeline --json` writes.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BenchPipelineJson {
    pub kind: String,
    pub model: String,
    pub input: String,
    pub frames: usize,
    pub workers: usize,
    pub backend: String,
    pub stages: Vec<StageJson>,
    pub sequential_fps: f64,
    pub bound_fps: f64,
    pub pipeline_fps: f64,
    pub timeline: TimelineJson,
}

/// A moving-rectangles clip: `n` JPEG frames of `w` x `h`.
pub fn synthetic_jpegs(n: usize, w: usize, h: usize) -> Result<Vec<Vec<u8>>> {
    (0..n)
        .map(|i| {
            let mut rgb = vec![0u8; w * h * 3];
            for (p, px) in rgb.chunks_exact_mut(3).enumerate() {
                let (x, y) = (p % w, p / w);
                px.copy_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 96]);
            }
            let rects = [
                ((i * 13) % (w - 120), h / 4, [220, 30, 30]),
                (w - 120 - (i * 7) % (w - 120), h / 2, [30, 200, 40]),
            ];
            for (rx, ry, colour) in rects {
                for y in ry..(ry + 160).min(h) {
                    for x in rx..rx + 100 {
                        rgb[(y * w + x) * 3..][..3].copy_from_slice(&colour);
                    }
                }
            }
            let mut jpeg = Vec::new();
            encode_jpeg(&rgb, w, h, &mut jpeg)?;
            Ok(jpeg)
        })
        .collect()
}

/// Frames held in memory, so that disk reads are not part of the measurement.
struct MemorySource {
    frames: Vec<RawFrame>,
    next: usize,
    info: SourceInfo,
}

impl Source for MemorySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>> {
        let Some(f) = self.frames.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        buf.clear();
        buf.extend_from_slice(&f.data);
        Ok(Some(RawFrame {
            index: f.index,
            pts: f.pts,
            format: f.format,
            width: f.width,
            height: f.height,
            data: buf,
            origin: f.origin.clone(),
        }))
    }
}

/// The output stage's work without the disk: an MJPEG AVI in memory.
struct MemoryAvi {
    writer: AviWriter<Cursor<Vec<u8>>>,
    jpeg: Vec<u8>,
}

impl MemoryAvi {
    fn new(w: usize, h: usize, rate: Rate) -> Result<MemoryAvi> {
        Ok(MemoryAvi {
            writer: AviWriter::new(Cursor::new(Vec::new()), w as u32, h as u32, rate)?,
            jpeg: Vec::new(),
        })
    }
}

impl Sink for MemoryAvi {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        encode_jpeg(&frame.rgb, frame.width, frame.height, &mut self.jpeg)?;
        Ok(self.writer.write_frame(&self.jpeg)?)
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Times the segment calls of one `forward`.
struct TimedRunner<'a> {
    inner: &'a mut dyn SegmentRunner,
    calls: Vec<(Instant, Duration)>,
}

impl SegmentRunner for TimedRunner<'_> {
    fn run(
        &mut self,
        segment: &Segment,
        input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::Result<QTensor> {
        let t0 = Instant::now();
        let out = self.inner.run(segment, input, timings);
        self.calls.push((t0, t0.elapsed()));
        out
    }
}

/// Up to `count` frames of `input` (default: a synthetic clip), a short input repeated.
pub fn load_frames(input: Option<&str>, count: usize) -> Result<(Vec<RawFrame>, SourceInfo)> {
    let (mut frames, info) = match input {
        Some(spec) => {
            let mut src = source::open(spec, &SourceOptions::default())?;
            let mut frames = Vec::new();
            while frames.len() < count {
                match src.next_frame(Vec::new())? {
                    Some(f) => frames.push(f),
                    None => break,
                }
            }
            if frames.is_empty() {
                bail!("{spec}: no frames");
            }
            (frames, src.info().clone())
        }
        None => {
            let (w, h) = (768, 576);
            let rate = Rate { num: 10, den: 1 };
            let frames = synthetic_jpegs(count.min(60), w, h)?
                .into_iter()
                .enumerate()
                .map(|(i, data)| RawFrame {
                    index: i as u64,
                    pts: rate.pts(i as u64),
                    format: PixelFormat::Encoded,
                    width: w,
                    height: h,
                    data,
                    origin: format!("synthetic frame {i}"),
                })
                .collect();
            let info = SourceInfo {
                name: "synthetic 768x576 MJPEG".into(),
                width: w,
                height: h,
                rate,
                frames: None,
                live: false,
            };
            (frames, info)
        }
    };
    // repeat a short clip up to the frame count, with times and indexes running on
    let n = frames.len();
    for i in n..count {
        let f = &frames[i % n];
        frames.push(RawFrame {
            index: i as u64,
            pts: info.rate.pts(i as u64),
            format: f.format,
            width: f.width,
            height: f.height,
            data: f.data.clone(),
            origin: f.origin.clone(),
        });
    }
    Ok((frames, info))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    if args.frames < 2 * pipeline::STEADY_AFTER as usize + 2 {
        bail!(
            "--frames {} is too few to measure a steady rate",
            args.frames
        );
    }
    let network = Arc::new(load_network(&args.model)?);
    let (frames, info) = load_frames(args.input.as_deref(), args.frames)?;
    let nms = network.nms.unwrap_or(DARKNET_NMS);
    let thresh = 0.3;

    // Sequential: every stage of a frame, then the next frame, on this thread.
    let mut runner = segment_runner(args.backend, &args.uio_name)?;
    let mut totals = [Duration::ZERO; STAGES.len()];
    let mut letterboxer = Letterboxer::default();
    let mut out = MemoryAvi::new(info.width, info.height, info.rate)?;
    let (mut rgb, mut input) = (Vec::new(), Vec::new());
    let mut timings = Timings::off();
    let stage_index = |s: Stage| STAGES.iter().position(|x| *x == s).expect("a stage");
    let seq_start = Instant::now();
    for f in &frames {
        let mut t = [Duration::ZERO; STAGES.len()];
        let t0 = Instant::now();
        let raw = f.data.clone();
        t[stage_index(Stage::Capture)] = t0.elapsed();

        let t0 = Instant::now();
        let (w, h) = preprocess::to_rgb(f.format, f.width, f.height, &raw, &mut rgb)
            .map_err(|m| anyhow::anyhow!("{}: {m}", f.origin))?;
        letterboxer.run_rgb8(
            w,
            h,
            &rgb,
            network.width,
            network.height,
            network.resize,
            &mut input,
        );
        t[stage_index(Stage::Preprocess)] = t0.elapsed();

        let tensor = Tensor {
            channels: 3,
            height: network.height,
            width: network.width,
            data: std::mem::take(&mut input),
        };
        let mut timed = TimedRunner {
            inner: runner.as_mut(),
            calls: Vec::new(),
        };
        let t0 = Instant::now();
        let heads = network.forward(&tensor, &mut timed, &mut timings)?;
        let total = t0.elapsed();
        input = tensor.data;
        let front = timed.calls.first().map_or(total, |(c, _)| *c - t0);
        let accel: Duration = timed.calls.iter().map(|(_, d)| *d).sum();
        t[stage_index(Stage::CpuFront)] = front;
        t[stage_index(Stage::Accel)] = accel;
        t[stage_index(Stage::CpuBack)] = total.saturating_sub(front + accel);

        let t0 = Instant::now();
        let found = network.decode(&heads, w, h, thresh, nms)?;
        t[stage_index(Stage::Postprocess)] = t0.elapsed();

        let t0 = Instant::now();
        let mut img = image::RgbImage::from_raw(w as u32, h as u32, std::mem::take(&mut rgb))
            .context("an RGB buffer of the wrong size")?;
        annotate::annotate(&mut img, &found, network.names.len());
        rgb = img.into_raw();
        t[stage_index(Stage::Annotate)] = t0.elapsed();

        let t0 = Instant::now();
        encode_jpeg(&rgb, w, h, &mut out.jpeg)?;
        out.writer.write_frame(&out.jpeg)?;
        t[stage_index(Stage::Output)] = t0.elapsed();

        for (total, d) in totals.iter_mut().zip(t) {
            *total += d;
        }
    }
    let seq_elapsed = seq_start.elapsed();
    let n = frames.len() as u32;
    let mean: Vec<Duration> = totals.iter().map(|d| *d / n).collect();

    // Pipelined: the same frames through the threads.
    let report = pipelined(
        network.clone(),
        frames,
        &info,
        segment_runner(args.backend, &args.uio_name)?,
        args.workers,
    )?;

    // The bound: each thread is a stage; the float layers are shared by the workers.
    let cpu_layers = (mean[stage_index(Stage::CpuFront)] + mean[stage_index(Stage::CpuBack)])
        / args.workers.max(1) as u32;
    let mut bound_stages: Vec<(String, Duration)> = STAGES
        .iter()
        .filter(|s| !matches!(s, Stage::CpuFront | Stage::CpuBack))
        .map(|s| (s.name().to_string(), mean[stage_index(*s)]))
        .collect();
    bound_stages.push((format!("cpu layers /{}", args.workers), cpu_layers));
    let (slow_name, slow) = bound_stages
        .iter()
        .max_by_key(|(_, d)| *d)
        .cloned()
        .expect("stages");
    let sum: Duration = mean.iter().sum();

    println!(
        "bench-pipeline: {} frames of {}x{} ({}), backend {:?}, {} CPU workers, {} cores",
        n,
        info.width,
        info.height,
        info.name,
        args.backend,
        args.workers,
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    println!(
        "  {:<14} {:>14} {:>16}",
        "stage", "alone ms/frame", "in pipeline p50"
    );
    for (i, s) in STAGES.iter().enumerate() {
        let in_pipe = report
            .stages
            .iter()
            .find(|(x, _)| x == s)
            .map_or(Duration::ZERO, |(_, h)| h.quantile(0.5));
        println!(
            "  {:<14} {:>14.2} {:>16.2}",
            s.name(),
            ms(mean[i]),
            ms(in_pipe)
        );
    }
    let fps = |d: Duration| 1.0 / d.as_secs_f64();
    let bound = fps(slow);
    let piped = report.steady_throughput().unwrap_or(report.throughput());
    println!(
        "sequential (sum of stages)   {:>8.2} ms/frame  {:>6.2} frames/s  (measured {:.2})",
        ms(sum),
        fps(sum),
        f64::from(n) / seq_elapsed.as_secs_f64()
    );
    println!(
        "slowest stage ({slow_name:<11})  {:>8.2} ms/frame  {:>6.2} frames/s  = the pipeline's bound",
        ms(slow),
        bound
    );
    println!(
        "pipeline                     {:>8.2} ms/frame  {:>6.2} frames/s  = {:.1}% of the bound, {:.2}x sequential",
        1e3 / piped,
        piped,
        100.0 * piped / bound,
        piped / fps(sum)
    );
    if let Some(path) = &args.json {
        let json = BenchPipelineJson {
            kind: "bench-pipeline".into(),
            model: network.name.clone(),
            input: info.name.clone(),
            frames: n as usize,
            workers: args.workers,
            backend: format!("{:?}", args.backend).to_lowercase(),
            stages: STAGES
                .iter()
                .enumerate()
                .map(|(i, s)| StageJson {
                    stage: s.name().to_string(),
                    alone_ms: ms(mean[i]),
                    pipeline_p50_ms: report
                        .stages
                        .iter()
                        .find(|(x, _)| x == s)
                        .map_or(0.0, |(_, h)| ms(h.quantile(0.5))),
                })
                .collect(),
            sequential_fps: fps(sum),
            bound_fps: bound,
            pipeline_fps: piped,
            timeline: TimelineJson::of(&report),
        };
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `frames` through the threaded pipeline (thresh 0.3, an in-memory MJPEG AVI as output).
pub fn pipelined(
    network: Arc<Network>,
    frames: Vec<RawFrame>,
    info: &SourceInfo,
    runner: Box<dyn SegmentRunner + Send>,
    workers: usize,
) -> Result<Report> {
    let nms = network.nms.unwrap_or(DARKNET_NMS);
    let source = Box::new(MemorySource {
        frames,
        next: 0,
        info: info.clone(),
    });
    let sink = Box::new(MemoryAvi::new(info.width, info.height, info.rate)?);
    let cfg = Config {
        thresh: 0.3,
        nms,
        workers,
        ..Config::default()
    };
    let outcome = pipeline::run(
        network,
        source,
        vec![sink],
        runner,
        &cfg,
        Arc::new(AtomicBool::new(false)),
    );
    match outcome.error {
        Some(e) => Err(e),
        None => Ok(outcome.report),
    }
}
