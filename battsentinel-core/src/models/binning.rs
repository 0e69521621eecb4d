//! Histogram binning: per-feature bin edges so that a split "bin ≤ b" is exactly "x ≤ edges[b]".

use ndarray::ArrayView2;

/// Quantized training data: per feature, the sorted bin edges and the column of bin codes.
pub(crate) struct Binned {
    /// Per feature: strictly increasing edges; bin `b` holds `edges[b-1] < x <= edges[b]`.
    pub edges: Vec<Vec<f64>>,
    /// Per feature: one code per row (column-major for cache-friendly histogram building).
    pub codes: Vec<Vec<u8>>,
}

/// Midpoint of `a < b`, never equal to `b` (so `a <= mid < b`).
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) / 2.0;
    if m >= b || m < a {
        a
    } else {
        m
    }
}

/// Edges for one column with at most `max_bins` bins.
fn column_edges(col: &mut [f64], max_bins: usize) -> Vec<f64> {
    col.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<f64> = col.to_vec();
    distinct.dedup();
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect();
    }
    let n = col.len();
    let mut edges: Vec<f64> = Vec::with_capacity(max_bins);
    for q in 1..max_bins {
        let k = q * n / max_bins;
        let lo = col[k - 1];
        // first distinct value strictly above `lo`
        let pos = distinct.partition_point(|v| *v <= lo);
        if pos >= distinct.len() {
            continue;
        }
        let e = midpoint(lo, distinct[pos]);
        if edges.last().is_none_or(|last| e > *last) {
            edges.push(e);
        }
    }
    edges
}

/// Bin code of `x`: the number of edges strictly below it.
#[inline]
pub(crate) fn code_of(edges: &[f64], x: f64) -> u8 {
    edges.partition_point(|e| *e < x) as u8
}

impl Binned {
    /// Bins every column of `x` into at most `max_bins` (≤ 256) bins.
    pub(crate) fn fit(x: &ArrayView2<f64>, max_bins: usize) -> Self {
        let mut edges = Vec::with_capacity(x.ncols());
        let mut codes = Vec::with_capacity(x.ncols());
        for col in x.columns() {
            let mut values = col.to_vec();
            let e = column_edges(&mut values, max_bins);
            codes.push(col.iter().map(|&v| code_of(&e, v)).collect());
            edges.push(e);
        }
        Binned { edges, codes }
    }

    /// Number of bins of feature `f`.
    pub(crate) fn n_bins(&self, f: usize) -> usize {
        self.edges[f].len() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_distinct_values_use_midpoints() {
        let x = array![[1.0], [2.0], [2.0], [4.0]];
        let b = Binned::fit(&x.view(), 255);
        assert_eq!(b.edges[0], vec![1.5, 3.0]);
        assert_eq!(b.codes[0], vec![0, 1, 1, 2]);
    }

    #[test]
    fn many_values_capped_and_consistent() {
        let x = ndarray::Array2::from_shape_fn((1000, 1), |(i, _)| (i as f64 * 0.37).sin());
        let b = Binned::fit(&x.view(), 16);
        assert!(b.n_bins(0) <= 16);
        for (i, &c) in b.codes[0].iter().enumerate() {
            let v = x[[i, 0]];
            if (c as usize) < b.edges[0].len() {
                assert!(v <= b.edges[0][c as usize]);
            }
            if c > 0 {
                assert!(v > b.edges[0][c as usize - 1]);
            }
        }
    }
}
