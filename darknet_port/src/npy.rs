//! NumPy `.npy` files (format 1.0, 2.0 and 3.0): little-endian float32 arrays. Fortran-ordered
//! arrays (the released Tinier-YOLO's `conv8-W.npy` is one) are reordered to C order on load.

use crate::error::{Error, Result};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

pub fn read_f32(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_f32(&bytes).map_err(|message| Error::format(path, message))
}

/// Parses an in-memory `.npy`; the error is a message without the file name.
pub fn parse_f32(bytes: &[u8]) -> std::result::Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a NumPy .npy file (bad magic)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, header_start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        _ => return Err(format!("unsupported .npy format version {major}.{minor}")),
    };
    let data_start = header_start + header_len;
    let header = bytes
        .get(header_start..data_start)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;

    let descr = dict_value(header, "descr").ok_or("the .npy header has no 'descr'")?;
    if descr.trim_matches(|c| c == '\'' || c == '"') != "<f4" {
        return Err(format!(
            "dtype {descr} is not supported (expected little-endian float32 '<f4')"
        ));
    }
    let fortran = match dict_value(header, "fortran_order") {
        Some("False") => false,
        Some("True") => true,
        Some(other) => return Err(format!("malformed fortran_order {other}")),
        None => return Err("the .npy header has no 'fortran_order'".into()),
    };
    let shape_text = dict_value(header, "shape").ok_or("the .npy header has no 'shape'")?;
    let shape = parse_shape(shape_text)?;

    let count = crate::limits::shape_elements(&shape, crate::limits::MAX_TENSOR_ELEMENTS)
        .ok_or_else(|| {
            format!(
                "shape {shape:?} has more than {} elements",
                crate::limits::MAX_TENSOR_ELEMENTS
            )
        })?;
    let payload = &bytes[data_start..];
    if payload.len() != count * 4 {
        return Err(format!(
            "shape {shape:?} needs {} bytes of data, the file holds {}",
            count * 4,
            payload.len()
        ));
    }
    let data: Vec<f32> = payload
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let data = if fortran {
        fortran_to_c(&shape, &data)
    } else {
        data
    };
    Ok(NpyArray { shape, data })
}

/// Reorders a column-major array to row-major.
fn fortran_to_c(shape: &[usize], data: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    let mut index = vec![0usize; shape.len()];
    for value in data {
        // `index` walks the array in Fortran order: the first axis varies fastest.
        let c_offset = index.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i);
        out[c_offset] = *value;
        for (i, &n) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < n {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// The raw text of `key`'s value in the header's Python dict literal.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let start = quoted
        .iter()
        .find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))?;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

fn parse_shape(text: &str) -> std::result::Result<Vec<usize>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("malformed shape {text}"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("malformed shape {text}")))
        .collect()
}

/// Encodes a C-ordered little-endian float32 array as `.npy` (format `major`, 1 or 2): for
/// handing tensors to NumPy-based tools.
pub fn encode_f32(shape: &[usize], data: &[f32], major: u8) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len());
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    let prefix = if major == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend([major, 0]);
    if major == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    for v in data {
        out.extend(v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v1_and_v2() {
        let data = [1.0f32, -2.5, 3.25, 0.0, 7.0, 8.0];
        for major in [1, 2] {
            let a = parse_f32(&encode_f32(&[2, 3], &data, major)).unwrap();
            assert_eq!(a.shape, vec![2, 3]);
            assert_eq!(a.data, data);
        }
        let a = parse_f32(&encode_f32(&[6], &data, 1)).unwrap();
        assert_eq!(a.shape, vec![6]);
    }

    #[test]
    fn fortran_order_is_reordered() {
        // the 2x3 array [[0,1,2],[3,4,5]] stored column-major
        let column_major = [0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0];
        let mut bytes = encode_f32(&[2, 3], &column_major, 1);
        let at = bytes.windows(5).position(|w| w == b"False").unwrap();
        bytes[at..at + 5].copy_from_slice(b"True ");
        let a = parse_f32(&bytes).unwrap();
        assert_eq!(a.data, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn rejects_bad_input() {
        let good = encode_f32(&[2, 3], &[0.0; 6], 1);
        assert!(parse_f32(b"hello world").unwrap_err().contains("magic"));
        assert!(parse_f32(&good[..good.len() - 2])
            .unwrap_err()
            .contains("needs 24 bytes"));
        let edit = |from: &str, to: &str| {
            let mut bytes = good.clone();
            let at = bytes
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap();
            bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
            bytes
        };
        assert!(parse_f32(&edit("<f4", "<f8"))
            .unwrap_err()
            .contains("'<f8'"));
        assert!(parse_f32(&edit("False", "Maybe"))
            .unwrap_err()
            .contains("fortran_order"));
    }

    #[test]
    fn shapes_past_the_limit_are_refused_before_allocating() {
        let npy = |shape: &str| {
            let header =
                format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
            let mut b = MAGIC.to_vec();
            b.extend([1, 0]);
            b.extend((header.len() as u16).to_le_bytes());
            b.extend(header.bytes());
            b
        };
        // 2^64 elements: the product used to overflow (a panic in debug builds).
        let e = parse_f32(&npy("(4294967296, 4294967296)")).unwrap_err();
        assert!(e.contains("more than 1073741824 elements"), "{e}");
        let e = parse_f32(&npy("(65536, 32768)")).unwrap_err();
        assert!(e.contains("more than"), "{e}");
        assert!(parse_f32(&npy("(0, 5)")).unwrap().data.is_empty());
    }

    #[test]
    fn error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        std::fs::write(&path, b"\x93NUMPY\x01\x00").unwrap();
        let e = read_f32(&path).unwrap_err().to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
    }
}
