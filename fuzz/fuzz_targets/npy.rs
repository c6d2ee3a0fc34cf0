//! The `.npy` reader on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = darknet_port::npy::parse_f32(data) {
        assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
    }
});
