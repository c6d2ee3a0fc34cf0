//! Sizes and layouts of the buffers the engine reads and writes (docs/register-map.md, "Weight
//! buffers" and "Activation buffers"). The per-PE words come from `darknet_port::qnn_layout`;
//! this module only places them in the two init buffers.

use darknet_port::layers::{BinaryConv, QTensor};
use darknet_port::qnn_layout::{
    pe_words, ACTIVATION_BITS, BYTES_PER_PIXEL, MAX_IN_CHANNELS, MAX_OUT_CHANNELS_PER_PASS,
    PE_COUNT, SIMD_WIDTH, THRESHOLD_WORDS,
};

/// Largest padded feature-map side.
pub const MAX_DIM: usize = 210;
/// Kernel sides the engine runs.
pub const KERNEL_SIZES: [usize; 2] = [1, 3];
/// Init buffers: IN1 serves PEs 0..16, IN2 PEs 16..32.
pub const BANKS: usize = 2;
pub const PES_PER_BANK: usize = PE_COUNT / BANKS;
/// Threshold entries per PE (one per neuron fold of a 256-channel pass).
pub const TMEM_ENTRIES: usize = MAX_OUT_CHANNELS_PER_PASS / PE_COUNT;
/// u64 words of one PE's threshold memory.
pub const TMEM_WORDS: usize = TMEM_ENTRIES * THRESHOLD_WORDS;

/// u64 words of one PE's weight memory as the engine loads it for kernel side `k`.
pub fn wmem_words(k: usize) -> usize {
    k * k * MAX_OUT_CHANNELS_PER_PASS * MAX_IN_CHANNELS / (PE_COUNT * SIMD_WIDTH)
}

/// u64 words of one init buffer.
pub fn bank_words(k: usize) -> usize {
    PES_PER_BANK * (wmem_words(k) + TMEM_WORDS)
}

pub fn bank_bytes(k: usize) -> usize {
    bank_words(k) * 8
}

/// Bytes of an activation buffer of `dim` x `dim` pixels.
pub fn activation_bytes(dim: usize) -> usize {
    dim * dim * BYTES_PER_PIXEL
}

/// The words of init buffer `bank` (0: IN1, 1: IN2) for pass `pass` of `conv`: each PE's weight
/// memory, zero-padded, then each PE's threshold memory, zero-padded.
pub fn weight_bank(conv: &BinaryConv, pass: usize, bank: usize) -> Result<Vec<u64>, String> {
    let (wmem, k) = (wmem_words(conv.size), conv.size);
    let mut words = vec![0u64; bank_words(k)];
    for i in 0..PES_PER_BANK {
        let (w, t) = pe_words(conv, pass, bank * PES_PER_BANK + i)?;
        if w.len() > wmem || t.len() > TMEM_WORDS {
            return Err(format!(
                "PE {}: {} weight and {} threshold words exceed the engine's {wmem} and {TMEM_WORDS}",
                bank * PES_PER_BANK + i,
                w.len(),
                t.len()
            ));
        }
        words[i * wmem..i * wmem + w.len()].copy_from_slice(&w);
        let t0 = PES_PER_BANK * wmem + i * TMEM_WORDS;
        words[t0..t0 + t.len()].copy_from_slice(&t);
    }
    Ok(words)
}

/// PE `i` of a bank's words: (weight memory, threshold memory). The inverse of [`weight_bank`],
/// as the engine's init reads it.
pub fn bank_pe(words: &[u64], k: usize, i: usize) -> (&[u64], &[u64]) {
    let wmem = wmem_words(k);
    let t0 = PES_PER_BANK * wmem + i * TMEM_WORDS;
    (
        &words[i * wmem..(i + 1) * wmem],
        &words[t0..t0 + TMEM_WORDS],
    )
}

/// `SPREAD[b]`: bit i of `b` moved to bit 3i, placing 8 channels' bit of one plane in the
/// packed stream.
const SPREAD: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            t[b] |= ((b as u32 >> i) & 1) << (3 * i);
            i += 1;
        }
        b += 1;
    }
    t
};

/// `GATHER[v]` for 12 packed bits (4 channels): the 4 bits of plane p at bits `4p..4p+4`.
const GATHER: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut v = 0;
    while v < 4096 {
        let mut c = 0;
        while c < 4 {
            let mut p = 0;
            while p < 3 {
                t[v] |= (((v >> (3 * c + p)) & 1) as u16) << (4 * p + c);
                p += 1;
            }
            c += 1;
        }
        v += 1;
    }
    t
};

fn check_shape(t_channels: usize, bits: usize) -> Result<(), String> {
    if bits != ACTIVATION_BITS || t_channels > MAX_IN_CHANNELS {
        return Err(format!(
            "{t_channels} channels of {bits} bits; the engine's buffers hold up to {MAX_IN_CHANNELS} of {ACTIVATION_BITS}"
        ));
    }
    Ok(())
}

fn valid_mask(channels: usize, word: usize) -> u64 {
    match channels.saturating_sub(word * 64) {
        n if n >= 64 => !0,
        n => (1u64 << n) - 1,
    }
}

/// The engine's activation layout of `t` (what `QTensor::to_packed_pixels(BYTES_PER_PIXEL)`
/// gives, a table lookup per 8 channels instead of a loop per bit).
pub fn pack_activations(t: &QTensor) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; t.height * t.width * BYTES_PER_PIXEL];
    pack_rows(t, 0, &mut out)?;
    Ok(out)
}

/// Packs whole rows of `t` from `first_row` on into `out` (a multiple of a row's bytes), so
/// that a large map can go to DMA memory through a small reused buffer.
pub fn pack_rows(t: &QTensor, first_row: usize, out: &mut [u8]) -> Result<(), String> {
    check_shape(t.channels, t.bits)?;
    let row = t.width * BYTES_PER_PIXEL;
    if row == 0 || !out.len().is_multiple_of(row) || first_row + out.len() / row > t.height {
        return Err(format!(
            "{} bytes from row {first_row} are not whole rows of a {}x{} map",
            out.len(),
            t.height,
            t.width
        ));
    }
    let words = t.words();
    for (p, px) in out.chunks_exact_mut(BYTES_PER_PIXEL).enumerate() {
        let planes = t.pixel(first_row + p / t.width, p % t.width);
        px.fill(0);
        for w in 0..words {
            let mask = valid_mask(t.channels, w);
            let (p0, p1, p2) = (
                planes[w] & mask,
                planes[words + w] & mask,
                planes[2 * words + w] & mask,
            );
            for j in 0..8 {
                let byte = |p: u64| SPREAD[((p >> (8 * j)) & 0xff) as usize];
                let v = byte(p0) | (byte(p1) << 1) | (byte(p2) << 2);
                let at = 3 * (8 * w + j);
                px[at..at + 3].copy_from_slice(&v.to_le_bytes()[..3]);
            }
        }
    }
    Ok(())
}

/// The inverse of [`pack_activations`]: `dim` x `dim` pixels of `channels` channels (as
/// `QTensor::from_packed_pixels` reads them; bits of higher channels are ignored).
pub fn unpack_activations(bytes: &[u8], dim: usize, channels: usize) -> Result<QTensor, String> {
    check_shape(channels, ACTIVATION_BITS)?;
    if bytes.len() != activation_bytes(dim) {
        return Err(format!(
            "{dim}x{dim} pixels need {} bytes, got {}",
            activation_bytes(dim),
            bytes.len()
        ));
    }
    let mut t = QTensor::zeros(dim, dim, channels, ACTIVATION_BITS);
    let words = t.words();
    for (p, px) in bytes.chunks_exact(BYTES_PER_PIXEL).enumerate() {
        let planes = t.pixel_mut(p / dim, p % dim);
        for w in 0..words {
            let (mut p0, mut p1, mut p2) = (0u64, 0u64, 0u64);
            for j in 0..8 {
                let at = 3 * (8 * w + j);
                let v = u32::from_le_bytes([px[at], px[at + 1], px[at + 2], 0]);
                let lo = GATHER[(v & 0xfff) as usize] as u64;
                let hi = GATHER[(v >> 12) as usize] as u64;
                let plane = |k: u32| ((lo >> (4 * k)) & 0xf) | (((hi >> (4 * k)) & 0xf) << 4);
                p0 |= plane(0) << (8 * j);
                p1 |= plane(1) << (8 * j);
                p2 |= plane(2) << (8 * j);
            }
            let mask = valid_mask(channels, w);
            planes[w] = p0 & mask;
            planes[words + w] = p1 & mask;
            planes[2 * words + w] = p2 & mask;
        }
    }
    Ok(t)
}

pub fn words_to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

pub fn bytes_to_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use darknet_port::qnn_layout::{empty_layer, set_pe_words};

    fn layer(cin: usize, cout: usize, k: usize) -> BinaryConv {
        let mut conv = empty_layer(cin, cout, k);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let chunks = cin.div_ceil(64);
        for (i, w) in conv.weights.iter_mut().enumerate() {
            let tail = cin - (i % chunks) * 64;
            *w = next() & if tail >= 64 { !0 } else { (1 << tail) - 1 };
        }
        for t in conv.thresholds.iter_mut() {
            *t = next() as i16;
        }
        for v in conv.invert.iter_mut() {
            *v = next() & 1 == 1;
        }
        conv
    }

    #[test]
    fn fast_packing_matches_qtensor_packing() {
        let mut x = 12345u64;
        for (dim, channels) in [(3, 16), (2, 70), (4, 512), (1, 1), (2, 256)] {
            let mut t = QTensor::zeros(dim, dim, channels, 3);
            for y in 0..dim {
                for xx in 0..dim {
                    for c in 0..channels {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        t.set(y, xx, c, (x % 8) as u8);
                    }
                }
            }
            let packed = pack_activations(&t).unwrap();
            assert_eq!(
                packed,
                t.to_packed_pixels(BYTES_PER_PIXEL),
                "{dim} {channels}"
            );
            // garbage above the channels is ignored, as from_packed_pixels does
            let mut noisy = packed.clone();
            if channels < 512 {
                for px in noisy.chunks_exact_mut(BYTES_PER_PIXEL) {
                    px[BYTES_PER_PIXEL - 1] = 0xff;
                }
            }
            let back = unpack_activations(&noisy, dim, channels).unwrap();
            assert_eq!(
                back,
                QTensor::from_packed_pixels(&noisy, dim, dim, channels, 3, BYTES_PER_PIXEL)
                    .unwrap()
            );
            assert_eq!(back, t);
        }
        assert!(pack_activations(&QTensor::zeros(1, 1, 513, 3)).is_err());
        let t = QTensor::zeros(3, 2, 16, 3);
        let mut rows = vec![7u8; 2 * 2 * BYTES_PER_PIXEL];
        pack_rows(&t, 1, &mut rows).unwrap();
        assert!(
            rows.iter().all(|&b| b == 0),
            "rows are overwritten, not or-ed"
        );
        assert!(pack_rows(&t, 2, &mut rows).is_err(), "past the last row");
        assert!(pack_rows(&t, 0, &mut rows[1..]).is_err(), "not whole rows");
        assert!(unpack_activations(&[0; 10], 1, 16).is_err());
    }

    #[test]
    fn banks_hold_every_pe_and_round_trip() {
        assert_eq!(wmem_words(3), 576);
        assert_eq!(wmem_words(1), 64);
        assert_eq!(bank_bytes(3), 16 * (576 + 16) * 8);
        for (cin, cout, k) in [(16, 64, 3), (512, 512, 3), (70, 96, 1)] {
            let conv = layer(cin, cout, k);
            let (passes, _, _) = darknet_port::qnn_layout::passes(cout).unwrap();
            let mut back = empty_layer(cin, cout, k);
            for pass in 0..passes {
                for bank in 0..BANKS {
                    let words = weight_bank(&conv, pass, bank).unwrap();
                    let words = bytes_to_words(&words_to_bytes(&words));
                    assert_eq!(words.len(), bank_words(k));
                    for i in 0..PES_PER_BANK {
                        let (w, t) = bank_pe(&words, k, i);
                        set_pe_words(&mut back, pass, bank * PES_PER_BANK + i, w, t).unwrap();
                    }
                }
            }
            assert_eq!(back, conv, "{cin}->{cout} k={k}");
        }
    }
}
