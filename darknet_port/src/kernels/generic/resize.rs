//! Darknet's bilinear resize, one pass at a time: as written (two products, then the sum) and
//! as the reference board's `-Ofast` build contracts it (one product, then a fused
//! multiply-add). `f32::mul_add` is exactly rounded on every target (in hardware, or in
//! software where the CPU has no FMA), so the fused versions here are the reference of the
//! SIMD ones bit for bit.

pub(crate) fn check_resize_h(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &[f32],
    dst_w: usize,
) {
    let w = ix.len();
    assert!(
        wa.len() == w && wb.len() == w,
        "one pair of weights a column"
    );
    assert_eq!(src.len(), src_w * rows, "{rows} rows of {src_w}");
    assert!(
        w <= dst_w && dst.len() == dst_w * rows,
        "{rows} rows of {dst_w} >= {w}"
    );
    assert!(
        ix.iter().all(|&i| (i as usize) + 1 < src_w),
        "columns read inside the row"
    );
}

/// `wa * a + wb * b` as Darknet writes it: two products, then the sum.
#[inline(always)]
pub(crate) fn separate(wa: f32, a: f32, wb: f32, b: f32) -> f32 {
    wa * a + wb * b
}

/// The same blend as the board's `-Ofast` build contracts it.
#[inline(always)]
pub(crate) fn fused(wa: f32, a: f32, wb: f32, b: f32) -> f32 {
    wb.mul_add(b, wa * a)
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn resize_h_with(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
    blend: fn(f32, f32, f32, f32) -> f32,
) {
    check_resize_h(src, src_w, rows, ix, wa, wb, dst, dst_w);
    if ix.is_empty() {
        return;
    }
    for (s, d) in src.chunks_exact(src_w).zip(dst.chunks_exact_mut(dst_w)) {
        for (c, out) in d[..ix.len()].iter_mut().enumerate() {
            let i = ix[c] as usize;
            *out = blend(wa[c], s[i], wb[c], s[i + 1]);
        }
    }
}

#[inline(always)]
fn resize_v_with(
    top: &[f32],
    bottom: &[f32],
    wa: f32,
    wb: f32,
    dst: &mut [f32],
    blend: fn(f32, f32, f32, f32) -> f32,
) {
    assert!(
        top.len() == dst.len() && bottom.len() == dst.len(),
        "rows of one width"
    );
    for ((d, &t), &b) in dst.iter_mut().zip(top).zip(bottom) {
        *d = blend(wa, t, wb, b);
    }
}

pub fn resize_h(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    resize_h_with(src, src_w, rows, ix, wa, wb, dst, dst_w, separate);
}

pub fn resize_v(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    resize_v_with(top, bottom, wa, wb, dst, separate);
}

pub fn resize_h_fused(
    src: &[f32],
    src_w: usize,
    rows: usize,
    ix: &[u32],
    wa: &[f32],
    wb: &[f32],
    dst: &mut [f32],
    dst_w: usize,
) {
    resize_h_with(src, src_w, rows, ix, wa, wb, dst, dst_w, fused);
}

pub fn resize_v_fused(top: &[f32], bottom: &[f32], wa: f32, wb: f32, dst: &mut [f32]) {
    resize_v_with(top, bottom, wa, wb, dst, fused);
}
