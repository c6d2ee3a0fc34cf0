//! Tinier-YOLO's binarized convolutions (1-bit weights, 3-bit activations), in one run:
//! - conv3 (64 -> 128 channels, 52x52, 3x3): the popcount kernel of each table against the
//!   straightforward one-multiply-per-weight scalar version;
//! - every binarized layer on dog.jpg's activations, on 1 worker and on 2 (and on every core
//!   when there are more), against this machine's AND+popcount limit measured by
//!   `kernels::popcount_limit` on as many workers (each figure the best of several rounds,
//!   the thread counts taking turns, as other work may share the machine).
//!
//! `cargo bench -p darknet_port --bench binconv`

use darknet_port::image_input::{letterbox, load_image};
use darknet_port::kernels::{self, popcount_limits, PopcountLimit};
use darknet_port::layers::{BinaryConv, QTensor};
use darknet_port::network::{CpuRunner, Layer, Network, Segment, SegmentRunner, Timings};
use darknet_port::parallel::{self, Job, Workers};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    let workers: Vec<&'static Threads> = counts
        .iter()
        .map(|&count| &*Box::leak(Box::new(Threads(count))))
        .collect();
    println!(
        "\nTinier-YOLO's {} binarized layers on dog.jpg ({:.2} G W1A{bits}-MAC a frame), table {}, {cores} cores",
        layers.len(),
        total_macs / 1e9,
        kernels::active().name
    );
    // The thread counts take turns, round after round, and each keeps its best round: on a
    // machine that other work shares, the best is what the code does when it has the cores.
    const ROUNDS: usize = 101;
    let mut best = vec![vec![Duration::MAX; layers.len()]; counts.len()];
    let mut limits: Vec<Vec<PopcountLimit>> = vec![Vec::new(); counts.len()];
    for round in 0..ROUNDS {
        for (w, &workers) in workers.iter().enumerate() {
            parallel::with_workers(workers, || {
                for ((_, conv, input), best) in layers.iter().zip(&mut best[w]) {
                    let start = Instant::now();
                    black_box(conv.forward(black_box(input)));
                    *best = (*best).min(start.elapsed());
                }
                if round % 25 == 0 {
                    for &words in &sizes {
                        limits[w].extend(popcount_limits(words, Duration::from_millis(100)));
                    }
                }
            });
        }
    }
    let mut results: Vec<(usize, f64, PopcountLimit)> = Vec::new();
    for ((&count, best), limits) in counts.iter().zip(&best).zip(&limits) {
        let time: f64 = best.iter().map(Duration::as_secs_f64).sum();
        let limit = *limits
            .iter()
            .max_by(|a, b| a.words_per_s.total_cmp(&b.words_per_s))
            .expect("limits measured");
        let rate = total_macs / time;
        println!(
            "  {count} thread(s): {:>7.2} ms  {:>6.1} G W1A{bits}-MAC/s;  AND+popcount limit {:>6.1} G W1A{bits}-MAC/s ({:.2} G words/s, {}): {:.0}% of it",
            time * 1e3,
            rate / 1e9,
            limit.macs_per_s(bits) / 1e9,
            limit.words_per_s / 1e9,
            limit.method,
            100.0 * rate / limit.macs_per_s(bits)
        );
        let line: Vec<String> = layers
            .iter()
            .zip(best)
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
        let mut methods: Vec<String> = Vec::new();
        for l in limits {
            if !methods.iter().any(|m| m.starts_with(l.method)) {
                let best = limits
                    .iter()
                    .filter(|m| m.method == l.method)
                    .map(|m| m.words_per_s)
                    .fold(0.0, f64::max);
                methods.push(format!("{} {:.2} G words/s", l.method, best / 1e9));
            }
        }
        println!("      limit by loop: {}", methods.join(", "));
        let popcnt = limits
            .iter()
            .filter(|m| m.method == "popcnt")
            .map(|m| m.macs_per_s(bits))
            .fold(0.0, f64::max);
        if popcnt > 0.0 {
            println!(
                "      {:.0}% of the POPCNT loop alone (the issue's C loop)",
                100.0 * rate / popcnt
            );
        }
        results.push((count, time, limit));
    }
    let (_, one, one_limit) = results[0];
    for &(count, time, limit) in &results[1..] {
        println!(
            "  {count} threads vs 1: {:.2}x faster (the limit: {:.2}x)",
            one / time,
            limit.words_per_s / one_limit.words_per_s
        );
    }
    println!("  (each figure the best of {ROUNDS} rounds, the thread counts taking turns)");
}
