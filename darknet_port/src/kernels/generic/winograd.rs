//! The data transforms of Winograd's F(4x4, 3x3), 16 channels at once
//! ([`WinogradInput`](crate::kernels::WinogradInput),
//! [`WinogradOutput`](crate::kernels::WinogradOutput)). Each formula is a loop over the 16
//! lanes, which the compiler turns into vector instructions of whatever width the caller's
//! target features allow, in the same order of operations, so every table gives these bits.

use crate::kernels::{Lanes, SGEMM_GROUP, WINOGRAD_OUTPUTS as OUTPUTS, WINOGRAD_POINTS as POINTS};

pub(crate) fn check_winograd(inputs: &[Lanes], per_in: usize, outputs: &[Lanes], per_out: usize) {
    assert!(inputs.len().is_multiple_of(per_in), "whole tiles");
    assert_eq!(
        inputs.len() / per_in * per_out,
        outputs.len(),
        "one output block a tile"
    );
}

/// `Bᵀ x` for six rows (or columns) of lanes.
#[inline(always)]
fn input_step(x: [&Lanes; 6]) -> [Lanes; 6] {
    let mut r = [Lanes::default(); 6];
    for l in 0..SGEMM_GROUP {
        let [x0, x1, x2, x3, x4, x5] = x.map(|v| v.0[l]);
        r[0].0[l] = (4.0 * x0 - 5.0 * x2) + x4;
        r[1].0[l] = (x3 + x4) - 4.0 * (x1 + x2);
        r[2].0[l] = (x4 - x3) + 4.0 * (x1 - x2);
        r[3].0[l] = (x4 - x2) + 2.0 * (x3 - x1);
        r[4].0[l] = (x4 - x2) - 2.0 * (x3 - x1);
        r[5].0[l] = (4.0 * x1 - 5.0 * x3) + x5;
    }
    r
}

/// `Aᵀ m` for six rows (or columns) of lanes.
#[inline(always)]
fn output_step(m: [&Lanes; 6]) -> [Lanes; 4] {
    let mut r = [Lanes::default(); 4];
    for l in 0..SGEMM_GROUP {
        let [m0, m1, m2, m3, m4, m5] = m.map(|v| v.0[l]);
        r[0].0[l] = m0 + (m1 + m2) + (m3 + m4);
        r[1].0[l] = (m1 - m2) + 2.0 * (m3 - m4);
        r[2].0[l] = (m1 + m2) + 4.0 * (m3 + m4);
        r[3].0[l] = ((m1 - m2) + 8.0 * (m3 - m4)) + m5;
    }
    r
}

#[inline(always)]
pub(crate) fn winograd_input_body(tiles: &[Lanes], points: &mut [Lanes]) {
    check_winograd(tiles, POINTS, points, POINTS);
    for (d, v) in tiles
        .chunks_exact(POINTS)
        .zip(points.chunks_exact_mut(POINTS))
    {
        // Bᵀ d, a column at a time; then (Bᵀ d) B, a row at a time.
        let mut columns = [Lanes::default(); POINTS];
        for j in 0..6 {
            let t = input_step(std::array::from_fn(|i| &d[i * 6 + j]));
            for (i, row) in t.into_iter().enumerate() {
                columns[i * 6 + j] = row;
            }
        }
        for (i, out) in v.chunks_exact_mut(6).enumerate() {
            let t = input_step(std::array::from_fn(|j| &columns[i * 6 + j]));
            out.copy_from_slice(&t);
        }
    }
}

#[inline(always)]
pub(crate) fn winograd_output_body(products: &[Lanes], outputs: &mut [Lanes]) {
    check_winograd(products, POINTS, outputs, OUTPUTS);
    for (m, y) in products
        .chunks_exact(POINTS)
        .zip(outputs.chunks_exact_mut(OUTPUTS))
    {
        // Aᵀ m, a column at a time (4 x 6); then (Aᵀ m) A, a row at a time (4 x 4).
        let mut columns = [Lanes::default(); 24];
        for j in 0..6 {
            let t = output_step(std::array::from_fn(|i| &m[i * 6 + j]));
            for (i, row) in t.into_iter().enumerate() {
                columns[i * 6 + j] = row;
            }
        }
        for (i, out) in y.chunks_exact_mut(4).enumerate() {
            let t = output_step(std::array::from_fn(|j| &columns[i * 6 + j]));
            out.copy_from_slice(&t);
        }
    }
}

pub fn winograd_input(tiles: &[Lanes], points: &mut [Lanes]) {
    winograd_input_body(tiles, points);
}

pub fn winograd_output(products: &[Lanes], outputs: &mut [Lanes]) {
    winograd_output_body(products, outputs);
}
