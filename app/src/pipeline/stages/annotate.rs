//! Annotate: the detections drawn onto the picture (when an output shows pictures).

use super::{Process, Processed};
use crate::annotate::annotate;
use crate::pipeline::frame::{Frame, Stage};
use anyhow::{Context, Result};
use std::time::Instant;

pub struct Annotate {
    /// The model's class count, which picks each class's colour.
    classes: usize,
    draw: bool,
}

impl Annotate {
    pub fn new(classes: usize, draw: bool) -> Annotate {
        Annotate { classes, draw }
    }
}

impl Process for Annotate {
    fn process(&mut self, mut frame: Frame) -> Result<Processed> {
        let t0 = Instant::now();
        if self.draw {
            let rgb = std::mem::take(&mut frame.rgb);
            let mut img = image::RgbImage::from_raw(frame.width as u32, frame.height as u32, rgb)
                .context("an RGB buffer of the wrong size")?;
            annotate(&mut img, &frame.found, self.classes);
            frame.rgb = img.into_raw();
        }
        frame.timed(Stage::Annotate, t0.elapsed());
        Ok(Processed::Forward(frame))
    }
}
