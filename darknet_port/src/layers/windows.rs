//! What the blocked convolutions (INT8, and FP32 on large images) share: the input in HWC
//! order, each output pixel's window as one contiguous row, and each worker's slice of every
//! output plane. Rows are built a block of pixels at a time, so they stay in cache while the
//! matrix product uses them, instead of a whole image's im2col matrix streaming from memory.

use super::activation::Activation;
use super::spare::Scratch;
use super::Tensor;
use crate::kernels::{self, generic, SGEMM_GROUP};
use crate::parallel;
use std::ops::Range;

/// `input` in HWC order (a pixel's channels contiguous), each value through `convert`; pixels
/// split over the workers.
pub(crate) fn to_hwc<T>(input: &Tensor, convert: impl Fn(f32) -> T + Sync) -> Vec<T>
where
    T: Copy + Default + Send,
{
    let mut hwc = vec![T::default(); input.data.len()];
    to_hwc_into(input, convert, &mut hwc);
    hwc
}

/// [`to_hwc`] of the floats as they are, in scratch from the spare buffers (every value is
/// written), which goes back to them when the float convolution is done with it.
pub(crate) fn to_hwc_f32(input: &Tensor) -> Scratch {
    let mut hwc = Scratch::new(input.data.len());
    to_hwc_into(input, |x| x, &mut hwc);
    hwc
}

/// An INT8 layer's input quantized into HWC order by the table's `kernel` (see
/// [`kernels::QuantizeHwcU8`]), pixels split over the workers.
pub(crate) fn quantize_to_hwc<T: Copy + Default + Send>(
    input: &Tensor,
    levels: &kernels::Levels,
    kernel: fn(&[f32], usize, Range<usize>, &kernels::Levels, &mut [T]),
) -> Vec<T> {
    let (c, plane) = (input.channels, input.height * input.width);
    let mut hwc = vec![T::default(); input.data.len()];
    if hwc.is_empty() {
        return hwc;
    }
    parallel::for_each_part(&mut hwc, c, (1 << 14) / c + 1, |pixels, mine| {
        kernel(&input.data, plane, pixels, levels, mine)
    });
    hwc
}

/// [`to_hwc`] into `hwc`, as long as the input; every value written.
fn to_hwc_into<T>(input: &Tensor, convert: impl Fn(f32) -> T + Sync, hwc: &mut [T])
where
    T: Copy + Default + Send,
{
    // Channels a pass writes: a pass fills one stretch of each pixel, so a line is written
    // in one go, not once a channel (with planes of a few hundred pixels that is a line a
    // channel apart: every store would miss).
    const PASS: usize = 16;
    // Pixels converted a plane at a time, along the plane: the conversion (the quantization of
    // the integer layers) then runs on vectors, and only the copy into place goes value by
    // value.
    const RUN: usize = 64;
    let (c, plane) = (input.channels, input.height * input.width);
    assert_eq!(hwc.len(), input.data.len(), "one value an input value");
    parallel::for_each_part(hwc, c, (1 << 14) / c.max(1) + 1, |range, mine| {
        let mut converted = [[T::default(); RUN]; PASS];
        for first in (0..c).step_by(PASS) {
            let channels = first..(first + PASS).min(c);
            let planes: Vec<&[f32]> = channels
                .clone()
                .map(|i| &input.data[i * plane..][range.clone()])
                .collect();
            for (run, pixels) in mine.chunks_mut(RUN * c).enumerate() {
                let start = run * RUN;
                let n = pixels.len() / c;
                for (out, values) in converted.iter_mut().zip(&planes) {
                    for (v, &x) in out[..n].iter_mut().zip(&values[start..start + n]) {
                        *v = convert(x);
                    }
                }
                for (p, pixel) in pixels.chunks_exact_mut(c).enumerate() {
                    for (v, out) in pixel[channels.clone()].iter_mut().zip(&converted) {
                        *v = out[p];
                    }
                }
            }
        }
    });
}

/// The `size` x `size` windows, every `stride` pixels with `pad` around, of an HWC input of
/// `channels`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Windows {
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub channels: usize,
}

impl Windows {
    /// The rows of output pixels `pixels` (row-major over the `ow`-wide output): each the
    /// window's values in `(ky, kx, i)` order, then `zero` up to `span` (and in the padding).
    /// `rows` is reused as it is: every value is written, so a buffer of the right length is
    /// not cleared first (that cost as much as the copies).
    #[allow(clippy::too_many_arguments)]
    pub fn rows<T: Copy>(
        &self,
        hwc: &[T],
        dims: (usize, usize),
        ow: usize,
        pixels: Range<usize>,
        span: usize,
        zero: T,
        rows: &mut Vec<T>,
    ) {
        rows.resize(pixels.len() * span, zero);
        self.write(hwc, dims, ow, pixels, span, Some(zero), rows);
    }

    /// [`Windows::rows`] into `rows`, a slice of `pixels.len() * span` values already `zero`.
    #[allow(clippy::too_many_arguments)]
    pub fn fill<T: Copy>(
        &self,
        hwc: &[T],
        dims: (usize, usize),
        ow: usize,
        pixels: Range<usize>,
        span: usize,
        rows: &mut [T],
    ) {
        self.write(hwc, dims, ow, pixels, span, None, rows);
    }

    /// The windows' values into `rows`; with `zero`, the padding and the tail too (without,
    /// they are left as they are).
    #[allow(clippy::too_many_arguments)]
    fn write<T: Copy>(
        &self,
        hwc: &[T],
        (ih, iw): (usize, usize),
        ow: usize,
        pixels: Range<usize>,
        span: usize,
        zero: Option<T>,
        rows: &mut [T],
    ) {
        let (k, c) = (self.size, self.channels);
        assert_eq!(rows.len(), pixels.len() * span, "one row a pixel");
        // Values are written in order, so a short run may be written as a whole CHUNK (a few
        // vector moves instead of a call to memcpy or memset: with the image's three channels a
        // window row is 9 values): what it writes past its end is written again by the runs
        // that follow. Only when every value is written (with `zero`), and within both buffers.
        const CHUNK: usize = 16;
        let spill = zero.is_some();
        let copy = |rows: &mut [T], at: usize, from: usize, len: usize| {
            if spill && len <= CHUNK && at + CHUNK <= rows.len() && from + CHUNK <= hwc.len() {
                rows[at..at + CHUNK].copy_from_slice(&hwc[from..from + CHUNK]);
            } else {
                rows[at..at + len].copy_from_slice(&hwc[from..from + len]);
            }
        };
        let clear = |rows: &mut [T], at: usize, len: usize| {
            let Some(z) = zero else { return };
            if len == 0 {
            } else if len <= CHUNK && at + CHUNK <= rows.len() {
                rows[at..at + CHUNK].fill(z);
            } else {
                rows[at..at + len].fill(z);
            }
        };
        for (p, row) in pixels.zip((0..).step_by(span)) {
            let (y, x) = (p / ow, p % ow);
            // A window row's taps are consecutive pixels, so in HWC they are one run of values,
            // and in the row too: one copy a window row (less what hangs over an edge).
            let left = (x * self.stride) as isize - self.pad as isize;
            let first = (-left).clamp(0, k as isize) as usize;
            let last = (iw as isize - left).clamp(0, k as isize) as usize;
            if first >= last {
                clear(rows, row, span);
                continue;
            }
            let len = (last - first) * c;
            for ky in 0..k {
                let taps = row + ky * k * c;
                let iy = (y * self.stride + ky) as isize - self.pad as isize;
                if iy < 0 || iy as usize >= ih {
                    clear(rows, taps, k * c);
                    continue;
                }
                let src = (iy as usize * iw + (left + first as isize) as usize) * c;
                clear(rows, taps, first * c);
                copy(rows, taps + first * c, src, len);
                clear(rows, taps + first * c + len, (k - last) * c);
            }
            // the tail last: the runs before it may have spilt into it
            clear(rows, row + k * k * c, span - k * k * c);
        }
    }
}

/// Kernels `[o][i][ky][kx]` with their taps reordered to the rows' `(ky, kx, i)`.
pub(crate) fn taps_hwc<T: Copy + Default>(
    weights: &[T],
    in_channels: usize,
    size: usize,
) -> Vec<T> {
    let taps = size * size;
    let span = in_channels * taps;
    let mut out = vec![T::default(); weights.len()];
    for (kernel, reordered) in weights.chunks_exact(span).zip(out.chunks_exact_mut(span)) {
        for i in 0..in_channels {
            for t in 0..taps {
                reordered[t * in_channels + i] = kernel[i * taps + t];
            }
        }
    }
    out
}

/// Where the row-based convolutions' workers' ranges may start: any few pixels, not whole
/// blocks, so that a 13x13 layer's 169 pixels (under three blocks of 64) go 88 + 81, not
/// 64 + 105.
pub(crate) const ROW_SPLIT: usize = 8;

/// Output pixels `0..n` split over the workers in ranges of nearly equal size (one a worker,
/// none under `block`, each starting at a multiple of `align`); each range's blocks of up to
/// `block` pixels go in turn to `each(scratch, pixels, first, planes)`, where `planes` are the
/// worker's slices of every plane of `out` (each plane `n` long), `first` is where the block
/// starts in them, and `scratch` is the worker's own, made by `scratch()`.
pub(crate) fn for_each_block<S>(
    out: &mut [f32],
    n: usize,
    (block, align): (usize, usize),
    scratch: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, Range<usize>, usize, &mut [&mut [f32]]) + Sync,
) {
    let ranges = parallel::ranges(n, parallel::parts(n, block), align);
    let parts = plane_parts(out, n, &ranges);
    let (scratch, each) = (&scratch, &each);
    let jobs: Vec<parallel::Job> = ranges
        .into_iter()
        .zip(parts)
        .map(|(range, mut planes)| {
            Box::new(move || {
                let mut state = scratch();
                for start in range.clone().step_by(block) {
                    let pixels = start..(start + block).min(range.end);
                    each(&mut state, pixels, start - range.start, &mut planes);
                }
            }) as parallel::Job
        })
        .collect();
    parallel::run(jobs);
}

/// Each channel's bias in i32, when no sum (at most `largest` in magnitude) plus its bias can
/// leave i32: the integer layers then add them on vectors.
pub(crate) fn narrow_bias(bias: impl Iterator<Item = i64>, largest: i64) -> Option<Vec<i32>> {
    bias.map(|b| i32::try_from(b.abs() + largest).ok().map(|_| b as i32))
        .collect()
}

/// What [`rescale_to_planes`] does to the sums: the table's kernel, the bias in i32 and the
/// rescale of each plane's channel, then the activation.
pub(crate) type NarrowEpilogue<'a> = (kernels::RescaleSums, &'a [i32], &'a [f32], Activation);

/// A block's i32 sums `[pixel][width]` into `planes` from pixel `at`, when no sum with its
/// bias leaves i32: biased, converted and rescaled by the table's [`kernels::RescaleSums`],
/// then activated along each plane.
pub(crate) fn rescale_to_planes(
    (rescale_sums, bias, rescale, activation): NarrowEpilogue,
    sums: &[i32],
    width: usize,
    planes: &mut [&mut [f32]],
    at: usize,
) {
    rescale_sums(sums, width, bias, rescale, planes, at);
    activate(planes, at..at + sums.len() / width.max(1), activation);
}

/// A block's sums `[pixel][width]` into `planes` (one a channel) from pixel `at`:
/// `planes[o][at + p] = activation(v)`, where `values(sums, channels, out)` turns one pixel's
/// sums of `channels` into their values `out` (the generic kernels' tile walk,
/// [`generic::sums_into_planes`]), then activated along each plane.
pub(crate) fn sums_to_planes<T: Copy>(
    sums: &[T],
    width: usize,
    planes: &mut [&mut [f32]],
    at: usize,
    values: impl Fn(&[T], Range<usize>, &mut [f32]),
    activation: Activation,
) {
    generic::sums_into_planes(sums, width, planes, at, values);
    activate(planes, at..at + sums.len() / width.max(1), activation);
}

/// `activation` on `pixels` of every plane (nothing to do for a linear one).
fn activate(planes: &mut [&mut [f32]], pixels: Range<usize>, activation: Activation) {
    if activation != Activation::Linear {
        for plane in planes.iter_mut() {
            activation.apply_in_place(&mut plane[pixels.clone()]);
        }
    }
}

/// The Winograd walk of large images: output pixels `0..n` (`ow` a row) in bands of
/// `rows_per_band` rows of tiles (`tile` outputs a side, `tw` tiles a row), whole bands to a
/// worker; each band's tiles (a range of row-major tile indices) go to
/// `each(scratch, tiles, origin, planes)`, where `origin` is the pixel its planes start at.
pub(crate) fn for_each_tile_band<S>(
    out: &mut [f32],
    n: usize,
    (ow, tile, tw): (usize, usize, usize),
    rows_per_band: usize,
    scratch: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, Range<usize>, usize, &mut [&mut [f32]]) + Sync,
) {
    let band = rows_per_band * tile * ow;
    for_each_block(
        out,
        n,
        (band, band),
        scratch,
        |state, pixels, first, planes| {
            let tile_rows = pixels.start / (tile * ow)..pixels.end.div_ceil(tile * ow);
            let tiles = tile_rows.start * tw..tile_rows.end * tw;
            each(state, tiles, pixels.start - first, planes);
        },
    );
}

/// The first step of Winograd on small images: `points` matrices of `count` tiles by
/// `per_tile` values, filled by `transform(tiles, points)` (one slice a point, the rows of
/// `tiles`) on ranges of tiles split over the workers.
pub(crate) fn transform_tiles<T: Copy + Default + Send>(
    points: usize,
    count: usize,
    per_tile: usize,
    transform: impl Fn(Range<usize>, &mut [&mut [T]]) + Sync,
) -> Vec<T> {
    let mut inputs = vec![T::default(); points * count * per_tile];
    let ranges = parallel::ranges(count, parallel::parts(count, 8), 1);
    let values: Vec<Range<usize>> = ranges
        .iter()
        .map(|r| r.start * per_tile..r.end * per_tile)
        .collect();
    let shares = plane_parts(&mut inputs, count * per_tile, &values);
    let transform = &transform;
    let jobs: Vec<parallel::Job> = ranges
        .into_iter()
        .zip(shares)
        .map(|(tiles, mut points)| Box::new(move || transform(tiles, &mut points)) as parallel::Job)
        .collect();
    parallel::run(jobs);
    inputs
}

/// Every plane of `planes` (each `n` long) cut at the `ranges` of pixels: one list of slices,
/// one slice a plane, for each range's worker.
pub(crate) fn plane_parts<'a, T>(
    planes: &'a mut [T],
    n: usize,
    ranges: &[Range<usize>],
) -> Vec<Vec<&'a mut [T]>> {
    let mut parts: Vec<Vec<&mut [T]>> = ranges.iter().map(|_| Vec::new()).collect();
    for mut plane in planes.chunks_exact_mut(n) {
        for (range, part) in ranges.iter().zip(&mut parts) {
            let (mine, rest) = plane.split_at_mut(range.len());
            part.push(mine);
            plane = rest;
        }
    }
    parts
}

/// The output channels of `out` (planes of `n` pixels) in groups of [`SGEMM_GROUP`], split over
/// the workers in pairs of groups (the fused product's register block): each worker's
/// `each(groups, planes)` gets its range of groups and the planes of their channels (the last
/// group's padding channels have none).
pub(crate) fn for_each_group_share(
    out: &mut [f32],
    n: usize,
    each: impl Fn(Range<usize>, &mut [&mut [f32]]) + Sync,
) {
    let channels = out.len() / n.max(1);
    let groups = channels.div_ceil(SGEMM_GROUP);
    let parts = parallel::parts(groups, 2);
    let mut jobs: Vec<parallel::Job> = Vec::with_capacity(parts);
    let mut rest = out;
    let each = &each;
    for range in parallel::ranges(groups, parts, 2) {
        let count = (range.end * SGEMM_GROUP).min(channels) - range.start * SGEMM_GROUP;
        let (mine, tail) = rest.split_at_mut(count * n);
        rest = tail;
        jobs.push(Box::new(move || {
            let mut planes: Vec<&mut [f32]> = mine.chunks_exact_mut(n).collect();
            each(range, &mut planes);
        }));
    }
    parallel::run(jobs);
}
