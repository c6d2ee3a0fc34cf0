//! Each kernel on every table this CPU runs, against the generic table in the same run, on the
//! shapes of Tinier-YOLO's CPU work (a 768x576 image, 416x416 network input).
//!
//! `cargo bench -p darknet_port --bench kernels`

use darknet_port::image_input::{resize, ResizeArithmetic};
use darknet_port::kernels::{self, Kernels};
use darknet_port::layers::{Activation, FloatConv, QTensor, Quantizer, Tensor};
use darknet_port::network::{Layer, Network};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Best wall time of `runs` calls (the least disturbed by other work on the machine).
fn best_time(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("at least one run")
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn floats(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.next() % 2001) as f32 / 1000.0 - 0.5) * scale)
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Times `f` on each table and prints one line with the generic time and each table's
/// speed-up over it.
fn compare(name: &str, runs: usize, tables: &[&'static Kernels], mut f: impl FnMut()) {
    let times: Vec<Duration> = tables
        .iter()
        .map(|&t| kernels::with_kernels(t, || best_time(runs, &mut f)))
        .collect();
    let base = times[0].as_secs_f64();
    let mut line = format!("{name:<44} {:>9.3} ms", base * 1e3);
    for (t, time) in tables.iter().zip(&times).skip(1) {
        let s = time.as_secs_f64();
        line += &format!("  | {:>9.3} ms {:>6.2}x ({})", s * 1e3, base / s, t.name);
    }
    println!("{line}");
}

fn main() {
    let tables = kernels::supported();
    println!(
        "tables: {} (speed-up = generic time / table time, same run)\n",
        tables.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/tinier-yolo/tinier-yolo.zdm");
    let network = Network::load(&model).expect("the shipped model loads");

    // Colour conversion of a VGA camera frame.
    let (w, h) = (640, 480);
    let yuyv = rng.bytes(w * h * 2);
    let nv12 = rng.bytes(w * h * 3 / 2);
    let mut rgb = Vec::new();
    compare("yuyv_to_rgb 640x480", 50, &tables, || {
        kernels::yuyv_to_rgb(w, h, black_box(&yuyv), &mut rgb).unwrap()
    });
    compare("nv12_to_rgb 640x480", 50, &tables, || {
        kernels::nv12_to_rgb(w, h, black_box(&nv12), &mut rgb).unwrap()
    });

    // The letterbox's resize of a 768x576 picture.
    let image = Tensor {
        channels: 3,
        height: 576,
        width: 768,
        data: rng.floats(3 * 576 * 768, 2.0),
    };
    compare("resize 768x576 -> 416x312 (x3)", 30, &tables, || {
        black_box(resize(
            black_box(&image),
            416,
            312,
            ResizeArithmetic::Separate,
        ));
    });
    compare("resize 768x576 -> 416x312 (x3, fused)", 30, &tables, || {
        black_box(resize(black_box(&image), 416, 312, ResizeArithmetic::Fused));
    });

    // The first layer, its quantization, and the last layer.
    let Layer::Conv(conv0) = &network.layers[0] else {
        panic!("layer 0 of Tinier-YOLO is a float convolution")
    };
    let input = Tensor {
        channels: 3,
        height: 416,
        width: 416,
        data: rng.floats(3 * 416 * 416, 2.0),
    };
    compare("conv 0: 3->16 3x3/2 416x416 direct", 10, &tables, || {
        black_box(conv0.forward_direct(black_box(&input)));
    });
    let gemm = best_time(10, || {
        black_box(conv0.forward_gemm(black_box(&input)));
    });
    println!(
        "{:<44} {:>9.3} ms",
        "conv 0 forward_gemm (best table)",
        gemm.as_secs_f64() * 1e3
    );
    let features = conv0.forward(&input);
    let quantizer = Quantizer { bits: 3, max: 4.0 };
    compare("quantize 16x416x416 (transposed)", 20, &tables, || {
        black_box(quantizer.quantize(black_box(&features), true));
    });
    let Some(Layer::Conv(last)) = network
        .layers
        .iter()
        .rev()
        .find(|l| matches!(l, Layer::Conv(_)))
    else {
        panic!("Tinier-YOLO ends with a float convolution")
    };
    let levels = Tensor {
        channels: last.in_channels,
        height: 13,
        width: 13,
        data: (0..last.in_channels * 169)
            .map(|_| (rng.next() % 8) as f32)
            .collect(),
    };
    let name = format!(
        "conv {}->{} 1x1 13x13 direct",
        last.in_channels, last.out_channels
    );
    compare(&name, 20, &tables, || {
        black_box(last.forward_direct(black_box(&levels)));
    });
    let gemm = best_time(20, || {
        black_box(last.forward_gemm(black_box(&levels)));
    });
    println!(
        "{:<44} {:>9.3} ms",
        "  the same, forward_gemm (best table)",
        gemm.as_secs_f64() * 1e3
    );
    // What FloatConv::forward runs on this layer (the fused product on AVX-512,
    // matrixmultiply's own SIMD kernels elsewhere) against the scalar reference.
    let scalar = best_time(5, || {
        black_box(last.forward_reference(black_box(&levels)));
    });
    println!(
        "{:<44} {:>9.3} ms  | {:>9.3} ms {:>6.2}x (forward_gemm)",
        "  the same, scalar forward_reference",
        scalar.as_secs_f64() * 1e3,
        gemm.as_secs_f64() * 1e3,
        scalar.as_secs_f64() / gemm.as_secs_f64()
    );

    // The binarized layers: popcounts, thresholds and bit planes.
    for index in [1usize, 5, 12] {
        let Layer::Binary(conv) = &network.layers[index] else {
            panic!("layer {index} of Tinier-YOLO is binarized")
        };
        let dim = [208, 208, 104, 104, 52, 52, 26, 26, 13, 13, 13, 13, 13][index];
        let mut q = QTensor::zeros(dim, dim, conv.in_channels, 3);
        for y in 0..dim {
            for x in 0..dim {
                for c in 0..conv.in_channels {
                    // mostly small levels, as real activations are
                    q.set(y, x, c, ((rng.next() % 16) as u8).saturating_sub(8));
                }
            }
        }
        let name = format!(
            "binconv {index}: {}->{} {dim}x{dim} {}x{}",
            conv.in_channels, conv.out_channels, conv.size, conv.size
        );
        compare(&name, 5, &tables, || {
            black_box(conv.forward(black_box(&q)));
        });
    }

    // The binarized kernels alone, on one row of layer 1 (16 -> 64 channels, 208 pixels:
    // dense windows of 3 words) and of layer 12 (512 -> 512, 13 pixels, 72 words).
    for (name, pixels, span, channels) in [
        ("layer 1", 208usize, 3usize, 64usize),
        ("layer 12", 13, 72, 512),
    ] {
        let windows: Vec<u64> = (0..pixels * 3 * span)
            .map(|_| rng.next() & rng.next())
            .collect();
        let weights: Vec<u64> = (0..channels * span).map(|_| rng.next()).collect();
        let mut acc = vec![0i32; pixels * channels];
        compare(
            &format!("popcount_dots row of {name}"),
            200,
            &tables,
            || (kernels::active().popcount_dots)(black_box(&windows), 3, span, &weights, &mut acc),
        );
        let sums: Vec<i32> = (0..pixels).map(|_| (rng.next() % 2000) as i32).collect();
        let thresholds: Vec<i32> = (0..channels * 7)
            .map(|_| (rng.next() % 2000) as i32 - 1000)
            .collect();
        let flip: Vec<i32> = (0..channels)
            .map(|o| if o % 5 == 0 { 7 } else { 0 })
            .collect();
        let mut levels = vec![0u8; pixels * channels];
        compare(&format!("activate row of {name}"), 200, &tables, || {
            (kernels::active().activate)(black_box(&acc), &sums, &thresholds, 7, &flip, &mut levels)
        });
        let mut planes = vec![0u64; 3 * channels.div_ceil(64)];
        compare(
            &format!("pack_planes x{pixels} of {name}"),
            200,
            &tables,
            || {
                let pack = kernels::active().pack_planes;
                for l in levels.chunks_exact(channels) {
                    pack(black_box(l), 3, &mut planes);
                }
            },
        );
    }

    // The INT8 matrix product of a 3x3 512->256 convolution on 26x26 pixels, and of a 1x1
    // 256->255 one on 13x13.
    for (name, pixels, span, channels, runs) in [
        (
            "gemm_i8 3x3 512->256 26x26",
            676usize,
            4608usize,
            256usize,
            3usize,
        ),
        ("gemm_i8 1x1 256->255 13x13", 169, 256, 255, 50),
    ] {
        let weights: Vec<i8> = (0..channels * span)
            .map(|_| ((rng.next() % 255) as i32 - 127) as i8)
            .collect();
        let (packed, wsum, span) = kernels::pack_gemm_i8(&weights, channels, span);
        let rows = rng.bytes(pixels * span);
        let mut acc = vec![0i32; pixels * wsum.len()];
        compare(name, runs, &tables, || {
            (kernels::active().gemm_i8)(black_box(&rows), span, &packed, &wsum, &mut acc)
        });
    }

    // The INT16 matrix product of a 3x3 512->256 convolution on one block of 64 pixels (what
    // the layer hands it at a time).
    let (pixels, span, channels) = (64, 4608, 256);
    let top = 32767u64;
    let values = |rng: &mut Rng, n: usize| -> Vec<i16> {
        (0..n)
            .map(|_| ((rng.next() % (2 * top + 1)) as i64 - top as i64) as i16)
            .collect()
    };
    let (packed, span) = kernels::pack_gemm_i16(&values(&mut rng, channels * span), channels, span);
    let rows = values(&mut rng, pixels * span);
    let mut acc = vec![0i64; pixels * channels];
    compare(
        &format!("gemm_i16 3x3 512->256 x{pixels}"),
        20,
        &tables,
        || (kernels::active().gemm_i16)(black_box(&rows), span, &packed, &mut acc),
    );

    // A layer shape of other tiny-YOLO models, for the direct-or-product rule.
    let conv = FloatConv {
        in_channels: 256,
        out_channels: 255,
        size: 1,
        stride: 1,
        pad: 0,
        weights: rng.floats(256 * 255, 0.2),
        bias: rng.floats(255, 0.2),
        activation: Activation::Linear,
        packed: Default::default(),
    };
    let input = Tensor {
        channels: 256,
        height: 26,
        width: 26,
        data: rng.floats(256 * 676, 2.0),
    };
    compare("conv 256->255 1x1 26x26 direct", 10, &tables, || {
        black_box(conv.forward_direct(black_box(&input)));
    });
    let gemm = best_time(10, || {
        black_box(conv.forward_gemm(black_box(&input)));
    });
    println!(
        "{:<44} {:>9.3} ms",
        "  the same, forward_gemm (best table)",
        gemm.as_secs_f64() * 1e3
    );
}
