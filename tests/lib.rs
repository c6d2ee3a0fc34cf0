//! Whole-system tests live in `tests/`; this crate is also the one place where every crate's
//! tests find their data: what ships in the repository, what lies in `../shared` beside the
//! checkout, and the COCO models that `scripts/fetch-models.sh` fetches.
//!
//! A test whose data is absent returns early after a `SKIPPED <test>: <reason>` line on stderr.
//! `ZYNQDET_REQUIRE_SHARED=1` (CI sets it) turns a missing `../shared` into a failure instead,
//! so that a broken checkout of the reference data cannot pass as skipped tests.

use std::path::PathBuf;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The reference system's golden vectors, shipped with the model (`models/tinier-yolo/golden`).
pub fn golden_dir() -> PathBuf {
    repo_root().join("models/tinier-yolo/golden")
}

/// A sample image shipped in `samples/`.
pub fn sample(name: &str) -> PathBuf {
    repo_root().join("samples").join(name)
}

/// Says that the running test is skipped, and why, on the real stderr: the harness captures a
/// passing test's `eprintln!`, and a skip must be visible in the CI log.
pub fn skipped(why: &str) {
    use std::io::Write;
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// `../shared` beside the checkout (the reference data), or `None` after a SKIPPED line.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    if dir.join("models/qnn-mo-pynq-tinier-yolo").is_dir() {
        return Some(dir);
    }
    let why = format!(
        "{} not found (the reference data beside the checkout)",
        dir.display()
    );
    if std::env::var("ZYNQDET_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("{why}, and ZYNQDET_REQUIRE_SHARED=1");
    }
    skipped(&why);
    None
}

/// A file or folder under `../shared`, or `None` after a SKIPPED line.
pub fn shared(path: &str) -> Option<PathBuf> {
    let p = shared_dir()?.join(path);
    assert!(p.exists(), "{} is missing from ../shared", p.display());
    Some(p)
}

/// Xilinx's Tinier-YOLO release in `../shared`.
pub fn tinier_yolo_dir() -> Option<PathBuf> {
    shared("models/qnn-mo-pynq-tinier-yolo")
}

/// The COCO model cache that `scripts/fetch-models.sh` fills (`$ZYNQDET_MODELS`, else
/// `~/.cache/zynqdet/models`), when both models are in it; otherwise a SKIPPED line that says
/// what to run.
pub fn coco_models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("ZYNQDET_MODELS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/zynqdet/models"))
        })?;
    let complete = ["yolov3-tiny", "yolov4-tiny"]
        .iter()
        .all(|m| dir.join(m).join(format!("{m}.weights")).is_file());
    if complete {
        Some(dir)
    } else {
        skipped(&format!(
            "no COCO models in {} (run scripts/fetch-models.sh)",
            dir.display()
        ));
        None
    }
}
