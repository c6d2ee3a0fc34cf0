//! INT8 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3), in integers:
//! each 2x2 block of outputs comes from the 4x4 block of input levels around it with 16
//! multiplies per input and output channel instead of 36.
//!
//! Scaled by 2 (`G' = 2G`), the kernel transform has integer entries, so every step is an
//! integer one and the result is exactly 4 times the convolution's sum: the outputs are the
//! INT8 product's, bit for bit, on any table. Input levels (bytes less their zero point,
//! `|d| <= 255`) transform to `|Bᵀ d B| <= 1020`, 8-bit kernels to `|G' g G'ᵀ| <= 1143`:
//! both i16, whose products the table's [`GemmI16I32`] sums in i32, one matrix product a point.
//! [`IntWinograd::new`] bounds every sum of a layer (products, then the output transform) and
//! declines a layer whose sums could leave i32.
//!
//! Why: on AVX2 without VNNI the INT8 product multiplies bytes by 6-bit weights only
//! (`vpmaddubsw`, then `vpmaddwd` to widen: 21 products a multiply), 8-bit ones in two parts
//! (about 11), and some CPUs multiply on one port; here `vpmaddwd` does 16, on 2.25 times
//! fewer products. The walk is the float Winograd's (`layers::winograd`): bands of tile
//! rows on large images, on small ones every tile transformed first and the channels shared.

use super::activation::Activation;
use super::windows::{
    for_each_group_share, for_each_tile_band, narrow_bias, rescale_to_planes, sums_to_planes,
    transform_tiles,
};
use super::Tensor;
use crate::kernels::{self, pack_gemm_i16, GemmI16I32, GEMM_GROUP, GEMM_I16_DEPTH, SGEMM_GROUP};
use std::ops::Range;

/// Outputs along a tile's side.
const TILE: usize = 2;
/// Inputs along a tile's side: `TILE + 3 - 1`.
const ALPHA: usize = 4;
/// The points of a transformed tile, one matrix product each.
const POINTS: usize = ALPHA * ALPHA;
/// The largest magnitude of an input level: a byte less its zero point.
const MAX_LEVEL: i64 = 255;
/// Output tiles a band of the large-image path transforms together, about: their transformed
/// inputs and products stay in L2.
const BLOCK_TILES: usize = 64;
/// Channel groups the small-image path multiplies at once: the products of every tile for
/// 64 channels, 16 points of `tiles * 64` sums, stay within L2 on 13x13 and 26x26 outputs.
const SHARE_GROUPS: usize = 4;

// The channel shares of `for_each_group_share` are whole groups of the product's.
const _: () = assert!(SGEMM_GROUP == GEMM_GROUP);

/// A layer's kernels transformed (`G' g G'ᵀ`), one packed `[out][in]` matrix a point.
#[derive(Debug, Clone, PartialEq)]
pub struct IntWinograd {
    points: Vec<Vec<i16>>,
    /// Input channels rounded up to the product's depth: each transformed tile's row.
    span: usize,
    /// The largest magnitude of a convolution's sum (before its bias): `|y| <= largest`.
    largest: i64,
}

/// `G'` times a kernel's column or row: `G' = 2G` = `[[2,0,0],[1,1,1],[1,-1,1],[0,0,2]]`.
fn kernel_transform([a, b, c]: [i64; 3]) -> [i64; ALPHA] {
    [2 * a, a + b + c, a - b + c, 2 * c]
}

/// `Bᵀ` times an input block's column or row: `[[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]`.
#[inline(always)]
fn input_transform<T>([d0, d1, d2, d3]: [T; ALPHA]) -> [T; ALPHA]
where
    T: Copy + std::ops::Add<Output = T> + std::ops::Sub<Output = T>,
{
    [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
}

/// `Aᵀ` times a product block's column or row: `[[1,1,1,0],[0,1,-1,-1]]`.
#[inline(always)]
fn output_transform([m0, m1, m2, m3]: [i32; ALPHA]) -> [i32; TILE] {
    [
        m0.wrapping_add(m1).wrapping_add(m2),
        m1.wrapping_sub(m2).wrapping_sub(m3),
    ]
}

impl IntWinograd {
    /// `G' g G'ᵀ` of every 3x3 kernel of `weights` (`[out][in][3][3]`, integers within i16),
    /// or `None` when some sum of the layer could leave i32: the largest product sum of a
    /// point, `1020 * sum_c |u|`, summed over the points an output adds.
    pub fn new(weights: &[i16], out_channels: usize, in_channels: usize) -> Option<IntWinograd> {
        let (k, c) = (out_channels, in_channels);
        assert_eq!(weights.len(), k * c * 9, "3x3 kernels");
        let mut points = vec![vec![0i16; k * c]; POINTS];
        // per output channel: sum over the points and inputs of |u|
        let mut magnitude = vec![0i64; k];
        for (n, kernel) in weights.chunks_exact(9).enumerate() {
            let g = |y: usize, x: usize| i64::from(kernel[y * 3 + x]);
            let mut columns = [[0i64; 3]; ALPHA];
            for x in 0..3 {
                for (row, v) in
                    columns
                        .iter_mut()
                        .zip(kernel_transform([g(0, x), g(1, x), g(2, x)]))
                {
                    row[x] = v;
                }
            }
            for (r, row) in columns.iter().enumerate() {
                for (s, u) in kernel_transform(*row).into_iter().enumerate() {
                    points[r * ALPHA + s][n] = i16::try_from(u).ok()?;
                    magnitude[n / c] += u.abs();
                }
            }
        }
        let transformed = 4 * MAX_LEVEL;
        let largest_term = magnitude.iter().max().copied().unwrap_or(0) * transformed;
        if largest_term > i64::from(i32::MAX) {
            return None;
        }
        let packed: Vec<(Vec<i16>, usize)> =
            points.iter().map(|u| pack_gemm_i16(u, k, c)).collect();
        let span = packed.first().map_or(0, |(_, span)| *span);
        Some(IntWinograd {
            points: packed.into_iter().map(|(p, _)| p).collect(),
            span,
            // the sum is a quarter of the output transform's
            largest: largest_term / 4,
        })
    }

    /// Output channels, padded to whole groups.
    fn channels(&self) -> usize {
        self.points[0].len() / self.span
    }

    /// The 16 matrix products of `count` transformed tiles (`inputs` `[ξ][t][span]`) with the
    /// kernels of `groups`, into `products` `[ξ][t][16 * groups.len()]`.
    fn multiply(
        &self,
        inputs: &[i16],
        count: usize,
        groups: Range<usize>,
        product: GemmI16I32,
        products: &mut [i32],
    ) {
        let width = groups.len() * GEMM_GROUP;
        let group_len = GEMM_GROUP * self.span;
        for ((point, v), m) in self
            .points
            .iter()
            .zip(inputs.chunks_exact(count * self.span))
            .zip(products.chunks_exact_mut(count * width))
        {
            let kernels = &point[groups.start * group_len..groups.end * group_len];
            product(v, self.span, kernels, m);
        }
    }
}

/// Whether [`forward`] computes `conv`-shaped layers: 3x3, stride 1, padding 1.
pub fn fits(size: usize, stride: usize, pad: usize) -> bool {
    size == 3 && stride == 1 && pad == 1
}

fn tiles(outputs: usize) -> usize {
    outputs.div_ceil(TILE)
}

/// What becomes of a convolution's sums: channel `o`'s output is
/// `activation((sum + bias[o]) as f32 * rescale[o])`, the sum and bias added in i32 when no
/// sum can leave it with its bias (`narrow`), else in i64. The INT8 product's rescale, so
/// the same floats.
pub struct Epilogue<'a> {
    pub bias: &'a [i64],
    pub rescale: &'a [f32],
    pub activation: Activation,
}

/// The convolution of the input `levels` (HWC, `ih` x `iw` x `in_channels` integers, a byte
/// less its zero point; the padding's level is 0) with `kernels`, then its epilogue, into a
/// `out_channels` x `ih` x `iw` tensor; the products on `product`.
pub fn forward(
    kernels: &IntWinograd,
    levels: &[i16],
    (ih, iw, in_channels): (usize, usize, usize),
    out_channels: usize,
    epilogue: &Epilogue,
    product: GemmI16I32,
) -> Tensor {
    assert_eq!(levels.len(), ih * iw * in_channels, "an HWC input");
    assert!(kernels.span >= in_channels && kernels.span - in_channels < GEMM_I16_DEPTH);
    assert!(out_channels <= kernels.channels());
    assert!(epilogue.bias.len() == out_channels && epilogue.rescale.len() == out_channels);
    let (oh, ow) = (ih, iw);
    let (th, tw) = (tiles(oh), tiles(ow));
    let narrow = narrow_bias(epilogue.bias.iter().copied(), kernels.largest);
    let layout = Layout {
        levels,
        ih,
        iw,
        channels: in_channels,
        span: kernels.span,
        tw,
    };
    let target = Target {
        epilogue,
        narrow: narrow.as_deref(),
        rescale_sums: kernels::active().rescale_sums,
        oh,
        ow,
        tw,
        first_channel: 0,
        origin: 0,
    };
    let n = oh * ow;
    let span = kernels.span;
    let mut out = Tensor::for_overwrite(out_channels, oh, ow);
    let groups = out_channels.div_ceil(GEMM_GROUP);
    let rows_per_block = (BLOCK_TILES / tw).max(1);
    if th >= 4 * rows_per_block {
        // Large images: each worker takes bands of tile rows, every channel.
        let width = groups * GEMM_GROUP;
        for_each_tile_band(
            &mut out.data,
            n,
            (ow, TILE, tw),
            rows_per_block,
            || (Vec::new(), Vec::new()),
            |(inputs, products), tiles, origin, planes| {
                let count = tiles.len();
                // (every value of both is written before it is read)
                let inputs = at_least(inputs, POINTS * count * span);
                layout.transform(tiles.clone(), &mut split_points(inputs, count * span));
                let products = at_least(products, POINTS * count * width);
                kernels.multiply(inputs, count, 0..groups, product, products);
                let target = Target { origin, ..target };
                target.write(products, width, tiles, planes);
            },
        );
        return out;
    }
    // Small images: every tile's inputs transformed first (split over the workers), then each
    // worker takes its share of the channels, so each transformed kernel is read once.
    let count = th * tw;
    let inputs = transform_tiles(POINTS, count, span, |tiles, points| {
        layout.transform(tiles, points)
    });
    let inputs = &inputs;
    for_each_group_share(&mut out.data, n, |range, planes| {
        let mut products = Vec::new();
        for first in range.clone().step_by(SHARE_GROUPS) {
            let chunk = first..(first + SHARE_GROUPS).min(range.end);
            let width = chunk.len() * GEMM_GROUP;
            let products = at_least(&mut products, POINTS * count * width);
            kernels.multiply(inputs, count, chunk.clone(), product, products);
            let target = Target {
                first_channel: first * GEMM_GROUP,
                ..target
            };
            let local = (first - range.start) * GEMM_GROUP;
            let end = (local + width).min(planes.len());
            target.write(products, width, 0..count, &mut planes[local..end]);
        }
    });
    out
}

/// The first `len` values of `buffer`, grown to hold them (with zeros: what was there is
/// kept, for callers that write every value).
fn at_least<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
    &mut buffer[..len]
}

/// A buffer of [`POINTS`] matrices of `len` values each, as one slice a point.
fn split_points(buffer: &mut [i16], len: usize) -> Vec<&mut [i16]> {
    buffer.chunks_exact_mut(len).collect()
}

/// Where the input tiles come from: HWC levels of `ih` x `iw` x `channels`, `tw` tiles a row;
/// each transformed tile is `span` long (the channels padded with zeros).
struct Layout<'a> {
    levels: &'a [i16],
    ih: usize,
    iw: usize,
    channels: usize,
    span: usize,
    tw: usize,
}

/// Channels an input transform handles at once (plain arrays the compiler vectorises).
const LANES: usize = 16;

impl Layout<'_> {
    /// `Bᵀ d B` of the 4x4 input block of each tile of `tiles` (row-major over the tiles), into
    /// `points[ξ][t][c]` for the block's `t`-th tile (one slice a point, `tiles.len() * span`
    /// long); outside the input, `d` is the padding's 0.
    fn transform(&self, tiles: Range<usize>, points: &mut [&mut [i16]]) {
        let (c, span) = (self.channels, self.span);
        for (t, tile) in tiles.enumerate() {
            let (top, left) = (
                (tile / self.tw * TILE) as isize - 1,
                (tile % self.tw * TILE) as isize - 1,
            );
            let pixel = |i: usize, j: usize| -> &[i16] {
                let (y, x) = (top + i as isize, left + j as isize);
                let inside = y >= 0 && x >= 0 && (y as usize) < self.ih && (x as usize) < self.iw;
                match inside {
                    true => &self.levels[(y as usize * self.iw + x as usize) * c..][..c],
                    false => &[],
                }
            };
            let block: [[&[i16]; ALPHA]; ALPHA] =
                std::array::from_fn(|i| std::array::from_fn(|j| pixel(i, j)));
            for c0 in (0..span).step_by(LANES) {
                let lanes = LANES.min(span - c0);
                let mut d = [[[0i16; LANES]; ALPHA]; ALPHA];
                for (row, pixels) in d.iter_mut().zip(&block) {
                    for (v, pixel) in row.iter_mut().zip(pixels) {
                        let values = pixel.get(c0..).unwrap_or(&[]);
                        match values.first_chunk::<LANES>() {
                            Some(full) => *v = *full,
                            None => v[..values.len()].copy_from_slice(values),
                        }
                    }
                }
                // Bᵀ d: each column; then (Bᵀ d) B: each row
                let mut columns = [[[0i16; LANES]; ALPHA]; ALPHA];
                for j in 0..ALPHA {
                    for l in 0..LANES {
                        let t = input_transform([d[0][j][l], d[1][j][l], d[2][j][l], d[3][j][l]]);
                        for (i, v) in t.into_iter().enumerate() {
                            columns[i][j][l] = v;
                        }
                    }
                }
                let mut v = [[[0i16; LANES]; ALPHA]; ALPHA];
                for (row, out) in columns.iter().zip(&mut v) {
                    for l in 0..LANES {
                        let t = input_transform([row[0][l], row[1][l], row[2][l], row[3][l]]);
                        for (j, x) in t.into_iter().enumerate() {
                            out[j][l] = x;
                        }
                    }
                }
                for (point, lanes_of) in points.iter_mut().zip(v.iter().flatten()) {
                    let out = &mut point[t * span + c0..][..lanes];
                    match out.first_chunk_mut::<LANES>() {
                        Some(full) => *full = *lanes_of,
                        None => out.copy_from_slice(&lanes_of[..lanes]),
                    }
                }
            }
        }
    }
}

/// Where the outputs go: `oh` x `ow` planes, `tw` tiles a row; the planes at hand are channels
/// `first_channel..`, each starting at pixel `origin`.
#[derive(Clone, Copy)]
struct Target<'a> {
    epilogue: &'a Epilogue<'a>,
    /// The biases in i32, when every sum with its bias stays within i32, and the table's
    /// kernel that rescales such sums.
    narrow: Option<&'a [i32]>,
    rescale_sums: kernels::RescaleSums,
    oh: usize,
    ow: usize,
    tw: usize,
    first_channel: usize,
    origin: usize,
}

impl Target<'_> {
    /// `Aᵀ m A / 4` of the products `[ξ][t][width]` of `tiles` (whole rows of tiles, the
    /// `t`-th of them at `t`), through the epilogue into `planes` (one a channel, at most
    /// `width`). Each row of tiles becomes two rows of outputs, pixel by pixel, which go into
    /// the planes as the INT8 product's rows of pixels do ([`sums_to_planes`]).
    fn write(
        &self,
        products: &[i32],
        width: usize,
        tiles: Range<usize>,
        planes: &mut [&mut [f32]],
    ) {
        let (count, tw) = (tiles.len(), self.tw);
        let channels = planes.len();
        assert!(channels <= width && products.len() == POINTS * count * width);
        assert!(
            tiles.start.is_multiple_of(tw) && count.is_multiple_of(tw),
            "whole rows"
        );
        let at = self.first_channel..self.first_channel + channels;
        let (bias, rescale) = (
            &self.epilogue.bias[at.clone()],
            &self.epilogue.rescale[at.clone()],
        );
        let narrow = self.narrow.map(|b| &b[at]);
        let wide_values = |sums: &[i32], channels: Range<usize>, out: &mut [f32]| {
            let (bias, rescale) = (&bias[channels.clone()], &rescale[channels]);
            for (((v, &s), &b), &r) in out.iter_mut().zip(sums).zip(bias).zip(rescale) {
                *v = (i64::from(s) + b) as f32 * r;
            }
        };
        // one row of tiles' sums: two rows of `2 * tw` pixels of `channels`
        let line = TILE * tw * channels;
        let mut sums = vec![0i32; TILE * line];
        for (row, first) in tiles.clone().step_by(tw).enumerate() {
            let (upper, lower) = sums.split_at_mut(line);
            for ((j, upper), lower) in upper
                .chunks_exact_mut(TILE * channels)
                .enumerate()
                .zip(lower.chunks_exact_mut(TILE * channels))
            {
                let t = row * tw + j;
                let m: [&[i32]; POINTS] =
                    std::array::from_fn(|p| &products[(p * count + t) * width..][..channels]);
                let (y00, y01) = upper.split_at_mut(channels);
                let (y10, y11) = lower.split_at_mut(channels);
                // along the channels, on vectors
                for o in 0..channels {
                    let at = |i: usize, j: usize| m[i * ALPHA + j][o];
                    // Aᵀ m: each column; then (Aᵀ m) A: each row
                    let columns: [[i32; TILE]; ALPHA] = std::array::from_fn(|j| {
                        output_transform([at(0, j), at(1, j), at(2, j), at(3, j)])
                    });
                    let row = |r: usize| {
                        output_transform([
                            columns[0][r],
                            columns[1][r],
                            columns[2][r],
                            columns[3][r],
                        ])
                    };
                    // exactly 4 times the sums (see the module's notes)
                    let ([a, b], [c, d]) = (row(0), row(1));
                    (y00[o], y01[o], y10[o], y11[o]) = (a >> 2, b >> 2, c >> 2, d >> 2);
                }
            }
            let top = first / tw * TILE;
            for r in 0..TILE.min(self.oh - top) {
                let pixels = &sums[r * line..][..self.ow * channels];
                let at = (top + r) * self.ow - self.origin;
                let activation = self.epilogue.activation;
                match narrow {
                    Some(bias) => {
                        let epilogue = (self.rescale_sums, bias, rescale, activation);
                        rescale_to_planes(epilogue, pixels, channels, planes, at);
                    }
                    None => sums_to_planes(pixels, channels, planes, at, wide_values, activation),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{self, generic};
    use crate::layers::binconv::tests::TestRng;
    use crate::parallel;

    /// Random 8-bit kernels `[out][in][3][3]` and HWC levels within a byte less a zero point.
    fn case(rng: &mut TestRng, c: usize, k: usize, h: usize, w: usize) -> (Vec<i16>, Vec<i16>) {
        let zero = (rng.next() % 256) as i64;
        let levels = (0..h * w * c)
            .map(|_| ((rng.next() % 256) as i64 - zero) as i16)
            .collect();
        let weights = (0..k * c * 9)
            .map(|_| ((rng.next() % 255) as i64 - 127) as i16)
            .collect();
        (weights, levels)
    }

    /// The convolution summed plainly in i64, through the same epilogue.
    fn reference(
        weights: &[i16],
        levels: &[i16],
        (h, w, c): (usize, usize, usize),
        k: usize,
        epilogue: &Epilogue,
    ) -> Tensor {
        let mut out = Tensor::zeros(k, h, w);
        for o in 0..k {
            for y in 0..h {
                for x in 0..w {
                    let mut sum = 0i64;
                    for i in 0..c {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = ((y + ky) as isize - 1, (x + kx) as isize - 1);
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                    continue;
                                }
                                let d = levels[(iy as usize * w + ix as usize) * c + i];
                                let g = weights[((o * c + i) * 3 + ky) * 3 + kx];
                                sum += i64::from(d) * i64::from(g);
                            }
                        }
                    }
                    let v = (sum + epilogue.bias[o]) as f32 * epilogue.rescale[o];
                    out.data[(o * h + y) * w + x] = epilogue.activation.apply(v);
                }
            }
        }
        out
    }

    fn bits(t: &Tensor) -> Vec<u32> {
        t.data.iter().map(|v| v.to_bits()).collect()
    }

    /// The plain integer convolution, bit for bit: on both paths (small and large images),
    /// with tiles cut by the edges, channel counts off the groups and odd input counts, biases
    /// in i32 and past it, on the generic product and the table's, split three ways.
    #[test]
    fn integer_winograd_is_the_convolution_exactly() {
        let mut rng = TestRng(47);
        let mut paths_seen = [false; 2];
        for (c, k, h, w) in [
            (5, 7, 6, 6),
            (16, 32, 13, 13),
            (3, 40, 7, 9),
            (20, 17, 26, 26),
            (9, 16, 130, 9),
            (6, 20, 150, 70),
            (16, 33, 61, 131),
        ] {
            let (weights, levels) = case(&mut rng, c, k, h, w);
            let kernels = IntWinograd::new(&weights, k, c).expect("the sums fit");
            let rows_per_block = (BLOCK_TILES / tiles(w)).max(1);
            paths_seen[usize::from(tiles(h) >= 4 * rows_per_block)] = true;
            let rescale: Vec<f32> = (0..k).map(|o| (-(o as i32 % 5) as f32).exp2()).collect();
            for wide in [false, true] {
                let mut bias: Vec<i64> = (0..k)
                    .map(|_| (rng.next() % 20001) as i64 - 10000)
                    .collect();
                if wide {
                    bias[k - 1] = i64::from(i32::MAX);
                }
                let epilogue = Epilogue {
                    bias: &bias,
                    rescale: &rescale,
                    activation: Activation::Leaky,
                };
                let want = bits(&reference(&weights, &levels, (h, w, c), k, &epilogue));
                let run = |product: GemmI16I32| {
                    bits(&forward(
                        &kernels,
                        &levels,
                        (h, w, c),
                        k,
                        &epilogue,
                        product,
                    ))
                };
                let case = format!("{c}->{k} {h}x{w} wide {wide}");
                assert_eq!(run(generic::gemm_i16_i32), want, "{case}");
                for table in kernels::supported() {
                    if let Some(product) = table.gemm_i16_i32 {
                        assert_eq!(run(product), want, "{case} on {}", table.name);
                    }
                }
                let split = parallel::with_workers(&parallel::SplitWays::<3>, || {
                    run(generic::gemm_i16_i32)
                });
                assert_eq!(split, want, "{case} split three ways");
            }
        }
        assert_eq!(paths_seen, [true; 2], "small and large images");
    }

    /// A layer whose sums could leave i32 is declined, one that stays within is taken.
    #[test]
    fn kernels_whose_sums_could_leave_i32_are_declined() {
        // every weight at the top, 127: the 16 points' |u| of a kernel add up to
        // (254 + 381 + 127 + 254) x (2 + 3 + 1 + 2) = 8128, and 8128 x 1020 x c stays within
        // i32 up to c = 259 (trained kernels, far from all at the top, go much further:
        // YOLOv3-tiny's 512 inputs)
        let (k, c) = (1, 259);
        assert!(IntWinograd::new(&vec![127; k * c * 9], k, c).is_some());
        assert!(IntWinograd::new(&vec![127; k * (c + 1) * 9], k, c + 1).is_none());
        // with one large kernel among small ones, that channel's sums decide
        let mut weights = vec![1; 2 * c * 9];
        weights[c * 9..].fill(-127);
        assert!(IntWinograd::new(&weights, 2, c).is_some());
        weights.extend(vec![127; 2 * 9]);
        assert!(IntWinograd::new(&weights, 2, c + 1).is_none());
        // kernels that transform past i16: declined, not wrapped
        assert!(IntWinograd::new(&[i16::MAX; 9], 1, 1).is_none());
    }

    #[test]
    fn only_3x3_stride_1_padding_1() {
        assert!(fits(3, 1, 1));
        for (size, stride, pad) in [(1, 1, 0), (3, 2, 1), (3, 1, 0), (5, 1, 2)] {
            assert!(
                !fits(size, stride, pad),
                "{size}x{size} /{stride} pad {pad}"
            );
        }
    }
}
