//! Quantization levels: `--precision`, `zynqdet calibrate` and the `zynqdet agreement` report.

use crate::model::{default_calibration_path, load_calibration, load_fp32_network};
use crate::pipeline::preprocess::to_rgb;
use crate::pipeline::source::{self, SourceOptions};
use crate::ModelArgs;
use anyhow::{bail, Context, Result};
use darknet_port::image_input::{from_rgb8, letterbox, load_image};
use darknet_port::layers::{Precision, Tensor};
use darknet_port::metrics::{average_precision, mean_average_precision};
use darknet_port::network::{CpuRunner, Found, Network, Timings};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn parse_precision(text: &str) -> Result<Precision, String> {
    Precision::parse(text).ok_or_else(|| format!("`{text}` is not fp32, int16 or int8"))
}

/// Per-layer precisions, `LAYER=PRECISION` pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Overrides(pub Vec<(usize, Precision)>);

pub fn parse_overrides(text: &str) -> Result<Overrides, String> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (layer, precision) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not LAYER=PRECISION"))?;
            let layer = layer
                .trim()
                .parse()
                .map_err(|_| format!("`{layer}` is not a layer number"))?;
            Ok((layer, parse_precision(precision.trim())?))
        })
        .collect::<Result<_, String>>()
        .map(Overrides)
}

fn is_video(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "avi" | "y4m" | "mp4" | "mkv" | "mov"
        )
    })
}

/// Letterboxed network inputs, with the original sizes, from image files, directories of
/// images and videos (every `every`-th frame).
fn load_inputs(
    network: &Network,
    inputs: &[PathBuf],
    every: usize,
) -> Result<Vec<(Tensor, usize, usize)>> {
    let mut out = Vec::new();
    for input in inputs {
        if is_video(input) {
            let mut source = source::open(&input.to_string_lossy(), &SourceOptions::default())?;
            let mut rgb = Vec::new();
            while let Some(frame) = source.next_frame(Vec::new())? {
                if frame.index % every.max(1) as u64 != 0 {
                    continue;
                }
                let (w, h) = to_rgb(
                    frame.format,
                    frame.width,
                    frame.height,
                    &frame.data,
                    &mut rgb,
                )
                .map_err(|m| anyhow::anyhow!("{}: {m}", frame.origin))?;
                let im = from_rgb8(w, h, &rgb[..w * h * 3]);
                out.push((
                    letterbox(&im, network.width, network.height, network.resize),
                    w,
                    h,
                ));
            }
            continue;
        }
        let paths = if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("{}: cannot list", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "jpg" | "jpeg" | "png" | "bmp"
                        )
                    })
                })
                .collect();
            found.sort();
            found
        } else {
            vec![input.clone()]
        };
        for p in paths {
            let im = load_image(&p)?;
            out.push((
                letterbox(&im, network.width, network.height, network.resize),
                im.width,
                im.height,
            ));
        }
    }
    if out.is_empty() {
        bail!("no images or frames in the inputs");
    }
    Ok(out)
}

#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    /// Sample images, directories of images or videos that look like what the model will see.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Use every N-th frame of videos.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Where to write the calibration (default: beside the model, `<model>.calib.json`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn calibrate(args: &CalibrateArgs) -> Result<ExitCode> {
    let network = load_fp32_network(&args.model)?;
    let out = args
        .out
        .clone()
        .or_else(|| default_calibration_path(&args.model))
        .context("the built-in model has no file beside which to save: give --out FILE")?;
    let inputs: Vec<Tensor> = load_inputs(&network, &args.inputs, args.every)?
        .into_iter()
        .map(|i| i.0)
        .collect();
    let calibration = network.calibrate(&inputs, &mut CpuRunner)?;
    let tmp = out.with_extension("json.partial");
    std::fs::write(&tmp, serde_json::to_string_pretty(&calibration)?)
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("{}: cannot write", out.display()))?;
    println!(
        "{}: input ranges of {} convolutions from {} images or frames",
        out.display(),
        calibration.input_max_abs.len(),
        inputs.len()
    );
    Ok(ExitCode::SUCCESS)
}

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
    #[arg(long, default_value_t = 0.3)]
    pub thresh: f32,
    /// Lowest score of a level's detections ranked for mAP (as Darknet's `detector map` does,
    /// 0.005): a box FP32 found at 0.31 and a level at 0.29 is then ranked lower, not lost.
    #[arg(long, default_value_t = 0.005)]
    pub score_thresh: f32,
    /// FP32 detections within this of --thresh are borderline: the second mAP column treats
    /// them as VOC's "difficult" boxes, which a level may find or miss at no cost (an object
    /// FP32 scores 0.29 in one frame and 0.31 in the next is not ground truth to rank by).
    #[arg(long, default_value_t = 0.02)]
    pub borderline: f32,
    #[arg(long)]
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

/// A row of `agreement --json`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct AgreementRow {
    pub level: String,
    pub map: f32,
    pub borderline_map: f32,
    pub class_set_changed: usize,
    pub frame_ms: f64,
}

/// What `agreement --json` writes.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct AgreementJson {
    pub kind: String,
    pub model: String,
    pub frames: usize,
    pub rows: Vec<AgreementRow>,
}

/// One level's detections on every frame, and its mean frame time.
fn detect_all(
    network: &Network,
    inputs: &[(Tensor, usize, usize)],
    thresh: f32,
    nms: f32,
) -> Result<(Vec<Vec<Found>>, Duration)> {
    let mut all = Vec::with_capacity(inputs.len());
    let start = Instant::now();
    for (input, w, h) in inputs {
        let heads = network.forward(input, &mut CpuRunner, &mut Timings::off())?;
        all.push(network.decode(&heads, *w, *h, thresh, nms)?);
    }
    Ok((all, start.elapsed() / inputs.len().max(1) as u32))
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

pub fn agreement(args: &AgreementArgs) -> Result<ExitCode> {
    let fp32 = load_fp32_network(&args.model)?;
    let calibration = load_calibration(&args.model)?;
    let inputs = load_inputs(&fp32, &args.inputs, args.every)?;
    let nms = args.nms.or(fp32.nms).unwrap_or(crate::detect::DARKNET_NMS);
    let score_thresh = args.score_thresh.min(args.thresh);
    let (reference, fp32_time) = detect_all(&fp32, &inputs, score_thresh, nms)?;
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
        "{:<7} {:>8} {:>11} {:>18} {:>12} {:>8}",
        "level", "mAP@0.5", "borderline", "class set changed", "frame ms", "speed"
    );
    println!(
        "{:<7} {:>8.3} {:>11.3} {:>18} {:>12.1} {:>7.2}x",
        "fp32",
        1.0,
        1.0,
        0,
        fp32_time.as_secs_f64() * 1e3,
        1.0
    );
    let mut rows = vec![AgreementRow {
        level: "fp32".into(),
        map: 1.0,
        borderline_map: 1.0,
        class_set_changed: 0,
        frame_ms: fp32_time.as_secs_f64() * 1e3,
    }];
    let overrides = args
        .model
        .layer_precision
        .as_ref()
        .map_or(&[][..], |o| o.0.as_slice());
    for &level in &args.levels {
        let network = fp32.with_precision(level, overrides, &calibration)?;
        let (found, time) = detect_all(&network, &inputs, score_thresh, nms)?;
        let classes = fp32.names.len();
        let map = mean_average_precision(&truth, &[], &found, classes, 0.5);
        let clear_map = mean_average_precision(&clear_truth, &borderline, &found, classes, 0.5);
        let changed = truth
            .iter()
            .zip(&found)
            .filter(|(t, f)| class_set(t, args.thresh) != class_set(f, args.thresh))
            .count();
        println!(
            "{:<7} {:>8.3} {:>11.3} {:>18} {:>12.1} {:>7.2}x",
            level.name(),
            map,
            clear_map,
            format!("{changed} of {}", inputs.len()),
            time.as_secs_f64() * 1e3,
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
            frame_ms: time.as_secs_f64() * 1e3,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse() {
        let o = parse_overrides("0=fp32, 15=int16").unwrap();
        assert_eq!(o.0, vec![(0, Precision::Fp32), (15, Precision::Int16)]);
        assert!(parse_overrides("0:fp32")
            .unwrap_err()
            .contains("LAYER=PRECISION"));
        assert!(parse_overrides("x=int8")
            .unwrap_err()
            .contains("layer number"));
        assert!(parse_precision("int4").is_err());
    }
}
