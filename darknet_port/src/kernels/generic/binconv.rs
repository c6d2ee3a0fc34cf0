//! The binarized convolution's inner loops: popcounts, thresholds, bit planes.

use crate::kernels::BIN_GROUP;

/// The argument checks every [`popcount_dots`](crate::kernels::PopcountDots) version makes
/// (the SIMD ones then index without bounds checks); returns the channel count.
pub(crate) fn check_popcount(
    windows: &[u64],
    bits: usize,
    span: usize,
    weights: &[u64],
    acc: &[i32],
) -> usize {
    assert!(span > 0 && bits > 0, "an empty window");
    assert!(
        weights.len().is_multiple_of(span * BIN_GROUP),
        "channels in groups of {BIN_GROUP}"
    );
    let channels = weights.len() / span;
    assert!(windows.len().is_multiple_of(bits * span), "whole windows");
    let pixels = windows.len() / (bits * span);
    assert_eq!(
        acc.len(),
        pixels * channels,
        "{pixels} pixels of {channels} channels"
    );
    channels
}

pub fn popcount_dots(windows: &[u64], bits: usize, span: usize, weights: &[u64], acc: &mut [i32]) {
    popcount_dots_body(windows, bits, span, weights, acc);
}

/// The body of [`popcount_dots`], inlined into the x86 version compiled for POPCNT (where
/// `count_ones` is one instruction rather than a bit-twiddling sequence).
#[inline(always)]
pub(crate) fn popcount_dots_body(
    windows: &[u64],
    bits: usize,
    span: usize,
    weights: &[u64],
    acc: &mut [i32],
) {
    let channels = check_popcount(windows, bits, span, weights, acc);
    for (window, acc) in windows
        .chunks_exact(bits * span)
        .zip(acc.chunks_exact_mut(channels))
    {
        for (group, out) in weights
            .chunks_exact(span * BIN_GROUP)
            .zip(acc.chunks_exact_mut(BIN_GROUP))
        {
            out.fill(0);
            for (b, plane) in window.chunks_exact(span).enumerate() {
                let mut ones = [0u32; BIN_GROUP];
                for (a, kernels) in plane.iter().zip(group.chunks_exact(BIN_GROUP)) {
                    for (n, k) in ones.iter_mut().zip(kernels) {
                        *n += (a & k).count_ones();
                    }
                }
                for (o, n) in out.iter_mut().zip(ones) {
                    *o += (n as i32) << b;
                }
            }
        }
    }
}

pub(crate) fn check_sums(windows: &[u64], bits: usize, span: usize, sums: &[i32]) {
    assert_eq!(windows.len(), sums.len() * bits * span, "a window a pixel");
}

pub fn window_sums(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
    window_sums_body(windows, bits, span, sums);
}

/// The body of [`window_sums`], inlined into the x86 version compiled for POPCNT.
#[inline(always)]
pub(crate) fn window_sums_body(windows: &[u64], bits: usize, span: usize, sums: &mut [i32]) {
    check_sums(windows, bits, span, sums);
    for (p, sum) in sums.iter_mut().enumerate() {
        let window = &windows[p * bits * span..(p + 1) * bits * span];
        *sum = (0..bits)
            .map(|b| {
                let plane = &window[b * span..(b + 1) * span];
                (plane.iter().map(|v| v.count_ones()).sum::<u32>() as i32) << b
            })
            .sum();
    }
}

/// Checks an [`activate`](crate::kernels::Activate) call; returns the channel count.
pub(crate) fn check_activate(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    n: usize,
    flip: &[i32],
    levels: &[u8],
) -> usize {
    let channels = flip.len();
    assert!(
        channels.is_multiple_of(BIN_GROUP),
        "channels in groups of {BIN_GROUP}"
    );
    assert_eq!(thresholds.len(), channels * n, "{n} thresholds a channel");
    assert_eq!(
        neg.len(),
        sums.len() * channels,
        "{channels} channels a pixel"
    );
    assert_eq!(levels.len(), neg.len(), "one level a channel");
    channels
}

pub fn activate(
    neg: &[i32],
    sums: &[i32],
    thresholds: &[i32],
    n: usize,
    flip: &[i32],
    levels: &mut [u8],
) {
    let channels = check_activate(neg, sums, thresholds, n, flip, levels);
    if channels == 0 {
        return;
    }
    for ((&sum, neg), levels) in sums
        .iter()
        .zip(neg.chunks_exact(channels))
        .zip(levels.chunks_exact_mut(channels))
    {
        for (o, level) in levels.iter_mut().enumerate() {
            let acc = sum - 2 * neg[o];
            let base = o / BIN_GROUP * n * BIN_GROUP + o % BIN_GROUP;
            let count = (0..n)
                .filter(|t| acc >= thresholds[base + t * BIN_GROUP])
                .count() as i32;
            *level = (count ^ flip[o]) as u8;
        }
    }
}

pub(crate) fn check_pack(levels: &[u8], bits: usize, planes: &[u64]) {
    assert!((1..=8).contains(&bits), "levels of 1 to 8 bits");
    assert_eq!(
        planes.len(),
        bits * levels.len().div_ceil(64),
        "{bits} planes"
    );
}

pub fn pack_planes(levels: &[u8], bits: usize, planes: &mut [u64]) {
    check_pack(levels, bits, planes);
    let words = levels.len().div_ceil(64);
    planes.fill(0);
    for (c, &level) in levels.iter().enumerate() {
        for b in 0..bits {
            planes[b * words + c / 64] |= u64::from((level >> b) & 1) << (c % 64);
        }
    }
}
