//! The cfg parser and the planner (shapes, references, the memory limit) on any text.
#![no_main]
use darknet_port::{cfg::Cfg, plan::Plan};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cfg) = Cfg::parse(text, Path::new("fuzz.cfg")) {
            let _ = Plan::from_cfg(&cfg);
        }
    }
});
