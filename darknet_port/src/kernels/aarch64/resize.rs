//! Darknet's resize passes with NEON: the same two multiplies and one add per value as the
//! generic code, four values a vector.

use crate::kernels::generic;
use std::arch::aarch64::*;

/// NEON has no gather: the two source values of each output are fetched one by one, the
/// arithmetic is vectorised.
pub(super) fn resize_h(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { resize_h_neon(src, src_w, rows, ix, wa, wb, dst, dst_w) }
}

#[target_feature(enable = "neon")]
fn resize_h_neon(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    generic::check_resize_h(src, src_w, rows, ix, wa, wb, dst, dst_w);
    let w = ix.len();
    if w == 0 {
        return;
    }
    let full = w / 4 * 4;
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        for c in (0..full).step_by(4) {
            let i: [usize; 4] = std::array::from_fn(|j| ix[c + j] as usize);
            let a = [s[i[0]], s[i[1]], s[i[2]], s[i[3]]];
            let b = [s[i[0] + 1], s[i[1] + 1], s[i[2] + 1], s[i[3] + 1]];
            // SAFETY: c + 4 <= w for wa, wb and d; `a` and `b` are four floats each.
            unsafe {
                let left = vmulq_f32(vld1q_f32(wa.as_ptr().add(c)), vld1q_f32(a.as_ptr()));
                let right = vmulq_f32(vld1q_f32(wb.as_ptr().add(c)), vld1q_f32(b.as_ptr()));
                vst1q_f32(d.as_mut_ptr().add(c), vaddq_f32(left, right));
            }
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = wa[c] * s[i] + wb[c] * s[i + 1];
        }
    }
}

pub(super) fn resize_v(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { resize_v_neon(top, bottom, wa, wb, dst) }
}

#[target_feature(enable = "neon")]
fn resize_v_neon(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    let full = dst.len() / 4 * 4;
    let (va, vb) = (vdupq_n_f32(wa), vdupq_n_f32(wb));
    for c in (0..full).step_by(4) {
        // SAFETY: c + 4 <= the common length of the three rows (checked above).
        unsafe {
            let t = vmulq_f32(va, vld1q_f32(top.as_ptr().add(c)));
            let b = vmulq_f32(vb, vld1q_f32(bottom.as_ptr().add(c)));
            vst1q_f32(dst.as_mut_ptr().add(c), vaddq_f32(t, b));
        }
    }
    for c in full..dst.len() {
        dst[c] = wa * top[c] + wb * bottom[c];
    }
}

/// The board's contracted blends: `vfmaq_f32(acc, b, c)` is `acc + b * c` rounded once, as
/// GCC's `fmadd` in the board's Darknet.
pub(super) fn resize_h_fused(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { resize_h_fused_neon(src, src_w, rows, ix, wa, wb, dst, dst_w) }
}

#[target_feature(enable = "neon")]
fn resize_h_fused_neon(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    generic::check_resize_h(src, src_w, rows, ix, wa, wb, dst, dst_w);
    let w = ix.len();
    if w == 0 {
        return;
    }
    let full = w / 4 * 4;
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        for c in (0..full).step_by(4) {
            let i: [usize; 4] = std::array::from_fn(|j| ix[c + j] as usize);
            let a = [s[i[0]], s[i[1]], s[i[2]], s[i[3]]];
            let b = [s[i[0] + 1], s[i[1] + 1], s[i[2] + 1], s[i[3] + 1]];
            // SAFETY: c + 4 <= w for wa, wb and d; `a` and `b` are four floats each.
            unsafe {
                let left = vmulq_f32(vld1q_f32(wa.as_ptr().add(c)), vld1q_f32(a.as_ptr()));
                let out = vfmaq_f32(left, vld1q_f32(wb.as_ptr().add(c)), vld1q_f32(b.as_ptr()));
                vst1q_f32(d.as_mut_ptr().add(c), out);
            }
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = wb[c].mul_add(s[i + 1], wa[c] * s[i]);
        }
    }
}

pub(super) fn resize_v_fused(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    // SAFETY: NEON is part of the aarch64 target, and `supported()` checked it anyway.
    unsafe { resize_v_fused_neon(top, bottom, wa, wb, dst) }
}

#[target_feature(enable = "neon")]
fn resize_v_fused_neon(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    let full = dst.len() / 4 * 4;
    let (va, vb) = (vdupq_n_f32(wa), vdupq_n_f32(wb));
    for c in (0..full).step_by(4) {
        // SAFETY: c + 4 <= the common length of the three rows (checked above).
        unsafe {
            let t = vmulq_f32(va, vld1q_f32(top.as_ptr().add(c)));
            let out = vfmaq_f32(t, vb, vld1q_f32(bottom.as_ptr().add(c)));
            vst1q_f32(dst.as_mut_ptr().add(c), out);
        }
    }
    for c in full..dst.len() {
        dst[c] = wb.mul_add(bottom[c], wa * top[c]);
    }
}
