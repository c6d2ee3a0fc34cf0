//! Integer dot products of the INT8/INT16 convolution.

pub(crate) fn check_dot(kernels: &[i16], row: &[i16], acc: &[i64]) {
    assert_eq!(kernels.len(), acc.len() * row.len(), "one kernel a sum");
}

pub fn dot_i8(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    check_dot(kernels, row, acc);
    if row.is_empty() {
        acc.fill(0);
        return;
    }
    for (a, kernel) in acc.iter_mut().zip(kernels.chunks_exact(row.len())) {
        // 8-bit products summed in i32: 127*127*span stays far below 2^31.
        *a = i64::from(
            kernel
                .iter()
                .zip(row)
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum::<i32>(),
        );
    }
}

pub fn dot_i16(kernels: &[i16], row: &[i16], acc: &mut [i64]) {
    check_dot(kernels, row, acc);
    if row.is_empty() {
        acc.fill(0);
        return;
    }
    for (a, kernel) in acc.iter_mut().zip(kernels.chunks_exact(row.len())) {
        *a = kernel
            .iter()
            .zip(row)
            .map(|(&x, &y)| i64::from(x) * i64::from(y))
            .sum();
    }
}
