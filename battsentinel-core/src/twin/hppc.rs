//! Parameter identification from an HPPC test: OCV(SoC) and R0, Rj, Cj (1 or 2 RC pairs) as SoC tables, fitted
//! to the whole test at once.
//!
//! Model (the one [`Simulator`] integrates, current `I` positive on discharge, sample `k` holds `I_k` over
//! `(t_{k−1}, t_k]`): `SoC_k = SoC_{k−1} − I_k·Δt_k / (3600·Q)`,
//! `V_k = OCV(SoC_k) − I_k·R0(SoC_k) + Σ_j V_{j,k}`,
//! `V_{j,k} = a_{j,k}·V_{j,k−1} − I_k·(1 − a_{j,k})·R_j(SoC_{k−1})`, `a_{j,k} = e^(−Δt_k/τ_j)`.
//!
//! OCV is a piecewise-linear table on `ocv_points` equally spaced SoC nodes; R0 and R_j are piecewise-linear
//! tables on the SoC levels of the discharge pulses (plus the two ends of the test); the time constants τ_j
//! are the same at every level, so `C_j = τ_j / R_j`. With the τ_j fixed, the voltage is **linear** in every
//! table value (hat-function basis), so the whole test is one linear least-squares problem
//! (variable projection): `min ‖A·x − V‖² + λ_ocv·‖D²·ocv‖² + λ_r·‖I_ref·D²·r‖²` with second-difference
//! smoothing `D²`, solved by Cholesky on Jacobi-scaled normal equations. Resistances are bounded below by
//! `r_min_ohm` (active set: values below the bound are fixed to it and the rest re-solved). The τ_j are found
//! by a log-spaced grid over their bounds (τ1 < τ2), refined by coordinate-wise golden-section search in ln τ.
//!
//! Because the fitted model is exactly the simulator's discretisation, the fit minimises the RMSE of the
//! simulation of the whole test (up to the interpolation of `C_j = τ_j/R_j` between nodes, which the final
//! validation run includes). Fit quality: that whole-test RMSE and maximum error, and the RMSE around each pulse.

use serde::{Deserialize, Serialize};

use super::model::{InitialState, Input, Simulator};
use super::params::{CellParams, EntropicCoefficient, OcvTable, Param3, ThermalParams};
use super::table::Table3;
use super::SimError;
use crate::data::BatteryLog;

/// Settings of [`fit_hppc`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HppcFitParams {
    /// Cell capacity (Ah); `None` = the charge between the fullest and emptiest points of the test.
    pub capacity_ah: Option<f64>,
    /// Number of RC pairs, 1 or 2 (default 2).
    pub rc_pairs: usize,
    /// |I| below this is rest (A).
    pub rest_current_a: f64,
    /// Longest discharge counted as a pulse (s); pulse starts give the SoC levels of the R/C tables.
    pub max_pulse_s: f64,
    /// Length of the window after a pulse start over which the per-level RMSE is reported (s).
    pub window_s: f64,
    /// Number of OCV table nodes over the SoC range of the test.
    pub ocv_points: usize,
    /// Lower bound of τ1 (s).
    pub tau_min_s: f64,
    /// Upper bound of τ1, and lower bound of τ2 (s).
    pub tau_split_s: f64,
    /// Upper bound of τ2, or of τ1 for one RC pair (s).
    pub tau_max_s: f64,
    /// Weight of the OCV second-difference smoothing (dimensionless).
    pub ocv_smoothing: f64,
    /// Weight of the resistance second-difference smoothing (dimensionless, applied to `I_ref·D²R`, with
    /// `I_ref` the largest |I| of the test).
    pub r_smoothing: f64,
    /// Lower bound of every resistance (Ω).
    pub r_min_ohm: f64,
}

impl Default for HppcFitParams {
    fn default() -> Self {
        Self {
            capacity_ah: None,
            rc_pairs: 2,
            rest_current_a: 0.05,
            max_pulse_s: 60.0,
            window_s: 70.0,
            ocv_points: 41,
            tau_min_s: 1.0,
            tau_split_s: 40.0,
            tau_max_s: 2000.0,
            ocv_smoothing: 1e-3,
            r_smoothing: 1e-2,
            r_min_ohm: 1e-5,
        }
    }
}

impl HppcFitParams {
    fn check(&self) -> Result<(), SimError> {
        let bad = |field: &'static str, value: f64, reason: &'static str| SimError::InvalidProtocol {
            step: 0,
            field,
            value: format!("{value}"),
            reason,
        };
        if !(1..=2).contains(&self.rc_pairs) {
            return Err(bad("rc_pairs", self.rc_pairs as f64, "must be 1 or 2"));
        }
        if self.ocv_points < 2 {
            return Err(bad("ocv_points", self.ocv_points as f64, "must be at least 2"));
        }
        if !(self.tau_min_s > 0.0 && self.tau_min_s < self.tau_split_s && self.tau_split_s < self.tau_max_s)
            || !self.tau_max_s.is_finite()
        {
            return Err(bad("tau_min_s", self.tau_min_s, "need 0 < tau_min_s < tau_split_s < tau_max_s < ∞"));
        }
        for (f, v) in [
            ("rest_current_a", self.rest_current_a),
            ("max_pulse_s", self.max_pulse_s),
            ("window_s", self.window_s),
            ("ocv_smoothing", self.ocv_smoothing),
            ("r_smoothing", self.r_smoothing),
            ("r_min_ohm", self.r_min_ohm),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(f, v, "must be finite and >= 0"));
            }
        }
        if let Some(c) = self.capacity_ah {
            if !(c.is_finite() && c > 0.0) {
                return Err(bad("capacity_ah", c, "must be finite and > 0"));
            }
        }
        Ok(())
    }
}

/// Parameters identified at one SoC level (a discharge pulse).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HppcPoint {
    /// SoC at the pulse start.
    pub soc: f64,
    /// Fitted OCV at that SoC (V).
    pub ocv_v: f64,
    /// Series resistance (Ω).
    pub r0_ohm: f64,
    /// First RC resistance (Ω).
    pub r1_ohm: f64,
    /// First RC capacitance (F).
    pub c1_farad: f64,
    /// Second RC resistance (Ω), with two RC pairs.
    pub r2_ohm: Option<f64>,
    /// Second RC capacitance (F), with two RC pairs.
    pub c2_farad: Option<f64>,
    /// RMSE of the whole-test simulation over the window after the pulse start (V).
    pub rmse_v: f64,
}

/// Result of [`fit_hppc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HppcFit {
    /// The identified cell (parameters tabulated over SoC, constant in T and I).
    pub params: CellParams,
    /// Per-level results, by increasing SoC.
    pub points: Vec<HppcPoint>,
    /// Capacity used (Ah).
    pub capacity_ah: f64,
    /// Fitted time constants τ_j (s).
    pub tau_s: Vec<f64>,
    /// RMSE of the simulated versus measured voltage over the whole test (V).
    pub rmse_v: f64,
    /// Largest absolute voltage error over the whole test (V).
    pub max_error_v: f64,
    /// Number of samples compared.
    pub samples: usize,
}

/// The data of one fit: samples with a valid step, SoC before and after each.
struct Series<'a> {
    i: &'a [f64],
    v: &'a [f64],
    dt: Vec<f64>,
    soc: Vec<f64>,
}

/// Identifies a Thevenin cell with one or two RC pairs from an HPPC log (current positive = discharge).
///
/// # Errors
/// [`SimError::MissingColumn`] without voltage or current; [`SimError::InvalidProtocol`] on bad settings,
/// when the test moves no charge, or when no discharge pulse after a rest is found; simulation errors of the
/// validation run.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{fit_hppc, simulate, CellParams, HppcFitParams, InitialState, Protocol, Step};
/// // A synthetic HPPC on PyBaMM's example cell (100 Ah): 8 levels of a 100 A pulse, a 75 A charge pulse
/// // and a 10 % SoC step at 50 A, with 20 min rests.
/// let cell = CellParams::ecm_example().check().unwrap();
/// let hppc = Step::Hppc {
///     pulse_current_a: 100.0,
///     charge_pulse_current_a: -75.0,
///     pulse_s: 10.0,
///     pulse_rest_s: 40.0,
///     discharge_current_a: 50.0,
///     soc_step: 0.1,
///     rest_s: 1200.0,
///     levels: 8,
/// };
/// let protocol = Protocol {
///     dt_s: 1.0,
///     initial: InitialState { soc: 0.95, temperature_c: None },
///     limits: Default::default(),
///     steps: vec![Step::Rest { duration_s: 600.0, until: Default::default() }, hppc],
/// };
/// let log = simulate(&cell, &protocol).unwrap().to_battery_log();
/// let settings = HppcFitParams { capacity_ah: Some(100.0), rc_pairs: 1, ..HppcFitParams::default() };
/// let fit = fit_hppc(&log, &settings).unwrap();
/// assert!(fit.rmse_v < 2e-3, "{}", fit.rmse_v);
/// ```
pub fn fit_hppc(log: &BatteryLog, fp: &HppcFitParams) -> Result<HppcFit, SimError> {
    fp.check()?;
    let v = log.voltage_v.as_deref().ok_or(SimError::MissingColumn { column: "voltage_v" })?;
    let i = log.current_a.as_deref().ok_or(SimError::MissingColumn { column: "current_a" })?;
    let t = &log.time_s;
    let n = t.len();
    if v.len() != n || i.len() != n {
        return Err(SimError::LengthMismatch { field: "voltage_v", len: v.len(), expected: n });
    }
    // Steps the simulator takes: positive finite Δt and finite current (others are skipped, Δt = 0).
    let dt: Vec<f64> = (0..n)
        .map(|k| {
            let d = if k == 0 { 0.0 } else { t[k] - t[k - 1] };
            if d.is_finite() && d > 0.0 && i[k].is_finite() {
                d
            } else {
                0.0
            }
        })
        .collect();
    let mut q = vec![0.0; n];
    for k in 1..n {
        q[k] = q[k - 1] + if dt[k] > 0.0 { i[k] * dt[k] / 3600.0 } else { 0.0 };
    }
    let (q_lo, q_hi) = q.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    let capacity_ah = fp.capacity_ah.unwrap_or(q_hi - q_lo);
    if !(capacity_ah.is_finite() && capacity_ah > 0.0) {
        return Err(SimError::InvalidProtocol {
            step: 0,
            field: "capacity_ah",
            value: format!("{capacity_ah}"),
            reason: "the test moves no charge",
        });
    }
    // SoC: full at the least discharged point when the capacity is the test's own.
    let soc0 = 1.0 - (0.0 - q_lo) / capacity_ah;
    let soc: Vec<f64> = q.iter().map(|x| soc0 - x / capacity_ah).collect();
    let s = Series { i, v, dt, soc };
    let (s_lo, s_hi) =
        s.soc.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    // Pulses: a discharge right after a rest, shorter than max_pulse_s.
    let is_rest = |k: usize| i[k].abs() < fp.rest_current_a;
    let mut pulses: Vec<usize> = Vec::new(); // index of the last rest sample before the pulse
    for k in 1..n {
        if is_rest(k - 1) && i[k] >= fp.rest_current_a && i[k].is_finite() {
            let mut p1 = k;
            while p1 + 1 < n && i[p1 + 1] > fp.rest_current_a && (i[p1 + 1] - i[k]).abs() < 0.1 * i[k] + 0.5 {
                p1 += 1;
            }
            if t[p1] - t[k - 1] <= fp.max_pulse_s && (p1 + 1 >= n || is_rest(p1 + 1)) {
                pulses.push(k - 1);
            }
        }
    }
    if pulses.is_empty() {
        return Err(SimError::InvalidProtocol {
            step: 0,
            field: "max_pulse_s",
            value: format!("{}", fp.max_pulse_s),
            reason: "no discharge pulse after a rest found",
        });
    }
    // Nodes: OCV equally spaced, a little beyond the SoC range; R at the pulse levels and the two ends.
    let pad = 1e-3;
    let (o_lo, o_hi) = (s_lo - pad, s_hi + pad);
    let ocv_nodes: Vec<f64> =
        (0..fp.ocv_points).map(|j| o_lo + (o_hi - o_lo) * j as f64 / (fp.ocv_points - 1) as f64).collect();
    let mut r_nodes: Vec<f64> = pulses.iter().map(|&k| s.soc[k]).collect();
    r_nodes.push(s_lo);
    r_nodes.push(s_hi);
    r_nodes.sort_by(f64::total_cmp);
    r_nodes.dedup_by(|a, b| (*a - *b).abs() < 0.02);
    if r_nodes.len() < 2 {
        r_nodes = vec![o_lo, o_hi];
    }
    let i_ref = i.iter().filter(|x| x.is_finite()).fold(0.0f64, |a, x| a.max(x.abs())).max(1e-3);
    let problem = Problem { s: &s, ocv_nodes: &ocv_nodes, r_nodes: &r_nodes, fp, i_ref };
    let taus = problem.search_taus()?;
    let sol = problem.solve(&taus).ok_or(SimError::InvalidProtocol {
        step: 0,
        field: "tau_s",
        value: format!("{taus:?}"),
        reason: "the least-squares problem is singular",
    })?;
    let params = problem.build_params(&sol.x, &taus, capacity_ah);
    // Validation: simulate the whole test with the measured current, exactly as identified.
    let cell = params.clone().check()?;
    let mut sim = Simulator::new(cell, InitialState { soc: s.soc[0], temperature_c: None })?;
    let mut err = vec![f64::NAN; n];
    for k in 1..n {
        if s.dt[k] <= 0.0 {
            continue;
        }
        let o = sim.step(Input::Current { current_a: i[k] }, s.dt[k])?;
        if v[k].is_finite() {
            err[k] = o.voltage_v - v[k];
        }
    }
    let rms = |r: std::ops::Range<usize>| -> (f64, usize) {
        let (ss, m) =
            err[r].iter().filter(|e| e.is_finite()).fold((0.0, 0usize), |(a, m), e| (a + e * e, m + 1));
        ((ss / m.max(1) as f64).sqrt(), m)
    };
    let (rmse_v, samples) = rms(0..n);
    let max_error_v = err.iter().filter(|e| e.is_finite()).fold(0.0f64, |a, e| a.max(e.abs()));
    let mut points: Vec<HppcPoint> = pulses
        .iter()
        .map(|&k0| {
            let mut k1 = k0;
            while k1 + 1 < n && t[k1 + 1] - t[k0] <= fp.window_s {
                k1 += 1;
            }
            let sc = s.soc[k0];
            let at = |blk: usize| {
                hat_eval(&r_nodes, &sol.x[problem.r_off(blk)..problem.r_off(blk) + r_nodes.len()], sc)
            };
            let r1 = at(1);
            let r2 = (fp.rc_pairs == 2).then(|| at(2));
            HppcPoint {
                soc: sc,
                ocv_v: hat_eval(&ocv_nodes, &sol.x[..ocv_nodes.len()], sc),
                r0_ohm: at(0),
                r1_ohm: r1,
                c1_farad: taus[0] / r1,
                r2_ohm: r2,
                c2_farad: r2.map(|r| taus[1] / r),
                rmse_v: rms(k0 + 1..k1 + 1).0,
            }
        })
        .collect();
    points.sort_by(|a, b| a.soc.total_cmp(&b.soc));
    Ok(HppcFit { params, points, capacity_ah, tau_s: taus, rmse_v, max_error_v, samples })
}

/// Linear interpolation with linear extrapolation (as [`super::table::Table1::eval`]) as hat weights.
fn hat(nodes: &[f64], x: f64) -> (usize, f64) {
    let mut h = 0;
    super::table::locate(nodes, x, &mut h)
}

fn hat_eval(nodes: &[f64], y: &[f64], x: f64) -> f64 {
    let (j, w) = hat(nodes, x);
    y[j] + w * (y[j + 1] - y[j])
}

struct Problem<'a> {
    s: &'a Series<'a>,
    ocv_nodes: &'a [f64],
    r_nodes: &'a [f64],
    fp: &'a HppcFitParams,
    i_ref: f64,
}

struct Solution {
    x: Vec<f64>,
    sse: f64,
}

impl Problem<'_> {
    /// Offset of resistance block `blk` (0 = R0, 1 = R1, 2 = R2) in the unknowns.
    fn r_off(&self, blk: usize) -> usize {
        self.ocv_nodes.len() + blk * self.r_nodes.len()
    }

    fn unknowns(&self) -> usize {
        self.r_off(1 + self.fp.rc_pairs)
    }

    /// Normal equations `AᵀA`, `Aᵀb`, `bᵀb` of the data rows for the time constants `taus`.
    fn normal_equations(&self, taus: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
        let (m, mr) = (self.unknowns(), self.r_nodes.len());
        let s = self.s;
        let mut ata = vec![0.0; m * m];
        let mut atb = vec![0.0; m];
        let mut btb = 0.0;
        // u[j][node]: the RC states per unit resistance of each node.
        let mut u = vec![vec![0.0; mr]; taus.len()];
        let mut idx: Vec<usize> = Vec::with_capacity(4 + 2 * mr);
        let mut val: Vec<f64> = Vec::with_capacity(4 + 2 * mr);
        for k in 1..s.soc.len() {
            let dt = s.dt[k];
            if dt <= 0.0 {
                continue;
            }
            let ik = s.i[k];
            let (jp, wp) = hat(self.r_nodes, s.soc[k - 1]);
            for (j, uj) in u.iter_mut().enumerate() {
                let a = (-dt / taus[j]).exp();
                for x in uj.iter_mut() {
                    *x *= a;
                }
                let d = -ik * (1.0 - a);
                uj[jp] += d * (1.0 - wp);
                uj[jp + 1] += d * wp;
            }
            let vk = s.v[k];
            if !vk.is_finite() {
                continue;
            }
            idx.clear();
            val.clear();
            let (jo, wo) = hat(self.ocv_nodes, s.soc[k]);
            idx.extend([jo, jo + 1]);
            val.extend([1.0 - wo, wo]);
            let (jr, wr) = hat(self.r_nodes, s.soc[k]);
            let off = self.r_off(0);
            idx.extend([off + jr, off + jr + 1]);
            val.extend([-ik * (1.0 - wr), -ik * wr]);
            for (j, uj) in u.iter().enumerate() {
                let off = self.r_off(1 + j);
                for (node, &x) in uj.iter().enumerate() {
                    if x != 0.0 {
                        idx.push(off + node);
                        val.push(x);
                    }
                }
            }
            for (a, &ia) in idx.iter().enumerate() {
                atb[ia] += val[a] * vk;
                for (b, &ib) in idx.iter().enumerate() {
                    ata[ia * m + ib] += val[a] * val[b];
                }
            }
            btb += vk * vk;
        }
        (ata, atb, btb)
    }

    /// Adds the second-difference smoothing rows `w·(x_j − 2x_{j+1} + x_{j+2})` of one block.
    fn add_smoothing(ata: &mut [f64], m: usize, off: usize, len: usize, w: f64) {
        let w2 = w * w;
        for j in 0..len.saturating_sub(2) {
            let r = [(off + j, 1.0), (off + j + 1, -2.0), (off + j + 2, 1.0)];
            for &(a, va) in &r {
                for &(b, vb) in &r {
                    ata[a * m + b] += w2 * va * vb;
                }
            }
        }
    }

    /// Bounded linear least squares for fixed time constants.
    fn solve(&self, taus: &[f64]) -> Option<Solution> {
        let m = self.unknowns();
        let mr = self.r_nodes.len();
        let (mut ata, atb, btb) = self.normal_equations(taus);
        Self::add_smoothing(&mut ata, m, 0, self.ocv_nodes.len(), self.fp.ocv_smoothing);
        for blk in 0..=self.fp.rc_pairs {
            Self::add_smoothing(&mut ata, m, self.r_off(blk), mr, self.fp.r_smoothing * self.i_ref);
        }
        // Active set on the lower bound of the resistances.
        let mut fixed = vec![false; m];
        for _ in 0..=m {
            let x = solve_fixed(&ata, &atb, m, &fixed, self.fp.r_min_ohm)?;
            let mut changed = false;
            for k in self.r_off(0)..m {
                if !fixed[k] && x[k] < self.fp.r_min_ohm {
                    fixed[k] = true;
                    changed = true;
                }
            }
            if !changed {
                // Objective of the smoothed problem: xᵀAᵀAx − 2xᵀAᵀb + bᵀb.
                let mut sse = btb;
                for a in 0..m {
                    sse -= 2.0 * x[a] * atb[a];
                    let row = &ata[a * m..(a + 1) * m];
                    sse += x[a] * row.iter().zip(&x).map(|(p, q)| p * q).sum::<f64>();
                }
                return Some(Solution { x, sse });
            }
        }
        None
    }

    fn objective(&self, taus: &[f64]) -> f64 {
        self.solve(taus).map_or(f64::INFINITY, |s| s.sse)
    }

    /// Log-spaced grid over the τ bounds, then golden-section refinement of each ln τ_j in turn.
    fn search_taus(&self) -> Result<Vec<f64>, SimError> {
        let fp = self.fp;
        let ranges: Vec<(f64, f64)> = if fp.rc_pairs == 1 {
            vec![(fp.tau_min_s.ln(), fp.tau_max_s.ln())]
        } else {
            vec![(fp.tau_min_s.ln(), fp.tau_split_s.ln()), (fp.tau_split_s.ln(), fp.tau_max_s.ln())]
        };
        let grid = 5usize;
        let at = |r: (f64, f64), g: usize| r.0 + (r.1 - r.0) * (g as f64 + 0.5) / grid as f64;
        let mut best: Option<(f64, Vec<f64>)> = None;
        let combos = grid.pow(ranges.len() as u32);
        for c in 0..combos {
            let lt: Vec<f64> =
                ranges.iter().enumerate().map(|(j, r)| at(*r, (c / grid.pow(j as u32)) % grid)).collect();
            let taus: Vec<f64> = lt.iter().map(|x| x.exp()).collect();
            let f = self.objective(&taus);
            if f.is_finite() && best.as_ref().is_none_or(|b| f < b.0) {
                best = Some((f, lt));
            }
        }
        let (mut f_best, mut lt) = best.ok_or(SimError::InvalidProtocol {
            step: 0,
            field: "tau_s",
            value: format!("{}..{}", fp.tau_min_s, fp.tau_max_s),
            reason: "no time constant gives a solvable fit",
        })?;
        let half = |r: (f64, f64)| (r.1 - r.0) / grid as f64;
        for _sweep in 0..1 {
            for j in 0..ranges.len() {
                let (mut a, mut b) =
                    ((lt[j] - half(ranges[j])).max(ranges[j].0), (lt[j] + half(ranges[j])).min(ranges[j].1));
                let f = |x: f64, lt: &[f64]| {
                    let taus: Vec<f64> =
                        lt.iter().enumerate().map(|(q, y)| if q == j { x.exp() } else { y.exp() }).collect();
                    self.objective(&taus)
                };
                let gr = 0.618_033_988_749_895;
                for _ in 0..16 {
                    let c = b - gr * (b - a);
                    let d = a + gr * (b - a);
                    if f(c, &lt) < f(d, &lt) {
                        b = d;
                    } else {
                        a = c;
                    }
                }
                let x = 0.5 * (a + b);
                let fx = f(x, &lt);
                if fx < f_best {
                    f_best = fx;
                    lt[j] = x;
                }
            }
        }
        Ok(lt.iter().map(|x| x.exp()).collect())
    }

    fn build_params(&self, x: &[f64], taus: &[f64], capacity_ah: f64) -> CellParams {
        let mr = self.r_nodes.len();
        // The simulator takes τ_j = R_j·C_j with both interpolated linearly; on the coarse levels the product
        // would stray far from τ_j between levels, so the tables use a fine grid (the levels plus every
        // `FINE_SOC`), R_j exactly as fitted (piecewise linear) and C_j = τ_j/R_j at each fine node.
        const FINE_SOC: f64 = 0.005;
        let (a, b) = (self.r_nodes[0], self.r_nodes[mr - 1]);
        let mut grid: Vec<f64> = self.r_nodes.to_vec();
        let steps = ((b - a) / FINE_SOC).ceil() as usize;
        grid.extend((1..steps).map(|k| a + (b - a) * k as f64 / steps as f64));
        grid.sort_by(f64::total_cmp);
        grid.dedup_by(|p, q| (*p - *q).abs() < 1e-9);
        let table = |vals: Vec<f64>| -> Param3 {
            let mut values = Vec::with_capacity(4 * vals.len());
            for _ in 0..4 {
                values.extend_from_slice(&vals);
            }
            // Constant in T and I: two identical planes on wide axes.
            Param3::Table(Table3 {
                t_c: vec![-40.0, 80.0],
                current_a: vec![-1e4, 1e4],
                soc: grid.clone(),
                values,
            })
        };
        let block = |blk: usize| {
            let y = &x[self.r_off(blk)..self.r_off(blk) + mr];
            grid.iter().map(|&s| hat_eval(self.r_nodes, y, s)).collect::<Vec<f64>>()
        };
        let cap = |blk: usize, tau: f64| table(block(blk).iter().map(|r| tau / r).collect());
        let ocv_v = x[..self.ocv_nodes.len()].to_vec();
        let (v_min, v_max) =
            ocv_v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(*y), b.max(*y)));
        let two = self.fp.rc_pairs == 2;
        CellParams {
            capacity_ah,
            ocv: OcvTable { soc: self.ocv_nodes.to_vec(), t_c: None, ocv_v },
            r0_ohm: table(block(0)),
            r1_ohm: Some(table(block(1))),
            c1_farad: Some(cap(1, taus[0])),
            r2_ohm: two.then(|| table(block(2))),
            c2_farad: two.then(|| cap(2, taus[1])),
            r3_ohm: None,
            c3_farad: None,
            dudt_v_per_k: EntropicCoefficient::Const(0.0),
            thermal: ThermalParams::default(),
            v_min_v: (v_min - 0.5).min(2.5),
            v_max_v: (v_max + 0.5).max(4.3),
        }
    }
}

/// Solves `AᵀA·x = Aᵀb` with the `fixed` unknowns held at `value`, by Cholesky on the Jacobi-scaled free block.
fn solve_fixed(ata: &[f64], atb: &[f64], m: usize, fixed: &[bool], value: f64) -> Option<Vec<f64>> {
    let free: Vec<usize> = (0..m).filter(|&k| !fixed[k]).collect();
    let f = free.len();
    let mut x = vec![0.0; m];
    for k in 0..m {
        if fixed[k] {
            x[k] = value;
        }
    }
    // Reduced system: H_ff·x_f = b_f − H_fc·x_c; scale by the diagonal.
    let scale: Vec<f64> = free
        .iter()
        .map(|&k| {
            let d = ata[k * m + k];
            if d > 0.0 {
                1.0 / d.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let mut h = vec![0.0; f * f];
    let mut rhs = vec![0.0; f];
    for (a, &ka) in free.iter().enumerate() {
        let mut r = atb[ka];
        for kc in 0..m {
            if fixed[kc] {
                r -= ata[ka * m + kc] * value;
            }
        }
        rhs[a] = r * scale[a];
        for (b, &kb) in free.iter().enumerate() {
            h[a * f + b] = ata[ka * m + kb] * scale[a] * scale[b];
        }
        // A tiny ridge keeps nodes without data (and their smoothing) well posed.
        h[a * f + a] += 1e-12;
    }
    // Cholesky h = L·Lᵀ in place (lower triangle).
    for j in 0..f {
        let mut d = h[j * f + j];
        for p in 0..j {
            d -= h[j * f + p] * h[j * f + p];
        }
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let d = d.sqrt();
        h[j * f + j] = d;
        for r in j + 1..f {
            let mut s = h[r * f + j];
            for p in 0..j {
                s -= h[r * f + p] * h[j * f + p];
            }
            h[r * f + j] = s / d;
        }
    }
    let mut y = rhs;
    for r in 0..f {
        let mut s = y[r];
        for p in 0..r {
            s -= h[r * f + p] * y[p];
        }
        y[r] = s / h[r * f + r];
    }
    for r in (0..f).rev() {
        let mut s = y[r];
        for p in r + 1..f {
            s -= h[p * f + r] * y[p];
        }
        y[r] = s / h[r * f + r];
    }
    for (a, &k) in free.iter().enumerate() {
        x[k] = y[a] * scale[a];
    }
    Some(x)
}
