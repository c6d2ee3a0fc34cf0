//! Output: each frame to every sink (files, the screen, JSON lines); at the end every sink is
//! finished, also after a failure, so that files stay valid up to the last frame written.

use super::{Process, Processed};
use crate::media::sink::Sink;
use crate::pipeline::frame::{Frame, Stage};
use anyhow::Result;
use std::time::Instant;

pub struct Output {
    sinks: Vec<Box<dyn Sink>>,
}

impl Output {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Output {
        Output { sinks }
    }

    /// Closes every sink; the first failure is returned.
    pub fn finish(&mut self) -> Result<()> {
        let mut first = Ok(());
        for sink in self.sinks.iter_mut() {
            if let Err(e) = sink.finish() {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

impl Process for Output {
    fn process(&mut self, mut frame: Frame) -> Result<Processed> {
        let t0 = Instant::now();
        for sink in self.sinks.iter_mut() {
            sink.write(&frame.output())?;
        }
        frame.timed(Stage::Output, t0.elapsed());
        Ok(Processed::Forward(frame))
    }
}
