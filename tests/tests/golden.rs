//! The reference network's golden vectors and the shipped model, across darknet_port's pieces.

use darknet_port::layers::QTensor;
use darknet_port::model_file::ModelFile;
use darknet_port::network::{CpuRunner, Layer, Network, SegmentRunner, Timings};
use darknet_port::qnn_import::{import, ImportOptions, VOC_NAMES};
use system_tests::{golden_dir, repo_root, tinier_yolo_dir};

fn shipped_network() -> Network {
    let path = repo_root().join("models/tinier-yolo/tinier-yolo.zdm");
    Network::load(&path).expect("the shipped model loads")
}

/// conv1..conv7 turn golden/input.bin into golden/verification.bin, bit for bit.
#[test]
fn middle_layers_reproduce_the_golden_output() {
    let input = std::fs::read(golden_dir().join("input.bin")).unwrap();
    let expected = std::fs::read(golden_dir().join("verification.bin")).unwrap();
    let network = shipped_network();
    let segments = network.segments().unwrap();
    assert_eq!(segments.len(), 1, "Tinier-YOLO has one binarized segment");
    let (_, _, segment) = &segments[0];
    assert_eq!(segment.steps.len(), 7);

    let q = QTensor::from_packed_pixels(&input, 208, 208, 16, 3, 8).unwrap();
    let out = CpuRunner.run(segment, q, &mut Timings::new()).unwrap();
    assert_eq!((out.height, out.width, out.channels), (13, 13, 512));
    let got = out.to_packed_pixels(192);
    let wrong_pixels = got
        .chunks(192)
        .zip(expected.chunks(192))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(wrong_pixels, 0, "{wrong_pixels} of 169 pixels differ");
    assert_eq!(got, expected);
}

/// The fast popcount kernel and the one-multiply-per-weight reference agree on a real layer.
#[test]
fn popcount_kernel_matches_reference_on_conv3() {
    let network = shipped_network();
    let Layer::Binary(conv3) = &network.layers[5] else {
        panic!("layer 5 is conv3")
    };
    assert_eq!((conv3.in_channels, conv3.out_channels), (64, 128));
    // conv3's real input: conv1, pool, conv2, pool on the golden input, cut to a corner
    let input = std::fs::read(golden_dir().join("input.bin")).unwrap();
    let q = QTensor::from_packed_pixels(&input, 208, 208, 16, 3, 8).unwrap();
    let segments = network.segments().unwrap();
    let steps = &segments[0].2.steps;
    let mut act = q;
    for step in &steps[..2] {
        act = step
            .pool
            .unwrap()
            .forward_quantized(&step.conv.forward(&act));
    }
    let mut corner = QTensor::zeros(12, 10, 64, 3);
    for y in 0..12 {
        for x in 0..10 {
            corner
                .pixel_mut(y, x)
                .copy_from_slice(act.pixel(y + 20, x + 30));
        }
    }
    assert_eq!(conv3.forward(&corner), conv3.forward_reference(&corner));
}

/// Importing the released files gives the model that ships in the repository, byte for byte.
#[test]
fn shipped_model_is_the_import_of_the_release() {
    let Some(dir) = tinier_yolo_dir() else { return };
    let model = import(&ImportOptions {
        dir,
        names: VOC_NAMES.iter().map(|s| s.to_string()).collect(),
    })
    .unwrap();
    let shipped = std::fs::read(repo_root().join("models/tinier-yolo/tinier-yolo.zdm")).unwrap();
    assert!(
        model.to_bytes() == shipped,
        "models/tinier-yolo/tinier-yolo.zdm is stale: re-run zynqdet import-qnn"
    );
    assert_eq!(ModelFile::from_bytes(&shipped).unwrap(), model);
}

/// The JPEG decoder gives the pixels of Darknet's loader (stb_image 2.06, which the reference
/// system used): FNV-1a 64 of the RGB bytes that stb_image decoded from each sample image
/// (two ship in samples/, the third is in ../shared), on every kernel table this CPU runs (the
/// IDCT is a kernel).
#[test]
fn jpeg_decoder_reproduces_darknets_pixels() {
    let mut images = vec![
        (
            system_tests::sample("dog.jpg"),
            (768, 576),
            0xef0a_ed4a_a132_de5b_u64,
        ),
        (
            system_tests::sample("person.jpg"),
            (640, 424),
            0x311d_c5ef_ccb0_735d,
        ),
    ];
    if let Some(horses) = system_tests::shared("images/horses.jpg") {
        images.push((horses, (773, 512), 0x53b5_86f3_d90f_29a4));
    }
    for (path, size, stb_hash) in images {
        let name = path.display();
        let bytes = std::fs::read(&path).unwrap();
        for table in darknet_port::kernels::supported() {
            let img = darknet_port::kernels::with_kernels(table, || {
                darknet_port::jpeg::decode(&bytes).unwrap()
            });
            assert_eq!((img.width, img.height), size, "{name}");
            assert_eq!(
                darknet_port::model_file::fnv1a64(&img.rgb),
                stb_hash,
                "{name} on {}",
                table.name
            );
        }
    }
}

/// FNV-1a 64 of `../shared`'s `golden/<name>.board-letterbox.f32`: the network input that the
/// reference board computes from `samples/<name>.jpg` (Darknet's stb loader and letterbox,
/// aarch64, `-Ofast`). A bare checkout compares against these; with `../shared` beside it, the
/// files themselves are compared value by value as well.
const BOARD_LETTERBOX_FNV: [(&str, u64); 2] = [
    ("dog", 0xaef2_1481_a4d5_218e),
    ("person", 0x797b_d3d6_651d_c979),
];

/// The shipped model's decoding and letterbox reproduce the board's bits on every kernel table
/// this CPU runs (the generic one included, which is what the board's NEON table is tested
/// against).
#[test]
fn letterbox_is_the_boards_bit_for_bit() {
    use darknet_port::image_input::{letterbox, load_image, ResizeArithmetic};
    use darknet_port::kernels;
    use darknet_port::model_file::fnv1a64;
    let network = shipped_network();
    assert_eq!(network.resize, ResizeArithmetic::Fused);
    let golden = system_tests::shared_dir();
    for (name, want_fnv) in BOARD_LETTERBOX_FNV {
        let path = system_tests::sample(&format!("{name}.jpg"));
        let image = load_image(&path).unwrap();
        let want = golden.as_ref().map(|dir| {
            let path = dir.join(format!(
                "models/qnn-mo-pynq-tinier-yolo/golden/{name}.board-letterbox.f32"
            ));
            std::fs::read(path).unwrap()
        });
        if let Some(want) = &want {
            assert_eq!(fnv1a64(want), want_fnv, "{name}: the recorded hash");
        }
        for table in kernels::supported() {
            // decoded on the table too: the decoder's IDCT is a kernel
            let input = kernels::with_kernels(table, || {
                let image = load_image(&path).unwrap();
                letterbox(&image, network.width, network.height, network.resize)
            });
            let bytes: Vec<u8> = input.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            if let Some(want) = &want {
                let differ = bytes
                    .chunks_exact(4)
                    .zip(want.chunks_exact(4))
                    .filter(|(a, b)| a != b)
                    .count();
                assert_eq!(differ, 0, "{name} on {}: values differ", table.name);
            }
            assert_eq!(fnv1a64(&bytes), want_fnv, "{name} on {}", table.name);
        }
        // Darknet's letterbox as written (x86, unfused) is not the board's: the difference is
        // what this test guards.
        let separate = letterbox(
            &image,
            network.width,
            network.height,
            ResizeArithmetic::Separate,
        );
        let bytes: Vec<u8> = separate.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_ne!(fnv1a64(&bytes), want_fnv, "{name}: unfused");
    }
}
