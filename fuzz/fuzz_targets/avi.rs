//! The AVI demuxer on any bytes (written to a file of this process's own: the demuxer reads
//! files), then up to 16 of its frames through the decoder the pipeline uses.
#![no_main]
use darknet_port::jpeg::Planes;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use zynqdet::media::decode::to_rgb;
use zynqdet::media::source::avi::AviSource;
use zynqdet::media::source::Source;

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("zynqdet-fuzz-{}.avi", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).expect("write the input");
    let Ok(mut source) = AviSource::open(file()) else {
        return;
    };
    let mut rgb = Vec::new();
    // one Planes for the whole video, as the pipeline keeps it from frame to frame
    let mut planes = Planes::default();
    for _ in 0..16 {
        match source.next_frame(Vec::new()) {
            Ok(Some(frame)) => {
                let _ = to_rgb(
                    frame.format,
                    frame.width,
                    frame.height,
                    &frame.data,
                    &mut rgb,
                    &mut planes,
                );
            }
            _ => break,
        }
    }
});
