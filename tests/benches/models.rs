//! Frame times of YOLOv3-tiny and YOLOv4-tiny in FP32, INT16 and INT8 next to OpenCV DNN's
//! (FP32), measured in the same run on the same letterboxed input.
//! Needs `scripts/fetch-models.sh`; OpenCV is timed when Python's cv2 (< 5) is installed.
//!
//! `cargo bench -p system-tests --bench models`

use darknet_port::darknet_weights::{import, read_names};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::layers::Precision;
use darknet_port::network::{CpuRunner, Network, Timings};
use darknet_port::npy;
use std::process::Command;
use std::time::{Duration, Instant};
use system_tests::{coco_models_dir, repo_root};

const RUNS: usize = 7;

fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let Some(models) = coco_models_dir() else {
        return;
    };
    let samples = [
        repo_root().join("samples/dog.jpg"),
        models.join("samples/bus.jpg"),
        models.join("samples/zidane.jpg"),
    ];
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>14} {:>16}",
        "model", "fp32 ms", "int16 ms", "int8 ms", "opencv ms", "int8 vs opencv"
    );
    for name in ["yolov3-tiny", "yolov4-tiny"] {
        let d = models.join(name);
        let cfg = d.join(format!("{name}.cfg"));
        let weights = d.join(format!("{name}.weights"));
        let model = import(&cfg, &weights, read_names(&d.join("coco.names")).unwrap()).unwrap();
        let fp32 = Network::from_model(&model, &cfg).unwrap();
        let inputs: Vec<_> = samples
            .iter()
            .map(|p| letterbox(&load_image(p).unwrap(), fp32.width, fp32.height))
            .collect();
        let calibration = fp32.calibrate(&inputs, &mut CpuRunner).unwrap();
        let input = &inputs[0];
        let mut times = Vec::new();
        for precision in [Precision::Fp32, Precision::Int16, Precision::Int8] {
            let net = fp32.with_precision(precision, &[], &calibration).unwrap();
            times.push(median(|| {
                net.forward(input, &mut CpuRunner, &mut Timings::new())
                    .unwrap();
            }));
        }
        let tmp = tempfile::tempdir().unwrap();
        let blob = tmp.path().join("blob.npy");
        std::fs::write(
            &blob,
            npy::encode_f32(&[1, 3, fp32.height, fp32.width], &input.data, 1),
        )
        .unwrap();
        let opencv = Command::new("python3")
            .arg(repo_root().join("tests/peers/opencv_time.py"))
            .args([&cfg, &weights, &blob])
            .arg(RUNS.to_string())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
            });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (cv, ratio) = match opencv {
            Some(t) => (format!("{t:.1}"), format!("{:.2}x", t / ms(times[2]))),
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "{:<12} {:>10.1} {:>10.1} {:>10.1} {:>14} {:>16}",
            name,
            ms(times[0]),
            ms(times[1]),
            ms(times[2]),
            cv,
            ratio
        );
    }
    println!("(one thread for zynqdet; OpenCV uses all cores)");
}
