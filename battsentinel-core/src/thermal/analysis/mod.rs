//! Analysis of a [`ThermalImage`]: statistics, hotspots, ΔT to background, gradients, per-cell outliers and a
//! risk level.

mod cells;
mod hotspots;
mod risk;
mod stats;

use serde::{Deserialize, Serialize};

pub use cells::{CellLayout, CellReport, CellStats, Region};
pub(crate) use hotspots::find_hotspots;
pub use hotspots::{gradient_magnitude, Hotspot, PixelRect};
pub use risk::{RiskAssessment, RiskCriterion, RiskLevel, RiskReason, RiskThresholds};
pub use stats::{PixelPos, TemperatureStats};

use super::{ThermalError, ThermalImage};
use crate::params::{ParamError, ParamGuard};

/// How the hotspot threshold is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HotspotRule {
    /// Pixels at or above `threshold_c` °C.
    Absolute {
        /// Threshold (°C).
        threshold_c: f64,
    },
    /// Pixels at or above the image median plus `delta_c` K.
    AboveMedian {
        /// Margin above the median (K, ≥ 0).
        delta_c: f64,
    },
}

/// Validated analysis parameters (see [`ThermalAnalysisParams`] for the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThermalAnalysisValidParams {
    hotspot: HotspotRule,
    min_hotspot_area_px: usize,
    max_hotspots: usize,
    cells: Option<CellLayout>,
    outlier_z: f64,
    outlier_min_delta_c: f64,
    risk: RiskThresholds,
}

impl Default for ThermalAnalysisValidParams {
    fn default() -> Self {
        ThermalAnalysisValidParams {
            hotspot: HotspotRule::AboveMedian { delta_c: 5.0 },
            min_hotspot_area_px: 4,
            max_hotspots: 32,
            cells: None,
            outlier_z: 3.5,
            outlier_min_delta_c: 1.0,
            risk: RiskThresholds::default(),
        }
    }
}

impl ThermalAnalysisValidParams {
    /// Hotspot rule.
    pub fn hotspot(&self) -> HotspotRule {
        self.hotspot
    }
    /// Smallest reported hotspot (pixels).
    pub fn min_hotspot_area_px(&self) -> usize {
        self.min_hotspot_area_px
    }
    /// Most hotspots reported (the hottest).
    pub fn max_hotspots(&self) -> usize {
        self.max_hotspots
    }
    /// Cell layout, if any.
    pub fn cells(&self) -> Option<&CellLayout> {
        self.cells.as_ref()
    }
    /// Robust z-score threshold of outlier cells.
    pub fn outlier_z(&self) -> f64 {
        self.outlier_z
    }
    /// Smallest deviation (K) of an outlier cell.
    pub fn outlier_min_delta_c(&self) -> f64 {
        self.outlier_min_delta_c
    }
    /// Risk thresholds.
    pub fn risk(&self) -> &RiskThresholds {
        &self.risk
    }
}

/// Parameters of [`analyze`], an unchecked builder.
///
/// Defaults: hotspots are pixels ≥ median + 5 K, at least 4 px, the 32 hottest reported; no cells; outlier
/// cells need `|robust z| ≥ 3.5` and a deviation ≥ 1 K; [`RiskThresholds::default`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThermalAnalysisParams(ThermalAnalysisValidParams);

impl ThermalAnalysisParams {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the hotspot rule.
    pub fn hotspot(mut self, rule: HotspotRule) -> Self {
        self.0.hotspot = rule;
        self
    }
    /// Sets the smallest reported hotspot (pixels).
    pub fn min_hotspot_area_px(mut self, n: usize) -> Self {
        self.0.min_hotspot_area_px = n;
        self
    }
    /// Sets the number of hotspots reported.
    pub fn max_hotspots(mut self, n: usize) -> Self {
        self.0.max_hotspots = n;
        self
    }
    /// Divides the image into a `rows × cols` grid of cells.
    pub fn grid(mut self, rows: usize, cols: usize) -> Self {
        self.0.cells = Some(CellLayout::Grid { rows, cols });
        self
    }
    /// Uses explicit cell regions.
    pub fn regions(mut self, regions: Vec<Region>) -> Self {
        self.0.cells = Some(CellLayout::Regions(regions));
        self
    }
    /// Sets the robust z-score threshold of outlier cells.
    pub fn outlier_z(mut self, z: f64) -> Self {
        self.0.outlier_z = z;
        self
    }
    /// Sets the smallest deviation (K) of an outlier cell.
    pub fn outlier_min_delta_c(mut self, delta_c: f64) -> Self {
        self.0.outlier_min_delta_c = delta_c;
        self
    }
    /// Sets the risk thresholds.
    pub fn risk(mut self, risk: RiskThresholds) -> Self {
        self.0.risk = risk;
        self
    }
}

impl ParamGuard for ThermalAnalysisParams {
    type Checked = ThermalAnalysisValidParams;

    fn check_ref(&self) -> Result<&Self::Checked, ParamError> {
        let p = &self.0;
        match p.hotspot {
            HotspotRule::Absolute { threshold_c } if !threshold_c.is_finite() => {
                return Err(ParamError::invalid("hotspot.threshold_c", threshold_c, "must be finite"))
            }
            HotspotRule::AboveMedian { delta_c } if !(delta_c.is_finite() && delta_c >= 0.0) => {
                return Err(ParamError::invalid("hotspot.delta_c", delta_c, "must be finite and >= 0"))
            }
            _ => {}
        }
        if !(p.outlier_z.is_finite() && p.outlier_z > 0.0) {
            return Err(ParamError::invalid("outlier_z", p.outlier_z, "must be finite and > 0"));
        }
        if !(p.outlier_min_delta_c.is_finite() && p.outlier_min_delta_c >= 0.0) {
            return Err(ParamError::invalid(
                "outlier_min_delta_c",
                p.outlier_min_delta_c,
                "must be finite and >= 0",
            ));
        }
        let r = &p.risk;
        let ordered =
            |a: f64, b: f64, c: f64| a.is_finite() && b.is_finite() && c.is_finite() && a <= b && b <= c;
        if !ordered(r.max_temp_watch_c, r.max_temp_warning_c, r.max_temp_critical_c)
            || !ordered(r.delta_t_watch_c, r.delta_t_warning_c, r.delta_t_critical_c)
            || !r.cell_delta_warning_c.is_finite()
        {
            return Err(ParamError::Inconsistent {
                reason: "risk thresholds must be finite and ordered watch <= warning <= critical".to_string(),
            });
        }
        match &p.cells {
            Some(CellLayout::Grid { rows, cols }) if *rows == 0 || *cols == 0 => {
                return Err(ParamError::invalid("cells.grid", (rows, cols), "rows and cols must be >= 1"))
            }
            Some(CellLayout::Regions(regions)) => {
                if let Some(r) = regions.iter().find(|r| r.width == 0 || r.height == 0) {
                    return Err(ParamError::invalid(
                        "cells.regions",
                        &r.label,
                        "width and height must be >= 1",
                    ));
                }
            }
            _ => {}
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Gradient summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientStats {
    /// Largest gradient magnitude (K/px); NaN for images smaller than 3×3.
    pub max_c_per_px: f64,
    /// Mean gradient magnitude (K/px).
    pub mean_c_per_px: f64,
    /// Where the largest gradient is.
    pub max_at: PixelPos,
}

/// Result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalReport {
    /// Image width (pixels).
    pub width: usize,
    /// Image height (pixels).
    pub height: usize,
    /// Temperatures were palette-mapped (approximate).
    pub approximate: bool,
    /// Whole-image statistics.
    pub stats: TemperatureStats,
    /// Hotspot threshold used (°C).
    pub hotspot_threshold_c: f64,
    /// Background temperature: median of the valid pixels outside every above-threshold region (°C).
    pub background_c: f64,
    /// Hotspots, hottest first.
    pub hotspots: Vec<Hotspot>,
    /// Hottest hotspot peak minus background (K); 0 without hotspots.
    pub max_delta_t_c: f64,
    /// Gradient magnitude summary.
    pub gradient: GradientStats,
    /// Per-cell statistics, when a layout was given.
    pub cells: Option<CellReport>,
    /// Risk level for the alert engine.
    pub risk: RiskAssessment,
}

/// Analyses a thermal image: statistics, hotspots (connected components above the threshold) with their ΔT to
/// the background, the gradient magnitude, per-cell statistics and outlier cells, and a [`RiskLevel`].
///
/// # Errors
/// [`ThermalError::Params`] for invalid parameters or cell regions outside the image (or a grid finer than
/// the image); [`ThermalError::NoValidPixels`] if no temperature is finite.
///
/// # Examples
/// ```
/// use battsentinel_core::thermal::{analyze, RiskLevel, ThermalAnalysisParams, ThermalImage};
/// // A 40x20 pack at 25 °C with one cell (2x4 grid, cell r1c3) at 33 °C.
/// let t: Vec<f64> = (0..800).map(|i| if (i / 40) < 10 && (20..30).contains(&(i % 40)) { 33.0 } else { 25.0 }).collect();
/// let img = ThermalImage::from_celsius(40, 20, t).unwrap();
/// let report = analyze(&img, &ThermalAnalysisParams::new().grid(2, 4)).unwrap();
/// assert_eq!(report.hotspots.len(), 1);
/// assert_eq!(report.max_delta_t_c, 8.0);
/// assert_eq!(report.cells.as_ref().unwrap().outliers, vec![2]);
/// assert_eq!(report.risk.level, RiskLevel::Warning);
/// ```
pub fn analyze(img: &ThermalImage, params: &ThermalAnalysisParams) -> Result<ThermalReport, ThermalError> {
    let p = params.check_ref()?;
    let (w, h, d) = (img.width, img.height, &img.temperatures_c);
    if w.checked_mul(h) != Some(d.len()) {
        return Err(ThermalError::BadDimensions {
            width: w as u64,
            height: h as u64,
            reason: "temperature count differs from width × height",
        });
    }
    let rects = match &p.cells {
        Some(layout) => {
            check_layout(layout, w, h)?;
            Some(cells::cell_rects(layout, w, h))
        }
        None => None,
    };
    // Decoded radiometric frames: temperatures are one non-decreasing function of the raw counts, and every
    // statistic follows from count histograms (checked here, since the fields are public).
    let coding = img.raw_counts.as_deref().and_then(|counts| stats::CountCoding::new(d, counts));
    let whole = stats::Area::whole(d, w);
    let (stats, mut order) = match &coding {
        Some((coding, hist)) => coding.whole_stats(whole, hist),
        None => stats::area_stats(whole),
    }
    .ok_or(ThermalError::NoValidPixels)?;
    let hotspot_threshold_c = match p.hotspot {
        HotspotRule::Absolute { threshold_c } => threshold_c,
        HotspotRule::AboveMedian { delta_c } => stats.median_c + delta_c,
    };
    // The background (valid pixels below the threshold) is the `n` smallest values: its median comes from
    // the image's order statistics; with no pixel below the threshold, the image median stands in.
    let map = find_hotspots(
        d,
        w,
        h,
        hotspot_threshold_c,
        p.min_hotspot_area_px,
        p.max_hotspots,
        stats.n_valid,
        false,
        |n| {
            if n > 0 {
                order.quantiles_of_smallest(n, &[0.5])[0]
            } else {
                stats.median_c
            }
        },
    );
    let max_delta_t_c = map.hotspots.first().map_or(0.0, |hs| hs.delta_t_peak_c);
    let (gmax, gmax_i, gsum, gn) = hotspots::gradient_extremes(img);
    let gradient = GradientStats {
        max_c_per_px: gmax,
        mean_c_per_px: if gn > 0 { gsum / gn as f64 } else { f64::NAN },
        max_at: PixelPos { row: gmax_i / w, col: gmax_i % w },
    };
    let coding = coding.as_ref().map(|c| &c.0);
    let cells = rects.map(|r| cells::cell_report(d, w, r, coding, p.outlier_z, p.outlier_min_delta_c));
    let outlier_cells: Vec<(String, f64)> = cells
        .iter()
        .flat_map(|c| c.cells.iter().filter(|s| s.outlier).map(|s| (s.label.clone(), s.delta_from_median_c)))
        .collect();
    let approximate = img.is_approximate();
    let risk = risk::assess(&p.risk, stats.max_c, max_delta_t_c, &outlier_cells, approximate);
    Ok(ThermalReport {
        width: w,
        height: h,
        approximate,
        stats,
        hotspot_threshold_c,
        background_c: map.background_c,
        hotspots: map.hotspots,
        max_delta_t_c,
        gradient,
        cells,
        risk,
    })
}

fn check_layout(layout: &CellLayout, w: usize, h: usize) -> Result<(), ParamError> {
    match layout {
        CellLayout::Grid { rows, cols } => {
            if *rows > h || *cols > w {
                return Err(ParamError::invalid(
                    "cells.grid",
                    (rows, cols),
                    "grid finer than the image (more cells than pixels along a side)",
                ));
            }
        }
        CellLayout::Regions(regions) => {
            for r in regions {
                if r.row.saturating_add(r.height) > h || r.col.saturating_add(r.width) > w {
                    return Err(ParamError::invalid(
                        "cells.regions",
                        &r.label,
                        "region extends outside the image",
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_params_are_rejected() {
        let img = ThermalImage::from_celsius(4, 4, vec![20.0; 16]).unwrap();
        let bad = [
            ThermalAnalysisParams::new().grid(0, 3),
            ThermalAnalysisParams::new().grid(5, 1),
            ThermalAnalysisParams::new().outlier_z(f64::NAN),
            ThermalAnalysisParams::new().hotspot(HotspotRule::AboveMedian { delta_c: -1.0 }),
            ThermalAnalysisParams::new().regions(vec![Region {
                label: "a".into(),
                row: 2,
                col: 0,
                height: 3,
                width: 1,
            }]),
        ];
        for p in bad {
            assert_eq!(analyze(&img, &p).unwrap_err().code(), "invalid_param", "{p:?}");
        }
        let nan = ThermalImage::from_celsius(2, 2, vec![f64::NAN; 4]).unwrap();
        assert_eq!(
            analyze(&nan, &ThermalAnalysisParams::new()).unwrap_err().code(),
            "thermal_no_valid_pixels"
        );
    }

    /// A decoded radiometric frame (temperatures a function of the raw counts) takes the count-histogram path;
    /// its report equals the general path's on the same temperatures (sums in another order: 1e-12).
    #[test]
    fn count_coded_frames_report_as_the_general_path() {
        let (w, h) = (64, 48);
        let mut rng = crate::rng::seeded(3);
        let counts: Vec<u16> = (0..w * h)
            .map(|i| {
                let (r, c) = (i / w, i % w);
                let hot = if (10..18).contains(&r) && (40..50).contains(&c) { 900 } else { 0 };
                (12_000 + 20 * c + hot + rand::Rng::gen_range(&mut rng, 0..15)) as u16
            })
            .collect();
        let celsius = |c: u16| if c == 12_013 { f64::NAN } else { 0.01 * f64::from(c) - 100.0 };
        let general = ThermalImage::from_celsius(w, h, counts.iter().map(|&c| celsius(c)).collect()).unwrap();
        let mut coded = general.clone();
        coded.raw_counts = Some(counts);
        let params = ThermalAnalysisParams::new().grid(3, 4);
        let (a, b) = (analyze(&coded, &params).unwrap(), analyze(&general, &params).unwrap());
        assert!(a.stats.n_missing > 0 && !a.hotspots.is_empty());
        let close = |x: f64, y: f64| approx::assert_relative_eq!(x, y, max_relative = 1e-12);
        close(a.stats.mean_c, b.stats.mean_c);
        close(a.stats.std_c, b.stats.std_c);
        let exact = |s: &TemperatureStats| {
            (s.n_valid, s.n_missing, s.min_c, s.max_c, s.median_c, s.p05_c, s.p95_c, s.min_at, s.max_at)
        };
        assert_eq!(exact(&a.stats), exact(&b.stats));
        assert_eq!((a.background_c, &a.hotspots), (b.background_c, &b.hotspots));
        let (ca, cb) = (a.cells.unwrap(), b.cells.unwrap());
        assert_eq!(ca.outliers, cb.outliers);
        for (x, y) in ca.cells.iter().zip(&cb.cells) {
            assert_eq!((x.n_valid, x.min_c, x.max_c, x.median_c), (y.n_valid, y.min_c, y.max_c, y.median_c));
            close(x.mean_c, y.mean_c);
            close(x.std_c, y.std_c);
        }
        // Counts that do not code the temperatures (edited after decoding) fall back to the general path.
        coded.temperatures_c[5] += 1.0;
        let c = analyze(&coded, &params).unwrap();
        let mut edited = general.clone();
        edited.temperatures_c[5] += 1.0;
        assert_eq!(exact(&c.stats), exact(&analyze(&edited, &params).unwrap().stats));
    }

    #[test]
    fn params_round_trip_through_json() {
        let p = ThermalAnalysisParams::new().grid(4, 6).hotspot(HotspotRule::Absolute { threshold_c: 40.0 });
        let json = serde_json::to_string(&p).unwrap();
        let back: ThermalAnalysisParams = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<ThermalAnalysisParams>(r#"{"bogus": 1}"#).is_err());
    }

    #[test]
    fn auto_traits() {
        fn is_normal<T: Send + Sync + Unpin + Sized>() {}
        is_normal::<ThermalReport>();
        is_normal::<ThermalAnalysisParams>();
        is_normal::<ThermalImage>();
        is_normal::<ThermalError>();
    }
}
