//! `zynqdet eval`: accuracy against ground truth. A model runs on every image of a VOC folder
//! at a low threshold (0.005, as Darknet's `detector map`), and each class's AP and the mAP@0.5
//! are printed in VOC2007's 11-point and VOC2010's all-point conventions, with the frame time.

use crate::detect::{Backend, DARKNET_NMS};
use crate::model::load_network;
use crate::run::segment_runner;
use crate::voc;
use crate::ModelArgs;
use anyhow::{bail, Context, Result};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::network::Timings;
use darknet_port::voc_map::{self, Detection, Truth};
use indicatif::{ProgressBar, ProgressStyle};
use pl_driver::uio::DEFAULT_UIO_NAME;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// A PASCAL VOC folder: Annotations/, JPEGImages/, optionally ImageSets/Main/.
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Use the ids of ImageSets/Main/<SET>.txt (default: every annotation).
    #[arg(long, value_name = "SET")]
    pub image_set: Option<String>,
    /// Only the first N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Lowest score of the detections that are ranked.
    #[arg(long, default_value_t = 0.005)]
    pub thresh: f32,
    #[arg(long)]
    pub nms: Option<f32>,
    /// IoU a detection needs with its object (above it, strictly, as VOC's devkit).
    #[arg(long, default_value_t = 0.5)]
    pub iou: f64,
    /// Model class names to dataset class names, `MODEL = DATASET` a line (`= -` drops a
    /// class); COCO's names of VOC's classes (airplane, couch, tv, ...) map without it.
    #[arg(long, value_name = "FILE")]
    pub class_map: Option<PathBuf>,
    /// Where the binarized middle layers run (models that have them).
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    #[arg(long, value_name = "NAME", default_value = DEFAULT_UIO_NAME)]
    pub uio_name: String,
    /// Also write the results as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

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
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// The model's name in tables and plots: the built-in `tinier-yolo`, else the file's stem.
pub fn model_label(args: &ModelArgs) -> String {
    args.cfg
        .as_ref()
        .or(args.model.as_ref())
        .and_then(|p| p.file_stem())
        .map_or("tinier-yolo".into(), |s| s.to_string_lossy().into_owned())
}

/// A level's name as the README tables say it.
pub fn level_name(args: &ModelArgs, has_binarized: bool) -> String {
    let mut name = args.precision.name().to_string();
    if let Some(o) = &args.layer_precision {
        let list: Vec<String> =
            o.0.iter()
                .map(|(l, p)| format!("{l}={}", p.name()))
                .collect();
        name = format!("{name} ({})", list.join(","));
    }
    if has_binarized {
        format!("W1A3, first/last {name}")
    } else {
        name
    }
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    if !(0.0..1.0).contains(&args.thresh) {
        bail!("--thresh {} must be in [0, 1)", args.thresh);
    }
    let network = load_network(&args.model)?;
    let dataset = voc::read(&args.dataset, args.image_set.as_deref(), args.limit)?;
    for p in &dataset.problems {
        eprintln!("zynqdet: skipped: {p}");
    }
    let overrides = match &args.class_map {
        Some(path) => voc::read_class_map(path)?,
        None => Vec::new(),
    };
    let map = voc::class_map(&network.names, &dataset.classes, &overrides);
    let mapped = map.iter().flatten().count();
    if mapped == 0 {
        bail!(
            "none of the model's {} classes is a class of {} (give --class-map FILE)",
            network.names.len(),
            args.dataset.display()
        );
    }
    let has_binarized = !network
        .segments()
        .map_err(|m| anyhow::anyhow!("{m}"))?
        .is_empty();
    let mut runner = segment_runner(args.backend, &args.uio_name)?;
    let nms = args.nms.or(network.nms).unwrap_or(DARKNET_NMS);

    let progress = ProgressBar::new(dataset.images.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images, {eta} left")
            .expect("a valid template"),
    );
    let mut truth: Vec<Vec<Truth>> = Vec::new();
    let mut detections: Vec<Detection> = Vec::new();
    let mut times = Vec::new();
    let mut skipped = dataset.problems.len();
    for a in &dataset.images {
        progress.inc(1);
        let image = match load_image(&a.image) {
            Ok(im) => im,
            Err(e) => {
                progress.println(format!("zynqdet: skipped: {e:#}"));
                skipped += 1;
                continue;
            }
        };
        let start = Instant::now();
        let input = letterbox(&image, network.width, network.height, network.resize);
        let heads = network.forward(&input, runner.as_mut(), &mut Timings::off())?;
        let found = network.decode(&heads, image.width, image.height, args.thresh, nms)?;
        times.push(start.elapsed());
        let index = truth.len();
        truth.push(
            a.objects
                .iter()
                .map(|o| Truth {
                    class_id: dataset
                        .classes
                        .iter()
                        .position(|c| *c == o.name)
                        .expect("the dataset's classes include every name"),
                    bbox: o.bbox,
                    difficult: o.difficult,
                })
                .collect(),
        );
        // Our boxes are continuous pixel edges; VOC's are inclusive pixels from 1, as
        // Darknet's `valid` writes them.
        detections.extend(found.iter().filter_map(|f| {
            Some(Detection {
                image: index,
                class_id: map.get(f.class_id).copied().flatten()?,
                score: f64::from(f.prob),
                bbox: [
                    f64::from(f.bbox[0]) + 1.0,
                    f64::from(f.bbox[1]) + 1.0,
                    f64::from(f.bbox[2]),
                    f64::from(f.bbox[3]),
                ],
            })
        }));
    }
    progress.finish_and_clear();
    if truth.is_empty() {
        bail!(
            "{}: no image could be evaluated ({skipped} skipped)",
            args.dataset.display()
        );
    }
    let result = voc_map::evaluate(&truth, &detections, dataset.classes.len(), args.iou);
    times.sort();
    let report = EvalReport {
        kind: "eval".into(),
        dataset: args.dataset.display().to_string(),
        model: model_label(&args.model),
        level: level_name(&args.model, has_binarized),
        backend: if has_binarized {
            format!("{:?}", args.backend).to_lowercase()
        } else {
            "-".into()
        },
        threads: darknet_port::parallel::active().count(),
        images: truth.len(),
        objects: truth.iter().flatten().filter(|t| !t.difficult).count(),
        difficult: truth.iter().flatten().filter(|t| t.difficult).count(),
        skipped,
        thresh: args.thresh,
        iou: args.iou,
        map11: result.map11,
        map: result.map,
        frame_ms_mean: times.iter().sum::<Duration>().as_secs_f64() * 1e3 / times.len() as f64,
        frame_ms_p50: quantile_ms(&times, 0.5),
        frame_ms_p99: quantile_ms(&times, 0.99),
        classes: result
            .classes
            .iter()
            .flatten()
            .map(|c| {
                let step = c.recall.len().div_ceil(300).max(1);
                ClassResult {
                    class: dataset.classes[c.class_id].clone(),
                    objects: c.positives,
                    difficult: c.difficult,
                    detections: c.detections,
                    ap11: c.ap11,
                    ap: c.ap,
                    pr: c
                        .recall
                        .iter()
                        .zip(&c.precision)
                        .enumerate()
                        .filter(|(i, _)| i % step == 0 || i + 1 == c.recall.len())
                        .map(|(_, (r, p))| (*r, *p))
                        .collect(),
                }
            })
            .collect(),
    };
    print_report(&report, dataset.classes.len(), mapped);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &EvalReport, dataset_classes: usize, mapped: usize) {
    println!(
        "eval: {} ({}) on {}: {} images, {} objects ({} difficult, ignored), {} skipped",
        r.model, r.level, r.dataset, r.images, r.objects, r.difficult, r.skipped
    );
    println!(
        "{:<14} {:>7} {:>10} {:>12} {:>12}",
        "class", "objects", "detections", "AP 11-point", "AP all-point"
    );
    for c in &r.classes {
        println!(
            "{:<14} {:>7} {:>10} {:>12.4} {:>12.4}",
            c.class, c.objects, c.detections, c.ap11, c.ap
        );
    }
    println!(
        "mAP@{}: {:.4} (VOC2007 11-point), {:.4} (VOC2010 all-point) over the {} of the \
         dataset's {} classes that have objects here ({} of the model's classes map to the \
         dataset's)",
        r.iou,
        r.map11,
        r.map,
        r.classes.len(),
        dataset_classes,
        mapped
    );
    println!(
        "frame time: {:.1} ms mean, {:.1} ms p50, {:.1} ms p99 (letterbox, network, decode; {} \
         threads; backend {})",
        r.frame_ms_mean, r.frame_ms_p50, r.frame_ms_p99, r.threads, r.backend
    );
}
