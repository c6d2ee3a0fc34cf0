//! Limits on the sizes that files declare, checked before anything of that size is allocated:
//! a cfg that asks for a 60000x60000 input must get one line with the figure, not an abort in
//! the allocator. The figures live here, with no imports, so that every reader can use them; the
//! network's memory estimate that uses them is the plan's (`plan::memory`).

/// The environment variable that raises (or lowers) [`DEFAULT_MAX_NETWORK_BYTES`]: bytes, or a
/// number with a K, M, G or T suffix (powers of 1024).
pub const MAX_MEMORY_ENV: &str = "ZYNQDET_MAX_MEMORY";

/// Far above any tiny-YOLO at camera resolutions (YOLOv4-tiny at 1920x1088 needs about 1 GiB),
/// below what a board or a small PC can give.
pub const DEFAULT_MAX_NETWORK_BYTES: u64 = 4 << 30;

/// The largest integer a cfg key may hold: Darknet reads them as C ints, and anything this
/// large is already far past the memory limit as a size.
pub const MAX_CFG_INT: i64 = 1 << 24;

/// The largest image (or video frame) in pixels: 16384x16384, decoded to f32 RGB that is 3 GiB.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 28;

/// The largest number of elements a `.npy` array or a `.zdm` tensor may declare (4 GiB of f32):
/// the declared shape is checked before its product is used as a length.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 30;

/// The memory limit for a network: [`MAX_MEMORY_ENV`] if set, else the default.
pub fn max_network_bytes() -> std::result::Result<u64, String> {
    match std::env::var(MAX_MEMORY_ENV) {
        Ok(v) => parse_size(&v).ok_or_else(|| {
            format!("{MAX_MEMORY_ENV}=`{v}` is not a size (bytes, or a number with K, M, G or T)")
        }),
        Err(_) => Ok(DEFAULT_MAX_NETWORK_BYTES),
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last()?.to_ascii_uppercase() {
        b'K' => (&t[..t.len() - 1], 10),
        b'M' => (&t[..t.len() - 1], 20),
        b'G' => (&t[..t.len() - 1], 30),
        b'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// `bytes` for people: "43.2 GB" style, in powers of 1024 to match the suffixes above.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The product of a declared shape if it is at most `max` elements (no overflow on the way).
pub fn shape_elements(shape: &[usize], max: u64) -> Option<usize> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| {
            acc.checked_mul(d as u64).filter(|&n| n <= max)
        })
        .and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::Cfg;
    use crate::plan::Plan;
    use std::path::Path;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("99999999999T"), None);
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn a_huge_input_is_refused_with_the_figure() {
        let text = "[net]\nwidth=60000\nheight=60000\nchannels=3\n\
                    [convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n";
        let e = Plan::from_cfg(&Cfg::parse(text, Path::new("huge.cfg")).unwrap())
            .unwrap_err()
            .to_string();
        // 3 + 16 channels of 60000² f32 and 27 column rows of 60000²: 46 * 14.4e9 bytes.
        assert!(
            e.starts_with("huge.cfg:5: the network needs 616.9 GiB"),
            "{e}"
        );
        assert!(e.contains("ZYNQDET_MAX_MEMORY"), "{e}");
    }

    #[test]
    fn a_weights_count_past_the_limit_is_refused() {
        // Small shapes, but 2^24 filters of 4096x3x3 taps: 2.3e12 bytes of weights.
        let text = "[net]\nwidth=8\nheight=8\nchannels=4096\n\
                    [convolutional]\nfilters=16777216\nsize=3\npad=1\n";
        let e = Plan::from_cfg(&Cfg::parse(text, Path::new("w.cfg")).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("the network needs") && e.contains("TiB"), "{e}");
    }

    #[test]
    fn upsampling_cannot_overflow_the_shapes() {
        let mut text = String::from("[net]\nwidth=4096\nheight=4096\nchannels=1\n");
        for _ in 0..40 {
            text.push_str("[upsample]\nstride=16777216\n");
        }
        let e = Plan::from_cfg(&Cfg::parse(&text, Path::new("u.cfg")).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("u.cfg:5: the network needs"), "{e}");
    }

    #[test]
    fn shape_products_stop_at_the_maximum() {
        assert_eq!(shape_elements(&[2, 3, 4], 24), Some(24));
        assert_eq!(shape_elements(&[2, 3, 4], 23), None);
        assert_eq!(shape_elements(&[usize::MAX, usize::MAX, 0], u64::MAX), None);
        assert_eq!(shape_elements(&[], 1), Some(1));
    }
}
