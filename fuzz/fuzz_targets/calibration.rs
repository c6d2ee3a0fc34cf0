//! The calibration file (JSON) on any bytes; one that is accepted then quantizes a small
//! network to INT8 and INT16, which must run.
#![no_main]
use darknet_port::layers::{Precision, Tensor};
use darknet_port::network::{Calibration, CpuRunner, Network, Timings};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Two convolutions (one with batch norm) and a YOLO layer on 8x8x1.
const CFG: &str = "[net]\nwidth=8\nheight=8\nchannels=1\n\
    [convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n\
    [convolutional]\nfilters=7\nsize=1\nstride=1\npad=1\nactivation=linear\n\
    [yolo]\nmask=0\nanchors=2,2\nclasses=2\nnum=1\n";

/// Its .weights: the header (version 0.2, 8-byte `seen`), then 47 values.
fn weights() -> Vec<u8> {
    let mut bytes: Vec<u8> = [0i32, 2, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.extend(0u64.to_le_bytes());
    // biases, scales, means and variances stay positive (variances must be)
    for i in 0..47 {
        bytes.extend((0.05 + (i % 5) as f32 * 0.1).to_le_bytes());
    }
    bytes
}

fn network() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("zynqdet-fuzz-calib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (cfg, weights_file) = (dir.join("t.cfg"), dir.join("t.weights"));
        std::fs::write(&cfg, CFG).expect("write cfg");
        std::fs::write(&weights_file, weights()).expect("write weights");
        let model = darknet_port::darknet_weights::import(
            &cfg,
            &weights_file,
            vec!["a".into(), "b".into()],
        )
        .expect("the model imports");
        Network::from_model(&model, &cfg).expect("the model builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(calibration) = Calibration::from_json(text) else {
        return;
    };
    let network = network();
    let input = Tensor {
        channels: 1,
        height: 8,
        width: 8,
        data: (0..64).map(|i| (i % 17) as f32 / 16.0).collect(),
    };
    for precision in [Precision::Int8, Precision::Int16] {
        if let Ok(quantized) = network.with_precision(precision, &[], &calibration) {
            let out = quantized.forward(&input, &mut CpuRunner, &mut Timings::off());
            assert!(out.is_ok(), "{out:?}");
        }
    }
});
