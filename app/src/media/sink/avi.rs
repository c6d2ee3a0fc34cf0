//! Writing MJPEG AVI files that ordinary players open.
//!
//! The header is written first with zero frames; after every frame the sizes and counts in it
//! are patched, so the file on disk is a valid AVI of the frames written so far at every moment
//! (a killed run leaves a playable file). `finish` appends the `idx1` index, which players use
//! for seeking.

use crate::media::source::Rate;
use std::io::{self, Seek, SeekFrom, Write};

/// Offsets of the fields patched as frames are added.
const RIFF_SIZE: u64 = 4;
const AVIH_FLAGS: u64 = 44;
const AVIH_TOTAL_FRAMES: u64 = 48;
const AVIH_BUFFER_SIZE: u64 = 60;
const STRH_LENGTH: u64 = 140;
const STRH_BUFFER_SIZE: u64 = 144;
const MOVI_SIZE: u64 = 216;
/// The 'movi' FOURCC: `idx1` offsets count from it.
const MOVI_FOURCC: u64 = 220;
const HEADER_BYTES: u64 = 224;

const AVIF_HASINDEX: u32 = 0x10;
const AVIIF_KEYFRAME: u32 = 0x10;

/// Players and libraries read plain (non-OpenDML) AVI files up to 1 GiB reliably.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

pub struct AviWriter<W: Write + Seek> {
    w: W,
    /// End of the data written so far.
    end: u64,
    /// (offset from 'movi', size) of each frame.
    index: Vec<(u32, u32)>,
    max_frame: u32,
    width: u32,
    height: u32,
    limit: u64,
}

fn u32le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

impl<W: Write + Seek> AviWriter<W> {
    /// Writes the header of an empty `width` x `height` MJPEG stream at `rate`.
    pub fn new(mut w: W, width: u32, height: u32, rate: Rate) -> io::Result<AviWriter<W>> {
        let usec = if rate.num == 0 {
            0
        } else {
            (u64::from(rate.den) * 1_000_000 / u64::from(rate.num)) as u32
        };
        let mut h = Vec::with_capacity(HEADER_BYTES as usize);
        h.extend(b"RIFF");
        h.extend(u32le(HEADER_BYTES as u32 - 8));
        h.extend(b"AVI LIST");
        h.extend(u32le(192));
        h.extend(b"hdrlavih");
        h.extend(u32le(56));
        for v in [usec, 0, 0, 0, 0, 0, 1, 0, width, height, 0, 0, 0, 0] {
            h.extend(u32le(v));
        }
        h.extend(b"LIST");
        h.extend(u32le(116));
        h.extend(b"strlstrh");
        h.extend(u32le(56));
        h.extend(b"vidsMJPG");
        for v in [0, 0, 0, rate.den, rate.num, 0, 0, 0, u32::MAX, 0] {
            h.extend(u32le(v));
        }
        for v in [0u16, 0, width as u16, height as u16] {
            h.extend(v.to_le_bytes());
        }
        h.extend(b"strf");
        h.extend(u32le(40));
        h.extend(u32le(40));
        h.extend(u32le(width));
        h.extend(u32le(height));
        h.extend(1u16.to_le_bytes());
        h.extend(24u16.to_le_bytes());
        h.extend(b"MJPG");
        for v in [width * height * 3, 0, 0, 0, 0] {
            h.extend(u32le(v));
        }
        h.extend(b"LIST");
        h.extend(u32le(4));
        h.extend(b"movi");
        debug_assert_eq!(h.len() as u64, HEADER_BYTES);
        w.write_all(&h)?;
        w.flush()?;
        Ok(AviWriter {
            w,
            end: HEADER_BYTES,
            index: Vec::new(),
            max_frame: 0,
            width,
            height,
            limit: MAX_FILE_BYTES,
        })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Appends one JPEG frame and updates the header to count it.
    pub fn write_frame(&mut self, jpeg: &[u8]) -> io::Result<()> {
        let size =
            u32::try_from(jpeg.len()).map_err(|_| io::Error::other("a frame larger than 4 GiB"))?;
        let padded = u64::from(size) + u64::from(size & 1);
        let after = self.end + 8 + padded;
        // room for the index at the end too
        if after + 8 + 16 * (self.index.len() as u64 + 1) > self.limit {
            return Err(io::Error::other(format!(
                "the AVI file reached {} MiB, the most a plain AVI holds; stopped after {} frames",
                self.limit >> 20,
                self.index.len()
            )));
        }
        self.w.seek(SeekFrom::Start(self.end))?;
        self.w.write_all(b"00dc")?;
        self.w.write_all(&u32le(size))?;
        self.w.write_all(jpeg)?;
        if size & 1 == 1 {
            self.w.write_all(&[0])?;
        }
        self.index.push(((self.end - MOVI_FOURCC) as u32, size));
        self.end = after;
        self.max_frame = self.max_frame.max(size);
        self.patch_counts()
    }

    /// Brings the header up to date with the frames written (the data first, then the header
    /// that covers it, so that a header never counts a frame that is not all there).
    fn patch_counts(&mut self) -> io::Result<()> {
        self.w.flush()?;
        let frames = self.index.len() as u32;
        let buffer = self.max_frame + 8;
        for (at, v) in [
            (RIFF_SIZE, (self.end - 8) as u32),
            (AVIH_TOTAL_FRAMES, frames),
            (AVIH_BUFFER_SIZE, buffer),
            (STRH_LENGTH, frames),
            (STRH_BUFFER_SIZE, buffer),
            (MOVI_SIZE, (self.end - MOVI_FOURCC) as u32),
        ] {
            self.w.seek(SeekFrom::Start(at))?;
            self.w.write_all(&u32le(v))?;
        }
        self.w.flush()
    }

    /// Appends the index and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.seek(SeekFrom::Start(self.end))?;
        let mut idx = Vec::with_capacity(8 + 16 * self.index.len());
        idx.extend(b"idx1");
        idx.extend(u32le(16 * self.index.len() as u32));
        for &(offset, size) in &self.index {
            idx.extend(b"00dc");
            idx.extend(u32le(AVIIF_KEYFRAME));
            idx.extend(u32le(offset));
            idx.extend(u32le(size));
        }
        self.w.write_all(&idx)?;
        let movi_end = self.end;
        self.end += idx.len() as u64;
        self.patch_counts()?;
        // the movi list ends where idx1 starts
        self.w.seek(SeekFrom::Start(MOVI_SIZE))?;
        self.w.write_all(&u32le((movi_end - MOVI_FOURCC) as u32))?;
        self.w.seek(SeekFrom::Start(AVIH_FLAGS))?;
        self.w.write_all(&u32le(AVIF_HASINDEX))?;
        self.w.flush()?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn u32_at(b: &[u8], at: u64) -> u32 {
        u32::from_le_bytes(b[at as usize..at as usize + 4].try_into().unwrap())
    }

    #[test]
    fn header_counts_follow_every_frame() {
        let mut w =
            AviWriter::new(Cursor::new(Vec::new()), 32, 16, Rate { num: 10, den: 1 }).unwrap();
        let empty = w.w.get_ref().clone();
        assert_eq!(empty.len() as u64, HEADER_BYTES);
        assert_eq!(u32_at(&empty, RIFF_SIZE), HEADER_BYTES as u32 - 8);
        assert_eq!(u32_at(&empty, 32), 100_000, "microseconds per frame");
        w.write_frame(&[1, 2, 3]).unwrap();
        w.write_frame(&[4; 10]).unwrap();
        let b = w.w.get_ref().clone();
        assert_eq!(b.len() as u64, HEADER_BYTES + 12 + 18);
        assert_eq!(u32_at(&b, RIFF_SIZE) as usize, b.len() - 8);
        assert_eq!(u32_at(&b, AVIH_TOTAL_FRAMES), 2);
        assert_eq!(u32_at(&b, STRH_LENGTH), 2);
        assert_eq!(u32_at(&b, MOVI_SIZE) as u64, b.len() as u64 - MOVI_FOURCC);
        assert_eq!(&b[HEADER_BYTES as usize..][..8], b"00dc\x03\0\0\0");
        assert_eq!(b[HEADER_BYTES as usize + 11], 0, "odd chunks are padded");
        let done = w.finish().unwrap().into_inner();
        assert_eq!(u32_at(&done, RIFF_SIZE) as usize, done.len() - 8);
        assert_eq!(u32_at(&done, AVIH_FLAGS), AVIF_HASINDEX);
        let idx = HEADER_BYTES as usize + 30;
        assert_eq!(&done[idx..idx + 8], b"idx1\x20\0\0\0");
        assert_eq!(
            u32_at(&done, idx as u64 + 16),
            4,
            "first frame 4 bytes after 'movi'"
        );
        assert_eq!(u32_at(&done, idx as u64 + 32), 16);
        assert_eq!(
            u32_at(&done, MOVI_SIZE) as usize,
            idx - MOVI_FOURCC as usize
        );
    }

    #[test]
    fn refuses_to_grow_past_the_limit_and_stays_valid() {
        let mut w = AviWriter::new(Cursor::new(Vec::new()), 8, 8, Rate { num: 1, den: 1 }).unwrap();
        w.limit = HEADER_BYTES + 200;
        w.write_frame(&[0; 100]).unwrap();
        let e = w.write_frame(&[0; 100]).unwrap_err().to_string();
        assert!(e.contains("stopped after 1 frames"), "{e}");
        let b = w.finish().unwrap().into_inner();
        assert_eq!(u32_at(&b, AVIH_TOTAL_FRAMES), 1);
        assert_eq!(u32_at(&b, RIFF_SIZE) as usize, b.len() - 8);
    }
}
