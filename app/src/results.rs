//! What the measuring commands write with `--json` (`eval`, `bench`, `bench-pipeline`,
//! `agreement`) and `zynqdet report` reads back: one schema, in one place; and how the CLI
//! names what it measured.

use crate::pipeline::stats::{ms, Report};
use crate::pipeline::STAGES;
use darknet_port::network::Timing;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One class's result, as written to JSON.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ClassResult {
    pub class: String,
    pub objects: usize,
    pub difficult: usize,
    pub detections: usize,
    pub ap11: f64,
    pub ap: f64,
    /// (recall, precision) along the ranking, thinned to at most a few hundred points.
    pub pr: Vec<(f64, f64)>,
}

/// What `eval --json` writes.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EvalReport {
    pub kind: String,
    pub dataset: String,
    pub model: String,
    /// The arithmetic of the float layers (and Tinier-YOLO's W1A3 middle).
    pub level: String,
    pub backend: String,
    pub threads: usize,
    pub images: usize,
    pub objects: usize,
    pub difficult: usize,
    pub skipped: usize,
    pub thresh: f32,
    pub iou: f64,
    pub map11: f64,
    pub map: f64,
    pub frame_ms_mean: f64,
    pub frame_ms_p50: f64,
    pub frame_ms_p99: f64,
    pub classes: Vec<ClassResult>,
}

/// The `q` quantile of sorted durations, in ms (nearest rank).
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    ms(sorted[rank - 1])
}

/// One measurement.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BenchRow {
    pub model: String,
    pub level: String,
    pub backend: String,
    pub threads: usize,
    /// `single` (one frame at a time), `pipeline`, `opencv-dnn` or `darknet`.
    pub mode: String,
    pub frames: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub fps: f64,
    /// Each frame's time (single frames), for histograms.
    #[serde(default)]
    pub samples_ms: Vec<f64>,
    /// Mean time of each layer (single frames).
    #[serde(default)]
    pub layers_ms: Vec<(String, f64)>,
}

/// What `bench --json` writes.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BenchJson {
    pub kind: String,
    pub input: String,
    pub cores: usize,
    pub rows: Vec<BenchRow>,
    /// What was not measured, and why.
    pub skipped: Vec<String>,
    /// The stage timeline of the last pipeline run.
    pub timeline: Option<TimelineJson>,
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

/// A row of `agreement --json`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AgreementRow {
    pub level: String,
    pub map: f32,
    pub borderline_map: f32,
    pub class_set_changed: usize,
    pub frame_ms: f64,
    /// The detection layers' raw outputs against FP32's, in dB (`None` for FP32 itself, and
    /// in files written before it was measured).
    #[serde(default)]
    pub output_snr_db: Option<f64>,
}

/// What `agreement --json` writes.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AgreementJson {
    pub kind: String,
    pub model: String,
    pub frames: usize,
    pub rows: Vec<AgreementRow>,
}

/// A timed step as the CLI names it: the layer's number right-aligned, then what it did.
pub fn step_label(step: &Timing) -> String {
    match step.layer {
        Some(layer) => format!("{layer:>2} {}", step.kind.name()),
        None => format!("   {}", step.kind.name()),
    }
}
