//! V4L2 cameras: format negotiation (a plain function over what the device offers, tested
//! without a device) and, with the `camera` feature, MMAP streaming through the ioctls of
//! `v4l2.rs`.

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

#[cfg(all(feature = "camera", target_os = "linux", target_pointer_width = "64"))]
pub use device::open;

#[cfg(not(all(feature = "camera", target_os = "linux", target_pointer_width = "64")))]
pub fn open(
    path: &std::path::Path,
    _req: &CameraRequest,
) -> anyhow::Result<Box<dyn super::Source>> {
    anyhow::bail!(
        "{}: this zynqdet was built without camera support (cargo feature `camera`, 64-bit Linux)",
        path.display()
    )
}

#[cfg(all(feature = "camera", target_os = "linux", target_pointer_width = "64"))]
mod device {
    use super::super::v4l2::{self, Buffer, Capability, FmtDesc, Format, FrmIvalEnum, FrmSizeEnum};
    use super::*;
    use crate::media::pixels::PixelFormat;
    use crate::media::source::{Rate, RawFrame, Source, SourceInfo};
    use anyhow::{bail, Context, Result};
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    /// A frame that takes longer than this means the camera has stopped.
    const FRAME_TIMEOUT: Duration = Duration::from_secs(3);
    /// Buffers the driver fills while the pipeline holds one.
    const BUFFERS: u32 = 4;

    /// One V4L2 ioctl on `file`, retried when a signal interrupts it.
    fn ioctl<T>(file: &File, request: u64, arg: &mut T) -> io::Result<()> {
        loop {
            // SAFETY: every request number used here is composed from the size of the very
            // struct passed with it (see v4l2.rs, whose layout a test checks against the
            // kernel's header), so the kernel reads and writes inside `arg`.
            let r = unsafe { libc::ioctl(file.as_raw_fd(), request as _, arg as *mut T) };
            if r != -1 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// A driver's buffer mapped into this process.
    struct Mapped {
        ptr: *mut libc::c_void,
        len: usize,
    }

    // SAFETY: the mapping is plain memory owned by this value; it is read only by the thread
    // that owns the camera.
    unsafe impl Send for Mapped {}

    impl Drop for Mapped {
        fn drop(&mut self) {
            // SAFETY: `ptr`/`len` are exactly what mmap returned, unmapped once here.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }

    pub struct Camera {
        file: File,
        buffers: Vec<Mapped>,
        path: PathBuf,
        format: PixelFormat,
        first: Option<(Duration, u32)>,
        info: SourceInfo,
    }

    impl Drop for Camera {
        fn drop(&mut self) {
            let mut kind = v4l2::BUF_TYPE_VIDEO_CAPTURE as i32;
            let _ = ioctl(&self.file, v4l2::VIDIOC_STREAMOFF, &mut kind);
        }
    }

    /// The sizes a stepwise range offers: the usual ones that fit in it.
    fn stepwise_sizes(s: &[u32; 6]) -> Vec<(u32, u32)> {
        let [min_w, max_w, _, min_h, max_h, _] = *s;
        [(640, 480), (1280, 720), (320, 240), (1920, 1080)]
            .into_iter()
            .filter(|&(w, h)| (min_w..=max_w).contains(&w) && (min_h..=max_h).contains(&h))
            .collect()
    }

    fn intervals(file: &File, pixelformat: u32, width: u32, height: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for index in 0.. {
            let mut e = FrmIvalEnum {
                index,
                pixel_format: pixelformat,
                width,
                height,
                ..Default::default()
            };
            if ioctl(file, v4l2::VIDIOC_ENUM_FRAMEINTERVALS, &mut e).is_err() {
                break;
            }
            // a range: its shortest interval (the first pair), the fastest rate
            out.push((e.interval[0], e.interval[1]));
            if e.kind != v4l2::FRMIVAL_TYPE_DISCRETE {
                break;
            }
        }
        out
    }

    fn offers(file: &File) -> Vec<Offer> {
        let mut out = Vec::new();
        for index in 0.. {
            let mut desc = FmtDesc {
                index,
                kind: v4l2::BUF_TYPE_VIDEO_CAPTURE,
                ..Default::default()
            };
            if ioctl(file, v4l2::VIDIOC_ENUM_FMT, &mut desc).is_err() {
                break;
            }
            let Some(format) = CameraFormat::from_fourcc(desc.pixelformat.to_le_bytes()) else {
                continue;
            };
            for size_index in 0.. {
                let mut fs = FrmSizeEnum {
                    index: size_index,
                    pixel_format: desc.pixelformat,
                    ..Default::default()
                };
                if ioctl(file, v4l2::VIDIOC_ENUM_FRAMESIZES, &mut fs).is_err() {
                    break;
                }
                let sizes = if fs.kind == v4l2::FRMSIZE_TYPE_DISCRETE {
                    vec![(fs.size[0], fs.size[1])]
                } else {
                    stepwise_sizes(&fs.size)
                };
                for (width, height) in sizes {
                    out.push(Offer {
                        format,
                        width,
                        height,
                        intervals: intervals(file, desc.pixelformat, width, height),
                    });
                }
                if fs.kind != v4l2::FRMSIZE_TYPE_DISCRETE {
                    break;
                }
            }
        }
        out
    }

    /// Asks for the chosen rate; not every driver can set one, and the stream then runs at its
    /// default, which is read back.
    fn set_rate(file: &File, choice: &Choice) -> Rate {
        let mut parm = v4l2::StreamParm {
            kind: v4l2::BUF_TYPE_VIDEO_CAPTURE,
            ..Default::default()
        };
        parm.capture.timeperframe = [choice.interval.0, choice.interval.1];
        let set = ioctl(file, v4l2::VIDIOC_S_PARM, &mut parm).is_ok()
            && parm.capture.capability & v4l2::CAP_TIMEPERFRAME != 0;
        match parm.capture.timeperframe {
            [num, den] if set && num > 0 && den > 0 => Rate { num: den, den: num },
            _ => Rate {
                num: choice.interval.1,
                den: choice.interval.0.max(1),
            },
        }
    }

    /// Requests, maps and queues the capture buffers, then starts streaming.
    fn start_streaming(file: &File) -> io::Result<Vec<Mapped>> {
        let mut req = v4l2::RequestBuffers {
            count: BUFFERS,
            kind: v4l2::BUF_TYPE_VIDEO_CAPTURE,
            memory: v4l2::MEMORY_MMAP,
            ..Default::default()
        };
        ioctl(file, v4l2::VIDIOC_REQBUFS, &mut req)?;
        if req.count == 0 {
            return Err(io::Error::other("the driver gave no capture buffers"));
        }
        let mut buffers = Vec::with_capacity(req.count as usize);
        for index in 0..req.count {
            let mut b = Buffer {
                index,
                kind: v4l2::BUF_TYPE_VIDEO_CAPTURE,
                memory: v4l2::MEMORY_MMAP,
                ..Default::default()
            };
            ioctl(file, v4l2::VIDIOC_QUERYBUF, &mut b)?;
            let len = b.length as usize;
            // SAFETY: maps the driver's buffer `index` at the offset the driver gave for it;
            // the result is checked, and unmapped by `Mapped`'s drop.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    file.as_raw_fd(),
                    b.offset as libc::off_t,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            buffers.push(Mapped { ptr, len });
            ioctl(file, v4l2::VIDIOC_QBUF, &mut b)?;
        }
        let mut kind = v4l2::BUF_TYPE_VIDEO_CAPTURE as i32;
        ioctl(file, v4l2::VIDIOC_STREAMON, &mut kind)?;
        Ok(buffers)
    }

    pub fn open(path: &Path, req: &CameraRequest) -> Result<Box<dyn Source>> {
        let name = path.display().to_string();
        let file = File::options()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("{name}: cannot open"))?;
        let mut caps = Capability::default();
        ioctl(&file, v4l2::VIDIOC_QUERYCAP, &mut caps)
            .with_context(|| format!("{name}: not a V4L2 device"))?;
        let device_caps = if caps.capabilities & v4l2::CAP_DEVICE_CAPS != 0 {
            caps.device_caps
        } else {
            caps.capabilities
        };
        if device_caps & v4l2::CAP_VIDEO_CAPTURE == 0 || device_caps & v4l2::CAP_STREAMING == 0 {
            bail!("{name}: not a video capture device with streaming I/O");
        }
        let offers = offers(&file);
        let choice = negotiate(&offers, req).map_err(|m| anyhow::anyhow!("{name}: {m}"))?;
        let mut fmt = Format::new(v4l2::BUF_TYPE_VIDEO_CAPTURE);
        ioctl(&file, v4l2::VIDIOC_G_FMT, &mut fmt)
            .with_context(|| format!("{name}: cannot read the format"))?;
        fmt.pix.width = choice.width;
        fmt.pix.height = choice.height;
        fmt.pix.pixelformat = v4l2::fourcc(choice.format.fourcc());
        fmt.pix.field = v4l2::FIELD_ANY;
        ioctl(&file, v4l2::VIDIOC_S_FMT, &mut fmt)
            .with_context(|| format!("{name}: cannot set {}", choice.format))?;
        if fmt.pix.pixelformat != v4l2::fourcc(choice.format.fourcc())
            || (fmt.pix.width, fmt.pix.height) != (choice.width, choice.height)
        {
            bail!(
                "{name}: asked for {} {}x{}, the driver set {} {}x{}",
                choice.format,
                choice.width,
                choice.height,
                String::from_utf8_lossy(&fmt.pix.pixelformat.to_le_bytes()),
                fmt.pix.width,
                fmt.pix.height
            );
        }
        let rate = set_rate(&file, &choice);
        let buffers = start_streaming(&file)
            .with_context(|| format!("{name}: cannot map capture buffers"))?;
        eprintln!(
            "{name}: {} ({}), {} {}x{} at {:.2} frames/s",
            v4l2::c_name(&caps.card),
            v4l2::c_name(&caps.driver),
            choice.format,
            choice.width,
            choice.height,
            rate.fps()
        );
        Ok(Box::new(Camera {
            file,
            buffers,
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

    impl Camera {
        /// Waits for a filled buffer and dequeues it.
        fn dequeue(&self) -> io::Result<Buffer> {
            let started = Instant::now();
            loop {
                let mut b = Buffer {
                    kind: v4l2::BUF_TYPE_VIDEO_CAPTURE,
                    memory: v4l2::MEMORY_MMAP,
                    ..Default::default()
                };
                match ioctl(&self.file, v4l2::VIDIOC_DQBUF, &mut b) {
                    Ok(()) => return Ok(b),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                let left = FRAME_TIMEOUT.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
                }
                let mut fd = libc::pollfd {
                    fd: self.file.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd, for the duration of the call.
                let r = unsafe { libc::poll(&mut fd, 1, left.as_millis() as libc::c_int) };
                if r < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                } else if fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                    // an unplugged camera
                    return Err(io::Error::other("the device is gone"));
                }
            }
        }
    }

    impl Source for Camera {
        fn info(&self) -> &SourceInfo {
            &self.info
        }

        fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>> {
            let started = Instant::now();
            let mut b = self.dequeue().with_context(|| {
                format!(
                    "{}: no frame from the camera (waited {:.1} s)",
                    self.path.display(),
                    started.elapsed().as_secs_f64()
                )
            })?;
            let Some(mapped) = self.buffers.get(b.index as usize) else {
                bail!(
                    "{}: the driver returned buffer {}",
                    self.path.display(),
                    b.index
                );
            };
            let used = (b.bytesused as usize).min(mapped.len);
            // SAFETY: the buffer is dequeued, so the driver does not write it until it is
            // queued again below; `used` is within its mapped length.
            let data = unsafe { std::slice::from_raw_parts(mapped.ptr.cast::<u8>(), used) };
            buf.clear();
            buf.extend_from_slice(data);
            ioctl(&self.file, v4l2::VIDIOC_QBUF, &mut b)
                .with_context(|| format!("{}: cannot requeue a buffer", self.path.display()))?;
            let ts = Duration::new(
                b.timestamp.sec.max(0) as u64,
                (b.timestamp.usec.clamp(0, 999_999) as u32) * 1000,
            );
            let (t0, seq0) = *self.first.get_or_insert((ts, b.sequence));
            // the driver's sequence numbers count the frames it dropped too
            let index = u64::from(b.sequence.wrapping_sub(seq0));
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
