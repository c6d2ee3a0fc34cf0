//! Other containers and codecs (MP4, MKV, H.264 AVI, ...) through an `ffmpeg` subprocess that
//! decodes to Y4M on a pipe.

use super::y4m::Y4mSource;
use super::{RawFrame, Source, SourceInfo};
use anyhow::{bail, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::{self, JoinHandle};

pub struct FfmpegSource {
    child: Child,
    y4m: Y4mSource<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    path: PathBuf,
}

/// The program to run: `ZYNQDET_FFMPEG` if set (tests use it), else `ffmpeg` from PATH.
fn program() -> String {
    std::env::var("ZYNQDET_FFMPEG").unwrap_or_else(|_| "ffmpeg".into())
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(2)..].join("; ")
}

/// What ffmpeg printed, once it has exited (its stderr then closes).
fn collect(stderr: &mut Option<JoinHandle<String>>) -> String {
    stderr
        .take()
        .and_then(|h| h.join().ok())
        .unwrap_or_default()
}

impl FfmpegSource {
    /// `why` says why ffmpeg is needed, for the message when it is missing.
    pub fn open(path: &Path, why: &str) -> Result<FfmpegSource> {
        let program = program();
        let mut child = match Command::new(&program)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
            .arg(path)
            .args(["-an", "-f", "yuv4mpegpipe", "-pix_fmt", "yuv444p", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // its own process group: a Ctrl-C at the terminal is ours to handle (drain, close
            // the output), not a reason for ffmpeg to die under us
            .process_group(0)
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{}: {why}; reading it needs ffmpeg, which is not installed (apt-get install ffmpeg)",
                path.display()
            ),
            Err(e) => bail!("{}: cannot run {program}: {e}", path.display()),
        };
        // drained on a thread of its own so that ffmpeg never blocks on a full stderr pipe
        let mut stderr = child.stderr.take().map(|mut pipe| {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        match Y4mSource::new(stdout, path) {
            Ok(y4m) => Ok(FfmpegSource {
                child,
                y4m,
                stderr,
                path: path.to_path_buf(),
            }),
            Err(e) => {
                let _ = child.wait();
                let text = last_lines(&collect(&mut stderr));
                if text.is_empty() {
                    Err(e.into())
                } else {
                    bail!("{}: ffmpeg cannot read it: {text}", path.display())
                }
            }
        }
    }
}

impl Source for FfmpegSource {
    fn info(&self) -> &SourceInfo {
        self.y4m.info()
    }

    fn next_frame(&mut self, buf: Vec<u8>) -> Result<Option<RawFrame>> {
        match self.y4m.next_frame(buf) {
            Ok(Some(f)) => Ok(Some(f)),
            Ok(None) => {
                let status = self.child.wait()?;
                if !status.success() {
                    let text = last_lines(&collect(&mut self.stderr));
                    bail!("{}: ffmpeg failed ({status}): {text}", self.path.display());
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for FfmpegSource {
    fn drop(&mut self) {
        // a run stopped early must not leave ffmpeg running
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
