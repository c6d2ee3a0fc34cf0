//! Reading MJPEG AVI files (what USB cameras and their recorders produce).
//!
//! RIFF layout: `RIFF 'AVI '` holding `LIST 'hdrl'` (`avih`, then one `LIST 'strl'` per stream
//! with `strh` and `strf`), then `LIST 'movi'` with one chunk per frame (`00dc`: stream 0,
//! compressed video), then an optional `idx1`. OpenDML files continue in `RIFF 'AVIX'` chunks
//! with more `movi` lists. Frames are read in file order from the `movi` lists, so the index is
//! not needed: files without one, or cut short, read up to the damage, which is then reported
//! with its offset.

use super::{Rate, RawFrame, Source, SourceInfo};
use crate::media::error::MediaError;
use crate::media::pixels::PixelFormat;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Larger frame chunks are taken for damage, not allocated.
const MAX_FRAME_BYTES: u64 = 64 << 20;
/// Larger header lists are taken for damage.
const MAX_HEADER_BYTES: u64 = 1 << 20;
const MAX_DIMENSION: i64 = 16384;

#[derive(Debug)]
pub enum OpenError {
    /// The file is not a readable AVI.
    Invalid(MediaError),
    /// A valid AVI whose video codec (the FOURCC given) this reader does not decode.
    Codec(String),
}

impl From<MediaError> for OpenError {
    fn from(e: MediaError) -> Self {
        OpenError::Invalid(e)
    }
}

fn fourcc_text(id: [u8; 4]) -> String {
    if id.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(&id))
    } else {
        format!("0x{:08x}", u32::from_be_bytes(id))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

/// A chunk inside a list read into memory: (file offset, id, data).
type SubChunk<'a> = (u64, [u8; 4], &'a [u8]);

/// The chunks of an in-memory list body at file offset `base`.
fn sub_chunks<'a>(path: &Path, data: &'a [u8], base: u64) -> Result<Vec<SubChunk<'a>>, MediaError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let id: [u8; 4] = data[at..at + 4].try_into().expect("4 bytes");
        let size = u32_at(data, at + 4) as usize;
        let offset = base + at as u64;
        if size > data.len() - at - 8 {
            return Err(MediaError::at(
                path,
                offset,
                format!(
                    "bad header: chunk {} declares {size} bytes, past the end of its list at byte {}",
                    fourcc_text(id),
                    base + data.len() as u64
                ),
            ));
        }
        out.push((offset, id, &data[at + 8..at + 8 + size]));
        at += 8 + size + (size & 1);
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Codec {
    Mjpeg,
    Dib,
}

#[derive(Debug)]
struct VideoStream {
    /// Stream number: its chunks are `NNdc` / `NNdb`.
    number: u32,
    codec: Codec,
    width: usize,
    height: usize,
    rate: Option<Rate>,
    length: u32,
}

/// What `hdrl` says.
struct Header {
    usec_per_frame: u32,
    total_frames: u32,
    video: VideoStream,
}

fn parse_hdrl(path: &Path, data: &[u8], base: u64) -> Result<Header, OpenError> {
    let mut avih: Option<(u32, u32)> = None;
    let mut video: Option<VideoStream> = None;
    let mut unsupported: Option<String> = None;
    let mut stream_number = 0u32;
    for (offset, id, body) in sub_chunks(path, data, base)? {
        match &id {
            b"avih" => {
                if body.len() < 56 {
                    return Err(MediaError::at(
                        path,
                        offset,
                        format!("bad header: 'avih' has {} bytes, needs 56", body.len()),
                    )
                    .into());
                }
                avih = Some((u32_at(body, 0), u32_at(body, 16)));
            }
            b"LIST" if body.len() >= 4 && &body[..4] == b"strl" => {
                let number = stream_number;
                stream_number += 1;
                if video.is_some() {
                    continue;
                }
                let subs = sub_chunks(path, &body[4..], offset + 12)?;
                let strh = subs.iter().find(|(_, id, _)| id == b"strh");
                let strf = subs.iter().find(|(_, id, _)| id == b"strf");
                let Some(&(strh_at, _, strh)) = strh else {
                    return Err(MediaError::at(
                        path,
                        offset,
                        format!("bad header: stream {number} has no 'strh'"),
                    )
                    .into());
                };
                if strh.len() < 36 {
                    return Err(MediaError::at(
                        path,
                        strh_at,
                        format!("bad header: 'strh' has {} bytes, needs 56", strh.len()),
                    )
                    .into());
                }
                if &strh[..4] != b"vids" {
                    continue;
                }
                let Some(&(strf_at, _, strf)) = strf else {
                    return Err(MediaError::at(
                        path,
                        offset,
                        format!("bad header: video stream {number} has no 'strf'"),
                    )
                    .into());
                };
                if strf.len() < 40 {
                    return Err(MediaError::at(
                        path,
                        strf_at,
                        format!(
                            "bad header: 'strf' has {} bytes, a BITMAPINFOHEADER needs 40",
                            strf.len()
                        ),
                    )
                    .into());
                }
                let (w, h) = (i64::from(i32_at(strf, 4)), i64::from(i32_at(strf, 8)));
                if w <= 0 || w > MAX_DIMENSION || h == 0 || h.abs() > MAX_DIMENSION {
                    return Err(MediaError::at(
                        path,
                        strf_at,
                        format!("bad header: the video stream's frames are {w}x{h} pixels"),
                    )
                    .into());
                }
                let compression: [u8; 4] = strf[16..20].try_into().expect("4 bytes");
                let bit_count = u16_at(strf, 14);
                let codec = match &compression {
                    b"MJPG" | b"mjpg" | b"JPEG" | b"jpeg" | b"AVRn" | b"dmb1" => Codec::Mjpeg,
                    // BI_RGB, bottom-up 24-bit rows (top-down ones have a negative height)
                    [0, 0, 0, 0] if bit_count == 24 && h > 0 => Codec::Dib,
                    _ => {
                        unsupported = Some(if compression == [0; 4] {
                            format!("uncompressed {bit_count}-bit")
                        } else {
                            fourcc_text(compression)
                        });
                        continue;
                    }
                };
                let (scale, rate) = (u32_at(strh, 20), u32_at(strh, 24));
                video = Some(VideoStream {
                    number,
                    codec,
                    width: w as usize,
                    height: h.unsigned_abs() as usize,
                    rate: (scale > 0 && rate > 0).then_some(Rate {
                        num: rate,
                        den: scale,
                    }),
                    length: u32_at(strh, 32),
                });
            }
            _ => {}
        }
    }
    let Some((usec_per_frame, total_frames)) = avih else {
        return Err(MediaError::at(path, base, "bad header: no 'avih' in 'hdrl'").into());
    };
    match (video, unsupported) {
        (Some(video), _) => Ok(Header {
            usec_per_frame,
            total_frames,
            video,
        }),
        (None, Some(codec)) => Err(OpenError::Codec(codec)),
        (None, None) => Err(MediaError::at(path, base, "bad header: no video stream").into()),
    }
}

pub struct AviSource {
    file: BufReader<File>,
    path: PathBuf,
    len: u64,
    /// Where the reader's file position is.
    file_pos: u64,
    /// Next chunk header to read.
    pos: u64,
    movi_end: u64,
    riff_end: u64,
    stream_ids: [[u8; 4]; 2],
    codec: Codec,
    rate: Rate,
    frame_no: u64,
    info: SourceInfo,
}

impl AviSource {
    pub fn open(path: &Path) -> Result<AviSource, OpenError> {
        let file =
            File::open(path).map_err(|e| MediaError::new(path, format!("cannot open: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| MediaError::new(path, format!("cannot read: {e}")))?
            .len();
        let mut s = AviSource {
            file: BufReader::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
            len,
            file_pos: 0,
            pos: 0,
            movi_end: 0,
            riff_end: 0,
            stream_ids: [[0; 4]; 2],
            codec: Codec::Mjpeg,
            rate: Rate { num: 0, den: 1 },
            frame_no: 0,
            info: SourceInfo {
                name: path.display().to_string(),
                width: 0,
                height: 0,
                rate: Rate { num: 0, den: 1 },
                frames: None,
                live: false,
            },
        };
        let head = s.read_at(0, 12)?;
        if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"AVI " {
            return Err(MediaError::at(
                path,
                0,
                "not an AVI file: it does not start with a RIFF 'AVI ' header",
            )
            .into());
        }
        s.riff_end = s.list_end(0, u32_at(&head, 4));
        let (header, odml_frames) = s.read_headers()?;
        s.use_headers(&header, odml_frames)?;
        Ok(s)
    }

    /// Walks the top-level lists up to 'movi': the parsed 'hdrl' and the OpenDML frame count
    /// (0 when absent). Leaves the reading position at the first chunk of 'movi'.
    fn read_headers(&mut self) -> Result<(Header, u32), OpenError> {
        let mut header = None;
        let mut odml_frames = 0u32;
        let mut at = 12;
        loop {
            if at + 8 > self.riff_end.min(self.len) {
                let what = if header.is_none() { "'hdrl'" } else { "'movi'" };
                return Err(MediaError::at(
                    &self.path,
                    at,
                    format!("bad header: no {what} list before the end of the file"),
                )
                .into());
            }
            let (id, size) = self.chunk_header(at)?;
            if &id == b"LIST" {
                let kind = self.read_at(at + 8, 4)?;
                if kind.len() < 4 || size < 4 {
                    return Err(self.truncated(at, id, size).into());
                }
                match &kind[..] {
                    b"hdrl" => {
                        if u64::from(size) > MAX_HEADER_BYTES {
                            return Err(MediaError::at(
                                &self.path,
                                at,
                                format!("bad header: 'hdrl' declares {size} bytes"),
                            )
                            .into());
                        }
                        let body = self.read_at(at + 12, u64::from(size) - 4)?;
                        if body.len() as u64 != u64::from(size) - 4 {
                            return Err(self.truncated(at, id, size).into());
                        }
                        header = Some(parse_hdrl(&self.path, &body, at + 12)?);
                    }
                    b"odml" => {
                        if let Ok(body) = self.read_at(at + 12, u64::from(size.min(256)) - 4) {
                            if body.len() >= 12 && &body[..4] == b"dmlh" {
                                odml_frames = u32_at(&body, 8);
                            }
                        }
                    }
                    b"movi" => {
                        if header.is_none() {
                            return Err(MediaError::at(
                                &self.path,
                                at,
                                "bad header: the 'movi' list comes before 'hdrl'",
                            )
                            .into());
                        }
                        self.movi_end = self.list_end(at, size);
                        self.pos = at + 12;
                        return Ok((header.expect("checked above"), odml_frames));
                    }
                    _ => {}
                }
            }
            at += 8 + u64::from(size) + u64::from(size & 1);
        }
    }

    /// Takes the stream ids, codec, rate and size from the headers.
    fn use_headers(&mut self, header: &Header, odml_frames: u32) -> Result<(), OpenError> {
        let v = &header.video;
        let digits = format!("{:02}", v.number % 100).into_bytes();
        self.stream_ids = [
            [digits[0], digits[1], b'd', b'c'],
            [digits[0], digits[1], b'd', b'b'],
        ];
        self.codec = v.codec;
        self.rate = match v.rate {
            Some(r) => r,
            None if header.usec_per_frame > 0 => Rate {
                num: 1_000_000,
                den: header.usec_per_frame,
            },
            None => {
                return Err(MediaError::at(
                    &self.path,
                    12,
                    "bad header: neither 'strh' nor 'avih' gives a frame rate",
                )
                .into())
            }
        };
        let frames = [odml_frames, v.length, header.total_frames]
            .into_iter()
            .max()
            .filter(|&n| n > 0)
            .map(u64::from);
        self.info.width = v.width;
        self.info.height = v.height;
        self.info.rate = self.rate;
        self.info.frames = frames;
        Ok(())
    }

    /// End of a list at `at` with declared `size`; 0 means "unknown" (written while streaming).
    fn list_end(&self, at: u64, size: u32) -> u64 {
        if size == 0 {
            self.len
        } else {
            at + 8 + u64::from(size)
        }
    }

    fn goto(&mut self, pos: u64) -> Result<(), MediaError> {
        if pos != self.file_pos {
            self.file
                .seek_relative(pos as i64 - self.file_pos as i64)
                .map_err(|e| MediaError::io(&self.path, pos, &e))?;
            self.file_pos = pos;
        }
        Ok(())
    }

    /// Up to `n` bytes at `pos` (fewer at the end of the file).
    fn read_at(&mut self, pos: u64, n: u64) -> Result<Vec<u8>, MediaError> {
        let mut buf = Vec::new();
        self.read_into(pos, n, &mut buf)?;
        Ok(buf)
    }

    fn read_into(&mut self, pos: u64, n: u64, buf: &mut Vec<u8>) -> Result<(), MediaError> {
        self.goto(pos)?;
        buf.clear();
        let n = n.min(self.len.saturating_sub(pos));
        buf.resize(n as usize, 0);
        self.file
            .read_exact(buf)
            .map_err(|e| MediaError::io(&self.path, pos, &e))?;
        self.file_pos = pos + n;
        Ok(())
    }

    fn chunk_header(&mut self, at: u64) -> Result<([u8; 4], u32), MediaError> {
        let h = self.read_at(at, 8)?;
        if h.len() < 8 {
            return Err(MediaError::at(
                &self.path,
                at,
                format!(
                    "truncated: the file ends at byte {} inside a chunk header",
                    self.len
                ),
            ));
        }
        let id: [u8; 4] = h[..4].try_into().expect("4 bytes");
        if !id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b' ' || *b == b'_')
        {
            return Err(MediaError::at(
                &self.path,
                at,
                format!("bad chunk header: id {} is not a FOURCC", fourcc_text(id)),
            ));
        }
        Ok((id, u32_at(&h, 4)))
    }

    fn truncated(&self, at: u64, id: [u8; 4], size: u32) -> MediaError {
        MediaError::at(
            &self.path,
            at,
            format!(
                "truncated: chunk {} declares {size} bytes, the file ends at byte {}",
                fourcc_text(id),
                self.len
            ),
        )
    }

    /// After the last `movi` list of a RIFF chunk: moves into the next `RIFF 'AVIX'` (OpenDML)
    /// if there is one.
    fn next_riff(&mut self) -> Result<bool, MediaError> {
        let at = self.riff_end + (self.riff_end & 1);
        if at + 12 > self.len {
            return Ok(false);
        }
        let head = self.read_at(at, 12)?;
        if &head[..4] != b"RIFF" || &head[8..12] != b"AVIX" {
            return Ok(false); // trailing bytes after the file proper: ignored, as players do
        }
        self.riff_end = self.list_end(at, u32_at(&head, 4));
        let mut pos = at + 12;
        while pos + 12 <= self.riff_end.min(self.len) {
            let (id, size) = self.chunk_header(pos)?;
            if &id == b"LIST" && self.read_at(pos + 8, 4)? == b"movi" {
                self.movi_end = self.list_end(pos, size);
                self.pos = pos + 12;
                return Ok(true);
            }
            pos += 8 + u64::from(size) + u64::from(size & 1);
        }
        Ok(false)
    }

    fn next_inner(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>, MediaError> {
        loop {
            if self.pos + 8 > self.movi_end.min(self.len) {
                if self.movi_end > self.len {
                    return Err(MediaError::at(
                        &self.path,
                        self.pos,
                        format!(
                            "truncated: the file ends at byte {} inside the 'movi' list, which is declared to run to byte {}",
                            self.len, self.movi_end
                        ),
                    ));
                }
                if self.next_riff()? {
                    continue;
                }
                return Ok(None);
            }
            let at = self.pos;
            let (id, size) = self.chunk_header(at)?;
            if &id == b"LIST" {
                // 'rec ' groups frames with their audio: read through it.
                if size < 4 {
                    return Err(MediaError::at(
                        &self.path,
                        at,
                        format!("bad chunk header: a LIST of {size} bytes"),
                    ));
                }
                if self.read_at(at + 8, 4)? == b"rec " {
                    self.pos = at + 12;
                    continue;
                }
            }
            let end = at + 8 + u64::from(size);
            if end > self.len {
                return Err(self.truncated(at, id, size));
            }
            if end > self.movi_end {
                return Err(MediaError::at(
                    &self.path,
                    at,
                    format!(
                        "bad chunk header: {} runs to byte {end}, past the end of its 'movi' list at byte {}",
                        fourcc_text(id),
                        self.movi_end
                    ),
                ));
            }
            self.pos = end + u64::from(size & 1);
            if !self.stream_ids.contains(&id) {
                continue; // audio, index chunks, padding
            }
            let index = self.frame_no;
            self.frame_no += 1;
            if size == 0 {
                continue; // an empty chunk repeats the previous frame: nothing new to detect
            }
            if u64::from(size) > MAX_FRAME_BYTES {
                return Err(MediaError::at(
                    &self.path,
                    at,
                    format!("bad chunk header: a frame of {size} bytes"),
                ));
            }
            self.read_into(at + 8, u64::from(size), &mut buf)?;
            return Ok(Some(RawFrame {
                index,
                pts: self.rate.pts(index),
                format: match self.codec {
                    Codec::Mjpeg => PixelFormat::Encoded,
                    Codec::Dib => PixelFormat::Bgr24BottomUp,
                },
                width: self.info.width,
                height: self.info.height,
                data: buf,
                origin: format!("{}: frame {index} at byte {at}", self.path.display()),
            }));
        }
    }
}

impl Source for AviSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, buf: Vec<u8>) -> anyhow::Result<Option<RawFrame>> {
        Ok(self.next_inner(buf)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::sink::avi::AviWriter;
    use std::io::Cursor;

    fn frames(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![i as u8; 100 + i * 7]).collect()
    }

    fn write(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut w =
            AviWriter::new(Cursor::new(Vec::new()), 64, 48, Rate { num: 25, den: 1 }).unwrap();
        for f in frames {
            w.write_frame(f).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn read_all(path: &Path) -> Result<Vec<RawFrame>, String> {
        let mut s = AviSource::open(path).map_err(|e| format!("{e:?}"))?;
        let mut out = Vec::new();
        loop {
            match s.next_inner(Vec::new()) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => return Ok(out),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.avi");
        let want = frames(5);
        std::fs::write(&path, write(&want)).unwrap();
        let s = AviSource::open(&path).unwrap();
        assert_eq!((s.info.width, s.info.height), (64, 48));
        assert_eq!(s.info.frames, Some(5));
        assert_eq!(s.info.rate, Rate { num: 25, den: 1 });
        let got = read_all(&path).unwrap();
        assert_eq!(got.len(), 5);
        for (i, f) in got.iter().enumerate() {
            assert_eq!(f.data, want[i]);
            assert_eq!(f.index, i as u64);
            assert_eq!(f.pts, std::time::Duration::from_millis(40 * i as u64));
            assert_eq!(f.format, PixelFormat::Encoded);
        }
    }

    #[test]
    fn truncation_is_reported_with_its_offset_after_the_good_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.avi");
        let bytes = write(&frames(4));
        // cut in the middle of the third frame's data
        let movi = 224;
        let third = movi + (8 + 100) + (8 + 108) as usize;
        std::fs::write(&path, &bytes[..third + 20]).unwrap();
        let mut s = AviSource::open(&path).unwrap();
        assert!(s.next_inner(Vec::new()).unwrap().is_some());
        assert!(s.next_inner(Vec::new()).unwrap().is_some());
        let e = s.next_inner(Vec::new()).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "at byte {third}: truncated: chunk '00dc' declares 114 bytes"
            )),
            "{e}"
        );
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        // cut exactly between two chunks: the 'movi' list is declared longer than the file
        std::fs::write(&path, &bytes[..third]).unwrap();
        let e = read_all(&path).unwrap_err();
        assert!(
            e.contains(&format!(
                "at byte {third}: truncated: the file ends at byte {third} inside the 'movi' list"
            )),
            "{e}"
        );
    }

    #[test]
    fn bad_headers_are_reported_with_their_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.avi");
        let good = write(&frames(2));
        type Damage = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(Damage, &str)> = vec![
            (Box::new(|b| b[0] = b'X'), "at byte 0: not an AVI file"),
            (Box::new(|b| b.truncate(7)), "at byte 0: not an AVI file"),
            // the strf width
            (
                Box::new(|b| b[176..180].copy_from_slice(&0i32.to_le_bytes())),
                "at byte 164: bad header: the video stream's frames are 0x48",
            ),
            // the hdrl list's size beyond the file
            (
                Box::new(|b| b[16..20].copy_from_slice(&0x7fff_0000u32.to_le_bytes())),
                "at byte 12: bad header: 'hdrl' declares",
            ),
            // the strl list claiming more than hdrl holds
            (
                Box::new(|b| b[92..96].copy_from_slice(&400u32.to_le_bytes())),
                "at byte 88: bad header: chunk 'LIST' declares 400 bytes, past the end of its list",
            ),
            // a damaged frame chunk id inside 'movi'
            (
                Box::new(|b| b[224..228].copy_from_slice(&[0xff, 0, 1, 2])),
                "at byte 224: bad chunk header: id 0xff000102 is not a FOURCC",
            ),
            // a frame chunk size beyond its list
            (
                Box::new(|b| b[228..232].copy_from_slice(&5000u32.to_le_bytes())),
                "at byte 224: truncated: chunk '00dc' declares 5000 bytes",
            ),
        ];
        for (damage, want) in cases {
            let mut bytes = good.clone();
            damage(&mut bytes);
            std::fs::write(&path, &bytes).unwrap();
            let e = match AviSource::open(&path) {
                Err(OpenError::Invalid(e)) => e.to_string(),
                Err(OpenError::Codec(c)) => panic!("codec {c}"),
                Ok(_) => read_all(&path).unwrap_err(),
            };
            assert!(e.contains(want), "want `{want}` in: {e}");
        }
    }

    #[test]
    fn other_codecs_are_told_apart_from_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h264.avi");
        let mut bytes = write(&frames(1));
        bytes[188..192].copy_from_slice(b"H264");
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(AviSource::open(&path), Err(OpenError::Codec(c)) if c == "'H264'"));
    }

    #[test]
    fn skips_other_streams_and_reads_rec_lists_and_empty_frames() {
        // hand-built movi: JUNK, an audio chunk, a 'rec ' list with a frame, a dropped (empty)
        // frame, then a frame
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.avi");
        let mut bytes = write(&[]);
        let idx1 = bytes.len() - 8; // drop the empty idx1 and rebuild the movi list
        bytes.truncate(idx1);
        let mut movi = Vec::new();
        let chunk = |id: &[u8; 4], data: &[u8]| {
            let mut c = id.to_vec();
            c.extend((data.len() as u32).to_le_bytes());
            c.extend(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        movi.extend(chunk(b"JUNK", &[0; 3]));
        movi.extend(chunk(b"01wb", &[1; 10]));
        let mut rec = b"rec ".to_vec();
        rec.extend(chunk(b"00dc", &[7; 5]));
        movi.extend(chunk(b"LIST", &rec));
        movi.extend(chunk(b"00dc", &[]));
        movi.extend(chunk(b"00dc", &[9; 4]));
        bytes.extend(&movi);
        let movi_size = (4 + movi.len()) as u32;
        bytes[216..220].copy_from_slice(&movi_size.to_le_bytes());
        let riff = (bytes.len() - 8) as u32;
        bytes[4..8].copy_from_slice(&riff.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let got = read_all(&path).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].data, [7; 5]);
        assert_eq!((got[1].index, got[1].data.as_slice()), (2, &[9u8; 4][..]));
    }
}
