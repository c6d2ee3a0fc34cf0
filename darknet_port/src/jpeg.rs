//! A baseline JPEG decoder that reproduces, bit for bit, the pixels that Darknet's image loader
//! (stb_image 2.x, scalar path) produces: the same integer IDCT (jidctint "islow" with 12-bit
//! constants), the same "fancy" chroma upsampling and the same reduced-precision YCbCr->RGB.
//! A quantized network amplifies the last-bit differences between JPEG decoders into different
//! detections, so matching the reference system's results needs this. The IDCT, the 4:2:0
//! upsampling and the colour conversion run through the kernel table ([`crate::kernels`]:
//! `generic` holds their scalar reference, the SIMD tables give its bits).
//!
//! Supported: baseline and extended sequential Huffman JPEGs with 1 or 3 components, any
//! sampling factors, restart intervals. Progressive and other JPEGs return
//! [`JpegError::Unsupported`]; the caller decodes those with a general decoder.

use crate::kernels::Kernels;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JpegError {
    /// Not a JPEG, or a JPEG variant this decoder does not handle.
    Unsupported(String),
    /// A JPEG whose data is damaged or truncated.
    Corrupt(String),
}

impl fmt::Display for JpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JpegError::Unsupported(m) => write!(f, "unsupported JPEG: {m}"),
            JpegError::Corrupt(m) => write!(f, "corrupt JPEG: {m}"),
        }
    }
}

type Result<T> = std::result::Result<T, JpegError>;

fn corrupt<T>(message: impl Into<String>) -> Result<T> {
    Err(JpegError::Corrupt(message.into()))
}

/// Natural-order index of the k-th zig-zag coefficient; entries past 63 absorb runs that
/// overshoot in damaged files, as stb_image's table does.
const DEZIGZAG: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

#[derive(Clone, Default)]
struct Huffman {
    /// For code length l (1..=16): the largest code of that length, or -1.
    max_code: [i32; 18],
    /// Index into `values` of the first code of each length, minus that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn build(counts: &[u8; 16], values: Vec<u8>) -> Result<Huffman> {
        let mut h = Huffman {
            max_code: [-1; 18],
            offset: [0; 17],
            values,
        };
        let mut code = 0i32;
        let mut k = 0i32;
        for len in 1..=16 {
            let n = i32::from(counts[len - 1]);
            h.offset[len] = k - code;
            if n > 0 {
                code += n;
                k += n;
                h.max_code[len] = code - 1;
                if code > (1 << len) {
                    return corrupt("bad Huffman table");
                }
            }
            code <<= 1;
        }
        h.max_code[17] = i32::MAX;
        Ok(h)
    }
}

#[derive(Clone, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Samples of the component in the image (before upsampling).
    x: usize,
    y: usize,
    /// Stride and rows of the MCU-padded sample buffer.
    w2: usize,
    h2: usize,
    data: Vec<u8>,
    dc_pred: i32,
    dc_table: usize,
    ac_table: usize,
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    bits: u32,
    count: u32,
    /// A marker was met in the entropy-coded data: feed zeros from now on (as stb_image does).
    marker: Option<u8>,
    /// Zero bytes fed past the end of the data or at a marker; they sit at the end of `bits`.
    fake_bytes: u32,
    /// Set when a block consumed fed zeros: the image data was truncated.
    truncated: bool,
}

const TRUNCATED: &str = "the image data ends before the last block (truncated file?)";

impl<'a> BitReader<'a> {
    fn fill(&mut self) {
        while self.count <= 24 {
            let mut byte = 0u32;
            let mut real = false;
            if self.marker.is_none() && self.pos < self.data.len() {
                let b = self.data[self.pos];
                if b == 0xff {
                    let next = self.data.get(self.pos + 1).copied().unwrap_or(0xd9);
                    if next == 0 {
                        self.pos += 2;
                        byte = 0xff;
                        real = true;
                    } else {
                        // leave the marker for the caller
                        self.marker = Some(next);
                    }
                } else {
                    self.pos += 1;
                    byte = u32::from(b);
                    real = true;
                }
            }
            if !real {
                self.fake_bytes += 1;
            }
            self.bits |= byte << (24 - self.count);
            self.count += 8;
        }
    }

    /// Records whether any fed zero bits have been consumed.
    fn check_truncation(&mut self) {
        if self.count < 8 * self.fake_bytes {
            self.truncated = true;
        }
    }

    fn bit(&mut self) -> u32 {
        if self.count == 0 {
            self.fill();
        }
        let b = self.bits >> 31;
        self.bits <<= 1;
        self.count -= 1;
        b
    }

    fn receive(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.fill();
        }
        let v = self.bits >> (32 - n);
        self.bits <<= n;
        self.count -= n;
        v
    }

    /// `n` bits as a signed coefficient (JPEG's EXTEND).
    fn extend_receive(&mut self, n: u32) -> i32 {
        let v = self.receive(n) as i32;
        if n > 0 && v < (1 << (n - 1)) {
            v - (1 << n) + 1
        } else {
            v
        }
    }

    fn decode(&mut self, h: &Huffman) -> Result<u8> {
        let mut code = 0i32;
        for len in 1..=16 {
            code = (code << 1) | self.bit() as i32;
            if code <= h.max_code[len] {
                let index = (code + h.offset[len]) as usize;
                return h
                    .values
                    .get(index)
                    .copied()
                    .ok_or_else(|| JpegError::Corrupt("bad Huffman code".into()));
            }
        }
        corrupt("bad Huffman code")
    }

    /// Drops the bit buffer and skips an RSTn marker at the current position.
    fn restart(&mut self) {
        self.check_truncation();
        self.fake_bytes = 0;
        self.bits = 0;
        self.count = 0;
        self.marker = None;
        if self.pos + 1 < self.data.len()
            && self.data[self.pos] == 0xff
            && (0xd0..=0xd7).contains(&self.data[self.pos + 1])
        {
            self.pos += 2;
        }
    }
}

struct Decoder<'a> {
    data: &'a [u8],
    /// Where the component planes come from and go back to.
    planes: &'a mut Planes,
    pos: usize,
    quant: [[u16; 64]; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    comps: Vec<Component>,
    width: usize,
    height: usize,
    h_max: usize,
    v_max: usize,
    mcus_x: usize,
    mcus_y: usize,
    restart_interval: usize,
    frame_seen: bool,
}

impl<'a> Decoder<'a> {
    fn u8(&mut self) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| JpegError::Corrupt("truncated file".into()))?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<usize> {
        Ok(usize::from(self.u8()?) << 8 | usize::from(self.u8()?))
    }

    fn segment(&mut self) -> Result<&'a [u8]> {
        let len = self.u16()?;
        if len < 2 || self.pos + len - 2 > self.data.len() {
            return corrupt("truncated segment");
        }
        let s = &self.data[self.pos..self.pos + len - 2];
        self.pos += len - 2;
        Ok(s)
    }

    fn read_dqt(&mut self) -> Result<()> {
        let s = self.segment()?;
        let mut i = 0;
        while i < s.len() {
            let (precision, table) = (s[i] >> 4, usize::from(s[i] & 15));
            i += 1;
            if table > 3 {
                return corrupt("bad DQT table id");
            }
            let size = if precision == 0 { 64 } else { 128 };
            let body = s
                .get(i..i + size)
                .ok_or_else(|| JpegError::Corrupt("truncated DQT".into()))?;
            for k in 0..64 {
                let v = if precision == 0 {
                    u16::from(body[k])
                } else {
                    u16::from(body[2 * k]) << 8 | u16::from(body[2 * k + 1])
                };
                self.quant[table][DEZIGZAG[k]] = v;
            }
            i += size;
        }
        Ok(())
    }

    fn read_dht(&mut self) -> Result<()> {
        let s = self.segment()?;
        let mut i = 0;
        while i < s.len() {
            let (class, table) = (s[i] >> 4, usize::from(s[i] & 15));
            if class > 1 || table > 3 {
                return corrupt("bad DHT table id");
            }
            let counts: [u8; 16] = s
                .get(i + 1..i + 17)
                .ok_or_else(|| JpegError::Corrupt("truncated DHT".into()))?
                .try_into()
                .expect("16 counts");
            let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let values = s
                .get(i + 17..i + 17 + n)
                .ok_or_else(|| JpegError::Corrupt("truncated DHT".into()))?
                .to_vec();
            let h = Huffman::build(&counts, values)?;
            if class == 0 {
                self.dc[table] = Some(h);
            } else {
                self.ac[table] = Some(h);
            }
            i += 17 + n;
        }
        Ok(())
    }

    fn read_sof(&mut self) -> Result<()> {
        let s = self.segment()?;
        if s.len() < 6 || s[0] != 8 {
            return Err(JpegError::Unsupported(
                "only 8-bit samples are supported".into(),
            ));
        }
        self.height = usize::from(s[1]) << 8 | usize::from(s[2]);
        self.width = usize::from(s[3]) << 8 | usize::from(s[4]);
        let n = usize::from(s[5]);
        if self.width == 0 || self.height == 0 {
            return Err(JpegError::Unsupported(
                "zero width or height (DNL) is not supported".into(),
            ));
        }
        if n != 1 && n != 3 {
            return Err(JpegError::Unsupported(format!("{n} components")));
        }
        if s.len() < 6 + 3 * n {
            return corrupt("truncated SOF");
        }
        for c in 0..n {
            let b = &s[6 + 3 * c..9 + 3 * c];
            let (h, v) = (usize::from(b[1] >> 4), usize::from(b[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || b[2] > 3 {
                return corrupt("bad component sampling or table");
            }
            self.comps.push(Component {
                id: b[0],
                h,
                v,
                tq: usize::from(b[2]),
                ..Default::default()
            });
        }
        self.h_max = self.comps.iter().map(|c| c.h).max().unwrap_or(1);
        self.v_max = self.comps.iter().map(|c| c.v).max().unwrap_or(1);
        self.mcus_x = self.width.div_ceil(self.h_max * 8);
        self.mcus_y = self.height.div_ceil(self.v_max * 8);
        if (self.width * self.height) as u64 > crate::limits::MAX_IMAGE_PIXELS {
            return Err(JpegError::Unsupported("image too large".into()));
        }
        for c in &mut self.comps {
            c.x = (self.width * c.h).div_ceil(self.h_max);
            c.y = (self.height * c.v).div_ceil(self.v_max);
            c.w2 = self.mcus_x * c.h * 8;
            c.h2 = self.mcus_y * c.v * 8;
            c.data = self.planes.take(c.w2 * c.h2);
        }
        self.frame_seen = true;
        Ok(())
    }

    fn decode_block(&self, bits: &mut BitReader, comp: &mut Component) -> Result<[i16; 64]> {
        let dc_table = self.dc[comp.dc_table]
            .as_ref()
            .ok_or_else(|| JpegError::Corrupt("missing DC table".into()))?;
        let ac_table = self.ac[comp.ac_table]
            .as_ref()
            .ok_or_else(|| JpegError::Corrupt("missing AC table".into()))?;
        let q = &self.quant[comp.tq];
        let mut block = [0i16; 64];
        let t = bits.decode(dc_table)?;
        if t > 16 {
            return corrupt("bad DC size");
        }
        let diff = if t == 0 {
            0
        } else {
            bits.extend_receive(u32::from(t))
        };
        comp.dc_pred = comp.dc_pred.wrapping_add(diff);
        block[0] = comp.dc_pred.wrapping_mul(i32::from(q[0])) as i16;
        let mut k = 1;
        while k < 64 {
            let rs = bits.decode(ac_table)?;
            let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
            if s == 0 {
                if rs != 0xf0 {
                    break;
                }
                k += 16;
            } else {
                k += r;
                let zig = DEZIGZAG[k.min(79)];
                k += 1;
                block[zig] = bits.extend_receive(s).wrapping_mul(i32::from(q[zig])) as i16;
            }
        }
        Ok(block)
    }

    fn read_scan(&mut self) -> Result<()> {
        let s = self.segment()?;
        if !self.frame_seen {
            return corrupt("scan before frame header");
        }
        let n = usize::from(
            *s.first()
                .ok_or_else(|| JpegError::Corrupt("empty SOS".into()))?,
        );
        if n == 0 || n > self.comps.len() || s.len() < 1 + 2 * n + 3 {
            return corrupt("bad SOS");
        }
        let mut order = Vec::with_capacity(n);
        for i in 0..n {
            let (id, tables) = (s[1 + 2 * i], s[2 + 2 * i]);
            let c = self
                .comps
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| JpegError::Corrupt("SOS names an unknown component".into()))?;
            if (tables >> 4) > 3 || (tables & 15) > 3 {
                return corrupt("bad SOS table ids");
            }
            self.comps[c].dc_table = usize::from(tables >> 4);
            self.comps[c].ac_table = usize::from(tables & 15);
            order.push(c);
        }
        let mut comps = std::mem::take(&mut self.comps);
        for c in &mut comps {
            c.dc_pred = 0;
        }
        let mut bits = BitReader {
            data: self.data,
            pos: self.pos,
            bits: 0,
            count: 0,
            marker: None,
            fake_bytes: 0,
            truncated: false,
        };
        let mut todo = if self.restart_interval > 0 {
            self.restart_interval
        } else {
            usize::MAX
        };
        // The IDCT is the decoder's hottest loop after the Huffman decoding: the kernel table's.
        let idct = crate::kernels::active().idct_block;
        let result = (|| -> Result<()> {
            let blocks =
                |bits: &mut BitReader, comp: &mut Component, bx: usize, by: usize| -> Result<()> {
                    let block = self.decode_block(bits, comp)?;
                    let stride = comp.w2;
                    idct(&mut comp.data[by * 8 * stride + bx * 8..], stride, &block);
                    Ok(())
                };
            let mut after_mcu = |bits: &mut BitReader, comps: &mut [Component]| -> Result<()> {
                // Decoded zeros past the end make the result an error whatever follows: stop
                // now, not after every block of a huge declared size (a 476-byte file declaring
                // 65522x1781 took 4 s).
                bits.check_truncation();
                if bits.truncated {
                    return corrupt(TRUNCATED);
                }
                todo -= 1;
                if todo == 0 {
                    todo = self.restart_interval;
                    bits.restart();
                    for c in comps.iter_mut() {
                        c.dc_pred = 0;
                    }
                }
                Ok(())
            };
            if n == 1 {
                let c = order[0];
                let (w, h) = (comps[c].x.div_ceil(8), comps[c].y.div_ceil(8));
                for by in 0..h {
                    for bx in 0..w {
                        blocks(&mut bits, &mut comps[c], bx, by)?;
                        after_mcu(&mut bits, &mut comps)?;
                    }
                }
            } else {
                for my in 0..self.mcus_y {
                    for mx in 0..self.mcus_x {
                        for &c in &order {
                            let (ch, cv) = (comps[c].h, comps[c].v);
                            for y in 0..cv {
                                for x in 0..ch {
                                    blocks(&mut bits, &mut comps[c], mx * ch + x, my * cv + y)?;
                                }
                            }
                        }
                        after_mcu(&mut bits, &mut comps)?;
                    }
                }
            }
            Ok(())
        })();
        self.comps = comps;
        result?;
        bits.check_truncation();
        if bits.truncated {
            return corrupt(TRUNCATED);
        }
        // continue after the entropy-coded data, at the next marker
        self.pos = bits.pos;
        while self.pos + 1 < self.data.len()
            && !(self.data[self.pos] == 0xff
                && self.data[self.pos + 1] != 0
                && !(0xd0..=0xd7).contains(&self.data[self.pos + 1]))
        {
            self.pos += 1;
        }
        Ok(())
    }

    /// Decodes into `rgb` (resized to the picture's); returns the picture's size.
    fn decode(mut self, rgb: &mut Vec<u8>) -> Result<(usize, usize)> {
        if self.data.len() < 4 || self.data[0] != 0xff || self.data[1] != 0xd8 {
            return Err(JpegError::Unsupported("not a JPEG (no SOI marker)".into()));
        }
        self.pos = 2;
        let mut scanned = false;
        loop {
            // find the next marker, skipping fill bytes
            let mut b = self.u8()?;
            while b != 0xff {
                b = self.u8()?;
            }
            let mut marker = self.u8()?;
            while marker == 0xff {
                marker = self.u8()?;
            }
            match marker {
                0xd8 | 0x01 | 0xd0..=0xd7 => {}
                0xd9 => break,
                0xdb => self.read_dqt()?,
                0xc4 => self.read_dht()?,
                0xc0 | 0xc1 => {
                    if self.frame_seen {
                        return corrupt("two frame headers");
                    }
                    self.read_sof()?
                }
                0xc2 | 0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                    return Err(JpegError::Unsupported(format!(
                        "frame type SOF{}",
                        marker - 0xc0
                    )));
                }
                0xdd => {
                    let s = self.segment()?;
                    if s.len() < 2 {
                        return corrupt("bad DRI");
                    }
                    self.restart_interval = usize::from(s[0]) << 8 | usize::from(s[1]);
                }
                0xda => {
                    self.read_scan()?;
                    scanned = true;
                }
                _ => {
                    self.segment()?;
                }
            }
            if self.pos >= self.data.len() {
                break;
            }
        }
        if !scanned {
            return corrupt("no image data (no SOS)");
        }
        self.to_rgb(rgb);
        for c in &mut self.comps {
            self.planes.give(std::mem::take(&mut c.data));
        }
        Ok((self.width, self.height))
    }

    /// Upsampling and colour conversion, row by row as stb_image does.
    fn to_rgb(&self, rgb: &mut Vec<u8>) {
        let (w, h) = (self.width, self.height);
        rgb.clear();
        rgb.resize(w * h * 3, 0);
        struct Resample {
            hs: usize,
            vs: usize,
            ystep: usize,
            ypos: usize,
            line0: usize,
            line1: usize,
            w_lores: usize,
            buf: Vec<u8>,
        }
        let mut res: Vec<Resample> = self
            .comps
            .iter()
            .map(|c| {
                let (hs, vs) = (self.h_max / c.h, self.v_max / c.v);
                Resample {
                    hs,
                    vs,
                    ystep: vs >> 1,
                    ypos: 0,
                    line0: 0,
                    line1: 0,
                    w_lores: w.div_ceil(hs),
                    buf: vec![0; w + 3 + 4 * hs],
                }
            })
            .collect();
        let mut rows: Vec<Vec<u8>> = vec![Vec::new(); self.comps.len()];
        let kernels = crate::kernels::active();
        for j in 0..h {
            for (k, (c, r)) in self.comps.iter().zip(res.iter_mut()).enumerate() {
                let bottom = r.ystep >= (r.vs >> 1);
                let (near, far) = if bottom {
                    (r.line1, r.line0)
                } else {
                    (r.line0, r.line1)
                };
                let near = &c.data[near..near + r.w_lores];
                let far = &c.data[far..far + r.w_lores];
                resample_row(kernels, &mut r.buf, near, far, r.w_lores, r.hs, r.vs);
                rows[k].clear();
                rows[k].extend_from_slice(&r.buf[..w]);
                r.ystep += 1;
                if r.ystep >= r.vs {
                    r.ystep = 0;
                    r.line0 = r.line1;
                    r.ypos += 1;
                    if r.ypos < c.y {
                        r.line1 += c.w2;
                    }
                }
            }
            let out = &mut rgb[j * w * 3..(j + 1) * w * 3];
            if rows.len() == 3 {
                (kernels.ycbcr_to_rgb)(out, &rows[0], &rows[1], &rows[2]);
            } else {
                for (px, &y) in out.chunks_exact_mut(3).zip(&rows[0]) {
                    px.fill(y);
                }
            }
        }
    }
}

fn div4(x: u32) -> u8 {
    (x >> 2) as u8
}

/// One output row of a component at full resolution, from its `near` and `far` input rows.
fn resample_row(
    kernels: &Kernels,
    out: &mut [u8],
    near: &[u8],
    far: &[u8],
    w: usize,
    hs: usize,
    vs: usize,
) {
    let (n, f) = (|i: usize| u32::from(near[i]), |i: usize| u32::from(far[i]));
    match (hs, vs) {
        (1, 1) => out[..w].copy_from_slice(near),
        (1, 2) => {
            for (i, o) in out[..w].iter_mut().enumerate() {
                *o = div4(3 * n(i) + f(i) + 2);
            }
        }
        // 4:2:2 (many webcams' MJPEG) and 4:2:0 (the shared MJPEG video's): the kernel table's
        (2, 1) => (kernels.upsample_h2v1)(out, &near[..w]),
        (2, 2) => (kernels.upsample_h2v2)(out, &near[..w], far),
        _ => {
            for i in 0..w {
                for j in 0..hs {
                    out[i * hs + j] = near[i];
                }
            }
        }
    }
}

/// A decoded image: interleaved 8-bit RGB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// The component planes of the last pictures decoded, kept for the next: a video's frames are
/// all one size, so a video decoded with one `Planes` (and its pictures into one recycled
/// buffer) allocates nothing per frame.
#[derive(Debug, Default)]
pub struct Planes(Vec<Vec<u8>>);

impl Planes {
    /// A zeroed plane of `len` samples (the decoder writes whole blocks, but a scan may stop
    /// early in a damaged file: what it leaves is black, as in a new buffer).
    fn take(&mut self, len: usize) -> Vec<u8> {
        let mut plane = self.0.pop().unwrap_or_default();
        plane.clear();
        plane.resize(len, 0);
        plane
    }

    fn give(&mut self, plane: Vec<u8>) {
        // a picture has at most three planes
        if self.0.len() < 3 {
            self.0.push(plane);
        }
    }
}

/// Decodes a baseline JPEG to RGB with Darknet's (stb_image's) arithmetic.
pub fn decode(data: &[u8]) -> Result<Image> {
    let mut rgb = Vec::new();
    let (width, height) = decode_into(data, &mut Planes::default(), &mut rgb)?;
    Ok(Image { width, height, rgb })
}

/// [`decode`] into `rgb` (resized to `width * height * 3`), reusing `planes` and `rgb`'s
/// allocation; returns the picture's width and height.
pub fn decode_into(data: &[u8], planes: &mut Planes, rgb: &mut Vec<u8>) -> Result<(usize, usize)> {
    Decoder {
        data,
        planes,
        pos: 0,
        quant: [[0; 64]; 4],
        dc: Default::default(),
        ac: Default::default(),
        comps: Vec::new(),
        width: 0,
        height: 0,
        h_max: 1,
        v_max: 1,
        mcus_x: 0,
        mcus_y: 0,
        restart_interval: 0,
        frame_seen: false,
    }
    .decode(rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `jpeg` fuzz target: 476 bytes whose SOF declares 65522x1781 grey pixels and
    /// whose data ends at once. The decoder went on through every block of zeros (4 s in a
    /// release build) before reporting the truncation; now it stops at the first such block.
    #[test]
    fn a_truncated_file_with_a_huge_declared_size_fails_at_once() {
        let bytes = include_bytes!("../testdata/fuzz-truncated-65522x1781.jpg");
        let start = std::time::Instant::now();
        let e = decode(bytes).unwrap_err();
        assert!(
            matches!(&e, JpegError::Corrupt(m) if m == TRUNCATED),
            "{e:?}"
        );
        // Generous for a loaded machine: the fixed decoder takes microseconds.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn idct_of_dc_only_block_is_flat() {
        let mut block = [0i16; 64];
        block[0] = 80; // DC 80 -> +10 after the 1/8 scaling
        let mut out = [0u8; 64];
        crate::kernels::generic::idct_block(&mut out, 8, &block);
        assert!(out.iter().all(|&v| v == 138), "{out:?}");
    }

    #[test]
    fn fancy_upsampling_interpolates() {
        let mut out = [0u8; 8];
        let row = [0, 100, 200, 100];
        resample_row(crate::kernels::generic(), &mut out, &row, &row, 4, 2, 1);
        // the last pair weights the second-to-last sample 3:1, as stb_image does
        assert_eq!(out, [0, 25, 75, 125, 175, 175, 175, 100]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode(b"GIF89a"), Err(JpegError::Unsupported(_))));
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for len in [4usize, 20, 200, 2000] {
            let mut data = vec![0xff, 0xd8];
            for _ in 0..len {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                data.push((rng >> 24) as u8);
            }
            let _ = decode(&data);
        }
    }
}
