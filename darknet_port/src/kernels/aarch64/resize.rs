//! Darknet's resize passes with NEON, four values a vector: the same two multiplies and one add
//! per value as the generic code, and the board's contracted versions (`vfmaq_f32(acc, b, c)`
//! is `acc + b * c` rounded once, as GCC's `fmadd` in the board's Darknet). One body per pass,
//! with the blend as a parameter.

use crate::kernels::generic;
use std::arch::aarch64::*;

/// A blend of four values, `wa * a + wb * b` rounded as the caller's kernel requires.
type Blend4 = unsafe fn(float32x4_t, float32x4_t, float32x4_t, float32x4_t) -> float32x4_t;

#[inline(always)]
unsafe fn separate4(
    wa: float32x4_t,
    a: float32x4_t,
    wb: float32x4_t,
    b: float32x4_t,
) -> float32x4_t {
    vaddq_f32(vmulq_f32(wa, a), vmulq_f32(wb, b))
}

#[inline(always)]
unsafe fn fused4(wa: float32x4_t, a: float32x4_t, wb: float32x4_t, b: float32x4_t) -> float32x4_t {
    vfmaq_f32(vmulq_f32(wa, a), wb, b)
}

/// NEON has no gather: the two source values of each output are fetched one by one, the
/// arithmetic is vectorised.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn resize_h_body(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
    blend4: Blend4,
    blend: fn(f32, f32, f32, f32) -> f32,
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
            // SAFETY: NEON is part of the target; c + 4 <= w for wa, wb and d; `a` and `b` are
            // four floats each.
            unsafe {
                let out = blend4(
                    vld1q_f32(wa.as_ptr().add(c)),
                    vld1q_f32(a.as_ptr()),
                    vld1q_f32(wb.as_ptr().add(c)),
                    vld1q_f32(b.as_ptr()),
                );
                vst1q_f32(d.as_mut_ptr().add(c), out);
            }
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = blend(wa[c], s[i], wb[c], s[i + 1]);
        }
    }
}

#[inline(always)]
fn resize_v_body(
    top: &[f32],
    bottom: &[f32],
    wa: f32,
    wb: f32,
    dst: &mut [f32],
    blend4: Blend4,
    blend: fn(f32, f32, f32, f32) -> f32,
) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    let full = dst.len() / 4 * 4;
    for c in (0..full).step_by(4) {
        // SAFETY: NEON is part of the target; c + 4 <= the common length of the three rows
        // (checked above).
        unsafe {
            let out = blend4(
                vdupq_n_f32(wa),
                vld1q_f32(top.as_ptr().add(c)),
                vdupq_n_f32(wb),
                vld1q_f32(bottom.as_ptr().add(c)),
            );
            vst1q_f32(dst.as_mut_ptr().add(c), out);
        }
    }
    for c in full..dst.len() {
        dst[c] = blend(wa, top[c], wb, bottom[c]);
    }
}

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
    resize_h_body(
        src,
        src_w,
        rows,
        ix,
        wa,
        wb,
        dst,
        dst_w,
        separate4,
        generic::separate,
    );
}

pub(super) fn resize_v(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    resize_v_body(top, bottom, wa, wb, dst, separate4, generic::separate);
}

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
    resize_h_body(
        src,
        src_w,
        rows,
        ix,
        wa,
        wb,
        dst,
        dst_w,
        fused4,
        generic::fused,
    );
}

pub(super) fn resize_v_fused(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    resize_v_body(top, bottom, wa, wb, dst, fused4, generic::fused);
}
