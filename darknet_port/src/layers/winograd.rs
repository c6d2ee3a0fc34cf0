//! 3x3 stride-1 float convolutions by Winograd's minimal filtering F(4x4, 3x3) (Lavin and
//! Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 4x4 block of outputs
//! comes from the 6x6 block of inputs around it with 36 multiplies per input and output
//! channel instead of 144. Input blocks and kernels are transformed (`Bᵀ d B`, `G g Gᵀ`); for
//! each of the 36 points the products summed over the input channels are one matrix product,
//! run on the kernel table's fused product; each output block is transformed back (`Aᵀ m A`).
//!
//! The transforms work on 16 channels at once (plain loops over arrays the compiler
//! vectorises), reading and writing whole runs of an HWC input and of the products. Results
//! differ from the direct sum by rounding only (the tests hold them to the reference).

use super::activation::Activation;
use super::geometry::ConvGeometry;
use super::windows::{for_each_group_share, for_each_tile_band, to_hwc_f32, transform_tiles};
use super::Tensor;
// POINTS: the points of a transformed tile (ALPHA x ALPHA), one matrix product each
use crate::kernels::{
    Kernels, Lanes, PackedF32, SgemmFma, WinogradInput, WinogradOutput, SGEMM_GROUP,
    WINOGRAD_POINTS as POINTS,
};
use std::ops::Range;

/// Channels a transform handles at once.
const LANES: usize = SGEMM_GROUP;
/// Outputs along a tile's side.
const TILE: usize = 4;
/// Inputs along a tile's side: `TILE + 3 - 1`.
const ALPHA: usize = 6;

/// A layer's kernels transformed, one packed `[out][in]` matrix per point.
#[derive(Debug, Clone, PartialEq)]
pub struct WinogradKernels {
    points: Vec<PackedF32>,
}

impl WinogradKernels {
    /// `G g Gᵀ` of every 3x3 kernel in `weights` (`[out][in][3][3]`, of `geometry`), in f64 and
    /// then rounded.
    pub fn new(geometry: &ConvGeometry, weights: &[f32]) -> WinogradKernels {
        assert_eq!(geometry.size, 3, "3x3 kernels");
        let (c, k) = (geometry.in_channels, geometry.out_channels);
        assert_eq!(weights.len(), k * c * 9, "3x3 kernels of the geometry");
        let mut points = vec![vec![0f32; k * c]; POINTS];
        for (n, kernel) in weights.chunks_exact(9).enumerate() {
            let g = |y: usize, x: usize| f64::from(kernel[y * 3 + x]);
            // G g: the columns first
            let mut columns = [[0f64; 3]; ALPHA];
            for x in 0..3 {
                let t = kernel_transform([g(0, x), g(1, x), g(2, x)]);
                for (row, v) in columns.iter_mut().zip(t) {
                    row[x] = v;
                }
            }
            // (G g) Gᵀ: then each row
            for (r, row) in columns.iter().enumerate() {
                for (s, v) in kernel_transform(*row).into_iter().enumerate() {
                    points[r * ALPHA + s][n] = v as f32;
                }
            }
        }
        WinogradKernels {
            points: points.iter().map(|w| PackedF32::new(w, k, c)).collect(),
        }
    }

    /// The 36 matrix products of a block of `count` tiles: `inputs` `[ξ][t][c]`, into
    /// `products` `[ξ][t][16 * groups.len()]`, for the channel groups `groups`.
    fn multiply(
        &self,
        inputs: &[f32],
        count: usize,
        groups: Range<usize>,
        product: SgemmFma,
        products: &mut [f32],
    ) {
        let width = groups.len() * SGEMM_GROUP;
        for ((point, v), mm) in self
            .points
            .iter()
            .zip(inputs.chunks_exact(inputs.len() / POINTS))
            .zip(products.chunks_exact_mut(count * width))
        {
            product(v, point, groups.clone(), mm);
        }
    }
}

/// `G` times a kernel's column or row.
fn kernel_transform([a, b, c]: [f64; 3]) -> [f64; ALPHA] {
    [
        a / 4.0,
        -(a + b + c) / 6.0,
        -(a - b + c) / 6.0,
        a / 24.0 + b / 12.0 + c / 6.0,
        a / 24.0 - b / 12.0 + c / 6.0,
        c,
    ]
}

/// Whether [`forward`] suits `conv` on an output of `oh` x `ow` with `table`'s product: 3x3,
/// stride 1, padding 1 (the output the input's size), and tiles enough to share each
/// transformed kernel ([`Kernels::winograd_min_tiles`]: on 13x13 outputs the 36 transformed
/// matrices, 4 times the kernels, are read for 16 tiles only).
pub fn suits(conv: &ConvGeometry, oh: usize, ow: usize, table: &Kernels) -> bool {
    fits(conv) && tiles(oh) * tiles(ow) >= table.winograd_min_tiles
}

/// The shape [`forward`] computes: 3x3, stride 1, padding 1.
fn fits(conv: &ConvGeometry) -> bool {
    conv.size == 3 && conv.stride == 1 && conv.pad == 1
}

fn tiles(outputs: usize) -> usize {
    outputs.div_ceil(TILE)
}

/// Output tiles a block of the large-image path transforms together, about: their
/// transformed inputs and products stay in L2.
const BLOCK_TILES: usize = 64;

/// The convolution of `input` with `kernels`, the transformed kernels of a convolution of
/// `conv`'s geometry, then its `(bias, activation)`: the transforms of `table`, the matrix
/// products of `product`.
pub fn forward(
    conv: &ConvGeometry,
    (bias, activation): (&[f32], Activation),
    kernels: &WinogradKernels,
    input: &Tensor,
    table: &Kernels,
    product: SgemmFma,
) -> Tensor {
    let (ih, iw) = (input.height, input.width);
    let (oh, ow) = (conv.output_dim(ih), conv.output_dim(iw));
    assert!(fits(conv), "a 3x3 stride-1 convolution, padding 1");
    let (c, m) = (conv.in_channels, conv.out_channels);
    let (th, tw) = (tiles(oh), tiles(ow));
    let hwc = to_hwc_f32(input);
    let layout = Layout {
        hwc: &hwc,
        ih,
        iw,
        channels: c,
        tw,
        transform: table.winograd_input,
    };
    // all channels from pixel 0; each path says which part it writes
    let target = Target {
        bias,
        activation,
        oh,
        ow,
        tw,
        first_channel: 0,
        origin: 0,
        transform: table.winograd_output,
    };
    let n = oh * ow;
    let mut out = Tensor::for_overwrite(m, oh, ow);
    let groups = kernels.points[0].groups();
    let rows_per_block = (BLOCK_TILES / tw).max(1);
    if th >= 4 * rows_per_block {
        // Large images (four bands or more, so the workers have several each): each worker
        // takes bands of tile rows, every channel.
        let width = groups * SGEMM_GROUP;
        for_each_tile_band(
            &mut out.data,
            n,
            (ow, TILE, tw),
            rows_per_block,
            || (Vec::new(), Vec::new()),
            |(inputs, products), tiles, origin, planes| {
                let count = tiles.len();
                inputs.clear();
                inputs.resize(POINTS * count * c, 0.0);
                layout.transform(tiles.clone(), &mut split_points(inputs, count * c));
                products.clear();
                products.resize(POINTS * count * width, 0.0);
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
    let inputs = transform_tiles(POINTS, count, c, |tiles, points| {
        layout.transform(tiles, points)
    });
    let inputs = &inputs;
    for_each_group_share(&mut out.data, n, |range, planes| {
        let width = range.len() * SGEMM_GROUP;
        let mut products = vec![0f32; POINTS * count * width];
        let first_channel = range.start * SGEMM_GROUP;
        kernels.multiply(inputs, count, range, product, &mut products);
        let target = Target {
            first_channel,
            ..target
        };
        target.write(&products, width, 0..count, planes);
    });
    out
}

/// A buffer of [`POINTS`] matrices of `len` values each, as one slice a point.
fn split_points(buffer: &mut [f32], len: usize) -> Vec<&mut [f32]> {
    buffer.chunks_exact_mut(len).collect()
}

/// Where the input tiles come from: an HWC input of `ih` x `iw` x `channels`, `tw` tiles a row.
struct Layout<'a> {
    hwc: &'a [f32],
    ih: usize,
    iw: usize,
    channels: usize,
    tw: usize,
    transform: WinogradInput,
}

impl Layout<'_> {
    /// `Bᵀ d B` of the 6x6 input block of each tile of `tiles` (row-major over the tiles), into
    /// `points[ξ][t][c]` for the block's `t`-th tile (one slice a point, `tiles.len() * channels`
    /// long); outside the input, `d` is the padding's zero.
    fn transform(&self, tiles: Range<usize>, points: &mut [&mut [f32]]) {
        let c = self.channels;
        let chunks = c.div_ceil(LANES);
        // one tile's blocks, 16 channels each: [chunk][i][j]
        let mut blocks = vec![Lanes::default(); chunks * POINTS];
        let mut transformed = blocks.clone();
        for (t, tile) in tiles.enumerate() {
            let (top, left) = (
                (tile / self.tw * TILE) as isize - 1,
                (tile % self.tw * TILE) as isize - 1,
            );
            for i in 0..ALPHA {
                let y = top + i as isize;
                for j in 0..ALPHA {
                    let x = left + j as isize;
                    let inside =
                        y >= 0 && x >= 0 && (y as usize) < self.ih && (x as usize) < self.iw;
                    let pixel = if inside {
                        &self.hwc[(y as usize * self.iw + x as usize) * c..][..c]
                    } else {
                        &[][..]
                    };
                    for (q, block) in blocks.chunks_exact_mut(POINTS).enumerate() {
                        let lanes = &mut block[i * ALPHA + j].0;
                        let values = pixel.get(q * LANES..).unwrap_or(&[]);
                        let n = values.len().min(LANES);
                        lanes[..n].copy_from_slice(&values[..n]);
                        lanes[n..].fill(0.0);
                    }
                }
            }
            (self.transform)(&blocks, &mut transformed);
            for (q, block) in transformed.chunks_exact(POINTS).enumerate() {
                let (c0, lanes) = (q * LANES, LANES.min(c - q * LANES));
                for (point, v) in points.iter_mut().zip(block) {
                    point[t * c + c0..][..lanes].copy_from_slice(&v.0[..lanes]);
                }
            }
        }
    }
}

/// Where the outputs go: `oh` x `ow` planes, `tw` tiles a row, each channel biased and
/// activated; the planes at hand are channels `first_channel..`, each starting at pixel `origin`.
#[derive(Clone, Copy)]
struct Target<'a> {
    bias: &'a [f32],
    activation: Activation,
    oh: usize,
    ow: usize,
    tw: usize,
    first_channel: usize,
    origin: usize,
    transform: WinogradOutput,
}

impl Target<'_> {
    /// `Aᵀ m A` of the products `[ξ][t][width]` of `tiles` (the `t`-th of them at `t`), biased,
    /// activated, into `planes` (one a channel).
    fn write(
        &self,
        products: &[f32],
        width: usize,
        tiles: Range<usize>,
        planes: &mut [&mut [f32]],
    ) {
        let count = tiles.len();
        let chunks = planes.len().div_ceil(LANES);
        let mut blocks = vec![Lanes::default(); chunks * POINTS];
        let mut outputs = vec![Lanes::default(); chunks * TILE * TILE];
        let mut bias = vec![Lanes::default(); chunks];
        for (o, &b) in self.bias[self.first_channel..][..planes.len()]
            .iter()
            .enumerate()
        {
            bias[o / LANES].0[o % LANES] = b;
        }
        for (t, tile) in tiles.enumerate() {
            let (top, left) = (tile / self.tw * TILE, tile % self.tw * TILE);
            let rows = TILE.min(self.oh - top);
            let cols = TILE.min(self.ow - left);
            for (q, block) in blocks.chunks_exact_mut(POINTS).enumerate() {
                for (point, lanes) in block.iter_mut().enumerate() {
                    let at = (point * count + t) * width + q * LANES;
                    lanes.0.copy_from_slice(&products[at..at + LANES]);
                }
            }
            (self.transform)(&blocks, &mut outputs);
            for (q, block) in outputs.chunks_exact_mut(TILE * TILE).enumerate() {
                for lanes in block.iter_mut() {
                    for (v, b) in lanes.0.iter_mut().zip(&bias[q].0) {
                        *v += b;
                    }
                    self.activation.apply_in_place(&mut lanes.0);
                }
                let o0 = q * LANES;
                for (l, plane) in planes[o0..].iter_mut().take(LANES).enumerate() {
                    for r in 0..rows {
                        let at = (top + r) * self.ow + left - self.origin;
                        for (s, v) in plane[at..at + cols].iter_mut().enumerate() {
                            *v = block[r * TILE + s].0[l];
                        }
                    }
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
    use crate::layers::conv::{self, tests::bits, FloatConv};
    use crate::parallel;

    /// A random 3x3 leaky convolution of `cin` to `cout` channels and an `h` x `w` input.
    fn case(rng: &mut TestRng, cin: usize, cout: usize, h: usize, w: usize) -> (FloatConv, Tensor) {
        conv::tests::case(rng, (cin, cout, 3, 1, 1, h, w))
    }

    /// Within rounding of the direct sum (relative to the sum of the terms' magnitudes, which
    /// is what the transforms' rounding scales with), and the same bits however the work is
    /// split, on both paths (small and large images), with tiles cut by the edges and channel
    /// counts off the lanes.
    #[test]
    fn winograd_is_the_convolution() {
        let mut rng = TestRng(45);
        let mut paths_seen = [false; 2];
        for (cin, cout, h, w) in [
            (5, 7, 26, 26),
            (16, 32, 23, 29),
            (3, 40, 25, 24),
            (20, 17, 70, 37),
            (8, 16, 130, 9),
            // the large-image path: bands of tile rows, the last one cut
            (6, 20, 150, 70),
            (16, 33, 62, 260),
        ] {
            let (conv, input) = case(&mut rng, cin, cout, h, w);
            let geometry = conv.geometry();
            assert!(suits(&geometry, h, w, generic()), "{h}x{w}");
            let rows_per_block = (BLOCK_TILES / tiles(w)).max(1);
            paths_seen[usize::from(tiles(h) >= 4 * rows_per_block)] = true;
            let kernels = WinogradKernels::new(&geometry, &conv.weights);
            let epilogue = (conv.bias.as_slice(), conv.activation);
            let fast = forward(
                &geometry,
                epilogue,
                &kernels,
                &input,
                generic(),
                generic::sgemm_fma,
            );
            let want = conv.forward_reference(&input);
            // measured: within 7e-7 of the terms
            let terms = (cin * 9) as f32;
            for (i, (x, y)) in fast.data.iter().zip(&want.data).enumerate() {
                assert!(
                    (x - y).abs() < 2e-6 * terms,
                    "{cin}->{cout} {h}x{w} at {i}: {x} vs {y}"
                );
            }
            let split = parallel::with_workers(&parallel::SplitWays::<3>, || {
                forward(
                    &geometry,
                    epilogue,
                    &kernels,
                    &input,
                    generic(),
                    generic::sgemm_fma,
                )
            });
            assert_eq!(bits(&split), bits(&fast), "split three ways");
            if let Some(product) = kernels::best().sgemm_fma {
                let simd = forward(
                    &geometry,
                    epilogue,
                    &kernels,
                    &input,
                    kernels::best(),
                    product,
                );
                assert_eq!(bits(&simd), bits(&fast), "the table's product");
            }
        }
        assert_eq!(paths_seen, [true; 2], "small and large images");
    }

    #[test]
    fn only_3x3_stride_1_padding_1_on_enough_tiles() {
        let mut rng = TestRng(46);
        let (conv, _) = case(&mut rng, 4, 4, 8, 8);
        let table = generic();
        assert!(suits(&conv.geometry(), 24, 24, table) && suits(&conv.geometry(), 21, 24, table));
        assert!(!suits(&conv.geometry(), 13, 13, table), "16 tiles");
        let fewer = Kernels {
            winograd_min_tiles: 16,
            ..*table
        };
        assert!(
            suits(&conv.geometry(), 13, 13, &fewer),
            "16 tiles, as AVX2's"
        );
        assert!(!suits(&conv.geometry(), 12, 13, &fewer), "12 tiles");
        for (size, stride, pad) in [(1, 1, 0), (3, 2, 1), (3, 1, 0)] {
            let other = FloatConv {
                size,
                stride,
                pad,
                ..conv.clone()
            };
            assert!(
                !suits(&other.geometry(), 26, 26, table),
                "{size}x{size} /{stride} pad {pad}"
            );
        }
    }
}
