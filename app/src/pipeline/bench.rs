//! The pipeline measured: frames held in memory (disk reads are not measured) run once stage
//! after stage on one thread, each stage timed alone, and once through the threads. Both use
//! the very same stage types, so the two measure the same work.

use super::frame::{Stage, STAGES};
use super::pool::Ticket;
use super::stages::annotate::Annotate;
use super::stages::capture::Capture;
use super::stages::infer::{Infer, LocalRunner};
use super::stages::output::Output;
use super::stages::postprocess::Postprocess;
use super::stages::preprocess::Preprocess;
use super::stages::{Process, Processed, Shared};
use super::stats::Report;
use super::{Config, Frame};
use crate::media::sink::avi::AviWriter;
use crate::media::sink::{encode_jpeg, JsonSink, OutputFrame, Sink};
use crate::media::source::memory::{synthetic_clip, MemorySource};
use crate::media::source::{self, Rate, RawFrame, SourceInfo, SourceOptions};
use crate::options::nms_for;
use anyhow::{bail, Result};
use darknet_port::network::{Network, SegmentRunner};
use darknet_port::parallel::{self, Workers};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The detection threshold of the measured runs.
pub const BENCH_THRESH: f32 = 0.3;

/// The output stage's work without the disk: an MJPEG AVI in memory.
pub struct MemoryAvi {
    writer: AviWriter<Cursor<Vec<u8>>>,
    jpeg: Vec<u8>,
}

impl MemoryAvi {
    pub fn new(w: usize, h: usize, rate: Rate) -> Result<MemoryAvi> {
        Ok(MemoryAvi {
            writer: AviWriter::new(Cursor::new(Vec::new()), w as u32, h as u32, rate)?,
            jpeg: Vec::new(),
        })
    }
}

impl Sink for MemoryAvi {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        encode_jpeg(frame.rgb, frame.width, frame.height, &mut self.jpeg)?;
        Ok(self.writer.write_frame(&self.jpeg)?)
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
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
        None => synthetic_clip(count)?,
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

/// What the stage-after-stage run measured.
pub struct Sequential {
    /// Mean time of each stage of `STAGES`, per frame.
    pub mean: Vec<Duration>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Sequential {
    pub fn of(&self, stage: Stage) -> Duration {
        stage.index().map_or(Duration::ZERO, |i| self.mean[i])
    }
}

/// A stage whose layers split their work over `workers` (the pipeline's workers run their
/// frames' binarized segments on their own thread alone: so does their stage here).
struct SplitOver<P> {
    stage: P,
    workers: &'static dyn Workers,
}

impl<P: Process> Process for SplitOver<P> {
    fn process(&mut self, frame: Frame) -> Result<Processed> {
        parallel::with_workers(self.workers, || self.stage.process(frame))
    }
}

/// `frames` stage after stage on this thread, into an in-memory MJPEG AVI: every stage of a
/// frame, then the next frame. The network's stage splits its work as it does in the pipeline
/// ([`super::workers_for`]): over the workers lent to this thread when an accelerator thread
/// runs the segments, on one thread when each worker runs its own.
pub fn sequential(
    network: Arc<Network>,
    frames: Vec<RawFrame>,
    info: &SourceInfo,
    runner: Box<dyn SegmentRunner + Send>,
) -> Result<Sequential> {
    let n = frames.len().max(1) as u32;
    // one frame at a time: it is recycled before the next is read
    let shared = Arc::new(Shared::new(Arc::new(AtomicBool::new(false)), 1));
    let source = Box::new(MemorySource::new(frames, info.clone()));
    let sink = Box::new(MemoryAvi::new(info.width, info.height, info.rate)?);
    let mut capture = Capture::new(source, shared.clone(), false);
    let nms = nms_for(None, &network);
    let workers = super::workers_for(&*runner, 1).1.frame_workers();
    let infer = Infer::new(network.clone(), LocalRunner::new(runner), shared.clone());
    let mut stages: Vec<Box<dyn Process>> = vec![
        Box::new(Preprocess::new(network.clone(), shared.clone(), false)),
        Box::new(SplitOver {
            stage: infer,
            workers,
        }),
        Box::new(Postprocess::new(network.clone(), BENCH_THRESH, nms)),
        Box::new(Annotate::new(network.names.len(), true)),
        Box::new(Output::new(vec![sink])),
    ];
    let mut totals = [Duration::ZERO; STAGES.len()];
    let start = Instant::now();
    'frames: while let Some(mut frame) = capture.read_frame(Ticket::unbudgeted())? {
        for stage in stages.iter_mut() {
            frame = match stage.process(frame)? {
                Processed::Forward(frame) => frame,
                Processed::Consumed | Processed::Stop => continue 'frames,
            };
        }
        for (total, took) in totals.iter_mut().zip(frame.times) {
            *total += took;
        }
        shared.recycle(frame);
    }
    Ok(Sequential {
        mean: totals.iter().map(|d| *d / n).collect(),
        elapsed: start.elapsed(),
    })
}

/// What the measured pipeline writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchOutput {
    /// Annotated frames into an MJPEG AVI in memory.
    AnnotatedVideo,
    /// Only the detections, as JSON lines thrown away (`run --output none --json FILE`).
    Detections,
}

/// `frames` through the threaded pipeline into `output`.
pub fn pipelined(
    network: Arc<Network>,
    frames: Vec<RawFrame>,
    info: &SourceInfo,
    runner: Box<dyn SegmentRunner + Send>,
    workers: usize,
    output: BenchOutput,
) -> Result<Report> {
    let nms = nms_for(None, &network);
    let source = Box::new(MemorySource::new(frames, info.clone()));
    let sink: Box<dyn Sink> = match output {
        BenchOutput::AnnotatedVideo => {
            Box::new(MemoryAvi::new(info.width, info.height, info.rate)?)
        }
        BenchOutput::Detections => Box::new(JsonSink::to_writer(
            Path::new("(detections)"),
            Box::new(std::io::sink()),
        )),
    };
    let cfg = Config {
        thresh: BENCH_THRESH,
        nms,
        workers,
        annotate: output == BenchOutput::AnnotatedVideo,
        ..Config::default()
    };
    let outcome = super::run(
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
