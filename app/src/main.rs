//! `zynqdet`: object detection for Zynq UltraScale+ boards, and its host mode on a PC. The
//! command line only: each subcommand lives in `zynqdet::commands`.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;
use zynqdet::commands::{
    agreement, bench, bench_pipeline, calibrate, detect, eval, import_qnn, report, run,
};
use zynqdet::{heap, workers};

#[derive(Parser)]
#[command(
    name = "zynqdet",
    version,
    about = "Real-time object detection for Zynq UltraScale+ boards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads a frame's layers use (0: one per core). In the pipeline (`run`) each worker
    /// takes one thread a frame, several frames at once: with `--backend cpu` one worker for
    /// each of these threads, binarized layers included; with the PL (or its model) the float
    /// layers only, around the one accelerator thread.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Detect objects in still images.
    Detect(detect::DetectArgs),
    /// Import a QNN-MO-PYNQ network directory (cfg, .npy float layers, binparam/) into a model file.
    ImportQnn(import_qnn::ImportArgs),
    /// Measure the input ranges of a model's float convolutions on sample images, for INT8/INT16.
    Calibrate(calibrate::CalibrateArgs),
    /// Score INT16 and INT8 against FP32 (mAP@0.5, changed class sets, frame time) on images.
    Agreement(agreement::AgreementArgs),
    /// Run the real-time pipeline: a camera or a recording in, annotated video and detections out.
    Run(run::RunArgs),
    /// Measure the pipeline's throughput against its slowest stage and the sequential sum.
    BenchPipeline(bench_pipeline::BenchArgs),
    /// Score a model against the ground truth of a PASCAL VOC folder (AP per class, mAP@0.5).
    Eval(eval::EvalArgs),
    /// Frame times across models, levels, backends and thread counts, with baselines.
    Bench(bench::BenchArgs),
    /// An HTML page with plots and a Markdown summary from the JSON of eval/bench/... runs.
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    // A kernel table this CPU cannot run is refused first (before `--version` asks for the
    // table), rather than replaced with a warning.
    if let Err(e) = darknet_port::kernels::from_env() {
        eprintln!("zynqdet: error: {e}");
        return ExitCode::FAILURE;
    }
    let cli = parse_command_line();
    // before any thread starts
    match cli.command {
        Command::Run(_) | Command::BenchPipeline(_) => heap::bound_for_long_runs(),
        _ => heap::keep_freed_memory(),
    }
    let workers = workers::threads(cli.threads);
    let result = darknet_port::parallel::with_workers(workers, || match cli.command {
        Command::Detect(args) => detect::run(&args),
        Command::ImportQnn(args) => import_qnn::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Agreement(args) => agreement::run(&args),
        Command::Run(args) => run::run(&args),
        Command::BenchPipeline(args) => bench_pipeline::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Report(args) => report::run(&args),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zynqdet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, with `--version` also naming the kernel table this CPU runs: what a bug
/// report needs besides the version.
fn parse_command_line() -> Cli {
    let version = format!(
        "{} (kernels: {})",
        env!("CARGO_PKG_VERSION"),
        darknet_port::kernels::best().name
    );
    let matches = Cli::command().version(version).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
