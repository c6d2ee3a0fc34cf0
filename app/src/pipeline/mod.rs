//! The real-time pipeline: frames from a camera or a recording through the network to
//! annotated frames and detections, each stage on its own thread.
//!
//! ```text
//! capture -> preprocess -> CPU layers (2 workers) <-> accelerator -> postprocess -> annotate -> output
//! ```
//!
//! Stages are joined by bounded channels, so a slow stage holds the ones before it back
//! instead of letting queues grow. A live source (a camera, or a replay with `--realtime`)
//! must not wait: when the first queue is full, capture drops the oldest queued frame (counted)
//! so that what is processed is always the newest picture. Frame buffers go back to pools when
//! a stage is done with them.
//!
//! A stage that fails ends its thread; the stages after it finish the frames they already have
//! and the output is closed properly, so files stay valid up to the last frame written.

pub mod error;
pub mod infer;
pub mod pixels;
pub mod pool;
pub mod preprocess;
pub mod sink;
pub mod source;
pub mod stats;

use crate::annotate;
use anyhow::{anyhow, Context, Result};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use darknet_port::image_input::Letterboxer;
use darknet_port::network::{Found, Heads, Network, SegmentRunner};
use indicatif::ProgressBar;
use pixels::PixelFormat;
use pool::Pool;
use sink::Sink;
use source::{RawFrame, Source};
use stats::{Histogram, Report};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The stages, in pipeline order (`EndToEnd` names the whole for reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Capture,
    Preprocess,
    CpuFront,
    Accel,
    CpuBack,
    Postprocess,
    Annotate,
    Output,
    EndToEnd,
}

pub const STAGES: [Stage; 8] = [
    Stage::Capture,
    Stage::Preprocess,
    Stage::CpuFront,
    Stage::Accel,
    Stage::CpuBack,
    Stage::Postprocess,
    Stage::Annotate,
    Stage::Output,
];

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Capture => "capture",
            Stage::Preprocess => "preprocess",
            Stage::CpuFront => "cpu-front",
            Stage::Accel => "accelerator",
            Stage::CpuBack => "cpu-back",
            Stage::Postprocess => "postprocess",
            Stage::Annotate => "annotate",
            Stage::Output => "output",
            Stage::EndToEnd => "end-to-end",
        }
    }
}

/// A frame on its way through the pipeline; each stage fills in its part.
pub struct Frame {
    /// Position among the frames that entered preprocessing (consecutive).
    pub seq: u64,
    /// The source's frame number (gaps where frames were dropped).
    pub index: u64,
    /// Time of the frame in the recording, or since the camera's first frame.
    pub pts: Duration,
    pub captured: Instant,
    pub format: PixelFormat,
    pub width: usize,
    pub height: usize,
    /// Where the frame came from, for error messages (a file, an offset).
    pub origin: String,
    pub raw: Vec<u8>,
    /// The picture as interleaved RGB, `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// The letterboxed network input, planar.
    pub input: Vec<f32>,
    pub heads: Option<Heads>,
    pub found: Vec<Found>,
    /// Processing time of each stage of `STAGES`.
    pub times: [Duration; STAGES.len()],
    /// When each stage set its time: with the times, the frame's timeline.
    pub ends: [Option<Instant>; STAGES.len()],
}

impl Frame {
    fn time(&mut self, stage: Stage) -> &mut Duration {
        let i = STAGES
            .iter()
            .position(|s| *s == stage)
            .expect("a pipeline stage");
        // `*frame.time(s) = d` evaluates `d` first: this is the stage's end
        self.ends[i] = Some(Instant::now());
        &mut self.times[i]
    }
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Config {
    pub thresh: f32,
    pub nms: f32,
    /// Pace a recording at its frame rate, dropping frames when behind, as a camera would.
    pub realtime: bool,
    /// Stop after this many frames captured.
    pub max_frames: Option<u64>,
    /// Draw the detections onto the frames (not needed when only detections are written).
    pub annotate: bool,
    /// CPU worker threads for the float layers.
    pub workers: usize,
    /// Print the statistics this often.
    pub stats_every: Option<Duration>,
    /// Show a progress bar (replays of known length, on a terminal).
    pub progress: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            thresh: 0.3,
            nms: 0.3,
            realtime: false,
            max_frames: None,
            annotate: true,
            workers: 2,
            stats_every: None,
            progress: false,
        }
    }
}

/// How a run ended.
pub struct Outcome {
    pub report: Report,
    /// The first failure, in pipeline order.
    pub error: Option<anyhow::Error>,
    /// Stopped by the stop flag (Ctrl-C) before the source ended.
    pub interrupted: bool,
}

/// Sends `item`, first dropping the oldest queued item when the queue is full, so that a live
/// source never waits for the pipeline. `queue` is a receiver of the same channel. Returns false
/// when the receiving stage has gone.
pub fn send_dropping_oldest<T>(
    tx: &Sender<T>,
    queue: &Receiver<T>,
    item: T,
    mut on_drop: impl FnMut(T),
) -> bool {
    match tx.try_send(item) {
        Ok(()) => true,
        Err(TrySendError::Disconnected(_)) => false,
        Err(TrySendError::Full(item)) => {
            if let Ok(old) = queue.try_recv() {
                on_drop(old);
            }
            tx.send(item).is_ok()
        }
    }
}

struct Shared {
    stop: Arc<AtomicBool>,
    /// Set by a stage that failed, so that capture stops reading.
    halt: AtomicBool,
    frames_in: AtomicU64,
    dropped: AtomicU64,
    raw_pool: Pool<Vec<u8>>,
    rgb_pool: Pool<Vec<u8>>,
    input_pool: Pool<Vec<f32>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.halt.load(Ordering::Relaxed)
    }

    fn recycle(&self, frame: Frame) {
        self.raw_pool.give(frame.raw);
        self.rgb_pool.give(frame.rgb);
        self.input_pool.give(frame.input);
    }
}

/// Spawns a named stage thread. Any stage that ends sets the halt flag, so that capture stops
/// reading when a stage after it stops early (a failure, or its own consumer gone); at the
/// normal end capture has stopped already.
fn spawn<T: Send + 'static>(
    name: &str,
    shared: &Arc<Shared>,
    body: impl FnOnce() -> Result<T> + Send + 'static,
) -> thread::JoinHandle<Result<T>> {
    let shared = shared.clone();
    thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = body();
            shared.halt.store(true, Ordering::Relaxed);
            result
        })
        .expect("spawning a pipeline thread")
}

fn joined<T>(handle: thread::JoinHandle<Result<T>>, name: &str) -> Result<T> {
    handle
        .join()
        .map_err(|_| anyhow!("the {name} thread panicked"))?
}

/// Runs `source` through the network into `sinks` until the source ends, `stop` is set, or a
/// stage fails. The sinks are finished (files closed validly) in every case.
pub fn run(
    network: Arc<Network>,
    mut source: Box<dyn Source>,
    mut sinks: Vec<Box<dyn Sink>>,
    runner: Box<dyn SegmentRunner + Send>,
    cfg: &Config,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let info = source.info().clone();
    let live = info.live || cfg.realtime;
    // A live source keeps queues short: a frame waiting is a frame getting old.
    let depth = if live { 1 } else { 2 };
    let shared = Arc::new(Shared {
        stop,
        halt: AtomicBool::new(false),
        frames_in: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        raw_pool: Pool::new(8),
        rgb_pool: Pool::new(16),
        input_pool: Pool::new(8),
    });
    let start = Instant::now();
    let progress = match (cfg.progress && !info.live, info.frames) {
        (true, Some(n)) => {
            let n = cfg.max_frames.map_or(n, |m| m.min(n));
            let bar = ProgressBar::new(n);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} frames  {per_sec}  eta {eta}",
                )
                .expect("a valid progress template"),
            );
            bar
        }
        _ => ProgressBar::hidden(),
    };

    let (cap_tx, cap_rx) = bounded::<Frame>(depth);
    let (pre_tx, pre_rx) = bounded::<Frame>(depth);
    let (work_tx, work_rx) = bounded::<Frame>(depth + cfg.workers);
    let (post_tx, post_rx) = bounded::<Frame>(depth);
    let (ann_tx, ann_rx) = bounded::<Frame>(depth);
    let (acc_tx, acc_rx) = bounded::<infer::AccelRequest>(cfg.workers);

    // capture
    let capture = {
        let shared = shared.clone();
        // Only a live capture holds a receiver of its own queue (to drop the oldest frame): a
        // lossless one must see the queue close when preprocessing stops.
        let queue = live.then(|| cap_rx.clone());
        let cfg = cfg.clone();
        spawn("capture", &shared.clone(), move || {
            let mut first_pts = None;
            let mut interrupted = false;
            loop {
                if shared.stopping() {
                    interrupted = shared.stop.load(Ordering::Relaxed);
                    break;
                }
                if cfg
                    .max_frames
                    .is_some_and(|m| shared.frames_in.load(Ordering::Relaxed) >= m)
                {
                    break;
                }
                let t0 = Instant::now();
                let raw = match source.next_frame(shared.raw_pool.take()) {
                    Ok(Some(raw)) => raw,
                    Ok(None) => break,
                    // a read cut short by Ctrl-C is the end asked for, not a failure
                    Err(_) if shared.stop.load(Ordering::Relaxed) => {
                        interrupted = true;
                        break;
                    }
                    Err(e) => return Err(e),
                };
                let read_time = t0.elapsed();
                if cfg.realtime {
                    // Replay at the recording's pace: frame n is due at pts(n) - pts(0).
                    let first = *first_pts.get_or_insert(raw.pts);
                    let due = start + raw.pts.saturating_sub(first);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                }
                shared.frames_in.fetch_add(1, Ordering::Relaxed);
                let mut frame = new_frame(raw, &shared);
                *frame.time(Stage::Capture) = read_time;
                let sent = if let Some(queue) = &queue {
                    send_dropping_oldest(&cap_tx, queue, frame, |old| {
                        shared.dropped.fetch_add(1, Ordering::Relaxed);
                        shared.recycle(old);
                    })
                } else {
                    cap_tx.send(frame).is_ok()
                };
                if !sent {
                    break;
                }
            }
            Ok(interrupted)
        })
    };

    // preprocess
    let preprocess = {
        let shared = shared.clone();
        let (net_w, net_h, resize) = (network.width, network.height, network.resize);
        let live = info.live;
        spawn("preprocess", &shared.clone(), move || {
            let mut letterboxer = Letterboxer::default();
            let mut seq = 0;
            for mut frame in cap_rx {
                let t0 = Instant::now();
                let mut rgb = shared.rgb_pool.take();
                match preprocess::to_rgb(
                    frame.format,
                    frame.width,
                    frame.height,
                    &frame.raw,
                    &mut rgb,
                ) {
                    Ok((w, h)) => {
                        frame.width = w;
                        frame.height = h;
                    }
                    Err(m) if live => {
                        // A camera sends the odd damaged frame; skip it, count it.
                        shared.dropped.fetch_add(1, Ordering::Relaxed);
                        eprintln!("zynqdet: warning: {}: {m} (frame skipped)", frame.origin);
                        shared.rgb_pool.give(rgb);
                        shared.recycle(frame);
                        continue;
                    }
                    Err(m) => return Err(anyhow!("{}: {m}", frame.origin)),
                }
                shared.raw_pool.give(std::mem::take(&mut frame.raw));
                frame.rgb = rgb;
                letterboxer.run_rgb8(
                    frame.width,
                    frame.height,
                    &frame.rgb,
                    net_w,
                    net_h,
                    resize,
                    &mut frame.input,
                );
                frame.seq = seq;
                seq += 1;
                *frame.time(Stage::Preprocess) = t0.elapsed();
                if pre_tx.send(frame).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };

    // accelerator
    let accel = {
        let network = network.clone();
        spawn("accelerator", &shared, move || {
            infer::serve(network, runner, acc_rx)
        })
    };

    // CPU workers
    let workers: Vec<_> = (0..cfg.workers.max(1))
        .map(|i| {
            let shared = shared.clone();
            let network = network.clone();
            let rx = pre_rx.clone();
            let tx = work_tx.clone();
            let mut remote = infer::RemoteRunner::new(acc_tx.clone());
            spawn(&format!("cpu-layers-{i}"), &shared.clone(), move || {
                // the stages' own clocks time the pipeline; per-layer steps are not kept
                let mut timings = darknet_port::network::Timings::off();
                for mut frame in rx {
                    remote.clear();
                    let input = darknet_port::layers::Tensor {
                        channels: 3,
                        height: network.height,
                        width: network.width,
                        data: std::mem::take(&mut frame.input),
                    };
                    let t0 = Instant::now();
                    let result = network.forward(&input, &mut remote, &mut timings);
                    let t1 = Instant::now();
                    frame.input = input.data;
                    match result {
                        Ok(heads) => frame.heads = Some(heads),
                        // the accelerator thread reports its own failure
                        Err(_) if remote.accel_gone => {
                            shared.recycle(frame);
                            return Ok(());
                        }
                        Err(e) => return Err(anyhow!("{}: {e}", frame.origin)),
                    }
                    shared.input_pool.give(std::mem::take(&mut frame.input));
                    for (stage, d) in remote.stage_times(t0, t1) {
                        *frame.time(stage) = d;
                    }
                    if tx.send(frame).is_err() {
                        break;
                    }
                }
                Ok(())
            })
        })
        .collect();
    drop((pre_rx, work_tx, acc_tx));

    // postprocess: back into capture order (the workers finish out of order), then boxes + NMS
    let postprocess = {
        let network = network.clone();
        let (thresh, nms) = (cfg.thresh, cfg.nms);
        spawn("postprocess", &shared, move || {
            let mut waiting = BTreeMap::new();
            let mut next = 0;
            let decode = |mut frame: Frame| -> Result<Frame> {
                let t0 = Instant::now();
                let heads = frame
                    .heads
                    .take()
                    .context("a frame without network output")?;
                frame.found = network
                    .decode(&heads, frame.width, frame.height, thresh, nms)
                    .with_context(|| frame.origin.clone())?;
                *frame.time(Stage::Postprocess) = t0.elapsed();
                Ok(frame)
            };
            for frame in work_rx {
                waiting.insert(frame.seq, frame);
                while let Some(frame) = waiting.remove(&next) {
                    next += 1;
                    if post_tx.send(decode(frame)?).is_err() {
                        return Ok(());
                    }
                }
            }
            // A worker that failed leaves a gap: pass on what came after it, in order.
            for (_, frame) in waiting {
                if post_tx.send(decode(frame)?).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };

    // annotate
    let annotate_thread = {
        let classes = network.names.len();
        let draw = cfg.annotate;
        spawn("annotate", &shared, move || {
            for mut frame in post_rx {
                let t0 = Instant::now();
                if draw {
                    let rgb = std::mem::take(&mut frame.rgb);
                    let mut img =
                        image::RgbImage::from_raw(frame.width as u32, frame.height as u32, rgb)
                            .context("an RGB buffer of the wrong size")?;
                    annotate::annotate(&mut img, &frame.found, classes);
                    frame.rgb = img.into_raw();
                }
                *frame.time(Stage::Annotate) = t0.elapsed();
                if ann_tx.send(frame).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };

    // output
    let output = {
        let shared = shared.clone();
        let stats_every = cfg.stats_every;
        let progress = progress.clone();
        spawn("output", &shared.clone(), move || {
            let mut stages: Vec<(Stage, Histogram)> =
                STAGES.iter().map(|s| (*s, Histogram::default())).collect();
            let mut end_to_end = Histogram::default();
            let mut timeline = Vec::new();
            let mut frames_out = 0u64;
            let mut steady_from: Option<Instant> = None;
            let mut last_out = start;
            let mut last_stats = Instant::now();
            let mut failure = None;
            for mut frame in ann_rx {
                if failure.is_some() {
                    shared.recycle(frame);
                    continue;
                }
                let t0 = Instant::now();
                for sink in sinks.iter_mut() {
                    if let Err(e) = sink.write(&frame) {
                        failure = Some(e);
                        // stop reading; the frames in flight are drained and discarded
                        shared.halt.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                if failure.is_some() {
                    shared.recycle(frame);
                    continue;
                }
                *frame.time(Stage::Output) = t0.elapsed();
                last_out = Instant::now();
                for ((_, h), d) in stages.iter_mut().zip(frame.times) {
                    h.record(d);
                }
                end_to_end.record(last_out - frame.captured);
                if timeline.len() < stats::TIMELINE_FRAMES {
                    timeline.push(stats::FrameSpans::of(&frame, start));
                }
                frames_out += 1;
                if frames_out == STEADY_AFTER {
                    steady_from = Some(last_out);
                }
                progress.inc(1);
                shared.recycle(frame);
                if let Some(every) = stats_every {
                    if last_stats.elapsed() >= every {
                        last_stats = Instant::now();
                        let line = periodic_line(&shared, frames_out, start, &stages, &end_to_end);
                        if progress.is_hidden() {
                            eprintln!("{line}");
                        } else {
                            progress.println(line);
                        }
                    }
                }
            }
            // Close every sink even after a failure: the files must stay valid.
            for sink in sinks.iter_mut() {
                if let Err(e) = sink.finish() {
                    failure.get_or_insert(e);
                }
            }
            let report = Report {
                frames_in: 0,
                frames_out,
                dropped: 0,
                elapsed: last_out - start,
                steady: steady_from.map(|t| (frames_out - STEADY_AFTER, last_out - t)),
                stages,
                end_to_end,
                buffers_allocated: 0,
                timeline,
            };
            Ok((report, failure))
        })
    };

    // Join in pipeline order; the first failure is the one to report (the ones after it are
    // consequences, and those before it would have been reported first).
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let mut interrupted = false;
    match joined(capture, "capture") {
        Ok(i) => interrupted = i,
        Err(e) => errors.push(e),
    }
    if let Err(e) = joined(preprocess, "preprocess") {
        errors.push(e);
    }
    let accel_result = joined(accel, "accelerator");
    for (i, w) in workers.into_iter().enumerate() {
        if let Err(e) = joined(w, &format!("cpu-layers-{i}")) {
            errors.push(e);
        }
    }
    if let Err(e) = accel_result {
        errors.push(e);
    }
    if let Err(e) = joined(postprocess, "postprocess") {
        errors.push(e);
    }
    if let Err(e) = joined(annotate_thread, "annotate") {
        errors.push(e);
    }
    let mut report = Report::default();
    match joined(output, "output") {
        Ok((r, failure)) => {
            report = r;
            if let Some(e) = failure {
                errors.push(e);
            }
        }
        Err(e) => errors.push(e),
    }
    progress.finish_and_clear();
    report.frames_in = shared.frames_in.load(Ordering::Relaxed);
    report.dropped = shared.dropped.load(Ordering::Relaxed);
    report.buffers_allocated =
        shared.raw_pool.created() + shared.rgb_pool.created() + shared.input_pool.created();
    Outcome {
        report,
        error: errors.into_iter().next(),
        interrupted,
    }
}

/// Frames written before the steady-state rate is measured.
pub const STEADY_AFTER: u64 = 3;

fn new_frame(raw: RawFrame, shared: &Shared) -> Frame {
    Frame {
        seq: 0,
        index: raw.index,
        pts: raw.pts,
        captured: Instant::now(),
        format: raw.format,
        width: raw.width,
        height: raw.height,
        origin: raw.origin,
        raw: raw.data,
        rgb: Vec::new(),
        input: shared.input_pool.take(),
        heads: None,
        found: Vec::new(),
        times: [Duration::ZERO; STAGES.len()],
        ends: [None; STAGES.len()],
    }
}

fn periodic_line(
    shared: &Shared,
    frames_out: u64,
    start: Instant,
    stages: &[(Stage, Histogram)],
    end_to_end: &Histogram,
) -> String {
    let secs = start.elapsed().as_secs_f64();
    let slowest = stages
        .iter()
        .max_by_key(|(_, h)| h.mean())
        .map(|(s, h)| format!("{} {:.1} ms", s.name(), h.mean().as_secs_f64() * 1e3))
        .unwrap_or_default();
    format!(
        "[{secs:6.1} s] {} in, {frames_out} out, {} dropped, {:.2} frames/s, end-to-end p50 {:.0} ms p99 {:.0} ms, slowest {slowest}",
        shared.frames_in.load(Ordering::Relaxed),
        shared.dropped.load(Ordering::Relaxed),
        frames_out as f64 / secs.max(1e-9),
        end_to_end.quantile(0.5).as_secs_f64() * 1e3,
        end_to_end.quantile(0.99).as_secs_f64() * 1e3,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clap::Parser;

    /// The built-in model, as `zynqdet` loads it without options.
    pub fn builtin_network() -> Network {
        #[derive(Parser)]
        struct Args {
            #[command(flatten)]
            model: crate::ModelArgs,
        }
        crate::model::load_network(&Args::parse_from(["test"]).model).unwrap()
    }

    #[test]
    fn dropping_oldest_keeps_the_newest_frames() {
        let (tx, rx) = bounded::<u32>(2);
        let mut dropped = Vec::new();
        for i in 0..5 {
            assert!(send_dropping_oldest(&tx, &rx, i, |old| dropped.push(old)));
        }
        assert_eq!(dropped, [0, 1, 2]);
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3, 4]);
        drop(rx);
        let (tx, rx) = bounded::<u32>(1);
        drop(rx);
        assert!(!send_dropping_oldest(&tx, &bounded(1).1, 9, |_| {}));
    }
}
