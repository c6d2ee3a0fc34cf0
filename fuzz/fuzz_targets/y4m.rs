//! The Y4M demuxer on any bytes, then up to 16 of its frames converted to RGB as the pipeline
//! does.
#![no_main]
use darknet_port::jpeg::Planes;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use zynqdet::media::decode::to_rgb;
use zynqdet::media::source::y4m::Y4mSource;
use zynqdet::media::source::Source;

fuzz_target!(|data: &[u8]| {
    let Ok(mut source) = Y4mSource::new(data, Path::new("fuzz.y4m")) else {
        return;
    };
    let mut rgb = Vec::new();
    // one Planes for the whole video, as the pipeline keeps it from frame to frame
    let mut planes = Planes::default();
    for _ in 0..16 {
        match source.next_frame(Vec::new()) {
            Ok(Some(frame)) => {
                if let Ok((w, h)) = to_rgb(
                    frame.format,
                    frame.width,
                    frame.height,
                    &frame.data,
                    &mut rgb,
                    &mut planes,
                ) {
                    assert!(rgb.len() >= w * h * 3);
                }
            }
            _ => break,
        }
    }
});
