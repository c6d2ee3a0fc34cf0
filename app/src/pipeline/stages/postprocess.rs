//! Postprocess: the network's output heads to boxes, with NMS; and [`InOrder`], which puts the
//! frames back into capture order before it (the CPU workers finish out of order).

use super::{Process, Processed};
use crate::pipeline::frame::{Frame, Stage};
use anyhow::{Context, Result};
use darknet_port::network::Network;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub struct Postprocess {
    network: Arc<Network>,
    thresh: f32,
    nms: f32,
}

impl Postprocess {
    pub fn new(network: Arc<Network>, thresh: f32, nms: f32) -> Postprocess {
        Postprocess {
            network,
            thresh,
            nms,
        }
    }
}

impl Process for Postprocess {
    fn process(&mut self, mut frame: Frame) -> Result<Processed> {
        let t0 = Instant::now();
        let heads = frame
            .heads
            .take()
            .context("a frame without network output")?;
        frame.found = self
            .network
            .decode(&heads, frame.width, frame.height, self.thresh, self.nms)
            .with_context(|| frame.origin.clone())?;
        frame.timed(Stage::Postprocess, t0.elapsed());
        Ok(Processed::Forward(frame))
    }
}

/// The frames of `inner` in `seq` order. A frame that never comes (its worker failed) leaves a
/// gap: once `inner` ends, what came after the gap follows, in order.
pub struct InOrder<I> {
    inner: I,
    waiting: BTreeMap<u64, Frame>,
    next: u64,
    ended: bool,
}

impl<I: Iterator<Item = Frame>> InOrder<I> {
    pub fn new(inner: I) -> InOrder<I> {
        InOrder {
            inner,
            waiting: BTreeMap::new(),
            next: 0,
            ended: false,
        }
    }
}

impl<I: Iterator<Item = Frame>> Iterator for InOrder<I> {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        while !self.ended {
            if let Some(frame) = self.waiting.remove(&self.next) {
                self.next += 1;
                return Some(frame);
            }
            match self.inner.next() {
                Some(frame) => {
                    self.waiting.insert(frame.seq, frame);
                }
                None => self.ended = true,
            }
        }
        self.waiting.pop_first().map(|(_, frame)| frame)
    }
}
