//! `zynqdet calibrate`: the input ranges of a model's float convolutions on sample pictures,
//! which fix the scales of its INT8 and INT16 levels.

use crate::media::stills::load_inputs;
use crate::options::ModelArgs;
use anyhow::{Context, Result};
use darknet_port::layers::Tensor;
use darknet_port::network::CpuRunner;
use std::path::PathBuf;
use std::process::ExitCode;

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

pub fn run(args: &CalibrateArgs) -> Result<ExitCode> {
    let network = args.model.load_fp32()?;
    let out = args
        .out
        .clone()
        .or_else(|| args.model.default_calibration_path())
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
