//! Image input as Darknet prepares it: RGB in \[0, 1\], CHW, bilinear resize with Darknet's
//! two-pass arithmetic, and the letterbox (aspect-preserving resize centred on grey 0.5).

use crate::error::{Error, Result};
use crate::kernels;
use crate::layers::Tensor;
use std::path::Path;

/// Loads an image file as a 3-channel CHW tensor with values `byte / 255`.
pub fn load_image(path: &Path) -> Result<Tensor> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (width, height, rgb) = decode_rgb8(&bytes).map_err(|message| Error::Image {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(from_rgb8(width, height, &rgb))
}

/// Decodes an encoded image to interleaved RGB bytes. Baseline JPEGs go through the decoder
/// that reproduces Darknet's pixels exactly; other formats through the `image` crate.
pub fn decode_rgb8(bytes: &[u8]) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    match crate::jpeg::decode(bytes) {
        Ok(img) => return Ok((img.width, img.height, img.rgb)),
        Err(crate::jpeg::JpegError::Corrupt(m)) => return Err(format!("corrupt JPEG: {m}")),
        Err(crate::jpeg::JpegError::Unsupported(_)) => {}
    }
    let decoded = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let rgb = decoded.to_rgb8();
    Ok((rgb.width() as usize, rgb.height() as usize, rgb.into_raw()))
}

/// Interleaved RGB bytes to Darknet's planar floats.
pub fn from_rgb8(width: usize, height: usize, rgb: &[u8]) -> Tensor {
    assert_eq!(rgb.len(), width * height * 3);
    let plane = width * height;
    let mut t = Tensor::zeros(3, height, width);
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        for (c, &v) in px.iter().enumerate() {
            t.data[c * plane + i] = f32::from(v) / 255.0;
        }
    }
    t
}

/// The size an image of `w` x `h` takes inside a `net_w` x `net_h` letterbox (integer
/// arithmetic as Darknet's `letterbox_image`).
pub fn letterbox_size(w: usize, h: usize, net_w: usize, net_h: usize) -> (usize, usize) {
    if (net_w as f32 / w as f32) < (net_h as f32 / h as f32) {
        (net_w, h * net_w / w)
    } else {
        (w * net_h / h, net_h)
    }
}

/// Darknet's `resize_image`: horizontal then vertical linear interpolation with scale
/// `(in-1)/(out-1)`, the last column and row copied. Runs on the [`kernels::active`] table;
/// the result is [`resize_reference`]'s, bit for bit.
pub fn resize(im: &Tensor, w: usize, h: usize) -> Tensor {
    let (iw, ih) = (im.width, im.height);
    let mut out = Tensor::zeros(im.channels, h, w);
    if w == 0 || h == 0 || iw == 0 || ih == 0 {
        return out;
    }
    let k = kernels::active();
    let w_scale = if w > 1 {
        (iw - 1) as f32 / (w - 1) as f32
    } else {
        0.0
    };
    let h_scale = if h > 1 {
        (ih - 1) as f32 / (h - 1) as f32
    } else {
        0.0
    };
    // Columns that interpolate (all but the last, none in a one-pixel-wide image), with
    // Darknet's weights computed once; the rest copy the source's last column.
    let lerp_w = if iw == 1 { 0 } else { w - 1 };
    let mut ix = Vec::with_capacity(lerp_w);
    let (mut wa, mut wb) = (Vec::with_capacity(lerp_w), Vec::with_capacity(lerp_w));
    for c in 0..lerp_w {
        let sx = c as f32 * w_scale;
        let i = sx as usize;
        let dx = sx - i as f32;
        ix.push(i as u32);
        wa.push(1.0 - dx);
        wb.push(dx);
    }
    let mut part = vec![0f32; ih * w];
    for (src, dst) in im
        .data
        .chunks_exact(iw * ih)
        .zip(out.data.chunks_exact_mut(w * h))
    {
        (k.resize_h)(src, iw, ih, &ix, &wa, &wb, &mut part, w);
        for (r, row) in part.chunks_exact_mut(w).enumerate() {
            row[lerp_w..].fill(src[r * iw + iw - 1]);
        }
        for (r, row) in dst.chunks_exact_mut(w).enumerate() {
            let sy = r as f32 * h_scale;
            let iy = sy as usize;
            let dy = sy - iy as f32;
            let top = &part[iy * w..][..w];
            if r == h - 1 || ih == 1 {
                for (d, &t) in row.iter_mut().zip(top) {
                    *d = (1.0 - dy) * t;
                }
            } else {
                (k.resize_v)(top, &part[(iy + 1) * w..][..w], 1.0 - dy, dy, row);
            }
        }
    }
    out
}

/// Darknet's `resize_image` as written: the reference of [`resize`].
pub fn resize_reference(im: &Tensor, w: usize, h: usize) -> Tensor {
    let (iw, ih) = (im.width, im.height);
    let mut part = Tensor::zeros(im.channels, ih, w);
    let w_scale = if w > 1 {
        (iw - 1) as f32 / (w - 1) as f32
    } else {
        0.0
    };
    let h_scale = if h > 1 {
        (ih - 1) as f32 / (h - 1) as f32
    } else {
        0.0
    };
    for k in 0..im.channels {
        let src = &im.data[k * iw * ih..(k + 1) * iw * ih];
        let dst = &mut part.data[k * w * ih..(k + 1) * w * ih];
        for r in 0..ih {
            for c in 0..w {
                dst[r * w + c] = if c == w - 1 || iw == 1 {
                    src[r * iw + iw - 1]
                } else {
                    let sx = c as f32 * w_scale;
                    let ix = sx as usize;
                    let dx = sx - ix as f32;
                    (1.0 - dx) * src[r * iw + ix] + dx * src[r * iw + ix + 1]
                };
            }
        }
    }
    let mut out = Tensor::zeros(im.channels, h, w);
    for k in 0..im.channels {
        let src = &part.data[k * w * ih..(k + 1) * w * ih];
        let dst = &mut out.data[k * w * h..(k + 1) * w * h];
        for r in 0..h {
            let sy = r as f32 * h_scale;
            let iy = sy as usize;
            let dy = sy - iy as f32;
            for c in 0..w {
                dst[r * w + c] = (1.0 - dy) * src[iy * w + c];
            }
            if r == h - 1 || ih == 1 {
                continue;
            }
            for c in 0..w {
                dst[r * w + c] += dy * src[(iy + 1) * w + c];
            }
        }
    }
    out
}

/// Darknet's `letterbox_image`: resize keeping the aspect ratio, centre on a 0.5 canvas.
pub fn letterbox(im: &Tensor, net_w: usize, net_h: usize) -> Tensor {
    let (new_w, new_h) = letterbox_size(im.width, im.height, net_w, net_h);
    let resized = resize(im, new_w, new_h);
    let mut boxed = Tensor {
        channels: im.channels,
        height: net_h,
        width: net_w,
        data: vec![0.5; im.channels * net_w * net_h],
    };
    let (dx, dy) = ((net_w - new_w) / 2, (net_h - new_h) / 2);
    for k in 0..im.channels {
        for y in 0..new_h {
            let src = &resized.data[(k * new_h + y) * new_w..][..new_w];
            let dst = &mut boxed.data[(k * net_h + y + dy) * net_w + dx..][..new_w];
            dst.copy_from_slice(src);
        }
    }
    boxed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_sizes() {
        assert_eq!(letterbox_size(768, 576, 416, 416), (416, 312));
        assert_eq!(letterbox_size(576, 768, 416, 416), (312, 416));
        assert_eq!(letterbox_size(416, 416, 416, 416), (416, 416));
    }

    #[test]
    fn resize_interpolates_and_keeps_corners() {
        let im = Tensor {
            channels: 1,
            height: 2,
            width: 3,
            data: vec![0.0, 0.5, 1.0, 1.0, 0.5, 0.0],
        };
        let r = resize(&im, 5, 3);
        assert_eq!(r.data[0], 0.0);
        assert_eq!(r.data[4], 1.0);
        assert!((r.data[1] - 0.25).abs() < 1e-6);
        // middle row is the average of the two input rows
        assert!((r.data[5 + 2] - 0.5).abs() < 1e-6);
        assert_eq!(r.data[10], 1.0);
    }

    #[test]
    fn letterbox_pads_with_grey() {
        let im = Tensor {
            channels: 3,
            height: 2,
            width: 4,
            data: vec![1.0; 24],
        };
        let b = letterbox(&im, 4, 4);
        // rows 1 and 2 carry the image, rows 0 and 3 are bars
        assert_eq!(b.data[0], 0.5);
        assert_eq!(b.data[4], 1.0);
        assert_eq!(b.data[12], 0.5);
    }

    #[test]
    fn unreadable_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.jpg");
        std::fs::write(&text, "not an image").unwrap();
        let e = load_image(&text).unwrap_err().to_string();
        assert!(
            e.starts_with(&text.display().to_string()) && e.contains("not a readable image"),
            "{e}"
        );
        let missing = dir.path().join("missing.jpg");
        let e = load_image(&missing).unwrap_err().to_string();
        assert!(e.contains("missing.jpg"), "{e}");
    }
}
