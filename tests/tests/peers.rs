//! The general Darknet engine against independent implementations on the same machine:
//! YOLOv3-tiny against Debian's `darknet` (pjreddie's Darknet, through libdarknet) and
//! YOLOv4-tiny against OpenCV's DNN module, on the same images and thresholds. Each test says
//! "skipped" when its peer or the COCO models (`scripts/fetch-models.sh`) are missing; CI
//! installs both.

use darknet_port::boxes::{nms_sort, BBox, Detection};
use darknet_port::darknet_weights::{import, read_names};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::layers::region::correct_letterbox;
use darknet_port::network::{CpuRunner, Found, Network, Timings};
use darknet_port::npy;
use std::path::Path;
use std::process::Command;
use system_tests::{coco_models_dir, repo_root};

const THRESH: f32 = 0.5;
const NMS: f32 = 0.45;

struct Model {
    network: Network,
}

fn load(dir: &Path, name: &str) -> Model {
    let d = dir.join(name);
    let cfg = d.join(format!("{name}.cfg"));
    let names = read_names(&d.join("coco.names")).unwrap();
    let model = import(&cfg, &d.join(format!("{name}.weights")), names).unwrap();
    Model {
        network: Network::from_model(&model, &cfg).unwrap(),
    }
}

fn ours(model: &Model, image: &Path) -> Vec<Found> {
    let im = load_image(image).unwrap();
    let net = &model.network;
    let heads = net
        .forward(
            &letterbox(&im, net.width, net.height, net.resize),
            &mut CpuRunner,
            &mut Timings::new(),
        )
        .unwrap();
    net.decode(&heads, im.width, im.height, THRESH, NMS)
        .unwrap()
}

/// Classes identical, probabilities within 0.01, boxes within 2 pixels.
fn assert_agree(name: &str, ours: &[Found], theirs: &[Found]) {
    let key = |f: &Found| {
        (
            f.class_id,
            (f.bbox[0] / 4.0).round() as i64,
            (f.bbox[1] / 4.0).round() as i64,
        )
    };
    let mut a: Vec<&Found> = ours.iter().collect();
    let mut b: Vec<&Found> = theirs.iter().collect();
    a.sort_by_key(|f| key(f));
    b.sort_by_key(|f| key(f));
    let classes = |v: &[&Found]| v.iter().map(|f| f.class_id).collect::<Vec<_>>();
    assert_eq!(
        classes(&a),
        classes(&b),
        "{name}: ours {ours:?}\ntheirs {theirs:?}"
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.prob - y.prob).abs() <= 0.01,
            "{name}: {} prob {} vs {}",
            x.class,
            x.prob,
            y.prob
        );
        for k in 0..4 {
            assert!(
                (x.bbox[k] - y.bbox[k]).abs() <= 2.0,
                "{name}: {} box {:?} vs {:?}",
                x.class,
                x.bbox,
                y.bbox
            );
        }
    }
    assert!(!ours.is_empty(), "{name}: nothing detected");
}

#[test]
fn yolov3_tiny_matches_debian_darknet() {
    let Some(models) = coco_models_dir() else {
        return;
    };
    let lib = Path::new("/usr/lib/darknet");
    if !lib.join("libdarknet.so").is_file() {
        system_tests::skipped("Debian's darknet is not installed (apt-get install darknet)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("darknet_detect");
    let built = Command::new("cc")
        .args(["-O2", "-I/usr/lib/darknet/include"])
        .arg(repo_root().join("tests/peers/darknet_detect.c"))
        .args(["-L/usr/lib/darknet", "-ldarknet", "-o"])
        .arg(&exe)
        .status()
        .expect("cc runs");
    assert!(built.success(), "building the darknet peer failed");
    let model = load(&models, "yolov3-tiny");
    let d = models.join("yolov3-tiny");
    for image in [
        repo_root().join("samples/dog.jpg"),
        models.join("samples/bus.jpg"),
    ] {
        let out = Command::new(&exe)
            .env("LD_LIBRARY_PATH", lib)
            .arg(d.join("yolov3-tiny.cfg"))
            .arg(d.join("yolov3-tiny.weights"))
            .arg(&image)
            .args([THRESH.to_string(), NMS.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<Found> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: Vec<f32> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                let class_id = v[0] as usize;
                Found {
                    class_id,
                    class: model.network.names[class_id].clone(),
                    prob: v[1],
                    bbox: [v[2], v[3], v[4], v[5]],
                }
            })
            .collect();
        assert_agree(&image.display().to_string(), &ours(&model, &image), &theirs);
    }
}

#[test]
fn yolov4_tiny_matches_opencv_dnn() {
    let Some(models) = coco_models_dir() else {
        return;
    };
    let has_cv2 = Command::new("python3")
        .args(["-c", "import cv2, numpy; assert cv2.__version__ < '5'"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_cv2 {
        system_tests::skipped(
            "OpenCV 4 for Python is not installed (pip install 'opencv-python-headless<5')",
        );
        return;
    }
    let model = load(&models, "yolov4-tiny");
    let net = &model.network;
    let d = models.join("yolov4-tiny");
    let tmp = tempfile::tempdir().unwrap();
    for image in [
        repo_root().join("samples/dog.jpg"),
        models.join("samples/bus.jpg"),
    ] {
        let im = load_image(&image).unwrap();
        let input = letterbox(&im, net.width, net.height, net.resize);
        let blob = tmp.path().join("blob.npy");
        let rows = tmp.path().join("rows.npy");
        std::fs::write(
            &blob,
            npy::encode_f32(&[1, 3, net.height, net.width], &input.data, 1),
        )
        .unwrap();
        let out = Command::new("python3")
            .arg(repo_root().join("tests/peers/opencv_forward.py"))
            .arg(d.join("yolov4-tiny.cfg"))
            .arg(d.join("yolov4-tiny.weights"))
            .args([&blob, &rows])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // OpenCV's rows: box relative to the network input, objectness, class scores already
        // multiplied by the objectness. Decode them as Darknet does.
        let rows = npy::read_f32(&rows).unwrap();
        let width = rows.shape[1];
        let mut dets: Vec<Detection> = rows
            .data
            .chunks_exact(width)
            .filter(|r| r[4] > THRESH)
            .map(|r| Detection {
                bbox: correct_letterbox(
                    BBox {
                        x: r[0],
                        y: r[1],
                        w: r[2],
                        h: r[3],
                    },
                    im.width,
                    im.height,
                    net.width,
                    net.height,
                ),
                objectness: r[4],
                prob: r[5..]
                    .iter()
                    .map(|&p| if p > THRESH { p } else { 0.0 })
                    .collect(),
            })
            .collect();
        nms_sort(&mut dets, net.names.len(), NMS);
        let (w, h) = (im.width as f32, im.height as f32);
        let theirs: Vec<Found> = dets
            .iter()
            .flat_map(|d| {
                d.prob
                    .iter()
                    .enumerate()
                    .filter(|(_, &p)| p > THRESH)
                    .map(move |(c, &p)| Found {
                        class_id: c,
                        class: String::new(),
                        prob: p,
                        bbox: [
                            ((d.bbox.x - d.bbox.w / 2.0) * w).max(0.0),
                            ((d.bbox.y - d.bbox.h / 2.0) * h).max(0.0),
                            ((d.bbox.x + d.bbox.w / 2.0) * w).min(w - 1.0),
                            ((d.bbox.y + d.bbox.h / 2.0) * h).min(h - 1.0),
                        ],
                    })
            })
            .collect();
        assert_agree(&image.display().to_string(), &ours(&model, &image), &theirs);
    }
}

#[test]
fn mismatched_cfg_and_weights_say_how_many_floats() {
    let Some(models) = coco_models_dir() else {
        return;
    };
    let e = import(
        &models.join("yolov3-tiny/yolov3-tiny.cfg"),
        &models.join("yolov4-tiny/yolov4-tiny.weights"),
        vec![],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("yolov4-tiny.weights") && e.contains("expects 8858734 floats"),
        "{e}"
    );
}
