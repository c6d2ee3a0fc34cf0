//! How sensitive Tinier-YOLO is to its quantized activations: flips N random first-layer
//! activation levels by one step (what a one-ulp change of the input does when it crosses a
//! rounding boundary), runs the rest of the network, and counts how often a detection as
//! `zynqdet detect` prints it (class, whole percent, box) changes. docs/fidelity.md quotes it.
//!
//!     cargo run --release -p darknet_port --example flip_sensitivity [IMAGE...]

use darknet_port::image_input::{letterbox, load_image};
use darknet_port::layers::QTensor;
use darknet_port::network::{CpuRunner, Found, Network, Segment, SegmentRunner, Timings};
use std::path::PathBuf;

/// Changes some levels of the binarized segment's input, then runs it on the CPU.
struct Flipper {
    flips: usize,
    seed: u64,
}

impl Flipper {
    fn next(&mut self) -> u64 {
        // xorshift64*: a fixed sequence, so that the figures are reproducible
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl SegmentRunner for Flipper {
    fn run(
        &mut self,
        segment: &Segment,
        mut input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::Result<QTensor> {
        let top = (1u8 << input.bits) - 1;
        for _ in 0..self.flips {
            let y = (self.next() % input.height as u64) as usize;
            let x = (self.next() % input.width as u64) as usize;
            let c = (self.next() % input.channels as u64) as usize;
            let level = input.get(y, x, c);
            let up = level == 0 || (level < top && self.next().is_multiple_of(2));
            input.set(y, x, c, if up { level + 1 } else { level - 1 });
        }
        CpuRunner.run(segment, input, timings)
    }
}

/// The lines `zynqdet detect` prints.
fn printed(found: &[Found]) -> Vec<String> {
    let mut lines: Vec<String> = found
        .iter()
        .map(|f| {
            let [x0, y0, x1, y1] = f.bbox;
            format!(
                "{}: {:.0}% ({x0:.0}, {y0:.0})-({x1:.0}, {y1:.0})",
                f.class,
                f.prob * 100.0
            )
        })
        .collect();
    lines.sort();
    lines
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let network = Network::load(&repo.join("models/tinier-yolo/tinier-yolo.zdm")).unwrap();
    let mut images: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if images.is_empty() {
        images = ["dog.jpg", "person.jpg"]
            .iter()
            .map(|n| repo.join("samples").join(n))
            .collect();
    }
    let nms = network.nms.unwrap_or(0.45);
    const TRIALS: usize = 20;
    for path in images {
        let image = load_image(&path).unwrap();
        let input = letterbox(&image, network.width, network.height, network.resize);
        let detect = |runner: &mut dyn SegmentRunner| {
            let heads = network
                .forward(&input, runner, &mut Timings::new())
                .unwrap();
            network
                .decode(&heads, image.width, image.height, 0.3, nms)
                .unwrap()
        };
        let base = detect(&mut CpuRunner);
        let reference = printed(&base);
        println!("{}: {} detections", path.display(), reference.len());
        println!("  flips   changed output   largest probability change (points)");
        for flips in [1usize, 2, 4, 8, 16, 64, 256] {
            let mut changed = 0;
            let mut largest = 0.0f32;
            for trial in 0..TRIALS {
                let mut flipper = Flipper {
                    flips,
                    seed: 0x9e37_79b9_7f4a_7c15 ^ (flips * 1000 + trial) as u64,
                };
                let found = detect(&mut flipper);
                if printed(&found) != reference {
                    changed += 1;
                }
                for b in &base {
                    let moved = found
                        .iter()
                        .filter(|f| f.class_id == b.class_id)
                        .map(|f| (f.prob - b.prob).abs())
                        .fold(b.prob, f32::min);
                    largest = largest.max(moved * 100.0);
                }
            }
            println!("  {flips:>5}   {changed:>3} of {TRIALS} trials   {largest:>6.1}",);
        }
    }
}
