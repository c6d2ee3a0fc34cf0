//! The `.weights` importer: the input is a cfg, a NUL byte, then the `.weights` bytes (the
//! importer reads files, so both are written to a directory of this process's own).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("zynqdet-fuzz-weights-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = darknet_port::darknet_weights::parse_header(data);
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (cfg, weights) = (dir().join("t.cfg"), dir().join("t.weights"));
    std::fs::write(&cfg, &data[..split]).expect("write cfg");
    std::fs::write(&weights, &data[split + 1..]).expect("write weights");
    let _ = darknet_port::darknet_weights::import(&cfg, &weights, Vec::new());
});
