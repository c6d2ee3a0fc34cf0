//! Where frames go: an annotated MJPEG AVI, a Y4M file, numbered PNG images, the Linux
//! framebuffer, JSON lines of detections, or nowhere.

pub mod avi;
pub mod framebuffer;
pub mod y4m;

use super::source::Rate;
use anyhow::{bail, Context, Result};
use darknet_port::network::Found;
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A frame as the outputs see it: the picture (annotated or not) and what was found in it.
pub struct OutputFrame<'a> {
    /// The source's frame number.
    pub index: u64,
    /// Time of the frame in the recording, or since the camera's first frame.
    pub pts: Duration,
    pub width: usize,
    pub height: usize,
    /// Interleaved RGB, `width * height * 3` bytes.
    pub rgb: &'a [u8],
    pub found: &'a [Found],
}

pub trait Sink: Send {
    fn write(&mut self, frame: &OutputFrame) -> Result<()>;
    /// Completes the output (indexes, flushes). Called once, also after a failure.
    fn finish(&mut self) -> Result<()>;
}

/// The picture format of the output, from what `--output` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Avi(PathBuf),
    Y4m(PathBuf),
    /// A directory to hold `000000.png`, `000001.png`, ...
    Png(PathBuf),
    Framebuffer(PathBuf),
    None,
}

impl Output {
    pub fn parse(spec: &str) -> Result<Output> {
        let path = PathBuf::from(spec);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        Ok(if spec == "none" {
            Output::None
        } else if spec.starts_with("/dev/fb") {
            Output::Framebuffer(path)
        } else if ext.as_deref() == Some("avi") {
            Output::Avi(path)
        } else if ext.as_deref() == Some("y4m") {
            Output::Y4m(path)
        } else if spec.ends_with('/') || path.is_dir() {
            Output::Png(path)
        } else {
            bail!(
                "{spec}: cannot tell the output format: name a .avi or .y4m file, a directory \
                 ending in / (PNG frames), /dev/fbN, or none"
            )
        })
    }

    /// Whether this output shows the pictures (so detections are drawn onto them).
    pub fn shows_pictures(&self) -> bool {
        !matches!(self, Output::None)
    }

    pub fn open(&self, width: usize, height: usize, rate: Rate) -> Result<Option<Box<dyn Sink>>> {
        Ok(match self {
            Output::Avi(path) => Some(Box::new(AviSink::create(path, width, height, rate)?)),
            Output::Y4m(path) => Some(Box::new(y4m::Y4mSink::create(path, width, height, rate)?)),
            Output::Png(dir) => Some(Box::new(PngSink::create(dir)?)),
            Output::Framebuffer(dev) => Some(Box::new(framebuffer::FramebufferSink::open(dev)?)),
            Output::None => None,
        })
    }
}

/// JPEG quality of AVI frames: boxes and label text stay crisp, frames stay near the size of
/// a camera's.
pub const JPEG_QUALITY: u8 = 90;

/// Encodes an RGB frame as a baseline JPEG into `out`.
pub fn encode_jpeg(rgb: &[u8], w: usize, h: usize, out: &mut Vec<u8>) -> Result<()> {
    out.clear();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        bail!("JPEG encoding: a {w}x{h} frame is larger than JPEG allows (65535x65535)");
    };
    jpeg_encoder::Encoder::new(&mut *out, JPEG_QUALITY)
        .encode(rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .context("JPEG encoding")
}

fn check_size(path: &Path, frame: &OutputFrame, w: usize, h: usize) -> Result<()> {
    if (frame.width, frame.height) != (w, h) {
        bail!(
            "{}: frame {} is {}x{} but the video is {w}x{h}",
            path.display(),
            frame.index,
            frame.width,
            frame.height
        );
    }
    Ok(())
}

pub struct AviSink {
    path: PathBuf,
    writer: Option<avi::AviWriter<BufWriter<File>>>,
    jpeg: Vec<u8>,
}

impl AviSink {
    pub fn create(path: &Path, width: usize, height: usize, rate: Rate) -> Result<AviSink> {
        let file =
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
        let writer = avi::AviWriter::new(
            BufWriter::with_capacity(1 << 18, file),
            width as u32,
            height as u32,
            rate,
        )
        .with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(AviSink {
            path: path.to_path_buf(),
            writer: Some(writer),
            jpeg: Vec::new(),
        })
    }
}

impl Sink for AviSink {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            bail!("{}: already closed", self.path.display());
        };
        let (w, h) = writer.size();
        check_size(&self.path, frame, w as usize, h as usize)?;
        encode_jpeg(frame.rgb, frame.width, frame.height, &mut self.jpeg)?;
        writer
            .write_frame(&self.jpeg)
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            writer
                .finish()
                .with_context(|| format!("{}: cannot write", self.path.display()))?;
        }
        Ok(())
    }
}

impl Drop for AviSink {
    fn drop(&mut self) {
        // a sink dropped without finish (a panic elsewhere) still gets its index
        let _ = self.finish();
    }
}

pub struct PngSink {
    dir: PathBuf,
}

impl PngSink {
    pub fn create(dir: &Path) -> Result<PngSink> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        Ok(PngSink {
            dir: dir.to_path_buf(),
        })
    }
}

impl Sink for PngSink {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        let path = self.dir.join(format!("{:06}.png", frame.index));
        // through a temporary name: a frame file is either complete or absent
        let tmp = path.with_extension("png.partial");
        image::save_buffer_with_format(
            &tmp,
            frame.rgb,
            frame.width as u32,
            frame.height as u32,
            image::ExtendedColorType::Rgb8,
            image::ImageFormat::Png,
        )
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A detection as the JSON outputs write it (`detect --json`, `run --json`): a box to a
/// tenth of a pixel.
#[derive(Serialize)]
pub struct JsonDetection<'a> {
    class: &'a str,
    class_id: usize,
    prob: f32,
    #[serde(rename = "box")]
    bbox: [f32; 4],
}

pub fn json_detections(found: &[Found]) -> Vec<JsonDetection<'_>> {
    found
        .iter()
        .map(|f| JsonDetection {
            class: &f.class,
            class_id: f.class_id,
            prob: f.prob,
            bbox: f.bbox.map(|v| (v * 10.0).round() / 10.0),
        })
        .collect()
}

#[derive(Serialize)]
struct JsonFrame<'a> {
    frame: u64,
    timestamp: f64,
    width: usize,
    height: usize,
    detections: Vec<JsonDetection<'a>>,
}

/// One JSON object per frame and line, flushed per frame so that an interrupted run leaves
/// whole lines.
pub struct JsonSink {
    path: PathBuf,
    out: BufWriter<Box<dyn Write + Send>>,
}

impl JsonSink {
    /// `-` is standard output (a reader that goes away early is a write error, not a panic).
    pub fn create(path: &Path) -> Result<JsonSink> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
            )
        };
        Ok(JsonSink::to_writer(path, out))
    }

    /// Lines to `out`, which `name` names in errors.
    pub fn to_writer(name: &Path, out: Box<dyn Write + Send>) -> JsonSink {
        JsonSink {
            path: name.to_path_buf(),
            out: BufWriter::new(out),
        }
    }

    /// The line written for `frame`.
    pub fn line(frame: &OutputFrame) -> Result<String> {
        Ok(serde_json::to_string(&JsonFrame {
            frame: frame.index,
            timestamp: (frame.pts.as_secs_f64() * 1e6).round() / 1e6,
            width: frame.width,
            height: frame.height,
            detections: json_detections(frame.found),
        })?)
    }
}

impl Sink for JsonSink {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        let line = Self::line(frame)?;
        writeln!(self.out, "{line}")
            .and_then(|_| self.out.flush())
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }

    fn finish(&mut self) -> Result<()> {
        self.out
            .flush()
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_kinds_from_names() {
        assert_eq!(
            Output::parse("out.avi").unwrap(),
            Output::Avi("out.avi".into())
        );
        assert_eq!(
            Output::parse("OUT.Y4M").unwrap(),
            Output::Y4m("OUT.Y4M".into())
        );
        assert_eq!(
            Output::parse("frames/").unwrap(),
            Output::Png("frames/".into())
        );
        assert_eq!(
            Output::parse("/dev/fb0").unwrap(),
            Output::Framebuffer("/dev/fb0".into())
        );
        assert_eq!(Output::parse("none").unwrap(), Output::None);
        let e = Output::parse("out.mp4").unwrap_err().to_string();
        assert!(
            e.starts_with("out.mp4: cannot tell the output format"),
            "{e}"
        );
        assert!(!Output::None.shows_pictures());
    }

    #[test]
    fn jpeg_frames_decode_to_their_size() {
        let (w, h) = (40, 24);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        let mut jpeg = Vec::new();
        encode_jpeg(&rgb, w, h, &mut jpeg).unwrap();
        let (dw, dh, _) = darknet_port::image_input::decode_rgb8(&jpeg).unwrap();
        assert_eq!((dw, dh), (w, h));
    }
}
