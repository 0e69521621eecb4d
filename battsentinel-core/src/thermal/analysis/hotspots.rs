//! Hotspots: pixels above a threshold grouped into 8-connected components; and the gradient magnitude.

use serde::{Deserialize, Serialize};

use super::stats::{first_where, PixelPos};

/// Pixel rectangle, inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelRect {
    /// First row.
    pub row_min: usize,
    /// First column.
    pub col_min: usize,
    /// Last row (inclusive).
    pub row_max: usize,
    /// Last column (inclusive).
    pub col_max: usize,
}

/// One hotspot: an 8-connected component of pixels at or above the hotspot threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotspot {
    /// Rank by peak temperature (0 = hottest).
    pub id: usize,
    /// Area (pixels).
    pub area_px: usize,
    /// Area as a fraction of the valid pixels.
    pub area_fraction: f64,
    /// Centroid row (pixel centres, unweighted).
    pub centroid_row: f64,
    /// Centroid column.
    pub centroid_col: f64,
    /// Peak temperature (°C).
    pub peak_c: f64,
    /// Position of the peak.
    pub peak_at: PixelPos,
    /// Mean temperature (°C).
    pub mean_c: f64,
    /// Bounding box.
    pub bbox: PixelRect,
    /// Peak minus background (K).
    pub delta_t_peak_c: f64,
    /// Mean minus background (K).
    pub delta_t_mean_c: f64,
}

/// The above-threshold components and their hotspots; with `labels` when asked for.
pub(crate) struct HotspotMap {
    /// Label of each pixel (0 = none; components numbered from 1 in row-major order of their first pixel);
    /// empty unless [`find_hotspots`] was asked for labels.
    pub(crate) labels: Vec<u32>,
    pub(crate) hotspots: Vec<Hotspot>,
    /// Label of each reported hotspot, same order.
    pub(crate) hotspot_labels: Vec<u32>,
    pub(crate) background_c: f64,
}

/// A horizontal run of hot pixels `[start, end)` (pixel indices) in one row, with its sums.
struct Run {
    row: usize,
    /// First and one-past-last column.
    cols: (usize, usize),
    sum: f64,
    /// Peak value and its index (the first in the run).
    peak: (f64, usize),
}

/// Union–find root of run `i`, with path halving.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Finds the 8-connected components of finite pixels `>= threshold_c`, keeps those of at least `min_area_px`
/// pixels (the `max_hotspots` hottest), and measures them against the background: the median of the valid
/// pixels outside every above-threshold component. Those are exactly the finite pixels below the threshold,
/// i.e. the `n_outside` smallest valid values, so `background(n_outside)` computes it from the image's order
/// statistics (`n_outside` may be 0: the caller decides, e.g. the image median).
///
/// Components are built from horizontal runs of hot pixels (each run is summed as one slice), joined by
/// union–find with the overlapping runs of the row above (8-connected: columns overlapping or touching
/// diagonally); no per-pixel label array is written unless `with_labels` asks for it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn find_hotspots(
    data: &[f64],
    width: usize,
    height: usize,
    threshold_c: f64,
    min_area_px: usize,
    max_hotspots: usize,
    n_valid: usize,
    with_labels: bool,
    background: impl FnOnce(usize) -> f64,
) -> HotspotMap {
    let hot = |v: f64| v.is_finite() && v >= threshold_c;
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    // Runs of the previous row: `prev..cur_start` in `runs`.
    let mut prev = 0;
    for r in 0..height {
        let row = &data[r * width..(r + 1) * width];
        let cur_start = runs.len();
        let mut c = 0;
        while c < width {
            // NaN compares false; +inf is at or above but not hot (tested below).
            let Some(j) = first_where(&row[c..], |v| v >= threshold_c).map(|j| c + j) else { break };
            if !hot(row[j]) {
                // +inf: at or above, but not a temperature.
                c = j + 1;
                continue;
            }
            let end = row[j..].iter().position(|&v| !hot(v)).map_or(width, |k| j + k);
            let seg = &row[j..end];
            // First maximum of the run (strictly greater wins, so ties keep the first).
            let mut peak = (seg[0], j);
            for (k, &v) in seg.iter().enumerate().skip(1) {
                if v > peak.0 {
                    peak = (v, j + k);
                }
            }
            let id = runs.len();
            runs.push(Run {
                row: r,
                cols: (j, end),
                sum: seg.iter().sum(),
                peak: (peak.0, r * width + peak.1),
            });
            parent.push(id);
            // Join the runs of the row above whose columns overlap [j − 1, end] (8-connectivity).
            while prev < cur_start && runs[prev].cols.1 < j {
                prev += 1;
            }
            let mut k = prev;
            while k < cur_start && runs[k].cols.0 <= end {
                let (a, b) = (root(&mut parent, k), root(&mut parent, id));
                if a != b {
                    // The smaller id (earlier in row-major order) stays the root.
                    let (lo, hi) = (a.min(b), a.max(b));
                    parent[hi] = lo;
                }
                k += 1;
            }
            // The last run above that reached past `end` may also touch the next run of this row.
            prev = k.saturating_sub(1).max(prev);
            c = end;
        }
        prev = cur_start;
    }
    struct Acc {
        label: u32,
        area: usize,
        sum: f64,
        sum_r: f64,
        sum_c: f64,
        peak: f64,
        peak_i: usize,
        bbox: PixelRect,
    }
    // Components in order of their first run (row-major order of their first pixel): label = position + 1.
    let mut comps: Vec<Acc> = Vec::new();
    let mut comp_of = vec![usize::MAX; runs.len()];
    for i in 0..runs.len() {
        let rt = root(&mut parent, i);
        let run = &runs[i];
        let (c0, c1) = run.cols;
        let len = c1 - c0;
        if rt == i {
            comp_of[i] = comps.len();
            comps.push(Acc {
                label: comps.len() as u32 + 1,
                area: 0,
                sum: 0.0,
                sum_r: 0.0,
                sum_c: 0.0,
                peak: f64::NEG_INFINITY,
                peak_i: run.peak.1,
                bbox: PixelRect { row_min: run.row, col_min: c0, row_max: run.row, col_max: c1 - 1 },
            });
        } else {
            comp_of[i] = comp_of[rt];
        }
        let a = &mut comps[comp_of[i]];
        a.area += len;
        a.sum += run.sum;
        a.sum_r += (run.row * len) as f64;
        // Sum of the columns c0..c1 (exact in f64 below 2^53).
        a.sum_c += ((c0 + c1 - 1) * len / 2) as f64;
        if run.peak.0 > a.peak {
            (a.peak, a.peak_i) = run.peak;
        }
        a.bbox.row_max = run.row;
        a.bbox.col_min = a.bbox.col_min.min(c0);
        a.bbox.col_max = a.bbox.col_max.max(c1 - 1);
    }
    let labels = if with_labels {
        let mut labels = vec![0u32; data.len()];
        for (run, &k) in runs.iter().zip(&comp_of) {
            labels[run.row * width + run.cols.0..run.row * width + run.cols.1].fill(comps[k].label);
        }
        labels
    } else {
        Vec::new()
    };
    let n_hot: usize = comps.iter().map(|a| a.area).sum();
    let background_c = background(n_valid.saturating_sub(n_hot));
    comps.retain(|a| a.area >= min_area_px.max(1));
    comps.sort_by(|a, b| b.peak.total_cmp(&a.peak).then(a.peak_i.cmp(&b.peak_i)));
    comps.truncate(max_hotspots);
    let hotspot_labels = comps.iter().map(|a| a.label).collect();
    let hotspots = comps
        .iter()
        .enumerate()
        .map(|(id, a)| {
            let mean = a.sum / a.area as f64;
            Hotspot {
                id,
                area_px: a.area,
                area_fraction: a.area as f64 / n_valid.max(1) as f64,
                centroid_row: a.sum_r / a.area as f64,
                centroid_col: a.sum_c / a.area as f64,
                peak_c: a.peak,
                peak_at: PixelPos { row: a.peak_i / width, col: a.peak_i % width },
                mean_c: mean,
                bbox: a.bbox,
                delta_t_peak_c: a.peak - background_c,
                delta_t_mean_c: mean - background_c,
            }
        })
        .collect();
    HotspotMap { labels, hotspots, hotspot_labels, background_c }
}

/// Gradient magnitude (K per pixel) by the Sobel operator, divided by 8 so that a linear ramp of `g` K/px
/// gives `g`. Border pixels and pixels with a NaN neighbour are NaN.
///
/// # Examples
/// ```
/// use battsentinel_core::thermal::{gradient_magnitude, ThermalImage};
/// // A ramp of 0.5 K per column.
/// let t: Vec<f64> = (0..25).map(|i| 0.5 * (i % 5) as f64).collect();
/// let img = ThermalImage::from_celsius(5, 5, t).unwrap();
/// let g = gradient_magnitude(&img);
/// assert!((g[2 * 5 + 2] - 0.5).abs() < 1e-12);
/// assert!(g[0].is_nan());
/// ```
pub fn gradient_magnitude(img: &super::super::ThermalImage) -> Vec<f64> {
    let (w, h, d) = (img.width, img.height, &img.temperatures_c);
    let mut out = vec![f64::NAN; d.len()];
    if w < 3 || h < 3 {
        return out;
    }
    for r in 1..h - 1 {
        let (up, mid, dn) = ((r - 1) * w, r * w, (r + 1) * w);
        for c in 1..w - 1 {
            let p = |base: usize, dc: isize| d[(base as isize + c as isize + dc) as usize];
            let gx = (p(up, 1) + 2.0 * p(mid, 1) + p(dn, 1)) - (p(up, -1) + 2.0 * p(mid, -1) + p(dn, -1));
            let gy = (p(dn, -1) + 2.0 * p(dn, 0) + p(dn, 1)) - (p(up, -1) + 2.0 * p(up, 0) + p(up, 1));
            // NaN propagates: any missing neighbour (or centre) gives NaN.
            out[mid + c] = (gx * gx + gy * gy).sqrt() / 8.0 + 0.0 * p(mid, 0);
        }
    }
    out
}

/// Largest and mean gradient magnitude of [`gradient_magnitude`] without materialising it (same values):
/// `(max, index of the first max, sum, count)` over the finite magnitudes. One row at a time: the row's
/// magnitudes are computed into a buffer (straight-line code over equal-length slices, which vectorises),
/// then reduced in four lanes.
pub(crate) fn gradient_extremes(img: &super::super::ThermalImage) -> (f64, usize, f64, usize) {
    let (w, h, d) = (img.width, img.height, &img.temperatures_c);
    let (mut gmax, mut gmax_i, mut gn) = (f64::NAN, 0usize, 0usize);
    let mut sum = [0.0f64; 4];
    if w < 3 || h < 3 {
        return (gmax, gmax_i, 0.0, gn);
    }
    let m = w - 2;
    let mut g = vec![0.0f64; m];
    for r in 1..h - 1 {
        let row = |rr: usize, dc: usize| &d[rr * w + dc..rr * w + dc + m];
        let (u0, u1, u2) = (row(r - 1, 0), row(r - 1, 1), row(r - 1, 2));
        let (m0, m1, m2) = (row(r, 0), row(r, 1), row(r, 2));
        let (n0, n1, n2) = (row(r + 1, 0), row(r + 1, 1), row(r + 1, 2));
        // Equal lengths, visible to the optimiser: no bounds checks, so the loop vectorises.
        let (u0, u1, u2, m0, m1, m2) = (&u0[..m], &u1[..m], &u2[..m], &m0[..m], &m1[..m], &m2[..m]);
        let (n0, n1, n2, g) = (&n0[..m], &n1[..m], &n2[..m], &mut g[..m]);
        for c in 0..m {
            let gx = (u2[c] + 2.0 * m2[c] + n2[c]) - (u0[c] + 2.0 * m0[c] + n0[c]);
            let gy = (n0[c] + 2.0 * n1[c] + n2[c]) - (u0[c] + 2.0 * u1[c] + u2[c]);
            // NaN propagates: any missing neighbour (or centre) gives NaN.
            g[c] = (gx * gx + gy * gy).sqrt() / 8.0 + 0.0 * m1[c];
        }
        // Fast path: the row's sum is finite only if every magnitude is; NaN never wins `>`.
        let (mut part, mut top) = ([0.0f64; 4], [f64::NEG_INFINITY; 4]);
        let mut chunks = g.chunks_exact(4);
        for ch in &mut chunks {
            for k in 0..4 {
                part[k] += ch[k];
                top[k] = if ch[k] > top[k] { ch[k] } else { top[k] };
            }
        }
        for &v in chunks.remainder() {
            part[0] += v;
            top[0] = if v > top[0] { v } else { top[0] };
        }
        let mut count = [m, 0, 0, 0];
        if !((part[0] + part[1]) + (part[2] + part[3])).is_finite() {
            // Missing pixels (or overflow) in this row: only the finite magnitudes count.
            (part, top, count) = ([0.0; 4], [f64::NEG_INFINITY; 4], [0; 4]);
            for &v in g.iter() {
                if v.is_finite() {
                    part[0] += v;
                    count[0] += 1;
                    top[0] = top[0].max(v);
                }
            }
        }
        for k in 0..4 {
            sum[k] += part[k];
        }
        gn += count.iter().sum::<usize>();
        let row_max = top.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if row_max.is_finite() && (gmax.is_nan() || row_max > gmax) {
            gmax = row_max;
            gmax_i = r * w + 1 + g.iter().position(|&v| v == row_max).unwrap_or(0);
        }
    }
    (gmax, gmax_i, (sum[0] + sum[1]) + (sum[2] + sum[3]), gn)
}

#[cfg(test)]
mod tests {
    use super::super::stats::{area_stats, Area};
    use super::*;
    use approx::assert_relative_eq;

    /// Median of the `n` smallest finite values.
    fn bg(d: &[f64], n: usize) -> f64 {
        area_stats(Area::whole(d, 1)).unwrap().1.quantiles_of_smallest(n, &[0.5])[0]
    }

    #[test]
    fn gradient_extremes_match_the_gradient_image() {
        let (w, h) = (9, 7);
        let mut d: Vec<f64> = (0..w * h).map(|i| ((i * 37) % 11) as f64 * 0.3 + (i / w) as f64).collect();
        d[20] = f64::NAN;
        let img = crate::thermal::ThermalImage::from_celsius(w, h, d).unwrap();
        let g = gradient_magnitude(&img);
        let (max, at, sum, n) = gradient_extremes(&img);
        let finite: Vec<(usize, f64)> =
            g.iter().copied().enumerate().filter(|(_, v)| v.is_finite()).collect();
        assert_eq!(n, finite.len());
        assert_relative_eq!(sum, finite.iter().map(|p| p.1).sum::<f64>(), max_relative = 1e-14);
        let best = finite.iter().fold((0, f64::NAN), |b, &p| if b.1.is_nan() || p.1 > b.1 { p } else { b });
        assert_eq!((at, max), best);
    }

    #[test]
    fn two_blobs_and_background() {
        // 8x6 at 20 °C with a 2x2 blob at 30 °C and a single pixel at 40 °C.
        let (w, h) = (8, 6);
        let mut d = vec![20.0; w * h];
        for (r, c) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
            d[r * w + c] = 30.0;
        }
        d[4 * w + 6] = 40.0;
        let m = find_hotspots(&d, w, h, 25.0, 1, 10, w * h, true, |n| bg(&d, n));
        assert_eq!(m.hotspots.len(), 2);
        assert_eq!(m.background_c, 20.0);
        let hot = &m.hotspots[0];
        assert_eq!((hot.area_px, hot.peak_c, hot.peak_at), (1, 40.0, PixelPos { row: 4, col: 6 }));
        let blob = &m.hotspots[1];
        assert_eq!(blob.area_px, 4);
        assert_eq!((blob.centroid_row, blob.centroid_col), (1.5, 1.5));
        assert_eq!(blob.delta_t_mean_c, 10.0);
        assert_eq!(blob.bbox, PixelRect { row_min: 1, col_min: 1, row_max: 2, col_max: 2 });
        // Minimum area drops the single pixel, but it stays out of the background.
        let m = find_hotspots(&d, w, h, 25.0, 2, 10, w * h, true, |n| bg(&d, n));
        assert_eq!(m.hotspots.len(), 1);
        assert_eq!(m.labels.iter().filter(|&&l| l != 0).count(), 5);
    }

    /// The run-based components equal a plain 8-neighbour flood fill (labels in row-major order of each
    /// component's first pixel) on random images with NaN and ±inf pixels.
    #[test]
    fn runs_equal_a_flood_fill() {
        let mut rng = crate::rng::seeded(11);
        for case in 0..200 {
            let (w, h) = (rand::Rng::gen_range(&mut rng, 1..40), rand::Rng::gen_range(&mut rng, 1..30));
            let p_hot = [0.1, 0.4, 0.6, 0.9][case % 4];
            let d: Vec<f64> = (0..w * h)
                .map(|_| match rand::Rng::gen_range(&mut rng, 0..100) {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    _ if rand::Rng::gen_bool(&mut rng, p_hot) => {
                        30.0 + rand::Rng::gen_range(&mut rng, 0..5) as f64
                    }
                    _ => 20.0,
                })
                .collect();
            let hot = |i: usize| d[i].is_finite() && d[i] >= 25.0;
            // Reference: flood fill from each unlabelled hot pixel in row-major order.
            let mut want = vec![0u32; w * h];
            let mut comps: Vec<Vec<usize>> = Vec::new();
            for seed in 0..w * h {
                if !hot(seed) || want[seed] != 0 {
                    continue;
                }
                let label = comps.len() as u32 + 1;
                let (mut stack, mut members) = (vec![seed], Vec::new());
                want[seed] = label;
                while let Some(i) = stack.pop() {
                    members.push(i);
                    let (r, c) = ((i / w) as isize, (i % w) as isize);
                    for (dr, dc) in (-1..=1).flat_map(|a| (-1..=1).map(move |b| (a, b))) {
                        let (nr, nc) = (r + dr, c + dc);
                        if nr >= 0 && nc >= 0 && (nr as usize) < h && (nc as usize) < w {
                            let j = nr as usize * w + nc as usize;
                            if hot(j) && want[j] == 0 {
                                want[j] = label;
                                stack.push(j);
                            }
                        }
                    }
                }
                members.sort_unstable();
                comps.push(members);
            }
            let m = find_hotspots(&d, w, h, 25.0, 1, usize::MAX, w * h, true, |_| 0.0);
            assert_eq!(m.labels, want, "case {case}: {w}x{h}");
            assert_eq!(m.hotspots.len(), comps.len());
            for (hs, &label) in m.hotspots.iter().zip(&m.hotspot_labels) {
                let members = &comps[label as usize - 1];
                let peak_i = *members.iter().reduce(|a, b| if d[*b] > d[*a] { b } else { a }).unwrap();
                assert_eq!(
                    (hs.area_px, hs.peak_c, hs.peak_at.row * w + hs.peak_at.col),
                    (members.len(), d[peak_i], peak_i)
                );
                let rows = members.iter().map(|i| i / w);
                let cols = members.iter().map(|i| i % w);
                let bbox = PixelRect {
                    row_min: rows.clone().min().unwrap(),
                    col_min: cols.clone().min().unwrap(),
                    row_max: rows.clone().max().unwrap(),
                    col_max: cols.clone().max().unwrap(),
                };
                assert_eq!(hs.bbox, bbox);
                let n = members.len() as f64;
                assert_eq!(hs.centroid_row, rows.sum::<usize>() as f64 / n);
                assert_eq!(hs.centroid_col, cols.sum::<usize>() as f64 / n);
                assert_relative_eq!(
                    hs.mean_c,
                    members.iter().map(|&i| d[i]).sum::<f64>() / n,
                    max_relative = 1e-14
                );
            }
        }
    }

    #[test]
    fn diagonal_pixels_connect() {
        let (w, h) = (4, 4);
        let mut d = vec![0.0; 16];
        d[0] = 5.0;
        d[5] = 5.0;
        d[10] = 5.0;
        let m = find_hotspots(&d, w, h, 1.0, 1, 10, 16, true, |n| bg(&d, n));
        assert_eq!(m.hotspots.len(), 1);
        assert_eq!(m.hotspots[0].area_px, 3);
    }
}
