//! Float convolution on each kernel table with a fused product (FMA, AVX-512; Winograd's
//! F(4x4, 3x3) where it suits) against `matrixmultiply`'s SGEMM (what tables without one use),
//! and the same layer in INT16 and INT8 (marked `winograd` where INT8's race chose it), on
//! layer shapes of YOLOv3-tiny and YOLOv4-tiny, measured in the same run, on one thread.
//! Ratios are to the SGEMM time.
//! `cargo bench -p darknet_port --bench conv`

use darknet_port::kernels;
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
    // the fastest table without a fused product: its float layers run matrixmultiply
    let sgemm_table = kernels::supported()
        .into_iter()
        .rev()
        .find(|t| t.sgemm_fma.is_none())
        .expect("the generic table has none");
    // and each table with one (the last is the best)
    let fused: Vec<_> = kernels::supported()
        .into_iter()
        .filter(|t| t.sgemm_fma.is_some())
        .collect();
    let mut header = format!("{:<34} {:>10}", "layer", "sgemm ms");
    for t in &fused {
        header += &format!(" {:>24}", format!("{} ms (x)", t.name));
    }
    header += &format!(" {:>16} {:>16}", "int16 ms (x)", "int8 ms (x)");
    println!("{header}");
    for &(cin, cout, k, dim) in &[
        (16, 32, 3, 208),
        (32, 64, 3, 104),
        (128, 256, 3, 26),
        (384, 256, 3, 26),
        (512, 1024, 3, 13),
        (1024, 256, 1, 13),
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
            packed: Default::default(),
        };
        let input = Tensor {
            channels: cin,
            height: dim,
            width: dim,
            data: rand(cin * dim * dim),
        };
        let sgemm = kernels::with_kernels(sgemm_table, || {
            median_time(7, || {
                black_box(conv.forward(black_box(&input)));
            })
        });
        let mut row = format!(
            "{:<34} {:>10.2}",
            format!("{cin}->{cout} {k}x{k} at {dim}x{dim}"),
            sgemm.as_secs_f64() * 1e3,
        );
        for &t in &fused {
            let fp32 = kernels::with_kernels(t, || {
                median_time(7, || {
                    black_box(conv.forward(black_box(&input)));
                })
            });
            row += &format!(
                " {:>15.2} ({:.2}x)",
                fp32.as_secs_f64() * 1e3,
                sgemm.as_secs_f64() / fp32.as_secs_f64()
            );
        }
        for precision in [Precision::Int16, Precision::Int8] {
            let q = IntConv::from_float(&conv, precision, &InputStats::range(1.0));
            // an INT8 layer that races Winograd against its product decides on its first calls
            for _ in 0..8 {
                black_box(q.forward(black_box(&input)));
            }
            let t = median_time(7, || {
                black_box(q.forward(black_box(&input)));
            });
            row += &format!(
                " {:>9.2} ({:.2}x)",
                t.as_secs_f64() * 1e3,
                sgemm.as_secs_f64() / t.as_secs_f64()
            );
            if q.kind().ends_with("wino") {
                row += " winograd";
            }
        }
        println!("{row}");
    }
}
