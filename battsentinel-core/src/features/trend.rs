//! Capacity-fade trend: SOH against cycle number, fitted with semi-empirical models and extrapolated to
//! an end-of-life threshold with a bootstrap prediction interval.
//!
//! # Method
//! 1. **Points**: the summary's records selected by [`CycleSelect`] — by default ([`CycleSelect::Auto`])
//!    the capacity check-ups (labels containing "capacity" or "rpt", case-insensitive) when the summary
//!    has any, otherwise every record. Ageing cycles of a check-up protocol are often partial
//!    (capacity-limited) and HPPC/EIS cycles are not capacity measurements, so they must not enter the
//!    trend. Records with a non-finite discharge capacity, or below `min_capacity_fraction` × the median
//!    of the selection (partial cycles), are dropped.
//! 2. **SOH** = discharge capacity / reference, where the reference is `nominal_capacity_ah` when given,
//!    otherwise the first selected point's capacity.
//! 3. **Fit** on the first `ceil(fit_fraction × n)` points (the "early part of life"), x = cycle number:
//!    - linear: `SOH = a + b·n` (ordinary least squares);
//!    - exponential: `SOH = a·exp(b·n)` (least squares on ln SOH);
//!    - power law: `SOH = a − b·n^z` (z by a log-spaced grid on [0.05, 3] refined by golden section, a and b
//!      by least squares at each z). A power law with z ≈ 0.5 is the usual SEI-growth fade, z ≈ 1 linear.
//!
//!    Each fit reports its parameters, RMSE, R² and AICc (`n·ln(SSE/n) + 2k + 2k(k+1)/(n−k−1)`, k =
//!    parameters); `best` is the lowest AICc. A model needs at least k + 1 points.
//! 4. **Extrapolation**: the cycle at which the fitted curve reaches `threshold_soh` (no knee is modelled:
//!    a cell that develops a knee fails earlier than predicted). `None` when the fitted curve never reaches
//!    it (no fade).
//! 5. **Prediction interval** (level `interval_level`), by residual bootstrap with an explicit `seed`:
//!    residuals are centred and inflated by √(n/(n−k)); each of `n_bootstrap` replicates refits the model to
//!    ŷ + e*, then solves `f*(n) + e′ = threshold` with a fresh resampled residual e′ (so the interval holds
//!    a single noisy measurement, not only the mean curve). Percentiles of the replicate crossings give the
//!    bounds; replicates that never cross count as +∞, and a bound that falls on them is `None`
//!    (unbounded).
//! 6. **Hold-out error**: the points after the fitted ones are predicted and their RMSE/MAE reported; when
//!    the observed SOH crosses the threshold (linear interpolation between points), the error of the
//!    predicted crossing is reported too.

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::FeatureError;
use crate::data::CycleSummary;
use crate::params::{ParamError, ParamGuard};

/// Which records of a summary enter the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CycleSelect {
    /// Capacity check-ups (label contains "capacity" or "rpt") when there are any, else every record.
    #[default]
    Auto,
    /// Every record.
    All,
    /// Records whose label equals one of these (case-insensitive, trimmed).
    Labels(Vec<String>),
}

/// Validated trend parameters (see [`TrendParams`] for the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendValidParams {
    pub(crate) select: CycleSelect,
    pub(crate) min_capacity_fraction: f64,
    pub(crate) nominal_capacity_ah: Option<f64>,
    pub(crate) threshold_soh: f64,
    pub(crate) fit_fraction: f64,
    pub(crate) n_bootstrap: usize,
    pub(crate) interval_level: f64,
    pub(crate) seed: u64,
}

impl Default for TrendValidParams {
    fn default() -> Self {
        Self {
            select: CycleSelect::Auto,
            min_capacity_fraction: 0.5,
            nominal_capacity_ah: None,
            threshold_soh: 0.8,
            fit_fraction: 1.0,
            n_bootstrap: 1000,
            interval_level: 0.9,
            seed: 0,
        }
    }
}

impl TrendValidParams {
    /// Record selection.
    pub fn select(&self) -> &CycleSelect {
        &self.select
    }
    /// Points below this fraction of the selection's median capacity are dropped.
    pub fn min_capacity_fraction(&self) -> f64 {
        self.min_capacity_fraction
    }
    /// Reference capacity (Ah), if explicit.
    pub fn nominal_capacity_ah(&self) -> Option<f64> {
        self.nominal_capacity_ah
    }
    /// End-of-life SOH.
    pub fn threshold_soh(&self) -> f64 {
        self.threshold_soh
    }
    /// Fraction of the points used for fitting (the rest is hold-out).
    pub fn fit_fraction(&self) -> f64 {
        self.fit_fraction
    }
    /// Bootstrap replicates.
    pub fn n_bootstrap(&self) -> usize {
        self.n_bootstrap
    }
    /// Prediction-interval level.
    pub fn interval_level(&self) -> f64 {
        self.interval_level
    }
    /// Bootstrap seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    fn validate(&self) -> Result<(), ParamError> {
        crate::params::in_range("min_capacity_fraction", self.min_capacity_fraction, 0.0, 1.0)?;
        if let Some(q) = self.nominal_capacity_ah {
            crate::params::positive("nominal_capacity_ah", q)?;
        }
        if !(self.threshold_soh > 0.0 && self.threshold_soh < 1.5) {
            return Err(ParamError::invalid("threshold_soh", self.threshold_soh, "must be in (0, 1.5)"));
        }
        if !(self.fit_fraction > 0.0 && self.fit_fraction <= 1.0) {
            return Err(ParamError::invalid("fit_fraction", self.fit_fraction, "must be in (0, 1]"));
        }
        if self.n_bootstrap < 10 {
            return Err(ParamError::invalid("n_bootstrap", self.n_bootstrap, "must be at least 10"));
        }
        if !(self.interval_level > 0.0 && self.interval_level < 1.0) {
            return Err(ParamError::invalid("interval_level", self.interval_level, "must be in (0, 1)"));
        }
        Ok(())
    }
}

/// Capacity-fade trend parameters (unchecked builder).
///
/// Defaults: `select = Auto`, `min_capacity_fraction = 0.5`, reference = first point,
/// `threshold_soh = 0.8`, `fit_fraction = 1.0`, `n_bootstrap = 1000`, `interval_level = 0.9`, `seed = 0`.
///
/// # Examples
/// ```
/// use battsentinel_core::features::TrendParams;
/// use battsentinel_core::ParamGuard;
/// let p = TrendParams::default().fit_fraction(0.5).seed(7).check().unwrap();
/// assert_eq!(p.seed(), 7);
/// assert!(TrendParams::default().threshold_soh(0.0).check().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrendParams(TrendValidParams);

impl TrendParams {
    /// Sets the record selection.
    pub fn select(mut self, v: CycleSelect) -> Self {
        self.0.select = v;
        self
    }
    /// Sets the partial-cycle filter (fraction of the median capacity, in [0, 1]).
    pub fn min_capacity_fraction(mut self, v: f64) -> Self {
        self.0.min_capacity_fraction = v;
        self
    }
    /// Sets an explicit reference capacity (Ah, > 0).
    pub fn nominal_capacity_ah(mut self, v: f64) -> Self {
        self.0.nominal_capacity_ah = Some(v);
        self
    }
    /// Sets the end-of-life SOH (in (0, 1.5)).
    pub fn threshold_soh(mut self, v: f64) -> Self {
        self.0.threshold_soh = v;
        self
    }
    /// Sets the fraction of points used for fitting (in (0, 1]).
    pub fn fit_fraction(mut self, v: f64) -> Self {
        self.0.fit_fraction = v;
        self
    }
    /// Sets the number of bootstrap replicates (≥ 10).
    pub fn n_bootstrap(mut self, v: usize) -> Self {
        self.0.n_bootstrap = v;
        self
    }
    /// Sets the prediction-interval level (in (0, 1)).
    pub fn interval_level(mut self, v: f64) -> Self {
        self.0.interval_level = v;
        self
    }
    /// Sets the bootstrap seed.
    pub fn seed(mut self, v: u64) -> Self {
        self.0.seed = v;
        self
    }
}

impl ParamGuard for TrendParams {
    type Checked = TrendValidParams;
    fn check_ref(&self) -> Result<&TrendValidParams, ParamError> {
        self.0.validate()?;
        Ok(&self.0)
    }
    fn check(self) -> Result<TrendValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for TrendValidParams {
    type Checked = TrendValidParams;
    fn check_ref(&self) -> Result<&TrendValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
    fn check(self) -> Result<TrendValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
}

/// A semi-empirical fade model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FadeModel {
    /// `SOH = a + b·n`.
    Linear,
    /// `SOH = a·exp(b·n)`.
    Exponential,
    /// `SOH = a − b·n^z`.
    PowerLaw,
}

impl FadeModel {
    fn n_params(self) -> usize {
        match self {
            FadeModel::Linear | FadeModel::Exponential => 2,
            FadeModel::PowerLaw => 3,
        }
    }
}

/// One point of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Cycle number.
    pub cycle: u32,
    /// Label of the record, if any.
    pub label: Option<String>,
    /// Discharge capacity (Ah).
    pub capacity_ah: f64,
    /// Capacity / reference.
    pub soh: f64,
    /// Whether the point was used for fitting (otherwise hold-out).
    pub used_for_fit: bool,
}

/// One fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FadeFit {
    /// Which model.
    pub model: FadeModel,
    /// Parameters `[a, b]` or `[a, b, z]` as in the model's formula.
    pub params: Vec<f64>,
    /// Root-mean-square residual on the fitted points (SOH units).
    pub rmse: f64,
    /// Coefficient of determination on the fitted points.
    pub r2: f64,
    /// Corrected Akaike information criterion (lower is better); `None` with too few points.
    pub aicc: Option<f64>,
    /// Cycle at which the fitted curve reaches the threshold; `None` if it never does.
    pub cycle_at_threshold: Option<f64>,
    /// Lower bound of the prediction interval of that cycle; `None` when undefined.
    pub cycle_lower: Option<f64>,
    /// Upper bound; `None` when unbounded (too many replicates never reach the threshold) or undefined.
    pub cycle_upper: Option<f64>,
    /// Bootstrap replicates that never reached the threshold.
    pub n_boot_no_crossing: usize,
    /// RMSE of the predicted SOH on the hold-out points; `None` without hold-out.
    pub holdout_rmse: Option<f64>,
    /// Mean absolute error on the hold-out points.
    pub holdout_mae: Option<f64>,
    /// Predicted minus observed threshold cycle, when the observed SOH crosses the threshold.
    pub crossing_error_cycles: Option<f64>,
}

impl FadeFit {
    /// The fitted SOH at cycle `n`.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::features::{FadeFit, FadeModel};
    /// let f = FadeFit { model: FadeModel::Linear, params: vec![1.0, -0.001], rmse: 0.0, r2: 1.0,
    ///     aicc: None, cycle_at_threshold: Some(200.0), cycle_lower: None, cycle_upper: None,
    ///     n_boot_no_crossing: 0, holdout_rmse: None, holdout_mae: None, crossing_error_cycles: None };
    /// assert!((f.predict(100.0) - 0.9).abs() < 1e-12);
    /// ```
    pub fn predict(&self, n: f64) -> f64 {
        eval(self.model, &self.params, n)
    }
}

/// The capacity-fade trend of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FadeTrend {
    /// Points used (fit and hold-out), in cycle order.
    pub points: Vec<TrendPoint>,
    /// Reference capacity (Ah).
    pub reference_capacity_ah: f64,
    /// End-of-life SOH.
    pub threshold_soh: f64,
    /// Fitted models (those with enough points).
    pub fits: Vec<FadeFit>,
    /// The fit with the lowest AICc.
    pub best: Option<FadeModel>,
    /// Cycle at which the observed SOH first falls to the threshold (linear interpolation), if it does.
    pub observed_cycle_at_threshold: Option<f64>,
}

impl FadeTrend {
    /// The fit of the best model.
    pub fn best_fit(&self) -> Option<&FadeFit> {
        self.best.and_then(|m| self.fits.iter().find(|f| f.model == m))
    }
}

fn eval(model: FadeModel, p: &[f64], n: f64) -> f64 {
    match model {
        FadeModel::Linear => p[0] + p[1] * n,
        FadeModel::Exponential => p[0] * (p[1] * n).exp(),
        FadeModel::PowerLaw => p[0] - p[1] * n.max(0.0).powf(p[2]),
    }
}

/// Cycle at which `model(n) = level`, if the curve falls to it.
fn crossing(model: FadeModel, p: &[f64], level: f64) -> Option<f64> {
    let n = match model {
        FadeModel::Linear if p[1] < 0.0 => (level - p[0]) / p[1],
        FadeModel::Exponential if p[1] < 0.0 && p[0] > 0.0 && level > 0.0 => (level / p[0]).ln() / p[1],
        FadeModel::PowerLaw if p[1] > 0.0 && p[2] > 0.0 && p[0] >= level => {
            ((p[0] - level) / p[1]).powf(1.0 / p[2])
        }
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// Least squares of y on [1, x]: (intercept, slope).
fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

fn fit(model: FadeModel, x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    match model {
        FadeModel::Linear => ols(x, y).map(|(a, b)| vec![a, b]),
        FadeModel::Exponential => {
            if y.iter().any(|&v| v.is_nan() || v <= 0.0) {
                return None;
            }
            let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
            ols(x, &ly).map(|(a, b)| vec![a.exp(), b])
        }
        FadeModel::PowerLaw => {
            let sse_at = |z: f64| -> Option<(f64, f64, f64)> {
                let xz: Vec<f64> = x.iter().map(|x| x.max(0.0).powf(z)).collect();
                let (a, slope) = ols(&xz, y)?;
                let sse = xz.iter().zip(y).map(|(u, v)| (v - a - slope * u).powi(2)).sum();
                Some((sse, a, -slope))
            };
            let (lo, hi) = (0.05f64.ln(), 3.0f64.ln());
            let grid = 60;
            let mut best: Option<(usize, f64)> = None;
            for g in 0..=grid {
                let z = (lo + (hi - lo) * g as f64 / grid as f64).exp();
                if let Some((sse, _, _)) = sse_at(z) {
                    if best.is_none_or(|(_, s)| sse < s) {
                        best = Some((g, sse));
                    }
                }
            }
            let (g, _) = best?;
            // Golden section on ln z within the neighbouring grid cells.
            let step = (hi - lo) / grid as f64;
            let (mut a, mut b) =
                (lo + step * (g as f64 - 1.0).max(0.0), lo + step * (g as f64 + 1.0).min(grid as f64));
            let phi = 0.5 * (5f64.sqrt() - 1.0);
            let f = |lz: f64| sse_at(lz.exp()).map_or(f64::INFINITY, |s| s.0);
            let (mut c, mut d) = (b - phi * (b - a), a + phi * (b - a));
            let (mut fc, mut fd) = (f(c), f(d));
            for _ in 0..60 {
                if fc < fd {
                    b = d;
                    d = c;
                    fd = fc;
                    c = b - phi * (b - a);
                    fc = f(c);
                } else {
                    a = c;
                    c = d;
                    fc = fd;
                    d = a + phi * (b - a);
                    fd = f(d);
                }
            }
            let z = (0.5 * (a + b)).exp();
            let (_, a0, b0) = sse_at(z)?;
            Some(vec![a0, b0, z])
        }
    }
}

/// Type-7 quantile of sorted values where `+∞` marks "never"; `None` if the quantile touches `+∞`.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi]);
    if !a.is_finite() || !b.is_finite() {
        return None;
    }
    Some(a + (h - lo as f64) * (b - a))
}

/// Capacity-fade trend of a per-cycle summary (see the module docs for the method).
///
/// # Errors
/// [`FeatureError::Params`] on invalid params; [`FeatureError::NotEnoughData`] with fewer than 3 selected
/// points to fit (or no usable reference capacity).
///
/// # Examples
/// ```
/// use battsentinel_core::{CycleRecord, CycleSummary, features::{soh_trend, TrendParams}};
/// // Capacity checks every 50 cycles of a cell losing 0.1 % per cycle from 2 Ah.
/// let cycles = (0..8).map(|k| {
///     let n = 1 + 50 * k;
///     let mut r = CycleRecord::empty(n);
///     r.label = Some("Capacity check".into());
///     r.discharge_capacity_ah = 2.0 * (1.0 - 0.001 * f64::from(n));
///     r
/// }).collect();
/// let s = CycleSummary { cycles, ..Default::default() };
/// let tr = soh_trend(&s, &TrendParams::default().nominal_capacity_ah(2.0)).unwrap();
/// let lin = tr.fits.iter().find(|f| f.model == battsentinel_core::features::FadeModel::Linear).unwrap();
/// assert!((lin.cycle_at_threshold.unwrap() - 200.0).abs() < 1e-6);
/// ```
pub fn soh_trend<P>(summary: &CycleSummary, params: &P) -> Result<FadeTrend, FeatureError>
where
    P: ParamGuard<Checked = TrendValidParams>,
{
    let p = params.check_ref()?;
    let is_check = |l: &Option<String>| {
        l.as_deref().is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("capacity") || l.contains("rpt")
        })
    };
    let selected: Vec<_> = match &p.select {
        CycleSelect::All => summary.cycles.iter().collect(),
        CycleSelect::Labels(ls) => summary
            .cycles
            .iter()
            .filter(|r| {
                r.label.as_deref().is_some_and(|l| ls.iter().any(|x| x.trim().eq_ignore_ascii_case(l.trim())))
            })
            .collect(),
        CycleSelect::Auto => {
            if summary.cycles.iter().any(|r| is_check(&r.label)) {
                summary.cycles.iter().filter(|r| is_check(&r.label)).collect()
            } else {
                summary.cycles.iter().collect()
            }
        }
    };
    let mut caps: Vec<_> = selected.into_iter().filter(|r| r.discharge_capacity_ah.is_finite()).collect();
    let med = super::cycles::median(caps.iter().map(|r| r.discharge_capacity_ah).collect());
    caps.retain(|r| {
        r.discharge_capacity_ah > 0.0 && r.discharge_capacity_ah >= p.min_capacity_fraction * med
    });
    caps.sort_by_key(|r| r.cycle);
    if caps.len() < 3 {
        return Err(FeatureError::NotEnoughData {
            what: "capacity-fade trend",
            needed: 3,
            found: caps.len(),
        });
    }
    let q_ref = p.nominal_capacity_ah.unwrap_or(caps[0].discharge_capacity_ah);
    let n_fit = ((p.fit_fraction * caps.len() as f64).ceil() as usize).clamp(1, caps.len());
    let points: Vec<TrendPoint> = caps
        .iter()
        .enumerate()
        .map(|(k, r)| TrendPoint {
            cycle: r.cycle,
            label: r.label.clone(),
            capacity_ah: r.discharge_capacity_ah,
            soh: r.discharge_capacity_ah / q_ref,
            used_for_fit: k < n_fit,
        })
        .collect();
    let x: Vec<f64> = points[..n_fit].iter().map(|p| f64::from(p.cycle)).collect();
    let y: Vec<f64> = points[..n_fit].iter().map(|p| p.soh).collect();
    let hold: Vec<&TrendPoint> = points[n_fit..].iter().collect();
    let thr = p.threshold_soh;

    // Observed crossing.
    let observed = points.windows(2).find_map(|w| {
        let (a, b) = (&w[0], &w[1]);
        (a.soh > thr && b.soh <= thr)
            .then(|| f64::from(a.cycle) + (a.soh - thr) / (a.soh - b.soh) * f64::from(b.cycle - a.cycle))
    });
    if points.first().is_some_and(|p0| p0.soh <= thr) {
        // Already at end of life at the first point: no crossing within the data.
    }

    let mut fits = Vec::new();
    for model in [FadeModel::Linear, FadeModel::Exponential, FadeModel::PowerLaw] {
        let k = model.n_params();
        if n_fit < k + 1 {
            continue;
        }
        let Some(par) = fit(model, &x, &y) else { continue };
        let yhat: Vec<f64> = x.iter().map(|&n| eval(model, &par, n)).collect();
        let resid: Vec<f64> = y.iter().zip(&yhat).map(|(a, b)| a - b).collect();
        let nf = n_fit as f64;
        let sse: f64 = resid.iter().map(|r| r * r).sum();
        let my = y.iter().sum::<f64>() / nf;
        let sst: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
        let aicc = (n_fit > k + 1).then(|| {
            let kf = k as f64;
            nf * (sse.max(1e-300) / nf).ln() + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0)
        });
        let cross = crossing(model, &par, thr);
        // Residual bootstrap.
        let mr = resid.iter().sum::<f64>() / nf;
        let infl = (nf / (nf - k as f64)).sqrt();
        let e: Vec<f64> = resid.iter().map(|r| (r - mr) * infl).collect();
        let mut rng = crate::rng::seeded(p.seed);
        let mut reps = Vec::with_capacity(p.n_bootstrap);
        let mut ystar = vec![0.0; n_fit];
        for _ in 0..p.n_bootstrap {
            for (ys, yh) in ystar.iter_mut().zip(&yhat) {
                *ys = yh + e[rng.gen_range(0..n_fit)];
            }
            let e_new = e[rng.gen_range(0..n_fit)];
            let c = fit(model, &x, &ystar).and_then(|pb| crossing(model, &pb, thr - e_new));
            reps.push(c.unwrap_or(f64::INFINITY));
        }
        reps.sort_by(f64::total_cmp);
        let no_cross = reps.iter().filter(|r| !r.is_finite()).count();
        let alpha = 1.0 - p.interval_level;
        let (lower, upper) = if cross.is_some() {
            (quantile(&reps, alpha / 2.0), quantile(&reps, 1.0 - alpha / 2.0))
        } else {
            (None, None)
        };
        let (holdout_rmse, holdout_mae) = if hold.is_empty() {
            (None, None)
        } else {
            let errs: Vec<f64> = hold.iter().map(|h| eval(model, &par, f64::from(h.cycle)) - h.soh).collect();
            let m = errs.len() as f64;
            (
                Some((errs.iter().map(|e| e * e).sum::<f64>() / m).sqrt()),
                Some(errs.iter().map(|e| e.abs()).sum::<f64>() / m),
            )
        };
        fits.push(FadeFit {
            model,
            params: par,
            rmse: (sse / nf).sqrt(),
            r2: if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN },
            aicc,
            cycle_at_threshold: cross,
            cycle_lower: lower,
            cycle_upper: upper,
            n_boot_no_crossing: no_cross,
            holdout_rmse,
            holdout_mae,
            crossing_error_cycles: cross.zip(observed).map(|(c, o)| c - o),
        });
    }
    let best = fits
        .iter()
        .filter_map(|f| f.aicc.map(|a| (f.model, a)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, _)| m)
        .or_else(|| fits.first().map(|f| f.model));
    Ok(FadeTrend {
        points,
        reference_capacity_ah: q_ref,
        threshold_soh: thr,
        fits,
        best,
        observed_cycle_at_threshold: observed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CycleRecord;
    use approx::assert_relative_eq;
    use rand_distr::{Distribution, Normal};

    /// Capacity checks every 20 cycles of SOH = 1 − 0.004·n^0.6 (+ N(0, σ) noise), between ageing cycles
    /// at 90 % depth that the trend must ignore.
    fn summary(sigma: f64, seed: u64) -> CycleSummary {
        let mut rng = crate::rng::seeded(seed);
        let noise = Normal::new(0.0, sigma).unwrap();
        let mut cycles = Vec::new();
        for n in 1..=400u32 {
            let soh = 1.0 - 0.004 * f64::from(n).powf(0.6);
            let mut r = CycleRecord::empty(n);
            if n % 20 == 1 {
                r.label = Some("Capacity check".into());
                r.discharge_capacity_ah = 3.0 * (soh + noise.sample(&mut rng));
            } else {
                r.label = Some("Aging cycle".into());
                r.discharge_capacity_ah = 0.9 * 3.0 * soh;
            }
            cycles.push(r);
        }
        CycleSummary { cycles, ..Default::default() }
    }

    #[test]
    fn power_law_recovered_with_interval() {
        let s = summary(0.002, 1);
        let tr = soh_trend(&s, &TrendParams::default().nominal_capacity_ah(3.0)).unwrap();
        assert_eq!(tr.points.len(), 20);
        assert!(tr.points.iter().all(|p| p.label.as_deref() == Some("Capacity check")));
        let truth = (0.2f64 / 0.004).powf(1.0 / 0.6); // 680 cycles
        let pl = tr.fits.iter().find(|f| f.model == FadeModel::PowerLaw).unwrap();
        assert!((pl.params[2] - 0.6).abs() < 0.15, "z = {}", pl.params[2]);
        let c = pl.cycle_at_threshold.unwrap();
        let (lo, hi) = (pl.cycle_lower.unwrap(), pl.cycle_upper.unwrap());
        assert!(lo < c && c < hi, "{lo} {c} {hi}");
        assert!(lo < truth && truth < hi, "truth {truth} outside [{lo}, {hi}]");
        assert!(pl.rmse < 0.003);
        // The linear model overestimates life for a decelerating fade, and fits worse.
        let lin = tr.fits.iter().find(|f| f.model == FadeModel::Linear).unwrap();
        assert!(lin.aicc.unwrap() > pl.aicc.unwrap());
        assert_eq!(tr.best, Some(FadeModel::PowerLaw));
        // Deterministic under a seed.
        let again = soh_trend(&s, &TrendParams::default().nominal_capacity_ah(3.0)).unwrap();
        assert_eq!(tr, again);
    }

    #[test]
    fn early_life_holdout_and_observed_crossing() {
        // Linear fade that crosses 80 % at cycle 250 within the data.
        let cycles = (0..30)
            .map(|k| {
                let n = 1 + 10 * k;
                let mut r = CycleRecord::empty(n);
                r.discharge_capacity_ah = 1.0 - 0.0008 * f64::from(n);
                r
            })
            .collect();
        let s = CycleSummary { cycles, ..Default::default() };
        let tr = soh_trend(
            &s,
            &TrendParams::default().nominal_capacity_ah(1.0).fit_fraction(0.5).n_bootstrap(200),
        )
        .unwrap();
        assert_eq!(tr.points.iter().filter(|p| p.used_for_fit).count(), 15);
        assert_relative_eq!(tr.observed_cycle_at_threshold.unwrap(), 250.0, epsilon = 1e-9);
        let lin = tr.fits.iter().find(|f| f.model == FadeModel::Linear).unwrap();
        assert_relative_eq!(lin.cycle_at_threshold.unwrap(), 250.0, epsilon = 1e-6);
        assert!(lin.holdout_rmse.unwrap() < 1e-9);
        assert!(lin.crossing_error_cycles.unwrap().abs() < 1e-6);
    }

    #[test]
    fn no_fade_has_no_crossing_and_errors() {
        let cycles = (1..=10)
            .map(|n| {
                let mut r = CycleRecord::empty(n);
                r.discharge_capacity_ah =
                    2.0 + if n % 2 == 0 { 0.001 } else { -0.001 } + 0.0001 * f64::from(n);
                r
            })
            .collect();
        let s = CycleSummary { cycles, ..Default::default() };
        let tr = soh_trend(&s, &TrendParams::default()).unwrap();
        let lin = tr.fits.iter().find(|f| f.model == FadeModel::Linear).unwrap();
        assert!(lin.cycle_at_threshold.is_none() && lin.cycle_upper.is_none());
        let few = CycleSummary { cycles: s.cycles[..2].to_vec(), ..Default::default() };
        assert_eq!(soh_trend(&few, &TrendParams::default()).unwrap_err().code(), "not_enough_data");
        let labels = TrendParams::default().select(CycleSelect::Labels(vec!["RPT".into()]));
        assert_eq!(soh_trend(&s, &labels).unwrap_err().code(), "not_enough_data");
        let js = serde_json::to_string(&tr).unwrap();
        assert!(js.contains("\"linear\""));
    }
}
