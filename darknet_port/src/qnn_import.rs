//! Import of a QNN-MO-PYNQ network directory (Xilinx's Tinier-YOLO release) into a model file.
//!
//! The directory holds the Darknet cfg, the float first and last layers as NumPy arrays
//! (`*-conv{N}-W.npy` of shape `(kh, kw, in, out)` and `*-conv{N}-bias.npy`, N counting the
//! cfg's convolutional sections from 0), and `binparam/L-P-{weights,thres}.bin`: the binarized
//! layers split over the W1A3 engine's 32 processing elements, in the order the engine loads
//! them. `docs/register-map.md` and the comments below give that layout:
//!
//! - A layer of more than 256 output channels is stored as several passes (consecutive L), each
//!   computing 256 channels; pass p holds channels `256p..256p+256`.
//! - Within a pass, PE `pe` computes channels `nm*32 + pe` for `nm` in `0..out/32`.
//! - `weights.bin`: u64 LE words; word `(nm*k*k + tap)*chunks + chunk` holds, in bit `s`, the
//!   weight of input channel `chunk*64 + s` at kernel tap `tap = ky*k + kx` (1 = -1, 0 = +1),
//!   with `chunks = ceil(in/64)`.
//! - `thres.bin`: two u64 LE words per `nm`, the high then the low half of a 128-bit entry:
//!   seven signed 16-bit thresholds at bits `16i`, and an invert flag at bit 112.

use crate::cfg::Cfg;
use crate::error::{Error, Result};
use crate::model_file::{ModelFile, QuantizationInfo, TensorData};
use crate::npy;
use std::path::{Path, PathBuf};

/// The engine's geometry and arithmetic (QNN-MO-PYNQ `W1A3/config.h`).
pub const PE_COUNT: usize = 32;
pub const SIMD_WIDTH: usize = 64;
pub const MAX_OUT_CHANNELS_PER_PASS: usize = 256;
pub const ACTIVATION_BITS: usize = 3;
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

/// Binarized layer parameters in the product's layout (see `BinaryConv`).
struct BinaryParams {
    weights: Vec<u64>,
    thresholds: Vec<i16>,
    invert: Vec<u8>,
}

fn import_binary_layer(
    binparam: &Path,
    first_file_index: usize,
    in_channels: usize,
    out_channels: usize,
    size: usize,
) -> Result<BinaryParams> {
    let taps = size * size;
    let chunks = in_channels.div_ceil(SIMD_WIDTH);
    let passes = out_channels.div_ceil(MAX_OUT_CHANNELS_PER_PASS);
    let per_pass = out_channels / passes;
    if per_pass * passes != out_channels || !per_pass.is_multiple_of(PE_COUNT) {
        return Err(Error::format(
            binparam,
            format!("{out_channels} output channels do not split into passes of whole PE folds"),
        ));
    }
    let fold = per_pass / PE_COUNT;
    let levels = (1 << ACTIVATION_BITS) - 1;
    let valid_mask = |chunk: usize| {
        let valid = (in_channels - chunk * SIMD_WIDTH).min(SIMD_WIDTH);
        if valid == 64 {
            !0u64
        } else {
            (1u64 << valid) - 1
        }
    };
    let mut weights = vec![0u64; out_channels * taps * chunks];
    let mut thresholds = vec![0i16; out_channels * levels];
    let mut invert = vec![0u8; out_channels];
    for pass in 0..passes {
        let file_index = first_file_index + pass;
        for pe in 0..PE_COUNT {
            let wpath = binparam.join(format!("{file_index}-{pe}-weights.bin"));
            let tpath = binparam.join(format!("{file_index}-{pe}-thres.bin"));
            let w = read_u64s(&wpath, fold * taps * chunks)?;
            let t = read_u64s(&tpath, fold * 2)?;
            for nm in 0..fold {
                let oc = pass * per_pass + nm * PE_COUNT + pe;
                for tap in 0..taps {
                    for chunk in 0..chunks {
                        weights[(oc * taps + tap) * chunks + chunk] =
                            w[(nm * taps + tap) * chunks + chunk] & valid_mask(chunk);
                    }
                }
                let entry = (u128::from(t[2 * nm]) << 64) | u128::from(t[2 * nm + 1]);
                for (i, th) in thresholds[oc * levels..(oc + 1) * levels]
                    .iter_mut()
                    .enumerate()
                {
                    *th = ((entry >> (16 * i)) & 0xffff) as u16 as i16;
                }
                invert[oc] = ((entry >> (16 * levels)) & 1) as u8;
            }
        }
    }
    Ok(BinaryParams {
        weights,
        thresholds,
        invert,
    })
}

/// Reads the directory and returns the model; nothing is written.
pub fn import(options: &ImportOptions) -> Result<ModelFile> {
    let dir = &options.dir;
    let cfg_path = find_one(dir, ".cfg")?;
    let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let cfg = Cfg::parse(&cfg_text, &cfg_path)?;
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
            let p = import_binary_layer(&binparam, next_file_index, channels, filters, size)?;
            next_file_index += filters.div_ceil(MAX_OUT_CHANNELS_PER_PASS);
            let chunks = channels.div_ceil(64);
            tensors.push((
                format!("layer{li}.weights"),
                vec![filters, size * size, chunks],
                TensorData::U64(p.weights),
            ));
            tensors.push((
                format!("layer{li}.thresholds"),
                vec![filters, (1 << ACTIVATION_BITS) - 1],
                TensorData::I16(p.thresholds),
            ));
            tensors.push((
                format!("layer{li}.invert"),
                vec![filters],
                TensorData::U8(p.invert),
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
        tensors,
    })
}
