//! The product's model file (`.zdm`): one file that holds a whole network, its cfg, its class
//! names, its quantization settings and all its parameters. `docs/model-format.md` describes it.
//!
//! ```text
//! offset 0   8 bytes  magic "ZDETMODL"
//!        8   u32 LE   format version (1)
//!       12   u32 LE   header length H
//!       16   H bytes  header, UTF-8 JSON (ModelHeader)
//!            zero padding to a multiple of 8
//!       D    tensor data, little-endian, each tensor at D + its `offset` (8-aligned)
//! ```

use crate::error::{Error, Result};
use crate::image_input::ResizeArithmetic;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MAGIC: &[u8; 8] = b"ZDETMODL";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    U64,
    I16,
    U8,
}

impl DType {
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::U64 => 8,
            DType::I16 => 2,
            DType::U8 => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorEntry {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Byte offset from the start of the data section.
    pub offset: usize,
}

impl TensorEntry {
    pub fn byte_len(&self) -> usize {
        self.shape.iter().product::<usize>() * self.dtype.size()
    }
}

/// How float activations enter and leave the binarized layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantizationInfo {
    /// Bits per activation inside the binarized layers.
    pub bits: usize,
    /// Float activations are clipped to `[0, clip]` before rounding to `2^bits` levels.
    pub clip: f32,
    /// The binarized layers see the image transposed (column-major), as the reference system
    /// feeds its accelerator.
    pub transposed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    pub name: String,
    /// Where the parameters came from and under which licence.
    pub provenance: String,
    /// The Darknet cfg, verbatim.
    pub cfg: String,
    pub names: Vec<String>,
    pub quantization: Option<QuantizationInfo>,
    /// The NMS threshold of the model's reference results, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nms: Option<f32>,
    /// The letterbox arithmetic of the model's reference results (absent: Darknet's own).
    #[serde(default, skip_serializing_if = "is_separate")]
    pub resize: ResizeArithmetic,
    /// FNV-1a 64 of the data section, hex.
    pub data_fnv1a64: String,
    pub tensors: Vec<TensorEntry>,
}

/// Typed tensor contents.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    U64(Vec<u64>),
    I16(Vec<i16>),
    U8(Vec<u8>),
}

impl TensorData {
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::U64(_) => DType::U64,
            TensorData::I16(_) => DType::I16,
            TensorData::U8(_) => DType::U8,
        }
    }

    fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::U64(v) => v.len(),
            TensorData::I16(v) => v.len(),
            TensorData::U8(v) => v.len(),
        }
    }

    fn write_le(&self, out: &mut Vec<u8>) {
        match self {
            TensorData::F32(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            TensorData::U64(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            TensorData::I16(v) => v.iter().for_each(|x| out.extend(x.to_le_bytes())),
            TensorData::U8(v) => out.extend(v),
        }
    }

    fn read_le(dtype: DType, bytes: &[u8]) -> TensorData {
        fn chunks<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunk of N bytes")))
                .collect()
        }
        match dtype {
            DType::F32 => TensorData::F32(chunks(bytes, f32::from_le_bytes)),
            DType::U64 => TensorData::U64(chunks(bytes, u64::from_le_bytes)),
            DType::I16 => TensorData::I16(chunks(bytes, i16::from_le_bytes)),
            DType::U8 => TensorData::U8(bytes.to_vec()),
        }
    }
}

/// A model in memory: the header and the tensors by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    pub name: String,
    pub provenance: String,
    pub cfg: String,
    pub names: Vec<String>,
    pub quantization: Option<QuantizationInfo>,
    pub nms: Option<f32>,
    pub resize: ResizeArithmetic,
    pub tensors: Vec<(String, Vec<usize>, TensorData)>,
}

fn is_separate(r: &ResizeArithmetic) -> bool {
    *r == ResizeArithmetic::Separate
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl ModelFile {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = Vec::new();
        let mut entries = Vec::new();
        for (name, shape, tensor) in &self.tensors {
            assert_eq!(
                shape.iter().product::<usize>(),
                tensor.len(),
                "shape of {name}"
            );
            while data.len() % 8 != 0 {
                data.push(0);
            }
            entries.push(TensorEntry {
                name: name.clone(),
                dtype: tensor.dtype(),
                shape: shape.clone(),
                offset: data.len(),
            });
            tensor.write_le(&mut data);
        }
        let header = ModelHeader {
            name: self.name.clone(),
            provenance: self.provenance.clone(),
            cfg: self.cfg.clone(),
            names: self.names.clone(),
            quantization: self.quantization,
            nms: self.nms,
            resize: self.resize,
            data_fnv1a64: format!("{:016x}", fnv1a64(&data)),
            tensors: entries,
        };
        let json = serde_json::to_vec_pretty(&header).expect("header serializes");
        let mut out = Vec::with_capacity(16 + json.len() + 8 + data.len());
        out.extend(MAGIC);
        out.extend(VERSION.to_le_bytes());
        out.extend((json.len() as u32).to_le_bytes());
        out.extend(&json);
        while out.len() % 8 != 0 {
            out.push(0);
        }
        out.extend(data);
        out
    }

    /// Writes through a temporary file and a rename, so a failed write never leaves a
    /// half-written model behind.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("zdm.partial");
        std::fs::write(&tmp, self.to_bytes()).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    pub fn load(path: &Path) -> Result<ModelFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        ModelFile::from_bytes(&bytes).map_err(|m| Error::format(path, m))
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<ModelFile, String> {
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err("not a zynqdet model file (bad magic)".into());
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(format!(
                "model format version {version} is not supported (this build reads {VERSION})"
            ));
        }
        let header_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        let header_bytes = bytes.get(16..16 + header_len).ok_or_else(|| {
            format!(
                "truncated: header of {header_len} bytes, file has {}",
                bytes.len()
            )
        })?;
        let header: ModelHeader =
            serde_json::from_slice(header_bytes).map_err(|e| format!("malformed header: {e}"))?;
        let data_start = (16 + header_len).div_ceil(8) * 8;
        let data = bytes.get(data_start..).unwrap_or(&[]);
        let mut tensors = Vec::with_capacity(header.tensors.len());
        for entry in &header.tensors {
            // The declared shape and offset are checked before they size anything.
            let end = crate::limits::shape_elements(&entry.shape, crate::limits::MAX_TENSOR_ELEMENTS)
                .and_then(|n| entry.offset.checked_add(n * entry.dtype.size()))
                .ok_or_else(|| {
                    format!(
                        "tensor {} declares shape {:?} at offset {}: more than {} elements or past any file",
                        entry.name,
                        entry.shape,
                        entry.offset,
                        crate::limits::MAX_TENSOR_ELEMENTS
                    )
                })?;
            let raw = data.get(entry.offset..end).ok_or_else(|| {
                format!(
                    "truncated: tensor {} needs data bytes {}..{}, the file holds {}",
                    entry.name,
                    entry.offset,
                    end,
                    data.len()
                )
            })?;
            tensors.push((
                entry.name.clone(),
                entry.shape.clone(),
                TensorData::read_le(entry.dtype, raw),
            ));
        }
        let expected_end = header
            .tensors
            .iter()
            .map(|e| e.offset + e.byte_len())
            .max()
            .unwrap_or(0);
        if data.len() != expected_end {
            return Err(format!(
                "data section is {} bytes, the tensors account for {expected_end}",
                data.len()
            ));
        }
        let hash = format!("{:016x}", fnv1a64(data));
        if hash != header.data_fnv1a64 {
            return Err(format!(
                "data checksum {hash} differs from the header's {}: the file is corrupted",
                header.data_fnv1a64
            ));
        }
        Ok(ModelFile {
            name: header.name,
            provenance: header.provenance,
            cfg: header.cfg,
            names: header.names,
            quantization: header.quantization,
            nms: header.nms,
            resize: header.resize,
            tensors,
        })
    }

    fn find(&self, name: &str) -> std::result::Result<(&[usize], &TensorData), String> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, d)| (s.as_slice(), d))
            .ok_or_else(|| format!("tensor {name} is missing"))
    }

    pub fn f32(&self, name: &str) -> std::result::Result<(&[usize], &[f32]), String> {
        match self.find(name)? {
            (s, TensorData::F32(v)) => Ok((s, v)),
            (_, d) => Err(format!("tensor {name} is {:?}, expected f32", d.dtype())),
        }
    }

    pub fn u64(&self, name: &str) -> std::result::Result<(&[usize], &[u64]), String> {
        match self.find(name)? {
            (s, TensorData::U64(v)) => Ok((s, v)),
            (_, d) => Err(format!("tensor {name} is {:?}, expected u64", d.dtype())),
        }
    }

    pub fn i16(&self, name: &str) -> std::result::Result<(&[usize], &[i16]), String> {
        match self.find(name)? {
            (s, TensorData::I16(v)) => Ok((s, v)),
            (_, d) => Err(format!("tensor {name} is {:?}, expected i16", d.dtype())),
        }
    }

    pub fn u8(&self, name: &str) -> std::result::Result<(&[usize], &[u8]), String> {
        match self.find(name)? {
            (s, TensorData::U8(v)) => Ok((s, v)),
            (_, d) => Err(format!("tensor {name} is {:?}, expected u8", d.dtype())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelFile {
        ModelFile {
            name: "t".into(),
            provenance: "test".into(),
            cfg: "[net]\n".into(),
            names: vec!["a".into()],
            quantization: Some(QuantizationInfo {
                bits: 3,
                clip: 4.0,
                transposed: true,
            }),
            nms: Some(0.3),
            resize: ResizeArithmetic::Fused,
            tensors: vec![
                ("b".into(), vec![3], TensorData::U8(vec![1, 2, 3])),
                ("w".into(), vec![2], TensorData::F32(vec![1.5, -2.0])),
                ("p".into(), vec![1, 1], TensorData::U64(vec![u64::MAX])),
                ("t".into(), vec![2], TensorData::I16(vec![-3, 4])),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let bytes = m.to_bytes();
        assert_eq!(ModelFile::from_bytes(&bytes).unwrap(), m);
        assert_eq!(m.f32("w").unwrap().1, &[1.5, -2.0]);
        assert!(m.f32("b").unwrap_err().contains("expected f32"));
        assert!(m.u8("zz").unwrap_err().contains("missing"));
    }

    #[test]
    fn truncated_and_corrupted_files_are_errors() {
        let bytes = sample().to_bytes();
        let e = ModelFile::from_bytes(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(e.contains("truncated: tensor t"), "{e}");
        let e = ModelFile::from_bytes(&bytes[..20]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(ModelFile::from_bytes(&bad)
            .unwrap_err()
            .contains("corrupted"));
        let mut longer = bytes;
        longer.push(0);
        assert!(ModelFile::from_bytes(&longer)
            .unwrap_err()
            .contains("account for"));
        assert!(ModelFile::from_bytes(b"GIF89a..........")
            .unwrap_err()
            .contains("magic"));
    }

    #[test]
    fn declared_shapes_past_the_limit_are_refused() {
        let bytes = sample().to_bytes();
        let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[16..16 + header_len]).unwrap();
        let with_header = |h: String| {
            let mut b = bytes[..12].to_vec();
            b.extend((h.len() as u32).to_le_bytes());
            b.extend(h.bytes());
            b.resize((16 + h.len()).div_ceil(8) * 8, 0);
            b.extend(&bytes[(16 + header_len).div_ceil(8) * 8..]);
            b
        };
        assert_eq!(
            ModelFile::from_bytes(&with_header(header.into())).unwrap(),
            sample()
        );
        // A product that overflows usize, one past the limit, and an offset at the end of usize.
        for (key, value) in [
            (
                "shape",
                serde_json::json!([4294967296u64, 4294967296u64, 3]),
            ),
            ("shape", serde_json::json!([1073741825u64])),
            ("offset", serde_json::json!(usize::MAX)),
        ] {
            let mut h: serde_json::Value = serde_json::from_str(header).unwrap();
            h["tensors"][0][key] = value.clone();
            let e = ModelFile::from_bytes(&with_header(h.to_string())).unwrap_err();
            assert!(
                e.starts_with("tensor b declares shape"),
                "{key}={value}: {e}"
            );
        }
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.zdm");
        let bytes = sample().to_bytes();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = ModelFile::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&path.display().to_string()) && e.contains("truncated"),
            "{e}"
        );
        sample().save(&path).unwrap();
        assert_eq!(ModelFile::load(&path).unwrap(), sample());
    }
}
