//! `zynqdet import-qnn`: a QNN-MO-PYNQ network directory (cfg, .npy float layers, binparam/)
//! into one model file.

use anyhow::Result;
use darknet_port::darknet_weights;
use darknet_port::network::Network;
use darknet_port::qnn_import::{self, ImportOptions, VOC_NAMES};
use std::path::PathBuf;
use std::process::ExitCode;

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

pub fn run(args: &ImportArgs) -> Result<ExitCode> {
    let names = match &args.names {
        Some(path) => darknet_weights::read_names(path)?,
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
