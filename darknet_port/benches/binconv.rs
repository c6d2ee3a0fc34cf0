//! Tinier-YOLO's binarized convolutions (1-bit weights, 3-bit activations), in one run:
//! - conv3 (64 -> 128 channels, 52x52, 3x3): the popcount kernel of each table against the
//!   straightforward one-multiply-per-weight scalar version;
//! - every binarized layer on dog.jpg's activations, on 1 worker and on 2 (and on every core
//!   when there are more), against this machine's AND+popcount limit measured by
//!   `kernels::popcount_limit` on as many workers.
//!
//! `cargo bench -p darknet_port --bench binconv`

use darknet_port::image_input::{letterbox, load_image};
use darknet_port::kernels::{self, popcount_limit, PopcountLimit};
use darknet_port::layers::{BinaryConv, QTensor};
use darknet_port::network::{CpuRunner, Layer, Network, Segment, SegmentRunner, Timings};
use darknet_port::parallel::{self, Job, Workers};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

mod common;
use common::median_time;

/// Scoped threads started for each call, the first job on the caller's thread (as the app's).
struct Threads(usize);

impl Workers for Threads {
    fn count(&self) -> usize {
        self.0
    }

    fn run<'a>(&self, jobs: Vec<Job<'a>>) {
        std::thread::scope(|scope| {
            let mut jobs = jobs.into_iter();
            let first = jobs.next();
            for job in jobs {
                scope.spawn(job);
            }
            if let Some(first) = first {
                first();
            }
        });
    }
}

/// Runs the segments on the CPU and keeps each binarized layer's input.
struct Recorder(Vec<(usize, QTensor)>);

impl SegmentRunner for Recorder {
    fn run(
        &mut self,
        segment: &Segment,
        input: QTensor,
        timings: &mut Timings,
    ) -> darknet_port::error::Result<QTensor> {
        let mut act = input;
        for step in &segment.steps {
            self.0.push((step.layer, act.clone()));
            let one = Segment { steps: vec![*step] };
            act = CpuRunner.run(&one, act, timings)?;
        }
        Ok(act)
    }
}

/// W1A`bits` multiply-accumulates of a layer on an input of `pixels` pixels.
fn macs(conv: &BinaryConv, pixels: usize) -> f64 {
    (pixels * conv.out_channels * conv.size * conv.size * conv.in_channels) as f64
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let network = Network::load(&root.join("models/tinier-yolo/tinier-yolo.zdm"))
        .expect("the shipped model loads");
    let Layer::Binary(conv3) = &network.layers[5] else {
        panic!("layer 5 of Tinier-YOLO is conv3")
    };
    // Activations with the skew of real ones: mostly small levels.
    let mut input = QTensor::zeros(52, 52, 64, 3);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for y in 0..52 {
        for x in 0..52 {
            for c in 0..64 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = (state % 16) as u8;
                input.set(y, x, c, v.saturating_sub(8));
            }
        }
    }
    assert_eq!(conv3.forward(&input), conv3.forward_reference(&input));

    let scalar = median_time(3, || {
        black_box(conv3.forward_reference(black_box(&input)));
    });
    let ops = 2.0 * macs(conv3, 52 * 52);
    println!("binconv conv3 64->128 52x52 3x3 (binarized weights, 3-bit activations), 1 thread");
    println!(
        "  scalar reference     : {:>9.2} ms  {:>7.2} GOP/s",
        scalar.as_secs_f64() * 1e3,
        ops / scalar.as_secs_f64() / 1e9
    );
    for table in kernels::supported() {
        let packed = kernels::with_kernels(table, || {
            assert_eq!(conv3.forward(&input), conv3.forward_reference(&input));
            median_time(21, || {
                black_box(conv3.forward(black_box(&input)));
            })
        });
        println!(
            "  {:<20} : {:>9.2} ms  {:>7.2} GOP/s  {:>6.1}x the scalar reference",
            table.name,
            packed.as_secs_f64() * 1e3,
            ops / packed.as_secs_f64() / 1e9,
            scalar.as_secs_f64() / packed.as_secs_f64()
        );
    }

    // Every binarized layer, on what dog.jpg gives it.
    let image = load_image(&root.join("samples/dog.jpg")).expect("samples/dog.jpg loads");
    let image = letterbox(&image, network.width, network.height, network.resize);
    let mut recorder = Recorder(Vec::new());
    network
        .forward(&image, &mut recorder, &mut Timings::off())
        .expect("the network runs");
    let layers: Vec<(usize, &BinaryConv, QTensor)> = recorder
        .0
        .into_iter()
        .map(|(i, input)| match &network.layers[i] {
            Layer::Binary(conv) => (i, conv, input),
            _ => panic!("layer {i} of a segment is not binarized"),
        })
        .collect();
    let bits = layers[0].2.bits;
    let total_macs: f64 = layers
        .iter()
        .map(|(_, conv, input)| macs(conv, input.height * input.width))
        .sum();
    // The limit's arrays: as large as the largest layer's dense kernels (what the popcount
    // loop streams through for each pixel), and as small as conv3's (in the first-level
    // cache); the faster is the ceiling.
    let kernel_words = |conv: &BinaryConv| {
        conv.out_channels.next_multiple_of(kernels::BIN_GROUP)
            * (conv.size * conv.size * conv.in_channels).div_ceil(64)
    };
    let largest = layers
        .iter()
        .map(|(_, conv, _)| kernel_words(conv))
        .max()
        .unwrap_or(0);
    let sizes = [kernel_words(conv3), largest];

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1, 2];
    if cores > 2 {
        counts.push(cores);
    }
    println!(
        "\nTinier-YOLO's {} binarized layers on dog.jpg ({:.2} G W1A{bits}-MAC a frame), table {}, {cores} cores",
        layers.len(),
        total_macs / 1e9,
        kernels::active().name
    );
    let mut results: Vec<(usize, f64, PopcountLimit)> = Vec::new();
    for &count in &counts {
        let workers: &'static Threads = Box::leak(Box::new(Threads(count)));
        let (time, per_layer, limit) = parallel::with_workers(workers, || {
            let per_layer: Vec<Duration> = layers
                .iter()
                .map(|(_, conv, input)| {
                    median_time(11, || {
                        black_box(conv.forward(black_box(input)));
                    })
                })
                .collect();
            let time = median_time(11, || {
                for (_, conv, input) in &layers {
                    black_box(conv.forward(black_box(input)));
                }
            });
            let limit = sizes
                .iter()
                .map(|&words| popcount_limit(words, Duration::from_millis(300)))
                .max_by(|a, b| a.words_per_s.total_cmp(&b.words_per_s))
                .expect("two sizes");
            (time, per_layer, limit)
        });
        let rate = total_macs / time.as_secs_f64();
        println!(
            "  {count} thread(s): {:>7.2} ms  {:>6.1} G W1A{bits}-MAC/s;  AND+popcount limit {:>6.1} G W1A{bits}-MAC/s ({:.2} G words/s, {}): {:.0}% of it",
            time.as_secs_f64() * 1e3,
            rate / 1e9,
            limit.macs_per_s(bits) / 1e9,
            limit.words_per_s / 1e9,
            limit.method,
            100.0 * rate / limit.macs_per_s(bits)
        );
        let line: Vec<String> = layers
            .iter()
            .zip(&per_layer)
            .map(|((i, conv, input), t)| {
                format!(
                    "{i}:{}x{}x{}->{} {:.2}ms",
                    input.height,
                    input.width,
                    conv.in_channels,
                    conv.out_channels,
                    t.as_secs_f64() * 1e3
                )
            })
            .collect();
        println!("      per layer: {}", line.join("  "));
        results.push((count, time.as_secs_f64(), limit));
    }
    let (_, one, one_limit) = results[0];
    for &(count, time, limit) in &results[1..] {
        println!(
            "  {count} threads vs 1: {:.2}x faster (the limit: {:.2}x)",
            one / time,
            limit.words_per_s / one_limit.words_per_s
        );
    }
}
