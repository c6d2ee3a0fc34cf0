//! Frames held in memory, so that disk reads are not part of a measurement; and a synthetic
//! clip for when no recording is given.

use super::{Rate, RawFrame, Source, SourceInfo};
use crate::media::pixels::PixelFormat;
use crate::media::sink::encode_jpeg;
use anyhow::Result;

pub struct MemorySource {
    frames: Vec<RawFrame>,
    next: usize,
    info: SourceInfo,
}

impl MemorySource {
    pub fn new(frames: Vec<RawFrame>, info: SourceInfo) -> MemorySource {
        MemorySource {
            frames,
            next: 0,
            info,
        }
    }
}

impl Source for MemorySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>> {
        let Some(f) = self.frames.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        buf.clear();
        buf.extend_from_slice(&f.data);
        Ok(Some(RawFrame {
            index: f.index,
            pts: f.pts,
            format: f.format,
            width: f.width,
            height: f.height,
            data: buf,
            origin: f.origin.clone(),
        }))
    }
}

/// A moving-rectangles clip: `n` JPEG frames of `w` x `h`.
pub fn synthetic_jpegs(n: usize, w: usize, h: usize) -> Result<Vec<Vec<u8>>> {
    (0..n)
        .map(|i| {
            let mut rgb = vec![0u8; w * h * 3];
            for (p, px) in rgb.chunks_exact_mut(3).enumerate() {
                let (x, y) = (p % w, p / w);
                px.copy_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 96]);
            }
            let rects = [
                ((i * 13) % (w - 120), h / 4, [220, 30, 30]),
                (w - 120 - (i * 7) % (w - 120), h / 2, [30, 200, 40]),
            ];
            for (rx, ry, colour) in rects {
                for y in ry..(ry + 160).min(h) {
                    for x in rx..rx + 100 {
                        rgb[(y * w + x) * 3..][..3].copy_from_slice(&colour);
                    }
                }
            }
            let mut jpeg = Vec::new();
            encode_jpeg(&rgb, w, h, &mut jpeg)?;
            Ok(jpeg)
        })
        .collect()
}

/// A synthetic 768x576 MJPEG clip of `count` frames (at most 60 distinct ones) at 10 frames/s.
pub fn synthetic_clip(count: usize) -> Result<(Vec<RawFrame>, SourceInfo)> {
    let (w, h) = (768, 576);
    let rate = Rate { num: 10, den: 1 };
    let frames = synthetic_jpegs(count.min(60), w, h)?
        .into_iter()
        .enumerate()
        .map(|(i, data)| RawFrame {
            index: i as u64,
            pts: rate.pts(i as u64),
            format: PixelFormat::Encoded,
            width: w,
            height: h,
            data,
            origin: format!("synthetic frame {i}"),
        })
        .collect();
    let info = SourceInfo {
        name: "synthetic 768x576 MJPEG".into(),
        width: w,
        height: h,
        rate,
        frames: None,
        live: false,
    };
    Ok((frames, info))
}
