//! The `zynqdet` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample() -> PathBuf {
    repo().join("samples/dog.jpg")
}

fn zynqdet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zynqdet"))
        .args(args)
        .output()
        .expect("zynqdet runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure as the standards want it: exit code 1 (not a panic's 101), one line on stderr that
/// contains every `needle`.
fn assert_clean_failure(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
}

fn shared_model_dir() -> Option<PathBuf> {
    system_tests::tinier_yolo_dir()
}

/// The reference system's detections on dog.jpg at thresh 0.3: exactly these, in whole percent.
#[test]
fn dog_gives_the_reference_detections() {
    let o = zynqdet(&["detect", sample().to_str().unwrap(), "--thresh", "0.3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut got: Vec<String> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    got.sort();
    let golden =
        std::fs::read_to_string(system_tests::golden_dir().join("golden_probs_dog.txt")).unwrap();
    let mut want: Vec<String> = golden.lines().map(String::from).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn json_lines_describe_each_image() {
    let o = zynqdet(&[
        "detect",
        "--json",
        sample().to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(v["image"].as_str().unwrap().ends_with("dog.jpg"));
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(768), Some(576))
    );
    let dets = v["detections"].as_array().unwrap();
    assert_eq!(dets.len(), 3);
    let dog = dets.iter().find(|d| d["class"] == "dog").expect("a dog");
    assert_eq!(dog["class_id"], 11);
    assert!((dog["prob"].as_f64().unwrap() - 0.86).abs() < 0.005);
    let b: Vec<f64> = dog["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // the dog sits in the lower left of the picture
    assert!(
        b[0] < b[2] && b[1] < b[3] && b[2] < 400.0 && b[1] > 150.0 && b[3] <= 575.0,
        "{b:?}"
    );
}

#[test]
fn out_writes_annotated_images_and_verbose_times_layers() {
    let dir = tempfile::tempdir().unwrap();
    let o = zynqdet(&[
        "detect",
        "-v",
        "--out",
        dir.path().to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for layer in [
        " 0 conv",
        " 1 binconv",
        "12 binconv",
        "13 conv",
        "14 region",
        "total",
    ] {
        assert!(err.contains(layer), "`{layer}` missing from: {err}");
    }
    let annotated = image::open(dir.path().join("dog.png")).unwrap().to_rgb8();
    let original = image::open(sample()).unwrap().to_rgb8();
    assert_eq!(annotated.dimensions(), original.dimensions());
    let changed = annotated
        .pixels()
        .zip(original.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0.iter()).any(|(x, y)| x.abs_diff(*y) > 40))
        .count();
    assert!(
        changed > 2000,
        "boxes and labels drawn: {changed} pixels changed"
    );
}

#[test]
fn missing_and_non_image_files_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.jpg");
    let o = zynqdet(&["detect", missing.to_str().unwrap()]);
    assert_clean_failure(&o, &["nowhere.jpg", "No such file"]);

    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "these are not pixels").unwrap();
    let o = zynqdet(&["detect", text.to_str().unwrap()]);
    assert_clean_failure(&o, &["notes.jpg", "not a readable image"]);

    let half = dir.path().join("half.jpg");
    let bytes = std::fs::read(sample()).unwrap();
    std::fs::write(&half, &bytes[..1000]).unwrap();
    let o = zynqdet(&["detect", half.to_str().unwrap()]);
    assert_clean_failure(&o, &["half.jpg", "corrupt JPEG"]);
    std::fs::write(&half, &bytes[..100_000]).unwrap();
    let o = zynqdet(&["detect", half.to_str().unwrap()]);
    assert_clean_failure(&o, &["half.jpg", "truncated"]);
}

#[test]
fn truncated_model_file_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("short.zdm");
    let bytes = std::fs::read(repo().join("models/tinier-yolo/tinier-yolo.zdm")).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() - 1000]).unwrap();
    let o = zynqdet(&[
        "detect",
        "--model",
        model.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["short.zdm", "truncated"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn import_reports_truncated_parameters_and_bad_cfg_values() {
    let Some(src) = shared_model_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    copy_dir(&src, &release);
    let out = dir.path().join("m.zdm");
    let import = || {
        zynqdet(&[
            "import-qnn",
            release.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };

    let ok = import();
    assert!(ok.status.success(), "{}", stderr(&ok));
    std::fs::remove_file(&out).unwrap();

    let weights = release.join("binparam/3-7-weights.bin");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() - 5]).unwrap();
    let o = import();
    assert_clean_failure(&o, &["3-7-weights.bin", "expected 288 bytes", "found 283"]);
    assert!(!out.exists(), "no model written on failure");
    std::fs::write(&weights, &bytes).unwrap();

    let cfg = release.join("tinier-yolo-bwn-3bit-relu-nomaxpool.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let broken = text.replacen("filters=64", "filters=sixty-four", 1);
    std::fs::write(&cfg, broken).unwrap();
    let o = import();
    assert_clean_failure(
        &o,
        &[
            "tinier-yolo-bwn-3bit-relu-nomaxpool.cfg:30:",
            "`filters`",
            "sixty-four",
        ],
    );
}

/// Tinier-YOLO's float first and last layers run in INT8 after calibration and still find the
/// car, the dog and the bicycle; without a calibration, INT8 is refused with a clear message.
#[test]
fn calibrated_int8_keeps_the_detections() {
    let dir = tempfile::tempdir().unwrap();
    let calibration = dir.path().join("tinier.calib.json");
    let o = zynqdet(&[
        "calibrate",
        "--out",
        calibration.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&calibration).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        parsed["input_max_abs"].as_array().unwrap().len(),
        2,
        "conv0 and conv8"
    );

    let o = zynqdet(&[
        "detect",
        "--json",
        "--precision",
        "int8",
        "--calibration",
        calibration.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let mut classes: Vec<&str> = v["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["class"].as_str().unwrap())
        .collect();
    classes.sort();
    assert_eq!(classes, ["bicycle", "car", "dog"]);

    let o = zynqdet(&["detect", "--precision", "int8", sample().to_str().unwrap()]);
    assert_clean_failure(&o, &["calibration"]);
}

/// A one-layer Darknet model with two anchors: one box twice the image (its corners lie past all
/// four edges) and one tiny, in every cell, so that the cells in the letterbox's bars predict
/// boxes wholly outside the picture. Printed, JSON and drawn boxes are clamped to the image as
/// Darknet clamps them: never inverted, never `-0`.
#[test]
fn boxes_past_the_border_are_clamped_to_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("wide.cfg");
    std::fs::write(
        &cfg,
        "[net]\nwidth=32\nheight=32\nchannels=3\n\
         [convolutional]\nfilters=12\nsize=1\nstride=1\npad=0\nactivation=linear\n\
         [yolo]\nmask=0,1\nanchors=64,64, 1,1\nclasses=1\nnum=2\n",
    )
    .unwrap();
    // header (0.2, 8-byte seen), then conv biases: x, y, w, h offsets 0, objectness and class
    // logits 10; weights 0
    let mut weights = Vec::new();
    for v in [0i32, 2, 0] {
        weights.extend(v.to_le_bytes());
    }
    weights.extend(0u64.to_le_bytes());
    let biases = [0.0f32, 0.0, 0.0, 0.0, 10.0, 10.0];
    for v in biases.into_iter().chain(biases).chain([0.0; 36]) {
        weights.extend(v.to_le_bytes());
    }
    let weights_path = dir.path().join("wide.weights");
    std::fs::write(&weights_path, weights).unwrap();
    let model = ["--cfg", p(&cfg), "--weights", p(&weights_path)];
    let image = sample();
    let (w, h) = (768.0, 576.0);

    let o = zynqdet(
        &[
            &["detect", p(&image), "--out", p(dir.path()), "--nms", "0"][..],
            &model,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    // every cell's two boxes
    assert_eq!(lines.len(), 2 * 32 * 32, "{text}");
    for line in &lines {
        assert!(!line.contains("-0"), "{line}");
        let corners: Vec<f32> = line
            .split('\t')
            .nth(1)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let [x0, y0, x1, y1] = corners[..] else {
            panic!("{line}")
        };
        assert!(0.0 <= x0 && x0 <= x1 && x1 <= w - 1.0, "{line}");
        assert!(0.0 <= y0 && y0 <= y1 && y1 <= h - 1.0, "{line}");
    }
    let drawn = image::open(dir.path().join("dog.png")).unwrap();
    assert_eq!((drawn.width(), drawn.height()), (768, 576));

    let o = zynqdet(&[&["detect", "--json", p(&image), "--nms", "0"][..], &model].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    for d in json["detections"].as_array().unwrap() {
        let b: Vec<f64> = d["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(b.iter().all(|v| v.is_sign_positive()), "{d}");
        assert!(
            b[0] <= b[2] && b[2] <= 767.0 && b[1] <= b[3] && b[3] <= 575.0,
            "{d}"
        );
    }
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}
