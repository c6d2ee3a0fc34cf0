//! Tinier-YOLO on dog.jpg gives the same result on every kernel table this CPU runs (the
//! generic one and the SIMD ones: POPCNT and AVX2 on x86_64, NEON on aarch64, under emulation
//! in CI), to the last bit of the letterboxed input and of the network's outputs.

use darknet_port::image_input::{letterbox, load_image};
use darknet_port::kernels::{self, Kernels};
use darknet_port::network::{CpuRunner, Found, Network, Timings};
use std::path::PathBuf;

struct Run {
    table: &'static str,
    input: Vec<u32>,
    heads: Vec<(usize, Vec<u32>)>,
    found: Vec<Found>,
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn run(network: &Network, table: &'static Kernels) -> Run {
    let image_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/dog.jpg");
    kernels::with_kernels(table, || {
        let image = load_image(&image_path).unwrap();
        let input = letterbox(&image, network.width, network.height);
        let heads = network
            .forward(&input, &mut CpuRunner, &mut Timings::new())
            .unwrap();
        let nms = network.nms.unwrap_or(0.45);
        let found = network
            .decode(&heads, image.width, image.height, 0.3, nms)
            .unwrap();
        Run {
            table: table.name,
            input: bits(&input.data),
            heads: heads.0.iter().map(|(i, t)| (*i, bits(&t.data))).collect(),
            found,
        }
    })
}

#[test]
fn dog_jpg_gives_the_same_detections_on_every_table() {
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/tinier-yolo/tinier-yolo.zdm");
    let network = Network::load(&model).unwrap();
    let tables = kernels::supported();
    assert!(tables.len() > 1 || cfg!(not(any(target_arch = "x86_64", target_arch = "aarch64"))));
    let runs: Vec<Run> = tables.iter().map(|&t| run(&network, t)).collect();
    let generic = &runs[0];
    assert_eq!(generic.table, "generic");
    let summary: Vec<(&str, u32)> = generic
        .found
        .iter()
        .map(|f| (f.class.as_str(), (f.prob * 100.0).round() as u32))
        .collect();
    assert_eq!(summary, [("dog", 86), ("car", 86), ("bicycle", 78)]);
    for other in &runs[1..] {
        assert!(
            other.input == generic.input,
            "{}: the letterbox differs",
            other.table
        );
        assert!(
            other.heads == generic.heads,
            "{}: the network's outputs differ",
            other.table
        );
        assert_eq!(other.found, generic.found, "{}", other.table);
        eprintln!("{}: the generic table's result, bit for bit", other.table);
    }
}
