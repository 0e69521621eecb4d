//! Incremental capacity analysis (ICA): dQ/dV of a charge or discharge segment, smoothed, with peaks.
//!
//! # Method
//! 1. **Segment**: the rows of the cycle whose current flows in the requested direction with
//!    `|I| ≥ min_current_fraction × max|I|` of that direction in the cycle (this drops rests and the tail of
//!    a CV hold). Q is the trapezoidal integral of |I| over consecutive segment rows (Ah), so it never
//!    decreases.
//! 2. **Uniform voltage grid**: Q is resampled at `voltage_step_v` spacing by **first crossing**: for a
//!    charge, Q(v) is the capacity at which the voltage first reaches v (linear interpolation between the
//!    two samples around the crossing); for a discharge, the capacity at which it first falls to v. This is
//!    monotone by construction, ignores voltage noise that re-crosses a level, and ignores constant-voltage
//!    capacity (it would be an infinite dQ/dV).
//! 3. **Smoothed derivative**: a Savitzky–Golay filter (`sg_window` points, polynomial order
//!    `sg_poly_order`, first derivative, least-squares fit on each window) gives dQ/dV; the first and last
//!    half-windows use the polynomial fitted to the first and last full window — the same numbers as
//!    `scipy.signal.savgol_filter(q, sg_window, sg_poly_order, deriv=1, delta=voltage_step_v, mode="interp")`.
//!    dQ/dV is reported as a positive magnitude for both directions (Ah/V), on an increasing voltage grid.
//! 4. **Peaks**: local maxima (the middle of a flat top) with a topographic prominence (as
//!    `scipy.signal.find_peaks`) of at least `min_prominence_fraction` × the curve's maximum.

use serde::{Deserialize, Serialize};

use super::FeatureError;
use crate::data::BatteryLog;
use crate::params::{ParamError, ParamGuard};

/// Which half of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Charge: current < 0, voltage rising.
    Charge,
    /// Discharge: current > 0, voltage falling.
    Discharge,
}

/// Validated ICA parameters (see [`IcaParams`] for the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcaValidParams {
    pub(crate) voltage_step_v: f64,
    pub(crate) sg_window: usize,
    pub(crate) sg_poly_order: usize,
    pub(crate) min_prominence_fraction: f64,
    pub(crate) min_current_fraction: f64,
}

impl Default for IcaValidParams {
    fn default() -> Self {
        Self {
            voltage_step_v: 0.002,
            sg_window: 15,
            sg_poly_order: 3,
            min_prominence_fraction: 0.05,
            min_current_fraction: 0.1,
        }
    }
}

impl IcaValidParams {
    /// Voltage grid spacing (V).
    pub fn voltage_step_v(&self) -> f64 {
        self.voltage_step_v
    }
    /// Savitzky–Golay window (points, odd).
    pub fn sg_window(&self) -> usize {
        self.sg_window
    }
    /// Savitzky–Golay polynomial order.
    pub fn sg_poly_order(&self) -> usize {
        self.sg_poly_order
    }
    /// Minimum peak prominence as a fraction of the curve's maximum.
    pub fn min_prominence_fraction(&self) -> f64 {
        self.min_prominence_fraction
    }
    /// Minimum |I| of a segment row, as a fraction of the segment's largest |I|.
    pub fn min_current_fraction(&self) -> f64 {
        self.min_current_fraction
    }
    fn validate(&self) -> Result<(), ParamError> {
        crate::params::positive("voltage_step_v", self.voltage_step_v)?;
        if self.sg_window < 3 || self.sg_window.is_multiple_of(2) {
            return Err(ParamError::invalid("sg_window", self.sg_window, "must be odd and >= 3"));
        }
        if self.sg_poly_order < 1 || self.sg_poly_order >= self.sg_window || self.sg_poly_order > 8 {
            return Err(ParamError::invalid(
                "sg_poly_order",
                self.sg_poly_order,
                "must be in [1, 8] and smaller than sg_window",
            ));
        }
        crate::params::in_range("min_prominence_fraction", self.min_prominence_fraction, 0.0, 1.0)?;
        crate::params::in_range("min_current_fraction", self.min_current_fraction, 0.0, 1.0)
    }
}

/// ICA parameters (unchecked builder).
///
/// Defaults: `voltage_step_v = 0.002` V, `sg_window = 15` points (30 mV), `sg_poly_order = 3`,
/// `min_prominence_fraction = 0.05`, `min_current_fraction = 0.1`.
///
/// # Examples
/// ```
/// use battsentinel_core::features::IcaParams;
/// use battsentinel_core::ParamGuard;
/// assert!(IcaParams::default().sg_window(20).check().is_err()); // must be odd
/// let p = IcaParams::default().voltage_step_v(0.001).sg_window(21).check().unwrap();
/// assert_eq!(p.sg_window(), 21);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IcaParams(IcaValidParams);

impl IcaParams {
    /// Sets the voltage grid spacing (V, > 0).
    pub fn voltage_step_v(mut self, v: f64) -> Self {
        self.0.voltage_step_v = v;
        self
    }
    /// Sets the Savitzky–Golay window (odd, ≥ 3 points).
    pub fn sg_window(mut self, v: usize) -> Self {
        self.0.sg_window = v;
        self
    }
    /// Sets the Savitzky–Golay polynomial order (1–8, < window).
    pub fn sg_poly_order(mut self, v: usize) -> Self {
        self.0.sg_poly_order = v;
        self
    }
    /// Sets the minimum peak prominence (fraction of the curve's maximum, in [0, 1]).
    pub fn min_prominence_fraction(mut self, v: f64) -> Self {
        self.0.min_prominence_fraction = v;
        self
    }
    /// Sets the minimum |I| of segment rows (fraction of the largest, in [0, 1]).
    pub fn min_current_fraction(mut self, v: f64) -> Self {
        self.0.min_current_fraction = v;
        self
    }
}

impl ParamGuard for IcaParams {
    type Checked = IcaValidParams;
    fn check_ref(&self) -> Result<&IcaValidParams, ParamError> {
        self.0.validate()?;
        Ok(&self.0)
    }
    fn check(self) -> Result<IcaValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for IcaValidParams {
    type Checked = IcaValidParams;
    fn check_ref(&self) -> Result<&IcaValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
    fn check(self) -> Result<IcaValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
}

/// A peak of the incremental-capacity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcaPeak {
    /// Index into the curve's grid.
    pub index: usize,
    /// Peak position (V).
    pub voltage_v: f64,
    /// dQ/dV at the peak (Ah/V).
    pub height_ah_per_v: f64,
    /// Topographic prominence (Ah/V).
    pub prominence_ah_per_v: f64,
}

/// An incremental-capacity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcaCurve {
    /// Cycle the segment came from (`None` for raw arrays).
    pub cycle: Option<u32>,
    /// Segment direction.
    pub direction: Direction,
    /// Uniform voltage grid, increasing (V).
    pub voltage_v: Vec<f64>,
    /// Capacity passed in the segment when the voltage first reached each grid point (Ah).
    pub capacity_ah: Vec<f64>,
    /// Smoothed |dQ/dV| (Ah/V).
    pub dq_dv_ah_per_v: Vec<f64>,
    /// Peaks, in increasing voltage.
    pub peaks: Vec<IcaPeak>,
}

/// dQ/dV of one charge or discharge segment of a log (see the module docs for the method).
///
/// `cycle = None` uses the whole log (or a log without cycle index).
///
/// # Errors
/// [`FeatureError::Params`], [`FeatureError::LengthMismatch`], [`FeatureError::MissingChannel`] without
/// voltage or current, [`FeatureError::CycleNotFound`], [`FeatureError::NotEnoughData`] when the segment
/// spans fewer grid points than the smoothing window.
///
/// # Examples
/// ```
/// use battsentinel_core::{BatteryLog, features::{incremental_capacity, Direction, IcaParams}};
/// // 1 A discharge of a cell whose voltage falls linearly 4.0 → 3.0 V over 1 Ah: dQ/dV = 1 Ah/V.
/// let t: Vec<f64> = (0..=3600).map(f64::from).collect();
/// let v: Vec<f64> = t.iter().map(|s| 4.0 - s / 3600.0).collect();
/// let mut log = BatteryLog::with_time(t.clone());
/// log.current_a = Some(vec![1.0; t.len()]);
/// log.voltage_v = Some(v);
/// let ic = incremental_capacity(&log, None, Direction::Discharge, &IcaParams::default()).unwrap();
/// assert!(ic.dq_dv_ah_per_v.iter().all(|d| (d - 1.0).abs() < 1e-6));
/// ```
pub fn incremental_capacity<P>(
    log: &BatteryLog,
    cycle: Option<u32>,
    direction: Direction,
    params: &P,
) -> Result<IcaCurve, FeatureError>
where
    P: ParamGuard<Checked = IcaValidParams>,
{
    let p = params.check_ref()?;
    log.validate()?;
    let v = log
        .voltage_v
        .as_deref()
        .ok_or(FeatureError::MissingChannel { channel: "voltage_v", needed_for: "incremental capacity" })?;
    let cur = log
        .current_a
        .as_deref()
        .ok_or(FeatureError::MissingChannel { channel: "current_a", needed_for: "incremental capacity" })?;
    let t = &log.time_s;
    let in_cycle = |k: usize| match (cycle, log.cycle_index.as_deref()) {
        (None, _) => true,
        (Some(c), Some(ci)) => ci[k] == Some(c),
        (Some(c), None) => c == 1,
    };
    let sign = match direction {
        Direction::Charge => -1.0,
        Direction::Discharge => 1.0,
    };
    let mut any_row = false;
    let mut imax = 0.0f64;
    for (k, &ck) in cur.iter().enumerate() {
        if in_cycle(k) {
            any_row = true;
            let i = sign * ck;
            if i.is_finite() && i > imax {
                imax = i;
            }
        }
    }
    if let (Some(c), false) = (cycle, any_row) {
        return Err(FeatureError::CycleNotFound { cycle: c });
    }
    let i_min = (p.min_current_fraction * imax).max(f64::MIN_POSITIVE);
    let in_seg = |k: usize| {
        in_cycle(k)
            && t[k].is_finite()
            && v[k].is_finite()
            && (sign * cur[k]).is_finite()
            && sign * cur[k] >= i_min
    };
    let mut vs = Vec::new();
    let mut qs = Vec::new();
    let mut q = 0.0;
    let mut prev: Option<usize> = None;
    for k in 0..log.len() {
        if !in_seg(k) {
            prev = None;
            continue;
        }
        if let Some(j) = prev {
            let dt = t[k] - t[j];
            if dt > 0.0 {
                q += 0.5 * sign * (cur[j] + cur[k]) * dt / 3600.0;
            }
        }
        vs.push(v[k]);
        qs.push(q);
        prev = Some(k);
    }
    let mut curve = dqdv(&vs, &qs, direction, p)?;
    curve.cycle = cycle;
    Ok(curve)
}

/// dQ/dV from raw arrays: `voltage_v[k]` and the capacity passed so far `capacity_ah[k]` (non-decreasing,
/// Ah), in time order, for a segment in the given direction. Steps 2–4 of the module docs.
///
/// # Errors
/// [`FeatureError::Params`], [`FeatureError::ShapeMismatch`] on different lengths,
/// [`FeatureError::NotEnoughData`] when fewer grid points than the smoothing window.
///
/// # Examples
/// ```
/// use battsentinel_core::features::{dqdv, Direction, IcaParams};
/// let v: Vec<f64> = (0..=500).map(|k| 3.0 + 0.002 * f64::from(k)).collect();
/// let q: Vec<f64> = v.iter().map(|v| 2.0 * (v - 3.0)).collect(); // 2 Ah/V
/// let ic = dqdv(&v, &q, Direction::Charge, &IcaParams::default()).unwrap();
/// assert!((ic.dq_dv_ah_per_v[100] - 2.0).abs() < 1e-9);
/// ```
pub fn dqdv<P>(
    voltage_v: &[f64],
    capacity_ah: &[f64],
    direction: Direction,
    params: &P,
) -> Result<IcaCurve, FeatureError>
where
    P: ParamGuard<Checked = IcaValidParams>,
{
    let p = params.check_ref()?;
    if voltage_v.len() != capacity_ah.len() {
        return Err(FeatureError::ShapeMismatch {
            left: "voltage_v",
            left_len: voltage_v.len(),
            right: "capacity_ah",
            right_len: capacity_ah.len(),
        });
    }
    let s = match direction {
        Direction::Charge => 1.0,
        Direction::Discharge => -1.0,
    };
    // Work on u = s·V, which rises along the segment.
    let pts: Vec<(f64, f64)> = voltage_v
        .iter()
        .zip(capacity_ah)
        .filter(|(v, q)| v.is_finite() && q.is_finite())
        .map(|(&v, &q)| (s * v, q))
        .collect();
    let too_few =
        |found| FeatureError::NotEnoughData { what: "incremental capacity grid", needed: p.sg_window, found };
    if pts.len() < 2 {
        return Err(too_few(0));
    }
    let u0 = pts[0].0;
    let umax = pts.iter().map(|x| x.0).fold(f64::NEG_INFINITY, f64::max);
    let h = p.voltage_step_v;
    let m = ((umax - u0) / h + 1e-9).floor() as usize + 1;
    if m < p.sg_window {
        return Err(too_few(m));
    }
    // First crossing of each grid level.
    let mut grid_q = Vec::with_capacity(m);
    let mut k = 0usize;
    let mut run_max = pts[0].0;
    grid_q.push(pts[0].1);
    for j in 1..m {
        let g = u0 + j as f64 * h;
        while run_max < g {
            k += 1;
            if k >= pts.len() {
                break;
            }
            run_max = run_max.max(pts[k].0);
        }
        if k >= pts.len() {
            break;
        }
        // pts[k] is the first sample with u ≥ g; pts[k-1].0 < g.
        let (ua, qa) = pts[k - 1];
        let (ub, qb) = pts[k];
        let f = if ub > ua { (g - ua) / (ub - ua) } else { 1.0 };
        grid_q.push(qa + f.clamp(0.0, 1.0) * (qb - qa));
    }
    let m = grid_q.len();
    if m < p.sg_window {
        return Err(too_few(m));
    }
    let d = savgol_derivative(&grid_q, p.sg_window, p.sg_poly_order, h);
    let mut volts: Vec<f64> = (0..m).map(|j| s * (u0 + j as f64 * h)).collect();
    let mut dq = d;
    let mut qg = grid_q;
    if s < 0.0 {
        volts.reverse();
        dq.reverse();
        qg.reverse();
    }
    let peaks = find_peaks(&dq, p.min_prominence_fraction)
        .into_iter()
        .map(|(i, prom)| IcaPeak {
            index: i,
            voltage_v: volts[i],
            height_ah_per_v: dq[i],
            prominence_ah_per_v: prom,
        })
        .collect();
    Ok(IcaCurve { cycle: None, direction, voltage_v: volts, capacity_ah: qg, dq_dv_ah_per_v: dq, peaks })
}

/// Solves the small dense system `a·x = b` by Gaussian elimination with partial pivoting.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        let d = a[col][col];
        for r in col + 1..n {
            let f = a[r][col] / d;
            for c in col..n {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// Least-squares polynomial weights on points `x_k = k − c` (k = 0..w): returns, for each power j, the
/// row of (AᵀA)⁻¹Aᵀ, so that the fitted coefficient j is `Σ_k w[j][k]·y_k`.
fn poly_fit_weights(w: usize, order: usize) -> Vec<Vec<f64>> {
    let c = (w / 2) as f64;
    let xs: Vec<f64> = (0..w).map(|k| k as f64 - c).collect();
    let np = order + 1;
    let ata: Vec<Vec<f64>> =
        (0..np).map(|i| (0..np).map(|j| xs.iter().map(|x| x.powi((i + j) as i32)).sum()).collect()).collect();
    // Column j of (AᵀA)⁻¹ by solving against unit vectors, then multiply by Aᵀ.
    let inv_cols: Vec<Vec<f64>> = (0..np)
        .map(|j| {
            let mut e = vec![0.0; np];
            e[j] = 1.0;
            solve(ata.clone(), e)
        })
        .collect();
    (0..np)
        .map(|j| (0..w).map(|k| (0..np).map(|i| inv_cols[i][j] * xs[k].powi(i as i32)).sum()).collect())
        .collect()
}

/// Savitzky–Golay first derivative with scipy's `mode="interp"` edges, sample spacing `delta`.
pub(crate) fn savgol_derivative(y: &[f64], window: usize, order: usize, delta: f64) -> Vec<f64> {
    let n = y.len();
    let half = window / 2;
    let wts = poly_fit_weights(window, order);
    let mut out = vec![0.0; n];
    // Interior: derivative at the centre = coefficient 1.
    for i in half..n - half {
        let win = &y[i - half..=i + half];
        out[i] = wts[1].iter().zip(win).map(|(w, y)| w * y).sum::<f64>() / delta;
    }
    // Edges: derivative of the polynomial fitted to the first / last full window.
    let mut edge = |start: usize, idx: std::ops::Range<usize>| {
        let win = &y[start..start + window];
        let coef: Vec<f64> = wts.iter().map(|r| r.iter().zip(win).map(|(w, y)| w * y).sum()).collect();
        for i in idx {
            let x = i as f64 - (start + half) as f64;
            let d: f64 = (1..coef.len()).map(|j| j as f64 * coef[j] * x.powi(j as i32 - 1)).sum();
            out[i] = d / delta;
        }
    };
    edge(0, 0..half);
    edge(n - window, n - half..n);
    out
}

/// Local maxima (middle of flat tops) with prominence ≥ `min_fraction` × max(x), as
/// `scipy.signal.find_peaks(x, prominence=...)`. Returns (index, prominence).
pub(crate) fn find_peaks(x: &[f64], min_fraction: f64) -> Vec<(usize, f64)> {
    let n = x.len();
    let xmax = x.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    let thr = min_fraction * xmax.max(0.0);
    let mut out = Vec::new();
    if n < 3 {
        return out;
    }
    let mut i = 1;
    while i < n - 1 {
        if x[i - 1] < x[i] {
            let mut ahead = i + 1;
            while ahead < n - 1 && x[ahead] == x[i] {
                ahead += 1;
            }
            if x[ahead] < x[i] {
                let peak = (i + ahead - 1) / 2;
                let prom = prominence(x, peak);
                if prom >= thr {
                    out.push((peak, prom));
                }
                i = ahead;
            }
        }
        i += 1;
    }
    out
}

fn prominence(x: &[f64], peak: usize) -> f64 {
    let h = x[peak];
    let mut left_min = h;
    let mut i = peak;
    loop {
        if x[i] > h {
            break;
        }
        left_min = left_min.min(x[i]);
        if i == 0 {
            break;
        }
        i -= 1;
    }
    let mut right_min = h;
    let mut i = peak;
    while i < x.len() && x[i] <= h {
        right_min = right_min.min(x[i]);
        i += 1;
    }
    h - left_min.max(right_min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn savgol_is_exact_on_cubics() {
        let y: Vec<f64> = (0..40)
            .map(|k| {
                let x = k as f64 * 0.01;
                1.0 + 2.0 * x - 3.0 * x * x + 0.5 * x * x * x
            })
            .collect();
        let d = savgol_derivative(&y, 11, 3, 0.01);
        for (k, dk) in d.iter().enumerate() {
            let x = k as f64 * 0.01;
            assert_relative_eq!(*dk, 2.0 - 6.0 * x + 1.5 * x * x, epsilon = 1e-9);
        }
    }

    #[test]
    fn savgol_matches_scipy_coefficients() {
        // scipy.signal.savgol_coeffs(5, 2, deriv=1, use="dot") = [-0.2, -0.1, 0, 0.1, 0.2]
        let w = poly_fit_weights(5, 2);
        for (a, b) in w[1].iter().zip([-0.2, -0.1, 0.0, 0.1, 0.2]) {
            assert_relative_eq!(*a, b, epsilon = 1e-12);
        }
    }

    #[test]
    fn peaks_with_plateaus_and_prominence() {
        let x = [0.0, 1.0, 3.0, 3.0, 3.0, 1.0, 0.5, 2.0, 0.0, 0.2, 0.1];
        let p = find_peaks(&x, 0.0);
        assert_eq!(p, vec![(3, 3.0), (7, 1.5), (9, 0.1)]);
        let p = find_peaks(&x, 0.1);
        assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 7]);
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;
    use approx::assert_relative_eq;

    const PEAKS: [(f64, f64, f64); 2] = [(3.45, 0.8, 0.02), (3.90, 1.2, 0.025)]; // (V, Q Ah, width V)

    /// Synthetic OCV: Q(V) = 0.1·(V − 3) + Σ Qᵢ·σ((V − Vᵢ)/wᵢ); dQ/dV peaks near Vᵢ.
    fn q_of_v(v: f64) -> f64 {
        0.1 * (v - 3.0) + PEAKS.iter().map(|(c, q, w)| q / (1.0 + (-(v - c) / w).exp())).sum::<f64>()
    }
    fn dq_of_v(v: f64) -> f64 {
        0.1 + PEAKS
            .iter()
            .map(|(c, q, w)| {
                let s = 1.0 / (1.0 + (-(v - c) / w).exp());
                q / w * s * (1.0 - s)
            })
            .sum::<f64>()
    }
    fn v_of_q(q: f64) -> f64 {
        let (mut lo, mut hi) = (2.5, 4.5);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if q_of_v(mid) < q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// A C/20-like charge (current −0.5 A) from 3.1 to 4.2 V, sampled every 2 s, then its discharge.
    fn ocv_log() -> BatteryLog {
        let (q0, q1) = (q_of_v(3.1), q_of_v(4.2));
        let amps = 0.5;
        let dt = 2.0;
        let n = ((q1 - q0) * 3600.0 / amps / dt) as usize;
        let mut t = Vec::new();
        let mut v = Vec::new();
        let mut i = Vec::new();
        let mut c = Vec::new();
        for k in 0..=n {
            t.push(k as f64 * dt);
            v.push(v_of_q(q0 + amps * k as f64 * dt / 3600.0));
            i.push(-amps);
            c.push(Some(1));
        }
        for k in 0..=n {
            t.push((n + 1 + k) as f64 * dt);
            v.push(v_of_q(q0 + amps * (n - k) as f64 * dt / 3600.0));
            i.push(amps);
            c.push(Some(1));
        }
        let mut log = BatteryLog::with_time(t);
        log.voltage_v = Some(v);
        log.current_a = Some(i);
        log.cycle_index = Some(c);
        log
    }

    #[test]
    fn synthetic_ocv_peaks() {
        let log = ocv_log();
        for dir in [Direction::Charge, Direction::Discharge] {
            let ic = incremental_capacity(&log, Some(1), dir, &IcaParams::default()).unwrap();
            assert!(ic.voltage_v.windows(2).all(|w| w[1] > w[0]));
            assert_eq!(ic.peaks.len(), 2, "{dir:?}: {:?}", ic.peaks);
            for (pk, (vc, _, _)) in ic.peaks.iter().zip(PEAKS) {
                // The true maximum of dQ/dV (the background and the other peak shift it slightly).
                let (mut best_v, mut best) = (vc, 0.0);
                for k in -5000..=5000 {
                    let x = vc + k as f64 * 1e-5;
                    if dq_of_v(x) > best {
                        best = dq_of_v(x);
                        best_v = x;
                    }
                }
                assert!((pk.voltage_v - best_v).abs() <= 0.0021, "{dir:?} peak {} vs {best_v}", pk.voltage_v);
                assert_relative_eq!(pk.height_ah_per_v, best, max_relative = 0.02);
            }
            // Between the peaks the curve follows the analytic dQ/dV.
            let k = ic.voltage_v.iter().position(|&x| x >= 3.70).unwrap();
            assert_relative_eq!(ic.dq_dv_ah_per_v[k], dq_of_v(ic.voltage_v[k]), max_relative = 0.02);
        }
    }

    #[test]
    fn errors() {
        let log = ocv_log();
        assert_eq!(
            incremental_capacity(&log, Some(9), Direction::Charge, &IcaParams::default()).unwrap_err().code(),
            "cycle_not_found"
        );
        assert_eq!(
            incremental_capacity(&log, None, Direction::Charge, &IcaParams::default().voltage_step_v(0.5))
                .unwrap_err()
                .code(),
            "not_enough_data"
        );
        assert_eq!(
            dqdv(&[1.0], &[], Direction::Charge, &IcaParams::default()).unwrap_err().code(),
            "shape_mismatch"
        );
        let mut no_i = log.clone();
        no_i.current_a = None;
        assert_eq!(
            incremental_capacity(&no_i, None, Direction::Charge, &IcaParams::default()).unwrap_err().code(),
            "missing_channel"
        );
    }

    #[test]
    fn noisy_voltage_stays_monotone_and_serde() {
        // Voltage with ±1 mV quantisation noise: the first-crossing grid keeps Q monotone.
        let mut log = ocv_log();
        if let Some(v) = log.voltage_v.as_mut() {
            for (k, x) in v.iter_mut().enumerate() {
                *x = (*x * 1000.0).round() / 1000.0 + if k % 2 == 0 { 0.001 } else { -0.001 };
            }
        }
        let ic = incremental_capacity(&log, None, Direction::Charge, &IcaParams::default()).unwrap();
        assert!(ic.capacity_ah.windows(2).all(|w| w[1] >= w[0]));
        let js = serde_json::to_string(&ic).unwrap();
        let back: IcaCurve = serde_json::from_str(&js).unwrap();
        assert_eq!(back.peaks.len(), ic.peaks.len());
    }
}
