//! `darknet_port::voc_map` against an independent implementation: the PyPI package
//! `mean-average-precision` (`.ci/run` installs it) scores the same detections and ground truth,
//! VOC2007 11-point and VOC2010 all-point AP per class, to 1e-6.
//!
//! The package counts "difficult" objects among the positives where VOC's devkit does not, so
//! these cases have none (the devkit's rule is checked by voc_map's own hand-made cases); and it
//! sorts ties in score arbitrarily, so scores here are distinct.

use darknet_port::voc_map::{evaluate, Detection, Truth};
use std::io::Write;
use std::process::{Command, Stdio};
use system_tests::repo_root;

/// A small deterministic generator (no dependency needed for test data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Images with objects of `classes` classes and detections near some of them (hits, sloppy
/// boxes, duplicates) and elsewhere.
fn case(seed: u64, images: usize, classes: usize) -> (Vec<Vec<Truth>>, Vec<Detection>) {
    let mut r = Lcg(seed);
    let mut truth = Vec::new();
    let mut detections = Vec::new();
    for image in 0..images {
        let mut objects = Vec::new();
        for _ in 0..(r.next() * 5.0) as usize {
            let (x, y) = ((r.next() * 400.0).round(), (r.next() * 300.0).round());
            let (w, h) = (
                (20.0 + r.next() * 150.0).round(),
                (20.0 + r.next() * 150.0).round(),
            );
            let class_id = (r.next() * classes as f64) as usize;
            objects.push(Truth {
                class_id,
                bbox: [x, y, x + w, y + h],
                difficult: false,
            });
            // found (or nearly) up to twice, with the box off by up to a third of its size
            for _ in 0..(r.next() * 2.6) as usize {
                let j = |r: &mut Lcg, s: f64| (r.next() - 0.5) * s * 0.66;
                let b = [
                    x + j(&mut r, w),
                    y + j(&mut r, h),
                    x + w + j(&mut r, w),
                    y + h + j(&mut r, h),
                ];
                detections.push(Detection {
                    image,
                    class_id: if r.next() < 0.9 {
                        class_id
                    } else {
                        (class_id + 1) % classes
                    },
                    score: r.next(),
                    bbox: b,
                });
            }
        }
        for _ in 0..(r.next() * 3.0) as usize {
            let (x, y) = (r.next() * 400.0, r.next() * 300.0);
            detections.push(Detection {
                image,
                class_id: (r.next() * classes as f64) as usize,
                score: r.next() * 0.6,
                bbox: [
                    x,
                    y,
                    x + 10.0 + r.next() * 100.0,
                    y + 10.0 + r.next() * 100.0,
                ],
            });
        }
        truth.push(objects);
    }
    (truth, detections)
}

fn as_json(truth: &[Vec<Truth>], detections: &[Detection], classes: usize) -> String {
    let images: Vec<serde_json::Value> = truth
        .iter()
        .enumerate()
        .map(|(i, objects)| {
            let t: Vec<Vec<f64>> = objects
                .iter()
                .map(|o| {
                    let mut v = o.bbox.to_vec();
                    v.push(o.class_id as f64);
                    v
                })
                .collect();
            let d: Vec<Vec<f64>> = detections
                .iter()
                .filter(|d| d.image == i)
                .map(|d| {
                    let mut v = d.bbox.to_vec();
                    v.extend([d.class_id as f64, d.score]);
                    v
                })
                .collect();
            serde_json::json!({"truth": t, "detections": d})
        })
        .collect();
    serde_json::json!({"classes": classes, "images": images}).to_string()
}

/// The package's per-class APs, or why it cannot run here.
fn peer(input: &str) -> Result<serde_json::Value, String> {
    let script = repo_root().join("tests/peers/voc_map_check.py");
    let probe = Command::new("python3")
        .args(["-c", "import mean_average_precision"])
        .output()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    if !probe.status.success() {
        return Err("python3 has no mean_average_precision (pip install \
                    mean-average-precision==2024.1.5.0)"
            .into());
    }
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("the peer reads its input");
    let out = child.wait_with_output().expect("the peer ends");
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout).expect("the peer prints JSON"))
}

#[test]
fn voc_map_matches_the_mean_average_precision_package() {
    // classes compared, and those whose AP is neither 0 nor 1 (where a difference could hide)
    let (mut compared, mut partial) = (0, 0);
    for (seed, images, classes) in [(1, 40, 3), (2, 200, 5), (3, 5, 2), (4, 60, 1)] {
        let (truth, detections) = case(seed, images, classes);
        let ours = evaluate(&truth, &detections, classes, 0.5);
        let theirs = match peer(&as_json(&truth, &detections, classes)) {
            Ok(v) => v,
            Err(why) => {
                println!("SKIPPED: {why}");
                return;
            }
        };
        let (mut sum11, mut sum, mut n) = (0.0, 0.0, 0);
        for (c, result) in ours.classes.iter().enumerate() {
            let key = c.to_string();
            let Some(r) = result else {
                assert!(theirs["ap"].get(&key).is_none(), "class {c}");
                continue;
            };
            let ap11 = theirs["ap11"][&key].as_f64().expect("an 11-point AP");
            let ap = theirs["ap"][&key].as_f64().expect("an all-point AP");
            // the package keeps APs in float32
            assert!(
                (r.ap11 - ap11).abs() < 1e-6,
                "seed {seed} class {c}: 11-point {} vs {ap11}",
                r.ap11
            );
            assert!(
                (r.ap - ap).abs() < 1e-6,
                "seed {seed} class {c}: all-point {} vs {ap}",
                r.ap
            );
            if r.ap > 0.0 && r.ap < 1.0 {
                partial += 1;
            }
            sum11 += ap11;
            sum += ap;
            n += 1;
            compared += 1;
        }
        assert!((ours.map11 - sum11 / n as f64).abs() < 1e-6);
        assert!((ours.map - sum / n as f64).abs() < 1e-6);
    }
    assert!(compared >= 8, "{compared} classes compared");
    assert!(
        partial * 2 >= compared,
        "only {partial} of {compared} APs strictly between 0 and 1"
    );
}
