//! The whole detector with its middle layers on the engine model: the same detections as the
//! CPU, to the last bit of every probability.

use darknet_port::image_input::{letterbox, load_image};
use darknet_port::network::{CpuRunner, Network, Timings};
use pl_driver::{model_runner, DriverConfig};
use std::path::PathBuf;

#[test]
fn dog_jpg_gives_the_cpu_detections_through_the_model() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let image_path = system_tests::sample("dog.jpg");
    let network = Network::load(&repo.join("models/tinier-yolo/tinier-yolo.zdm")).unwrap();
    let image = load_image(&image_path).unwrap();
    let input = letterbox(&image, network.width, network.height, network.resize);
    let nms = network.nms.unwrap_or(0.45);

    let cpu = network
        .forward(&input, &mut CpuRunner, &mut Timings::new())
        .unwrap();
    let want = network
        .decode(&cpu, image.width, image.height, 0.3, nms)
        .unwrap();

    let (mut runner, model) = model_runner(DriverConfig::default()).unwrap();
    let mut timings = Timings::new();
    let out = network.forward(&input, &mut runner, &mut timings).unwrap();
    let got = network
        .decode(&out, image.width, image.height, 0.3, nms)
        .unwrap();
    assert_eq!(runner.stats().engine_frames, 1, "{:?}", runner.stats());
    assert!(model.calls().computes == 10 && model.calls().inits == 10);
    assert!(timings
        .steps()
        .iter()
        .any(|t| t.kind.name().starts_with("pl ")));
    assert_eq!(got, want);
    let summary: Vec<(String, u32)> = got
        .iter()
        .map(|f| (f.class.clone(), (f.prob * 100.0).round() as u32))
        .collect();
    assert_eq!(
        summary,
        [
            ("dog".to_string(), 86),
            ("car".to_string(), 86),
            ("bicycle".to_string(), 78)
        ]
    );
}
