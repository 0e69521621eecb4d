//! Per-cell statistics of a pack image and outlier cells by robust z-score.

use serde::{Deserialize, Serialize};

use super::hotspots::PixelRect;
use super::stats::{area_stats, median, Area, CountCoding};

/// A named rectangular region of the image (one cell of a pack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Label shown in reports.
    pub label: String,
    /// Top row.
    pub row: usize,
    /// Left column.
    pub col: usize,
    /// Height (pixels, ≥ 1).
    pub height: usize,
    /// Width (pixels, ≥ 1).
    pub width: usize,
}

/// How a pack image is divided into cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellLayout {
    /// An even grid over the whole image; cell (i, j) spans rows `⌊i·H/rows⌋..⌊(i+1)·H/rows⌋`, labelled
    /// `r{i+1}c{j+1}`.
    Grid {
        /// Number of rows of cells.
        rows: usize,
        /// Number of columns of cells.
        cols: usize,
    },
    /// Explicit regions.
    Regions(Vec<Region>),
}

/// Statistics of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellStats {
    /// Cell index in layout order.
    pub index: usize,
    /// Label (`r1c1`, ... for grids).
    pub label: String,
    /// The cell's pixels.
    pub rect: PixelRect,
    /// Finite pixels in the cell.
    pub n_valid: usize,
    /// Mean (°C); NaN when the cell has no valid pixel.
    pub mean_c: f64,
    /// Median (°C).
    pub median_c: f64,
    /// Minimum (°C).
    pub min_c: f64,
    /// Maximum (°C).
    pub max_c: f64,
    /// Standard deviation (K).
    pub std_c: f64,
    /// Robust z-score of the cell mean among all cells (see [`CellReport`]).
    pub robust_z: f64,
    /// Cell mean minus the median of the cell means (K).
    pub delta_from_median_c: f64,
    /// Whether the cell is an outlier.
    pub outlier: bool,
}

/// Per-cell statistics and outliers.
///
/// The robust z-score of cell `k` is `z = 0.6745 · (m_k − median(m)) / MAD(m)` over the cell means `m`
/// (Iglewicz–Hoaglin). When the MAD is zero, `1.253314 · mean absolute deviation` replaces `MAD / 0.6745`;
/// when both are zero every z is 0. A cell is an outlier when `|z| ≥ outlier_z` **and**
/// `|m_k − median(m)| ≥ outlier_min_delta_c`, so that sub-degree spreads on a uniform pack are not flagged.
/// Fewer than 3 valid cells give no outliers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// The cells, in layout order.
    pub cells: Vec<CellStats>,
    /// Median of the cell means (°C).
    pub median_of_means_c: f64,
    /// Median absolute deviation of the cell means (K).
    pub mad_c: f64,
    /// Indices of outlier cells.
    pub outliers: Vec<usize>,
    /// Largest minus smallest cell mean (K).
    pub spread_c: f64,
}

/// Cell rectangles of a layout (already validated against the image size).
pub(crate) fn cell_rects(layout: &CellLayout, width: usize, height: usize) -> Vec<(String, PixelRect)> {
    match layout {
        CellLayout::Grid { rows, cols } => {
            let mut out = Vec::with_capacity(rows * cols);
            for i in 0..*rows {
                for j in 0..*cols {
                    out.push((
                        format!("r{}c{}", i + 1, j + 1),
                        PixelRect {
                            row_min: i * height / rows,
                            row_max: (i + 1) * height / rows - 1,
                            col_min: j * width / cols,
                            col_max: (j + 1) * width / cols - 1,
                        },
                    ));
                }
            }
            out
        }
        CellLayout::Regions(regions) => regions
            .iter()
            .map(|r| {
                (
                    r.label.clone(),
                    PixelRect {
                        row_min: r.row,
                        col_min: r.col,
                        row_max: r.row + r.height - 1,
                        col_max: r.col + r.width - 1,
                    },
                )
            })
            .collect(),
    }
}

pub(crate) fn cell_report(
    data: &[f64],
    width: usize,
    rects: Vec<(String, PixelRect)>,
    coding: Option<&CountCoding<'_>>,
    outlier_z: f64,
    outlier_min_delta_c: f64,
) -> CellReport {
    let mut scratch = Vec::new();
    let mut cells: Vec<CellStats> = rects
        .into_iter()
        .enumerate()
        .map(|(index, (label, rect))| {
            let area = Area::rect(data, width, rect);
            let s = match coding {
                Some(coding) => coding.area_stats(area, &mut scratch),
                None => area_stats(area),
            }
            .map(|s| s.0);
            let nan = f64::NAN;
            CellStats {
                index,
                label,
                rect,
                n_valid: s.as_ref().map_or(0, |s| s.n_valid),
                mean_c: s.as_ref().map_or(nan, |s| s.mean_c),
                median_c: s.as_ref().map_or(nan, |s| s.median_c),
                min_c: s.as_ref().map_or(nan, |s| s.min_c),
                max_c: s.as_ref().map_or(nan, |s| s.max_c),
                std_c: s.as_ref().map_or(nan, |s| s.std_c),
                robust_z: 0.0,
                delta_from_median_c: nan,
                outlier: false,
            }
        })
        .collect();
    let means: Vec<f64> = cells.iter().map(|c| c.mean_c).filter(|m| m.is_finite()).collect();
    let med = median(&means);
    let abs_dev: Vec<f64> = means.iter().map(|m| (m - med).abs()).collect();
    let mad = median(&abs_dev);
    let mean_ad =
        if abs_dev.is_empty() { f64::NAN } else { abs_dev.iter().sum::<f64>() / abs_dev.len() as f64 };
    // Scale s such that z = (m − med) / s.
    let s = if mad > 0.0 {
        mad / 0.6745
    } else if mean_ad > 0.0 {
        1.253314 * mean_ad
    } else {
        f64::INFINITY
    };
    let mut outliers = Vec::new();
    for c in &mut cells {
        if !c.mean_c.is_finite() {
            c.robust_z = f64::NAN;
            continue;
        }
        let d = c.mean_c - med;
        c.delta_from_median_c = d;
        c.robust_z = if s.is_finite() { d / s } else { 0.0 };
        c.outlier = means.len() >= 3 && c.robust_z.abs() >= outlier_z && d.abs() >= outlier_min_delta_c;
        if c.outlier {
            outliers.push(c.index);
        }
    }
    let spread_c = means.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - means.iter().copied().fold(f64::INFINITY, f64::min);
    CellReport {
        cells,
        median_of_means_c: med,
        mad_c: mad,
        outliers,
        spread_c: if means.is_empty() { f64::NAN } else { spread_c },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_image_exactly() {
        let rects = cell_rects(&CellLayout::Grid { rows: 3, cols: 4 }, 10, 7);
        assert_eq!(rects.len(), 12);
        let mut covered = [0u8; 70];
        for (_, r) in &rects {
            for row in r.row_min..=r.row_max {
                for col in r.col_min..=r.col_max {
                    covered[row * 10 + col] += 1;
                }
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
        assert_eq!(rects[5].0, "r2c2");
    }

    #[test]
    fn hot_cell_is_the_only_outlier() {
        // 2x4 grid on 8x4 px: cell means 25.0, 25.2, 24.9, 25.1, 25.0, 31.0, 24.8, 25.1.
        let means = [25.0, 25.2, 24.9, 25.1, 25.0, 31.0, 24.8, 25.1];
        let (w, h) = (8, 4);
        let data: Vec<f64> = (0..w * h)
            .map(|i| {
                let (r, c) = (i / w, i % w);
                means[(r / 2) * 4 + c / 2]
            })
            .collect();
        let rep =
            cell_report(&data, w, cell_rects(&CellLayout::Grid { rows: 2, cols: 4 }, w, h), None, 3.5, 1.0);
        assert_eq!(rep.outliers, vec![5]);
        assert!((rep.median_of_means_c - 25.05).abs() < 1e-12);
        assert!((rep.mad_c - 0.1).abs() < 1e-12);
        assert!((rep.cells[5].robust_z - 0.6745 * 5.95 / 0.1).abs() < 1e-9);
        assert!((rep.spread_c - 6.2).abs() < 1e-12);
    }

    #[test]
    fn uniform_pack_has_no_outlier() {
        let data = vec![30.0; 64];
        let rep =
            cell_report(&data, 8, cell_rects(&CellLayout::Grid { rows: 4, cols: 4 }, 8, 8), None, 3.5, 1.0);
        assert!(rep.outliers.is_empty());
        assert!(rep.cells.iter().all(|c| c.robust_z == 0.0));
    }
}
