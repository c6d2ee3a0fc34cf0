//! Float convolution (im2col + SGEMM) against the same layer in INT16 and INT8, on layer
//! shapes of YOLOv3-tiny, measured in the same run. `cargo bench -p darknet_port --bench conv`

use darknet_port::layers::{Activation, FloatConv, InputStats, IntConv, Precision, Tensor};
use std::hint::black_box;

mod common;
use common::median_time;

fn main() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    };
    println!(
        "{:<34} {:>10} {:>16} {:>16}",
        "layer", "fp32 ms", "int16 ms (x)", "int8 ms (x)"
    );
    for &(cin, cout, k, dim) in &[
        (16, 32, 3, 208),
        (128, 256, 3, 26),
        (512, 1024, 3, 13),
        (256, 512, 1, 26),
    ] {
        let conv = FloatConv {
            in_channels: cin,
            out_channels: cout,
            size: k,
            stride: 1,
            pad: k / 2,
            weights: rand(cout * cin * k * k),
            bias: rand(cout),
            activation: Activation::Leaky,
        };
        let input = Tensor {
            channels: cin,
            height: dim,
            width: dim,
            data: rand(cin * dim * dim),
        };
        let fp32 = median_time(7, || {
            black_box(conv.forward(black_box(&input)));
        });
        let mut row = format!(
            "{:<34} {:>10.2}",
            format!("{cin}->{cout} {k}x{k} at {dim}x{dim}"),
            fp32.as_secs_f64() * 1e3
        );
        for precision in [Precision::Int16, Precision::Int8] {
            let q = IntConv::from_float(&conv, precision, &InputStats::range(1.0));
            let t = median_time(7, || {
                black_box(q.forward(black_box(&input)));
            });
            row += &format!(
                " {:>9.2} ({:.2}x)",
                t.as_secs_f64() * 1e3,
                fp32.as_secs_f64() / t.as_secs_f64()
            );
        }
        println!("{row}");
    }
}
