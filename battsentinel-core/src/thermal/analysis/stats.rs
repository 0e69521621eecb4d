//! Temperature statistics with exact quantiles in linear time (histogram narrowing + selection).

use serde::{Deserialize, Serialize};

/// A pixel position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelPos {
    /// Row (0 = top).
    pub row: usize,
    /// Column (0 = left).
    pub col: usize,
}

/// Statistics of the valid (finite) temperatures of an image or region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureStats {
    /// Number of finite pixels.
    pub n_valid: usize,
    /// Number of NaN pixels.
    pub n_missing: usize,
    /// Minimum (°C).
    pub min_c: f64,
    /// Maximum (°C).
    pub max_c: f64,
    /// Mean (°C).
    pub mean_c: f64,
    /// Population standard deviation (K).
    pub std_c: f64,
    /// Median (°C), linear interpolation between order statistics (as numpy's default).
    pub median_c: f64,
    /// 5th percentile (°C).
    pub p05_c: f64,
    /// 95th percentile (°C).
    pub p95_c: f64,
    /// Position of the minimum (first in row-major order).
    pub min_at: PixelPos,
    /// Position of the maximum (first in row-major order).
    pub max_at: PixelPos,
}

/// Statistics over the pixels of `data` (row-major, `width` wide) for which `include(index)` holds; `None`
/// when no included pixel is finite.
pub(crate) fn stats_where(
    data: &[f64],
    width: usize,
    include: impl Fn(usize) -> bool,
) -> Option<TemperatureStats> {
    let mut n = 0usize;
    let mut n_missing = 0usize;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut lo_i, mut hi_i) = (0usize, 0usize);
    let mut sum = 0.0;
    for (i, &v) in data.iter().enumerate() {
        if !include(i) {
            continue;
        }
        if !v.is_finite() {
            n_missing += 1;
            continue;
        }
        n += 1;
        sum += v;
        if v < lo {
            lo = v;
            lo_i = i;
        }
        if v > hi {
            hi = v;
            hi_i = i;
        }
    }
    if n == 0 {
        return None;
    }
    let mean = sum / n as f64;
    let var = data
        .iter()
        .enumerate()
        .filter(|&(i, v)| v.is_finite() && include(i))
        .map(|(_, &v)| (v - mean) * (v - mean))
        .sum::<f64>()
        / n as f64;
    let q = quantiles_where(data, &include, (lo, hi, n), &[0.5, 0.05, 0.95]);
    let pos = |i: usize| PixelPos { row: i / width, col: i % width };
    Some(TemperatureStats {
        n_valid: n,
        n_missing,
        min_c: lo,
        max_c: hi,
        mean_c: mean,
        std_c: var.sqrt(),
        median_c: q[0],
        p05_c: q[1],
        p95_c: q[2],
        min_at: pos(lo_i),
        max_at: pos(hi_i),
    })
}

const BINS: usize = 4096;

/// Exact quantiles (linear interpolation, numpy's default) of the finite included values, given their
/// (min, max, count). Histogram over [min, max], then selection only inside the bins holding the ranks.
pub(crate) fn quantiles_where(
    data: &[f64],
    include: &impl Fn(usize) -> bool,
    (lo, hi, n): (f64, f64, usize),
    qs: &[f64],
) -> Vec<f64> {
    if hi <= lo {
        return vec![lo; qs.len()];
    }
    let scale = BINS as f64 / (hi - lo);
    let bin = |v: f64| (((v - lo) * scale) as usize).min(BINS - 1);
    let mut counts = vec![0usize; BINS];
    for (i, &v) in data.iter().enumerate() {
        if v.is_finite() && include(i) {
            counts[bin(v)] += 1;
        }
    }
    let mut start = vec![0usize; BINS];
    let mut acc = 0;
    for (s, c) in start.iter_mut().zip(&counts) {
        *s = acc;
        acc += c;
    }
    // Ranks needed: floor and ceil of (n − 1)·q for each q.
    let ranks: Vec<(usize, usize, f64)> = qs
        .iter()
        .map(|&q| {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let k = h.floor() as usize;
            (k, (k + 1).min(n - 1), h - k as f64)
        })
        .collect();
    let bin_of_rank = |k: usize| start.partition_point(|&s| s <= k) - 1;
    let mut wanted: Vec<usize> =
        ranks.iter().flat_map(|&(a, b, _)| [bin_of_rank(a), bin_of_rank(b)]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut buckets: Vec<Vec<f64>> = wanted.iter().map(|&b| Vec::with_capacity(counts[b])).collect();
    for (i, &v) in data.iter().enumerate() {
        if v.is_finite() && include(i) {
            if let Ok(w) = wanted.binary_search(&bin(v)) {
                buckets[w].push(v);
            }
        }
    }
    for b in &mut buckets {
        b.sort_unstable_by(f64::total_cmp);
    }
    let kth = |k: usize| {
        let b = bin_of_rank(k);
        let w = wanted.binary_search(&b).unwrap_or(0);
        buckets[w][k - start[b]]
    };
    ranks
        .iter()
        .map(|&(a, b, frac)| {
            let (va, vb) = (kth(a), kth(b));
            va + frac * (vb - va)
        })
        .collect()
}

/// Median of a small slice of finite values (copies and sorts), `NaN` if empty.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use rand::Rng;

    fn numpy_quantile(sorted: &[f64], q: f64) -> f64 {
        let h = (sorted.len() - 1) as f64 * q;
        let k = h.floor() as usize;
        let k1 = (k + 1).min(sorted.len() - 1);
        sorted[k] + (h - k as f64) * (sorted[k1] - sorted[k])
    }

    #[test]
    fn quantiles_match_sorting() {
        let mut rng = crate::rng::seeded(7);
        for n in [1usize, 2, 3, 10, 1000, 20_001] {
            let data: Vec<f64> = (0..n)
                .map(|i| if i % 97 == 5 { f64::NAN } else { 20.0 + rng.gen::<f64>().powi(3) * 30.0 })
                .collect();
            let s = stats_where(&data, 10, |_| true).unwrap();
            let mut sorted: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
            sorted.sort_unstable_by(f64::total_cmp);
            assert_eq!(s.n_valid, sorted.len());
            assert_eq!(s.n_missing, n - sorted.len());
            assert_relative_eq!(s.median_c, numpy_quantile(&sorted, 0.5), epsilon = 1e-12);
            assert_relative_eq!(s.p05_c, numpy_quantile(&sorted, 0.05), epsilon = 1e-12);
            assert_relative_eq!(s.p95_c, numpy_quantile(&sorted, 0.95), epsilon = 1e-12);
            assert_eq!(s.min_c, sorted[0]);
            assert_eq!(s.max_c, *sorted.last().unwrap());
        }
    }

    #[test]
    fn constant_and_empty() {
        let s = stats_where(&[5.0; 9], 3, |_| true).unwrap();
        assert_eq!((s.median_c, s.std_c, s.max_at), (5.0, 0.0, PixelPos { row: 0, col: 0 }));
        assert!(stats_where(&[f64::NAN; 4], 2, |_| true).is_none());
        assert!(stats_where(&[1.0; 4], 2, |_| false).is_none());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
