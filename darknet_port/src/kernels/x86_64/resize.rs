//! Darknet's resize passes with AVX2, eight output columns a vector: the same two multiplies
//! and one add per value as the generic code; and the board's contracted versions with FMA
//! (one multiply, one fused multiply-add, as `f32::mul_add` in the generic code). One body per
//! pass, inlined into a wrapper per instruction set with its blend.

use crate::kernels::generic;
use std::arch::x86_64::*;

/// A blend of eight values, `wa * a + wb * b` rounded as the caller's table requires.
type Blend8 = unsafe fn(__m256, __m256, __m256, __m256) -> __m256;

#[inline(always)]
unsafe fn separate8(wa: __m256, a: __m256, wb: __m256, b: __m256) -> __m256 {
    _mm256_add_ps(_mm256_mul_ps(wa, a), _mm256_mul_ps(wb, b))
}

#[inline(always)]
unsafe fn fused8(wa: __m256, a: __m256, wb: __m256, b: __m256) -> __m256 {
    _mm256_fmadd_ps(wb, b, _mm256_mul_ps(wa, a))
}

/// The two source columns of each output come from gathers (`ix` varies along the row).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn resize_h_body(
    src: &[f32],
    src_w: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
    blend8: Blend8,
    blend: fn(f32, f32, f32, f32) -> f32,
) {
    let w = ix.len();
    if w == 0 {
        return;
    }
    let full = w / 8 * 8;
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        let mut c = 0;
        while c < full {
            // SAFETY: c + 8 <= w for ix, wa, wb and d; the gathered indices ix[c] and ix[c] + 1
            // are below src_w, the length of `s` (the caller checked them).
            unsafe {
                let i = _mm256_loadu_si256(ix.as_ptr().add(c).cast());
                let a = _mm256_i32gather_ps::<4>(s.as_ptr(), i);
                let b = _mm256_i32gather_ps::<4>(s.as_ptr().add(1), i);
                let out = blend8(
                    _mm256_loadu_ps(wa.as_ptr().add(c)),
                    a,
                    _mm256_loadu_ps(wb.as_ptr().add(c)),
                    b,
                );
                _mm256_storeu_ps(d.as_mut_ptr().add(c), out);
            }
            c += 8;
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = blend(wa[c], s[i], wb[c], s[i + 1]);
        }
    }
}

#[inline(always)]
unsafe fn resize_v_body(
    top: &[f32],
    bottom: &[f32],
    wa: f32,
    wb: f32,
    dst: &mut [f32],
    blend8: Blend8,
    blend: fn(f32, f32, f32, f32) -> f32,
) {
    let full = dst.len() / 8 * 8;
    let (va, vb) = (_mm256_set1_ps(wa), _mm256_set1_ps(wb));
    let mut c = 0;
    while c < full {
        // SAFETY: c + 8 <= the common length of the three rows (the caller checked it).
        unsafe {
            let t = _mm256_loadu_ps(top.as_ptr().add(c));
            let b = _mm256_loadu_ps(bottom.as_ptr().add(c));
            _mm256_storeu_ps(dst.as_mut_ptr().add(c), blend8(va, t, vb, b));
        }
        c += 8;
    }
    for c in full..dst.len() {
        dst[c] = blend(wa, top[c], wb, bottom[c]);
    }
}

fn check_resize_v(top: &[f32], bottom: &[f32], dst: &[f32]) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
fn resize_h_avx2(
    src: &[f32],
    src_w: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    // SAFETY: AVX2 is enabled here; the arguments were checked by the caller.
    unsafe {
        resize_h_body(
            src,
            src_w,
            ix,
            wa,
            wb,
            dst,
            dst_w,
            separate8,
            generic::separate,
        )
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
fn resize_h_fma(
    src: &[f32],
    src_w: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    // SAFETY: AVX2 and FMA are enabled here; the arguments were checked by the caller.
    unsafe { resize_h_body(src, src_w, ix, wa, wb, dst, dst_w, fused8, generic::fused) }
}

#[target_feature(enable = "avx2")]
fn resize_v_avx2(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    // SAFETY: AVX2 is enabled here; the lengths were checked by the caller.
    unsafe { resize_v_body(top, bottom, wa, wb, dst, separate8, generic::separate) }
}

#[target_feature(enable = "avx2,fma")]
fn resize_v_fma(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    // SAFETY: AVX2 and FMA are enabled here; the lengths were checked by the caller.
    unsafe { resize_v_body(top, bottom, wa, wb, dst, fused8, generic::fused) }
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
    generic::check_resize_h(src, src_w, rows, ix, wa, wb, dst, dst_w);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { resize_h_avx2(src, src_w, ix, wa, wb, dst, dst_w) }
}

pub(super) fn resize_v(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    check_resize_v(top, bottom, dst);
    // SAFETY: reachable only through the AVX2 tables, handed out after AVX2 was detected.
    unsafe { resize_v_avx2(top, bottom, wa, wb, dst) }
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
    generic::check_resize_h(src, src_w, rows, ix, wa, wb, dst, dst_w);
    // SAFETY: reachable only through the AVX2+FMA tables, handed out after AVX2 and FMA were
    // detected.
    unsafe { resize_h_fma(src, src_w, ix, wa, wb, dst, dst_w) }
}

pub(super) fn resize_v_fused(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    check_resize_v(top, bottom, dst);
    // SAFETY: reachable only through the AVX2+FMA tables, handed out after AVX2 and FMA were
    // detected.
    unsafe { resize_v_fma(top, bottom, wa, wb, dst) }
}
