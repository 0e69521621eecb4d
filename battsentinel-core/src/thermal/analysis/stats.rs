//! Temperature statistics with exact quantiles in linear time (histogram narrowing + selection).

use serde::{Deserialize, Serialize};

use super::hotspots::PixelRect;
use crate::thermal::radiometry::count_range;

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

/// A rectangle of a row-major image (half-open row and column ranges), walked as contiguous row segments.
#[derive(Debug, Clone)]
pub(crate) struct Area<'a> {
    data: &'a [f64],
    width: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
}

impl<'a> Area<'a> {
    /// The whole image (`data.len()` must be a multiple of `width`, or `width` 0 for an empty image).
    pub(crate) fn whole(data: &'a [f64], width: usize) -> Self {
        let height = data.len().checked_div(width).unwrap_or(0);
        Area { data, width, rows: 0..height, cols: 0..width }
    }

    /// The pixels of `rect` (inclusive bounds, inside the image).
    pub(crate) fn rect(data: &'a [f64], width: usize, rect: PixelRect) -> Self {
        Area { data, width, rows: rect.row_min..rect.row_max + 1, cols: rect.col_min..rect.col_max + 1 }
    }

    /// Number of pixels.
    fn len(&self) -> usize {
        self.rows.len() * self.cols.len()
    }

    /// `(index of the first pixel, values)` per contiguous segment: one segment for a full-width area,
    /// else one per row.
    fn segments(&self) -> impl Iterator<Item = (usize, &'a [f64])> + '_ {
        let w = self.width;
        let full = self.cols.start == 0 && self.cols.end == w;
        let step = if full { self.rows.len().max(1) } else { 1 };
        let data = self.data;
        let (rows, cols) = (self.rows.clone(), self.cols.clone());
        rows.clone().step_by(step).map(move |r| {
            let last = (r + step).min(rows.end) - 1;
            let (s, e) = (r * w + cols.start, last * w + cols.end);
            (s, &data[s..e])
        })
    }
}

/// Exact order statistics of the finite values of an area, for quantiles beyond those of
/// [`TemperatureStats`].
pub(crate) enum OrderStats<'a> {
    /// Of arbitrary values.
    Binned(Binned<'a>),
    /// Of values coded by raw counts.
    Tallied(Tally),
}

impl OrderStats<'_> {
    /// The values of rank `ks` (0-based, `< n`).
    fn values_at(&mut self, ks: &[usize]) -> Vec<f64> {
        match self {
            OrderStats::Binned(b) => b.values_at(ks),
            OrderStats::Tallied(t) => ks.iter().map(|&k| t.value_at(k)).collect(),
        }
    }

    /// Quantiles `qs` (linear interpolation between order statistics, numpy's default) of the `m` smallest
    /// finite values (`1 ≤ m ≤ n`).
    pub(crate) fn quantiles_of_smallest(&mut self, m: usize, qs: &[f64]) -> Vec<f64> {
        let ranks: Vec<(usize, usize, f64)> = qs
            .iter()
            .map(|&q| {
                let h = (m - 1) as f64 * q.clamp(0.0, 1.0);
                let k = h.floor() as usize;
                (k, (k + 1).min(m - 1), h - k as f64)
            })
            .collect();
        let ks: Vec<usize> = ranks.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        let v = self.values_at(&ks);
        ranks
            .iter()
            .enumerate()
            .map(|(i, &(_, _, frac))| v[2 * i] + frac * (v[2 * i + 1] - v[2 * i]))
            .collect()
    }
}

/// The finite values of an area in ascending order with their multiplicities: the order statistics of an
/// area whose temperatures are a non-decreasing function of 16-bit raw counts (see [`CountCoding`]).
pub(crate) struct Tally {
    /// Finite values, ascending (equal neighbours possible when two counts map to one value).
    values: Vec<f64>,
    /// `before[i]`: number of values before `values[i]`.
    before: Vec<usize>,
    n: usize,
}

impl Tally {
    /// From a histogram over consecutive counts and their temperatures (NaN: not finite).
    fn from_hist(hist: &[u32], lut: &[f64]) -> Self {
        let (mut values, mut before, mut n) = (Vec::new(), Vec::new(), 0usize);
        for (&h, &v) in hist.iter().zip(lut) {
            if h > 0 && v.is_finite() {
                values.push(v);
                before.push(n);
                n += h as usize;
            }
        }
        Tally { values, before, n }
    }

    fn value_at(&self, k: usize) -> f64 {
        self.values[self.before.partition_point(|&s| s <= k) - 1]
    }

    /// `(mean, Σ (v − mean)²)`; `n > 0`.
    fn moments(&self) -> (f64, f64) {
        let weight = |i: usize| (self.before.get(i + 1).copied().unwrap_or(self.n) - self.before[i]) as f64;
        let sum: f64 = self.values.iter().enumerate().map(|(i, &v)| weight(i) * v).sum();
        let mean = sum / self.n as f64;
        let ss = self.values.iter().enumerate().map(|(i, &v)| weight(i) * (v - mean) * (v - mean)).sum();
        (mean, ss)
    }
}

/// The 16-bit raw counts of an image whose temperatures are one non-decreasing function of them (as decoded
/// radiometric frames are): every statistic then follows from histograms of the counts, one integer pass per
/// area. `lut[c − lo]` is the temperature of count `c` (NaN where unused or not finite).
pub(crate) struct CountCoding<'a> {
    counts: &'a [u16],
    lo: u16,
    lut: Vec<f64>,
    /// `first[c − lo]`: the first pixel of count `c`.
    first: Vec<usize>,
}

/// Histograms of 16-bit counts in four interleaved lanes (pixel `i` goes to lane `i mod 4`): consecutive
/// equal counts then increment different memory, so the increments do not wait on each other (a single
/// histogram stalls on store-to-load forwarding in smooth images, where neighbours often share a count).
/// `bins` holds the four lanes one after the other, `len` bins each.
struct LaneHist<'b> {
    bins: &'b mut [u32],
    len: usize,
}

impl LaneHist<'_> {
    /// Counts `counts` (each `c − lo < len`).
    fn add(&mut self, counts: &[u16], lo: u16) {
        let (h0, rest) = self.bins.split_at_mut(self.len);
        let (h1, rest) = rest.split_at_mut(self.len);
        let (h2, h3) = rest.split_at_mut(self.len);
        let (quads, tail) = counts.as_chunks::<4>();
        for quad in quads {
            let k = quad.map(|c| usize::from(c - lo));
            h0[k[0]] += 1;
            h1[k[1]] += 1;
            h2[k[2]] += 1;
            h3[k[3]] += 1;
        }
        for &c in tail {
            h0[usize::from(c - lo)] += 1;
        }
    }

    /// Adds lanes 1–3 of bins `range` into lane 0 and zeroes them; returns lane 0's bins `range`.
    fn merge(&mut self, range: std::ops::RangeInclusive<usize>) -> &mut [u32] {
        let (h0, rest) = self.bins.split_at_mut(self.len);
        let (h1, rest) = rest.split_at_mut(self.len);
        let (h2, h3) = rest.split_at_mut(self.len);
        for k in range.clone() {
            h0[k] += h1[k] + h2[k] + h3[k];
            (h1[k], h2[k], h3[k]) = (0, 0, 0);
        }
        &mut h0[range]
    }
}

impl<'a> CountCoding<'a> {
    /// Checks that `data[i]` is the same value (bit for bit) wherever `counts[i]` is, and that the finite
    /// values do not decrease with the count; returns the coding and the whole image's histogram, or `None`
    /// (the caller then uses the general path). One pass: its branches are predictable (a count is new
    /// only once), which measured faster than a lane histogram plus a separate check pass.
    pub(crate) fn new(data: &[f64], counts: &'a [u16]) -> Option<(Self, Vec<u32>)> {
        if counts.len() != data.len() {
            return None;
        }
        let (lo, hi) = count_range(counts)?;
        let range = usize::from(hi - lo) + 1;
        let (mut hist, mut lut, mut first) = (vec![0u32; range], vec![0u64; range], vec![0usize; range]);
        for (i, (&c, &v)) in counts.iter().zip(data).enumerate() {
            let k = usize::from(c - lo);
            // Bit patterns: NaN payloads and signed zeros must agree too.
            if hist[k] == 0 {
                lut[k] = v.to_bits();
                first[k] = i;
            } else if lut[k] != v.to_bits() {
                return None;
            }
            hist[k] += 1;
        }
        let mut lut: Vec<f64> = lut.into_iter().map(f64::from_bits).collect();
        let mut prev = f64::NEG_INFINITY;
        for (&h, v) in hist.iter().zip(lut.iter_mut()) {
            if h == 0 || !v.is_finite() {
                *v = f64::NAN;
            } else if *v < prev {
                return None;
            } else {
                prev = *v;
            }
        }
        Some((CountCoding { counts, lo, lut, first }, hist))
    }

    /// [`area_stats`] of the whole coded image, from the histogram [`CountCoding::new`] returned.
    pub(crate) fn whole_stats<'b>(
        &self,
        area: Area<'b>,
        hist: &[u32],
    ) -> Option<(TemperatureStats, OrderStats<'b>)> {
        let tally = Tally::from_hist(hist, &self.lut);
        let (&lo, &hi) = tally.values.first().zip(tally.values.last())?;
        // The first pixel of the extreme values, over every count that codes them.
        let first_of = |target: f64| {
            self.lut.iter().zip(&self.first).filter(|(&v, _)| v == target).map(|(_, &i)| i).min().unwrap_or(0)
        };
        let positions = (first_of(lo), first_of(hi));
        let (n, moments) = (tally.n, tally.moments());
        Some(finish(&area, n, (lo, hi), moments, OrderStats::Tallied(tally), Some(positions)))
    }

    /// [`area_stats`] of an area of the coded image; `scratch`: a buffer of zeros, left zeroed.
    pub(crate) fn area_stats<'b>(
        &self,
        area: Area<'b>,
        scratch: &mut Vec<u32>,
    ) -> Option<(TemperatureStats, OrderStats<'b>)> {
        let tally = self.tally(&area, scratch);
        tallied_area_stats(area, tally)
    }

    /// The tally of `area` (of the coded image); `scratch`: a buffer of zeros, left zeroed.
    fn tally(&self, area: &Area<'_>, scratch: &mut Vec<u32>) -> Tally {
        let len = self.lut.len();
        scratch.resize(4 * len, 0);
        let mut hist = LaneHist { bins: scratch, len };
        let (mut lo, mut hi) = (usize::MAX, 0usize);
        for (s, seg) in area.segments() {
            let counts = &self.counts[s..s + seg.len()];
            if let Some((a, b)) = count_range(counts) {
                lo = lo.min(usize::from(a - self.lo));
                hi = hi.max(usize::from(b - self.lo));
            }
            hist.add(counts, self.lo);
        }
        if lo > hi {
            return Tally { values: Vec::new(), before: Vec::new(), n: 0 };
        }
        let merged = hist.merge(lo..=hi);
        let tally = Tally::from_hist(merged, &self.lut[lo..=hi]);
        merged.fill(0);
        tally
    }
}

/// Order statistics of arbitrary values: a histogram of [`BINS`] bins over [min, max]
/// (cumulative counts), each pixel's bin (so that later passes only compare small integers), and the values of
/// the bins holding wanted ranks, collected on demand (one pass per request of new bins) and sorted.
pub(crate) struct Binned<'a> {
    area: Area<'a>,
    lo: f64,
    /// All finite values equal `lo`.
    constant: bool,
    n: usize,
    /// `start[b]`: number of values in bins before `b`.
    start: Vec<usize>,
    /// The bin of each pixel in area order ([`NOT_FINITE`] for NaN/±inf).
    bins: Vec<u16>,
    /// Collected bins: (bin, its values sorted).
    buckets: Vec<(usize, Vec<f64>)>,
}

/// The bin marker of a non-finite pixel.
const NOT_FINITE: u16 = BINS as u16;

/// Four-lane accumulation (independent dependency chains; the lanes are added at the end).
#[derive(Default)]
struct Lanes([f64; 4]);

impl Lanes {
    fn total(&self) -> f64 {
        (self.0[0] + self.0[1]) + (self.0[2] + self.0[3])
    }
}

impl<'a> Binned<'a> {
    /// Histogram pass over the finite values (`lo`, `hi`, `n` from a first pass); also returns
    /// `Σ (v − mean)²`.
    fn build(area: Area<'a>, (lo, hi, n): (f64, f64, usize), mean: f64) -> (Self, f64) {
        let constant = hi <= lo;
        let scale = if constant { 0.0 } else { BINS as f64 / (hi - lo) };
        let mut counts = vec![0usize; BINS + 1];
        let mut bins = vec![0u16; area.len()];
        let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
        let bin_of = |v: f64| -> u16 {
            if v.is_finite() {
                // `v ≥ lo`, so the truncation is of a non-negative value; `min` puts the maximum in the last bin.
                (((v - lo) * scale) as i32).min(BINS as i32 - 1) as u16
            } else {
                NOT_FINITE
            }
        };
        let dev2 = |v: f64| if v.is_finite() { (v - mean) * (v - mean) } else { 0.0 };
        let mut at = 0;
        for (_, seg) in area.segments() {
            let out = &mut bins[at..at + seg.len()];
            at += seg.len();
            let mut vs = seg.chunks_exact(4);
            let mut bs = out.chunks_exact_mut(4);
            for (v, b) in (&mut vs).zip(&mut bs) {
                s0 += dev2(v[0]);
                s1 += dev2(v[1]);
                s2 += dev2(v[2]);
                s3 += dev2(v[3]);
                for k in 0..4 {
                    b[k] = bin_of(v[k]);
                }
            }
            for (&v, b) in vs.remainder().iter().zip(bs.into_remainder()) {
                s0 += dev2(v);
                *b = bin_of(v);
            }
        }
        for &b in &bins {
            counts[usize::from(b)] += 1;
        }
        let ss = Lanes([s0, s1, s2, s3]);
        counts.truncate(BINS);
        let mut acc = 0;
        for c in counts.iter_mut() {
            let k = *c;
            *c = acc;
            acc += k;
        }
        (Binned { area, lo, constant, n, start: counts, bins, buckets: Vec::new() }, ss.total())
    }

    fn bin_of_rank(&self, k: usize) -> usize {
        self.start.partition_point(|&s| s <= k) - 1
    }

    /// The values of rank `ks` (0-based, ascending, `< n`).
    fn values_at(&mut self, ks: &[usize]) -> Vec<f64> {
        if self.constant {
            return vec![self.lo; ks.len()];
        }
        let mut missing: Vec<usize> = ks
            .iter()
            .map(|&k| self.bin_of_rank(k))
            .filter(|b| !self.buckets.iter().any(|(have, _)| have == b))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            // Bin → slot in `fresh` (u8::MAX: not wanted); at most a handful of bins are wanted at once.
            let mut slot = [u8::MAX; BINS + 1];
            let mut fresh: Vec<Vec<f64>> = Vec::with_capacity(missing.len());
            for (i, &b) in missing.iter().enumerate().take(usize::from(u8::MAX)) {
                slot[b] = i as u8;
                let size = self.start.get(b + 1).copied().unwrap_or(self.n) - self.start[b];
                fresh.push(Vec::with_capacity(size));
            }
            let mut at = 0;
            for (_, seg) in self.area.segments() {
                let bins = &self.bins[at..at + seg.len()];
                at += seg.len();
                for (&v, &b) in seg.iter().zip(bins) {
                    let s = slot[usize::from(b)];
                    if s != u8::MAX {
                        fresh[usize::from(s)].push(v);
                    }
                }
            }
            for (b, mut values) in missing.into_iter().zip(fresh) {
                values.sort_unstable_by(f64::total_cmp);
                self.buckets.push((b, values));
            }
        }
        ks.iter()
            .map(|&k| {
                let b = self.bin_of_rank(k);
                let values = &self.buckets.iter().find(|(have, _)| *have == b).expect("collected above").1;
                values[k - self.start[b]]
            })
            .collect()
    }
}

/// Statistics of the finite values of `area` (`width`: the image width, for positions), and the order
/// statistics for further quantiles; `None` when no value is finite.
pub(crate) fn area_stats(area: Area<'_>) -> Option<(TemperatureStats, OrderStats<'_>)> {
    // Four lanes of sum, minimum and maximum (independent chains), one count.
    let mut n = 0usize;
    let (mut sum, mut lo, mut hi) = ([0.0f64; 4], [f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
    let mut visit = |lane: usize, v: f64| {
        let finite = v.is_finite();
        n += usize::from(finite);
        sum[lane] += if finite { v } else { 0.0 };
        lo[lane] = if finite && v < lo[lane] { v } else { lo[lane] };
        hi[lane] = if finite && v > hi[lane] { v } else { hi[lane] };
    };
    for (_, seg) in area.segments() {
        let mut chunks = seg.chunks_exact(4);
        for c in &mut chunks {
            for (lane, &v) in c.iter().enumerate() {
                visit(lane, v);
            }
        }
        for &v in chunks.remainder() {
            visit(0, v);
        }
    }
    if n == 0 {
        return None;
    }
    let lo = lo.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = Lanes(sum).total() / n as f64;
    let (binned, ss) = Binned::build(area.clone(), (lo, hi, n), mean);
    Some(finish(&area, n, (lo, hi), (mean, ss), OrderStats::Binned(binned), None))
}

/// [`area_stats`] of an area of a count-coded image, from its tally.
fn tallied_area_stats(area: Area<'_>, tally: Tally) -> Option<(TemperatureStats, OrderStats<'_>)> {
    let (&lo, &hi) = tally.values.first().zip(tally.values.last())?;
    let (n, moments) = (tally.n, tally.moments());
    Some(finish(&area, n, (lo, hi), moments, OrderStats::Tallied(tally), None))
}

/// The statistics from the count, extremes, mean and `Σ (v − mean)²` of the finite values of `area`, and the
/// order statistics: quantiles and the first positions of the extremes (`positions`, else searched).
fn finish<'a>(
    area: &Area<'a>,
    n: usize,
    (lo, hi): (f64, f64),
    (mean, ss): (f64, f64),
    mut order: OrderStats<'a>,
    positions: Option<(usize, usize)>,
) -> (TemperatureStats, OrderStats<'a>) {
    // The first (row-major) positions of the extremes: an early-exit search, 16 values per branch.
    let first = |target: f64| {
        area.segments().find_map(|(s, seg)| first_where(seg, |v| v == target).map(|j| s + j)).unwrap_or(0)
    };
    let (lo_i, hi_i) = positions.unwrap_or_else(|| (first(lo), first(hi)));
    let q = order.quantiles_of_smallest(n, &[0.5, 0.05, 0.95]);
    let pos = |i: usize| PixelPos { row: i / area.width, col: i % area.width };
    let stats = TemperatureStats {
        n_valid: n,
        n_missing: area.len() - n,
        min_c: lo,
        max_c: hi,
        mean_c: mean,
        std_c: (ss / n as f64).sqrt(),
        median_c: q[0],
        p05_c: q[1],
        p95_c: q[2],
        min_at: pos(lo_i),
        max_at: pos(hi_i),
    };
    (stats, order)
}

/// Index of the first value of `seg` for which `pred` holds. Blocks of 16 values are tested branch-free (a
/// vectorised compare for simple predicates), so the search costs one branch per block until the block that
/// holds it. Used for the extreme positions here and the hotspot threshold scan.
pub(crate) fn first_where(seg: &[f64], pred: impl Fn(f64) -> bool) -> Option<usize> {
    let (blocks, tail) = seg.as_chunks::<16>();
    for (b, block) in blocks.iter().enumerate() {
        if block.iter().fold(false, |any, &v| any | pred(v)) {
            return block.iter().position(|&v| pred(v)).map(|j| 16 * b + j);
        }
    }
    tail.iter().position(|&v| pred(v)).map(|j| 16 * blocks.len() + j)
}

/// Histogram bins over [min, max].
const BINS: usize = 4096;

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
            let s = area_stats(Area::whole(&data, 1)).unwrap().0;
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
    fn rectangles_and_smallest_values() {
        // 7 x 5 image, values i; the rectangle rows 1..=3, cols 2..=5.
        let data: Vec<f64> = (0..35).map(|i| if i == 17 { f64::NAN } else { f64::from(i) }).collect();
        let rect = PixelRect { row_min: 1, col_min: 2, row_max: 3, col_max: 5 };
        let (s, mut order) = area_stats(Area::rect(&data, 7, rect)).unwrap();
        let mut inside: Vec<f64> =
            (1..=3).flat_map(|r| (2..=5).map(move |c| f64::from(r * 7 + c))).filter(|&v| v != 17.0).collect();
        inside.sort_unstable_by(f64::total_cmp);
        assert_eq!((s.n_valid, s.n_missing), (11, 1));
        assert_eq!(
            (s.min_c, s.max_c, s.min_at, s.max_at),
            (9.0, 26.0, PixelPos { row: 1, col: 2 }, PixelPos { row: 3, col: 5 })
        );
        assert_eq!(s.median_c, numpy_quantile(&inside, 0.5));
        assert_eq!(s.mean_c, inside.iter().sum::<f64>() / 11.0);
        // Quantiles of the 5 smallest values: 9 10 11 12 16.
        assert_eq!(order.quantiles_of_smallest(5, &[0.5, 1.0, 0.25]), vec![11.0, 16.0, 10.0]);
    }

    #[test]
    fn constant_and_empty() {
        let s = area_stats(Area::whole(&[5.0; 9], 3)).unwrap().0;
        assert_eq!((s.median_c, s.std_c, s.max_at), (5.0, 0.0, PixelPos { row: 0, col: 0 }));
        assert!(area_stats(Area::whole(&[f64::NAN; 4], 2)).is_none());
        assert!(area_stats(Area::whole(&[], 2)).is_none());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn count_coded_stats_equal_the_general_path() {
        let mut rng = crate::rng::seeded(11);
        let (w, h) = (37, 23);
        // Counts 1000..1400 through a non-decreasing table with flat runs (equal values of distinct counts)
        // and a NaN count.
        let table = |c: u16| match c {
            1200 => f64::NAN,
            _ => 20.0 + (f64::from(c - 1000) / 7.0).floor() * 0.13,
        };
        let counts: Vec<u16> =
            (0..w * h).map(|_| 1000 + rng.gen_range(0..400u16).min(rng.gen_range(0..400))).collect();
        let data: Vec<f64> = counts.iter().map(|&c| table(c)).collect();
        let (coding, hist) = CountCoding::new(&data, &counts).expect("a non-decreasing coding");
        let rect = PixelRect { row_min: 3, col_min: 5, row_max: 17, col_max: 30 };
        let mut scratch = Vec::new();
        for (area, coded) in [
            (Area::whole(&data, w), coding.whole_stats(Area::whole(&data, w), &hist)),
            (Area::rect(&data, w, rect), coding.area_stats(Area::rect(&data, w, rect), &mut scratch)),
        ] {
            let (general, mut g_order) = area_stats(area).unwrap();
            let (coded, mut c_order) = coded.unwrap();
            assert_eq!(
                (coded.n_valid, coded.n_missing, coded.min_c, coded.max_c, coded.min_at, coded.max_at),
                (
                    general.n_valid,
                    general.n_missing,
                    general.min_c,
                    general.max_c,
                    general.min_at,
                    general.max_at
                )
            );
            assert!(general.n_missing > 0);
            for (a, b) in [
                (coded.mean_c, general.mean_c),
                (coded.std_c, general.std_c),
                (coded.median_c, general.median_c),
                (coded.p05_c, general.p05_c),
                (coded.p95_c, general.p95_c),
            ] {
                assert_relative_eq!(a, b, max_relative = 1e-13);
            }
            let m = general.n_valid / 3;
            assert_eq!(
                c_order.quantiles_of_smallest(m, &[0.5, 0.1, 1.0]),
                g_order.quantiles_of_smallest(m, &[0.5, 0.1, 1.0])
            );
        }
        assert!(scratch.iter().all(|&c| c == 0));
    }

    #[test]
    fn count_coding_refuses_what_is_not_one_non_decreasing_function() {
        let counts = [5u16, 6, 7, 6];
        assert!(CountCoding::new(&[1.0, 2.0, 3.0, 2.0], &counts).is_some());
        // Count 6 with two values.
        assert!(CountCoding::new(&[1.0, 2.0, 3.0, 2.5], &counts).is_none());
        // Decreasing.
        assert!(CountCoding::new(&[3.0, 2.0, 1.0, 2.0], &counts).is_none());
        // Length mismatch, empty.
        assert!(CountCoding::new(&[1.0, 2.0], &counts).is_none());
        assert!(CountCoding::new(&[], &[]).is_none());
    }
}
