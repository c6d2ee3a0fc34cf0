//! The pipeline's stages: one type each, with the work it does to a frame. The threaded
//! pipeline runs each on its own thread ([`run_stage`]); `bench-pipeline` runs the very same
//! stages one after another on one thread, to time them alone.
//!
//! ```text
//! Capture -> Preprocess -> Infer (CPU layers <-> accelerator) -> Postprocess -> Annotate -> Output
//! ```

pub mod annotate;
pub mod capture;
pub mod infer;
pub mod output;
pub mod postprocess;
pub mod preprocess;

use super::frame::{Frame, STAGES};
use super::pool::{FrameBudget, Pool, Ticket};
use anyhow::Result;
use crossbeam_channel::Sender;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a stage did with a frame.
// A frame travels by value through every channel too; boxing it here alone would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Processed {
    /// Done: on to the next stage.
    Forward(Frame),
    /// Dropped (a damaged camera frame, counted); its buffers went back to the pools.
    Consumed,
    /// The stage cannot go on, and another thread reports why (the accelerator's).
    Stop,
}

/// The work of a stage on one frame.
pub trait Process: Send {
    fn process(&mut self, frame: Frame) -> Result<Processed>;
}

/// The loop of a stage's thread: frames from `input` through `stage` to `output`, until the
/// input ends, the next stage has gone, or the stage stops or fails.
pub fn run_stage(
    stage: &mut dyn Process,
    input: impl IntoIterator<Item = Frame>,
    output: &Sender<Frame>,
) -> Result<()> {
    for frame in input {
        match stage.process(frame)? {
            Processed::Forward(frame) => {
                if output.send(frame).is_err() {
                    break;
                }
            }
            Processed::Consumed => {}
            Processed::Stop => break,
        }
    }
    Ok(())
}

/// What the stages share: the stop flags, the counters, the budget of frames in flight and
/// the buffer pools.
pub struct Shared {
    /// Set from outside (Ctrl-C, SIGTERM).
    pub stop: Arc<AtomicBool>,
    /// Set by a stage that ended, so that capture stops reading.
    pub halt: AtomicBool,
    pub frames_in: AtomicU64,
    pub dropped: AtomicU64,
    pub budget: FrameBudget,
    pub raw_pool: Pool<Vec<u8>>,
    pub rgb_pool: Pool<Vec<u8>>,
    pub input_pool: Pool<Vec<f32>>,
}

impl Shared {
    /// Shared state of a run with at most `frames_in_flight` frames alive at once. Each pool
    /// keeps as many buffers, so none is ever freed and allocated again.
    pub fn new(stop: Arc<AtomicBool>, frames_in_flight: usize) -> Shared {
        let budget = FrameBudget::new(frames_in_flight);
        let frames = budget.frames();
        Shared {
            stop,
            halt: AtomicBool::new(false),
            frames_in: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            budget,
            raw_pool: Pool::new(frames),
            rgb_pool: Pool::new(frames),
            input_pool: Pool::new(frames),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.halt.load(Ordering::Relaxed)
    }

    /// Gives a frame's buffers back to the pools.
    pub fn recycle(&self, frame: Frame) {
        self.raw_pool.give(frame.raw);
        self.rgb_pool.give(frame.rgb);
        self.input_pool.give(frame.input);
    }

    /// Drops `frame` from the run, counted: a live source's oldest or a damaged one. Its
    /// buffers go back to the pools, its place in the budget with it.
    pub fn discard(&self, frame: Frame) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.recycle(frame);
    }

    /// Buffers the pools had to allocate.
    pub fn buffers_allocated(&self) -> usize {
        self.raw_pool.created() + self.rgb_pool.created() + self.input_pool.created()
    }

    /// Frames read from the source so far.
    pub fn frames_in(&self) -> u64 {
        self.frames_in.load(Ordering::Relaxed)
    }

    /// Frames dropped so far (a live source's oldest, or damaged ones).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A frame that has just been read, with its buffers from the pools and its place in the
/// budget.
fn new_frame(raw: crate::media::source::RawFrame, shared: &Shared, ticket: Ticket) -> Frame {
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
        ticket,
    }
}
