//! `zynqdet`: object detection for Zynq UltraScale+ boards, and its host mode on a PC.

mod annotate;
mod detect;
mod model;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "zynqdet",
    version,
    about = "Real-time object detection for Zynq UltraScale+ boards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect objects in still images.
    Detect(detect::DetectArgs),
    /// Import a QNN-MO-PYNQ network directory (cfg, .npy float layers, binparam/) into a model file.
    ImportQnn(model::ImportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Detect(args) => detect::run(&args),
        Command::ImportQnn(args) => model::import_qnn(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zynqdet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The model a command uses: `--model FILE`, or the Tinier-YOLO model built into the binary.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model file (.zdm); defaults to the built-in Tinier-YOLO (PASCAL VOC).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
}
