//! Frames to the network's input: decode or convert to RGB, then Darknet's letterbox.
//!
//! The letterbox here writes into recycled buffers instead of allocating three tensors a frame
//! as `darknet_port::image_input::letterbox(&from_rgb8(..))` does, with the same arithmetic in
//! the same order, so its result is identical to the still-image path (a test checks it bit for
//! bit): detections on a video frame are the detections on the same picture as a file.

use super::pixels::{self, PixelFormat};
use darknet_port::image_input::{decode_rgb8, letterbox_size};

/// Scratch space kept between frames.
#[derive(Default)]
pub struct Letterboxer {
    part: Vec<f32>,
}

impl Letterboxer {
    /// Letterboxes the `w` x `h` interleaved RGB image into `out` as a planar
    /// 3 x `net_h` x `net_w` tensor of values in [0, 1], grey (0.5) bars around it.
    pub fn run(
        &mut self,
        w: usize,
        h: usize,
        rgb: &[u8],
        net_w: usize,
        net_h: usize,
        out: &mut Vec<f32>,
    ) {
        assert_eq!(rgb.len(), w * h * 3, "RGB buffer of a {w}x{h} image");
        let (new_w, new_h) = letterbox_size(w, h, net_w, net_h);
        out.clear();
        out.resize(3 * net_w * net_h, 0.5);
        let (dx, dy) = ((net_w - new_w) / 2, (net_h - new_h) / 2);
        // Darknet's resize_image: a horizontal pass into `part` (h rows of new_w), then a
        // vertical one. The pixels are divided by 255 as from_rgb8 does before resizing.
        let w_scale = if new_w > 1 {
            (w - 1) as f32 / (new_w - 1) as f32
        } else {
            0.0
        };
        let h_scale = if new_h > 1 {
            (h - 1) as f32 / (new_h - 1) as f32
        } else {
            0.0
        };
        let px = |x: usize, y: usize, k: usize| f32::from(rgb[(y * w + x) * 3 + k]) / 255.0;
        self.part.clear();
        self.part.resize(3 * h * new_w, 0.0);
        for k in 0..3 {
            for r in 0..h {
                let dst = &mut self.part[(k * h + r) * new_w..][..new_w];
                for (c, d) in dst.iter_mut().enumerate() {
                    *d = if c == new_w - 1 || w == 1 {
                        px(w - 1, r, k)
                    } else {
                        let sx = c as f32 * w_scale;
                        let ix = sx as usize;
                        let fx = sx - ix as f32;
                        (1.0 - fx) * px(ix, r, k) + fx * px(ix + 1, r, k)
                    };
                }
            }
        }
        for k in 0..3 {
            let src = &self.part[k * h * new_w..][..h * new_w];
            for r in 0..new_h {
                let sy = r as f32 * h_scale;
                let iy = sy as usize;
                let fy = sy - iy as f32;
                let dst = &mut out[(k * net_h + r + dy) * net_w + dx..][..new_w];
                let top = &src[iy * new_w..][..new_w];
                if r == new_h - 1 || h == 1 {
                    for (d, t) in dst.iter_mut().zip(top) {
                        *d = (1.0 - fy) * t;
                    }
                } else {
                    let bottom = &src[(iy + 1) * new_w..][..new_w];
                    for ((d, t), b) in dst.iter_mut().zip(top).zip(bottom) {
                        *d = (1.0 - fy) * t + fy * b;
                    }
                }
            }
        }
    }
}

/// Turns a raw frame into interleaved RGB in `rgb`; returns the picture's size, which for an
/// encoded frame is the size its own header gives.
pub fn to_rgb(
    format: PixelFormat,
    w: usize,
    h: usize,
    raw: &[u8],
    rgb: &mut Vec<u8>,
) -> Result<(usize, usize), String> {
    match format {
        PixelFormat::Encoded => {
            // The decoder allocates its own buffer; it replaces the recycled one.
            let (dw, dh, decoded) = decode_rgb8(raw)?;
            *rgb = decoded;
            Ok((dw, dh))
        }
        _ => {
            pixels::to_rgb(format, w, h, raw, rgb)?;
            Ok((w, h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::pixels::{rgb_to_nv12, rgb_to_yuyv};
    use darknet_port::image_input::{from_rgb8, letterbox, load_image};
    use std::path::PathBuf;

    fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn letterbox_is_bit_exact_with_the_still_image_path() {
        let mut lb = Letterboxer::default();
        let mut out = Vec::new();
        for (i, &(w, h)) in [
            (768, 576),
            (576, 768),
            (640, 480),
            (416, 416),
            (37, 5),
            (1, 1),
        ]
        .iter()
        .enumerate()
        {
            let rgb = pseudo_random(w * h * 3, i as u32);
            lb.run(w, h, &rgb, 416, 416, &mut out);
            let reference = letterbox(&from_rgb8(w, h, &rgb), 416, 416);
            assert!(out == reference.data, "{w}x{h} differs");
        }
    }

    fn sample() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/dog.jpg")
    }

    #[test]
    fn mjpeg_frame_gives_the_still_image_input() {
        // a camera's MJPEG frame is a JPEG file's bytes: same pixels, same network input
        let bytes = std::fs::read(sample()).unwrap();
        let mut rgb = Vec::new();
        let (w, h) = to_rgb(PixelFormat::Encoded, 0, 0, &bytes, &mut rgb).unwrap();
        let mut input = Vec::new();
        Letterboxer::default().run(w, h, &rgb, 416, 416, &mut input);
        let still = letterbox(&load_image(&sample()).unwrap(), 416, 416);
        assert!(input == still.data);
    }

    #[test]
    fn yuyv_and_nv12_frames_give_the_input_of_their_rgb_pixels() {
        // a raw camera frame and an image of the pixels it converts to give the same input
        let bytes = std::fs::read(sample()).unwrap();
        let (w, h, rgb) = decode_rgb8(&bytes).unwrap();
        for (format, raw) in [
            (PixelFormat::Yuyv, rgb_to_yuyv(w, h, &rgb)),
            (PixelFormat::Nv12, rgb_to_nv12(w, h, &rgb)),
        ] {
            let mut converted = Vec::new();
            assert_eq!(to_rgb(format, w, h, &raw, &mut converted), Ok((w, h)));
            let mut input = Vec::new();
            Letterboxer::default().run(w, h, &converted, 416, 416, &mut input);
            let still = letterbox(&from_rgb8(w, h, &converted), 416, 416);
            assert!(input == still.data, "{format:?}");
            // and the conversion stays close to the original picture
            let mean_err: f64 = converted
                .iter()
                .zip(&rgb)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / rgb.len() as f64;
            assert!(mean_err < 6.0, "{format:?}: {mean_err}");
        }
    }

    #[test]
    fn corrupt_jpeg_is_an_error() {
        let mut bytes = std::fs::read(sample()).unwrap();
        bytes.truncate(600);
        let mut rgb = Vec::new();
        assert!(to_rgb(PixelFormat::Encoded, 0, 0, &bytes, &mut rgb).is_err());
    }
}
