//! Which model runs, and the import subcommand.

use crate::ModelArgs;
use anyhow::{Context, Result};
use darknet_port::darknet_weights;
use darknet_port::layers::Precision;
use darknet_port::model_file::ModelFile;
use darknet_port::network::{Calibration, Network};
use darknet_port::plan::{LayerPlan, Plan};
use darknet_port::qnn_import::{self, ImportOptions, VOC_NAMES};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The imported Tinier-YOLO that ships in the repository (models/tinier-yolo/), built in so
/// that the binary on the board needs no other file.
const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/tinier-yolo/tinier-yolo.zdm");
const BUILTIN_NAME: &str = "built-in tinier-yolo.zdm";

/// The network `args` name, at the precision they ask for.
pub fn load_network(args: &ModelArgs) -> Result<Network> {
    let network = load_fp32_network(args)?;
    let overrides = args.layer_precision.as_ref().map_or(&[][..], |o| &o.0[..]);
    if args.precision == Precision::Fp32 && overrides.iter().all(|o| o.1 == Precision::Fp32) {
        return Ok(network);
    }
    let calibration = load_calibration(args)?;
    Ok(network.with_precision(args.precision, overrides, &calibration)?)
}

/// Where a model's calibration lives unless `--calibration` says otherwise: beside the model.
pub fn default_calibration_path(args: &ModelArgs) -> Option<PathBuf> {
    let model = args.cfg.as_ref().or(args.model.as_ref())?;
    Some(model.with_extension("calib.json"))
}

/// The network `args` name, with float convolutions in FP32.
pub fn load_fp32_network(args: &ModelArgs) -> Result<Network> {
    if let (Some(cfg), Some(weights)) = (&args.cfg, &args.weights) {
        let names = match &args.names {
            Some(path) => darknet_weights::read_names(path)?,
            None => Vec::new(),
        };
        let mut model = darknet_weights::import(cfg, weights, names)?;
        if args.names.is_none() {
            model.names = (0..classes_in(&model, cfg)?)
                .map(|i| i.to_string())
                .collect();
        }
        return Ok(Network::from_model(&model, cfg)?);
    }
    match &args.model {
        Some(path) => Ok(Network::load(path)?),
        None => {
            let model = ModelFile::from_bytes(BUILTIN_MODEL)
                .map_err(|m| anyhow::anyhow!("{BUILTIN_NAME}: {m}"))?;
            Ok(Network::from_model(&model, Path::new(BUILTIN_NAME))?)
        }
    }
}

/// The number of classes the cfg's detection layers predict.
fn classes_in(model: &ModelFile, cfg: &Path) -> Result<usize> {
    let parsed = darknet_port::cfg::Cfg::parse(&model.cfg, cfg)?;
    let plan = Plan::from_cfg(&parsed)?;
    Ok(plan
        .layers
        .iter()
        .find_map(|l| match &l.plan {
            LayerPlan::Region(r) => Some(r.classes),
            LayerPlan::Yolo(y) => Some(y.classes),
            _ => None,
        })
        .unwrap_or(0))
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Directory with the cfg, the *-convN-W.npy / *-convN-bias.npy files and binparam/.
    pub dir: PathBuf,
    /// Output model file.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Class names, one per line (default: PASCAL VOC's 20 classes).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
}

pub fn import_qnn(args: &ImportArgs) -> Result<ExitCode> {
    let names = match &args.names {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("{}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        None => VOC_NAMES.iter().map(|s| s.to_string()).collect(),
    };
    let model = qnn_import::import(&ImportOptions {
        dir: args.dir.clone(),
        names,
    })?;
    // Building the network checks that the cfg and the tensors agree before anything is written.
    let network = Network::from_model(&model, &args.dir)?;
    model.save(&args.out)?;
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: {} layers, {} tensors, {} bytes",
        args.out.display(),
        network.layers.len(),
        model.tensors.len(),
        bytes
    );
    Ok(ExitCode::SUCCESS)
}

/// The calibration `--calibration` names, else the one `zynqdet calibrate` wrote beside the cfg.
pub fn load_calibration(args: &ModelArgs) -> Result<Calibration> {
    let path = args
        .calibration
        .clone()
        .or_else(|| default_calibration_path(args))
        .context(
            "INT8/INT16 need a calibration: give --calibration FILE (made by `zynqdet calibrate`)",
        )?;
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read the calibration (make it with `zynqdet calibrate`)",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a calibration file", path.display()))
}
