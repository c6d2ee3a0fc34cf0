//! `zynqdet bench`: frame times across models, quantization levels, backends and thread
//! counts in one run: single frames as `detect` runs them and the threaded pipeline as
//! `bench-pipeline` runs it, with OpenCV DNN and Debian's darknet as baselines when installed.

use crate::media::decode::to_rgb;
use crate::media::source::{RawFrame, SourceInfo};
use crate::media::stills::letterboxed;
use crate::options::{nms_for, parse_precision, Backend, ModelArgs};
use crate::pipeline::bench::{load_frames, pipelined, BenchOutput};
use crate::pipeline::stats::ms;
use crate::pipeline::STEADY_AFTER;
use crate::results::{quantile_ms, step_label, BenchJson, BenchRow, TimelineJson};
use crate::workers;
use anyhow::{bail, Context, Result};
use darknet_port::layers::{Precision, Tensor};
use darknet_port::network::{Network, Timings};
use pl_driver::uio::DEFAULT_UIO_NAME;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// OpenCV's timing of a Darknet model, shared with `cargo bench -p system-tests --bench models`.
const OPENCV_TIME_PY: &str = include_str!("../../../tests/peers/opencv_time.py");

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Models: `tinier-yolo` (built in) or Darknet cfg files, each with its .weights beside it
    /// and its names in <cfg stem>.names or coco.names beside it.
    #[arg(long, value_delimiter = ',', default_value = "tinier-yolo")]
    pub models: Vec<String>,
    /// Levels of the float convolutions (INT16/INT8 need a calibration beside a cfg, or
    /// --calibration for the built-in model).
    #[arg(long, value_delimiter = ',', default_value = "fp32", value_parser = parse_precision)]
    pub levels: Vec<Precision>,
    /// Where the binarized middle layers run (models without them run once, backend `-`).
    #[arg(long, value_delimiter = ',', default_value = "cpu")]
    pub backends: Vec<Backend>,
    /// Thread counts: a single frame's layers split over N threads; the pipeline runs N CPU
    /// workers. (`--threads` is the global option of every command, hence the name.)
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub thread_counts: Vec<usize>,
    /// A video or a folder of images.
    #[arg(long, short, value_name = "VIDEO|DIR")]
    pub input: String,
    /// Frames per measurement (a shorter input is repeated).
    #[arg(long, default_value_t = 20)]
    pub frames: usize,
    /// The built-in model's calibration, for its INT16/INT8 levels.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Skip the OpenCV DNN and darknet baselines.
    #[arg(long)]
    pub no_baselines: bool,
    #[arg(long, value_name = "NAME", default_value = DEFAULT_UIO_NAME)]
    pub uio_name: String,
    /// Also write the results as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// The model arguments of one `--models` entry.
fn model_args(spec: &str, level: Precision, calibration: &Option<PathBuf>) -> Result<ModelArgs> {
    let mut args = ModelArgs {
        model: None,
        cfg: None,
        weights: None,
        names: None,
        precision: level,
        layer_precision: None,
        calibration: calibration.clone(),
    };
    if spec == "tinier-yolo" {
        return Ok(args);
    }
    let cfg = PathBuf::from(spec);
    if !cfg.is_file() {
        bail!("--models: {spec} is neither `tinier-yolo` nor a cfg file");
    }
    let weights = cfg.with_extension("weights");
    if !weights.is_file() {
        bail!("{}: no weights beside it", weights.display());
    }
    args.names = [
        cfg.with_extension("names"),
        cfg.with_file_name("coco.names"),
    ]
    .into_iter()
    .find(|p| p.is_file());
    args.cfg = Some(cfg);
    args.weights = Some(weights);
    args.calibration = None;
    Ok(args)
}

/// Decoded frames as letterboxed inputs, with their sizes.
fn inputs(network: &Network, frames: &[RawFrame]) -> Result<Vec<(Tensor, usize, usize)>> {
    let mut rgb = Vec::new();
    frames
        .iter()
        .map(|f| letterboxed(network, f, &mut rgb))
        .collect()
}

/// Each layer's name and mean time in ms.
type LayerMeans = Vec<(String, f64)>;

/// Single frames on `threads` threads: each frame's time and each layer's mean.
fn single(
    network: &Network,
    inputs: &[(Tensor, usize, usize)],
    backend: Backend,
    uio_name: &str,
    threads: usize,
) -> Result<(Vec<Duration>, LayerMeans)> {
    let mut runner = backend.runner(uio_name)?;
    let nms = nms_for(None, network);
    darknet_port::parallel::with_workers(workers::threads(threads), || {
        network.warm_up(&inputs[0].0, runner.as_mut())?;
        let mut times = Vec::new();
        let mut layers: Vec<(String, f64)> = Vec::new();
        for (input, w, h) in inputs {
            let mut timings = Timings::new();
            let start = Instant::now();
            let heads = network.forward(input, runner.as_mut(), &mut timings)?;
            network.decode(&heads, *w, *h, 0.3, nms)?;
            times.push(start.elapsed());
            if layers.is_empty() {
                layers = timings
                    .steps()
                    .iter()
                    .map(|step| (step_label(step).trim().to_string(), 0.0))
                    .collect();
            }
            for (l, step) in layers.iter_mut().zip(timings.steps()) {
                l.1 += ms(step.duration) / inputs.len() as f64;
            }
        }
        Ok((times, layers))
    })
}

fn row(
    base: (&str, &str, &str, usize, &str),
    mut times: Vec<Duration>,
    layers: Vec<(String, f64)>,
) -> BenchRow {
    let samples_ms = times.iter().map(|d| ms(*d)).collect();
    let total: Duration = times.iter().sum();
    times.sort();
    BenchRow {
        model: base.0.into(),
        level: base.1.into(),
        backend: base.2.into(),
        threads: base.3,
        mode: base.4.into(),
        frames: times.len(),
        p50_ms: quantile_ms(&times, 0.5),
        p99_ms: quantile_ms(&times, 0.99),
        fps: times.len() as f64 / total.as_secs_f64().max(1e-9),
        samples_ms,
        layers_ms: layers,
    }
}

/// OpenCV DNN's median forward time (ms) and thread count, or why there is none.
fn opencv(cfg: &Path, weights: &Path, input: &Tensor) -> Result<(f64, usize), String> {
    let blob = std::env::temp_dir().join(format!("zynqdet-bench-{}.npy", std::process::id()));
    std::fs::write(
        &blob,
        darknet_port::npy::encode_f32(&[1, 3, input.height, input.width], &input.data, 1),
    )
    .map_err(|e| format!("{}: {e}", blob.display()))?;
    let out = Command::new("python3")
        .arg("-c")
        .arg(OPENCV_TIME_PY)
        .args([cfg, weights, &blob])
        .arg("5")
        .output();
    let _ = std::fs::remove_file(&blob);
    let out = out.map_err(|e| format!("python3 cannot run ({e})"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(if last.contains("No module named 'cv2'") {
            "python3 has no cv2 (pip install 'opencv-python-headless<5')".into()
        } else {
            format!("OpenCV failed: {last}")
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let ms = words.next().and_then(|w| w.parse::<f64>().ok());
    let threads = words.next().and_then(|w| w.parse::<usize>().ok());
    match (ms, threads) {
        (Some(ms), Some(t)) => Ok((ms, t)),
        _ => Err(format!("unexpected output from OpenCV: {text}")),
    }
}

/// Debian darknet's own "Predicted in S seconds" on one image (it loads the network each
/// run and then waits for a key, so one frame, and the process is ended once it has printed).
fn darknet(cfg: &Path, weights: &Path, image: &Path) -> Result<f64, String> {
    // Debian's darknet is pjreddie's 2018 code: it parses YOLOv4-tiny's cfg but ignores these
    // keys, and would be timed running another network
    let text = std::fs::read_to_string(cfg).map_err(|e| format!("{}: {e}", cfg.display()))?;
    if let Some(key) = ["groups", "scale_x_y"].iter().find(|k| text.contains(*k)) {
        return Err(format!(
            "Debian's darknet does not implement `{key}`, which this cfg uses"
        ));
    }
    let installed = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("darknet").is_file()));
    if !installed {
        return Err("darknet is not installed (apt-get install darknet)".into());
    }
    // stdbuf: darknet's stdout into a pipe is block-buffered, and it waits for a key after
    // printing, so its time would never arrive
    // in a temporary folder: darknet writes predictions.jpg where it runs
    let absolute = |p: &Path| {
        p.canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let (cfg, weights) = (absolute(cfg)?, absolute(weights)?);
    let mut child = Command::new("stdbuf")
        .args([
            Path::new("-oL"),
            Path::new("darknet"),
            Path::new("detect"),
            &cfg,
            &weights,
            image,
        ])
        .current_dir(std::env::temp_dir())
        .env("QT_QPA_PLATFORM", "offscreen")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("stdbuf cannot run ({e})"))?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    // a reader thread, so that a darknet that hangs is given up on
    std::thread::spawn(move || {
        let seconds = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                let rest = line.split("Predicted in ").nth(1)?;
                rest.split_whitespace().next()?.parse::<f64>().ok()
            });
        let _ = tx.send(seconds);
    });
    let result = rx.recv_timeout(DARKNET_TIMEOUT);
    let _ = child.kill();
    let _ = child.wait();
    match result {
        Ok(Some(s)) => Ok(s * 1e3),
        Ok(None) => Err("darknet printed no time (a model it cannot run?)".into()),
        Err(_) => Err(format!(
            "darknet did not finish a frame in {} s",
            DARKNET_TIMEOUT.as_secs()
        )),
    }
}

/// How long darknet's one frame may take (its plain C build is slow, and it loads the weights).
const DARKNET_TIMEOUT: Duration = Duration::from_secs(120);

/// What a run collects: the rows, what was skipped and why, the last pipeline's timeline.
#[derive(Default)]
struct Collected {
    rows: Vec<BenchRow>,
    skipped: Vec<String>,
    timeline: Option<TimelineJson>,
}

impl Collected {
    fn push(&mut self, row: BenchRow) {
        println!(
            "{:<12} {:<24} {:<8} {:>7} {:<10} {:>8.1} {:>8.1} {:>9.2}",
            row.model,
            row.level,
            row.backend,
            row.threads,
            row.mode,
            row.p50_ms,
            row.p99_ms,
            row.fps
        );
        self.rows.push(row);
    }

    fn skip(&mut self, line: String) {
        eprintln!("zynqdet: skipped: {line}");
        self.skipped.push(line);
    }
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    if args.frames < 2 * STEADY_AFTER as usize + 2 {
        bail!(
            "--frames {} is too few to measure a steady rate",
            args.frames
        );
    }
    let (frames, info) = load_frames(Some(&args.input), args.frames)?;
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    println!(
        "bench: {} frames of {} ({}x{}), {cores} cores",
        frames.len(),
        info.name,
        info.width,
        info.height,
    );
    println!(
        "{:<12} {:<24} {:<8} {:>7} {:<10} {:>8} {:>8} {:>9}",
        "model", "level", "backend", "threads", "mode", "p50 ms", "p99 ms", "frames/s"
    );
    let mut out = Collected::default();
    for spec in &args.models {
        let mut baseline_done = false;
        for &level in &args.levels {
            let margs = model_args(spec, level, &args.calibration)?;
            let network = match margs.load() {
                Ok(n) => Arc::new(n),
                Err(e) => {
                    out.skip(format!("{spec} {}: {e:#}", level.name()));
                    continue;
                }
            };
            let inputs = inputs(&network, &frames)?;
            measure_level(args, &margs, &network, &inputs, &frames, &info, &mut out)?;
            // Baselines: FP32 only, once a model, on every core (their own threading).
            if !args.no_baselines && !baseline_done && level == Precision::Fp32 {
                baseline_done = true;
                baselines(&margs, &inputs[0].0, &frames[0], &mut out)?;
            }
        }
    }
    if out.rows.is_empty() {
        bail!("nothing was measured");
    }
    if let Some(path) = &args.json {
        let json = BenchJson {
            kind: "bench".into(),
            input: info.name.clone(),
            cores,
            rows: out.rows,
            skipped: out.skipped,
            timeline: out.timeline,
        };
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One model at one level: single frames and the pipeline, on each backend and thread count.
fn measure_level(
    args: &BenchArgs,
    margs: &ModelArgs,
    network: &Arc<Network>,
    inputs: &[(Tensor, usize, usize)],
    frames: &[RawFrame],
    info: &SourceInfo,
    out: &mut Collected,
) -> Result<()> {
    let has_binarized = !network
        .segments()
        .map_err(|m| anyhow::anyhow!("{m}"))?
        .is_empty();
    let level_label = margs.level_name(has_binarized);
    let model = margs.label();
    let backends: Vec<Option<Backend>> = if has_binarized {
        args.backends.iter().copied().map(Some).collect()
    } else {
        vec![None]
    };
    for backend in backends {
        let backend_label = backend.map_or("-", Backend::name);
        let b = backend.unwrap_or(Backend::Cpu);
        for &threads in &args.thread_counts {
            let base = (
                model.as_str(),
                level_label.as_str(),
                backend_label,
                threads.max(1),
                "single",
            );
            let (times, layers) = single(network, inputs, b, &args.uio_name, threads.max(1))?;
            out.push(row(base, times, layers));

            let report = pipelined(
                network.clone(),
                frames.to_vec(),
                info,
                b.runner(&args.uio_name)?,
                threads.max(1),
                BenchOutput::AnnotatedVideo,
            )?;
            // a frame's time in the pipeline is its latency, capture to written;
            // frames/s is the steady rate (several frames are in flight at once)
            out.push(BenchRow {
                mode: "pipeline".into(),
                frames: report.frames_out as usize,
                p50_ms: ms(report.end_to_end.quantile(0.5)),
                p99_ms: ms(report.end_to_end.quantile(0.99)),
                fps: report
                    .steady_throughput()
                    .unwrap_or_else(|| report.throughput()),
                samples_ms: Vec::new(),
                layers_ms: Vec::new(),
                ..row(base, Vec::new(), Vec::new())
            });
            out.timeline = Some(TimelineJson::of(&report));
        }
    }
    Ok(())
}

/// A row of a baseline's one measured time.
fn baseline_row(model: &str, mode: &str, threads: usize, frames: usize, ms: f64) -> BenchRow {
    BenchRow {
        model: model.into(),
        level: "fp32".into(),
        backend: "-".into(),
        threads,
        mode: mode.into(),
        frames,
        p50_ms: ms,
        p99_ms: ms,
        fps: 1e3 / ms,
        samples_ms: Vec::new(),
        layers_ms: Vec::new(),
    }
}

/// OpenCV DNN on `input` and Debian's darknet on `frame`, for a Darknet model.
fn baselines(
    margs: &ModelArgs,
    input: &Tensor,
    frame: &RawFrame,
    out: &mut Collected,
) -> Result<()> {
    let model = margs.label();
    let (Some(cfg), Some(weights)) = (&margs.cfg, &margs.weights) else {
        out.skip(format!(
            "baselines for {model}: OpenCV and darknet cannot run its binarized layers"
        ));
        return Ok(());
    };
    match opencv(cfg, weights, input) {
        Ok((ms, threads)) => out.push(baseline_row(&model, "opencv-dnn", threads, 5, ms)),
        Err(why) => out.skip(format!("opencv-dnn on {model}: {why}")),
    }
    let image = std::env::temp_dir().join(format!("zynqdet-bench-{}.png", std::process::id()));
    let mut rgb = Vec::new();
    let (w, h) = to_rgb(
        frame.format,
        frame.width,
        frame.height,
        &frame.data,
        &mut rgb,
        &mut darknet_port::jpeg::Planes::default(),
    )
    .map_err(|m| anyhow::anyhow!("{}: {m}", frame.origin))?;
    image::save_buffer(
        &image,
        &rgb[..w * h * 3],
        w as u32,
        h as u32,
        image::ColorType::Rgb8,
    )
    .with_context(|| format!("{}: cannot write", image.display()))?;
    let result = darknet(cfg, weights, &image);
    let _ = std::fs::remove_file(&image);
    match result {
        // its own threading (0: not ours to set)
        Ok(ms) => out.push(baseline_row(&model, "darknet", 0, 1, ms)),
        Err(why) => out.skip(format!("darknet on {model}: {why}")),
    }
    Ok(())
}
