//! A raw frame to RGB: JPEG decoding (the stb-exact decoder) or a pixel-format conversion.
//! Followed by darknet_port's `Letterboxer` (the pipeline's preprocess stage, `stills`), a
//! video frame's input is the input of the same picture as a file, bit for bit (the tests here
//! check it): the same detections.

use super::pixels::{self, PixelFormat};
use darknet_port::image_input::decode_rgb8_into;
use darknet_port::jpeg::Planes;

/// Turns a raw frame into interleaved RGB in `rgb` (a recycled buffer); returns the picture's
/// size, which for an encoded frame is the size its own header gives. `planes` are the JPEG
/// decoder's, kept from frame to frame.
pub fn to_rgb(
    format: PixelFormat,
    w: usize,
    h: usize,
    raw: &[u8],
    rgb: &mut Vec<u8>,
    planes: &mut Planes,
) -> Result<(usize, usize), String> {
    match format {
        PixelFormat::Encoded => decode_rgb8_into(raw, planes, rgb),
        _ => {
            pixels::to_rgb(format, w, h, raw, rgb)?;
            Ok((w, h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pixels::{rgb_to_nv12, rgb_to_yuyv};
    use darknet_port::image_input::{
        decode_rgb8, from_rgb8, letterbox, load_image, Letterboxer, ResizeArithmetic,
    };
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
            for arithmetic in [ResizeArithmetic::Separate, ResizeArithmetic::Fused] {
                lb.run_rgb8(w, h, &rgb, 416, 416, arithmetic, &mut out);
                let reference = letterbox(&from_rgb8(w, h, &rgb), 416, 416, arithmetic);
                assert!(out == reference.data, "{w}x{h} {arithmetic:?} differs");
            }
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
        let (w, h) = to_rgb(
            PixelFormat::Encoded,
            0,
            0,
            &bytes,
            &mut rgb,
            &mut Planes::default(),
        )
        .unwrap();
        let mut input = Vec::new();
        let fused = ResizeArithmetic::Fused;
        Letterboxer::default().run_rgb8(w, h, &rgb, 416, 416, fused, &mut input);
        let still = letterbox(&load_image(&sample()).unwrap(), 416, 416, fused);
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
            assert_eq!(
                to_rgb(format, w, h, &raw, &mut converted, &mut Planes::default()),
                Ok((w, h))
            );
            let mut input = Vec::new();
            let fused = ResizeArithmetic::Fused;
            Letterboxer::default().run_rgb8(w, h, &converted, 416, 416, fused, &mut input);
            let still = letterbox(&from_rgb8(w, h, &converted), 416, 416, fused);
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
        assert!(to_rgb(
            PixelFormat::Encoded,
            0,
            0,
            &bytes,
            &mut rgb,
            &mut Planes::default()
        )
        .is_err());
    }
}
