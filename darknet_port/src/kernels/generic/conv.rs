//! Direct float convolution.

/// The shape of a [`conv_direct`](crate::kernels::ConvDirect) call, checked against the
/// buffers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvDims {
    pub channels: usize,
    pub out_channels: usize,
    pub k: usize,
    pub stride: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
}

pub(crate) fn check_conv(
    input: &[f32],
    in_h: usize,
    in_w: usize,
    k: usize,
    stride: usize,
    weights: &[f32],
    bias: &[f32],
    out: &[f32],
) -> ConvDims {
    let out_channels = bias.len();
    assert!(
        k > 0 && in_h >= k && in_w >= k,
        "{k}x{k} kernels on {in_h}x{in_w}"
    );
    assert!(out_channels > 0, "no output channels");
    assert!(stride > 0, "a positive stride");
    let taps = out_channels * k * k;
    assert!(
        weights.len().is_multiple_of(taps),
        "weights of {out_channels} kernels of {k}x{k}"
    );
    let channels = weights.len() / taps;
    assert_eq!(
        input.len(),
        channels * in_h * in_w,
        "{channels} planes of {in_h}x{in_w}"
    );
    let (out_h, out_w) = ((in_h - k) / stride + 1, (in_w - k) / stride + 1);
    assert_eq!(out.len(), out_channels * out_h * out_w, "the output's size");
    ConvDims {
        channels,
        out_channels,
        k,
        stride,
        in_h,
        in_w,
        out_h,
        out_w,
    }
}

pub fn conv_direct(
    input: &[f32],
    in_h: usize,
    in_w: usize,
    k: usize,
    stride: usize,
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let d = check_conv(input, in_h, in_w, k, stride, weights, bias, out);
    if stride == 1 {
        for (o, plane) in out.chunks_exact_mut(d.out_h * d.out_w).enumerate() {
            for (y, row) in plane.chunks_exact_mut(d.out_w).enumerate() {
                conv_span(input, weights, bias, &d, o, y, 0, row);
            }
        }
        return;
    }
    // Columns split by phase (`x % stride`), so that every tap reads consecutive values:
    // column `x*s + kx` of a row is column `x + kx/s` of its phase `kx % s`.
    let s = stride;
    let pw = in_w.div_ceil(s);
    let mut phases = vec![0f32; s * d.channels * in_h * pw];
    for (p, phase) in phases.chunks_exact_mut(d.channels * in_h * pw).enumerate() {
        for (dst, src) in phase.chunks_exact_mut(pw).zip(input.chunks_exact(in_w)) {
            for (v, &x) in dst.iter_mut().zip(src.iter().skip(p).step_by(s)) {
                *v = x;
            }
        }
    }
    let taps = d.channels * k * k;
    for (o, plane) in out.chunks_exact_mut(d.out_h * d.out_w).enumerate() {
        let kernel = &weights[o * taps..][..taps];
        for (y, row) in plane.chunks_exact_mut(d.out_w).enumerate() {
            row.fill(bias[o]);
            for i in 0..d.channels {
                for ky in 0..k {
                    for kx in 0..k {
                        let w = kernel[(i * k + ky) * k + kx];
                        let start = (((kx % s) * d.channels + i) * in_h + y * s + ky) * pw + kx / s;
                        for (acc, &v) in row.iter_mut().zip(&phases[start..][..d.out_w]) {
                            *acc += w * v;
                        }
                    }
                }
            }
        }
    }
}

/// Outputs `x0..x0 + dst.len()` of row `y` of output channel `o`: the whole row in the generic
/// kernel, the columns after the last full vector in the SIMD ones.
pub(crate) fn conv_span(
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    d: &ConvDims,
    o: usize,
    y: usize,
    x0: usize,
    dst: &mut [f32],
) {
    let (k, s) = (d.k, d.stride);
    dst.fill(bias[o]);
    let kernel = &weights[o * d.channels * k * k..][..d.channels * k * k];
    for i in 0..d.channels {
        for ky in 0..k {
            let src_row = &input[(i * d.in_h + y * s + ky) * d.in_w..][..d.in_w];
            for kx in 0..k {
                let w = kernel[(i * k + ky) * k + kx];
                let src = &src_row[x0 * s + kx..];
                if s == 1 {
                    // the common case, in a form the compiler vectorises
                    for (acc, &v) in dst.iter_mut().zip(src) {
                        *acc += w * v;
                    }
                } else {
                    for (acc, &v) in dst.iter_mut().zip(src.iter().step_by(s)) {
                        *acc += w * v;
                    }
                }
            }
        }
    }
}
