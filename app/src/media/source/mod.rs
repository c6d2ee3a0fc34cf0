//! Where frames come from: a V4L2 camera, an MJPEG AVI recording, a Y4M file, a folder of
//! images, or any other video through an `ffmpeg` subprocess.

pub mod avi;
pub mod camera;
pub mod ffmpeg;
pub mod images;
pub mod memory;
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub mod v4l2;
pub mod y4m;

use super::pixels::PixelFormat;
use anyhow::Result;
use std::path::Path;
use std::time::Duration;

/// A frame rate as a fraction: `num / den` frames per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den.max(1))
    }

    /// Time of frame `n`.
    pub fn pts(self, n: u64) -> Duration {
        if self.num == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(
            (u128::from(n) * u128::from(self.den) * 1_000_000_000 / u128::from(self.num)) as u64,
        )
    }

    /// The nearest fraction with a small denominator to `fps` (for rates given as decimals).
    pub fn from_fps(fps: f64) -> Rate {
        if fps.fract() == 0.0 && fps >= 1.0 && fps <= f64::from(u32::MAX) {
            Rate {
                num: fps as u32,
                den: 1,
            }
        } else {
            Rate {
                num: (fps * 1000.0).round().max(1.0) as u32,
                den: 1000,
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// What to call the source in messages (its path).
    pub name: String,
    pub width: usize,
    pub height: usize,
    pub rate: Rate,
    /// Frame count, when known in advance (for the progress bar).
    pub frames: Option<u64>,
    /// A camera: frames come at their own pace and must not wait for the pipeline.
    pub live: bool,
}

/// One frame as the source delivers it.
#[derive(Debug, Clone)]
pub struct RawFrame {
    pub index: u64,
    pub pts: Duration,
    pub format: PixelFormat,
    /// The container's size; an encoded frame's own header decides in the end.
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
    /// Where it came from, for messages: `file: frame N at byte B`.
    pub origin: String,
}

pub trait Source: Send {
    fn info(&self) -> &SourceInfo;
    /// The next frame, read into `buf` (a recycled buffer); `None` at the end.
    fn next_frame(&mut self, buf: Vec<u8>) -> Result<Option<RawFrame>>;
}

/// What the user asked of a camera, and the rate for image folders.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub camera: camera::CameraRequest,
    /// Frame rate of an image folder (its frames have no times of their own).
    pub fps: Option<f64>,
}

/// Opens `spec`: `/dev/videoN` is a camera, a directory a folder of images, `.avi` an MJPEG AVI,
/// `.y4m` a Y4M file; anything else (or an AVI with another codec) goes through ffmpeg.
pub fn open(spec: &str, options: &SourceOptions) -> Result<Box<dyn Source>> {
    let path = Path::new(spec);
    if spec.starts_with("/dev/video") {
        return camera::open(path, &options.camera);
    }
    if path.is_dir() {
        return Ok(Box::new(images::ImageFolder::open(
            path,
            options.fps.unwrap_or(images::DEFAULT_FPS),
        )?));
    }
    if !path.exists() {
        anyhow::bail!("{spec}: no such file or directory");
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("avi") => match avi::AviSource::open(path) {
            Ok(s) => Ok(Box::new(s)),
            Err(avi::OpenError::Codec(codec)) => {
                ffmpeg::FfmpegSource::open(path, &format!("an AVI with codec {codec}"))
                    .map(|s| Box::new(s) as Box<dyn Source>)
            }
            Err(avi::OpenError::Invalid(e)) => Err(e.into()),
        },
        Some("y4m") => Ok(Box::new(y4m::Y4mSource::open_file(path)?)),
        _ => ffmpeg::FfmpegSource::open(path, "not an MJPEG AVI, a Y4M file or a folder of images")
            .map(|s| Box::new(s) as Box<dyn Source>),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times() {
        let r = Rate {
            num: 30000,
            den: 1001,
        };
        assert!((r.fps() - 29.97).abs() < 0.01);
        assert_eq!(
            Rate { num: 10, den: 1 }.pts(12),
            Duration::from_millis(1200)
        );
        assert_eq!(r.pts(30000), Duration::from_secs(1001));
        assert_eq!(Rate::from_fps(25.0), Rate { num: 25, den: 1 });
        assert_eq!(
            Rate::from_fps(7.5),
            Rate {
                num: 7500,
                den: 1000
            }
        );
        assert_eq!(Rate { num: 0, den: 1 }.pts(5), Duration::ZERO);
    }

    #[test]
    fn missing_input_is_named() {
        let e = open("/nonexistent/clip.avi", &SourceOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "/nonexistent/clip.avi: no such file or directory");
    }
}
