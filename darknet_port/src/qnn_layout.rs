//! The parameter layout of the QNN-MO-PYNQ W1A3 engine (`docs/register-map.md`): how a
//! binarized layer's weights and thresholds are split over the engine's processing elements.
//! Pure data layout, shared by the importer (which reads the released per-PE files) and by
//! `pl_driver` (which builds the engine's weight buffers and models the engine).
//!
//! - A layer of more than [`MAX_OUT_CHANNELS_PER_PASS`] output channels runs as several passes;
//!   pass p computes channels `256p..256p+256`.
//! - Within a pass, PE `pe` computes channels `nm*32 + pe` for `nm` in `0..out/32` (the
//!   "neuron fold").
//! - Weights: u64 words; word `(nm*k*k + tap)*chunks + chunk` holds, in bit `s`, the weight of
//!   input channel `chunk*64 + s` at kernel tap `tap = ky*k + kx` (1 = -1, 0 = +1), with
//!   `chunks = ceil(in/64)`.
//! - Thresholds: one 128-bit entry per `nm`, stored as two u64 words, high half first: seven
//!   signed 16-bit thresholds at bits `16i`, and the invert flag at bit 112.

use crate::layers::BinaryConv;

pub const PE_COUNT: usize = 32;
pub const SIMD_WIDTH: usize = 64;
pub const MAX_OUT_CHANNELS_PER_PASS: usize = 256;
pub const MAX_IN_CHANNELS: usize = 512;
pub const ACTIVATION_BITS: usize = 3;
/// Bytes per pixel of the engine's activation buffers: `MAX_IN_CHANNELS` 3-bit values.
pub const BYTES_PER_PIXEL: usize = MAX_IN_CHANNELS * ACTIVATION_BITS / 8;
/// u64 words per threshold entry (128 bits).
pub const THRESHOLD_WORDS: usize = 2;

/// Passes, channels per pass and neuron fold of a layer with `out_channels` outputs.
pub fn passes(out_channels: usize) -> Result<(usize, usize, usize), String> {
    let passes = out_channels.div_ceil(MAX_OUT_CHANNELS_PER_PASS);
    let per_pass = out_channels / passes.max(1);
    if passes == 0 || per_pass * passes != out_channels || !per_pass.is_multiple_of(PE_COUNT) {
        return Err(format!(
            "{out_channels} output channels do not split into passes of whole PE folds"
        ));
    }
    Ok((passes, per_pass, per_pass / PE_COUNT))
}

/// Words of one PE's weight memory for one pass.
pub fn pe_weight_words(in_channels: usize, per_pass: usize, size: usize) -> usize {
    per_pass / PE_COUNT * size * size * in_channels.div_ceil(SIMD_WIDTH)
}

/// One PE's weight and threshold words for pass `pass` of `conv`.
pub fn pe_words(conv: &BinaryConv, pass: usize, pe: usize) -> Result<(Vec<u64>, Vec<u64>), String> {
    let (_, per_pass, fold) = passes(conv.out_channels)?;
    let taps = conv.size * conv.size;
    let chunks = conv.words();
    let levels = conv.threshold_count();
    let mut weights = Vec::with_capacity(fold * taps * chunks);
    let mut thresholds = Vec::with_capacity(fold * THRESHOLD_WORDS);
    for nm in 0..fold {
        let oc = pass * per_pass + nm * PE_COUNT + pe;
        weights.extend_from_slice(&conv.weights[oc * taps * chunks..(oc + 1) * taps * chunks]);
        let mut entry = u128::from(conv.invert[oc]) << (16 * levels);
        for (i, &t) in conv.thresholds[oc * levels..(oc + 1) * levels]
            .iter()
            .enumerate()
        {
            entry |= u128::from(t as u16) << (16 * i);
        }
        thresholds.push((entry >> 64) as u64);
        thresholds.push(entry as u64);
    }
    Ok((weights, thresholds))
}

/// Stores one PE's words for pass `pass` into `conv` (the inverse of [`pe_words`]); weight bits
/// at or beyond `in_channels` are dropped.
pub fn set_pe_words(
    conv: &mut BinaryConv,
    pass: usize,
    pe: usize,
    weights: &[u64],
    thresholds: &[u64],
) -> Result<(), String> {
    let (_, per_pass, fold) = passes(conv.out_channels)?;
    let taps = conv.size * conv.size;
    let chunks = conv.words();
    let levels = conv.threshold_count();
    if weights.len() < fold * taps * chunks || thresholds.len() < fold * THRESHOLD_WORDS {
        return Err(format!(
            "PE {pe}: {} weight and {} threshold words, the layer needs {} and {}",
            weights.len(),
            thresholds.len(),
            fold * taps * chunks,
            fold * THRESHOLD_WORDS
        ));
    }
    let valid = |chunk: usize| {
        let n = (conv.in_channels - chunk * SIMD_WIDTH).min(SIMD_WIDTH);
        if n == 64 {
            !0u64
        } else {
            (1u64 << n) - 1
        }
    };
    for nm in 0..fold {
        let oc = pass * per_pass + nm * PE_COUNT + pe;
        for i in 0..taps * chunks {
            conv.weights[oc * taps * chunks + i] =
                weights[nm * taps * chunks + i] & valid(i % chunks);
        }
        let entry = (u128::from(thresholds[THRESHOLD_WORDS * nm]) << 64)
            | u128::from(thresholds[THRESHOLD_WORDS * nm + 1]);
        for i in 0..levels {
            conv.thresholds[oc * levels + i] = ((entry >> (16 * i)) & 0xffff) as u16 as i16;
        }
        conv.invert[oc] = (entry >> (16 * levels)) & 1 == 1;
    }
    Ok(())
}

/// An all-zero layer of the given shape, to be filled by [`set_pe_words`].
pub fn empty_layer(in_channels: usize, out_channels: usize, size: usize) -> BinaryConv {
    BinaryConv {
        in_channels,
        out_channels,
        size,
        bits: ACTIVATION_BITS,
        weights: vec![0; out_channels * size * size * in_channels.div_ceil(64)],
        thresholds: vec![0; out_channels * ((1 << ACTIVATION_BITS) - 1)],
        invert: vec![false; out_channels],
        dense: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::binconv::tests::{random_layer, TestRng};

    #[test]
    fn pe_words_round_trip() {
        let mut rng = TestRng(5);
        for (cin, cout) in [(16, 64), (70, 512), (256, 256)] {
            let conv = random_layer(&mut rng, cin, cout, 3);
            let (passes, _, _) = passes(cout).unwrap();
            let mut back = empty_layer(cin, cout, 3);
            for pass in 0..passes {
                for pe in 0..PE_COUNT {
                    let (w, t) = pe_words(&conv, pass, pe).unwrap();
                    set_pe_words(&mut back, pass, pe, &w, &t).unwrap();
                }
            }
            assert_eq!(back, conv, "{cin}->{cout}");
        }
        assert!(passes(100).is_err());
        assert_eq!(passes(512).unwrap(), (2, 256, 8));
    }
}
