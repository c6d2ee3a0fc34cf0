//! Darknet's `.weights` files: a header (major, minor, revision, images seen), then the float
//! parameters of every convolutional layer in cfg order: biases, then (with batch norm) scales,
//! rolling means and rolling variances, then the weights `[out][in][k][k]`.
//!
//! Batch norm is folded into the weights and biases at load, as pjreddie's Darknet computes it:
//! `y = scale * (x - mean) / (sqrt(var) + 1e-6) + bias`.

use crate::cfg::Cfg;
use crate::error::{Error, Result};
use crate::image_input::ResizeArithmetic;
use crate::model_file::{ModelFile, TensorData};
use crate::plan::{LayerPlan, Plan};
use std::path::Path;

/// The header of a `.weights` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightsHeader {
    pub major: i32,
    pub minor: i32,
    pub revision: i32,
    pub seen: u64,
    /// Bytes before the first float (16 or 20: `seen` is 64-bit from format 0.2 on).
    pub size: usize,
}

pub fn parse_header(bytes: &[u8]) -> std::result::Result<WeightsHeader, String> {
    let word = |i: usize| -> std::result::Result<i32, String> {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| format!("truncated header: {} bytes", bytes.len()))
    };
    let (major, minor, revision) = (word(0)?, word(1)?, word(2)?);
    if !(0..1000).contains(&major) || !(0..1000).contains(&minor) {
        return Err(format!(
            "not a Darknet .weights file (header version {major}.{minor})"
        ));
    }
    let wide_seen = major * 10 + minor >= 2;
    let (seen, size) = if wide_seen {
        let low = word(3)? as u32 as u64;
        let high = word(4)? as u32 as u64;
        (high << 32 | low, 20)
    } else {
        (word(3)? as u32 as u64, 16)
    };
    Ok(WeightsHeader {
        major,
        minor,
        revision,
        seen,
        size,
    })
}

/// Reads a cfg and its `.weights` into a model file (nothing is written).
pub fn import(cfg_path: &Path, weights_path: &Path, names: Vec<String>) -> Result<ModelFile> {
    let cfg_text = std::fs::read_to_string(cfg_path).map_err(|e| Error::io(cfg_path, e))?;
    let cfg = Cfg::parse(&cfg_text, cfg_path)?;
    let plan = Plan::from_cfg(&cfg)?;
    let bytes = std::fs::read(weights_path).map_err(|e| Error::io(weights_path, e))?;
    let header = parse_header(&bytes).map_err(|m| Error::format(weights_path, m))?;
    let payload = &bytes[header.size..];

    let convs: Vec<(usize, &crate::plan::ConvPlan, usize)> = plan
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match &l.plan {
            LayerPlan::Conv(c) => Some((i, c, l.input.channels)),
            _ => None,
        })
        .collect();
    if let Some((i, _, _)) = convs.iter().find(|(_, c, _)| c.binary) {
        return Err(Error::format(
            cfg_path,
            format!("layer {i} is binary: binarized layers come from a QNN release (import-qnn), not .weights"),
        ));
    }
    let needed: usize = convs
        .iter()
        .map(|(_, c, cin)| {
            c.filters * (1 + if c.batch_normalize { 3 } else { 0 })
                + c.filters * cin * c.size * c.size
        })
        .sum();
    if payload.len() % 4 != 0 || payload.len() / 4 != needed {
        return Err(Error::format(
            weights_path,
            format!(
                "{} expects {needed} floats after the {}-byte header, the file holds {} ({} bytes)",
                cfg_path.display(),
                header.size,
                payload.len() / 4,
                payload.len()
            ),
        ));
    }
    let mut floats = payload
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")));
    let mut take = |n: usize| -> Vec<f32> { floats.by_ref().take(n).collect() };

    let mut tensors = Vec::new();
    for (li, conv, cin) in convs {
        let n = conv.filters;
        let per_filter = cin * conv.size * conv.size;
        let mut biases = take(n);
        let bn = conv.batch_normalize.then(|| (take(n), take(n), take(n)));
        let mut weights = take(n * per_filter);
        if let Some((scales, means, variances)) = bn {
            for f in 0..n {
                let factor = scales[f] / (variances[f].sqrt() + 0.000_001);
                for w in &mut weights[f * per_filter..(f + 1) * per_filter] {
                    *w *= factor;
                }
                biases[f] -= means[f] * factor;
            }
        }
        tensors.push((
            format!("layer{li}.weights"),
            vec![n, cin, conv.size, conv.size],
            TensorData::F32(weights),
        ));
        tensors.push((
            format!("layer{li}.biases"),
            vec![n],
            TensorData::F32(biases),
        ));
    }
    let name = cfg_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model")
        .to_string();
    Ok(ModelFile {
        name,
        provenance: format!(
            "Imported from {} and {} (Darknet weights format {}.{}.{}, {} images seen)",
            cfg_path.display(),
            weights_path.display(),
            header.major,
            header.minor,
            header.revision,
            header.seen
        ),
        cfg: cfg_text,
        names,
        quantization: None,
        nms: None,
        resize: ResizeArithmetic::Separate,
        tensors,
    })
}

/// Reads a names file (one class per line, blank lines ignored).
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{CpuRunner, Network, Timings};

    const CFG: &str = "[net]\nwidth=8\nheight=8\nchannels=1\n\
        [convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n\
        [convolutional]\nfilters=7\nsize=1\nstride=1\npad=1\nactivation=linear\n\
        [yolo]\nmask=0\nanchors=2,2\nclasses=2\nnum=1\n";

    fn weights_file(floats: &[f32], major: i32, minor: i32) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [major, minor, 0] {
            out.extend(v.to_le_bytes());
        }
        if major * 10 + minor >= 2 {
            out.extend(1000u64.to_le_bytes());
        } else {
            out.extend(1000u32.to_le_bytes());
        }
        for f in floats {
            out.extend(f.to_le_bytes());
        }
        out
    }

    /// conv1: 2 biases, 2 scales, 2 means, 2 variances, 2*9 weights; conv2: 7 biases, 7*2.
    fn floats() -> Vec<f32> {
        let mut v = vec![0.5, -0.5, 2.0, 1.0, 1.0, 0.0, 4.0, 1.0];
        v.extend((0..18).map(|i| i as f32 / 10.0));
        v.extend((0..7).map(|i| i as f32));
        v.extend((0..14).map(|i| -(i as f32) / 7.0));
        v
    }

    fn write(dir: &Path, weights: &[u8]) -> (std::path::PathBuf, std::path::PathBuf) {
        let (c, w) = (dir.join("t.cfg"), dir.join("t.weights"));
        std::fs::write(&c, CFG).unwrap();
        std::fs::write(&w, weights).unwrap();
        (c, w)
    }

    #[test]
    fn headers_of_both_versions() {
        let h = parse_header(&weights_file(&[], 0, 2)).unwrap();
        assert_eq!((h.size, h.seen), (20, 1000));
        let h = parse_header(&weights_file(&[], 0, 1)).unwrap();
        assert_eq!((h.size, h.seen), (16, 1000));
        assert!(parse_header(b"abc").unwrap_err().contains("truncated"));
    }

    #[test]
    fn folds_batch_norm_and_builds_a_network() {
        let dir = tempfile::tempdir().unwrap();
        let (c, w) = write(dir.path(), &weights_file(&floats(), 0, 2));
        let model = import(&c, &w, vec!["a".into(), "b".into()]).unwrap();
        let (_, w1) = model.f32("layer0.weights").unwrap();
        let (_, b1) = model.f32("layer0.biases").unwrap();
        // filter 0: scale 2, mean 1, var 4 -> factor 2/(2+1e-6); filter 1: scale 1, mean 0, var 1
        let f0 = 2.0 / (2.0 + 0.000_001);
        assert!((w1[1] - 0.1 * f0).abs() < 1e-6);
        assert!((b1[0] - (0.5 - f0)).abs() < 1e-6);
        assert!((b1[1] + 0.5).abs() < 1e-6);
        let net = Network::from_model(&model, &c).unwrap();
        let image = crate::layers::Tensor::zeros(1, 8, 8);
        let heads = net
            .forward(&image, &mut CpuRunner, &mut Timings::new())
            .unwrap();
        assert_eq!(heads.0.len(), 1);
        assert_eq!(heads.0[0].1.channels, 7);
    }

    #[test]
    fn too_short_too_long_and_mismatched_weights_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = floats();
        f.pop();
        let (c, w) = write(dir.path(), &weights_file(&f, 0, 2));
        let e = import(&c, &w, vec![]).unwrap_err().to_string();
        assert!(
            e.contains("t.weights") && e.contains("expects 47 floats") && e.contains("holds 46"),
            "{e}"
        );
        let mut f = floats();
        f.push(1.0);
        let (c, w) = write(dir.path(), &weights_file(&f, 0, 2));
        let e = import(&c, &w, vec![]).unwrap_err().to_string();
        assert!(e.contains("holds 48"), "{e}");
        // an old header, with a 32-bit `seen`, is read too
        let (c, w) = write(dir.path(), &weights_file(&floats(), 0, 1));
        assert!(import(&c, &w, vec![]).is_ok());
    }
}
