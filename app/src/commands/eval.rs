//! `zynqdet eval`: accuracy against ground truth. A model runs on every image of a VOC folder
//! at a low threshold (0.005, as Darknet's `detector map`), and each class's AP and the mAP@0.5
//! are printed in VOC2007's 11-point and VOC2010's all-point conventions, with the frame time.

use crate::options::{nms_for, parse_nms, parse_thresh, Backend, BackendArgs, ModelArgs};
use crate::pipeline::stats::ms;
use crate::results::{quantile_ms, ClassResult, EvalReport};
use crate::voc;
use anyhow::{bail, Context, Result};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::network::{Network, SegmentRunner, Timings};
use darknet_port::voc_map::{self, Detection, Truth};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Accuracy is measured on the plain CPU kernels unless `--backend` says otherwise (every
/// backend computes the same bits).
const DEFAULT_BACKEND: Backend = Backend::Cpu;

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
    #[arg(long, default_value_t = 0.005, value_parser = parse_thresh)]
    pub thresh: f32,
    /// IoU above which NMS suppresses the less probable box (0 disables NMS; default: the
    /// model's own, else Darknet's 0.45).
    #[arg(long, value_parser = parse_nms)]
    pub nms: Option<f32>,
    /// IoU a detection needs with its object (above it, strictly, as VOC's devkit).
    #[arg(long, default_value_t = 0.5)]
    pub iou: f64,
    /// Model class names to dataset class names, `MODEL = DATASET` a line (`= -` drops a
    /// class); COCO's names of VOC's classes (airplane, couch, tv, ...) map without it.
    #[arg(long, value_name = "FILE")]
    pub class_map: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Also write the results as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let network = args.model.load()?;
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
    let mut runner = args.backend.runner(DEFAULT_BACKEND)?;
    let run = detect_dataset(&network, runner.as_mut(), &dataset, &map, args)?;
    if run.truth.is_empty() {
        bail!(
            "{}: no image could be evaluated ({} skipped)",
            args.dataset.display(),
            run.skipped
        );
    }
    let report = report(args, &dataset.classes, has_binarized, run);
    print_report(&report, dataset.classes.len(), mapped);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The model's detections on a dataset, beside its ground truth.
struct DatasetRun {
    truth: Vec<Vec<Truth>>,
    detections: Vec<Detection>,
    /// Each image's time, sorted.
    times: Vec<Duration>,
    skipped: usize,
}

/// Runs the network on every image of `dataset` that loads; `map` turns the model's classes
/// into the dataset's.
fn detect_dataset(
    network: &Network,
    runner: &mut dyn SegmentRunner,
    dataset: &voc::Dataset,
    map: &[Option<usize>],
    args: &EvalArgs,
) -> Result<DatasetRun> {
    let nms = nms_for(args.nms, network);
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
        let heads = network.forward(&input, runner, &mut Timings::off())?;
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
    times.sort();
    Ok(DatasetRun {
        truth,
        detections,
        times,
        skipped,
    })
}

/// The report of a run: each class's AP and the mAP, with the frame times.
fn report(args: &EvalArgs, classes: &[String], has_binarized: bool, run: DatasetRun) -> EvalReport {
    let DatasetRun {
        truth,
        detections,
        times,
        skipped,
    } = run;
    let result = voc_map::evaluate(&truth, &detections, classes.len(), args.iou);
    EvalReport {
        kind: "eval".into(),
        dataset: args.dataset.display().to_string(),
        model: args.model.label(),
        level: args.model.level_name(has_binarized),
        backend: if has_binarized {
            args.backend.backend_or(DEFAULT_BACKEND).name().into()
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
        frame_ms_mean: ms(times.iter().sum::<Duration>()) / times.len() as f64,
        frame_ms_p50: quantile_ms(&times, 0.5),
        frame_ms_p99: quantile_ms(&times, 0.99),
        classes: result
            .classes
            .iter()
            .flatten()
            .map(|c| {
                let step = c.recall.len().div_ceil(300).max(1);
                ClassResult {
                    class: classes[c.class_id].clone(),
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
    }
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
