//! `zynqdet bench-pipeline`: does pipelining pay? The same frames run once stage after stage
//! on one thread (each stage timed) and once through the threaded pipeline; the pipeline's
//! throughput is printed next to the bound that its slowest stage sets and next to the
//! sequential rate.

use crate::media::source::{RawFrame, SourceInfo};
use crate::options::{Backend, BackendArgs, ModelArgs};
use crate::pipeline::bench::{load_frames, pipelined, sequential, BenchOutput};
use crate::pipeline::stats::ms;
use crate::pipeline::{workers_for, Segments, Stage, STAGES, STEADY_AFTER};
use crate::results::{BenchPipelineJson, StageJson, TimelineJson};
use crate::workers;
use anyhow::{bail, Context, Result};
use darknet_port::kernels::popcount_limit;
use darknet_port::layers::{QTensor, Tensor};
use darknet_port::network::{CpuRunner, Network, Segment, SegmentRunner, Timings};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The backend the measurement uses unless `--backend` says otherwise.
const DEFAULT_BACKEND: Backend = Backend::Cpu;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Video to run (default: a synthetic 768x576 MJPEG clip of moving rectangles).
    #[arg(long, short, value_name = "SRC")]
    pub input: Option<String>,
    /// Frames per pass (a shorter input is repeated).
    #[arg(long, default_value_t = 30)]
    pub frames: usize,
    /// CPU threads for the float layers in the pipeline (at least; with the CPU backend, one
    /// for each core lent by `--threads`, each running whole frames).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Also run the pipeline on the first N cores for each N listed (`1,2,4`), the process
    /// pinned to them (sched_setaffinity), and print frames/s per core count.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cores: Vec<usize>,
    /// Also write the results, with each frame's stage timeline, as JSON (for `zynqdet report`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

fn fps(d: Duration) -> f64 {
    1.0 / d.as_secs_f64()
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    if args.frames < 2 * STEADY_AFTER as usize + 2 {
        bail!(
            "--frames {} is too few to measure a steady rate",
            args.frames
        );
    }
    let network = Arc::new(args.model.load()?);
    let (frames, info) = load_frames(args.input.as_deref(), args.frames)?;
    let n = frames.len();
    // Measured first, on every core: the runs below pin the process.
    let per_cores = if args.cores.is_empty() {
        Vec::new()
    } else {
        scaling(args, &network, &frames, &info)?
    };
    let runner = args.backend.runner(DEFAULT_BACKEND)?;
    let (workers, segments) = workers_for(&*runner, args.workers);
    let alone = sequential(network.clone(), frames.clone(), &info, runner)?;
    let detections_only = pipelined(
        network.clone(),
        frames.clone(),
        &info,
        args.backend.runner(DEFAULT_BACKEND)?,
        args.workers,
        BenchOutput::Detections,
    )?;
    let report = pipelined(
        network.clone(),
        frames,
        &info,
        args.backend.runner(DEFAULT_BACKEND)?,
        args.workers,
        BenchOutput::AnnotatedVideo,
    )?;

    // The bound: each thread is a stage; the workers share the float layers, and the
    // binarized ones too where each worker runs its own.
    let shared_by_workers: &[Stage] = match segments {
        Segments::InWorkers => &[Stage::CpuFront, Stage::Accel, Stage::CpuBack],
        Segments::OnAccelerator => &[Stage::CpuFront, Stage::CpuBack],
    };
    let per_worker: Duration = shared_by_workers.iter().map(|&s| alone.of(s)).sum();
    let mut bound_stages: Vec<(String, Duration)> = STAGES
        .iter()
        .filter(|s| !shared_by_workers.contains(s))
        .map(|s| (s.name().to_string(), alone.of(*s)))
        .collect();
    let name = match segments {
        Segments::InWorkers => "network",
        Segments::OnAccelerator => "cpu layers",
    };
    bound_stages.push((format!("{name} /{workers}"), per_worker / workers as u32));
    let (slow_name, slow) = bound_stages
        .iter()
        .max_by_key(|(_, d)| *d)
        .cloned()
        .expect("stages");
    let sum: Duration = alone.mean.iter().sum();
    let in_pipeline = |s: Stage| {
        report
            .stages
            .iter()
            .find(|(x, _)| *x == s)
            .map_or(Duration::ZERO, |(_, h)| h.quantile(0.5))
    };

    println!(
        "bench-pipeline: {} frames of {}x{} ({}), backend {}, {} CPU workers{}, {} cores",
        n,
        info.width,
        info.height,
        info.name,
        args.backend.backend_or(DEFAULT_BACKEND).name(),
        workers,
        match segments {
            Segments::InWorkers => " (each runs whole frames, binarized layers included)",
            Segments::OnAccelerator => " (the binarized layers on the accelerator thread)",
        },
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    println!(
        "  {:<14} {:>14} {:>16}",
        "stage", "alone ms/frame", "in pipeline p50"
    );
    for s in STAGES {
        // with the CPU kernels each worker runs the binarized layers: no accelerator thread
        let label = match (s, segments) {
            (Stage::Accel, Segments::InWorkers) => "binarized",
            _ => s.name(),
        };
        println!(
            "  {:<14} {:>14.2} {:>16.2}",
            label,
            ms(alone.of(s)),
            ms(in_pipeline(s))
        );
    }
    let piped = report
        .steady_throughput()
        .unwrap_or_else(|| report.throughput());
    println!(
        "sequential (sum of stages)   {:>8.2} ms/frame  {:>6.2} frames/s  (measured {:.2})",
        ms(sum),
        fps(sum),
        n as f64 / alone.elapsed.as_secs_f64()
    );
    // The pipeline is bound by its slowest stage, or by all its work shared over the cores
    // when the stages are more busy than the cores can serve.
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let spread = sum / cores as u32;
    let bound = fps(slow.max(spread));
    let bound_mark = |d: Duration| match d == slow.max(spread) {
        true => "  = the pipeline's bound",
        false => "",
    };
    println!(
        "slowest stage ({slow_name:<11})  {:>8.2} ms/frame  {:>6.2} frames/s{}",
        ms(slow),
        fps(slow),
        bound_mark(slow)
    );
    println!(
        "all stages over {cores:>2} cores      {:>8.2} ms/frame  {:>6.2} frames/s{}",
        ms(spread),
        fps(spread),
        bound_mark(spread)
    );
    println!(
        "pipeline, annotated video    {:>8.2} ms/frame  {:>6.2} frames/s  = {:.1}% of the bound, {:.2}x sequential",
        1e3 / piped,
        piped,
        100.0 * piped / bound,
        piped / fps(sum)
    );
    let only = detections_only
        .steady_throughput()
        .unwrap_or_else(|| detections_only.throughput());
    println!(
        "pipeline, detections only     {:>8.2} ms/frame  {:>6.2} frames/s  (no annotation, JSON lines out: `run --output none --json FILE`)",
        1e3 / only,
        only
    );
    let (macs, bits) = binarized_macs(&network)?;
    if macs > 0 && !alone.of(Stage::Accel).is_zero() {
        // The ceiling on the threads the binarized layers of one frame run on: the workers
        // lent to the accelerator stage (`--threads`), or the one of a worker that runs them.
        let limit = darknet_port::parallel::with_workers(segments.frame_workers(), || {
            popcount_limit(1152, Duration::from_millis(100))
        });
        let rate = macs as f64 / alone.of(Stage::Accel).as_secs_f64();
        println!(
            "binarized layers alone          {:>6.1} G W1A{bits}-MAC/s = {:.0}% of this machine's AND+popcount limit ({:.1} G/s on {} threads, {})",
            rate / 1e9,
            100.0 * rate / limit.macs_per_s(bits),
            limit.macs_per_s(bits) / 1e9,
            limit.workers,
            limit.method
        );
    }
    if let Some((first_cores, first_fps)) = per_cores.first().copied() {
        println!("scaling with cores (the pipeline pinned to the first N):");
        for (cores, fps) in &per_cores {
            println!(
                "  {cores:>3} cores  {fps:>6.2} frames/s  {:>5.2}x {first_cores} cores",
                fps / first_fps
            );
        }
    }
    if let Some(path) = &args.json {
        let json = BenchPipelineJson {
            kind: "bench-pipeline".into(),
            model: network.name.clone(),
            input: info.name.clone(),
            frames: n,
            workers,
            backend: args.backend.backend_or(DEFAULT_BACKEND).name().into(),
            stages: STAGES
                .iter()
                .map(|s| StageJson {
                    stage: s.name().to_string(),
                    alone_ms: ms(alone.of(*s)),
                    pipeline_p50_ms: ms(in_pipeline(*s)),
                })
                .collect(),
            sequential_fps: fps(sum),
            bound_fps: bound,
            pipeline_fps: piped,
            timeline: TimelineJson::of(&report),
        };
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The pipeline's steady frames/s on the first N allowed cores for each N of `--cores`, the
/// process pinned to them, the binarized layers lent N workers; the pinning is undone after.
fn scaling(
    args: &BenchArgs,
    network: &Arc<Network>,
    frames: &[RawFrame],
    info: &SourceInfo,
) -> Result<Vec<(usize, f64)>> {
    let allowed = workers::allowed_cpus().context("--cores: cannot read this process's CPUs")?;
    let mut results = Vec::new();
    for &cores in &args.cores {
        if cores == 0 || cores > allowed.len() {
            bail!(
                "--cores {cores}: this process may run on {} cores",
                allowed.len()
            );
        }
        // On a thread of its own, so that the pinning ends with it.
        let measured = std::thread::scope(|scope| {
            scope
                .spawn(|| -> Result<f64> {
                    workers::pin_to(&allowed[..cores]).context("--cores: cannot pin")?;
                    let lent = workers::started_threads(cores);
                    let report = darknet_port::parallel::with_workers(lent, || {
                        pipelined(
                            network.clone(),
                            frames.to_vec(),
                            info,
                            args.backend.runner(DEFAULT_BACKEND)?,
                            args.workers,
                            BenchOutput::AnnotatedVideo,
                        )
                    })?;
                    Ok(report
                        .steady_throughput()
                        .unwrap_or_else(|| report.throughput()))
                })
                .join()
                .map_err(|_| anyhow::anyhow!("--cores: the measuring thread panicked"))?
        })?;
        results.push((cores, measured));
    }
    Ok(results)
}

/// A frame's one-bit multiply-accumulates in the binarized segments and their activations'
/// bits, the segments' input sizes read off one pass of a blank frame.
fn binarized_macs(network: &Network) -> Result<(u64, usize)> {
    struct Probe {
        macs: u64,
        bits: usize,
    }
    impl SegmentRunner for Probe {
        fn run(
            &mut self,
            segment: &Segment,
            input: QTensor,
            timings: &mut Timings,
        ) -> darknet_port::Result<QTensor> {
            let (macs, bits) = segment.macs(input.height, input.width);
            self.macs += macs;
            self.bits = self.bits.max(bits);
            CpuRunner.run(segment, input, timings)
        }
    }
    let mut probe = Probe { macs: 0, bits: 1 };
    let blank = Tensor::zeros(network.channels, network.height, network.width);
    network.forward(&blank, &mut probe, &mut Timings::off())?;
    Ok((probe.macs, probe.bits))
}
