//! Frame times of YOLOv3-tiny and YOLOv4-tiny in FP32, INT16 and INT8 next to OpenCV DNN's
//! (FP32), measured in the same run on the same letterboxed input, both on every core (zynqdet
//! with the threads `zynqdet detect` uses; `ZYNQDET_THREADS=N` to change that), on the CPU's
//! best kernel table (`ZYNQDET_KERNELS="x86_64 avx2"`, say, for another).
//! Needs `scripts/fetch-models.sh`; OpenCV is timed when Python's cv2 (< 5) is installed.
//!
//! `cargo bench -p system-tests --bench models`

// The threads and allocator settings of the zynqdet binary, so that the bench measures what
// the user runs.
use zynqdet::{heap, workers};

use darknet_port::darknet_weights::{import, read_names};
use darknet_port::image_input::{letterbox, load_image};
use darknet_port::kernels;
use darknet_port::layers::Precision;
use darknet_port::network::{CpuRunner, Network, Timings, MAX_WARM_UPS};
use darknet_port::npy;
use darknet_port::parallel::{self, Workers};
use std::process::Command;
use std::time::{Duration, Instant};
use system_tests::{coco_models_dir, repo_root};

const RUNS: usize = 7;

/// Untimed runs first: allocation and caches, and then until every INT8 layer has chosen
/// among its exact ways (`Network::settled`), so that the runs time the way each layer keeps.
const WARM_UPS: usize = 3;

fn median(net: &Network, mut f: impl FnMut()) -> Duration {
    for n in 0..WARM_UPS + MAX_WARM_UPS {
        if n >= WARM_UPS && net.settled() {
            break;
        }
        f();
    }
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
    heap::keep_freed_memory();
    let Some(models) = coco_models_dir() else {
        return;
    };
    let threads = workers::threads(
        std::env::var("ZYNQDET_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
    );
    // ZYNQDET_KERNELS=NAME: another of the CPU's kernel tables than the best one
    if let Err(e) = kernels::from_env() {
        eprintln!("{e}");
        std::process::exit(2);
    }
    println!("kernels: {}", kernels::best().name);
    parallel::with_workers(threads, || bench(&models, threads.count()));
}

fn bench(models: &std::path::Path, threads: usize) {
    let samples = [
        repo_root().join("samples/dog.jpg"),
        models.join("samples/bus.jpg"),
        models.join("samples/zidane.jpg"),
    ];
    println!(
        "{:<12} {:>8} {:>9} {:>9} {:>16} {:>14} {:>15} {:>15} {:>13}",
        "model",
        "fp32 ms",
        "int16 ms",
        "int8 ms",
        "opencv fp32 ms",
        "(no winograd)",
        "fp32 vs opencv",
        "int8 vs opencv",
        "int8 vs fp32"
    );
    for name in ["yolov3-tiny", "yolov4-tiny"] {
        let d = models.join(name);
        let cfg = d.join(format!("{name}.cfg"));
        let weights = d.join(format!("{name}.weights"));
        let model = import(&cfg, &weights, read_names(&d.join("coco.names")).unwrap()).unwrap();
        let fp32 = Network::from_model(&model, &cfg).unwrap();
        let inputs: Vec<_> = samples
            .iter()
            .map(|p| {
                letterbox(
                    &load_image(p).unwrap(),
                    fp32.width,
                    fp32.height,
                    fp32.resize,
                )
            })
            .collect();
        let calibration = fp32.calibrate(&inputs, &mut CpuRunner).unwrap();
        let input = &inputs[0];
        let mut times = Vec::new();
        for precision in [Precision::Fp32, Precision::Int16, Precision::Int8] {
            let net = fp32.with_precision(precision, &[], &calibration).unwrap();
            times.push(median(&net, || {
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
                let text = String::from_utf8_lossy(&o.stdout).into_owned();
                let mut words = text.split_whitespace();
                let ms = words.next()?.parse::<f64>().ok()?;
                let threads = words.next().unwrap_or("?").to_string();
                let direct = words.next().and_then(|w| w.parse::<f64>().ok());
                Some((ms, threads, direct))
            });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let faster = |baseline: f64, d: Duration| format!("{:.2}x", baseline / ms(d));
        let (cv, cv_direct, fp32_ratio, int8_ratio) = match &opencv {
            Some((t, cv_threads, direct)) => (
                format!("{t:.1} ({cv_threads} thr)"),
                direct.map_or("n/a".into(), |d| format!("{d:.1}")),
                faster(*t, times[0]),
                faster(*t, times[2]),
            ),
            None => ("n/a".into(), "n/a".into(), "n/a".into(), "n/a".into()),
        };
        println!(
            "{:<12} {:>8.1} {:>9.1} {:>9.1} {:>16} {:>14} {:>15} {:>15} {:>13}",
            name,
            ms(times[0]),
            ms(times[1]),
            ms(times[2]),
            cv,
            cv_direct,
            fp32_ratio,
            int8_ratio,
            faster(ms(times[0]), times[2])
        );
    }
    println!(
        "(zynqdet on {threads} threads; ratios above 1 mean faster than the baseline; OpenCV's \
         own time is with its Winograd 3x3 convolutions, the default)"
    );
}
