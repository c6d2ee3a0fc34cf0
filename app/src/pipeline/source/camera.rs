//! V4L2 cameras: format negotiation (a plain function over what the device offers, tested
//! without a device) and, with the `camera` feature, MMAP streaming through the `v4l` crate.

use std::fmt;
use std::str::FromStr;

/// The pixel formats the pipeline takes from a camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraFormat {
    Yuyv,
    Nv12,
    Mjpeg,
}

impl CameraFormat {
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            CameraFormat::Yuyv => *b"YUYV",
            CameraFormat::Nv12 => *b"NV12",
            CameraFormat::Mjpeg => *b"MJPG",
        }
    }

    pub fn from_fourcc(f: [u8; 4]) -> Option<CameraFormat> {
        match &f {
            b"YUYV" => Some(CameraFormat::Yuyv),
            b"NV12" => Some(CameraFormat::Nv12),
            b"MJPG" => Some(CameraFormat::Mjpeg),
            _ => None,
        }
    }

    /// Raw formats first: they cost no decoding, which on the board's A53 cores is
    /// several milliseconds a frame.
    fn preference(self) -> u32 {
        match self {
            CameraFormat::Yuyv => 0,
            CameraFormat::Nv12 => 1,
            CameraFormat::Mjpeg => 2,
        }
    }
}

impl FromStr for CameraFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "yuyv" => Ok(CameraFormat::Yuyv),
            "nv12" => Ok(CameraFormat::Nv12),
            "mjpeg" | "mjpg" => Ok(CameraFormat::Mjpeg),
            _ => Err(format!("`{s}`: camera formats are yuyv, nv12 and mjpeg")),
        }
    }
}

impl fmt::Display for CameraFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CameraFormat::Yuyv => "YUYV",
            CameraFormat::Nv12 => "NV12",
            CameraFormat::Mjpeg => "MJPEG",
        })
    }
}

/// What the user asked for; unset fields are the camera's choice within the defaults.
#[derive(Debug, Clone, Default)]
pub struct CameraRequest {
    pub format: Option<CameraFormat>,
    pub size: Option<(u32, u32)>,
    pub fps: Option<u32>,
}

/// The size asked for when none is: the network works at 416x416, so more pixels only cost.
pub const DEFAULT_SIZE: (u32, u32) = (640, 480);
pub const DEFAULT_FPS: u32 = 30;

/// One format and size a device offers, with its frame intervals (seconds as num/den).
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub format: CameraFormat,
    pub width: u32,
    pub height: u32,
    pub intervals: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub format: CameraFormat,
    pub width: u32,
    pub height: u32,
    /// Frame interval in seconds, num/den.
    pub interval: (u32, u32),
}

impl Choice {
    pub fn fps(&self) -> f64 {
        f64::from(self.interval.1) / f64::from(self.interval.0.max(1))
    }
}

fn fps_of(interval: (u32, u32)) -> f64 {
    f64::from(interval.1) / f64::from(interval.0.max(1))
}

/// Picks a format, size and rate from `offers`:
/// - the format asked for, else any the pipeline takes;
/// - the size asked for exactly when asked (an error if no format offers it), else the offered
///   size nearest to 640x480;
/// - the rate nearest to the one asked for (30 by default), never a different size for it;
/// - among equals, raw formats before MJPEG.
pub fn negotiate(offers: &[Offer], req: &CameraRequest) -> Result<Choice, String> {
    let usable: Vec<&Offer> = offers
        .iter()
        .filter(|o| req.format.is_none_or(|f| f == o.format))
        .collect();
    if usable.is_empty() {
        let have: Vec<String> = offers.iter().map(|o| o.format.to_string()).collect();
        return Err(match req.format {
            Some(f) => format!(
                "the camera does not offer {f} (it offers: {})",
                if have.is_empty() {
                    "none of YUYV, NV12, MJPEG".into()
                } else {
                    dedup(have)
                }
            ),
            None => "the camera offers none of YUYV, NV12, MJPEG".into(),
        });
    }
    let sized: Vec<&Offer> = match req.size {
        Some((w, h)) => {
            let exact: Vec<&Offer> = usable
                .iter()
                .copied()
                .filter(|o| (o.width, o.height) == (w, h))
                .collect();
            if exact.is_empty() {
                let sizes: Vec<String> = usable
                    .iter()
                    .map(|o| format!("{}x{}", o.width, o.height))
                    .collect();
                return Err(format!(
                    "the camera does not offer {w}x{h} (it offers: {})",
                    dedup(sizes)
                ));
            }
            exact
        }
        None => {
            let (tw, th) = DEFAULT_SIZE;
            let distance = |o: &Offer| {
                (i64::from(o.width) * i64::from(o.height) - i64::from(tw) * i64::from(th)).abs()
            };
            let best = usable.iter().map(|o| distance(o)).min().expect("not empty");
            usable
                .iter()
                .copied()
                .filter(|o| distance(o) == best)
                .collect()
        }
    };
    let want = f64::from(req.fps.unwrap_or(DEFAULT_FPS));
    let mut best: Option<(f64, u32, Choice)> = None;
    for o in sized {
        let intervals = if o.intervals.is_empty() {
            vec![(1, want as u32)]
        } else {
            o.intervals.clone()
        };
        for iv in intervals {
            let miss = (fps_of(iv) - want).abs();
            let key = (miss, o.format.preference());
            let better = match &best {
                None => true,
                Some((m, p, _)) => key.0 < *m - 1e-9 || ((key.0 - *m).abs() <= 1e-9 && key.1 < *p),
            };
            if better {
                best = Some((
                    miss,
                    key.1,
                    Choice {
                        format: o.format,
                        width: o.width,
                        height: o.height,
                        interval: iv,
                    },
                ));
            }
        }
    }
    let (_, _, choice) = best.expect("at least one offer");
    if let Some(fps) = req.fps {
        if (choice.fps() - f64::from(fps)).abs() > 0.5 {
            return Err(format!(
                "the camera does not offer {fps} frames/s at {}x{} (nearest: {:.2})",
                choice.width,
                choice.height,
                choice.fps()
            ));
        }
    }
    Ok(choice)
}

fn dedup(mut items: Vec<String>) -> String {
    items.dedup();
    let mut seen = Vec::new();
    for i in items {
        if !seen.contains(&i) {
            seen.push(i);
        }
    }
    seen.join(", ")
}

/// Parses `WxH`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    s.split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .filter(|&(w, h): &(u32, u32)| w > 0 && h > 0)
        .ok_or_else(|| format!("`{s}`: a size is WIDTHxHEIGHT, as 640x480"))
}

#[cfg(feature = "camera")]
pub use device::open;

#[cfg(not(feature = "camera"))]
pub fn open(
    path: &std::path::Path,
    _req: &CameraRequest,
) -> anyhow::Result<Box<dyn super::Source>> {
    anyhow::bail!(
        "{}: this zynqdet was built without camera support (cargo feature `camera`)",
        path.display()
    )
}

#[cfg(feature = "camera")]
mod device {
    use super::*;
    use crate::pipeline::pixels::PixelFormat;
    use crate::pipeline::source::{Rate, RawFrame, Source, SourceInfo};
    use anyhow::{bail, Context, Result};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};
    use v4l::buffer::Type;
    use v4l::framesize::FrameSizeEnum;
    use v4l::io::traits::CaptureStream;
    use v4l::prelude::*;
    use v4l::video::Capture;
    use v4l::{FourCC, Fraction};

    /// A frame that takes longer than this means the camera has stopped.
    const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

    pub struct Camera {
        // the stream borrows nothing from the device (it shares its handle), but the device
        // must outlive it: fields drop in order, stream first
        stream: MmapStream<'static>,
        _device: Device,
        path: PathBuf,
        format: PixelFormat,
        first: Option<(Duration, u32)>,
        info: SourceInfo,
    }

    fn offers(dev: &Device) -> Result<Vec<Offer>> {
        let mut out = Vec::new();
        for desc in dev.enum_formats()? {
            let Some(format) = CameraFormat::from_fourcc(desc.fourcc.repr) else {
                continue;
            };
            for fs in dev.enum_framesizes(desc.fourcc)? {
                let sizes: Vec<(u32, u32)> = match fs.size {
                    FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
                    // a stepwise range: offer the usual sizes that fit in it
                    FrameSizeEnum::Stepwise(s) => {
                        [(640, 480), (1280, 720), (320, 240), (1920, 1080)]
                            .into_iter()
                            .filter(|&(w, h)| {
                                (s.min_width..=s.max_width).contains(&w)
                                    && (s.min_height..=s.max_height).contains(&h)
                            })
                            .collect()
                    }
                };
                for (width, height) in sizes {
                    let intervals = dev
                        .enum_frameintervals(desc.fourcc, width, height)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|fi| match fi.interval {
                            v4l::frameinterval::FrameIntervalEnum::Discrete(f) => {
                                (f.numerator, f.denominator)
                            }
                            // a range: its shortest interval, the fastest rate
                            v4l::frameinterval::FrameIntervalEnum::Stepwise(s) => {
                                (s.min.numerator, s.min.denominator)
                            }
                        })
                        .collect();
                    out.push(Offer {
                        format,
                        width,
                        height,
                        intervals,
                    });
                }
            }
        }
        Ok(out)
    }

    pub fn open(path: &Path, req: &CameraRequest) -> Result<Box<dyn Source>> {
        let name = path.display().to_string();
        let dev = Device::with_path(path).with_context(|| format!("{name}: cannot open"))?;
        let caps = dev
            .query_caps()
            .with_context(|| format!("{name}: not a V4L2 device"))?;
        let offers = offers(&dev).with_context(|| format!("{name}: cannot list formats"))?;
        let choice = negotiate(&offers, req).map_err(|m| anyhow::anyhow!("{name}: {m}"))?;
        let mut fmt = dev
            .format()
            .with_context(|| format!("{name}: cannot read the format"))?;
        fmt.width = choice.width;
        fmt.height = choice.height;
        fmt.fourcc = FourCC::new(&choice.format.fourcc());
        let fmt = dev
            .set_format(&fmt)
            .with_context(|| format!("{name}: cannot set {}", choice.format))?;
        if fmt.fourcc.repr != choice.format.fourcc()
            || (fmt.width, fmt.height) != (choice.width, choice.height)
        {
            bail!(
                "{name}: asked for {} {}x{}, the driver set {} {}x{}",
                choice.format,
                choice.width,
                choice.height,
                String::from_utf8_lossy(&fmt.fourcc.repr),
                fmt.width,
                fmt.height
            );
        }
        let params = v4l::video::capture::Parameters::new(Fraction::new(
            choice.interval.0,
            choice.interval.1,
        ));
        // not every driver supports setting the rate; the stream then runs at its default
        let rate = match dev.set_params(&params) {
            Ok(p) if p.interval.numerator > 0 => Rate {
                num: p.interval.denominator,
                den: p.interval.numerator,
            },
            _ => Rate {
                num: choice.interval.1,
                den: choice.interval.0.max(1),
            },
        };
        let mut stream = MmapStream::with_buffers(&dev, Type::VideoCapture, 4)
            .with_context(|| format!("{name}: cannot map capture buffers"))?;
        stream.set_timeout(FRAME_TIMEOUT);
        eprintln!(
            "{name}: {} ({}), {} {}x{} at {:.2} frames/s",
            caps.card,
            caps.driver,
            choice.format,
            choice.width,
            choice.height,
            rate.fps()
        );
        Ok(Box::new(Camera {
            stream,
            _device: dev,
            path: path.to_path_buf(),
            format: match choice.format {
                CameraFormat::Yuyv => PixelFormat::Yuyv,
                CameraFormat::Nv12 => PixelFormat::Nv12,
                CameraFormat::Mjpeg => PixelFormat::Encoded,
            },
            first: None,
            info: SourceInfo {
                name,
                width: choice.width as usize,
                height: choice.height as usize,
                rate,
                frames: None,
                live: true,
            },
        }))
    }

    impl Source for Camera {
        fn info(&self) -> &SourceInfo {
            &self.info
        }

        fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>> {
            let started = Instant::now();
            let (data, meta) = self.stream.next().with_context(|| {
                format!(
                    "{}: no frame from the camera (waited {:.1} s)",
                    self.path.display(),
                    started.elapsed().as_secs_f64()
                )
            })?;
            let used = (meta.bytesused as usize).min(data.len());
            buf.clear();
            buf.extend_from_slice(&data[..used]);
            let ts = Duration::new(meta.timestamp.sec as u64, meta.timestamp.usec as u32 * 1000);
            let (t0, seq0) = *self.first.get_or_insert((ts, meta.sequence));
            // the driver's sequence numbers count the frames it dropped too
            let index = u64::from(meta.sequence.wrapping_sub(seq0));
            Ok(Some(RawFrame {
                index,
                pts: ts.saturating_sub(t0),
                format: self.format,
                width: self.info.width,
                height: self.info.height,
                data: buf,
                origin: format!("{}: frame {index}", self.path.display()),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webcam() -> Vec<Offer> {
        // what a typical UVC webcam lists: YUYV is slow at large sizes, MJPEG is not
        let o = |format, width, height, fps: &[u32]| Offer {
            format,
            width,
            height,
            intervals: fps.iter().map(|&f| (1, f)).collect(),
        };
        vec![
            o(CameraFormat::Yuyv, 640, 480, &[30, 15]),
            o(CameraFormat::Yuyv, 1280, 720, &[10]),
            o(CameraFormat::Mjpeg, 640, 480, &[30]),
            o(CameraFormat::Mjpeg, 1280, 720, &[30, 60]),
            o(CameraFormat::Mjpeg, 320, 240, &[30]),
        ]
    }

    #[test]
    fn defaults_to_raw_vga_at_30() {
        let c = negotiate(&webcam(), &CameraRequest::default()).unwrap();
        assert_eq!(
            c,
            Choice {
                format: CameraFormat::Yuyv,
                width: 640,
                height: 480,
                interval: (1, 30)
            }
        );
    }

    #[test]
    fn a_rate_only_mjpeg_offers_picks_mjpeg() {
        let req = CameraRequest {
            size: Some((1280, 720)),
            fps: Some(30),
            format: None,
        };
        let c = negotiate(&webcam(), &req).unwrap();
        assert_eq!((c.format, c.fps()), (CameraFormat::Mjpeg, 30.0));
        let req = CameraRequest {
            size: Some((1280, 720)),
            fps: Some(10),
            format: None,
        };
        assert_eq!(
            negotiate(&webcam(), &req).unwrap().format,
            CameraFormat::Yuyv
        );
    }

    #[test]
    fn asked_format_and_size_are_kept_or_refused() {
        let req = CameraRequest {
            format: Some(CameraFormat::Mjpeg),
            size: None,
            fps: None,
        };
        let c = negotiate(&webcam(), &req).unwrap();
        assert_eq!(
            (c.format, c.width, c.height),
            (CameraFormat::Mjpeg, 640, 480)
        );
        let req = CameraRequest {
            format: Some(CameraFormat::Nv12),
            ..Default::default()
        };
        let e = negotiate(&webcam(), &req).unwrap_err();
        assert_eq!(e, "the camera does not offer NV12 (it offers: YUYV, MJPEG)");
        let req = CameraRequest {
            size: Some((800, 600)),
            ..Default::default()
        };
        let e = negotiate(&webcam(), &req).unwrap_err();
        assert!(
            e.contains("does not offer 800x600 (it offers: 640x480, 1280x720, 320x240)"),
            "{e}"
        );
        let req = CameraRequest {
            size: Some((1280, 720)),
            fps: Some(25),
            format: Some(CameraFormat::Yuyv),
        };
        let e = negotiate(&webcam(), &req).unwrap_err();
        assert!(
            e.contains("does not offer 25 frames/s at 1280x720 (nearest: 10.00)"),
            "{e}"
        );
        assert!(negotiate(&[], &CameraRequest::default()).is_err());
    }

    #[test]
    fn sizes_and_names_parse() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert!(parse_size("640").is_err());
        assert!(parse_size("0x480").is_err());
        assert_eq!("MJPG".parse::<CameraFormat>(), Ok(CameraFormat::Mjpeg));
        assert!("rgb".parse::<CameraFormat>().is_err());
        assert_eq!(
            CameraFormat::from_fourcc(*b"NV12"),
            Some(CameraFormat::Nv12)
        );
    }
}
