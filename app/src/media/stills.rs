//! Still pictures for the commands that measure a model over a set of pictures (`calibrate`,
//! `agreement`): image files, folders of images and videos, each letterboxed to the network's
//! input as `detect` and the pipeline letterbox them.

use super::decode::to_rgb;
use super::source::{self, RawFrame, SourceOptions};
use anyhow::{bail, Context, Result};
use darknet_port::image_input::{from_rgb8, letterbox, load_image};
use darknet_port::layers::Tensor;
use darknet_port::network::Network;
use std::path::{Path, PathBuf};

fn is_video(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "avi" | "y4m" | "mp4" | "mkv" | "mov"
        )
    })
}

/// Letterboxed network inputs, with the original sizes, from image files, directories of
/// images and videos (every `every`-th frame).
pub fn load_inputs(
    network: &Network,
    inputs: &[PathBuf],
    every: usize,
) -> Result<Vec<(Tensor, usize, usize)>> {
    let mut out = Vec::new();
    for input in inputs {
        if is_video(input) {
            let mut source = source::open(&input.to_string_lossy(), &SourceOptions::default())?;
            let mut rgb = Vec::new();
            while let Some(frame) = source.next_frame(Vec::new())? {
                if frame.index % every.max(1) as u64 == 0 {
                    out.push(letterboxed(network, &frame, &mut rgb)?);
                }
            }
            continue;
        }
        let paths = if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("{}: cannot list", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "jpg" | "jpeg" | "png" | "bmp"
                        )
                    })
                })
                .collect();
            found.sort();
            found
        } else {
            vec![input.clone()]
        };
        for p in paths {
            let im = load_image(&p)?;
            out.push((
                letterbox(&im, network.width, network.height, network.resize),
                im.width,
                im.height,
            ));
        }
    }
    if out.is_empty() {
        bail!("no images or frames in the inputs");
    }
    Ok(out)
}

/// A raw frame as the network's input, with the picture's size; `rgb` is a scratch buffer.
pub fn letterboxed(
    network: &Network,
    frame: &RawFrame,
    rgb: &mut Vec<u8>,
) -> Result<(Tensor, usize, usize)> {
    let planes = &mut darknet_port::jpeg::Planes::default();
    let (w, h) = to_rgb(
        frame.format,
        frame.width,
        frame.height,
        &frame.data,
        rgb,
        planes,
    )
    .map_err(|m| anyhow::anyhow!("{}: {m}", frame.origin))?;
    let picture = from_rgb8(w, h, &rgb[..w * h * 3]);
    Ok((
        letterbox(&picture, network.width, network.height, network.resize),
        w,
        h,
    ))
}
