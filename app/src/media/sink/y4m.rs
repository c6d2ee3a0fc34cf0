//! Writing YUV4MPEG2: raw 4:2:0 pictures that ffmpeg, mpv and most encoders read.

use super::OutputFrame;
use super::{check_size, Sink};
use crate::media::pixels::rgb_to_i420;
use crate::media::source::Rate;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct Y4mSink {
    path: PathBuf,
    out: BufWriter<File>,
    width: usize,
    height: usize,
    planes: Vec<u8>,
}

/// The header line of a `w` x `h` 4:2:0 stream at `rate`.
pub fn header(w: usize, h: usize, rate: Rate) -> String {
    format!(
        "YUV4MPEG2 W{w} H{h} F{}:{} Ip A1:1 C420jpeg XYSCSS=420JPEG\n",
        rate.num, rate.den
    )
}

impl Y4mSink {
    pub fn create(path: &Path, width: usize, height: usize, rate: Rate) -> Result<Y4mSink> {
        let file =
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(header(width, height, rate).as_bytes())
            .and_then(|_| out.flush())
            .with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(Y4mSink {
            path: path.to_path_buf(),
            out,
            width,
            height,
            planes: Vec::new(),
        })
    }
}

impl Sink for Y4mSink {
    fn write(&mut self, frame: &OutputFrame) -> Result<()> {
        check_size(&self.path, frame, self.width, self.height)?;
        rgb_to_i420(frame.width, frame.height, frame.rgb, &mut self.planes);
        // a frame goes out whole (one flush per frame): an interrupted file ends on a frame
        self.out
            .write_all(b"FRAME\n")
            .and_then(|_| self.out.write_all(&self.planes))
            .and_then(|_| self.out.flush())
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }

    fn finish(&mut self) -> Result<()> {
        self.out
            .flush()
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }
}
