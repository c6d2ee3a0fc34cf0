//! The options several commands share, and what they turn into: the model (`--model`, `--cfg`,
//! `--precision`, ...) into a `Network`, the backend (`--backend`, `--uio-name`) into the runner
//! of the binarized layers, and the detection options (`--thresh`, `--nms`) into checked values.

use anyhow::{Context, Result};
use darknet_port::darknet_weights;
use darknet_port::layers::Precision;
use darknet_port::model_file::ModelFile;
use darknet_port::network::{Calibration, CpuRunner, Network, SegmentRunner};
use darknet_port::plan::{LayerPlan, Plan};
use pl_driver::udmabuf::UdmabufOptions;
use pl_driver::uio::{UioOptions, DEFAULT_UIO_NAME};
use pl_driver::DriverConfig;
use std::path::{Path, PathBuf};

/// The imported Tinier-YOLO that ships in the repository (models/tinier-yolo/), built in so
/// that the binary on the board needs no other file.
const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/tinier-yolo/tinier-yolo.zdm");
const BUILTIN_NAME: &str = "built-in tinier-yolo.zdm";

/// Darknet's `detect` default, for models that do not name their own.
pub const DARKNET_NMS: f32 = 0.45;

/// The model a command uses: `--model FILE`, a Darknet `--cfg` with its `--weights`, or the
/// Tinier-YOLO model built into the binary.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model file (.zdm); defaults to the built-in Tinier-YOLO (PASCAL VOC).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cfg", "weights"])]
    pub model: Option<PathBuf>,
    /// Darknet network description (YOLOv2/v3/v4-tiny family); needs --weights.
    #[arg(long, value_name = "FILE", requires = "weights")]
    pub cfg: Option<PathBuf>,
    /// Darknet .weights for --cfg.
    #[arg(long, value_name = "FILE", requires = "cfg")]
    pub weights: Option<PathBuf>,
    /// Class names for --cfg, one per line (default: the class numbers).
    #[arg(long, value_name = "FILE", requires = "cfg")]
    pub names: Option<PathBuf>,
    /// Arithmetic of the float convolutions: fp32, int16 or int8 (power-of-two scales; needs a
    /// calibration, see `zynqdet calibrate`).
    #[arg(long, default_value = "fp32", value_parser = parse_precision)]
    pub precision: Precision,
    /// Per-layer exceptions to --precision, as LAYER=PRECISION pairs: `0=fp32,15=int16`.
    #[arg(long, value_name = "LIST", value_parser = parse_overrides)]
    pub layer_precision: Option<Overrides>,
    /// Calibration file (default: beside the model, `<model>.calib.json`).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

/// The built-in model at FP32, as a command without model options loads it.
impl Default for ModelArgs {
    fn default() -> Self {
        ModelArgs {
            model: None,
            cfg: None,
            weights: None,
            names: None,
            precision: Precision::Fp32,
            layer_precision: None,
            calibration: None,
        }
    }
}

impl ModelArgs {
    /// The network these options name, at the precision they ask for.
    pub fn load(&self) -> Result<Network> {
        let network = self.load_fp32()?;
        let overrides = self.overrides();
        if self.precision == Precision::Fp32 && overrides.iter().all(|o| o.1 == Precision::Fp32) {
            return Ok(network);
        }
        let calibration = self.load_calibration()?;
        Ok(network.with_precision(self.precision, overrides, &calibration)?)
    }

    /// The network these options name, with float convolutions in FP32.
    pub fn load_fp32(&self) -> Result<Network> {
        if let (Some(cfg), Some(weights)) = (&self.cfg, &self.weights) {
            let names = match &self.names {
                Some(path) => darknet_weights::read_names(path)?,
                None => Vec::new(),
            };
            let mut model = darknet_weights::import(cfg, weights, names)?;
            if self.names.is_none() {
                model.names = (0..classes_in(&model, cfg)?)
                    .map(|i| i.to_string())
                    .collect();
            }
            return Ok(Network::from_model(&model, cfg)?);
        }
        match &self.model {
            Some(path) => Ok(Network::load(path)?),
            None => {
                let model = ModelFile::from_bytes(BUILTIN_MODEL)
                    .map_err(|m| anyhow::anyhow!("{BUILTIN_NAME}: {m}"))?;
                Ok(Network::from_model(&model, Path::new(BUILTIN_NAME))?)
            }
        }
    }

    /// `--layer-precision`'s pairs (none when not given).
    pub fn overrides(&self) -> &[(usize, Precision)] {
        self.layer_precision.as_ref().map_or(&[], |o| &o.0)
    }

    /// Where the model's calibration lives unless `--calibration` says otherwise: beside the
    /// model (the built-in model has no such place).
    pub fn default_calibration_path(&self) -> Option<PathBuf> {
        let model = self.cfg.as_ref().or(self.model.as_ref())?;
        Some(model.with_extension("calib.json"))
    }

    /// The calibration `--calibration` names, else the one `zynqdet calibrate` wrote beside
    /// the model.
    pub fn load_calibration(&self) -> Result<Calibration> {
        let path = self
            .calibration
            .clone()
            .or_else(|| self.default_calibration_path())
            .context(
                "INT8/INT16 need a calibration: give --calibration FILE (made by `zynqdet calibrate`)",
            )?;
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read the calibration (make it with `zynqdet calibrate`)",
                path.display()
            )
        })?;
        Calibration::from_json(&text).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))
    }

    /// The model's name in tables and plots: the built-in `tinier-yolo`, else the file's stem.
    pub fn label(&self) -> String {
        self.cfg
            .as_ref()
            .or(self.model.as_ref())
            .and_then(|p| p.file_stem())
            .map_or_else(
                || "tinier-yolo".into(),
                |s| s.to_string_lossy().into_owned(),
            )
    }

    /// The arithmetic's name as the README tables say it.
    pub fn level_name(&self, has_binarized: bool) -> String {
        let mut name = self.precision.name().to_string();
        if !self.overrides().is_empty() {
            let list: Vec<String> = self
                .overrides()
                .iter()
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

/// Where the binarized middle layers run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A software model of the PL engine, driven through the real driver.
    Model,
    /// The CPU kernels, without the driver.
    Cpu,
    /// The engine on the board, through UIO.
    Uio,
    /// The Verilator model of overlay/'s RTL through the real driver (seconds per frame; only
    /// in builds made where Verilator was installed).
    Rtl,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Model => "model",
            Backend::Cpu => "cpu",
            Backend::Uio => "uio",
            Backend::Rtl => "rtl",
        }
    }

    /// The runner of the binarized segments on this backend (`uio_name`: the engine's UIO
    /// name, for `Uio`).
    pub fn runner(self, uio_name: &str) -> Result<Box<dyn SegmentRunner + Send>> {
        Ok(match self {
            Backend::Cpu => Box::new(CpuRunner),
            Backend::Model => Box::new(pl_driver::model_runner(DriverConfig::default())?.0),
            Backend::Uio => {
                let uio = UioOptions {
                    name: uio_name.to_string(),
                    ..UioOptions::default()
                };
                Box::new(pl_driver::uio_runner(
                    &uio,
                    &UdmabufOptions::default(),
                    DriverConfig::default(),
                )?)
            }
            Backend::Rtl => {
                if !pl_driver::HAS_RTL {
                    anyhow::bail!("--backend rtl: {}", pl_driver::NO_RTL);
                }
                pl_driver::rtl_segment_runner()?
            }
        })
    }
}

/// `--backend` and `--uio-name`. Each command has its default backend: the engine's software
/// model for `detect` and `run` (what the board runs, checked), the plain CPU kernels for the
/// measuring commands.
#[derive(clap::Args, Debug, Clone)]
pub struct BackendArgs {
    /// Where the binarized middle layers run: `model` drives a software model of the PL engine
    /// through the real driver, `uio` the engine on the board, `cpu` skips the driver, `rtl`
    /// drives the Verilator model of overlay/'s RTL through the real driver (seconds per frame;
    /// only in builds made where Verilator was installed). Default: model for detect and run,
    /// cpu for eval, bench and bench-pipeline.
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// UIO name of the engine (with --backend uio): its device-tree node name, `BlackBoxJam` for
    /// the Ultra96 design's HLS block.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_UIO_NAME)]
    pub uio_name: String,
}

impl BackendArgs {
    /// The backend asked for, else the command's `default`.
    pub fn backend_or(&self, default: Backend) -> Backend {
        self.backend.unwrap_or(default)
    }

    /// The runner of the backend asked for (else `default`).
    pub fn runner(&self, default: Backend) -> Result<Box<dyn SegmentRunner + Send>> {
        self.backend_or(default).runner(&self.uio_name)
    }
}

/// `--thresh`: a probability a class must exceed, in [0, 1).
pub fn parse_thresh(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(0.0..1.0).contains(&value) {
        return Err(format!("{value} must be in [0, 1)"));
    }
    Ok(value)
}

/// `--nms`: an IoU in [0, 1] (0 disables NMS).
pub fn parse_nms(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{value} must be in [0, 1]"));
    }
    Ok(value)
}

/// The NMS threshold a run uses: `--nms` when given, else the model's own (0.3 for
/// Tinier-YOLO, what its reference results use), else Darknet's 0.45.
pub fn nms_for(asked: Option<f32>, network: &Network) -> f32 {
    asked.or(network.nms).unwrap_or(DARKNET_NMS)
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

    #[test]
    fn thresholds_are_checked_where_they_are_parsed() {
        assert_eq!(parse_thresh("0.25"), Ok(0.25));
        assert!(parse_thresh("1").unwrap_err().contains("[0, 1)"));
        assert!(parse_thresh("-0.1").is_err());
        assert!(parse_thresh("NaN").is_err());
        assert!(parse_thresh("x").unwrap_err().contains("not a number"));
        assert_eq!(parse_nms("0"), Ok(0.0));
        assert!(parse_nms("1.5").is_err());
    }

    #[test]
    fn backend_rtl_runs_or_says_why_this_build_has_none() {
        let result = Backend::Rtl.runner("");
        let error = result.as_ref().err().map(|e| format!("{e:#}"));
        assert_eq!(result.is_ok(), pl_driver::HAS_RTL, "{error:?}");
        if let Some(message) = error {
            assert!(message.contains("--backend rtl"), "{message}");
            assert!(message.contains("Verilator was not found"), "{message}");
        }
    }
}
