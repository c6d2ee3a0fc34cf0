//! Image input as Darknet prepares it: RGB in \[0, 1\], CHW, bilinear resize with Darknet's
//! two-pass arithmetic, and the letterbox (aspect-preserving resize centred on grey 0.5).

use crate::error::{Error, Result};
use crate::kernels;
use crate::layers::Tensor;
use serde::{Deserialize, Serialize};
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
    let mut rgb = Vec::new();
    let (w, h) = decode_rgb8_into(bytes, &mut crate::jpeg::Planes::default(), &mut rgb)?;
    Ok((w, h, rgb))
}

/// [`decode_rgb8`] into `rgb`, reusing its allocation and the JPEG decoder's `planes` (a
/// video's frames); returns the picture's width and height.
pub fn decode_rgb8_into(
    bytes: &[u8],
    planes: &mut crate::jpeg::Planes,
    rgb: &mut Vec<u8>,
) -> std::result::Result<(usize, usize), String> {
    check_dimensions(bytes)?;
    match crate::jpeg::decode_into(bytes, planes, rgb) {
        Ok(size) => return Ok(size),
        Err(crate::jpeg::JpegError::Corrupt(m)) => return Err(format!("corrupt JPEG: {m}")),
        Err(crate::jpeg::JpegError::Unsupported(_)) => {}
    }
    let decoded = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let decoded = decoded.to_rgb8();
    rgb.clear();
    rgb.extend_from_slice(decoded.as_raw());
    Ok((decoded.width() as usize, decoded.height() as usize))
}

/// Refuses an image whose header declares more than [`crate::limits::MAX_IMAGE_PIXELS`], before
/// either decoder allocates for it. Headers that cannot be read are left to the decoders.
fn check_dimensions(bytes: &[u8]) -> std::result::Result<(), String> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format();
    if let Ok((w, h)) = reader
        .map_err(|_| ())
        .and_then(|r| r.into_dimensions().map_err(|_| ()))
    {
        if u64::from(w) * u64::from(h) > crate::limits::MAX_IMAGE_PIXELS {
            return Err(format!(
                "{w}x{h} pixels is more than the limit of {} pixels",
                crate::limits::MAX_IMAGE_PIXELS
            ));
        }
    }
    Ok(())
}

/// Interleaved RGB bytes to Darknet's planar floats.
pub fn from_rgb8(width: usize, height: usize, rgb: &[u8]) -> Tensor {
    let mut data = Vec::new();
    rgb8_to_planes(width, height, rgb, &mut data);
    Tensor {
        channels: 3,
        height,
        width,
        data,
    }
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

/// How the letterbox's bilinear blends are rounded. Darknet writes each blend as two products
/// and a sum; the reference board's Darknet is built with `-Ofast` for aarch64, and GCC then
/// contracts each blend into one product and a fused multiply-add. About one value in five of
/// a letterboxed image differs by one ulp between the two, enough to move a quantized
/// network's detections (docs/fidelity.md). A model file records which one its reference used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResizeArithmetic {
    /// `(1 - d) * a + d * b`: Darknet as written, as x86 builds, Debian's darknet and OpenCV
    /// compute it.
    #[default]
    Separate,
    /// `fma(d, b, (1 - d) * a)`: the reference board's Darknet (aarch64, `-Ofast`).
    Fused,
}

/// Darknet's `letterbox_image` (resize keeping the aspect ratio, centred on grey 0.5) into
/// buffers the caller keeps, so that a video pipeline allocates nothing per frame. The one
/// implementation of the letterbox: [`letterbox`], `detect` and the pipeline all run it.
#[derive(Debug, Default)]
pub struct Letterboxer {
    planes: Vec<f32>,
    part: Vec<f32>,
    ix: Vec<u32>,
    wa: Vec<f32>,
    wb: Vec<f32>,
}

impl Letterboxer {
    /// Letterboxes a planar `channels` x `h` x `w` image into `out`, a planar
    /// `channels` x `net_h` x `net_w` tensor.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        src: &[f32],
        (channels, h, w): (usize, usize, usize),
        net_w: usize,
        net_h: usize,
        arithmetic: ResizeArithmetic,
        out: &mut Vec<f32>,
    ) {
        assert_eq!(src.len(), channels * w * h, "{channels} planes of {w}x{h}");
        let (new_w, new_h) = letterbox_size(w, h, net_w, net_h);
        out.clear();
        out.resize(channels * net_w * net_h, 0.5);
        let canvas = Canvas {
            width: net_w,
            height: net_h,
            left: (net_w - new_w) / 2,
            top: (net_h - new_h) / 2,
        };
        self.resize_into(
            src,
            (channels, h, w),
            (new_w, new_h),
            arithmetic,
            out,
            canvas,
        );
    }

    /// [`Letterboxer::run`] on interleaved RGB bytes (the pixels divided by 255 first, as
    /// Darknet's loader does).
    #[allow(clippy::too_many_arguments)]
    pub fn run_rgb8(
        &mut self,
        w: usize,
        h: usize,
        rgb: &[u8],
        net_w: usize,
        net_h: usize,
        arithmetic: ResizeArithmetic,
        out: &mut Vec<f32>,
    ) {
        let mut planes = std::mem::take(&mut self.planes);
        rgb8_to_planes(w, h, rgb, &mut planes);
        self.run(&planes, (3, h, w), net_w, net_h, arithmetic, out);
        self.planes = planes;
    }

    /// Darknet's `resize_image` of `src` to `w` x `h`, written into `canvas` of `dst`:
    /// horizontal then vertical linear interpolation with scale `(in-1)/(out-1)`, the last
    /// column and row copied, on the [`kernels::active`] table.
    fn resize_into(
        &mut self,
        src: &[f32],
        (channels, ih, iw): (usize, usize, usize),
        (w, h): (usize, usize),
        arithmetic: ResizeArithmetic,
        dst: &mut [f32],
        canvas: Canvas,
    ) {
        if w == 0 || h == 0 || iw == 0 || ih == 0 {
            return;
        }
        let k = kernels::active();
        let (resize_h, resize_v) = match arithmetic {
            ResizeArithmetic::Separate => (k.resize_h, k.resize_v),
            ResizeArithmetic::Fused => (k.resize_h_fused, k.resize_v_fused),
        };
        let w_scale = scale(iw, w);
        let h_scale = scale(ih, h);
        // Columns that interpolate (all but the last, none in a one-pixel-wide image), with
        // Darknet's weights computed once; the rest copy the source's last column.
        let lerp_w = if iw == 1 { 0 } else { w - 1 };
        self.ix.clear();
        self.wa.clear();
        self.wb.clear();
        for c in 0..lerp_w {
            let sx = c as f32 * w_scale;
            let i = sx as usize;
            let dx = sx - i as f32;
            self.ix.push(i as u32);
            self.wa.push(1.0 - dx);
            self.wb.push(dx);
        }
        self.part.clear();
        self.part.resize(ih * w, 0.0);
        let part = &mut self.part;
        for (ch, plane) in src.chunks_exact(iw * ih).enumerate().take(channels) {
            resize_h(plane, iw, ih, &self.ix, &self.wa, &self.wb, part, w);
            for (r, row) in part.chunks_exact_mut(w).enumerate() {
                row[lerp_w..].fill(plane[r * iw + iw - 1]);
            }
            for r in 0..h {
                let sy = r as f32 * h_scale;
                let iy = sy as usize;
                let dy = sy - iy as f32;
                let top = &part[iy * w..][..w];
                let row = &mut dst[canvas.row(ch, r)..][..w];
                if r == h - 1 || ih == 1 {
                    for (d, &t) in row.iter_mut().zip(top) {
                        *d = (1.0 - dy) * t;
                    }
                } else {
                    resize_v(top, &part[(iy + 1) * w..][..w], 1.0 - dy, dy, row);
                }
            }
        }
    }
}

/// Where a resized image lands in a larger planar tensor.
#[derive(Debug, Clone, Copy)]
struct Canvas {
    width: usize,
    height: usize,
    left: usize,
    top: usize,
}

impl Canvas {
    /// The index of row `r` of the resized image's channel `ch`.
    fn row(&self, ch: usize, r: usize) -> usize {
        (ch * self.height + self.top + r) * self.width + self.left
    }
}

fn scale(from: usize, to: usize) -> f32 {
    if to > 1 {
        (from - 1) as f32 / (to - 1) as f32
    } else {
        0.0
    }
}

/// Interleaved RGB bytes to Darknet's planar floats, into `planes`.
pub fn rgb8_to_planes(width: usize, height: usize, rgb: &[u8], planes: &mut Vec<f32>) {
    assert_eq!(
        rgb.len(),
        width * height * 3,
        "RGB bytes of {width}x{height}"
    );
    let plane = width * height;
    planes.clear();
    planes.resize(3 * plane, 0.0);
    let (r, gb) = planes.split_at_mut(plane);
    let (g, b) = gb.split_at_mut(plane);
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        r[i] = f32::from(px[0]) / 255.0;
        g[i] = f32::from(px[1]) / 255.0;
        b[i] = f32::from(px[2]) / 255.0;
    }
}

/// Darknet's `resize_image` to `w` x `h`, with `arithmetic`'s rounding.
pub fn resize(im: &Tensor, w: usize, h: usize, arithmetic: ResizeArithmetic) -> Tensor {
    let mut out = Tensor::zeros(im.channels, h, w);
    let canvas = Canvas {
        width: w,
        height: h,
        left: 0,
        top: 0,
    };
    Letterboxer::default().resize_into(
        &im.data,
        (im.channels, im.height, im.width),
        (w, h),
        arithmetic,
        &mut out.data,
        canvas,
    );
    out
}

/// Darknet's `resize_image` as written, one value at a time: the reference of [`resize`]
/// (with the board's contraction written out for [`ResizeArithmetic::Fused`]).
pub fn resize_reference(im: &Tensor, w: usize, h: usize, arithmetic: ResizeArithmetic) -> Tensor {
    let blend = |wa: f32, a: f32, wb: f32, b: f32| match arithmetic {
        ResizeArithmetic::Separate => wa * a + wb * b,
        ResizeArithmetic::Fused => wb.mul_add(b, wa * a),
    };
    let (iw, ih) = (im.width, im.height);
    let mut part = Tensor::zeros(im.channels, ih, w);
    let (w_scale, h_scale) = (scale(iw, w), scale(ih, h));
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
                    blend(1.0 - dx, src[r * iw + ix], dx, src[r * iw + ix + 1])
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
                dst[r * w + c] = if r == h - 1 || ih == 1 {
                    (1.0 - dy) * src[iy * w + c]
                } else {
                    blend(1.0 - dy, src[iy * w + c], dy, src[(iy + 1) * w + c])
                };
            }
        }
    }
    out
}

/// Darknet's `letterbox_image`: resize keeping the aspect ratio, centre on a 0.5 canvas.
pub fn letterbox(im: &Tensor, net_w: usize, net_h: usize, arithmetic: ResizeArithmetic) -> Tensor {
    let mut data = Vec::new();
    Letterboxer::default().run(
        &im.data,
        (im.channels, im.height, im.width),
        net_w,
        net_h,
        arithmetic,
        &mut data,
    );
    Tensor {
        channels: im.channels,
        height: net_h,
        width: net_w,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_dimensions_past_the_limit_are_refused() {
        // dog.jpg with its SOF0 saying 65535x65535 (4.3e9 pixels).
        let mut jpeg =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/dog.jpg")).unwrap();
        let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0xff; 4]);
        let e = decode_rgb8(&jpeg).unwrap_err();
        assert_eq!(
            e,
            "65535x65535 pixels is more than the limit of 268435456 pixels"
        );

        // A PNG whose header says 100000x100000: the signature and IHDR are enough.
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 != 0 {
                        (crc >> 1) ^ 0xedb8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(13u32.to_be_bytes());
        png.extend(&ihdr);
        png.extend(crc32(&ihdr).to_be_bytes());
        // The PNG reader wants to see where the image data starts.
        png.extend(0u32.to_be_bytes());
        png.extend(b"IDAT");
        png.extend(crc32(b"IDAT").to_be_bytes());
        let e = decode_rgb8(&png).unwrap_err();
        assert_eq!(
            e,
            "100000x100000 pixels is more than the limit of 268435456 pixels"
        );
    }

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
        let r = resize(&im, 5, 3, ResizeArithmetic::Separate);
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
        let b = letterbox(&im, 4, 4, ResizeArithmetic::Separate);
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
