//! Import of a QNN-MO-PYNQ network directory (Xilinx's Tinier-YOLO release) into a model file.
//!
//! The directory holds the Darknet cfg, the float first and last layers as NumPy arrays
//! (`*-conv{N}-W.npy` of shape `(kh, kw, in, out)` and `*-conv{N}-bias.npy`, N counting the
//! cfg's convolutional sections from 0), and `binparam/L-P-{weights,thres}.bin`: the binarized
//! layers split over the W1A3 engine's 32 processing elements (layout in [`crate::qnn_layout`]),
//! numbered from L=1, a layer of several passes taking consecutive numbers.

use crate::cfg::Cfg;
use crate::error::{Error, Result};
use crate::image_input::ResizeArithmetic;
use crate::layers::BinaryConv;
use crate::model_file::{ModelFile, QuantizationInfo, TensorData};
use crate::npy;
use std::path::{Path, PathBuf};

use crate::qnn_layout::{self, ACTIVATION_BITS, PE_COUNT, THRESHOLD_WORDS};

/// The reference system clips the first layer's output to [0, 4] before quantizing.
pub const INPUT_CLIP: f32 = 4.0;

/// PASCAL VOC, the classes the released Tinier-YOLO was trained on (Darknet's `voc.names`).
pub const VOC_NAMES: [&str; 20] = [
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
];

pub struct ImportOptions {
    pub dir: PathBuf,
    pub names: Vec<String>,
}

fn find_one(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::format(dir, format!("no file ending in `{suffix}`"))),
        _ => Err(Error::format(
            dir,
            format!("several files end in `{suffix}`: {found:?}"),
        )),
    }
}

fn read_u64s(path: &Path, expected_words: usize) -> Result<Vec<u64>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() != expected_words * 8 {
        return Err(Error::format(
            path,
            format!(
                "expected {} bytes ({expected_words} 64-bit words) for this layer, found {}",
                expected_words * 8,
                bytes.len()
            ),
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

fn import_binary_layer(
    binparam: &Path,
    first_file_index: usize,
    in_channels: usize,
    out_channels: usize,
    size: usize,
) -> Result<BinaryConv> {
    let (passes, per_pass, _) =
        qnn_layout::passes(out_channels).map_err(|m| Error::format(binparam, m))?;
    let weight_words = qnn_layout::pe_weight_words(in_channels, per_pass, size);
    let threshold_words = per_pass / PE_COUNT * THRESHOLD_WORDS;
    let mut conv = qnn_layout::empty_layer(in_channels, out_channels, size);
    for pass in 0..passes {
        let file_index = first_file_index + pass;
        for pe in 0..PE_COUNT {
            let wpath = binparam.join(format!("{file_index}-{pe}-weights.bin"));
            let tpath = binparam.join(format!("{file_index}-{pe}-thres.bin"));
            let w = read_u64s(&wpath, weight_words)?;
            let t = read_u64s(&tpath, threshold_words)?;
            qnn_layout::set_pe_words(&mut conv, pass, pe, &w, &t)
                .map_err(|m| Error::format(&wpath, m))?;
        }
    }
    Ok(conv)
}

/// Reads the directory and returns the model; nothing is written.
pub fn import(options: &ImportOptions) -> Result<ModelFile> {
    let dir = &options.dir;
    let cfg_path = find_one(dir, ".cfg")?;
    let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let cfg = Cfg::parse(&cfg_text, &cfg_path)?;
    // The plan checks the shapes and the memory limit before any layer is allocated below.
    crate::plan::Plan::from_cfg(&cfg)?;
    let binparam = dir.join("binparam");
    let net = cfg.section(0);
    let mut channels = net.int_at_least("channels", 3, 1)? as usize;

    let mut tensors = Vec::new();
    let mut conv_number = 0;
    let mut next_file_index = 1; // binparam layers are numbered from 1
    for index in 1..cfg.sections.len() {
        let s = cfg.section(index);
        let li = index - 1;
        if !matches!(s.name(), "convolutional" | "conv") {
            continue;
        }
        let filters = s.int_at_least("filters", 1, 1)? as usize;
        let size = s.int_at_least("size", 1, 1)? as usize;
        if s.int_or("binary", 0)? != 0 {
            let conv = import_binary_layer(&binparam, next_file_index, channels, filters, size)?;
            next_file_index += qnn_layout::passes(filters)
                .map_err(|m| Error::format(&binparam, m))?
                .0;
            let (chunks, levels) = (conv.words(), conv.threshold_count());
            let invert = conv.invert.iter().map(|&b| u8::from(b)).collect();
            tensors.push((
                format!("layer{li}.weights"),
                vec![filters, size * size, chunks],
                TensorData::U64(conv.weights),
            ));
            tensors.push((
                format!("layer{li}.thresholds"),
                vec![filters, levels],
                TensorData::I16(conv.thresholds),
            ));
            tensors.push((
                format!("layer{li}.invert"),
                vec![filters],
                TensorData::U8(invert),
            ));
        } else {
            let wpath = find_one(dir, &format!("-conv{conv_number}-W.npy"))?;
            let bpath = find_one(dir, &format!("-conv{conv_number}-bias.npy"))?;
            let w = npy::read_f32(&wpath)?;
            let b = npy::read_f32(&bpath)?;
            if w.shape != [size, size, channels, filters] {
                return Err(Error::format(
                    &wpath,
                    format!(
                        "shape {:?} does not match layer {li} of the cfg (expected [{size}, {size}, {channels}, {filters}])",
                        w.shape
                    ),
                ));
            }
            if b.shape != [filters] {
                return Err(Error::format(
                    &bpath,
                    format!("shape {:?}, expected [{filters}]", b.shape),
                ));
            }
            // (kh, kw, in, out) -> Darknet's (out, in, kh, kw)
            let mut weights = vec![0f32; w.data.len()];
            for ky in 0..size {
                for kx in 0..size {
                    for i in 0..channels {
                        for o in 0..filters {
                            weights[((o * channels + i) * size + ky) * size + kx] =
                                w.data[((ky * size + kx) * channels + i) * filters + o];
                        }
                    }
                }
            }
            tensors.push((
                format!("layer{li}.weights"),
                vec![filters, channels, size, size],
                TensorData::F32(weights),
            ));
            tensors.push((
                format!("layer{li}.biases"),
                vec![filters],
                TensorData::F32(b.data),
            ));
        }
        channels = filters;
        conv_number += 1;
    }
    let name = cfg_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    Ok(ModelFile {
        name,
        provenance: format!(
            "Imported by zynqdet import-qnn from the QNN-MO-PYNQ release ({}); parameters (c) Xilinx, BSD-3-Clause",
            cfg_path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        ),
        cfg: cfg_text,
        names: options.names.clone(),
        quantization: Some(QuantizationInfo {
            bits: ACTIVATION_BITS,
            clip: INPUT_CLIP,
            transposed: true,
        }),
        // The reference system's Darknet fork runs NMS at 0.3.
        nms: Some(0.3),
        // The board's Darknet (aarch64, -Ofast) fuses the letterbox's blends.
        resize: ResizeArithmetic::Fused,
        tensors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cfg_past_the_memory_limit_is_refused_before_allocating_layers() {
        // Without the plan's check the importer sized a binarized layer of 2^24 x 2^24 x 3x3
        // weights (2.4e13 words) from these values alone and aborted in the allocator.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.cfg"),
            "[net]\nwidth=1\nheight=1\nchannels=16777216\n\
             [convolutional]\nfilters=16777216\nsize=3\npad=1\nbinary=1\n",
        )
        .unwrap();
        let e = import(&ImportOptions {
            dir: dir.path().to_path_buf(),
            names: Vec::new(),
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.cfg:5: the network needs"), "{e}");
    }
}
