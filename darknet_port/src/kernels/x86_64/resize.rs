//! Darknet's resize passes with AVX2: eight output columns a vector, the same two multiplies
//! and one add per value as the generic code; and the board's contracted versions with FMA
//! (one multiply, one fused multiply-add, as `f32::mul_add` in the generic code).

use crate::kernels::generic;
use std::arch::x86_64::*;

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
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected; every
    // index was checked to lie inside a row just above.
    unsafe { resize_h_avx2(src, src_w, ix, wa, wb, dst, dst_w) }
}

/// The two source columns of each output come from gathers (`ix` varies along the row).
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
    let w = ix.len();
    if w == 0 {
        return;
    }
    let full = w / 8 * 8;
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        let mut c = 0;
        while c < full {
            // SAFETY: c + 8 <= w for ix, wa, wb and d; the gathered indices ix[c] and ix[c] + 1
            // are below src_w, the length of `s`.
            unsafe {
                let i = _mm256_loadu_si256(ix.as_ptr().add(c).cast());
                let a = _mm256_i32gather_ps::<4>(s.as_ptr(), i);
                let b = _mm256_i32gather_ps::<4>(s.as_ptr().add(1), i);
                let left = _mm256_mul_ps(_mm256_loadu_ps(wa.as_ptr().add(c)), a);
                let right = _mm256_mul_ps(_mm256_loadu_ps(wb.as_ptr().add(c)), b);
                _mm256_storeu_ps(d.as_mut_ptr().add(c), _mm256_add_ps(left, right));
            }
            c += 8;
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = wa[c] * s[i] + wb[c] * s[i + 1];
        }
    }
}

pub(super) fn resize_v(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    // SAFETY: reachable only through the AVX2 table, handed out after AVX2 was detected; the
    // lengths were checked just above.
    unsafe { resize_v_avx2(top, bottom, wa, wb, dst) }
}

#[target_feature(enable = "avx2")]
fn resize_v_avx2(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    let full = dst.len() / 8 * 8;
    let (va, vb) = (_mm256_set1_ps(wa), _mm256_set1_ps(wb));
    let mut c = 0;
    while c < full {
        // SAFETY: c + 8 <= the common length of the three rows.
        unsafe {
            let t = _mm256_mul_ps(va, _mm256_loadu_ps(top.as_ptr().add(c)));
            let b = _mm256_mul_ps(vb, _mm256_loadu_ps(bottom.as_ptr().add(c)));
            _mm256_storeu_ps(dst.as_mut_ptr().add(c), _mm256_add_ps(t, b));
        }
        c += 8;
    }
    for c in full..dst.len() {
        dst[c] = wa * top[c] + wb * bottom[c];
    }
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
    // detected; every index was checked to lie inside a row just above.
    unsafe { resize_h_fma(src, src_w, ix, wa, wb, dst, dst_w) }
}

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
    let w = ix.len();
    if w == 0 {
        return;
    }
    let full = w / 8 * 8;
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        let mut c = 0;
        while c < full {
            // SAFETY: c + 8 <= w for ix, wa, wb and d; the gathered indices ix[c] and ix[c] + 1
            // are below src_w, the length of `s`.
            unsafe {
                let i = _mm256_loadu_si256(ix.as_ptr().add(c).cast());
                let a = _mm256_i32gather_ps::<4>(s.as_ptr(), i);
                let b = _mm256_i32gather_ps::<4>(s.as_ptr().add(1), i);
                let left = _mm256_mul_ps(_mm256_loadu_ps(wa.as_ptr().add(c)), a);
                let out = _mm256_fmadd_ps(_mm256_loadu_ps(wb.as_ptr().add(c)), b, left);
                _mm256_storeu_ps(d.as_mut_ptr().add(c), out);
            }
            c += 8;
        }
        for c in full..w {
            let i = ix[c] as usize;
            d[c] = wb[c].mul_add(s[i + 1], wa[c] * s[i]);
        }
    }
}

pub(super) fn resize_v_fused(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    // SAFETY: reachable only through the AVX2+FMA tables, handed out after AVX2 and FMA were
    // detected; the lengths were checked just above.
    unsafe { resize_v_fma(top, bottom, wa, wb, dst) }
}

#[target_feature(enable = "avx2,fma")]
fn resize_v_fma(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    let full = dst.len() / 8 * 8;
    let (va, vb) = (_mm256_set1_ps(wa), _mm256_set1_ps(wb));
    let mut c = 0;
    while c < full {
        // SAFETY: c + 8 <= the common length of the three rows.
        unsafe {
            let t = _mm256_mul_ps(va, _mm256_loadu_ps(top.as_ptr().add(c)));
            let out = _mm256_fmadd_ps(vb, _mm256_loadu_ps(bottom.as_ptr().add(c)), t);
            _mm256_storeu_ps(dst.as_mut_ptr().add(c), out);
        }
        c += 8;
    }
    for c in full..dst.len() {
        dst[c] = wb.mul_add(bottom[c], wa * top[c]);
    }
}
