//! `zynqdet eval`, `bench` and `report` end to end on a 10-image slice of a VOC folder built
//! here (samples/dog.jpg with hand-drawn boxes, one broken annotation, one missing image), so
//! that it runs on a bare clone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn zynqdet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zynqdet"))
        .args(args)
        .output()
        .expect("zynqdet runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The objects of samples/dog.jpg (768x576), boxed by hand in VOC's 1-based pixels.
const DOG_OBJECTS: &str = "
  <object><name>dog</name><difficult>0</difficult>
    <bndbox><xmin>129</xmin><ymin>222</ymin><xmax>315</xmax><ymax>540</ymax></bndbox></object>
  <object><name>bicycle</name><difficult>0</difficult>
    <bndbox><xmin>125</xmin><ymin>125</ymin><xmax>570</xmax><ymax>425</ymax></bndbox></object>
  <object><name>car</name><difficult>0</difficult>
    <bndbox><xmin>466</xmin><ymin>75</ymin><xmax>690</xmax><ymax>172</ymax></bndbox></object>";

fn voc_folder(dir: &Path) {
    for d in ["Annotations", "JPEGImages", "ImageSets/Main"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(
        repo().join("samples/dog.jpg"),
        dir.join("JPEGImages/dog.jpg"),
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..8 {
        let id = format!("img{i:02}");
        std::fs::write(
            dir.join(format!("Annotations/{id}.xml")),
            format!("<annotation><filename>dog.jpg</filename>{DOG_OBJECTS}</annotation>"),
        )
        .unwrap();
        ids.push(id);
    }
    // one cut short, one whose image is missing
    std::fs::write(dir.join("Annotations/img08.xml"), "<annotation><object>").unwrap();
    std::fs::write(
        dir.join("Annotations/img09.xml"),
        format!("<annotation><filename>gone.jpg</filename>{DOG_OBJECTS}</annotation>"),
    )
    .unwrap();
    // beyond the 10-image slice: never read
    std::fs::write(dir.join("Annotations/img10.xml"), "not xml").unwrap();
}

#[test]
fn eval_bench_and_report_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let voc = tmp.path().join("voc");
    voc_folder(&voc);
    let eval_json = tmp.path().join("eval.json");
    let o = zynqdet(&[
        "eval",
        "--dataset",
        voc.to_str().unwrap(),
        "--limit",
        "10",
        "--json",
        eval_json.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    // one line for each bad entry of the slice, naming the file, and nothing on the 11th
    let skipped: Vec<&str> = err.lines().filter(|l| l.contains("skipped:")).collect();
    assert_eq!(skipped.len(), 2, "{err}");
    assert!(
        skipped[0].contains("img08.xml") && skipped[0].contains("not XML"),
        "{err}"
    );
    assert!(
        skipped[1].contains("img09.xml") && skipped[1].contains("gone.jpg"),
        "{err}"
    );
    assert!(!err.contains("img10"), "{err}");
    for class in ["dog", "bicycle", "car"] {
        assert!(out.lines().any(|l| l.starts_with(class)), "{class}: {out}");
    }
    assert!(out.contains("8 images, 24 objects"), "{out}");
    assert!(out.contains("2 skipped"), "{out}");
    assert!(
        out.contains("VOC2007 11-point") && out.contains("frame time"),
        "{out}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&eval_json).unwrap()).unwrap();
    assert_eq!(report["kind"], "eval");
    assert_eq!(report["images"], 8);
    assert_eq!(report["skipped"], 2);
    let classes = report["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 3, "{report}");
    // Tinier-YOLO finds the dog in this picture: a box convention gone wrong would lose it
    let dog = classes.iter().find(|c| c["class"] == "dog").unwrap();
    assert!(dog["ap"].as_f64().unwrap() > 0.9, "{dog}");
    let map = report["map"].as_f64().unwrap();
    assert!(map > 0.3 && map <= 1.0, "{map}");

    // bench on the folder, then the report from both
    let bench_json = tmp.path().join("bench.json");
    let o = zynqdet(&[
        "bench",
        "--input",
        voc.join("JPEGImages").to_str().unwrap(),
        "--frames",
        "8",
        "--thread-counts",
        "1",
        "--json",
        bench_json.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("single") && out.contains("pipeline"), "{out}");
    // the built-in model has no OpenCV or darknet baseline: said by name
    assert!(err.contains("skipped: baselines for"), "{err}");
    // the pipeline's timeline: every frame through every stage, in order, stages not overlapping
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bench_json).unwrap()).unwrap();
    let frames = bench["timeline"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 8, "{}", bench["timeline"]);
    for spans in frames {
        let spans: Vec<(f64, f64)> = serde_json::from_value(spans.clone()).unwrap();
        assert_eq!(spans.len(), 8);
        for (i, (start, end)) in spans.iter().enumerate() {
            assert!(start <= end, "{spans:?}");
            if i > 0 {
                assert!(spans[i - 1].1 <= *start + 1e-9, "{spans:?}");
            }
        }
        assert!(spans[7].1 > spans[0].0, "{spans:?}");
    }

    let site = tmp.path().join("site");
    let o = zynqdet(&[
        "report",
        "--out",
        site.to_str().unwrap(),
        eval_json.to_str().unwrap(),
        bench_json.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    let md = std::fs::read_to_string(site.join("summary.md")).unwrap();
    assert!(
        md.contains("| tinier-yolo") || md.contains("tinier"),
        "{md}"
    );
    let plots: Vec<PathBuf> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    // speed/accuracy, AP per class, one PR curve, layer times, timeline, latency
    assert_eq!(plots.len(), 6, "{plots:?}");
    for p in &plots {
        let svg = std::fs::read_to_string(p).unwrap();
        assert!(svg.len() > 1000 && svg.contains("<svg"), "{}", p.display());
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(
            html.contains(&format!("src=\"{name}\"")),
            "{name} not on the page"
        );
    }
    // every image the page shows exists
    for src in html.split("src=\"").skip(1) {
        let file = src.split('"').next().unwrap();
        assert!(site.join(file).is_file(), "{file}");
    }
}

#[test]
fn eval_of_a_folder_that_is_not_voc_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let o = zynqdet(&["eval", "--dataset", tmp.path().to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not a VOC folder (no Annotations/ in it)"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn report_of_a_foreign_json_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.json");
    std::fs::write(&f, "{\"a\": 1}").unwrap();
    let o = zynqdet(&[
        "report",
        "--out",
        tmp.path().join("o").to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("x.json: not the JSON of eval"), "{err}");
}
