//! The QNN release importer on a directory the input describes: a count byte, then per file a
//! name index byte, a u16 LE length and the contents. The names are those a small release uses
//! (the cfg, four float layers' `.npy`, two binarized layers' per-PE files).
#![no_main]
use darknet_port::qnn_import::{import, ImportOptions};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn names() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut n = vec!["t.cfg".to_string()];
        for conv in 0..4 {
            n.push(format!("t-conv{conv}-W.npy"));
            n.push(format!("t-conv{conv}-bias.npy"));
        }
        for file in 1..=2 {
            for pe in 0..darknet_port::qnn_layout::PE_COUNT {
                n.push(format!("binparam/{file}-{pe}-weights.bin"));
                n.push(format!("binparam/{file}-{pe}-thres.bin"));
            }
        }
        n
    })
}

fn base() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::temp_dir().join(format!("zynqdet-fuzz-qnn-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = base();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("binparam")).expect("temp dir");
    let Some((&count, mut rest)) = data.split_first() else {
        return;
    };
    for _ in 0..count {
        if rest.len() < 3 {
            break;
        }
        let name = &names()[usize::from(rest[0]) % names().len()];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        std::fs::write(dir.join(name), &rest[3..3 + len]).expect("write");
        rest = &rest[3 + len..];
    }
    let _ = import(&ImportOptions {
        dir: dir.clone(),
        names: Vec::new(),
    });
});
