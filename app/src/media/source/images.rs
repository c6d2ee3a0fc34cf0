//! A folder of still images, in file-name order, as a video.

use super::{Rate, RawFrame, Source, SourceInfo};
use crate::media::pixels::PixelFormat;
use anyhow::{bail, Context, Result};
use darknet_port::image_input::decode_rgb8;
use std::path::{Path, PathBuf};

/// Frame rate given to a folder's frames when none is asked for.
pub const DEFAULT_FPS: f64 = 10.0;

const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "bmp"];

pub struct ImageFolder {
    files: Vec<PathBuf>,
    next: usize,
    info: SourceInfo,
}

impl ImageFolder {
    pub fn open(dir: &Path, fps: f64) -> Result<ImageFolder> {
        if !fps.is_finite() || fps <= 0.0 {
            bail!("--fps {fps} must be positive");
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("{}: cannot read the directory", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            })
            .collect();
        files.sort();
        let Some(first) = files.first() else {
            bail!(
                "{}: no images (.jpg, .png, .bmp) in the directory",
                dir.display()
            );
        };
        // the first picture sets the video's size, as a recording's header would
        let bytes =
            std::fs::read(first).with_context(|| format!("{}: cannot read", first.display()))?;
        let (width, height, _) = decode_rgb8(&bytes)
            .map_err(|m| anyhow::anyhow!("{}: not a readable image: {m}", first.display()))?;
        Ok(ImageFolder {
            info: SourceInfo {
                name: dir.display().to_string(),
                width,
                height,
                rate: Rate::from_fps(fps),
                frames: Some(files.len() as u64),
                live: false,
            },
            files,
            next: 0,
        })
    }
}

impl Source for ImageFolder {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, mut buf: Vec<u8>) -> Result<Option<RawFrame>> {
        let Some(path) = self.files.get(self.next) else {
            return Ok(None);
        };
        let index = self.next as u64;
        self.next += 1;
        buf.clear();
        std::io::Read::read_to_end(
            &mut std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?,
            &mut buf,
        )
        .with_context(|| format!("{}: cannot read", path.display()))?;
        Ok(Some(RawFrame {
            index,
            pts: self.info.rate.pts(index),
            format: PixelFormat::Encoded,
            width: self.info.width,
            height: self.info.height,
            data: buf,
            origin: path.display().to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_images_in_name_order_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let dog =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/dog.jpg")).unwrap();
        for name in ["b.jpg", "a.JPG", "c.jpeg"] {
            std::fs::write(dir.path().join(name), &dog).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let mut s = ImageFolder::open(dir.path(), 5.0).unwrap();
        assert_eq!(s.info.frames, Some(3));
        assert_eq!((s.info.width, s.info.height), (768, 576));
        let names: Vec<String> = std::iter::from_fn(|| s.next_frame(Vec::new()).unwrap())
            .map(|f| {
                assert_eq!(f.pts, std::time::Duration::from_millis(200 * f.index));
                f.origin.rsplit('/').next().unwrap().to_string()
            })
            .collect();
        assert_eq!(names, ["a.JPG", "b.jpg", "c.jpeg"]);
    }

    #[test]
    fn empty_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = ImageFolder::open(dir.path(), 10.0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no images"), "{e}");
        assert!(e.starts_with(&dir.path().display().to_string()));
    }
}
