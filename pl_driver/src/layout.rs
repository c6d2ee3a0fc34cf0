//! Sizes and layouts of the buffers the engine reads and writes (docs/register-map.md, "Weight
//! buffers" and "Activation buffers"). The per-PE words come from `darknet_port::qnn_layout`;
//! this module only places them in the two init buffers.

use darknet_port::layers::BinaryConv;
use darknet_port::qnn_layout::{
    pe_words, BYTES_PER_PIXEL, MAX_IN_CHANNELS, MAX_OUT_CHANNELS_PER_PASS, PE_COUNT, SIMD_WIDTH,
    THRESHOLD_WORDS,
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
