//! `zynqdet agreement`: INT16 and INT8 scored against FP32 on the same pictures (mAP@0.5 with
//! FP32's detections as the ground truth, changed class sets, the detection layers' output SNR,
//! frame time).

use crate::media::stills::load_inputs;
use crate::options::{nms_for, parse_nms, parse_precision, parse_thresh, ModelArgs};
use crate::pipeline::stats::ms;
use crate::results::{AgreementJson, AgreementRow};
use anyhow::{Context, Result};
use darknet_port::layers::{Precision, Tensor};
use darknet_port::metrics::{average_precision, mean_average_precision};
use darknet_port::network::{CpuRunner, Found, Network, Timings};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct AgreementArgs {
    /// Images, directories of images or videos to score on.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Use every N-th frame of videos.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Levels to score against FP32.
    #[arg(long, value_delimiter = ',', default_value = "int16,int8", value_parser = parse_precision)]
    pub levels: Vec<Precision>,
    /// Detection threshold: FP32's detections above it are the ground truth, and the class sets
    /// are compared at it.
    #[arg(long, default_value_t = 0.3, value_parser = parse_thresh)]
    pub thresh: f32,
    /// Lowest score of a level's detections ranked for mAP (as Darknet's `detector map` does,
    /// 0.005): a box FP32 found at 0.31 and a level at 0.29 is then ranked lower, not lost.
    #[arg(long, default_value_t = 0.005, value_parser = parse_thresh)]
    pub score_thresh: f32,
    /// FP32 detections within this of --thresh are borderline: the second mAP column treats
    /// them as VOC's "difficult" boxes, which a level may find or miss at no cost (an object
    /// FP32 scores 0.29 in one frame and 0.31 in the next is not ground truth to rank by).
    #[arg(long, default_value_t = 0.02)]
    pub borderline: f32,
    /// IoU above which NMS suppresses the less probable box (0 disables NMS; default: the
    /// model's own, else Darknet's 0.45).
    #[arg(long, value_parser = parse_nms)]
    pub nms: Option<f32>,
    /// Also print each class's AP and its number of FP32 detections.
    #[arg(long)]
    pub per_class: bool,
    /// Also write the table as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// What a level did on every frame: its detections, its mean frame time and, against a
/// reference network, the signal-to-noise ratio of its detection layers' raw outputs.
struct Run {
    found: Vec<Vec<Found>>,
    frame_time: Duration,
    output_snr_db: Option<f64>,
}

/// Runs `network` on every frame (timed, after untimed warm-ups: [`Network::warm_up`]) and `reference`, when
/// given, beside it (not timed), one frame at a time, so that memory does not grow with the
/// frames.
fn detect_all(
    network: &Network,
    reference: Option<&Network>,
    inputs: &[(Tensor, usize, usize)],
    thresh: f32,
    nms: f32,
) -> Result<Run> {
    let mut found = Vec::with_capacity(inputs.len());
    let mut frame_time = Duration::ZERO;
    let (mut signal, mut noise) = (0f64, 0f64);
    if let Some((input, _, _)) = inputs.first() {
        network.warm_up(input, &mut CpuRunner)?;
    }
    for (input, w, h) in inputs {
        let start = Instant::now();
        let heads = network.forward(input, &mut CpuRunner, &mut Timings::off())?;
        frame_time += start.elapsed();
        if let Some(reference) = reference {
            let want = reference.forward(input, &mut CpuRunner, &mut Timings::off())?;
            for ((_, got), (_, want)) in heads.0.iter().zip(&want.0) {
                for (&x, &r) in got.data.iter().zip(&want.data) {
                    signal += f64::from(r).powi(2);
                    noise += f64::from(x - r).powi(2);
                }
            }
        }
        found.push(network.decode(&heads, *w, *h, thresh, nms)?);
    }
    Ok(Run {
        found,
        frame_time: frame_time / inputs.len().max(1) as u32,
        output_snr_db: reference.map(|_| snr_db(signal, noise)),
    })
}

/// `10 log10(signal / noise)`; outputs equal to the reference's have an infinite ratio.
fn snr_db(signal: f64, noise: f64) -> f64 {
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal / noise).log10()
}

fn class_set(found: &[Found], thresh: f32) -> BTreeSet<usize> {
    found
        .iter()
        .filter(|f| f.prob >= thresh)
        .map(|f| f.class_id)
        .collect()
}

/// Each class FP32 found: its count and this level's AP, lowest AP first.
fn print_per_class(names: &[String], truth: &[Vec<Found>], found: &[Vec<Found>]) {
    let mut rows: Vec<(f32, usize, &str)> = names
        .iter()
        .enumerate()
        .filter_map(|(c, name)| {
            let ap = average_precision(truth, &[], found, c, 0.5)?;
            let count = truth.iter().flatten().filter(|f| f.class_id == c).count();
            Some((ap, count, name.as_str()))
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (ap, count, name) in rows {
        println!("        {name:<16} AP {ap:.3} over {count} FP32 detections");
    }
}

pub fn run(args: &AgreementArgs) -> Result<ExitCode> {
    let fp32 = args.model.load_fp32()?;
    let calibration = args.model.load_calibration()?;
    let inputs = load_inputs(&fp32, &args.inputs, args.every)?;
    let nms = nms_for(args.nms, &fp32);
    let score_thresh = args.score_thresh.min(args.thresh);
    let Run {
        found: reference,
        frame_time: fp32_time,
        ..
    } = detect_all(&fp32, None, &inputs, score_thresh, nms)?;
    let select = |keep: &dyn Fn(f32) -> bool| -> Vec<Vec<Found>> {
        reference
            .iter()
            .map(|frame| frame.iter().filter(|f| keep(f.prob)).cloned().collect())
            .collect()
    };
    let (thresh, band) = (args.thresh, args.borderline.max(0.0));
    let truth = select(&|p| p >= thresh);
    let clear_truth = select(&|p| p >= thresh + band);
    let borderline = select(&|p| (p - thresh).abs() < band);
    let borderline_count: usize = borderline.iter().map(Vec::len).sum();
    println!(
        "agreement of {} on {} frames: FP32 detections >= {thresh} are the ground truth; each \
         level's detections from {score_thresh} are ranked",
        fp32.name,
        inputs.len(),
    );
    println!(
        "(the second mAP treats the {borderline_count} FP32 detections within {band} of \
         {thresh} as borderline: found or missed at no cost)"
    );
    println!(
        "{:<7} {:>8} {:>11} {:>18} {:>14} {:>10} {:>8}",
        "level", "mAP@0.5", "borderline", "class set changed", "output SNR dB", "frame ms", "speed"
    );
    println!(
        "{:<7} {:>8.3} {:>11.3} {:>18} {:>14} {:>10.1} {:>7.2}x",
        "fp32",
        1.0,
        1.0,
        0,
        "-",
        ms(fp32_time),
        1.0
    );
    let mut rows = vec![AgreementRow {
        level: "fp32".into(),
        map: 1.0,
        borderline_map: 1.0,
        class_set_changed: 0,
        frame_ms: ms(fp32_time),
        output_snr_db: None,
    }];
    let overrides = args.model.overrides();
    for &level in &args.levels {
        let network = fp32.with_precision(level, overrides, &calibration)?;
        let Run {
            found,
            frame_time: time,
            output_snr_db,
        } = detect_all(&network, Some(&fp32), &inputs, score_thresh, nms)?;
        let snr = output_snr_db.unwrap_or(f64::INFINITY);
        let classes = fp32.names.len();
        let map = mean_average_precision(&truth, &[], &found, classes, 0.5);
        let clear_map = mean_average_precision(&clear_truth, &borderline, &found, classes, 0.5);
        let changed = truth
            .iter()
            .zip(&found)
            .filter(|(t, f)| class_set(t, args.thresh) != class_set(f, args.thresh))
            .count();
        println!(
            "{:<7} {:>8.3} {:>11.3} {:>18} {:>14.1} {:>10.1} {:>7.2}x",
            level.name(),
            map,
            clear_map,
            format!("{changed} of {}", inputs.len()),
            snr,
            ms(time),
            fp32_time.as_secs_f64() / time.as_secs_f64()
        );
        if args.per_class {
            print_per_class(&fp32.names, &truth, &found);
        }
        rows.push(AgreementRow {
            level: level.name().into(),
            map,
            borderline_map: clear_map,
            class_set_changed: changed,
            frame_ms: ms(time),
            output_snr_db: snr.is_finite().then_some(snr),
        });
    }
    if let Some(path) = &args.json {
        let json = AgreementJson {
            kind: "agreement".into(),
            model: fp32.name.clone(),
            frames: inputs.len(),
            rows,
        };
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
