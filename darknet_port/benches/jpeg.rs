//! The stb_image-exact JPEG decoder on the generic kernel table and on each table this CPU runs,
//! same run: frames of the shared 768x576 MJPEG video (the pipeline's preprocessing input) when
//! `../shared` is there, and the sample images.
//!
//! `cargo bench -p darknet_port --bench jpeg`

use darknet_port::jpeg;
use darknet_port::kernels::{self, Kernels};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Timed runs of each table (over the 40 frames, or the one image).
const RUNS: usize = 21;

/// The JPEG frames of an MJPEG AVI: the payloads of its `00dc` chunks. A bench needs no full
/// RIFF parser; a chunk whose payload does not start with a JPEG SOI is skipped.
fn mjpeg_frames(avi: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut i = 0;
    while let Some(at) = avi[i..].windows(4).position(|w| w == b"00dc") {
        let start = i + at + 8;
        let Some(len) = avi.get(start - 4..start) else {
            break;
        };
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        match avi.get(start..start + len) {
            Some(frame) if frame.starts_with(&[0xff, 0xd8]) => frames.push(frame.to_vec()),
            _ => {}
        }
        i = start;
    }
    frames
}

/// The decoder's kernels are bit-exact: every table decodes every frame to the generic pixels.
fn same_pixels_on_every_table(what: &str, frames: &[Vec<u8>], tables: &[&'static Kernels]) {
    for (i, frame) in frames.iter().enumerate() {
        let want = kernels::with_kernels(tables[0], || jpeg::decode(frame).expect("decodes"));
        for &t in &tables[1..] {
            let got = kernels::with_kernels(t, || jpeg::decode(frame).expect("decodes"));
            assert!(got == want, "{what}: frame {i} differs on {}", t.name);
        }
    }
    println!(
        "{what}: {} decoded to the same pixels on every table",
        frames.len()
    );
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let tables = kernels::supported();
    println!(
        "tables: {} (ratio = generic time / table time, same run)\n",
        tables.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
    );
    let mut inputs: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    let video = Path::new("/work/shared/video/vtest-768x576-10fps.mjpeg.avi");
    let shared = root.join("../shared/video/vtest-768x576-10fps.mjpeg.avi");
    for path in [shared.as_path(), video] {
        if let Ok(avi) = std::fs::read(path) {
            let frames = mjpeg_frames(&avi);
            same_pixels_on_every_table("the video's frames", &frames, &tables);
            let frames: Vec<_> = frames.into_iter().take(40).collect();
            inputs.push((format!("vtest 768x576 ({} frames)", frames.len()), frames));
            break;
        }
    }
    for name in ["dog.jpg", "person.jpg"] {
        let bytes = std::fs::read(root.join("samples").join(name)).expect("the samples ship");
        inputs.push((name.to_string(), vec![bytes]));
    }
    for (name, frames) in &inputs[inputs.len() - 2..] {
        same_pixels_on_every_table(name, frames, &tables);
    }
    println!();
    for (name, frames) in &inputs {
        // The tables take turns, run after run, so that other work on the machine slows each
        // of them alike; each one's best run counts (the least disturbed: a single image
        // decodes within one time slice, and on a busy machine the median run of a table can
        // be one that lost a slice to another process, several milliseconds).
        let mut best = vec![Duration::MAX; tables.len()];
        for _ in 0..RUNS {
            for (&t, best) in tables.iter().zip(&mut best) {
                let start = Instant::now();
                kernels::with_kernels(t, || {
                    for f in frames {
                        black_box(jpeg::decode(black_box(f)).expect("decodes"));
                    }
                });
                *best = (*best).min(start.elapsed());
            }
        }
        let per_frame: Vec<f64> = best
            .iter()
            .map(|t| t.as_secs_f64() / frames.len() as f64 * 1e3)
            .collect();
        let mut line = format!("decode {name:<28} {:>8.3} ms/frame (generic)", per_frame[0]);
        for (t, ms) in tables.iter().zip(&per_frame).skip(1) {
            line += &format!("  | {ms:>8.3} ms {:>5.2}x ({})", per_frame[0] / ms, t.name);
        }
        println!("{line}");
    }
}
