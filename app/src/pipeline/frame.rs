//! A frame on its way through the pipeline, and the stages that time it.

use super::pool::Ticket;
use crate::media::pixels::PixelFormat;
use crate::media::sink::OutputFrame;
use darknet_port::network::{Found, Heads};
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

    /// The stage's position in `STAGES` (`EndToEnd` has none).
    pub fn index(self) -> Option<usize> {
        STAGES.iter().position(|s| *s == self)
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
    /// The frame's place among the frames in flight, freed when the frame is dropped.
    pub ticket: Ticket,
}

impl Frame {
    /// Records that `stage` ended now, after working `took` on this frame.
    pub fn timed(&mut self, stage: Stage, took: Duration) {
        let i = stage.index().expect("a pipeline stage");
        self.ends[i] = Some(Instant::now());
        self.times[i] = took;
    }

    /// The frame as the outputs see it.
    pub fn output(&self) -> OutputFrame<'_> {
        OutputFrame {
            index: self.index,
            pts: self.pts,
            width: self.width,
            height: self.height,
            rgb: &self.rgb,
            found: &self.found,
        }
    }
}
