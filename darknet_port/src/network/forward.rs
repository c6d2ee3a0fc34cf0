//! Running a network: float layers on the CPU, each binarized segment through a
//! [`SegmentRunner`](super::SegmentRunner).

use super::{Heads, Layer, Network, SegmentRunner, StepKind, Timings};
use crate::error::{Error, Result};
use crate::layers::quantize::dequantize;
use crate::layers::{spare, Tensor};
use std::time::Instant;

/// More untimed runs than any layer's choice takes (`layers::race`: up to four ways, a
/// warm-up and two timed calls each).
pub const MAX_WARM_UPS: usize = 16;

impl Network {
    /// Runs the network on a letterboxed CHW image and returns its detection layers' outputs.
    pub fn forward(
        &self,
        image: &Tensor,
        runner: &mut dyn SegmentRunner,
        timings: &mut Timings,
    ) -> Result<Heads> {
        self.run(image, runner, timings, &mut |_, _| {})
    }

    /// Untimed runs on `image` before a measurement: one (the first packs kernels and faults
    /// in buffers), then more until every layer has chosen its way ([`Network::settled`]),
    /// at most [`MAX_WARM_UPS`]. Returns how many ran.
    pub fn warm_up(&self, image: &Tensor, runner: &mut dyn SegmentRunner) -> Result<usize> {
        let mut runs = 0;
        while runs == 0 || (runs < MAX_WARM_UPS && !self.settled()) {
            self.forward(image, runner, &mut Timings::off())?;
            runs += 1;
        }
        Ok(runs)
    }

    /// The forward pass, `observe` seeing the input of each layer run on the CPU (what
    /// calibration measures).
    pub(super) fn run(
        &self,
        image: &Tensor,
        runner: &mut dyn SegmentRunner,
        timings: &mut Timings,
        observe: &mut dyn FnMut(usize, &Tensor),
    ) -> Result<Heads> {
        if (image.channels, image.height, image.width) != (self.channels, self.height, self.width) {
            return Err(Error::Model(format!(
                "input is {}x{}x{}, the network takes {}x{}x{}",
                image.channels, image.height, image.width, self.channels, self.height, self.width
            )));
        }
        let segments = self.segments().map_err(Error::Model)?;
        let mut outputs: Vec<Option<Tensor>> = vec![None; self.layers.len()];
        let mut i = 0;
        while i < self.layers.len() {
            let input = match i {
                0 => image,
                _ => outputs[i - 1].as_ref().expect("layers run in order"),
            };
            if let Some((_, end, segment)) = segments.iter().find(|(s, _, _)| *s == i) {
                let quantizer = self.quantizer().expect("binary layers imply quantization");
                let start = Instant::now();
                let q = quantizer.quantize(input, self.transposed());
                timings.push(None, StepKind::Quantize, start.elapsed());
                let q = runner.run(segment, q, timings)?;
                let start = Instant::now();
                outputs[end - 1] = Some(dequantize(&q, self.transposed()));
                timings.push(None, StepKind::Dequantize, start.elapsed());
                i = *end;
                continue;
            }
            observe(i, input);
            let start = Instant::now();
            let earlier = |l: usize| outputs[l].as_ref().expect("references checked at build");
            let out = match &self.layers[i] {
                Layer::Conv(conv) => conv.forward(input),
                Layer::IntConv(conv) => conv.forward(input),
                Layer::MaxPool(pool) => pool.forward(input),
                Layer::Route(route) => {
                    let parts: Vec<&Tensor> = route.layers.iter().map(|&l| earlier(l)).collect();
                    route.forward(&parts)
                }
                Layer::Shortcut(s) => s.forward(input, earlier(s.from)),
                Layer::Region(region) => region.forward(input),
                Layer::Yolo(yolo) => yolo.forward(input),
                Layer::Plain(plain) => plain.0.forward(input),
                Layer::Binary(_) => unreachable!("binary layers run in segments"),
            };
            let kind = StepKind::Layer(self.layers[i].kind());
            timings.push(Some(i), kind, start.elapsed());
            outputs[i] = Some(out);
            i += 1;
        }
        let heads = self
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_head())
            .map(|(i, _)| (i, outputs[i].take().expect("every layer ran")))
            .collect();
        // the next frame's layers write into these
        for output in outputs.into_iter().flatten() {
            spare::keep(output.data);
        }
        Ok(Heads(heads))
    }
}
