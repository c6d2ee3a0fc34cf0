//! Whole-system tests live in `tests/`; this crate only helps them find the shared data.

use std::path::PathBuf;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared` beside the checkout (the reference data). Tests that need it fail with a clear
/// message when it is absent, unless `ZYNQDET_SKIP_SHARED=1` says to skip them.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    if dir.join("models/qnn-mo-pynq-tinier-yolo").is_dir() {
        return Some(dir);
    }
    if std::env::var("ZYNQDET_SKIP_SHARED").is_ok_and(|v| v == "1") {
        eprintln!("skipped: {} not found", dir.display());
        return None;
    }
    panic!(
        "{} not found: these tests need the reference data beside the checkout (set ZYNQDET_SKIP_SHARED=1 to skip them)",
        dir.display()
    );
}

pub fn tinier_yolo_dir() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("models/qnn-mo-pynq-tinier-yolo"))
}

/// The COCO model cache that `scripts/fetch-models.sh` fills (`$ZYNQDET_MODELS`, else
/// `~/.cache/zynqdet/models`), when both models are in it; otherwise says what to run.
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
        eprintln!(
            "skipped: no COCO models in {} (run scripts/fetch-models.sh)",
            dir.display()
        );
        None
    }
}
