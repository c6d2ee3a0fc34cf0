//! Pixel layouts that cameras and raw video files deliver, and their conversion to the
//! interleaved RGB that the rest of the pipeline works on. Plain functions, so they are tested
//! without a device.
//!
//! Y'CbCr here is BT.601 with studio range (Y' 16..235), what UVC cameras and Y4M files carry;
//! the integer coefficients are the usual 8-bit fixed-point ones (as libyuv and swscale use).

/// How a captured frame's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// A complete encoded image (an MJPEG frame, an image file), decoded as still images are.
    Encoded,
    /// A Windows DIB: B, G, R bytes, rows padded to 4 bytes, bottom row first.
    Bgr24BottomUp,
    /// Packed 4:2:2: Y0 U Y1 V for each pair of pixels.
    Yuyv,
    /// 4:2:0 with a full Y plane followed by one plane of interleaved U, V.
    Nv12,
    /// Planar Y, then U, then V (Y4M).
    Planar(Chroma),
}

/// Chroma subsampling of a planar frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    Mono,
    C420,
    C422,
    C444,
}

impl Chroma {
    /// Width and height of one chroma plane of a `w` x `h` frame (0 x 0 for mono).
    pub fn plane_size(self, w: usize, h: usize) -> (usize, usize) {
        match self {
            Chroma::Mono => (0, 0),
            Chroma::C420 => (w.div_ceil(2), h.div_ceil(2)),
            Chroma::C422 => (w.div_ceil(2), h),
            Chroma::C444 => (w, h),
        }
    }

    pub fn frame_bytes(self, w: usize, h: usize) -> usize {
        let (cw, ch) = self.plane_size(w, h);
        w * h + 2 * cw * ch
    }
}

impl PixelFormat {
    /// Bytes of one `w` x `h` frame, or `None` for encoded frames (any size).
    pub fn frame_bytes(self, w: usize, h: usize) -> Option<usize> {
        match self {
            PixelFormat::Encoded => None,
            PixelFormat::Bgr24BottomUp => Some((w * 3).div_ceil(4) * 4 * h),
            PixelFormat::Yuyv => Some(w.div_ceil(2) * 4 * h),
            PixelFormat::Nv12 => Some(w * h + w.div_ceil(2) * 2 * h.div_ceil(2)),
            PixelFormat::Planar(c) => Some(c.frame_bytes(w, h)),
        }
    }
}

fn clamp8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// One BT.601 studio-range Y'CbCr pixel to R, G, B: the kernels' arithmetic, the one copy.
pub use darknet_port::kernels::generic::yuv_to_rgb;

/// One R, G, B pixel to BT.601 studio-range Y'CbCr.
#[inline]
pub fn rgb_to_yuv(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = rgb.map(i32::from);
    [
        clamp8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16),
        clamp8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128),
        clamp8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128),
    ]
}

fn check_len(what: &str, w: usize, h: usize, have: usize, need: usize) -> Result<(), String> {
    if w == 0 || h == 0 {
        return Err(format!("{what} frame of {w}x{h} pixels"));
    }
    if have < need {
        return Err(format!(
            "{what} frame of {w}x{h} needs {need} bytes, it has {have}"
        ));
    }
    Ok(())
}

/// Converts a raw frame of `format` to interleaved RGB in `dst` (resized to `w * h * 3`, so a
/// recycled buffer is reused without allocating). Encoded frames are not handled here.
pub fn to_rgb(
    format: PixelFormat,
    w: usize,
    h: usize,
    src: &[u8],
    dst: &mut Vec<u8>,
) -> Result<(), String> {
    let need = format
        .frame_bytes(w, h)
        .ok_or("encoded frames are decoded, not converted")?;
    let name = match format {
        PixelFormat::Bgr24BottomUp => "24-bit DIB",
        // the kernel table's frame conversions (NEON, AVX2 or the generic reference) check the
        // frame and size `dst` themselves
        PixelFormat::Yuyv => return darknet_port::kernels::yuyv_to_rgb(w, h, src, dst),
        PixelFormat::Nv12 => return darknet_port::kernels::nv12_to_rgb(w, h, src, dst),
        PixelFormat::Planar(_) => "planar YUV",
        PixelFormat::Encoded => unreachable!("handled above"),
    };
    check_len(name, w, h, src.len(), need)?;
    dst.clear();
    dst.resize(w * h * 3, 0);
    match format {
        PixelFormat::Bgr24BottomUp => {
            let stride = (w * 3).div_ceil(4) * 4;
            for y in 0..h {
                let row = &src[(h - 1 - y) * stride..][..w * 3];
                for (d, s) in dst[y * w * 3..][..w * 3]
                    .chunks_exact_mut(3)
                    .zip(row.chunks_exact(3))
                {
                    d.copy_from_slice(&[s[2], s[1], s[0]]);
                }
            }
        }
        PixelFormat::Yuyv | PixelFormat::Nv12 => unreachable!("converted above"),
        PixelFormat::Planar(chroma) => {
            let (cw, ch) = chroma.plane_size(w, h);
            let (luma, rest) = src.split_at(w * h);
            let (us, vs) = rest.split_at(cw * ch);
            for y in 0..h {
                for x in 0..w {
                    let (u, v) = match chroma {
                        Chroma::Mono => (128, 128),
                        Chroma::C420 => {
                            let c = (y / 2) * cw + x / 2;
                            (us[c], vs[c])
                        }
                        Chroma::C422 => {
                            let c = y * cw + x / 2;
                            (us[c], vs[c])
                        }
                        Chroma::C444 => (us[y * w + x], vs[y * w + x]),
                    };
                    let rgb = yuv_to_rgb(luma[y * w + x], u, v);
                    dst[(y * w + x) * 3..][..3].copy_from_slice(&rgb);
                }
            }
        }
        PixelFormat::Encoded => unreachable!("handled above"),
    }
    Ok(())
}

/// Interleaved RGB to planar 4:2:0 (Y4M's C420jpeg: chroma sited between the four pixels it
/// covers, so each chroma sample is the mean of its 2x2 block).
pub fn rgb_to_i420(w: usize, h: usize, rgb: &[u8], dst: &mut Vec<u8>) {
    let (cw, ch) = Chroma::C420.plane_size(w, h);
    dst.clear();
    dst.resize(w * h + 2 * cw * ch, 0);
    let (luma, rest) = dst.split_at_mut(w * h);
    let (us, vs) = rest.split_at_mut(cw * ch);
    for (i, px) in rgb.chunks_exact(3).take(w * h).enumerate() {
        luma[i] = rgb_to_yuv([px[0], px[1], px[2]])[0];
    }
    for cy in 0..ch {
        for cx in 0..cw {
            let mut sum = [0u32; 3];
            let mut n = 0;
            for y in cy * 2..(cy * 2 + 2).min(h) {
                for x in cx * 2..(cx * 2 + 2).min(w) {
                    let p = &rgb[(y * w + x) * 3..][..3];
                    for c in 0..3 {
                        sum[c] += u32::from(p[c]);
                    }
                    n += 1;
                }
            }
            let mean = sum.map(|s| ((s + n / 2) / n) as u8);
            let [_, u, v] = rgb_to_yuv(mean);
            us[cy * cw + cx] = u;
            vs[cy * cw + cx] = v;
        }
    }
}

/// Interleaved RGB to YUYV (what a camera would send for these pixels).
#[cfg(test)]
pub fn rgb_to_yuyv(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    let stride = w.div_ceil(2) * 4;
    let mut out = vec![0; stride * h];
    for y in 0..h {
        for x2 in 0..w.div_ceil(2) {
            let px = |x: usize| {
                let x = x.min(w - 1);
                let p = &rgb[(y * w + x) * 3..][..3];
                rgb_to_yuv([p[0], p[1], p[2]])
            };
            let (a, b) = (px(x2 * 2), px(x2 * 2 + 1));
            let q = &mut out[y * stride + x2 * 4..][..4];
            q[0] = a[0];
            q[1] = (u16::from(a[1]) + u16::from(b[1])).div_ceil(2) as u8;
            q[2] = b[0];
            q[3] = (u16::from(a[2]) + u16::from(b[2])).div_ceil(2) as u8;
        }
    }
    out
}

/// Interleaved RGB to NV12 (what a camera would send for these pixels).
#[cfg(test)]
pub fn rgb_to_nv12(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    let mut planar = Vec::new();
    rgb_to_i420(w, h, rgb, &mut planar);
    let (cw, ch) = Chroma::C420.plane_size(w, h);
    let mut out = planar[..w * h].to_vec();
    let (us, vs) = planar[w * h..].split_at(cw * ch);
    for (u, v) in us.iter().zip(vs) {
        out.push(*u);
        out.push(*v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [
                    (x * 255 / w) as u8,
                    (y * 255 / h) as u8,
                    ((x + y) * 3 % 256) as u8,
                ]
            })
            .collect()
    }

    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
    }

    #[test]
    fn bt601_reference_colours() {
        // studio range: black at 16, white at 235, saturated primaries from the BT.601 matrix
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(rgb_to_yuv([255, 0, 0]), [82, 90, 240]);
        assert_eq!(rgb_to_yuv([0, 0, 0]), [16, 128, 128]);
        for rgb in [[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 64, 32]] {
            let [y, u, v] = rgb_to_yuv(rgb);
            assert!(max_diff(&yuv_to_rgb(y, u, v), &rgb) <= 3, "{rgb:?}");
        }
    }

    #[test]
    fn yuyv_round_trip_on_flat_pairs() {
        // pairs of equal pixels survive 4:2:2 up to rounding
        let (w, h) = (6, 3);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let pair = (i % w) / 2 + (i / w) * 3;
                [(pair * 40) as u8, 200 - (pair * 20) as u8, 90]
            })
            .collect();
        let yuyv = rgb_to_yuyv(w, h, &rgb);
        assert_eq!(yuyv.len(), w * h * 2);
        let mut back = Vec::new();
        to_rgb(PixelFormat::Yuyv, w, h, &yuyv, &mut back).unwrap();
        assert!(max_diff(&back, &rgb) <= 3);
    }

    #[test]
    fn nv12_and_planar_agree_and_round_trip() {
        let (w, h) = (8, 6);
        // 2x2 blocks of one colour survive 4:2:0
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let b = (i % w) / 2 + ((i / w) / 2) * 4;
                [(b * 21) as u8, 255 - (b * 17) as u8, (b * 9) as u8]
            })
            .collect();
        let nv12 = rgb_to_nv12(w, h, &rgb);
        let mut i420 = Vec::new();
        rgb_to_i420(w, h, &rgb, &mut i420);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        to_rgb(PixelFormat::Nv12, w, h, &nv12, &mut a).unwrap();
        to_rgb(PixelFormat::Planar(Chroma::C420), w, h, &i420, &mut b).unwrap();
        assert_eq!(a, b);
        assert!(max_diff(&a, &rgb) <= 3);
    }

    #[test]
    fn odd_sizes_and_444() {
        let (w, h) = (5, 3);
        let rgb = gradient(w, h);
        let mut planar = vec![0; Chroma::C444.frame_bytes(w, h)];
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            let [y, u, v] = rgb_to_yuv([px[0], px[1], px[2]]);
            planar[i] = y;
            planar[w * h + i] = u;
            planar[2 * w * h + i] = v;
        }
        let mut back = Vec::new();
        to_rgb(PixelFormat::Planar(Chroma::C444), w, h, &planar, &mut back).unwrap();
        assert!(max_diff(&back, &rgb) <= 3);
        // odd width YUYV and NV12 have their padded sizes
        assert_eq!(PixelFormat::Yuyv.frame_bytes(5, 3), Some(36));
        assert_eq!(PixelFormat::Nv12.frame_bytes(5, 3), Some(15 + 12));
        let yuyv = rgb_to_yuyv(w, h, &rgb);
        to_rgb(PixelFormat::Yuyv, w, h, &yuyv, &mut back).unwrap();
        assert_eq!(back.len(), w * h * 3);
    }

    #[test]
    fn dib_rows_are_flipped_and_swapped() {
        // 2x2, rows padded to 8 bytes, bottom row first
        let dib = [
            1, 2, 3, 4, 5, 6, 0, 0, // bottom row: (3,2,1) (6,5,4)
            7, 8, 9, 10, 11, 12, 0, 0, // top row
        ];
        let mut rgb = Vec::new();
        to_rgb(PixelFormat::Bgr24BottomUp, 2, 2, &dib, &mut rgb).unwrap();
        assert_eq!(rgb, [9, 8, 7, 12, 11, 10, 3, 2, 1, 6, 5, 4]);
    }

    #[test]
    fn short_frames_are_errors_not_panics() {
        let mut dst = Vec::new();
        let e = to_rgb(PixelFormat::Yuyv, 4, 4, &[0; 10], &mut dst).unwrap_err();
        assert!(e.contains("needs 32 bytes, it has 10"), "{e}");
        assert!(to_rgb(PixelFormat::Nv12, 0, 4, &[], &mut dst).is_err());
        assert!(to_rgb(PixelFormat::Encoded, 4, 4, &[0; 64], &mut dst).is_err());
    }
}
