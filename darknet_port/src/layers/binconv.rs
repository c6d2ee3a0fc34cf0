//! The binarized convolution of the accelerator: 1-bit weights (+1/-1), unsigned `bits`-bit
//! activations, stride 1, zero padding of `size/2`, and a per-channel multi-threshold activation.
//!
//! Arithmetic (the QNN-MO-PYNQ W1A3 engine, exact integers):
//! - a weight bit 1 means -1, 0 means +1; `acc = sum(w * a)` over the window and input channels;
//! - the output level is the number of thresholds `t_i` with `acc >= t_i` (`2^bits - 1`
//!   signed 16-bit thresholds per output channel), bit-inverted when the channel's invert flag
//!   is set. The engine's accumulator is 16-bit signed; `size*size*channels*(2^bits-1)` stays
//!   below 2^15 for every layer the engine accepts (3*3*512*7 = 32256).

use super::qtensor::QTensor;
use crate::kernels::{self, BIN_GROUP};
use crate::parallel;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, PartialEq)]
pub struct BinaryConv {
    pub in_channels: usize,
    pub out_channels: usize,
    /// Kernel side (odd); padding is `size / 2`.
    pub size: usize,
    pub bits: usize,
    /// `[out][ky*size+kx][word]`, bit c%64 of word c/64 is the weight of input channel c;
    /// set means -1. Bits at or above `in_channels` are zero.
    pub weights: Vec<u64>,
    /// `[out][2^bits - 1]`.
    pub thresholds: Vec<i16>,
    pub invert: Vec<bool>,
    /// The layer in the kernels' layout, built on the first forward pass and reused (write
    /// `dense: Default::default()` in a literal). It belongs to the fields' values at that first
    /// pass: change `weights`, `thresholds`, `invert` or the shape afterwards and release builds
    /// keep computing with the old values (debug builds assert that it still matches); change
    /// them before the first pass, or on a clone (a clone starts with an empty cache).
    pub dense: DenseCache,
}

/// The cache of a [`BinaryConv`]'s kernel layout, filled on first use. Not part of the layer's
/// value: clones start empty and any two compare equal.
#[derive(Default)]
pub struct DenseCache(OnceLock<DenseLayer>);

impl Clone for DenseCache {
    fn clone(&self) -> DenseCache {
        DenseCache::default()
    }
}

impl PartialEq for DenseCache {
    fn eq(&self, _: &DenseCache) -> bool {
        true
    }
}

impl std::fmt::Debug for DenseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.get().is_some() {
            "built"
        } else {
            "empty"
        };
        f.write_str(state)
    }
}

impl BinaryConv {
    pub fn words(&self) -> usize {
        self.in_channels.div_ceil(64)
    }

    pub fn threshold_count(&self) -> usize {
        (1 << self.bits) - 1
    }

    /// Checks that the tensors agree with the declared shape.
    pub fn validate(&self) -> Result<(), String> {
        let taps = self.size * self.size;
        if self.size.is_multiple_of(2) {
            return Err(format!("kernel size {} is not odd", self.size));
        }
        if self.weights.len() != self.out_channels * taps * self.words() {
            return Err(format!(
                "weights hold {} words, {}x{}x{} needs {}",
                self.weights.len(),
                self.out_channels,
                taps,
                self.words(),
                self.out_channels * taps * self.words()
            ));
        }
        if self.thresholds.len() != self.out_channels * self.threshold_count() {
            return Err(format!(
                "{} thresholds for {} channels of {} bits",
                self.thresholds.len(),
                self.out_channels,
                self.bits
            ));
        }
        if self.invert.len() != self.out_channels {
            return Err(format!(
                "{} invert flags for {} channels",
                self.invert.len(),
                self.out_channels
            ));
        }
        let tail = self.in_channels % 64;
        if tail != 0 {
            let mask = !0u64 << tail;
            if self
                .weights
                .chunks(self.words())
                .any(|w| w[self.words() - 1] & mask != 0)
            {
                return Err("weight bits set beyond the input channels".into());
            }
        }
        Ok(())
    }

    fn weight_is_negative(&self, out: usize, tap: usize, c: usize) -> bool {
        let w = self.weights[(out * self.size * self.size + tap) * self.words() + c / 64];
        (w >> (c % 64)) & 1 == 1
    }

    /// The output level of channel `out` for accumulator `acc`.
    pub fn activate(&self, out: usize, acc: i32) -> u8 {
        let n = self.threshold_count();
        let thresholds = &self.thresholds[out * n..(out + 1) * n];
        let level = thresholds.iter().filter(|&&t| acc >= i32::from(t)).count() as u8;
        if self.invert[out] {
            !level & ((1u16 << self.bits) - 1) as u8
        } else {
            level
        }
    }

    /// Straightforward scalar version: one multiply-accumulate per weight. The reference that
    /// the fast kernels are tested against.
    pub fn forward_reference(&self, input: &QTensor) -> QTensor {
        assert_eq!(input.channels, self.in_channels);
        let (h, w) = (input.height, input.width);
        let pad = (self.size / 2) as isize;
        let mut out = QTensor::zeros(h, w, self.out_channels, self.bits);
        for y in 0..h {
            for x in 0..w {
                for o in 0..self.out_channels {
                    let mut acc = 0i32;
                    for ky in 0..self.size {
                        for kx in 0..self.size {
                            let iy = y as isize + ky as isize - pad;
                            let ix = x as isize + kx as isize - pad;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let tap = ky * self.size + kx;
                            for c in 0..self.in_channels {
                                let a = i32::from(input.get(iy as usize, ix as usize, c));
                                acc += if self.weight_is_negative(o, tap, c) {
                                    -a
                                } else {
                                    a
                                };
                            }
                        }
                    }
                    out.set(y, x, o, self.activate(o, acc));
                }
            }
        }
        out
    }

    /// Bit-packed version: with `a = sum_b 2^b a_b` and `n` the set of channels with weight -1,
    /// `sum(w*a) = sum_b 2^b (popcount(A_b) - 2 popcount(A_b & N))`.
    pub fn forward(&self, input: &QTensor) -> QTensor {
        let mut out = QTensor::zeros(input.height, input.width, self.out_channels, self.bits);
        self.forward_rows(input, &mut out, 0..input.height);
        out
    }

    /// Computes output rows `rows` into `out` (which must have the output's shape); lets callers
    /// split a layer over engines. Runs on the [`kernels::active`] table, the pixels split over
    /// the [`parallel::active`] workers (in chunks, each its own run of output pixels computed
    /// as a single worker computes it, so the bits do not depend on the split).
    pub fn forward_rows(&self, input: &QTensor, out: &mut QTensor, rows: std::ops::Range<usize>) {
        assert_eq!(input.channels, self.in_channels);
        assert_eq!(input.bits, self.bits);
        assert_eq!(
            (out.height, out.width, out.channels, out.bits),
            (input.height, input.width, self.out_channels, self.bits)
        );
        assert!(
            rows.end <= input.height,
            "rows {rows:?} of {}",
            input.height
        );
        if self.out_channels == 0 || rows.is_empty() {
            return;
        }
        // The table and the layout are taken here, on the caller's thread: the workers' threads
        // have no table of their own (`kernels::with_kernels` is per thread).
        let kernels = kernels::active();
        let layer = self.dense.0.get_or_init(|| DenseLayer::new(self));
        // Fields changed after the first pass (see `dense`): the same cost as building the
        // layout every call, in debug builds only.
        debug_assert!(
            *layer == DenseLayer::new(self),
            "BinaryConv changed after its first forward pass"
        );
        let width = input.width;
        let pixels = rows.start * width..rows.end * width;
        let stride = out.pixel_stride();
        // Pixels, not rows: the small last layers (13x13) have too few rows to split evenly.
        let parts = parallel::parts(pixels.len(), MIN_PIXELS_A_PART);
        let out = out.pixels_mut(pixels.clone());
        if parts == 1 {
            self.forward_pixels(input, layer, kernels, pixels, out);
            return;
        }
        // More chunks than workers, taken in turn by whichever worker is free: a worker that
        // starts late (its core busy with another process) or runs slower takes fewer, instead
        // of the whole layer waiting for its fixed share.
        let chunks = parallel::ranges(pixels.len(), parts * CHUNKS_A_WORKER, 1);
        let mut rest = out;
        let mut queue = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let (mine, tail) = rest.split_at_mut(chunk.len() * stride);
            rest = tail;
            queue.push((pixels.start + chunk.start..pixels.start + chunk.end, mine));
        }
        queue.reverse();
        let queue = Mutex::new(queue);
        let queue = &queue;
        let jobs: Vec<parallel::Job> = (0..parts)
            .map(|_| {
                Box::new(move || loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some((chunk, out)) = next else { break };
                    self.forward_pixels(input, layer, kernels, chunk, out);
                }) as parallel::Job
            })
            .collect();
        parallel::run(jobs);
    }

    /// Output pixels `pixels` (row-major numbers) into `out`, their planes pixel after pixel.
    fn forward_pixels(
        &self,
        input: &QTensor,
        layer: &DenseLayer,
        kernels: &kernels::Kernels,
        pixels: std::ops::Range<usize>,
        out: &mut [u64],
    ) {
        let (bits, span) = (self.bits, layer.span);
        let (channels, width, padded) = (self.in_channels, input.width, layer.padded);
        let n = self.threshold_count();
        let stride = bits * self.out_channels.div_ceil(64);
        let per_pixel = bits * span;
        // Pixels a batch: a row at least, more while the windows stay small beside the second-
        // level cache (the popcount kernel reads them once for each group of channels, and each
        // call prepares every group's kernels).
        let most = (BATCH_BYTES / (per_pixel * 8)).max(width).min(pixels.len());
        // The windows of a batch of output pixels, each plane-major: `[bit][dense bits]`, zero
        // where the window leaves the image; a plane lines up bit for bit with a dense kernel.
        let mut windows = vec![0u64; most * bits * span];
        let mut sums = vec![0i32; most];
        let mut neg = vec![0i32; most * padded];
        let mut levels = vec![0u8; most * padded];
        // few channels (the first layer): windows from whole input rows made bit strings
        let mut lines = (self.size * channels <= LINE_RUN)
            .then(|| Lines::new(self.size, bits, channels, width));
        let mut out = out.chunks_exact_mut(stride);
        let mut p = pixels.start;
        while p < pixels.end {
            let end = pixels.end.min(p + most);
            let count = end - p;
            let batch = &mut windows[..count * per_pixel];
            batch.fill(0);
            // row by row: each row's run of the batch
            let mut q = p;
            while q < end {
                let (y, x0) = (q / width, q % width);
                let x1 = width.min(x0 + end - q);
                let windows = &mut batch[(q - p) * per_pixel..(q - p + x1 - x0) * per_pixel];
                q += x1 - x0;
                if let Some(lines) = lines.as_mut() {
                    lines.windows(self, input, y, x0..x1, windows, span);
                } else {
                    self.tap_windows(input, y, x0..x1, windows, span);
                }
            }
            p = end;
            let windows = &*batch;
            let (sums, neg) = (&mut sums[..count], &mut neg[..count * padded]);
            let levels = &mut levels[..count * padded];
            (kernels.window_sums)(windows, bits, span, sums);
            (kernels.popcount_dots)(windows, bits, span, &layer.weights, neg);
            (kernels.activate)(neg, sums, &layer.thresholds, n, &layer.flip, levels);
            for (levels, planes) in levels.chunks_exact(padded).zip(&mut out) {
                (kernels.pack_planes)(&levels[..self.out_channels], bits, planes);
            }
        }
    }

    /// The windows of output pixels `xs` of row `y` into `windows` (zeroed, `span` words a
    /// plane, as `forward_pixels` lays them out), tap by tap along the run: each tap's place
    /// in the window is fixed, and the output pixels whose input lies inside the image are one
    /// range.
    fn tap_windows(
        &self,
        input: &QTensor,
        y: usize,
        xs: std::ops::Range<usize>,
        windows: &mut [u64],
        span: usize,
    ) {
        let (h, w) = (input.height as isize, input.width as isize);
        let pad = (self.size / 2) as isize;
        let (bits, words, channels) = (self.bits, self.words(), self.in_channels);
        let per_pixel = bits * span;
        let (x0, x1) = (xs.start, xs.end);
        for ky in 0..self.size {
            let iy = y as isize + ky as isize - pad;
            if iy < 0 || iy >= h {
                continue;
            }
            for kx in 0..self.size {
                let shift = kx as isize - pad;
                let first = (-shift).clamp(x0 as isize, x1 as isize) as usize;
                let end = (w - shift).clamp(x0 as isize, x1 as isize) as usize;
                let offset = (ky * self.size + kx) * channels;
                if first >= end {
                    // the tap lies outside the image for the whole run
                    continue;
                }
                if channels < 64 {
                    // One word a plane (the first layers): its bits land in one or two
                    // window words, the same for the whole row.
                    let (at, to) = (offset / 64, offset % 64);
                    let mask = (1u64 << channels) - 1;
                    let spills = to + channels > 64;
                    // the run's input pixels and windows side by side, without a
                    // bounds check a pixel
                    let from = (first as isize + shift) as usize * bits;
                    let sources = &input.row(iy as usize)[from..][..(end - first) * bits];
                    let targets = &mut windows[(first - x0) * per_pixel..];
                    for (planes, window) in sources
                        .chunks_exact(bits)
                        .zip(targets.chunks_exact_mut(per_pixel))
                    {
                        for (b, &plane) in planes.iter().enumerate() {
                            let v = plane & mask;
                            window[b * span + at] |= v << to;
                            if spills {
                                window[b * span + at + 1] |= v >> (64 - to);
                            }
                        }
                    }
                    continue;
                }
                if channels.is_multiple_of(64) {
                    // whole words (64, 128, ... channels): the run's pixels and windows
                    // side by side, each plane's words one copy
                    let (at, stride) = (offset / 64, bits * words);
                    let from = (first as isize + shift) as usize * stride;
                    let sources = &input.row(iy as usize)[from..][..(end - first) * stride];
                    let targets = &mut windows[(first - x0) * per_pixel..];
                    for (planes, window) in sources
                        .chunks_exact(stride)
                        .zip(targets.chunks_exact_mut(per_pixel))
                    {
                        for (plane, window) in planes
                            .chunks_exact(words)
                            .zip(window.chunks_exact_mut(span))
                        {
                            if words == 1 {
                                // one word by hand: `copy_from_slice` calls `memcpy`
                                window[at] = plane[0];
                            } else {
                                window[at..at + words].copy_from_slice(plane);
                            }
                        }
                    }
                    continue;
                }
                for x in first..end {
                    let planes = input.pixel(iy as usize, (x as isize + shift) as usize);
                    let window = &mut windows[(x - x0) * per_pixel..][..per_pixel];
                    for b in 0..bits {
                        let plane = &mut window[b * span..(b + 1) * span];
                        put_bits(plane, offset, &planes[b * words..(b + 1) * words], channels);
                    }
                }
            }
        }
    }
}

/// About the most bytes of windows a batch of output pixels takes (see `forward_pixels`).
const BATCH_BYTES: usize = 48 << 10;

/// Output pixels below which a part is not worth a worker: a part costs a thread's start and
/// its own window buffers, and the smallest binarized layers take microseconds.
const MIN_PIXELS_A_PART: usize = 32;

/// Chunks a layer's pixels are cut into for each worker (see `forward_rows`): enough that a
/// late worker's share is taken by the others, few enough that each chunk's buffers and
/// kernel preparation stay small beside its work.
const CHUNKS_A_WORKER: usize = 8;

/// For layers with few input channels (`size * channels <= 57`: the first layer's 16), the
/// input rows as bit strings of bytes: plane `b` of row `iy` holds pixel `x`'s channels at bit
/// `(x + pad) * channels`, zero outside the image, so one window row of `size` pixels is one
/// run of `size * channels` bits, taken with one unaligned 8-byte read and a shift below 8
/// (hence 57) instead of `size` separate taps. The last `size` rows are kept, so each input
/// row is made once per run of output rows.
struct Lines {
    /// Bytes of a plane's string (8 spare, so that a run can always take 8 bytes).
    bytes: usize,
    bits: usize,
    channels: usize,
    /// `[slot][bit][byte]`; row `iy` lives in slot `iy % size`.
    data: Vec<u8>,
    /// The row each slot holds.
    rows: Vec<Option<usize>>,
}

/// The most bits a window row may span for [`Lines`]: a read of 8 bytes shifted by up to 7.
const LINE_RUN: usize = 57;

/// The 8 bytes of `line` from `at`, as one little-endian word.
#[inline(always)]
fn word_at(line: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(line[at..at + 8].try_into().expect("8 bytes"))
}

impl Lines {
    fn new(size: usize, bits: usize, channels: usize, width: usize) -> Lines {
        let bytes = ((width + size) * channels).div_ceil(8) + 8;
        Lines {
            bytes,
            bits,
            channels,
            data: vec![0; size * bits * bytes],
            rows: vec![None; size],
        }
    }

    /// The slot of input row `iy`, made if it is not there yet.
    fn row(&mut self, input: &QTensor, iy: usize, pad: usize) -> &[u8] {
        let size = self.rows.len();
        let slot = iy % size;
        let len = self.bits * self.bytes;
        let data = &mut self.data[slot * len..(slot + 1) * len];
        if self.rows[slot] != Some(iy) {
            self.rows[slot] = Some(iy);
            data.fill(0);
            let channels = self.channels;
            let mask = (1u64 << channels) - 1;
            // one word a plane (channels < 64); a pixel's bits and the shift fit in 8 bytes
            for (x, planes) in input.row(iy).chunks_exact(self.bits).enumerate() {
                let at = (x + pad) * channels;
                let (byte, shift) = (at / 8, at % 8);
                for (b, &plane) in planes.iter().enumerate() {
                    let line = &mut data[b * self.bytes..(b + 1) * self.bytes];
                    let word = word_at(line, byte) | (plane & mask) << shift;
                    line[byte..byte + 8].copy_from_slice(&word.to_le_bytes());
                }
            }
        }
        data
    }

    /// The windows of output pixels `xs` of row `y` into `windows` (zeroed, `span` words a
    /// plane, as `forward_pixels` lays them out).
    fn windows(
        &mut self,
        layer: &BinaryConv,
        input: &QTensor,
        y: usize,
        xs: std::ops::Range<usize>,
        windows: &mut [u64],
        span: usize,
    ) {
        let (size, bits, channels, bytes) = (layer.size, self.bits, self.channels, self.bytes);
        let pad = size / 2;
        let run = size * channels;
        let mask = (1u64 << run) - 1;
        let per_pixel = bits * span;
        for ky in 0..size {
            let Some(iy) = (y + ky).checked_sub(pad).filter(|&iy| iy < input.height) else {
                continue;
            };
            let line = self.row(input, iy, pad);
            let to = ky * run;
            let (at, shift) = (to / 64, to % 64);
            let spills = shift + run > 64;
            for (x, window) in xs.clone().zip(windows.chunks_exact_mut(per_pixel)) {
                // pixel x's window row starts at padded column x
                let from = x * channels;
                let (byte, from_shift) = (from / 8, from % 8);
                for b in 0..bits {
                    let v = (word_at(&line[b * bytes..], byte) >> from_shift) & mask;
                    window[b * span + at] |= v << shift;
                    if spills {
                        window[b * span + at + 1] |= v >> (64 - shift);
                    }
                }
            }
        }
    }
}

/// A layer in the kernels' layout. Weights are *dense*: tap `t`'s channels occupy bits
/// `t*in_channels..(t+1)*in_channels` of one bit string, so a 16-channel 3x3 kernel takes 3
/// words instead of 9 (one a tap); for channel counts that are multiples of 64 nothing changes.
/// Per-channel arrays come in groups of [`BIN_GROUP`] channels (padded with zeros), the unit of
/// the SIMD kernels.
#[derive(PartialEq)]
struct DenseLayer {
    /// Words of a dense kernel (and of each plane of a dense window).
    span: usize,
    /// Output channels rounded up to a whole group.
    padded: usize,
    /// `[o / 8][span][o % 8]`.
    weights: Vec<u64>,
    /// `[o / 8][threshold][o % 8]`.
    thresholds: Vec<i32>,
    /// What a level is XORed with: all ones for inverted channels.
    flip: Vec<i32>,
}

impl DenseLayer {
    fn new(layer: &BinaryConv) -> DenseLayer {
        let taps = layer.size * layer.size;
        let (channels, words) = (layer.in_channels, layer.words());
        let span = (taps * channels).div_ceil(64).max(1);
        let padded = layer.out_channels.div_ceil(BIN_GROUP) * BIN_GROUP;
        let n = layer.threshold_count();
        let mut weights = vec![0u64; padded * span];
        let mut thresholds = vec![0i32; padded * n];
        let mut flip = vec![0i32; padded];
        let mut dense = vec![0u64; span];
        for o in 0..layer.out_channels {
            dense.fill(0);
            for t in 0..taps {
                let kernel = &layer.weights[(o * taps + t) * words..][..words];
                put_bits(&mut dense, t * channels, kernel, channels);
            }
            let (group, lane) = (o / BIN_GROUP, o % BIN_GROUP);
            for (s, &word) in dense.iter().enumerate() {
                weights[(group * span + s) * BIN_GROUP + lane] = word;
            }
            for t in 0..n {
                thresholds[(group * n + t) * BIN_GROUP + lane] =
                    i32::from(layer.thresholds[o * n + t]);
            }
        }
        for (f, &invert) in flip.iter_mut().zip(&layer.invert) {
            if invert {
                *f = (1 << layer.bits) - 1;
            }
        }
        DenseLayer {
            span,
            padded,
            weights,
            thresholds,
            flip,
        }
    }
}

/// ORs the first `count` bits of `src` into `dst` starting at bit `offset`.
#[inline(always)]
fn put_bits(dst: &mut [u64], offset: usize, src: &[u64], count: usize) {
    if offset.is_multiple_of(64) && count.is_multiple_of(64) {
        // whole words (channel counts that are multiples of 64): a copy; one or two words
        // by hand, as `copy_from_slice` calls `memcpy` (27 times a pixel for 64 channels)
        let (at, words) = (offset / 64, count / 64);
        match words {
            1 => dst[at] = src[0],
            2 => {
                dst[at] = src[0];
                dst[at + 1] = src[1];
            }
            _ => dst[at..at + words].copy_from_slice(&src[..words]),
        }
        return;
    }
    for (i, &word) in src.iter().enumerate() {
        let take = count.saturating_sub(i * 64).min(64);
        if take == 0 {
            break;
        }
        let bits = if take == 64 {
            word
        } else {
            word & ((1u64 << take) - 1)
        };
        let at = offset + i * 64;
        let shift = at % 64;
        dst[at / 64] |= bits << shift;
        if shift != 0 && shift + take > 64 {
            dst[at / 64 + 1] |= bits >> (64 - shift);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deterministic pseudo-random generator for tests (xorshift64*).
    pub(crate) struct TestRng(pub u64);
    impl TestRng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    pub(crate) fn random_layer(
        rng: &mut TestRng,
        cin: usize,
        cout: usize,
        size: usize,
    ) -> BinaryConv {
        let words = cin.div_ceil(64);
        let mut weights = Vec::new();
        for _ in 0..cout * size * size {
            for wi in 0..words {
                let valid = (cin - wi * 64).min(64);
                let mask = if valid == 64 { !0 } else { (1u64 << valid) - 1 };
                weights.push(rng.next() & mask);
            }
        }
        let mut thresholds = Vec::new();
        let mut invert = Vec::new();
        for _ in 0..cout {
            let base = (rng.next() % 64) as i16 - 32;
            let step = (rng.next() % 6) as i16 + 1;
            thresholds.extend((0..7).map(|i| base + i * step));
            invert.push(rng.next().is_multiple_of(5));
        }
        BinaryConv {
            in_channels: cin,
            out_channels: cout,
            size,
            bits: 3,
            weights,
            thresholds,
            invert,
            dense: Default::default(),
        }
    }

    pub(crate) fn random_input(rng: &mut TestRng, h: usize, w: usize, c: usize) -> QTensor {
        let mut t = QTensor::zeros(h, w, c, 3);
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    // skew towards small levels, as real activations are
                    let v = (rng.next() % 8) as u8;
                    t.set(y, x, ch, if v > 5 { v } else { v / 2 });
                }
            }
        }
        t
    }

    #[test]
    fn popcount_kernel_matches_reference() {
        let mut rng = TestRng(0x1234_5678_9abc_def1);
        for &(cin, cout, size, h, w) in &[
            (16, 8, 3, 5, 7),
            (64, 32, 3, 4, 4),
            (70, 5, 3, 3, 6),
            (130, 9, 1, 3, 2),
            (3, 2, 3, 1, 1),
            // window rows taken from bit strings at shifts that are not whole bytes, up to the
            // longest run (3 * 19 = 57 bits), and past it (3 * 20)
            (128, 8, 3, 5, 6),
            (5, 3, 3, 5, 13),
            (19, 8, 3, 4, 9),
            (20, 8, 3, 4, 9),
            (11, 8, 5, 6, 7),
        ] {
            let layer = random_layer(&mut rng, cin, cout, size);
            layer.validate().unwrap();
            let input = random_input(&mut rng, h, w, cin);
            assert_eq!(
                layer.forward(&input),
                layer.forward_reference(&input),
                "{cin}->{cout} k{size}"
            );
        }
    }

    /// Real threads, one a job, so the parts also run at the same time.
    struct Threads<const N: usize>;
    impl<const N: usize> parallel::Workers for Threads<N> {
        fn count(&self) -> usize {
            N
        }
        fn run<'a>(&self, jobs: Vec<parallel::Job<'a>>) {
            std::thread::scope(|scope| {
                for job in jobs {
                    scope.spawn(job);
                }
            });
        }
    }

    #[test]
    fn split_over_workers_gives_the_reference_bits() {
        let mut rng = TestRng(0x0bad_cafe_f00d_1234);
        // 13x13 and 7x11: parts that start and end inside rows; 1x100: one row; 2x64: more
        // parts than rows would allow.
        for &(cin, cout, size, h, w) in &[
            (64, 24, 3, 13, 13),
            (16, 8, 3, 7, 11),
            (130, 16, 1, 1, 100),
            (3, 9, 3, 2, 64),
            // a 5x5 kernel: parts that start within its reach of a row's end
            (16, 8, 5, 7, 11),
            (70, 8, 5, 5, 9),
        ] {
            let layer = random_layer(&mut rng, cin, cout, size);
            let input = random_input(&mut rng, h, w, cin);
            let want = layer.forward_reference(&input);
            let case = format!("{cin}->{cout} k{size} {h}x{w}");
            let one = parallel::with_workers(&parallel::SplitWays::<1>, || layer.forward(&input));
            assert_eq!(one, want, "1 worker, {case}");
            let two = parallel::with_workers(&parallel::SplitWays::<2>, || layer.forward(&input));
            assert_eq!(two, want, "2 workers, {case}");
            let three = parallel::with_workers(&parallel::SplitWays::<3>, || layer.forward(&input));
            assert_eq!(three, want, "3 workers, {case}");
            let threads = parallel::with_workers(&Threads::<3>, || layer.forward(&input));
            assert_eq!(threads, want, "3 threads, {case}");
            // a band of rows, split, leaves the other rows alone
            if h > 2 {
                let mut band = QTensor::zeros(h, w, cout, 3);
                parallel::with_workers(&Threads::<2>, || {
                    layer.forward_rows(&input, &mut band, 1..h - 1)
                });
                for y in 0..h {
                    for x in 0..w {
                        for c in 0..cout {
                            let expect = if (1..h - 1).contains(&y) {
                                want.get(y, x, c)
                            } else {
                                0
                            };
                            assert_eq!(band.get(y, x, c), expect, "band, {case} at {y},{x},{c}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn threshold_activation_and_invert() {
        let layer = BinaryConv {
            in_channels: 1,
            out_channels: 2,
            size: 1,
            bits: 3,
            weights: vec![0, 1],
            thresholds: vec![0, 1, 2, 3, 4, 5, 6, -6, -5, -4, -3, -2, -1, 0],
            invert: vec![false, true],
            dense: Default::default(),
        };
        layer.validate().unwrap();
        assert_eq!(layer.activate(0, -1), 0);
        assert_eq!(layer.activate(0, 3), 4);
        assert_eq!(layer.activate(0, 100), 7);
        // channel 1: acc = -a; levels count thresholds <= acc, then inverted
        assert_eq!(layer.activate(1, -3), !4 & 7);
        let mut input = QTensor::zeros(1, 1, 1, 3);
        input.set(0, 0, 0, 3);
        let out = layer.forward(&input);
        assert_eq!(out.get(0, 0, 0), 4);
        assert_eq!(out.get(0, 0, 1), !4 & 7);
    }

    #[test]
    fn the_layout_is_built_once_and_not_part_of_the_value() {
        let mut rng = TestRng(11);
        let layer = random_layer(&mut rng, 16, 4, 3);
        let input = random_input(&mut rng, 5, 6, 16);
        assert_eq!(format!("{:?}", layer.dense), "empty");
        let first = layer.forward(&input);
        assert_eq!(format!("{:?}", layer.dense), "built");
        assert_eq!(layer.forward(&input), first);
        assert_eq!(first, layer.forward_reference(&input));
        let copy = layer.clone();
        assert_eq!(format!("{:?}", copy.dense), "empty");
        assert_eq!(copy, layer);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "changed after its first forward pass")]
    fn changing_a_used_layer_is_caught_in_debug_builds() {
        let mut rng = TestRng(12);
        let mut layer = random_layer(&mut rng, 16, 4, 3);
        let input = random_input(&mut rng, 5, 6, 16);
        layer.forward(&input);
        layer.weights[0] ^= 1;
        layer.forward(&input);
    }

    #[test]
    fn validate_rejects_mismatched_tensors() {
        let mut rng = TestRng(7);
        let mut layer = random_layer(&mut rng, 16, 4, 3);
        layer.weights.pop();
        assert!(layer.validate().unwrap_err().contains("weights hold"));
        let mut layer = random_layer(&mut rng, 16, 4, 3);
        layer.weights[0] |= 1 << 20;
        assert!(layer.validate().unwrap_err().contains("beyond"));
    }
}
