//! The Linux framebuffer (`/dev/fbN`): the board's DisplayPort/HDMI output without a desktop.
//! Frames are centred on the screen (cropped when larger) in the screen's own pixel format.

use super::OutputFrame;
use super::Sink;
use anyhow::{bail, Context, Result};
use memmap2::{MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Where a colour channel sits in a pixel: its lowest bit and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub offset: u32,
    pub length: u32,
}

/// What the driver says about the visible screen's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub height: usize,
    /// Bytes from one row to the next.
    pub line_length: usize,
    pub bits_per_pixel: u32,
    pub red: Channel,
    pub green: Channel,
    pub blue: Channel,
    /// The visible area's first row and column in the (virtual) buffer.
    pub xoffset: usize,
    pub yoffset: usize,
}

impl Layout {
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.bits_per_pixel, 16 | 24 | 32) {
            return Err(format!(
                "{} bits per pixel is not supported (16, 24, 32 are)",
                self.bits_per_pixel
            ));
        }
        for c in [self.red, self.green, self.blue] {
            if c.length == 0 || c.length > 8 || c.offset + c.length > self.bits_per_pixel {
                return Err(format!(
                    "a colour channel at bits {}+{}",
                    c.offset, c.length
                ));
            }
        }
        let bytes = (self.bits_per_pixel / 8) as usize;
        if self.line_length < (self.xoffset + self.width) * bytes {
            return Err(format!(
                "rows of {} bytes for {} pixels",
                self.line_length, self.width
            ));
        }
        Ok(())
    }

    /// Bytes of the mapping that the visible area needs.
    pub fn bytes_needed(&self) -> usize {
        (self.yoffset + self.height) * self.line_length
    }

    pub fn pack(&self, rgb: [u8; 3]) -> u32 {
        let put = |v: u8, c: Channel| (u32::from(v) >> (8 - c.length)) << c.offset;
        put(rgb[0], self.red) | put(rgb[1], self.green) | put(rgb[2], self.blue)
    }
}

/// Draws the `w` x `h` RGB picture centred into `screen` (the mapped framebuffer).
pub fn blit(layout: &Layout, screen: &mut [u8], rgb: &[u8], w: usize, h: usize) {
    let bytes = (layout.bits_per_pixel / 8) as usize;
    let (cw, ch) = (w.min(layout.width), h.min(layout.height));
    // crop the picture's centre when it is larger, centre it on the screen when smaller
    let (sx, sy) = ((w - cw) / 2, (h - ch) / 2);
    let (dx, dy) = ((layout.width - cw) / 2, (layout.height - ch) / 2);
    for y in 0..ch {
        let row = (layout.yoffset + dy + y) * layout.line_length + (layout.xoffset + dx) * bytes;
        let dst = &mut screen[row..row + cw * bytes];
        let src = &rgb[((sy + y) * w + sx) * 3..][..cw * 3];
        for (d, s) in dst.chunks_exact_mut(bytes).zip(src.chunks_exact(3)) {
            let v = layout.pack([s[0], s[1], s[2]]).to_le_bytes();
            d.copy_from_slice(&v[..bytes]);
        }
    }
}

// The kernel's structures (include/uapi/linux/fb.h).
#[repr(C)]
#[derive(Default)]
struct FbBitfield {
    offset: u32,
    length: u32,
    msb_right: u32,
}

#[repr(C)]
#[derive(Default)]
struct FbVarScreeninfo {
    xres: u32,
    yres: u32,
    xres_virtual: u32,
    yres_virtual: u32,
    xoffset: u32,
    yoffset: u32,
    bits_per_pixel: u32,
    grayscale: u32,
    red: FbBitfield,
    green: FbBitfield,
    blue: FbBitfield,
    transp: FbBitfield,
    nonstd: u32,
    activate: u32,
    height: u32,
    width: u32,
    accel_flags: u32,
    timing: [u32; 11],
    reserved: [u32; 4],
}

#[repr(C)]
struct FbFixScreeninfo {
    id: [u8; 16],
    smem_start: libc::c_ulong,
    smem_len: u32,
    type_: u32,
    type_aux: u32,
    visual: u32,
    xpanstep: u16,
    ypanstep: u16,
    ywrapstep: u16,
    line_length: u32,
    mmio_start: libc::c_ulong,
    mmio_len: u32,
    accel: u32,
    capabilities: u16,
    reserved: [u16; 2],
}

const FBIOGET_VSCREENINFO: libc::c_ulong = 0x4600;
const FBIOGET_FSCREENINFO: libc::c_ulong = 0x4602;

fn read_layout(file: &File, path: &Path) -> Result<(Layout, usize)> {
    let mut var = FbVarScreeninfo::default();
    // SAFETY: FBIOGET_VSCREENINFO writes one fb_var_screeninfo, which `var` is (repr(C), the
    // kernel's field order and sizes); the fd is open for the duration of the call.
    let r = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            FBIOGET_VSCREENINFO as _,
            &mut var as *mut FbVarScreeninfo,
        )
    };
    if r != 0 {
        bail!(
            "{}: not a framebuffer: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: all-zero bytes are a valid FbFixScreeninfo (integers and arrays of integers).
    let mut fix: FbFixScreeninfo = unsafe { std::mem::zeroed() };
    // SAFETY: as above, for FBIOGET_FSCREENINFO and fb_fix_screeninfo.
    let r = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            FBIOGET_FSCREENINFO as _,
            &mut fix as *mut FbFixScreeninfo,
        )
    };
    if r != 0 {
        bail!(
            "{}: not a framebuffer: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
    let ch = |b: &FbBitfield| Channel {
        offset: b.offset,
        length: b.length,
    };
    let layout = Layout {
        width: var.xres as usize,
        height: var.yres as usize,
        line_length: fix.line_length as usize,
        bits_per_pixel: var.bits_per_pixel,
        red: ch(&var.red),
        green: ch(&var.green),
        blue: ch(&var.blue),
        xoffset: var.xoffset as usize,
        yoffset: var.yoffset as usize,
    };
    layout
        .validate()
        .map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
    Ok((layout, fix.smem_len as usize))
}

pub struct FramebufferSink {
    path: PathBuf,
    layout: Layout,
    map: MmapMut,
}

impl FramebufferSink {
    pub fn open(path: &Path) -> Result<FramebufferSink> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        let (layout, smem_len) = read_layout(&file, path)?;
        let len = layout.bytes_needed();
        if smem_len != 0 && smem_len < len {
            bail!(
                "{}: {} bytes of video memory, the screen needs {len}",
                path.display(),
                smem_len
            );
        }
        // SAFETY: the mapping is of the framebuffer device, which the kernel keeps for as long
        // as it is mapped; other processes may draw into it too, which at worst mixes pixels:
        // we only ever write plain bytes through the slice.
        let map = unsafe { MmapOptions::new().len(len).map_mut(&file) }
            .with_context(|| format!("{}: cannot map", path.display()))?;
        Ok(FramebufferSink {
            path: path.to_path_buf(),
            layout,
            map,
        })
    }
}

impl Sink for FramebufferSink {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        blit(
            &self.layout,
            &mut self.map,
            frame.rgb,
            frame.width,
            frame.height,
        );
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.map
            .flush()
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xrgb8888(width: usize, height: usize) -> Layout {
        Layout {
            width,
            height,
            line_length: width * 4 + 8,
            bits_per_pixel: 32,
            red: Channel {
                offset: 16,
                length: 8,
            },
            green: Channel {
                offset: 8,
                length: 8,
            },
            blue: Channel {
                offset: 0,
                length: 8,
            },
            xoffset: 0,
            yoffset: 0,
        }
    }

    #[test]
    fn packs_common_pixel_formats() {
        let l = xrgb8888(1, 1);
        assert_eq!(l.pack([0x12, 0x34, 0x56]), 0x0012_3456);
        let rgb565 = Layout {
            bits_per_pixel: 16,
            line_length: 2,
            red: Channel {
                offset: 11,
                length: 5,
            },
            green: Channel {
                offset: 5,
                length: 6,
            },
            blue: Channel {
                offset: 0,
                length: 5,
            },
            ..l
        };
        assert_eq!(rgb565.pack([255, 255, 255]), 0xffff);
        assert_eq!(rgb565.pack([255, 0, 0]), 0xf800);
        assert_eq!(rgb565.pack([0, 4, 0]), 1 << 5);
        assert!(rgb565.validate().is_ok());
        let bad = Layout {
            bits_per_pixel: 8,
            ..l
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn centres_small_pictures_and_crops_large_ones() {
        let l = xrgb8888(4, 2);
        let mut screen = vec![0u8; l.bytes_needed()];
        // a 2x2 picture lands in columns 1-2
        let rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        blit(&l, &mut screen, &rgb, 2, 2);
        let px = |screen: &[u8], x: usize, y: usize| {
            u32::from_le_bytes(screen[y * l.line_length + x * 4..][..4].try_into().unwrap())
        };
        assert_eq!(px(&screen, 0, 0), 0);
        assert_eq!(px(&screen, 1, 0), 0xff0000);
        assert_eq!(px(&screen, 2, 0), 0x00ff00);
        assert_eq!(px(&screen, 1, 1), 0x0000ff);
        assert_eq!(px(&screen, 3, 1), 0);
        // a 6x2 picture shows its middle four columns
        let wide: Vec<u8> = (0..12u8).flat_map(|i| [i, i, i]).collect();
        blit(&l, &mut screen, &wide, 6, 2);
        assert_eq!(px(&screen, 0, 0), 0x010101);
        assert_eq!(px(&screen, 3, 1), 0x0a0a0a);
    }
}
