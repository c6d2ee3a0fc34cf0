//! Every table this CPU runs against the generic one, kernel by kernel, on random and edge
//! inputs (odd widths, tails after the last full vector, extreme values); and a check that the
//! comparison itself catches a one-bit difference in any kernel's output.

use super::*;
use crate::layers::binconv::tests::TestRng;

/// What one kernel was called with, and what it produced, for the report of a mismatch.
fn differ<T: PartialEq + std::fmt::Debug>(
    kernel: &str,
    case: String,
    got: &T,
    want: &T,
) -> Option<String> {
    (got != want).then(|| format!("{kernel} {case}: got {got:?}, want {want:?}"))
}

/// f32 outputs compared bit for bit (so -0.0 against 0.0, or one ulp, is a difference).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn words(rng: &mut TestRng, n: usize, kind: usize) -> Vec<u64> {
    (0..n)
        .map(|_| match kind {
            0 => rng.next(),
            1 => !0,
            2 => 0,
            // sparse bits, as real activations mostly are
            _ => rng.next() & rng.next() & rng.next(),
        })
        .collect()
}

fn check_popcount(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &bits in &[1usize, 2, 3, 5, 6, 8] {
        for &span in &[1usize, 2, 3, 5, 9, 17, 31, 32, 33, 72, 300] {
            for &channels in &[8usize, 16, 24, 64] {
                let kind = rng.next() as usize % 4;
                let pixels = [1usize, 2, 3, 13][rng.next() as usize % 4];
                let windows = words(rng, pixels * bits * span, kind);
                let weight_kind = rng.next() as usize % 4;
                let weights = words(rng, channels * span, weight_kind);
                let (mut got, mut want) = (vec![7; pixels * channels], vec![-7; pixels * channels]);
                (t.popcount_dots)(&windows, bits, span, &weights, &mut got);
                (GENERIC.popcount_dots)(&windows, bits, span, &weights, &mut want);
                let case = format!(
                    "bits {bits} span {span} channels {channels} pixels {pixels} kind {kind}"
                );
                errors.extend(differ("popcount_dots", case, &got, &want));
            }
        }
    }
    // kernels whose last word holds 16 bits at most (a 3x3 kernel of 16 channels: 2.25
    // words), which the AVX2 kernel counts apart, four channels a lane
    for &bits in &[1usize, 2, 3, 4, 5, 8] {
        for &span in &[1usize, 2, 3, 4, 9] {
            for &channels in &[8usize, 16, 24, 64] {
                for &tail in &[16u32, 15, 1] {
                    let kind = rng.next() as usize % 4;
                    let pixels = [1usize, 2, 3, 13][rng.next() as usize % 4];
                    let windows = words(rng, pixels * bits * span, kind);
                    let weight_kind = rng.next() as usize % 4;
                    let mut weights = words(rng, channels * span, weight_kind);
                    let last = (span - 1) * BIN_GROUP;
                    for group in weights.chunks_exact_mut(span * BIN_GROUP) {
                        for k in &mut group[last..] {
                            *k &= (1u64 << tail) - 1;
                        }
                    }
                    let (mut got, mut want) =
                        (vec![7; pixels * channels], vec![-7; pixels * channels]);
                    (t.popcount_dots)(&windows, bits, span, &weights, &mut got);
                    (GENERIC.popcount_dots)(&windows, bits, span, &weights, &mut want);
                    let case = format!(
                        "{tail}-bit last words, bits {bits} span {span} channels {channels} \
                         pixels {pixels} kind {kind}"
                    );
                    errors.extend(differ("popcount_dots", case, &got, &want));
                }
            }
        }
    }
    // every bit set: the largest counts the byte counters see
    for bits in 1..=8usize {
        let span = 64;
        let windows = vec![!0u64; 2 * bits * span];
        let weights = vec![!0u64; 8 * span];
        let (mut got, mut want) = (vec![0; 16], vec![0; 16]);
        (t.popcount_dots)(&windows, bits, span, &weights, &mut got);
        (GENERIC.popcount_dots)(&windows, bits, span, &weights, &mut want);
        errors.extend(differ(
            "popcount_dots",
            format!("all ones, bits {bits}"),
            &got,
            &want,
        ));
        // and with 16-bit last words, 16 channels
        let mut weights = vec![!0u64; 16 * span];
        for group in weights.chunks_exact_mut(8 * span) {
            group[8 * (span - 1)..].fill(0xffff);
        }
        let (mut got, mut want) = (vec![0; 32], vec![0; 32]);
        (t.popcount_dots)(&windows, bits, span, &weights, &mut got);
        (GENERIC.popcount_dots)(&windows, bits, span, &weights, &mut want);
        errors.extend(differ(
            "popcount_dots",
            format!("all ones, 16-bit last words, bits {bits}"),
            &got,
            &want,
        ));
    }
}

fn check_sums(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &bits in &[1usize, 3, 8] {
        for &span in &[1usize, 2, 3, 9, 18, 72, 4097] {
            let kind = rng.next() as usize % 4;
            let pixels = [1usize, 2, 13][rng.next() as usize % 3];
            let windows = words(rng, pixels * bits * span, kind);
            let (mut got, mut want) = (vec![7; pixels], vec![-7; pixels]);
            (t.window_sums)(&windows, bits, span, &mut got);
            (GENERIC.window_sums)(&windows, bits, span, &mut want);
            let case = format!("bits {bits} span {span} pixels {pixels} kind {kind}");
            errors.extend(differ("window_sums", case, &got, &want));
        }
    }
}

fn check_activate(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &n in &[1usize, 3, 7, 15, 31, 255] {
        for &channels in &[8usize, 16, 512] {
            let sums = [0i32, 1, -1, 37, 32767, -32768, 100_000];
            let neg: Vec<i32> = (0..channels * sums.len())
                .map(|_| (rng.next() % 70_000) as i32 - 35_000)
                .collect();
            let thresholds: Vec<i32> = (0..channels * n)
                .map(|i| match i % 5 {
                    0 => i32::from(i16::MIN),
                    1 => i32::from(i16::MAX),
                    _ => (rng.next() % 65_536) as i32 - 32_768,
                })
                .collect();
            let mask = (n as u32 + 1).next_power_of_two() as i32 - 1;
            let flip: Vec<i32> = (0..channels)
                .map(|_| match rng.next() % 6 {
                    0 | 1 => mask,
                    // bits above the level's byte: the kernels keep the low byte, as `as u8`
                    2 => mask | 0x300,
                    _ => 0,
                })
                .collect();
            let len = channels * sums.len();
            let (mut got, mut want) = (vec![1u8; len], vec![2u8; len]);
            (t.activate)(&neg, &sums, &thresholds, n, &flip, &mut got);
            (GENERIC.activate)(&neg, &sums, &thresholds, n, &flip, &mut want);
            let case = format!("n {n} channels {channels}");
            errors.extend(differ("activate", case, &got, &want));
        }
    }
}

fn check_pack(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for bits in 1..=8usize {
        for &channels in &[1usize, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 512] {
            let top = (1u64 << bits) - 1;
            for kind in 0..3 {
                let levels: Vec<u8> = (0..channels)
                    .map(|_| match kind {
                        0 => (rng.next() % (top + 1)) as u8,
                        1 => top as u8,
                        _ => 0,
                    })
                    .collect();
                let len = bits * channels.div_ceil(64);
                let (mut got, mut want) = (vec![!0u64; len], vec![0x5555u64; len]);
                (t.pack_planes)(&levels, bits, &mut got);
                (GENERIC.pack_planes)(&levels, bits, &mut want);
                let case = format!("bits {bits} channels {channels} kind {kind}");
                errors.extend(differ("pack_planes", case, &got, &want));
            }
        }
    }
}

/// INT16 weights `[o][k]` and rows of `span` inputs of one kind: random, or at the extremes of
/// the symmetric range, where an overflow of the AVX2 kernel's i32 pair sums would show.
fn gemm_i16_case(
    rng: &mut TestRng,
    kind: usize,
    span: usize,
    channels: usize,
    pixels: usize,
) -> (Vec<i16>, Vec<i16>) {
    let top = i16::MAX;
    let mut random = || ((rng.next() % (2 * top as u64 + 1)) as i64 - i64::from(top)) as i16;
    match kind {
        0 => (
            (0..pixels * span).map(|_| random()).collect(),
            (0..channels * span).map(|_| random()).collect(),
        ),
        // the largest sums of either sign
        1 => (vec![top; pixels * span], vec![top; channels * span]),
        2 => (vec![-top; pixels * span], vec![top; channels * span]),
        // signs alternating with different periods in rows and weights
        _ => (
            (0..pixels * span)
                .map(|i| if i % 3 == 0 { -top } else { top })
                .collect(),
            (0..channels * span)
                .map(|i| if i % 2 == 0 { top } else { -top })
                .collect(),
        ),
    }
}

fn check_gemm_i16(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    let mut run = |rng: &mut TestRng, kind: usize, span: usize, channels: usize, pixels: usize| {
        let (rows, weights) = gemm_i16_case(rng, kind, span, channels, pixels);
        let (packed, padded) = pack_gemm_i16(&weights, channels, span);
        // the padding inputs hold anything: their weights are zero
        let mut padded_rows = Vec::with_capacity(pixels * padded);
        for row in rows.chunks_exact(span) {
            padded_rows.extend_from_slice(row);
            padded_rows.extend((span..padded).map(|_| rng.next() as i16));
        }
        let len = pixels * channels.next_multiple_of(GEMM_GROUP);
        let (mut got, mut want) = (vec![7i64; len], vec![-7i64; len]);
        (t.gemm_i16)(&padded_rows, padded, &packed, &mut got);
        (GENERIC.gemm_i16)(&padded_rows, padded, &packed, &mut want);
        let case = format!("span {span} channels {channels} pixels {pixels} kind {kind}");
        errors.extend(differ("gemm_i16", case.clone(), &got, &want));
        // the same product in i32: the extremes wrap, alike on every table
        if let Some(narrow) = t.gemm_i16_i32 {
            let (mut got, mut want) = (vec![7i32; len], vec![-7i32; len]);
            narrow(&padded_rows, padded, &packed, &mut got);
            generic::gemm_i16_i32(&padded_rows, padded, &packed, &mut want);
            errors.extend(differ("gemm_i16_i32", case, &got, &want));
        }
    };
    // every pixel count of the register blocks' tails, odd spans, channel counts that leave
    // a group part padded
    for &span in &[1usize, 2, 5, 27, 28, 144] {
        for &channels in &[1usize, 13, 16, 17, 32, 45, 64] {
            for pixels in 1..=9 {
                let kind = rng.next() as usize % 4;
                run(rng, kind, span, channels, pixels);
            }
        }
    }
    for kind in 0..4 {
        for &(span, channels, pixels) in &[
            (4608usize, 16usize, 1usize),
            (4607, 48, 7),
            (27, 16, 64),
            (1152, 256, 3),
            (8, 16, 0),
        ] {
            run(rng, kind, span, channels, pixels);
        }
    }
}

/// INT8 weights `[o][k]` (within `+-top`) and rows of `span` inputs (stored `q + 128`) of one
/// kind: random, or at the extremes where an overflow or a saturation would show (the AVX2
/// kernel adds four products of the largest byte and weight in i16).
fn gemm_case(
    rng: &mut TestRng,
    (kind, top): (usize, i32),
    span: usize,
    channels: usize,
    pixels: usize,
) -> (Vec<u8>, Vec<i8>) {
    let top8 = top as i8;
    let (rows, weights): (Vec<u8>, Vec<i8>) = match kind {
        0 => (
            (0..pixels * span).map(|_| rng.next() as u8).collect(),
            (0..channels * span)
                .map(|_| random_weight(rng, top))
                .collect(),
        ),
        // the largest sums of either sign
        1 => (vec![255; pixels * span], vec![top8; channels * span]),
        2 => (vec![255; pixels * span], vec![-top8; channels * span]),
        // q = -128: the most negative input
        3 => (
            vec![0; pixels * span],
            (0..channels * span)
                .map(|i| if i % 2 == 0 { top8 } else { -top8 })
                .collect(),
        ),
        // rows alternating 0 and 255 (or 1), weights alternating with another period
        _ => (
            (0..pixels * span)
                .map(|i| [0u8, 255, 1, 255][i % 4])
                .collect(),
            (0..channels * span)
                .map(|i| if i % 3 == 0 { -top8 } else { top8 })
                .collect(),
        ),
    };
    (rows, weights)
}

/// A weight in `[-top, top]`.
fn random_weight(rng: &mut TestRng, top: i32) -> i8 {
    let levels = 2 * top as u64 + 1;
    ((rng.next() % levels) as i32 - top) as i8
}

/// A table's INT8 product against the generic one, on weights within the table's range.
fn check_gemm(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    let top = t.gemm_i8_max_weight;
    let mut run = |rng: &mut TestRng, kind: usize, span: usize, channels: usize, pixels: usize| {
        let (rows, weights) = gemm_case(rng, (kind, top), span, channels, pixels);
        let (packed, wsum, padded) = pack_gemm_i8(&weights, channels, span);
        // the padding inputs hold anything: their weights are zero
        let mut padded_rows = Vec::with_capacity(pixels * padded);
        for row in rows.chunks_exact(span) {
            padded_rows.extend_from_slice(row);
            padded_rows.extend((span..padded).map(|_| rng.next() as u8));
        }
        let len = pixels * wsum.len();
        let (mut got, mut want) = (vec![7i32; len], vec![-7i32; len]);
        (t.gemm_i8)(&padded_rows, padded, &packed, &wsum, &mut got);
        (GENERIC.gemm_i8)(&padded_rows, padded, &packed, &wsum, &mut want);
        let case = format!("span {span} channels {channels} pixels {pixels} kind {kind} top {top}");
        errors.extend(differ("gemm_i8", case, &got, &want));
    };
    // every pixel count of the register blocks' tails, every channel count of their groups
    for &span in &[4usize, 8, 27, 28, 36] {
        for &channels in &[16usize, 32, 48, 64, 80, 256] {
            for pixels in 1..=13 {
                let kind = rng.next() as usize % 5;
                run(rng, kind, span, channels, pixels);
            }
        }
    }
    for kind in 0..5 {
        for &(span, channels, pixels) in &[
            (4608usize, 16usize, 1usize),
            (4608, 48, 7),
            (4612, 80, 13),
            (36, 256, 676),
            (28, 32, 676),
            (256, 256, 169),
            (5, 13, 3),
            (8, 16, 0),
        ] {
            run(rng, kind, span, channels, pixels);
        }
    }
    // the longest span at the extremes: the sums come within 2% of i32's range
    for kind in 1..=2 {
        run(rng, kind, GEMM_MAX_SPAN, 16, 2);
    }
}

/// A table's fused float product against the generic one, bit for bit (tables without one
/// have nothing to compare).
fn check_sgemm(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    let Some(product) = t.sgemm_fma else {
        return;
    };
    let mut run = |rng: &mut TestRng, kind: usize, span: usize, channels: usize, pixels: usize| {
        let weights = floats(rng, channels * span, kind);
        let rows = floats(rng, pixels * span, (kind + 1) % 3);
        let packed = PackedF32::new(&weights, channels, span);
        let all = packed.groups();
        // every group, then a part of them starting inside
        for groups in [0..all, all.min(1)..all] {
            let len = pixels * groups.len() * SGEMM_GROUP;
            let (mut got, mut want) = (vec![7.0f32; len], vec![-7.0f32; len]);
            product(&rows, &packed, groups.clone(), &mut got);
            generic::sgemm_fma(&rows, &packed, groups.clone(), &mut want);
            let case = format!(
                "span {span} channels {channels} pixels {pixels} groups {groups:?} kind {kind}"
            );
            errors.extend(differ("sgemm_fma", case, &bits(&got), &bits(&want)));
        }
    };
    // the register blocks' pixel tails, single groups and pairs, spans across slices
    for &span in &[1usize, 27, 144, 256, 257, 600] {
        for &channels in &[16usize, 32, 48, 13, 255] {
            for pixels in [1, 5, 12, 13, 25] {
                let kind = rng.next() as usize % 3;
                run(rng, kind, span, channels, pixels);
            }
        }
    }
    for kind in 0..3 {
        run(rng, kind, 4608, 64, 14);
        run(rng, kind, 8, 16, 0);
    }
}

fn check_winograd(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    let lanes = |values: Vec<f32>| -> Vec<Lanes> {
        values
            .chunks_exact(SGEMM_GROUP)
            .map(|c| Lanes(c.try_into().expect("16 values")))
            .collect()
    };
    for tiles in [0usize, 1, 3] {
        for kind in 0..3 {
            let inputs = lanes(floats(rng, tiles * 36 * SGEMM_GROUP, kind));
            let (mut got, mut want) = (
                vec![Lanes([1.0; 16]); tiles * 36],
                vec![Lanes([2.0; 16]); tiles * 36],
            );
            (t.winograd_input)(&inputs, &mut got);
            (GENERIC.winograd_input)(&inputs, &mut want);
            let flat = |v: &[Lanes]| v.iter().flat_map(|l| bits(&l.0)).collect::<Vec<_>>();
            let case = format!("{tiles} tiles kind {kind}");
            errors.extend(differ(
                "winograd_input",
                case.clone(),
                &flat(&got),
                &flat(&want),
            ));
            let (mut got, mut want) = (
                vec![Lanes([1.0; 16]); tiles * 16],
                vec![Lanes([2.0; 16]); tiles * 16],
            );
            (t.winograd_output)(&inputs, &mut got);
            (GENERIC.winograd_output)(&inputs, &mut want);
            errors.extend(differ("winograd_output", case, &flat(&got), &flat(&want)));
        }
    }
}

fn floats(rng: &mut TestRng, n: usize, kind: usize) -> Vec<f32> {
    (0..n)
        .map(|i| match kind {
            0 => (rng.next() % 2001) as f32 / 1000.0 - 1.0,
            // magnitudes from subnormal to near overflow, both signs
            1 => {
                let m = [1e-40f32, 1e-20, 0.5, 3.0, 1e20, 1e36][i % 6];
                if rng.next().is_multiple_of(2) {
                    m
                } else {
                    -m
                }
            }
            _ => f32::from_bits(0x3000_0000 + (rng.next() % 0x1800_0000) as u32) * 1.5,
        })
        .collect()
}

fn check_conv(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    let shapes = [
        (3usize, 16usize, 3usize),
        (1, 1, 1),
        (5, 3, 1),
        (2, 9, 3),
        (3, 17, 5),
        (4, 8, 1),
    ];
    let sizes = [
        (3usize, 5usize),
        (7, 9),
        (5, 17),
        (6, 33),
        (10, 40),
        (5, 64),
        (9, 418),
    ];
    for &(channels, out_channels, k) in &shapes {
        for &(in_h, in_w) in &sizes {
            for stride in 1..=3 {
                if in_h < k || in_w < k || (in_w > 100 && k != 3) {
                    continue;
                }
                let kind = rng.next() as usize % 3;
                let input = floats(rng, channels * in_h * in_w, kind);
                let weights = floats(rng, out_channels * channels * k * k, kind);
                let bias = floats(rng, out_channels, kind);
                let n = out_channels * ((in_h - k) / stride + 1) * ((in_w - k) / stride + 1);
                let (mut got, mut want) = (vec![1f32; n], vec![2f32; n]);
                (t.conv_direct)(&input, in_h, in_w, k, stride, &weights, &bias, &mut got);
                (GENERIC.conv_direct)(&input, in_h, in_w, k, stride, &weights, &bias, &mut want);
                let case =
                    format!("{channels}->{out_channels} k{k} s{stride} {in_h}x{in_w} kind {kind}");
                errors.extend(differ("conv_direct", case, &bits(&got), &bits(&want)));
            }
        }
    }
}

fn check_quantize(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &bits in &[1usize, 3, 8] {
        let top = ((1u32 << bits) - 1) as f32;
        for &max in &[4.0f32, 1.0, 0.3] {
            for &channels in &[1usize, 3, 16, 31, 32, 33, 64, 70] {
                for &w in &[1usize, 7, 8, 9, 15, 16, 17, 33] {
                    let plane = w + 3;
                    let src: Vec<f32> = (0..channels * plane)
                        .map(|i| match rng.next() % 8 {
                            // exactly halfway between two levels: ties go to even
                            0 => ((rng.next() % top as u64) as f32 + 0.5) / top * max,
                            1 => [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0][i % 4],
                            2 => [max, 0.0, 1e-40, -1e-40][i % 4],
                            _ => (rng.next() % 6000) as f32 / 1000.0 - 1.0,
                        })
                        .collect();
                    let len = w * bits * channels.div_ceil(64);
                    let (mut got, mut want) = (vec![!0u64; len], vec![3u64; len]);
                    (t.quantize_row)(&src, plane, channels, max, bits, &mut got);
                    (GENERIC.quantize_row)(&src, plane, channels, max, bits, &mut want);
                    let case = format!("bits {bits} max {max} channels {channels} width {w}");
                    errors.extend(differ("quantize_row", case, &got, &want));
                }
            }
        }
    }
}

fn check_resize(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &(src_w, rows, w) in &[
        (2usize, 1usize, 1usize),
        (5, 3, 7),
        (768, 2, 415),
        (9, 4, 17),
        (33, 5, 8),
        (3, 2, 40),
    ] {
        let src = floats(rng, src_w * rows, 0);
        // Darknet's weights for this scale, and random ones
        let scale = (src_w - 1) as f32 / w as f32;
        for random in [false, true] {
            let mut ix = Vec::new();
            let (mut wa, mut wb) = (Vec::new(), Vec::new());
            for c in 0..w {
                let (i, dx) = if random {
                    (
                        (rng.next() % (src_w as u64 - 1)) as usize,
                        (rng.next() % 1000) as f32 / 999.0,
                    )
                } else {
                    let sx = c as f32 * scale;
                    (sx as usize, sx - (sx as usize) as f32)
                };
                ix.push(i as u32);
                wa.push(1.0 - dx);
                wb.push(dx);
            }
            // rows one longer than the output: the kernel leaves the extra column alone
            let dst_w = w + 1;
            let (mut got, mut want) = (vec![1f32; dst_w * rows], vec![1f32; dst_w * rows]);
            (t.resize_h)(&src, src_w, rows, &ix, &wa, &wb, &mut got, dst_w);
            (GENERIC.resize_h)(&src, src_w, rows, &ix, &wa, &wb, &mut want, dst_w);
            let case = format!("{src_w} -> {w}, {rows} rows, random {random}");
            errors.extend(differ("resize_h", case.clone(), &bits(&got), &bits(&want)));
            (t.resize_h_fused)(&src, src_w, rows, &ix, &wa, &wb, &mut got, dst_w);
            (GENERIC.resize_h_fused)(&src, src_w, rows, &ix, &wa, &wb, &mut want, dst_w);
            errors.extend(differ("resize_h_fused", case, &bits(&got), &bits(&want)));
        }
    }
    for len in [0usize, 1, 3, 4, 7, 8, 9, 16, 31, 415] {
        let (top, bottom) = (floats(rng, len, 0), floats(rng, len, 1));
        let wb = (rng.next() % 1000) as f32 / 999.0;
        let (mut got, mut want) = (vec![1f32; len], vec![2f32; len]);
        (t.resize_v)(&top, &bottom, 1.0 - wb, wb, &mut got);
        (GENERIC.resize_v)(&top, &bottom, 1.0 - wb, wb, &mut want);
        errors.extend(differ(
            "resize_v",
            format!("width {len}"),
            &bits(&got),
            &bits(&want),
        ));
        (t.resize_v_fused)(&top, &bottom, 1.0 - wb, wb, &mut got);
        (GENERIC.resize_v_fused)(&top, &bottom, 1.0 - wb, wb, &mut want);
        errors.extend(differ(
            "resize_v_fused",
            format!("width {len}"),
            &bits(&got),
            &bits(&want),
        ));
    }
}

fn check_colour(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &w in &[1usize, 2, 3, 15, 16, 17, 31, 32, 33, 47, 640] {
        for kind in 0..3 {
            let mut byte = |i: usize| -> u8 {
                match kind {
                    0 => rng.next() as u8,
                    // every corner of the Y, U, V cube
                    1 => [0u8, 255][(i / 3) % 2],
                    _ => [0u8, 16, 235, 255, 128, 1][i % 6],
                }
            };
            let yuyv: Vec<u8> = (0..w.div_ceil(2) * 4 + 5).map(&mut byte).collect();
            let luma: Vec<u8> = (0..w + 1).map(&mut byte).collect();
            let chroma: Vec<u8> = (0..w.div_ceil(2) * 2).map(&mut byte).collect();
            let (mut got, mut want) = (vec![1u8; w * 3], vec![2u8; w * 3]);
            (t.yuyv_to_rgb)(&yuyv, &mut got);
            (GENERIC.yuyv_to_rgb)(&yuyv, &mut want);
            errors.extend(differ(
                "yuyv_to_rgb",
                format!("width {w} kind {kind}"),
                &got,
                &want,
            ));
            (t.nv12_to_rgb)(&luma[..w], &chroma, &mut got);
            (GENERIC.nv12_to_rgb)(&luma[..w], &chroma, &mut want);
            errors.extend(differ(
                "nv12_to_rgb",
                format!("width {w} kind {kind}"),
                &got,
                &want,
            ));
        }
    }
}

/// A block of dequantized coefficients of one kind: the extremes of 16 bits (whose products
/// wrap in 32 bits, as in the reference), a dequantized range, DC only, all zero, sparse ones
/// (mostly zero columns, which the generic IDCT takes a shortcut for).
fn coefficient_block(rng: &mut TestRng, kind: usize) -> [i16; 64] {
    let mut block = [0i16; 64];
    let extremes = [32767i16, -32767, -32768, 1024, -1024, 1, -1, 0];
    for (i, c) in block.iter_mut().enumerate() {
        let r = rng.next();
        *c = match kind {
            0 => r as i16,
            1 => (r % 2049) as i16 - 1024,
            2 => extremes[r as usize % extremes.len()],
            3 if i == 0 => extremes[r as usize % 5],
            3 => 0,
            4 => 0,
            // a few terms, often in the first row only: columns with nothing but a DC term
            _ if r.is_multiple_of(8) || (i < 8 && r.is_multiple_of(3)) => {
                (r >> 8) as i16 >> (r % 12)
            }
            _ => 0,
        };
    }
    block
}

fn check_idct(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for kind in 0..6 {
        for n in 0..300 {
            let block = coefficient_block(rng, kind);
            // stride 8: every byte written (the buffers start different); a wider stride: the
            // bytes between rows left alone (the buffers start equal)
            let (mut got, mut want) = (vec![1u8; 64], vec![2u8; 64]);
            (t.idct_block)(&mut got, 8, &block);
            (GENERIC.idct_block)(&mut want, 8, &block);
            errors.extend(differ(
                "idct_block",
                format!("kind {kind} block {n}: {block:?}"),
                &got,
                &want,
            ));
            let (mut got, mut want) = (vec![0x5au8; 7 * 13 + 8 + 3], vec![0x5au8; 7 * 13 + 8 + 3]);
            (t.idct_block)(&mut got, 13, &block);
            (GENERIC.idct_block)(&mut want, 13, &block);
            errors.extend(differ(
                "idct_block",
                format!("stride 13, kind {kind} block {n}: {block:?}"),
                &got,
                &want,
            ));
        }
    }
}

fn check_ycbcr(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &w in &[1usize, 2, 3, 15, 16, 17, 31, 32, 33, 47, 768] {
        for kind in 0..3 {
            let mut byte = |i: usize| -> u8 {
                match kind {
                    0 => rng.next() as u8,
                    // every corner of the Y, Cb, Cr cube, and the values around the middle
                    1 => [0u8, 255][rng.next() as usize % 2],
                    _ => [0u8, 1, 127, 128, 129, 254, 255][(i + rng.next() as usize) % 7],
                }
            };
            let planes: Vec<Vec<u8>> = (0..3)
                .map(|_| (0..w + 3).map(&mut byte).collect())
                .collect();
            let (mut got, mut want) = (vec![1u8; w * 3], vec![2u8; w * 3]);
            (t.ycbcr_to_rgb)(&mut got, &planes[0][..w], &planes[1], &planes[2]);
            (GENERIC.ycbcr_to_rgb)(&mut want, &planes[0][..w], &planes[1], &planes[2]);
            errors.extend(differ(
                "ycbcr_to_rgb",
                format!("width {w} kind {kind}"),
                &got,
                &want,
            ));
        }
    }
}

fn check_upsample(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    for &w in &[1usize, 2, 3, 15, 16, 17, 18, 31, 32, 33, 34, 48, 49, 384] {
        for kind in 0..3 {
            let mut byte = || -> u8 {
                match kind {
                    0 => rng.next() as u8,
                    // the largest sums, and the steepest steps between neighbours
                    1 => [0u8, 255][rng.next() as usize % 2],
                    _ => 255,
                }
            };
            let near: Vec<u8> = (0..w).map(|_| byte()).collect();
            let far: Vec<u8> = (0..w + 7).map(|_| byte()).collect();
            // every output written (the buffers start different) ...
            let (mut got, mut want) = (vec![1u8; 2 * w], vec![2u8; 2 * w]);
            (t.upsample_h2v2)(&mut got, &near, &far);
            (GENERIC.upsample_h2v2)(&mut want, &near, &far);
            errors.extend(differ(
                "upsample_h2v2",
                format!("width {w} kind {kind}"),
                &got,
                &want,
            ));
            // ... and nothing past them (they start equal)
            let (mut got, mut want) = (vec![7u8; 2 * w + 33], vec![7u8; 2 * w + 33]);
            (t.upsample_h2v2)(&mut got, &near, &far);
            (GENERIC.upsample_h2v2)(&mut want, &near, &far);
            errors.extend(differ(
                "upsample_h2v2",
                format!("longer output, width {w} kind {kind}"),
                &got,
                &want,
            ));
            let (mut got, mut want) = (vec![1u8; 2 * w], vec![2u8; 2 * w]);
            (t.upsample_h2v1)(&mut got, &near);
            (GENERIC.upsample_h2v1)(&mut want, &near);
            errors.extend(differ(
                "upsample_h2v1",
                format!("width {w} kind {kind}"),
                &got,
                &want,
            ));
            let (mut got, mut want) = (vec![7u8; 2 * w + 33], vec![7u8; 2 * w + 33]);
            (t.upsample_h2v1)(&mut got, &near);
            (GENERIC.upsample_h2v1)(&mut want, &near);
            errors.extend(differ(
                "upsample_h2v1",
                format!("longer output, width {w} kind {kind}"),
                &got,
                &want,
            ));
        }
    }
}

fn check_rescale_sums(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    // (pixels, channels, width, at): whole 8x8 blocks, edges of pixels and of channels,
    // planes fewer than the sums' width
    for &(pixels, channels, width, at) in &[
        (8usize, 8usize, 8usize, 0usize),
        (64, 32, 32, 5),
        (13, 20, 32, 0),
        (7, 3, 16, 2),
        (1, 1, 1, 0),
        (33, 255, 256, 64),
        (9, 17, 17, 1),
    ] {
        let sums: Vec<i32> = (0..pixels * width)
            .map(|i| match i % 5 {
                // large sums: the float rounds them
                0 => (rng.next() as i32) >> 2,
                1 => (rng.next() % 2000) as i32 - 1000,
                _ => (rng.next() as i32) >> 8,
            })
            .collect();
        let bias: Vec<i32> = (0..width).map(|_| (rng.next() as i32) >> 9).collect();
        let rescale: Vec<f32> = (0..width)
            .map(|o| (-((o % 17) as f32) - 3.0).exp2())
            .collect();
        let len = at + pixels + 3;
        let run = |kernel: crate::kernels::RescaleSums| {
            let mut planes = vec![vec![f32::NAN; len]; channels];
            let mut slices: Vec<&mut [f32]> = planes.iter_mut().map(|p| p.as_mut_slice()).collect();
            kernel(&sums, width, &bias, &rescale, &mut slices, at);
            planes.concat()
        };
        let case = format!("{pixels} pixels, {channels} of {width} channels, from {at}");
        errors.extend(differ(
            "rescale_sums",
            case,
            &bits(&run(t.rescale_sums)),
            &bits(&run(GENERIC.rescale_sums)),
        ));
    }
}

fn check_quantize_hwc(t: &Kernels, rng: &mut TestRng, errors: &mut Vec<String>) {
    // (channels, plane, pixels): whole 8x8 blocks, blocks past 64 pixels, edges of both
    for (channels, plane, pixels) in [
        (8usize, 8usize, 0..8usize),
        (16, 200, 3..150),
        (3, 50, 0..50),
        (13, 77, 10..77),
        (64, 130, 64..129),
        (1, 9, 0..9),
        (24, 16, 5..5),
    ] {
        let src: Vec<f32> = (0..channels * plane)
            .map(|i| match rng.next() % 8 {
                0 => [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0][i % 4],
                // halfway between two levels at scale 4: ties go to even
                1 => ((rng.next() % 200) as f32 - 100.0 + 0.5) / 4.0,
                _ => (rng.next() % 100_000) as f32 / 1000.0 - 30.0,
            })
            .collect();
        let case = format!("{channels} channels, pixels {pixels:?} of {plane}");
        for (low, high, offset) in [(-20.0, 235.0, 20), (0.0, 255.0, 0)] {
            let levels = Levels {
                scale: 4.0,
                low,
                high,
                offset,
            };
            let n = pixels.len() * channels;
            let (mut got, mut want) = (vec![7u8; n], vec![9u8; n]);
            (t.quantize_hwc_u8)(&src, plane, pixels.clone(), &levels, &mut got);
            (GENERIC.quantize_hwc_u8)(&src, plane, pixels.clone(), &levels, &mut want);
            errors.extend(differ("quantize_hwc_u8", case.clone(), &got, &want));
            let levels = Levels {
                offset: offset - 128,
                ..levels
            };
            let (mut got, mut want) = (vec![7i16; n], vec![9i16; n]);
            (t.quantize_hwc_i16)(&src, plane, pixels.clone(), &levels, &mut got);
            (GENERIC.quantize_hwc_i16)(&src, plane, pixels.clone(), &levels, &mut want);
            errors.extend(differ("quantize_hwc_i16", case.clone(), &got, &want));
        }
    }
}

/// Every mismatch between `t` and the generic table, one line each.
fn compare_with_generic(t: &Kernels) -> Vec<String> {
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    let mut errors = Vec::new();
    check_popcount(t, &mut rng, &mut errors);
    check_sums(t, &mut rng, &mut errors);
    check_activate(t, &mut rng, &mut errors);
    check_pack(t, &mut rng, &mut errors);
    check_gemm(t, &mut rng, &mut errors);
    check_gemm_i16(t, &mut rng, &mut errors);
    check_sgemm(t, &mut rng, &mut errors);
    check_winograd(t, &mut rng, &mut errors);
    check_conv(t, &mut rng, &mut errors);
    check_quantize(t, &mut rng, &mut errors);
    check_resize(t, &mut rng, &mut errors);
    check_colour(t, &mut rng, &mut errors);
    check_idct(t, &mut rng, &mut errors);
    check_ycbcr(t, &mut rng, &mut errors);
    check_upsample(t, &mut rng, &mut errors);
    check_rescale_sums(t, &mut rng, &mut errors);
    check_quantize_hwc(t, &mut rng, &mut errors);
    errors
}

#[test]
fn every_table_matches_the_generic_one() {
    let tables = supported();
    eprintln!(
        "tables: {:?}",
        tables.iter().map(|t| t.name).collect::<Vec<_>>()
    );
    #[cfg(target_arch = "aarch64")]
    assert!(
        tables.iter().any(|t| t.name.contains("neon")),
        "NEON is part of aarch64"
    );
    for t in tables {
        let errors = compare_with_generic(t);
        assert!(
            errors.is_empty(),
            "{}: {} mismatches, first: {}",
            t.name,
            errors.len(),
            errors[..errors.len().min(5)].join("\n")
        );
    }
}

// Tables whose one kernel gets its last output wrong by the smallest step: one bit of an
// integer, one ulp of a float, one level, one byte. Tails are where SIMD kernels go wrong.
fn last_bit<T: Copy>(v: &mut [T], flip: impl Fn(T) -> T) {
    if let Some(x) = v.last_mut() {
        *x = flip(*x);
    }
}
fn ulp(x: f32) -> f32 {
    f32::from_bits(x.to_bits() ^ 1)
}
fn bad_popcount(w: &[u64], b: usize, s: usize, k: &[u64], acc: &mut [i32]) {
    (GENERIC.popcount_dots)(w, b, s, k, acc);
    last_bit(acc, |x| x ^ 1);
}
fn bad_sums(w: &[u64], b: usize, s: usize, sums: &mut [i32]) {
    (GENERIC.window_sums)(w, b, s, sums);
    last_bit(sums, |x| x ^ 1);
}
fn bad_activate(n: &[i32], s: &[i32], t: &[i32], c: usize, f: &[i32], l: &mut [u8]) {
    (GENERIC.activate)(n, s, t, c, f, l);
    last_bit(l, |x| x ^ 1);
}
fn bad_pack(l: &[u8], b: usize, p: &mut [u64]) {
    (GENERIC.pack_planes)(l, b, p);
    last_bit(p, |x| x ^ 1 << 63);
}
fn bad_gemm_i8(r: &[u8], s: usize, w: &[i8], ws: &[i32], acc: &mut [i32]) {
    (GENERIC.gemm_i8)(r, s, w, ws, acc);
    last_bit(acc, |x| x ^ 1);
}
fn bad_sgemm(r: &[f32], k: &PackedF32, g: std::ops::Range<usize>, acc: &mut [f32]) {
    generic::sgemm_fma(r, k, g, acc);
    last_bit(acc, |x| f32::from_bits(x.to_bits() ^ 1));
}
fn bad_winograd_input(d: &[Lanes], v: &mut [Lanes]) {
    generic::winograd_input(d, v);
    if let Some(l) = v.last_mut() {
        last_bit(&mut l.0, |x| f32::from_bits(x.to_bits() ^ 1));
    }
}
fn bad_winograd_output(m: &[Lanes], y: &mut [Lanes]) {
    generic::winograd_output(m, y);
    if let Some(l) = y.last_mut() {
        last_bit(&mut l.0, |x| f32::from_bits(x.to_bits() ^ 1));
    }
}
fn bad_gemm_i16(r: &[i16], s: usize, w: &[i16], acc: &mut [i64]) {
    (GENERIC.gemm_i16)(r, s, w, acc);
    last_bit(acc, |x| x ^ 1);
}
fn bad_gemm_i16_i32(r: &[i16], s: usize, w: &[i16], acc: &mut [i32]) {
    generic::gemm_i16_i32(r, s, w, acc);
    last_bit(acc, |x| x ^ 1);
}
fn bad_conv(
    i: &[f32],
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    wt: &[f32],
    b: &[f32],
    o: &mut [f32],
) {
    (GENERIC.conv_direct)(i, h, w, k, s, wt, b, o);
    last_bit(o, ulp);
}
fn bad_quantize(s: &[f32], p: usize, c: usize, m: f32, b: usize, o: &mut [u64]) {
    (GENERIC.quantize_row)(s, p, c, m, b, o);
    last_bit(o, |x| x ^ 1);
}
fn bad_resize_h(
    s: &[f32],
    sw: usize,
    r: usize,
    i: &[u32],
    a: &[f32],
    b: &[f32],
    d: &mut [f32],
    dw: usize,
) {
    (GENERIC.resize_h)(s, sw, r, i, a, b, d, dw);
    let last = d.len() - (dw - i.len()) - 1;
    d[last] = ulp(d[last]);
}
fn bad_resize_v(t: &[f32], b: &[f32], wa: f32, wb: f32, d: &mut [f32]) {
    (GENERIC.resize_v)(t, b, wa, wb, d);
    last_bit(d, ulp);
}
fn bad_yuyv(s: &[u8], d: &mut [u8]) {
    (GENERIC.yuyv_to_rgb)(s, d);
    last_bit(d, |x| x ^ 1);
}
fn bad_idct(o: &mut [u8], s: usize, d: &[i16; 64]) {
    (GENERIC.idct_block)(o, s, d);
    o[7 * s + 7] ^= 1;
}
fn bad_ycbcr(o: &mut [u8], y: &[u8], cb: &[u8], cr: &[u8]) {
    (GENERIC.ycbcr_to_rgb)(o, y, cb, cr);
    last_bit(o, |x| x ^ 1);
}
fn bad_upsample(o: &mut [u8], n: &[u8], f: &[u8]) {
    (GENERIC.upsample_h2v2)(o, n, f);
    o[2 * n.len() - 1] ^= 1;
}
fn bad_upsample_h2v1(o: &mut [u8], n: &[u8]) {
    (GENERIC.upsample_h2v1)(o, n);
    o[2 * n.len() - 1] ^= 1;
}
fn bad_rescale_sums(
    s: &[i32],
    w: usize,
    b: &[i32],
    r: &[f32],
    planes: &mut [&mut [f32]],
    at: usize,
) {
    generic::rescale_sums(s, w, b, r, planes, at);
    let pixels = s.len() / w;
    if let Some(plane) = planes.last_mut() {
        last_bit(&mut plane[..at + pixels], |v: f32| v + ulp(v));
    }
}

fn bad_quantize_hwc_u8(s: &[f32], p: usize, r: std::ops::Range<usize>, l: &Levels, d: &mut [u8]) {
    generic::quantize_hwc_u8(s, p, r, l, d);
    last_bit(d, |v| v ^ 1);
}

fn bad_quantize_hwc_i16(s: &[f32], p: usize, r: std::ops::Range<usize>, l: &Levels, d: &mut [i16]) {
    generic::quantize_hwc_i16(s, p, r, l, d);
    last_bit(d, |v| v ^ 1);
}

fn bad_nv12(y: &[u8], c: &[u8], d: &mut [u8]) {
    (GENERIC.nv12_to_rgb)(y, c, d);
    last_bit(d, |x| x ^ 1);
}

#[test]
fn the_comparison_catches_a_one_bit_error_in_any_kernel() {
    let g = GENERIC;
    let broken: [(&str, Kernels); 23] = [
        (
            "quantize_hwc_u8",
            Kernels {
                quantize_hwc_u8: bad_quantize_hwc_u8,
                ..g
            },
        ),
        (
            "quantize_hwc_i16",
            Kernels {
                quantize_hwc_i16: bad_quantize_hwc_i16,
                ..g
            },
        ),
        (
            "rescale_sums",
            Kernels {
                rescale_sums: bad_rescale_sums,
                ..g
            },
        ),
        (
            "winograd_input",
            Kernels {
                winograd_input: bad_winograd_input,
                ..g
            },
        ),
        (
            "winograd_output",
            Kernels {
                winograd_output: bad_winograd_output,
                ..g
            },
        ),
        (
            "gemm_i16_i32",
            Kernels {
                gemm_i16_i32: Some(bad_gemm_i16_i32),
                ..g
            },
        ),
        (
            "sgemm_fma",
            Kernels {
                sgemm_fma: Some(bad_sgemm),
                ..g
            },
        ),
        (
            "popcount_dots",
            Kernels {
                popcount_dots: bad_popcount,
                ..g
            },
        ),
        (
            "window_sums",
            Kernels {
                window_sums: bad_sums,
                ..g
            },
        ),
        (
            "activate",
            Kernels {
                activate: bad_activate,
                ..g
            },
        ),
        (
            "pack_planes",
            Kernels {
                pack_planes: bad_pack,
                ..g
            },
        ),
        (
            "gemm_i8",
            Kernels {
                gemm_i8: bad_gemm_i8,
                ..g
            },
        ),
        (
            "gemm_i16",
            Kernels {
                gemm_i16: bad_gemm_i16,
                ..g
            },
        ),
        (
            "conv_direct",
            Kernels {
                conv_direct: bad_conv,
                ..g
            },
        ),
        (
            "quantize_row",
            Kernels {
                quantize_row: bad_quantize,
                ..g
            },
        ),
        (
            "resize_h",
            Kernels {
                resize_h: bad_resize_h,
                ..g
            },
        ),
        (
            "resize_v",
            Kernels {
                resize_v: bad_resize_v,
                ..g
            },
        ),
        (
            "yuyv_to_rgb",
            Kernels {
                yuyv_to_rgb: bad_yuyv,
                ..g
            },
        ),
        (
            "nv12_to_rgb",
            Kernels {
                nv12_to_rgb: bad_nv12,
                ..g
            },
        ),
        (
            "idct_block",
            Kernels {
                idct_block: bad_idct,
                ..g
            },
        ),
        (
            "ycbcr_to_rgb",
            Kernels {
                ycbcr_to_rgb: bad_ycbcr,
                ..g
            },
        ),
        (
            "upsample_h2v2",
            Kernels {
                upsample_h2v2: bad_upsample,
                ..g
            },
        ),
        (
            "upsample_h2v1",
            Kernels {
                upsample_h2v1: bad_upsample_h2v1,
                ..g
            },
        ),
    ];
    for (kernel, table) in &broken {
        let errors = compare_with_generic(table);
        assert!(!errors.is_empty(), "a broken {kernel} went unnoticed");
        assert!(
            errors.iter().all(|e| e.starts_with(kernel)),
            "only {kernel} differs: {errors:?}"
        );
    }
    assert!(compare_with_generic(&g).is_empty());
}

/// Packing refuses weights past the contract's symmetric range: -128.
#[test]
#[should_panic(expected = "INT8 weights within")]
fn packing_refuses_weights_past_the_range() {
    let mut weights = vec![1i8; 2 * 8];
    weights[9] = i8::MIN;
    pack_gemm_i8(&weights, 2, 8);
}

/// Each table says how wide a weight its INT8 product takes: a byte's on the generic one
/// (the reference), 6 bits on AVX2's `vpmaddubsw`, where two steps' products meet in i16.
#[test]
fn each_table_names_the_weights_its_int8_product_takes() {
    assert_eq!(GENERIC.gemm_i8_max_weight, GEMM_MAX_WEIGHT);
    for t in supported() {
        let top = t.gemm_i8_max_weight;
        assert!(
            top == GEMM_MAX_WEIGHT || 4 * 255 * top <= i32::from(i16::MAX),
            "{}",
            t.name
        );
    }
}

/// The generic kernel on packed weights is the plain triple loop on unpacked ones, padding
/// included: unpadded spans and channel counts, the padding inputs of the rows random.
#[test]
fn generic_gemm_i8_is_the_plain_product() {
    let mut rng = TestRng(0x1234_5678);
    for &(span, channels, pixels) in &[
        (27usize, 13usize, 5usize),
        (1, 1, 1),
        (4, 16, 2),
        (9, 17, 3),
        (3, 33, 4),
        (4608, 16, 2),
    ] {
        let weights: Vec<i8> = (0..channels * span)
            .map(|_| random_weight(&mut rng, GEMM_MAX_WEIGHT))
            .collect();
        let q: Vec<i32> = (0..pixels * span)
            .map(|_| (rng.next() % 256) as i32 - 128)
            .collect();
        let (packed, wsum, padded) = pack_gemm_i8(&weights, channels, span);
        assert_eq!(padded, span.next_multiple_of(GEMM_DEPTH));
        let groups = channels.next_multiple_of(GEMM_GROUP);
        assert_eq!((packed.len(), wsum.len()), (groups * padded, groups));
        let mut rows = Vec::new();
        for p in 0..pixels {
            rows.extend(q[p * span..][..span].iter().map(|&v| (v + 128) as u8));
            rows.extend((span..padded).map(|_| rng.next() as u8));
        }
        let mut acc = vec![7i32; pixels * groups];
        (GENERIC.gemm_i8)(&rows, padded, &packed, &wsum, &mut acc);
        for p in 0..pixels {
            for o in 0..groups {
                let want: i32 = if o < channels {
                    (0..span)
                        .map(|k| q[p * span + k] * i32::from(weights[o * span + k]))
                        .sum()
                } else {
                    0
                };
                assert_eq!(
                    acc[p * groups + o],
                    want,
                    "span {span} channels {channels}: pixel {p} channel {o}"
                );
            }
        }
        for (o, &sum) in wsum.iter().enumerate() {
            let want: i32 = (0..span)
                .filter(|_| o < channels)
                .map(|k| i32::from(weights[o * span + k]))
                .sum();
            assert_eq!(sum, want, "wsum of channel {o}");
        }
    }
}

/// The generic fused product on packed kernels is the chain of `mul_add`s on the unpacked
/// ones, and the padding channels sum to zero.
#[test]
fn generic_sgemm_fma_is_the_plain_product() {
    let mut rng = TestRng(0x5eed);
    for &(span, channels, pixels) in &[(27usize, 13usize, 5usize), (1, 1, 1), (300, 33, 3)] {
        let weights = floats(&mut rng, channels * span, 0);
        let rows = floats(&mut rng, pixels * span, 2);
        let packed = PackedF32::new(&weights, channels, span);
        let width = packed.groups() * SGEMM_GROUP;
        assert_eq!(width, channels.next_multiple_of(SGEMM_GROUP));
        let mut acc = vec![7.0f32; pixels * width];
        generic::sgemm_fma(&rows, &packed, 0..packed.groups(), &mut acc);
        for p in 0..pixels {
            for o in 0..width {
                let want = (0..span).filter(|_| o < channels).fold(0.0f32, |s, k| {
                    rows[p * span + k].mul_add(weights[o * span + k], s)
                });
                assert_eq!(
                    acc[p * width + o].to_bits(),
                    want.to_bits(),
                    "span {span} channels {channels}: pixel {p} channel {o}"
                );
            }
        }
    }
}

#[test]
fn forcing_the_generic_table_and_scoped_tables() {
    // best() honours the variables: this process may or may not have them set; either way the
    // answer is fixed after the first call.
    if let Ok(chosen) = from_env() {
        assert!(std::ptr::eq(best(), chosen));
    }
    if std::env::var(KERNELS_VAR).is_err() {
        let forced = std::env::var(FORCE_GENERIC_VAR).is_ok_and(|v| v == "1");
        assert_eq!(
            std::ptr::eq(best(), generic()),
            forced || supported().len() == 1
        );
    }
    assert!(std::ptr::eq(named_table("generic").unwrap(), generic()));
    let e = named_table("z80").unwrap_err();
    assert!(
        e.starts_with("ZYNQDET_KERNELS=z80: this CPU runs [\"generic\""),
        "{e}"
    );
    assert!(std::ptr::eq(best(), best()));
    let inner = with_kernels(generic(), || {
        let nested = with_kernels(best(), || active().name);
        (active().name, nested)
    });
    assert_eq!(inner, ("generic", best().name));
    assert!(
        std::ptr::eq(active(), best()),
        "the override ends with the closure"
    );
}

/// The layers give their references' results on every table (the kernels' callers lay out the
/// data right).
#[test]
fn layers_match_their_references_on_every_table() {
    use crate::image_input::{resize, resize_reference, ResizeArithmetic};
    use crate::layers::binconv::tests::{random_input, random_layer};
    use crate::layers::{Activation, FloatConv, Quantizer, Tensor};
    let mut rng = TestRng(0x5eed);
    for t in supported() {
        with_kernels(t, || {
            for &(cin, cout, size, h, w) in &[
                (16, 64, 3, 5, 11),
                (64, 8, 3, 3, 4),
                (70, 13, 3, 2, 5),
                (130, 9, 1, 3, 2),
                (3, 2, 3, 1, 1),
            ] {
                let layer = random_layer(&mut rng, cin, cout, size);
                let input = random_input(&mut rng, h, w, cin);
                assert_eq!(
                    layer.forward(&input),
                    layer.forward_reference(&input),
                    "{}: binconv {cin}->{cout}",
                    t.name
                );
            }
            for &(c, h, w) in &[(16usize, 9usize, 13usize), (3, 1, 1), (70, 4, 9)] {
                let input = Tensor {
                    channels: c,
                    height: h,
                    width: w,
                    data: floats(&mut rng, c * h * w, 0)
                        .iter()
                        .map(|v| v * 5.0)
                        .collect(),
                };
                let q = Quantizer { bits: 3, max: 4.0 };
                for transpose in [false, true] {
                    assert_eq!(
                        q.quantize(&input, transpose),
                        q.quantize_reference(&input, transpose),
                        "{}: quantize",
                        t.name
                    );
                }
            }
            for &(iw, ih, w, h) in &[
                (768usize, 576usize, 416usize, 312usize),
                (5, 3, 9, 7),
                (1, 4, 3, 2),
                (4, 1, 1, 3),
                (7, 7, 7, 7),
            ] {
                let im = Tensor {
                    channels: 3,
                    height: ih,
                    width: iw,
                    data: floats(&mut rng, 3 * iw * ih, 0),
                };
                for arithmetic in [ResizeArithmetic::Separate, ResizeArithmetic::Fused] {
                    assert_eq!(
                        bits(&resize(&im, w, h, arithmetic).data),
                        bits(&resize_reference(&im, w, h, arithmetic).data),
                        "{}: resize {iw}x{ih} -> {w}x{h}, {arithmetic:?}",
                        t.name
                    );
                }
            }
            for &(cin, cout, k, stride, pad, h, w) in &[
                (3, 16, 3, 2, 1, 41, 38),
                (3, 16, 3, 1, 1, 13, 17),
                (512, 125, 1, 1, 0, 13, 13),
                (3, 5, 3, 1, 0, 6, 7),
                (2, 3, 1, 1, 0, 1, 9),
                (3, 4, 3, 2, 1, 7, 19),
            ] {
                let conv = FloatConv {
                    in_channels: cin,
                    out_channels: cout,
                    size: k,
                    stride,
                    pad,
                    weights: floats(&mut rng, cout * cin * k * k, 0),
                    bias: floats(&mut rng, cout, 0),
                    activation: Activation::Leaky,
                    packed: Default::default(),
                };
                let input = Tensor {
                    channels: cin,
                    height: h,
                    width: w,
                    data: floats(&mut rng, cin * h * w, 0),
                };
                // == on f32: the same values (a zero's sign aside, which no later step sees)
                let direct = conv.forward_direct(&input);
                assert_eq!(
                    direct,
                    conv.forward_reference(&input),
                    "{}: conv {cin}->{cout} k{k}",
                    t.name
                );
                if conv.runs_direct() {
                    assert_eq!(bits(&conv.forward(&input).data), bits(&direct.data));
                }
            }
        });
    }
}

#[test]
fn colour_frames_match_bt601_reference_colours() {
    // black at 16, white at 235, as studio range puts them; then a 3x2 YUYV and NV12 frame
    assert_eq!(generic::yuv_to_rgb(16, 128, 128), [0, 0, 0]);
    assert_eq!(generic::yuv_to_rgb(235, 128, 128), [255, 255, 255]);
    assert_eq!(generic::yuv_to_rgb(82, 90, 240), [255, 1, 0]);
    for t in supported() {
        with_kernels(t, || {
            let yuyv = [
                16, 128, 235, 128, 82, 90, 0, 240, 235, 128, 16, 128, 82, 90, 0, 240,
            ];
            let mut rgb = Vec::new();
            yuyv_to_rgb(3, 2, &yuyv, &mut rgb).unwrap();
            let want = [
                0, 0, 0, 255, 255, 255, 255, 1, 0, 255, 255, 255, 0, 0, 0, 255, 1, 0,
            ];
            assert_eq!(rgb, want, "{}", t.name);
            let nv12 = [16, 235, 82, 16, 235, 82, 128, 128, 90, 240];
            nv12_to_rgb(3, 2, &nv12, &mut rgb).unwrap();
            let want = [
                0, 0, 0, 255, 255, 255, 255, 1, 0, 0, 0, 0, 255, 255, 255, 255, 1, 0,
            ];
            assert_eq!(rgb, want, "{}", t.name);
        });
    }
    let mut rgb = Vec::new();
    let e = yuyv_to_rgb(4, 4, &[0; 10], &mut rgb).unwrap_err();
    assert_eq!(e, "YUYV frame of 4x4 needs 32 bytes, it has 10");
    assert!(nv12_to_rgb(0, 4, &[], &mut rgb).is_err());
    let e = nv12_to_rgb(5, 3, &[0; 26], &mut rgb).unwrap_err();
    assert_eq!(e, "NV12 frame of 5x3 needs 27 bytes, it has 26");
}

/// INT16 packing refuses -32768: the AVX2 kernel's pair sums would overflow i32 on it.
#[test]
#[should_panic(expected = "INT16 weights within")]
fn int16_packing_refuses_the_asymmetric_minimum() {
    let mut weights = vec![1i16; 2 * 8];
    weights[9] = i16::MIN;
    pack_gemm_i16(&weights, 2, 8);
}

/// The generic INT16 kernel on packed weights is the plain triple loop on unpacked ones,
/// padding included: unpadded spans and channel counts, the padding inputs of the rows random.
#[test]
fn generic_gemm_i16_is_the_plain_product() {
    let mut rng = TestRng(0x8765_4321);
    for &(span, channels, pixels) in &[
        (27usize, 13usize, 5usize),
        (1, 1, 1),
        (2, 16, 2),
        (9, 17, 3),
        (3, 33, 4),
        (4608, 16, 2),
    ] {
        let (rows, weights) = gemm_i16_case(&mut rng, 0, span, channels, pixels);
        let (packed, padded) = pack_gemm_i16(&weights, channels, span);
        assert_eq!(padded, span.next_multiple_of(GEMM_I16_DEPTH));
        let groups = channels.next_multiple_of(GEMM_GROUP);
        assert_eq!(packed.len(), groups * padded);
        let mut padded_rows = Vec::new();
        for row in rows.chunks_exact(span) {
            padded_rows.extend_from_slice(row);
            padded_rows.extend((span..padded).map(|_| rng.next() as i16));
        }
        let mut acc = vec![7i64; pixels * groups];
        (GENERIC.gemm_i16)(&padded_rows, padded, &packed, &mut acc);
        // in i32: the same sums, wrapped
        let mut narrow = vec![7i32; pixels * groups];
        generic::gemm_i16_i32(&padded_rows, padded, &packed, &mut narrow);
        let wrapped: Vec<i32> = acc.iter().map(|&s| s as i32).collect();
        assert_eq!(narrow, wrapped, "span {span} channels {channels}: in i32");
        for p in 0..pixels {
            for o in 0..groups {
                let want: i64 = if o < channels {
                    (0..span)
                        .map(|k| i64::from(rows[p * span + k]) * i64::from(weights[o * span + k]))
                        .sum()
                } else {
                    0
                };
                assert_eq!(
                    acc[p * groups + o],
                    want,
                    "span {span} channels {channels}: pixel {p} channel {o}"
                );
            }
        }
    }
}
