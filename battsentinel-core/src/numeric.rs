//! Small numeric kernels shared across modules (explanations, models).

/// `Σ term(aₖ, bₖ)` over two equal-length slices, summed in eight interleaved lanes (so the compiler
/// keeps them in vector registers) and the lanes added pairwise at the end.
#[inline(always)]
fn lane_sum(a: &[f64], b: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (ca, ra) = a[..n].as_chunks::<8>();
    let (cb, rb) = b[..n].as_chunks::<8>();
    let mut lanes = [0.0f64; 8];
    for (x, y) in ca.iter().zip(cb) {
        for k in 0..8 {
            lanes[k] += term(x[k], y[k]);
        }
    }
    let mut tail = 0.0;
    for (&x, &y) in ra.iter().zip(rb) {
        tail += term(x, y);
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)) + tail
}

/// Dot product of two equal-length slices (eight interleaved lanes).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    lane_sum(a, b, |x, y| x * y)
}

/// Squared Euclidean distance of two equal-length slices (eight interleaved lanes).
pub(crate) fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    lane_sum(a, b, |x, y| (x - y) * (x - y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_equals_the_plain_sum_on_every_tail_length() {
        for n in 0..40 {
            let a: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.5 - 3.0).collect();
            let b: Vec<f64> = (0..n).map(|i| f64::from(i % 7) - 2.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            // Halves and small integers: every partial sum is exact, so any order gives the same value.
            assert_eq!(dot(&a, &b), plain, "n = {n}");
        }
    }

    #[test]
    fn sq_dist_equals_the_plain_sum_on_every_tail_length() {
        for n in 0..40 {
            let a: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.5 - 3.0).collect();
            let b: Vec<f64> = (0..n).map(|i| f64::from(i % 7) - 2.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert_eq!(sq_dist(&a, &b), plain, "n = {n}");
        }
    }
}
