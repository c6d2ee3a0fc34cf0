//! The `.zdm` reader on any bytes, and the network built from what it accepts.
#![no_main]
use darknet_port::{model_file::ModelFile, network::Network};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = ModelFile::from_bytes(data) {
        let _ = Network::from_model(&model, Path::new("fuzz.zdm"));
    }
});
