//! Darknet's float `[convolutional]` layer: weights `[out][in][ky][kx]`, a bias per output
//! channel (batch norm, when present, is folded into both at load), then the activation.

use super::activation::Activation;
use super::geometry::ConvGeometry;
use super::spare::Scratch;
use super::windows::{
    for_each_block, for_each_group_share, sums_to_planes, taps_hwc, to_hwc_f32, ROW_SPLIT,
};
use super::winograd::{self, WinogradKernels};
use super::Tensor;
use crate::kernels::{Kernels, SGEMM_GROUP};
use crate::{kernels, parallel};
use std::sync::OnceLock;

/// How a float convolution is computed; [`FloatConv::algorithm`] picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// The direct kernel: the reference's rounding, bit for bit, on every table.
    Direct,
    /// Winograd's F(4x4, 3x3) with the table's fused product.
    Winograd,
    /// The table's fused product on kernels packed once.
    FusedProduct,
    /// `matrixmultiply`'s SGEMM, a block of output pixels at a time.
    BlockedSgemm,
    /// im2col and one SGEMM split by output channels.
    Im2colSgemm,
}

/// The most inputs a pixel (`in_channels * size * size`) of a layer on the direct kernel.
pub const DIRECT_MAX_SPAN: usize = 36;

#[derive(Debug, Clone, PartialEq)]
pub struct FloatConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub activation: Activation,
    /// The kernels in the layout of the table's fused product, made on its first use.
    pub packed: PackedOnce,
}

/// Kernels packed once, on first use, from the layer's weights (`Default` is empty): for
/// [`kernels::SgemmFma`] as they are and transformed for Winograd's algorithm, and for
/// `matrixmultiply`'s blocked product in tap order. Compared equal
/// whatever they hold: they are derived from fields that are compared.
#[derive(Debug, Clone, Default)]
pub struct PackedOnce {
    plain: OnceLock<kernels::PackedF32>,
    winograd: OnceLock<WinogradKernels>,
    /// Each kernel's taps in `(ky, kx, i)` order, for `matrixmultiply`'s blocked product.
    taps: OnceLock<Vec<f32>>,
}

impl PartialEq for PackedOnce {
    fn eq(&self, _: &PackedOnce) -> bool {
        true
    }
}

impl FloatConv {
    pub fn geometry(&self) -> ConvGeometry {
        ConvGeometry {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            size: self.size,
            stride: self.stride,
            pad: self.pad,
        }
    }

    pub fn output_dim(&self, input: usize) -> usize {
        self.geometry().output_dim(input)
    }

    pub fn validate(&self) -> Result<(), String> {
        let want = self.out_channels * self.in_channels * self.size * self.size;
        if self.weights.len() != want {
            return Err(format!(
                "{} weights, the shape needs {want}",
                self.weights.len()
            ));
        }
        if self.bias.len() != self.out_channels {
            return Err(format!(
                "{} biases for {} filters",
                self.bias.len(),
                self.out_channels
            ));
        }
        if self.stride == 0 || self.size == 0 {
            return Err("size and stride must be positive".into());
        }
        Ok(())
    }

    /// The convolution, biased and activated, by the algorithm [`FloatConv::algorithm`] picks
    /// for this input on the active kernel table.
    pub fn forward(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        self.forward_by(self.algorithm(oh, ow, kernels::active()), input)
    }

    /// A matrix product, whatever the shape (what [`FloatConv::forward`] runs where the direct
    /// kernel loses): the algorithm [`FloatConv::algorithm`] picks, the direct kernel aside.
    pub fn forward_gemm(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let table = kernels::active();
        self.forward_by(self.product_algorithm(oh, ow, table), input)
    }

    /// The one place that decides how this layer is computed, from its geometry, its output
    /// size and the kernel table: the direct kernel on layers with few input channels
    /// ([`FloatConv::runs_direct`]), else a matrix product. With the table's fused product
    /// (AVX-512, AVX2 with FMA): Winograd's F(4x4, 3x3) on 3x3 stride-1 layers with tiles
    /// enough for the table ([`winograd::suits`]), the plain product on kernels packed once
    /// elsewhere. Without: `matrixmultiply`'s SGEMM, on large images a block of output pixels
    /// at a time, elsewhere im2col and one product split by output channels. The kernels each
    /// algorithm needs are packed once, on its first use.
    pub fn algorithm(&self, out_h: usize, out_w: usize, table: &Kernels) -> ConvAlgorithm {
        if self.runs_direct() {
            ConvAlgorithm::Direct
        } else {
            self.product_algorithm(out_h, out_w, table)
        }
    }

    fn product_algorithm(&self, out_h: usize, out_w: usize, table: &Kernels) -> ConvAlgorithm {
        let geometry = self.geometry();
        if table.sgemm_fma.is_some() {
            if winograd::suits(&geometry, out_h, out_w, table) {
                ConvAlgorithm::Winograd
            } else {
                ConvAlgorithm::FusedProduct
            }
        } else if !geometry.is_pointwise() && out_h * out_w >= 16 * BLOCK_PIXELS {
            ConvAlgorithm::BlockedSgemm
        } else {
            ConvAlgorithm::Im2colSgemm
        }
    }

    /// The convolution by `algorithm` (one the active table can run: a fused-product
    /// algorithm on a table without that product runs im2col's instead).
    pub fn forward_by(&self, algorithm: ConvAlgorithm, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        match (algorithm, kernels::active().sgemm_fma) {
            (ConvAlgorithm::Direct, _) => self.forward_direct(input),
            (ConvAlgorithm::Winograd, Some(product)) => self.forward_winograd(input, product),
            (ConvAlgorithm::FusedProduct, Some(product)) => self.forward_fused(input, product),
            (ConvAlgorithm::BlockedSgemm, _) => self.forward_blocks(input),
            _ => self.forward_im2col(input),
        }
    }

    /// im2col (a pointwise layer's input is its own matrix) and one SGEMM, split by output
    /// channels over the workers.
    fn forward_im2col(&self, input: &Tensor) -> Tensor {
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let pointwise = self.geometry().is_pointwise();
        let (m, k, n) = (
            self.out_channels,
            self.in_channels * self.size * self.size,
            oh * ow,
        );
        let columns;
        let col: &[f32] = if pointwise {
            &input.data
        } else {
            columns = im2col(input, self.size, self.stride, self.pad, oh, ow);
            &columns
        };
        let mut out = Tensor::for_overwrite(m, oh, ow);
        for (o, plane) in out.data.chunks_exact_mut(n).enumerate() {
            plane.fill(self.bias[o]);
        }
        assert_eq!(
            (self.weights.len(), col.len(), out.data.len()),
            (m * k, k * n, m * n)
        );
        // Output channels split over the workers: each part is its own rows of A and C.
        parallel::for_each_part(&mut out.data, n, 8, |range, c| {
            let a = &self.weights[range.start * k..range.end * k];
            sgemm_accumulate(range.len(), k, n, a, col, c)
        });
        for v in &mut out.data {
            *v = self.activation.apply(*v);
        }
        out
    }

    /// Winograd's F(4x4, 3x3) with the table's fused product, on kernels transformed once.
    fn forward_winograd(&self, input: &Tensor, product: kernels::SgemmFma) -> Tensor {
        let geometry = self.geometry();
        let transformed = self
            .packed
            .winograd
            .get_or_init(|| WinogradKernels::new(&geometry, &self.weights));
        let epilogue = (self.bias.as_slice(), self.activation);
        winograd::forward(
            &geometry,
            epilogue,
            transformed,
            input,
            kernels::active(),
            product,
        )
    }

    /// The table's fused product on kernels packed once: the input in HWC order, each output
    /// pixel's window as a row (`(ky, kx, i)` order; a pointwise layer's rows are the input
    /// itself). On large images each worker takes blocks of pixels, their rows built in cache;
    /// on small ones (where the kernels outweigh the rows) all rows are built first and each
    /// worker takes its share of the channels, so each kernel is read by one worker only.
    fn forward_fused(&self, input: &Tensor, product: kernels::SgemmFma) -> Tensor {
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let (n, m) = (oh * ow, self.out_channels);
        let span = self.in_channels * self.size * self.size;
        let packed = self.packed.plain.get_or_init(|| {
            let kernels = taps_hwc(&self.weights, self.in_channels, self.size);
            kernels::PackedF32::new(&kernels, m, span)
        });
        let groups = packed.groups();
        let hwc = to_hwc_f32(input);
        let windows = self.geometry().windows();
        let dims = (input.height, input.width);
        let pointwise = self.geometry().is_pointwise();
        let mut out = Tensor::for_overwrite(m, oh, ow);
        if n >= 16 * BLOCK_PIXELS {
            let width = groups * SGEMM_GROUP;
            for_each_block(
                &mut out.data,
                n,
                (BLOCK_PIXELS, ROW_SPLIT),
                || (Vec::new(), vec![0f32; BLOCK_PIXELS * width]),
                |(rows, sums), pixels, first, planes| {
                    let count = pixels.len();
                    let rows: &[f32] = if pointwise {
                        &hwc[pixels.start * span..pixels.end * span]
                    } else {
                        windows.rows(&hwc, dims, ow, pixels, span, 0.0, rows);
                        rows
                    };
                    let sums = &mut sums[..count * width];
                    product(rows, packed, 0..groups, sums);
                    self.finish(sums, width, 0, planes, first);
                },
            );
            return out;
        }
        let all_rows;
        let rows: &[f32] = if pointwise {
            &hwc
        } else {
            let mut rows = vec![0f32; n * span];
            parallel::for_each_part(&mut rows, span, 64, |range, mine| {
                windows.fill(&hwc, dims, ow, range, span, mine)
            });
            all_rows = rows;
            &all_rows
        };
        for_each_group_share(&mut out.data, n, |range, planes| {
            let width = range.len() * SGEMM_GROUP;
            let mut sums = vec![0f32; n * width];
            let first_channel = range.start * SGEMM_GROUP;
            product(rows, packed, range, &mut sums);
            self.finish(&sums, width, first_channel, planes, 0);
        });
        out
    }

    /// Sums `[pixel][width]` of the channels from `first_channel` into `planes` (one a
    /// channel, from `first_channel`) at `at`: biased and activated.
    fn finish(
        &self,
        sums: &[f32],
        width: usize,
        first_channel: usize,
        planes: &mut [&mut [f32]],
        at: usize,
    ) {
        let bias = &self.bias[first_channel..];
        let values = |sums: &[f32], channels: std::ops::Range<usize>, out: &mut [f32]| {
            for ((v, &s), &b) in out.iter_mut().zip(sums).zip(&bias[channels]) {
                *v = s + b;
            }
        };
        sums_to_planes(sums, width, planes, at, values, self.activation);
    }

    /// The blocked SGEMM: the input in HWC order, then for each block of output pixels its
    /// windows as rows (`(ky, kx, i)` order, in cache) times the kernels, biased and activated
    /// into the worker's slice of every output plane. An image's im2col matrix is many times
    /// the cache; a block's rows are not.
    pub fn forward_blocks(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (oh, ow) = (self.output_dim(input.height), self.output_dim(input.width));
        let (n, m) = (oh * ow, self.out_channels);
        let span = self.in_channels * self.size * self.size;
        let hwc = to_hwc_f32(input);
        let kernels = self
            .packed
            .taps
            .get_or_init(|| taps_hwc(&self.weights, self.in_channels, self.size));
        let windows = self.geometry().windows();
        let dims = (input.height, input.width);
        let mut out = Tensor::for_overwrite(m, oh, ow);
        for_each_block(
            &mut out.data,
            n,
            (BLOCK_PIXELS, ROW_SPLIT),
            || (Vec::new(), vec![0f32; BLOCK_PIXELS * m]),
            |(rows, sums), pixels, first, planes| {
                let count = pixels.len();
                windows.rows(&hwc, dims, ow, pixels, span, 0.0, rows);
                let sums = &mut sums[..count * m];
                // sums[p][o] = rows[p][.] . kernels[o][.]: the kernels read transposed
                sgemm(count, span, m, (rows, span, 1), (kernels, 1, span), sums);
                self.finish(sums, m, 0, planes, first);
            },
        );
        out
    }

    /// Whether [`FloatConv::forward`] runs the direct kernel rather than a matrix product: on
    /// layers with few input channels (first layers, on RGB), where building the product's
    /// rows costs more than the arithmetic (on YOLOv3-tiny's first layer the fused product
    /// was twice the direct kernel's time). Elsewhere products with fused multiply-adds are
    /// faster than a kernel that keeps the direct reference's rounding could be
    /// (`cargo bench -p darknet_port --bench kernels` compares them).
    pub fn runs_direct(&self) -> bool {
        self.in_channels * self.size * self.size <= DIRECT_MAX_SPAN
    }

    /// The direct convolution of the kernel table: the terms of each output in the order of
    /// [`FloatConv::forward_reference`], so its result is the reference's, bit for bit, on every
    /// table.
    pub fn forward_direct(&self, input: &Tensor) -> Tensor {
        assert_eq!(input.channels, self.in_channels);
        let (ih, iw) = (input.height, input.width);
        let (oh, ow) = (self.output_dim(ih), self.output_dim(iw));
        let (k, p) = (self.size, self.pad);
        let conv = kernels::active().conv_direct;
        let s = self.stride;
        let pointwise = p == 0 && k == 1 && s == 1;
        // Pointwise: each plane is one long row (no borders to skip).
        let (ph, pw) = (ih + 2 * p, iw + 2 * p);
        let padded = (!pointwise).then(|| {
            // every value written, the border's zeros too: a spare buffer will do
            let mut planes = Scratch::new(self.in_channels * ph * pw);
            for (src, dst) in input
                .data
                .chunks_exact(ih * iw)
                .zip(planes.chunks_exact_mut(ph * pw))
            {
                let (top, rest) = dst.split_at_mut(p * pw);
                let (rows, bottom) = rest.split_at_mut(ih * pw);
                top.fill(0.0);
                bottom.fill(0.0);
                for (s, d) in src.chunks_exact(iw).zip(rows.chunks_exact_mut(pw)) {
                    d[..p].fill(0.0);
                    d[p..p + iw].copy_from_slice(s);
                    d[p + iw..].fill(0.0);
                }
            }
            planes
        });
        let (source, ph, pw, k) = match &padded {
            None => (&input.data[..], 1, ih * iw, 1),
            Some(planes) => (&planes[..], ph, pw, k),
        };
        // Output channels split over the workers: each part its own kernels and planes (every
        // output starts at its bias, so the buffer's old values do not matter).
        let mut out = Tensor::for_overwrite(self.out_channels, oh, ow);
        let span = self.in_channels * k * k;
        parallel::for_each_part(&mut out.data, oh * ow, 2, |range, mine| {
            let weights = &self.weights[range.start * span..range.end * span];
            let bias = &self.bias[range];
            conv(source, ph, pw, k, s, weights, bias, mine);
            for v in mine {
                *v = self.activation.apply(*v);
            }
        });
        out
    }

    /// One multiply-add per term, in the textbook order: the reference for faster kernels.
    pub fn forward_reference(&self, input: &Tensor) -> Tensor {
        let (ih, iw) = (input.height, input.width);
        let (oh, ow) = (self.output_dim(ih), self.output_dim(iw));
        let k = self.size;
        let mut out = Tensor::zeros(self.out_channels, oh, ow);
        for o in 0..self.out_channels {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = self.bias[o];
                    for i in 0..self.in_channels {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (y * self.stride + ky) as isize - self.pad as isize;
                                let ix = (x * self.stride + kx) as isize - self.pad as isize;
                                if iy < 0 || ix < 0 || iy as usize >= ih || ix as usize >= iw {
                                    continue;
                                }
                                sum += self.weights[((o * self.in_channels + i) * k + ky) * k + kx]
                                    * input.data[(i * ih + iy as usize) * iw + ix as usize];
                            }
                        }
                    }
                    out.data[(o * oh + y) * ow + x] = self.activation.apply(sum);
                }
            }
        }
        out
    }
}

/// Output pixels of one block of [`FloatConv::forward_blocks`]: 128 rows of up to 3x3x128
/// floats stay in L2.
const BLOCK_PIXELS: usize = 128;

/// `c += a * b` for row-major `a` (m x k), `b` (k x n) and `c` (m x n).
fn sgemm_accumulate(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert_eq!(c.len(), m * n);
    // C is preset (to the bias): accumulate into it.
    sgemm_with(m, k, n, (a, k, 1), (b, n, 1), c, 1.0);
}

/// `c = a * b` for `a` (m x k) and `b` (k x n) given as (values, row stride, column stride),
/// and row-major `c` (m x n).
fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    c: &mut [f32],
) {
    sgemm_with(m, k, n, a, b, c, 0.0);
}

fn sgemm_with(
    m: usize,
    k: usize,
    n: usize,
    (a, rsa, csa): (&[f32], usize, usize),
    (b, rsb, csb): (&[f32], usize, usize),
    c: &mut [f32],
    beta: f32,
) {
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| {
        (rows > 0 && cols > 0).then(|| (rows - 1) * rs + (cols - 1) * cs)
    };
    assert!(
        last(m, k, rsa, csa).is_none_or(|i| i < a.len()),
        "A out of bounds"
    );
    assert!(
        last(k, n, rsb, csb).is_none_or(|i| i < b.len()),
        "B out of bounds"
    );
    assert_eq!(c.len(), m * n, "C is m x n");
    // SAFETY: every element the strides reach lies inside its slice (checked just above), and
    // `c`, borrowed mutably, aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// The column matrix of a convolution: row `(i, ky, kx)` holds, for every output position, the
/// input pixel that the kernel tap sees there (zero in the padding).
fn im2col(input: &Tensor, k: usize, stride: usize, pad: usize, oh: usize, ow: usize) -> Vec<f32> {
    let (ih, iw) = (input.height, input.width);
    let mut col = vec![0f32; input.channels * k * k * oh * ow];
    for (row, dst) in col.chunks_exact_mut(oh * ow).enumerate() {
        let (i, ky, kx) = (row / (k * k), row / k % k, row % k);
        let plane = &input.data[i * ih * iw..(i + 1) * ih * iw];
        for y in 0..oh {
            let iy = (y * stride + ky) as isize - pad as isize;
            if iy < 0 || iy as usize >= ih {
                continue;
            }
            let src = &plane[iy as usize * iw..(iy as usize + 1) * iw];
            for (x, d) in dst[y * ow..(y + 1) * ow].iter_mut().enumerate() {
                let ix = (x * stride + kx) as isize - pad as isize;
                if ix >= 0 && (ix as usize) < iw {
                    *d = src[ix as usize];
                }
            }
        }
    }
    col
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layers::binconv::tests::TestRng;

    fn random(rng: &mut TestRng, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// A random leaky convolution of `(in, out, size, stride, pad)` and an `h` x `w` input.
    pub(crate) fn case(
        rng: &mut TestRng,
        (cin, cout, k, s, pad, h, w): (usize, usize, usize, usize, usize, usize, usize),
    ) -> (FloatConv, Tensor) {
        let conv = FloatConv {
            in_channels: cin,
            out_channels: cout,
            size: k,
            stride: s,
            pad,
            weights: random(rng, cout * cin * k * k),
            bias: random(rng, cout),
            activation: Activation::Leaky,
            packed: Default::default(),
        };
        conv.validate().unwrap();
        let input = Tensor {
            channels: cin,
            height: h,
            width: w,
            data: random(rng, cin * h * w),
        };
        (conv, input)
    }

    fn assert_close(got: &Tensor, want: &Tensor, tolerance: f32) {
        assert_eq!(
            (got.channels, got.height, got.width),
            (want.channels, want.height, want.width)
        );
        for (x, y) in got.data.iter().zip(&want.data) {
            assert!((x - y).abs() < tolerance, "{x} vs {y}");
        }
    }

    pub(crate) fn bits(t: &Tensor) -> Vec<u32> {
        t.data.iter().map(|v| v.to_bits()).collect()
    }

    /// The one decision, on a table without the fused product (the generic one) and on one
    /// with it (made from the generic, the product being any function of its type).
    #[test]
    fn the_algorithm_follows_the_shape_and_the_table() {
        let plain = kernels::generic();
        let mut fused = *plain;
        fused.sgemm_fma = Some(|_: &[f32], _: &kernels::PackedF32, _, _: &mut [f32]| {});
        let pick = |shape, table: &Kernels| {
            let (conv, input): (FloatConv, Tensor) = case(&mut TestRng(1), shape);
            let (oh, ow) = (conv.output_dim(input.height), conv.output_dim(input.width));
            conv.algorithm(oh, ow, table)
        };
        // few input channels: the direct kernel on every table
        assert_eq!(pick((3, 8, 3, 1, 1, 64, 64), plain), ConvAlgorithm::Direct);
        assert_eq!(pick((3, 8, 3, 1, 1, 64, 64), &fused), ConvAlgorithm::Direct);
        // a 3x3 stride-1 layer with tiles enough: Winograd needs the fused product
        assert_eq!(
            pick((16, 8, 3, 1, 1, 64, 64), &fused),
            ConvAlgorithm::Winograd
        );
        assert_eq!(
            pick((16, 8, 3, 2, 1, 64, 64), &fused),
            ConvAlgorithm::FusedProduct
        );
        assert_eq!(
            pick((16, 8, 3, 1, 1, 64, 64), plain),
            ConvAlgorithm::BlockedSgemm
        );
        // pointwise, or a small image: im2col's one product
        assert_eq!(
            pick((64, 8, 1, 1, 0, 64, 64), plain),
            ConvAlgorithm::Im2colSgemm
        );
        assert_eq!(
            pick((16, 8, 3, 1, 1, 6, 6), plain),
            ConvAlgorithm::Im2colSgemm
        );
    }

    #[test]
    fn direct_matches_reference() {
        let mut rng = TestRng(42);
        for shape in [
            (3, 4, 3, 2, 1, 9, 8),
            (3, 2, 3, 1, 1, 5, 5),
            (5, 3, 1, 1, 0, 4, 3),
            (2, 2, 3, 2, 1, 4, 4),
            (4, 3, 1, 1, 0, 3, 5),
            (3, 16, 3, 1, 1, 12, 10),
        ] {
            let (conv, input) = case(&mut rng, shape);
            let direct = conv.forward_direct(&input);
            assert_close(&direct, &conv.forward_reference(&input), 1e-5);
            let split =
                parallel::with_workers(&parallel::SplitWays::<3>, || conv.forward_direct(&input));
            assert_eq!(bits(&split), bits(&direct), "split three ways");
        }
    }

    #[test]
    fn sgemm_split_over_workers_gives_the_same_bits() {
        let mut rng = TestRng(43);
        let (conv, input) = case(&mut rng, (20, 37, 3, 1, 1, 11, 7));
        let serial = conv.forward_gemm(&input);
        let split = parallel::with_workers(&parallel::SplitWays::<3>, || conv.forward_gemm(&input));
        assert_eq!(bits(&split), bits(&serial));
        assert_close(&serial, &conv.forward_reference(&input), 1e-4);
    }

    #[test]
    fn blocked_sgemm_is_the_convolution() {
        let mut rng = TestRng(44);
        // blocks with a tail, stride 2, a 1x1 with padding
        for shape in [
            (6, 10, 3, 1, 1, 19, 23),
            (5, 7, 3, 2, 1, 30, 17),
            (4, 3, 1, 1, 1, 9, 9),
        ] {
            let (conv, input) = case(&mut rng, shape);
            let blocked = conv.forward_blocks(&input);
            assert_close(&blocked, &conv.forward_reference(&input), 1e-4);
            let split =
                parallel::with_workers(&parallel::SplitWays::<3>, || conv.forward_blocks(&input));
            assert_eq!(bits(&split), bits(&blocked), "split three ways");
        }
    }
}
