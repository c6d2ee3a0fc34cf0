//! The real-time pipeline: frames from a camera or a recording through the network to
//! annotated frames and detections, each stage on its own thread.
//!
//! ```text
//! capture -> preprocess -> CPU layers (2 workers) <-> accelerator -> postprocess -> annotate -> output
//! ```
//!
//! With a runner that owns no device (the CPU kernels) there is no accelerator thread: each
//! worker runs its frames' binarized layers itself, one worker for each core lent
//! ([`workers_for`]).
//!
//! Stages are joined by bounded channels, so a slow stage holds the ones before it back
//! instead of letting queues grow. A live source (a camera, or a replay with `--realtime`)
//! must not wait: when the first queue is full, capture drops the oldest queued frame (counted)
//! so that what is processed is always the newest picture. A frame is read only once it has a
//! place in a fixed budget of frames in flight ([`frames_in_flight`]), and its buffers go back
//! to pools of that size when a stage is done with them: however the stages' speeds vary over
//! a long run, the frame buffers are allocated in the first frames and never again.
//!
//! A stage that fails ends its thread; the stages after it finish the frames they already have
//! and the output is closed properly, so files stay valid up to the last frame written.
//!
//! The stages' work is in [`stages`], one type each; this module only wires them to threads
//! and channels. [`bench`] runs the same stages one after another, to time them alone.

pub mod bench;
pub mod frame;
pub mod pool;
pub mod stages;
pub mod stats;

pub use frame::{Frame, Stage, STAGES};
pub use stats::STEADY_AFTER;

use crate::heap;
use crate::media::sink::Sink;
use crate::media::source::Source;
use anyhow::{anyhow, Result};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use darknet_port::network::{Network, SegmentRunner};
use indicatif::ProgressBar;
use pool::Ticket;
use stages::annotate::Annotate;
use stages::capture::Capture;
use stages::infer::{self, Infer, LocalRunner, RemoteRunner};
use stages::output::Output;
use stages::postprocess::{InOrder, Postprocess};
use stages::preprocess::Preprocess;
use stages::{run_stage, Process, Processed, Shared};
use stats::{Report, Tally};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

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
    /// CPU worker threads for the float layers (at least; see [`workers_for`]).
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

/// Where a run's binarized segments run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segments {
    /// In each CPU worker, on its own frame: a runner with no device (the CPU kernels) is
    /// duplicated, and the cores work on whole frames at once, none waiting for another to
    /// finish its half of a layer.
    InWorkers,
    /// On one accelerator thread that owns the runner (the PL engine, its model, the RTL), fed
    /// by the workers.
    OnAccelerator,
}

impl Segments {
    /// The workers one frame's segments split their work over: the ones lent to this thread
    /// (the accelerator thread gets them), or none when each worker runs its own frame's.
    pub fn frame_workers(self) -> &'static dyn darknet_port::parallel::Workers {
        match self {
            Segments::InWorkers => &darknet_port::parallel::Serial,
            Segments::OnAccelerator => darknet_port::parallel::active(),
        }
    }
}

/// The CPU workers a run with `runner` has and where its segments go: one worker for each
/// core lent to the caller (`--threads`) when they run in the workers, at least `workers`.
pub fn workers_for(runner: &dyn SegmentRunner, workers: usize) -> (usize, Segments) {
    match runner.duplicate() {
        Some(_) => {
            let cores = darknet_port::parallel::active().count();
            (workers.max(cores).max(1), Segments::InWorkers)
        }
        None => (workers.max(1), Segments::OnAccelerator),
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

/// How often a run hands the allocator's free memory back (see `heap::release_free_memory`).
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(10);

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

/// Spawns a thread running `stage` over `input` into `output`.
fn spawn_stage(
    name: &str,
    shared: &Arc<Shared>,
    mut stage: impl Process + 'static,
    input: impl IntoIterator<Item = Frame> + Send + 'static,
    output: Sender<Frame>,
) -> thread::JoinHandle<Result<()>> {
    spawn(name, shared, move || run_stage(&mut stage, input, &output))
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
    source: Box<dyn Source>,
    sinks: Vec<Box<dyn Sink>>,
    runner: Box<dyn SegmentRunner + Send>,
    cfg: &Config,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let info = source.info().clone();
    let live = info.live || cfg.realtime;
    // A live source keeps queues short: a frame waiting is a frame getting old.
    let depth = if live { 1 } else { 2 };
    let (workers, segments) = workers_for(&*runner, cfg.workers);
    let shared = Arc::new(Shared::new(stop, frames_in_flight(workers)));
    let start = Instant::now();
    let progress = progress_bar(cfg, &info);

    let (cap_tx, cap_rx) = bounded::<Frame>(depth);
    let (pre_tx, pre_rx) = bounded::<Frame>(depth);
    let (work_tx, work_rx) = bounded::<Frame>(depth + workers);
    let (post_tx, post_rx) = bounded::<Frame>(depth);
    let (ann_tx, ann_rx) = bounded::<Frame>(depth);
    let (acc_tx, acc_rx) = bounded::<infer::AccelRequest>(workers);

    // Only a live capture holds a receiver of its own queue (to drop the oldest frame): a
    // lossless one must see the queue close when preprocessing stops.
    let capture = Capture::new(source, shared.clone(), cfg.realtime);
    let queue = live.then(|| cap_rx.clone());
    let capture = {
        let (shared2, max_frames) = (shared.clone(), cfg.max_frames);
        spawn("capture", &shared, move || {
            capture_loop(capture, &shared2, max_frames, &cap_tx, queue.as_ref())
        })
    };
    let preprocess = Preprocess::new(network.clone(), shared.clone(), info.live);
    let preprocess = spawn_stage("preprocess", &shared, preprocess, cap_rx, pre_tx);
    let mut own_runners: Vec<_> = match segments {
        Segments::InWorkers => (0..workers).filter_map(|_| runner.duplicate()).collect(),
        Segments::OnAccelerator => Vec::new(),
    };
    // The accelerator thread, where there is one, gets the workers lent to the caller
    // (`--threads`) for a runner that would split a segment over them; the PL engine does not
    // use them.
    let lent = darknet_port::parallel::active();
    let accel = (segments == Segments::OnAccelerator).then(|| {
        let network = network.clone();
        spawn("accelerator", &shared, move || {
            darknet_port::parallel::with_workers(lent, || infer::serve(network, runner, acc_rx))
        })
    });
    let cpu_workers: Vec<_> = (0..workers)
        .map(|i| {
            let name = format!("cpu-layers-{i}");
            let (input, output) = (pre_rx.clone(), work_tx.clone());
            match own_runners.pop() {
                Some(own) => {
                    let stage = Infer::new(network.clone(), LocalRunner::new(own), shared.clone());
                    spawn_stage(&name, &shared, stage, input, output)
                }
                None => {
                    let remote = RemoteRunner::new(acc_tx.clone());
                    let stage = Infer::new(network.clone(), remote, shared.clone());
                    spawn_stage(&name, &shared, stage, input, output)
                }
            }
        })
        .collect();
    drop((pre_rx, work_tx, acc_tx));
    let postprocess = Postprocess::new(network.clone(), cfg.thresh, cfg.nms);
    let postprocess = spawn_stage(
        "postprocess",
        &shared,
        postprocess,
        InOrder::new(work_rx.into_iter()),
        post_tx,
    );
    let annotate = Annotate::new(network.names.len(), cfg.annotate);
    let annotate = spawn_stage("annotate", &shared, annotate, post_rx, ann_tx);
    let output = {
        let (shared2, every, progress) = (shared.clone(), cfg.stats_every, progress.clone());
        let output = Output::new(sinks);
        spawn("output", &shared, move || {
            Ok(output_loop(
                output, ann_rx, &shared2, start, every, &progress,
            ))
        })
    };

    // Join in pipeline order; the first failure is the one to report (the ones after it are
    // consequences, and those before it would have been reported first).
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let interrupted = joined(capture, "capture").unwrap_or_else(|e| {
        errors.push(e);
        false
    });
    errors.extend(joined(preprocess, "preprocess").err());
    let accel_result = accel.map(|accel| joined(accel, "accelerator"));
    for (i, worker) in cpu_workers.into_iter().enumerate() {
        errors.extend(joined(worker, &format!("cpu-layers-{i}")).err());
    }
    errors.extend(accel_result.and_then(Result::err));
    errors.extend(joined(postprocess, "postprocess").err());
    errors.extend(joined(annotate, "annotate").err());
    let tally = match joined(output, "output") {
        Ok((tally, failure)) => {
            errors.extend(failure);
            tally
        }
        Err(e) => {
            errors.push(e);
            Tally::new(start)
        }
    };
    progress.finish_and_clear();
    let report = tally.report(
        shared.frames_in(),
        shared.dropped(),
        shared.buffers_allocated(),
    );
    Outcome {
        report,
        error: errors.into_iter().next(),
        interrupted,
    }
}

/// A progress bar for a replay of known length shown on a terminal, else a hidden one.
fn progress_bar(cfg: &Config, info: &crate::media::source::SourceInfo) -> ProgressBar {
    match (cfg.progress && !info.live, info.frames) {
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
    }
}

/// The most frames alive at once in a run with `workers` CPU workers: the workers' frames, as
/// many again getting ready for them (being read, decoded, queued), and four for the stages
/// after them (putting back in order, decoding the boxes, drawing, writing). The accelerator
/// (through the workers) is the slowest stage, so this keeps it fed; the queues' other places
/// are slack for jitter, not room for more frames. A replay from a file, whose capture is
/// always ahead, keeps every place taken: its frame buffers are all allocated in the first
/// frames.
pub fn frames_in_flight(workers: usize) -> usize {
    2 * workers + 4
}

/// The capture thread: frames from the source until it ends, `max_frames` were read, or the
/// run stops. A frame is read once it has a place in the budget of frames in flight: a
/// lossless capture waits for one; a live capture (`queue` given) makes one by dropping the
/// oldest queued frame, and when every frame in flight is past the queue it reads the camera's
/// frame all the same and drops it (counted), so that the next frame it keeps is current.
/// Returns whether the stop flag ended it.
fn capture_loop(
    mut capture: Capture,
    shared: &Shared,
    max_frames: Option<u64>,
    tx: &Sender<Frame>,
    queue: Option<&Receiver<Frame>>,
) -> Result<bool> {
    loop {
        if shared.stopping() {
            return Ok(shared.stop.load(Ordering::Relaxed));
        }
        if max_frames.is_some_and(|m| shared.frames_in() >= m) {
            return Ok(false);
        }
        let ticket = match queue {
            None => match shared.budget.take(|| shared.stopping()) {
                Some(ticket) => Some(ticket),
                // the loop's first check says why
                None => continue,
            },
            Some(queue) => shared.budget.try_take().or_else(|| {
                shared.discard(queue.try_recv().ok()?);
                shared.budget.try_take()
            }),
        };
        // none: a live capture whose frames in flight are all past its queue
        let kept = ticket.is_some();
        let frame = match capture.read_frame(ticket.unwrap_or_else(Ticket::unbudgeted)) {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(false),
            // a read cut short by Ctrl-C is the end asked for, not a failure
            Err(_) if shared.stop.load(Ordering::Relaxed) => return Ok(true),
            Err(e) => return Err(e),
        };
        shared.frames_in.fetch_add(1, Ordering::Relaxed);
        if !kept {
            shared.discard(frame);
            continue;
        }
        let sent = match queue {
            Some(queue) => send_dropping_oldest(tx, queue, frame, |old| shared.discard(old)),
            None => tx.send(frame).is_ok(),
        };
        if !sent {
            return Ok(false);
        }
    }
}

/// The output thread: every frame to the sinks and into the tally. After a sink fails, the
/// frames still in flight are drained and discarded; every sink is finished in any case.
fn output_loop(
    mut output: Output,
    frames: Receiver<Frame>,
    shared: &Shared,
    start: Instant,
    stats_every: Option<Duration>,
    progress: &ProgressBar,
) -> (Tally, Option<anyhow::Error>) {
    let mut tally = Tally::new(start);
    let mut failure = None;
    let mut last_stats = Instant::now();
    let mut last_trim = Instant::now();
    for frame in frames {
        if failure.is_some() {
            shared.recycle(frame);
            continue;
        }
        let frame = match output.process(frame) {
            Ok(Processed::Forward(frame)) => frame,
            Ok(_) => continue,
            Err(e) => {
                failure = Some(e);
                // stop reading; the frames in flight are drained and discarded
                shared.halt.store(true, Ordering::Relaxed);
                continue;
            }
        };
        tally.record(&frame);
        progress.inc(1);
        shared.recycle(frame);
        if last_trim.elapsed() >= RELEASE_MEMORY_EVERY {
            last_trim = Instant::now();
            heap::release_free_memory();
        }
        if stats_every.is_some_and(|every| last_stats.elapsed() >= every) {
            last_stats = Instant::now();
            let line = tally.progress_line(
                shared.frames_in(),
                shared.dropped(),
                shared.buffers_allocated(),
            );
            if progress.is_hidden() {
                eprintln!("{line}");
            } else {
                progress.println(line);
            }
        }
    }
    if let Err(e) = output.finish() {
        failure.get_or_insert(e);
    }
    (tally, failure)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::options::ModelArgs;

    /// The built-in model, as `zynqdet` loads it without options.
    pub fn builtin_network() -> Network {
        ModelArgs::default().load().unwrap()
    }

    /// A sink that stalls on its first frame (a slow disk), so that frames pile up in front
    /// of it.
    struct StallingSink {
        written: Arc<std::sync::atomic::AtomicU64>,
    }

    impl Sink for StallingSink {
        fn write(&mut self, _: &crate::media::sink::OutputFrame) -> Result<()> {
            if self.written.load(Ordering::Relaxed) == 0 {
                thread::sleep(Duration::from_secs(4));
            }
            self.written.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn finish(&mut self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_output_holds_capture_back_to_the_budget_of_frames_in_flight() {
        let network = Arc::new(builtin_network());
        let (frames, info) = crate::media::source::memory::synthetic_clip(24).unwrap();
        let source = Box::new(crate::media::source::memory::MemorySource::new(
            frames, info,
        ));
        let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let sink = Box::new(StallingSink {
            written: written.clone(),
        });
        let runner: Box<dyn SegmentRunner + Send> = Box::new(darknet_port::network::CpuRunner);
        let cfg = Config::default();
        let outcome = run(
            network,
            source,
            vec![sink],
            runner,
            &cfg,
            Arc::new(AtomicBool::new(false)),
        );
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let r = &outcome.report;
        assert_eq!((r.frames_in, r.frames_out, r.dropped), (24, 24, 0));
        assert_eq!(written.load(Ordering::Relaxed), 24);
        // At most the budget's frames ever exist, each with an input and a picture buffer;
        // the raw buffers go back at preprocessing, so at most 4 exist (one being read, two
        // queued, one being decoded). Without the budget the queues in front of the stalled
        // sink hold more frames than this (28 buffers when this test was written).
        let budget = 8;
        assert_eq!(frames_in_flight(cfg.workers), budget);
        assert!(
            r.buffers_allocated <= 2 * budget + 4,
            "{} frame buffers for a budget of {budget} frames",
            r.buffers_allocated
        );
    }

    /// A frame's number and its detections: class, and the bits of the probability and box.
    type Written = (u64, Vec<(usize, u32, [u32; 4])>);

    /// Each frame's detections, in the order written.
    struct Collect(Arc<std::sync::Mutex<Vec<Written>>>);

    impl Sink for Collect {
        fn write(&mut self, frame: &crate::media::sink::OutputFrame) -> Result<()> {
            let found = frame.found.iter();
            let bits = found.map(|f| (f.class_id, f.prob.to_bits(), f.bbox.map(f32::to_bits)));
            self.0.lock().unwrap().push((frame.index, bits.collect()));
            Ok(())
        }
        fn finish(&mut self) -> Result<()> {
            Ok(())
        }
    }

    /// The CPU kernels, but not duplicable: the segments go to the accelerator thread.
    struct OneCpu;

    impl SegmentRunner for OneCpu {
        fn run(
            &mut self,
            segment: &darknet_port::network::Segment,
            input: darknet_port::layers::QTensor,
            timings: &mut darknet_port::network::Timings,
        ) -> darknet_port::Result<darknet_port::layers::QTensor> {
            darknet_port::network::CpuRunner.run(segment, input, timings)
        }
    }

    #[test]
    fn segments_in_the_workers_or_on_the_accelerator_give_the_same_detections() {
        let network = Arc::new(builtin_network());
        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples");
        let (frames, info) = bench::load_frames(Some(samples), 6).unwrap();
        let cpu: Box<dyn SegmentRunner + Send> = Box::new(darknet_port::network::CpuRunner);
        let one: Box<dyn SegmentRunner + Send> = Box::new(OneCpu);
        // three cores lent: the CPU kernels run in three workers, the other in the two asked
        let lent = crate::workers::started_threads(3);
        let plans = darknet_port::parallel::with_workers(lent, || {
            [workers_for(&*cpu, 2), workers_for(&*one, 2)]
        });
        assert_eq!(
            plans,
            [(3, Segments::InWorkers), (2, Segments::OnAccelerator)]
        );
        let mut outputs = Vec::new();
        for runner in [cpu, one] {
            let written = Arc::new(std::sync::Mutex::new(Vec::new()));
            let source = Box::new(crate::media::source::memory::MemorySource::new(
                frames.clone(),
                info.clone(),
            ));
            let outcome = darknet_port::parallel::with_workers(lent, || {
                let sink = Box::new(Collect(written.clone()));
                let cfg = Config::default();
                run(
                    network.clone(),
                    source,
                    vec![sink],
                    runner,
                    &cfg,
                    Arc::default(),
                )
            });
            assert!(outcome.error.is_none(), "{:?}", outcome.error);
            let written = std::mem::take(&mut *written.lock().unwrap());
            assert_eq!(written.len(), 6);
            outputs.push(written);
        }
        assert!(outputs[0].iter().all(|(_, found)| !found.is_empty()));
        assert_eq!(outputs[0], outputs[1]);
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
