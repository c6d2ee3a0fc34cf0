//! Tinier-YOLO on dog.jpg gives the same result on every kernel table this CPU runs (the
//! generic one and the SIMD ones: POPCNT, AVX2 and AVX-512 on x86_64, NEON on aarch64, under
//! emulation in CI), to the last bit of the letterboxed input and of the network's outputs.
//! Tables with a fused float product (AVX-512) are held to the generic table with the generic
//! fused product; the others, to the generic table as it is (`matrixmultiply`'s product).

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
        let input = letterbox(&image, network.width, network.height, network.resize);
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
    let fused: &'static Kernels = Box::leak(Box::new(Kernels {
        name: "generic, fused product",
        sgemm_fma: Some(kernels::generic::sgemm_fma),
        ..*kernels::generic()
    }));
    let runs: Vec<Run> = tables.iter().map(|&t| run(&network, t)).collect();
    let generic = &runs[0];
    assert_eq!(generic.table, "generic");
    let generic_fused = run(&network, fused);
    let summary: Vec<(&str, u32)> = generic
        .found
        .iter()
        .map(|f| (f.class.as_str(), (f.prob * 100.0).round() as u32))
        .collect();
    assert_eq!(summary, [("dog", 86), ("car", 86), ("bicycle", 78)]);
    assert_eq!(generic_fused.found.len(), generic.found.len());
    for (a, b) in generic_fused.found.iter().zip(&generic.found) {
        assert!(
            a.class == b.class && (a.prob - b.prob).abs() < 1e-4,
            "{a:?} vs {b:?}"
        );
    }
    for (other, table) in runs[1..].iter().zip(&tables[1..]) {
        let generic = if table.sgemm_fma.is_some() {
            &generic_fused
        } else {
            generic
        };
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
        eprintln!("{}: {}'s result, bit for bit", other.table, generic.table);
    }
}
