//! Our stb-exact JPEG decoder on any bytes, against the `image` crate's decoder: where both
//! accept the input they must agree on its dimensions (pixels may differ in the last bit, as
//! the IDCTs differ). Then the full image path (`decode_rgb8`, with its dimension limit).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ours = darknet_port::jpeg::decode(data);
    if let Ok(img) = &ours {
        assert_eq!(img.rgb.len(), img.width * img.height * 3);
        let theirs = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg);
        if let Ok(theirs) = theirs {
            assert_eq!(
                (img.width, img.height),
                (theirs.width() as usize, theirs.height() as usize)
            );
        }
    }
    if let Ok((w, h, rgb)) = darknet_port::image_input::decode_rgb8(data) {
        assert_eq!(rgb.len(), w * h * 3);
    }
});
