//! Preprocess: the raw frame to RGB (JPEG decoding or a pixel-format conversion), then
//! darknet_port's `Letterboxer`, the one letterbox of every path, into recycled buffers.

use super::{Process, Processed, Shared};
use crate::media::decode::to_rgb;
use crate::pipeline::frame::{Frame, Stage};
use anyhow::{anyhow, Result};
use darknet_port::image_input::Letterboxer;
use darknet_port::jpeg::Planes;
use darknet_port::network::Network;
use std::sync::Arc;
use std::time::Instant;

pub struct Preprocess {
    network: Arc<Network>,
    shared: Arc<Shared>,
    letterboxer: Letterboxer,
    jpeg_planes: Planes,
    /// A live source's damaged frame is skipped (counted) rather than ending the run.
    live: bool,
    next_seq: u64,
}

impl Preprocess {
    pub fn new(network: Arc<Network>, shared: Arc<Shared>, live: bool) -> Preprocess {
        Preprocess {
            network,
            shared,
            letterboxer: Letterboxer::default(),
            jpeg_planes: Planes::default(),
            live,
            next_seq: 0,
        }
    }
}

impl Process for Preprocess {
    fn process(&mut self, mut frame: Frame) -> Result<Processed> {
        let t0 = Instant::now();
        let mut rgb = self.shared.rgb_pool.take();
        match to_rgb(
            frame.format,
            frame.width,
            frame.height,
            &frame.raw,
            &mut rgb,
            &mut self.jpeg_planes,
        ) {
            Ok((w, h)) => {
                frame.width = w;
                frame.height = h;
            }
            Err(m) if self.live => {
                // A camera sends the odd damaged frame; skip it, count it.
                eprintln!("zynqdet: warning: {}: {m} (frame skipped)", frame.origin);
                self.shared.rgb_pool.give(rgb);
                self.shared.discard(frame);
                return Ok(Processed::Consumed);
            }
            Err(m) => return Err(anyhow!("{}: {m}", frame.origin)),
        }
        self.shared.raw_pool.give(std::mem::take(&mut frame.raw));
        frame.rgb = rgb;
        let net = &self.network;
        self.letterboxer.run_rgb8(
            frame.width,
            frame.height,
            &frame.rgb,
            net.width,
            net.height,
            net.resize,
            &mut frame.input,
        );
        frame.seq = self.next_seq;
        self.next_seq += 1;
        frame.timed(Stage::Preprocess, t0.elapsed());
        Ok(Processed::Forward(frame))
    }
}
