//! Reading YUV4MPEG2 (Y4M): a text header line, then `FRAME` lines each followed by the planes
//! of one picture. Also how ffmpeg hands decoded video to us through a pipe.

use super::{Rate, RawFrame, Source, SourceInfo};
use crate::media::error::MediaError;
use crate::media::pixels::{Chroma, PixelFormat};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

const MAX_LINE: usize = 4096;
const MAX_DIMENSION: usize = 16384;

pub struct Y4mSource<R: Read + Send> {
    r: BufReader<R>,
    path: PathBuf,
    pos: u64,
    chroma: Chroma,
    frame_bytes: usize,
    frame_no: u64,
    info: SourceInfo,
}

/// Reads one line (without its '\n') of at most MAX_LINE bytes; `None` at a clean end.
fn read_line<R: Read>(
    r: &mut BufReader<R>,
    path: &Path,
    pos: u64,
    what: &str,
) -> Result<Option<Vec<u8>>, MediaError> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| MediaError::io(path, pos, &e))?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        let why = if n > MAX_LINE {
            format!("{what} line longer than {MAX_LINE} bytes")
        } else {
            format!("truncated: the file ends inside a {what} line")
        };
        return Err(MediaError::at(path, pos, why));
    }
    line.pop();
    Ok(Some(line))
}

impl Y4mSource<File> {
    pub fn open_file(path: &Path) -> Result<Y4mSource<File>, MediaError> {
        let file =
            File::open(path).map_err(|e| MediaError::new(path, format!("cannot open: {e}")))?;
        let len = file.metadata().ok().map(|m| m.len());
        let mut s = Y4mSource::new(file, path)?;
        if let Some(len) = len {
            // FRAME lines without parameters: exact for the files we and ffmpeg write
            let per_frame = s.frame_bytes as u64 + 6;
            s.info.frames = Some(len.saturating_sub(s.pos) / per_frame);
        }
        Ok(s)
    }
}

impl<R: Read + Send> Y4mSource<R> {
    /// Reads the header from `reader`; `path` names the stream in messages.
    pub fn new(reader: R, path: &Path) -> Result<Y4mSource<R>, MediaError> {
        let mut r = BufReader::with_capacity(1 << 16, reader);
        let bad = |m: String| MediaError::at(path, 0, m);
        let magic = b"YUV4MPEG2";
        let start = r.fill_buf().map_err(|e| MediaError::io(path, 0, &e))?;
        let n = start.len().min(magic.len());
        if start[..n] != magic[..n] {
            return Err(bad(
                "not a Y4M file: it does not start with YUV4MPEG2".into()
            ));
        }
        let line = read_line(&mut r, path, 0, "header")?
            .ok_or_else(|| bad("not a Y4M file: it is empty".into()))?;
        let text = String::from_utf8_lossy(&line);
        let mut words = text.split(' ');
        if words.next() != Some("YUV4MPEG2") {
            return Err(bad(
                "not a Y4M file: it does not start with YUV4MPEG2".into()
            ));
        }
        let (mut w, mut h, mut rate, mut chroma) = (0, 0, None, Chroma::C420);
        for word in words.filter(|w| !w.is_empty()) {
            // the key is one character, which may take several bytes in a damaged header
            let key_len = word.chars().next().map_or(0, char::len_utf8);
            let (key, value) = word.split_at(key_len);
            let number = |v: &str| {
                v.parse::<usize>()
                    .map_err(|_| bad(format!("bad header: `{word}` is not a number")))
            };
            match key {
                "W" => w = number(value)?,
                "H" => h = number(value)?,
                "F" => {
                    let (n, d) = value
                        .split_once(':')
                        .and_then(|(n, d)| Some((n.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
                        .filter(|&(n, d)| n > 0 && d > 0)
                        .ok_or_else(|| bad(format!("bad header: frame rate `{word}`")))?;
                    rate = Some(Rate { num: n, den: d });
                }
                "C" => {
                    chroma = match value {
                        "420jpeg" | "420paldv" | "420mpeg2" | "420" => Chroma::C420,
                        "422" => Chroma::C422,
                        "444" => Chroma::C444,
                        "mono" => Chroma::Mono,
                        other => {
                            return Err(bad(format!(
                        "colour space C{other} is not supported (8-bit 420, 422, 444 and mono are)"
                    )))
                        }
                    }
                }
                _ => {} // interlacing, aspect, extensions: not needed to read pixels
            }
        }
        if w == 0 || h == 0 || w > MAX_DIMENSION || h > MAX_DIMENSION {
            return Err(bad(format!("bad header: frames of {w}x{h} pixels")));
        }
        let rate = rate.ok_or_else(|| bad("bad header: no frame rate (F)".into()))?;
        Ok(Y4mSource {
            r,
            path: path.to_path_buf(),
            pos: line.len() as u64 + 1,
            chroma,
            frame_bytes: chroma.frame_bytes(w, h),
            frame_no: 0,
            info: SourceInfo {
                name: path.display().to_string(),
                width: w,
                height: h,
                rate,
                frames: None,
                live: false,
            },
        })
    }

    fn next_inner(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>, MediaError> {
        let at = self.pos;
        let Some(line) = read_line(&mut self.r, &self.path, at, "FRAME")? else {
            return Ok(None);
        };
        if !(line.starts_with(b"FRAME") && (line.len() == 5 || line[5] == b' ')) {
            return Err(MediaError::at(
                &self.path,
                at,
                format!(
                    "bad frame header: `{}` where FRAME was expected",
                    String::from_utf8_lossy(&line[..line.len().min(16)])
                ),
            ));
        }
        let data_at = at + line.len() as u64 + 1;
        buf.clear();
        buf.resize(self.frame_bytes, 0);
        let mut got = 0;
        while got < buf.len() {
            match self.r.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(MediaError::io(&self.path, data_at + got as u64, &e)),
            }
        }
        if got < buf.len() {
            return Err(MediaError::at(
                &self.path,
                at,
                format!(
                    "truncated: frame {} needs {} bytes, the file has {got}",
                    self.frame_no, self.frame_bytes
                ),
            ));
        }
        self.pos = data_at + self.frame_bytes as u64;
        let index = self.frame_no;
        self.frame_no += 1;
        Ok(Some(RawFrame {
            index,
            pts: self.info.rate.pts(index),
            format: PixelFormat::Planar(self.chroma),
            width: self.info.width,
            height: self.info.height,
            data: buf,
            origin: format!("{}: frame {index} at byte {at}", self.path.display()),
        }))
    }
}

impl<R: Read + Send> Source for Y4mSource<R> {
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
    use std::io::Cursor;

    fn open(bytes: &[u8]) -> Result<Y4mSource<Cursor<Vec<u8>>>, MediaError> {
        Y4mSource::new(Cursor::new(bytes.to_vec()), Path::new("t.y4m"))
    }

    #[test]
    fn reads_header_and_frames() {
        let mut bytes = b"YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".to_vec();
        for i in 0..3u8 {
            bytes.extend(b"FRAME\n");
            bytes.extend([i; 12]); // 8 luma + 2 + 2 chroma
        }
        let mut s = open(&bytes).unwrap();
        assert_eq!(
            (s.info.width, s.info.height, s.info.rate.fps()),
            (4, 2, 25.0)
        );
        for i in 0..3u8 {
            let f = s.next_inner(Vec::new()).unwrap().unwrap();
            assert_eq!(f.data, [i; 12]);
            assert_eq!(f.pts, std::time::Duration::from_millis(40 * u64::from(i)));
            assert_eq!(f.format, PixelFormat::Planar(Chroma::C420));
        }
        assert!(s.next_inner(Vec::new()).unwrap().is_none());
    }

    #[test]
    fn damage_is_reported_with_offsets() {
        let header = b"YUV4MPEG2 W4 H2 F10:1 C444\n";
        let mut good = header.to_vec();
        good.extend(b"FRAME\n");
        good.extend([0; 24]);
        // truncated frame
        let mut s = open(&good[..good.len() - 5]).unwrap();
        let e = s.next_inner(Vec::new()).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "t.y4m: at byte {}: truncated: frame 0 needs 24 bytes, the file has 19",
                header.len()
            )
        );
        // bad frame marker
        let mut bad = good.clone();
        bad[header.len()] = b'X';
        let e = open(&bad)
            .unwrap()
            .next_inner(Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad frame header: `XRAME`"), "{e}");
        for (bytes, want) in [
            (&b"RIFF...."[..], "not a Y4M file"),
            (b"YUV4MPEG2 W4 F10:1\n", "frames of 4x0 pixels"),
            (b"YUV4MPEG2 W4 H4 F0:1\n", "frame rate `F0:1`"),
            (
                b"YUV4MPEG2 W4 H4 F1:1 C420p10\n",
                "C420p10 is not supported",
            ),
            (b"YUV4MPEG2 Wx H4\n", "`Wx` is not a number"),
            (
                b"YUV4MPEG2 W4 H4 F1:1",
                "truncated: the file ends inside a header line",
            ),
        ] {
            let e = open(bytes).err().unwrap().to_string();
            assert!(e.starts_with("t.y4m: at byte 0: "), "{e}");
            assert!(e.contains(want), "want `{want}` in {e}");
        }
    }

    /// Found by the `y4m` fuzz target: a header word starting with a byte that is not UTF-8
    /// (read as U+FFFD, three bytes) was split inside that character, a panic.
    #[test]
    fn a_header_word_that_is_not_text_is_not_a_panic() {
        let s = open(b"YUV4MPEG2 W4 H2 F1:1 \xe9x\n").unwrap();
        assert_eq!((s.info.width, s.info.height), (4, 2));
        let e = open(b"YUV4MPEG2 W\xe9 H2 F1:1\n")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("is not a number"), "{e}");
    }
}
