//! The part of the V4L2 user-space ABI that capture needs, written out by hand: the structs as
//! `<linux/videodev2.h>` lays them out on 64-bit Linux (x86_64 and aarch64 alike) and their
//! ioctl numbers. Written here rather than generated at build time, so that the default build
//! needs no libclang and no kernel headers; a test compiles a C program against the machine's
//! header (where there is one) and compares every size, offset and number below.

use std::mem::size_of;

pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
pub const MEMORY_MMAP: u32 = 1;
pub const FIELD_ANY: u32 = 0;
pub const FRMSIZE_TYPE_DISCRETE: u32 = 1;
pub const FRMIVAL_TYPE_DISCRETE: u32 = 1;
pub const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
pub const CAP_STREAMING: u32 = 0x0400_0000;
pub const CAP_DEVICE_CAPS: u32 = 0x8000_0000;
pub const CAP_TIMEPERFRAME: u32 = 0x1000;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FmtDesc {
    pub index: u32,
    pub kind: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

/// `v4l2_frmsizeenum`; the union holds a discrete size (first two words) or a stepwise range
/// (min_width, max_width, step_width, min_height, max_height, step_height).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FrmSizeEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub kind: u32,
    pub size: [u32; 6],
    pub reserved: [u32; 2],
}

/// `v4l2_frmivalenum`; the union holds a discrete interval (num, den) or a stepwise range
/// (min, max, step as num/den pairs).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FrmIvalEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub width: u32,
    pub height: u32,
    pub kind: u32,
    pub interval: [u32; 6],
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PixFormat {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub private: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

/// `v4l2_format`: the union is 200 bytes and 8-aligned on 64-bit (it holds `v4l2_window`, which
/// has pointers), so it starts at offset 8.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Format {
    pub kind: u32,
    _pad: u32,
    pub pix: PixFormat,
    pub raw: [u8; 200 - size_of::<PixFormat>()],
    _align: [u64; 0],
}

impl Format {
    /// An empty format of buffer type `kind`.
    pub fn new(kind: u32) -> Format {
        Format {
            kind,
            _pad: 0,
            pix: PixFormat::default(),
            raw: [0; 200 - size_of::<PixFormat>()],
            _align: [],
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureParm {
    pub capability: u32,
    pub capturemode: u32,
    /// Seconds per frame, num/den.
    pub timeperframe: [u32; 2],
    pub extendedmode: u32,
    pub readbuffers: u32,
    pub reserved: [u32; 4],
}

/// `v4l2_streamparm`: a 200-byte union after the type, 4-aligned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StreamParm {
    pub kind: u32,
    pub capture: CaptureParm,
    pub raw: [u8; 200 - size_of::<CaptureParm>()],
}

impl Default for StreamParm {
    fn default() -> StreamParm {
        StreamParm {
            kind: 0,
            capture: CaptureParm::default(),
            raw: [0; 200 - size_of::<CaptureParm>()],
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestBuffers {
    pub count: u32,
    pub kind: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Buffer {
    pub index: u32,
    pub kind: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: Timeval,
    /// `v4l2_timecode`: type, flags, frames, seconds, minutes, hours, userbits.
    pub timecode: [u32; 4],
    pub sequence: u32,
    pub memory: u32,
    /// `m.offset` for MMAP buffers (the union is 8 bytes: it also holds pointers).
    pub offset: u64,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: u32,
}

const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;

/// `_IOC(dir, 'V', nr, size)` as the kernel's asm-generic ioctl.h composes it.
const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((b'V' as u64) << 8) | nr
}

pub const VIDIOC_QUERYCAP: u64 = ioc(IOC_READ, 0, size_of::<Capability>());
pub const VIDIOC_ENUM_FMT: u64 = ioc(IOC_READ | IOC_WRITE, 2, size_of::<FmtDesc>());
pub const VIDIOC_G_FMT: u64 = ioc(IOC_READ | IOC_WRITE, 4, size_of::<Format>());
pub const VIDIOC_S_FMT: u64 = ioc(IOC_READ | IOC_WRITE, 5, size_of::<Format>());
pub const VIDIOC_REQBUFS: u64 = ioc(IOC_READ | IOC_WRITE, 8, size_of::<RequestBuffers>());
pub const VIDIOC_QUERYBUF: u64 = ioc(IOC_READ | IOC_WRITE, 9, size_of::<Buffer>());
pub const VIDIOC_QBUF: u64 = ioc(IOC_READ | IOC_WRITE, 15, size_of::<Buffer>());
pub const VIDIOC_DQBUF: u64 = ioc(IOC_READ | IOC_WRITE, 17, size_of::<Buffer>());
pub const VIDIOC_STREAMON: u64 = ioc(IOC_WRITE, 18, size_of::<i32>());
pub const VIDIOC_STREAMOFF: u64 = ioc(IOC_WRITE, 19, size_of::<i32>());
pub const VIDIOC_S_PARM: u64 = ioc(IOC_READ | IOC_WRITE, 22, size_of::<StreamParm>());
pub const VIDIOC_ENUM_FRAMESIZES: u64 = ioc(IOC_READ | IOC_WRITE, 74, size_of::<FrmSizeEnum>());
pub const VIDIOC_ENUM_FRAMEINTERVALS: u64 = ioc(IOC_READ | IOC_WRITE, 75, size_of::<FrmIvalEnum>());

/// A fourcc as V4L2 stores it: the first character in the low byte.
pub fn fourcc(code: [u8; 4]) -> u32 {
    u32::from_le_bytes(code)
}

/// A NUL-padded name from a V4L2 struct.
pub fn c_name(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;
    use std::process::Command;

    /// Every size, offset and ioctl number above, as `name value` lines; the C program below
    /// prints the same names from the kernel's header.
    fn ours() -> Vec<(String, u64)> {
        let mut v: Vec<(&str, u64)> = vec![
            ("capability", size_of::<Capability>() as u64),
            ("fmtdesc", size_of::<FmtDesc>() as u64),
            (
                "fmtdesc.pixelformat",
                offset_of!(FmtDesc, pixelformat) as u64,
            ),
            ("frmsizeenum", size_of::<FrmSizeEnum>() as u64),
            ("frmsizeenum.size", offset_of!(FrmSizeEnum, size) as u64),
            ("frmivalenum", size_of::<FrmIvalEnum>() as u64),
            (
                "frmivalenum.interval",
                offset_of!(FrmIvalEnum, interval) as u64,
            ),
            ("format", size_of::<Format>() as u64),
            ("format.pix", offset_of!(Format, pix) as u64),
            ("pix_format", size_of::<PixFormat>() as u64),
            ("streamparm", size_of::<StreamParm>() as u64),
            (
                "captureparm.timeperframe",
                offset_of!(CaptureParm, timeperframe) as u64,
            ),
            ("requestbuffers", size_of::<RequestBuffers>() as u64),
            ("buffer", size_of::<Buffer>() as u64),
            ("buffer.timestamp", offset_of!(Buffer, timestamp) as u64),
            ("buffer.sequence", offset_of!(Buffer, sequence) as u64),
            ("buffer.memory", offset_of!(Buffer, memory) as u64),
            ("buffer.m", offset_of!(Buffer, offset) as u64),
            ("buffer.length", offset_of!(Buffer, length) as u64),
            ("VIDIOC_QUERYCAP", VIDIOC_QUERYCAP),
            ("VIDIOC_ENUM_FMT", VIDIOC_ENUM_FMT),
            ("VIDIOC_G_FMT", VIDIOC_G_FMT),
            ("VIDIOC_S_FMT", VIDIOC_S_FMT),
            ("VIDIOC_REQBUFS", VIDIOC_REQBUFS),
            ("VIDIOC_QUERYBUF", VIDIOC_QUERYBUF),
            ("VIDIOC_QBUF", VIDIOC_QBUF),
            ("VIDIOC_DQBUF", VIDIOC_DQBUF),
            ("VIDIOC_STREAMON", VIDIOC_STREAMON),
            ("VIDIOC_STREAMOFF", VIDIOC_STREAMOFF),
            ("VIDIOC_S_PARM", VIDIOC_S_PARM),
            ("VIDIOC_ENUM_FRAMESIZES", VIDIOC_ENUM_FRAMESIZES),
            ("VIDIOC_ENUM_FRAMEINTERVALS", VIDIOC_ENUM_FRAMEINTERVALS),
            ("V4L2_PIX_FMT_YUYV", u64::from(fourcc(*b"YUYV"))),
            ("V4L2_CAP_STREAMING", u64::from(CAP_STREAMING)),
            ("V4L2_CAP_TIMEPERFRAME", u64::from(CAP_TIMEPERFRAME)),
        ];
        v.sort();
        v.into_iter().map(|(n, x)| (n.to_string(), x)).collect()
    }

    /// On the real stderr: the harness captures a passing test's output, and a skip must show.
    fn skipped(test: &str, why: &str) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    }

    const HEADER_PROBE: &str = r#"
#include <linux/videodev2.h>
#include <stddef.h>
#include <stdio.h>
#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))
int main(void) {
    P("capability", sizeof(struct v4l2_capability));
    P("fmtdesc", sizeof(struct v4l2_fmtdesc));
    P("fmtdesc.pixelformat", offsetof(struct v4l2_fmtdesc, pixelformat));
    P("frmsizeenum", sizeof(struct v4l2_frmsizeenum));
    P("frmsizeenum.size", offsetof(struct v4l2_frmsizeenum, discrete));
    P("frmivalenum", sizeof(struct v4l2_frmivalenum));
    P("frmivalenum.interval", offsetof(struct v4l2_frmivalenum, discrete));
    P("format", sizeof(struct v4l2_format));
    P("format.pix", offsetof(struct v4l2_format, fmt.pix));
    P("pix_format", sizeof(struct v4l2_pix_format));
    P("streamparm", sizeof(struct v4l2_streamparm));
    P("captureparm.timeperframe", offsetof(struct v4l2_captureparm, timeperframe));
    P("requestbuffers", sizeof(struct v4l2_requestbuffers));
    P("buffer", sizeof(struct v4l2_buffer));
    P("buffer.timestamp", offsetof(struct v4l2_buffer, timestamp));
    P("buffer.sequence", offsetof(struct v4l2_buffer, sequence));
    P("buffer.memory", offsetof(struct v4l2_buffer, memory));
    P("buffer.m", offsetof(struct v4l2_buffer, m));
    P("buffer.length", offsetof(struct v4l2_buffer, length));
    P("VIDIOC_QUERYCAP", VIDIOC_QUERYCAP);
    P("VIDIOC_ENUM_FMT", VIDIOC_ENUM_FMT);
    P("VIDIOC_G_FMT", VIDIOC_G_FMT);
    P("VIDIOC_S_FMT", VIDIOC_S_FMT);
    P("VIDIOC_REQBUFS", VIDIOC_REQBUFS);
    P("VIDIOC_QUERYBUF", VIDIOC_QUERYBUF);
    P("VIDIOC_QBUF", VIDIOC_QBUF);
    P("VIDIOC_DQBUF", VIDIOC_DQBUF);
    P("VIDIOC_STREAMON", VIDIOC_STREAMON);
    P("VIDIOC_STREAMOFF", VIDIOC_STREAMOFF);
    P("VIDIOC_S_PARM", VIDIOC_S_PARM);
    P("VIDIOC_ENUM_FRAMESIZES", VIDIOC_ENUM_FRAMESIZES);
    P("VIDIOC_ENUM_FRAMEINTERVALS", VIDIOC_ENUM_FRAMEINTERVALS);
    P("V4L2_PIX_FMT_YUYV", V4L2_PIX_FMT_YUYV);
    P("V4L2_CAP_STREAMING", V4L2_CAP_STREAMING);
    P("V4L2_CAP_TIMEPERFRAME", V4L2_CAP_TIMEPERFRAME);
    return 0;
}
"#;

    #[test]
    fn abi_matches_the_kernel_header() {
        let header = std::path::Path::new("/usr/include/linux/videodev2.h");
        if !header.is_file() {
            skipped(
                "abi_matches_the_kernel_header",
                "no /usr/include/linux/videodev2.h (Debian: linux-libc-dev)",
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("probe.c");
        let exe = dir.path().join("probe");
        std::fs::write(&src, HEADER_PROBE).unwrap();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let built = Command::new(&cc).arg(&src).arg("-o").arg(&exe).output();
        match built {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "the header probe does not compile:\n{}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => {
                skipped(
                    "abi_matches_the_kernel_header",
                    &format!("no C compiler ({cc}: {e})"),
                );
                return;
            }
        }
        let out = Command::new(&exe).output().unwrap();
        let mut theirs: Vec<(String, u64)> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let (n, v) = l.split_once(' ').unwrap();
                (n.to_string(), v.parse().unwrap())
            })
            .collect();
        theirs.sort();
        assert_eq!(ours(), theirs);
    }

    #[test]
    fn well_known_numbers() {
        // fixed by the 64-bit ABI, whatever header a machine has
        assert_eq!(VIDIOC_QUERYCAP, 0x8068_5600);
        assert_eq!(VIDIOC_S_FMT, 0xc0d0_5605);
        assert_eq!(VIDIOC_DQBUF, 0xc058_5611);
        assert_eq!(VIDIOC_STREAMON, 0x4004_5612);
        assert_eq!(c_name(b"uvcvideo\0\0\0"), "uvcvideo");
    }
}
