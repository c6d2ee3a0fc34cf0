//! conv3 of Tinier-YOLO (64 -> 128 channels, 52x52, 3x3), binarized: the bit-packed popcount
//! kernel against the straightforward one-multiply-per-weight scalar version, same run.
//!
//! `cargo bench -p darknet_port --bench binconv`

use darknet_port::layers::QTensor;
use darknet_port::network::{Layer, Network};
use std::hint::black_box;
use std::path::PathBuf;

mod common;
use common::median_time;

fn main() {
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/tinier-yolo/tinier-yolo.zdm");
    let network = Network::load(&model).expect("the shipped model loads");
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
    let packed = median_time(21, || {
        black_box(conv3.forward(black_box(&input)));
    });
    let ops = 52.0 * 52.0 * 128.0 * 9.0 * 64.0 * 2.0;
    println!("binconv conv3 64->128 52x52 3x3 (binarized weights, 3-bit activations)");
    println!(
        "  scalar reference : {:>9.2} ms  {:>7.2} GOP/s",
        scalar.as_secs_f64() * 1e3,
        ops / scalar.as_secs_f64() / 1e9
    );
    println!(
        "  popcount kernel  : {:>9.2} ms  {:>7.2} GOP/s",
        packed.as_secs_f64() * 1e3,
        ops / packed.as_secs_f64() / 1e9
    );
    println!(
        "  speed-up         : {:>9.1}x",
        scalar.as_secs_f64() / packed.as_secs_f64()
    );
}
