//! Parameter identification from an HPPC test: OCV(SoC) from the ends of long rests, and R0, R1, C1 per SoC
//! level from each discharge pulse and its relaxation.
//!
//! Method (variable projection, bounded): for a pulse window starting after a rest (so `V_1(0) = 0`), with the
//! measured current `I_k` and the OCV from the table at the coulomb-counted SoC,
//! `V_k − OCV_k = −I_k·R0 + R1·u_k(τ)`, `u_k = a·u_{k−1} − I_k·(1 − a)`, `a = e^(−Δt/τ)`.
//! For a fixed τ this is linear in (R0, R1) and solved by least squares; τ is found by a log-spaced scan over
//! `[tau_min_s, tau_max_s]` refined by golden-section search; `C1 = τ/R1`. Negative resistances are rejected.
//! OCV: the last voltage of every long rest, completed between and beyond them by pseudo-OCV points
//! `V + I·(R0 + R1)` from steady constant-current samples (discharge inside the rest range; the conditioning
//! charge outside it).
//! Fit quality: per-pulse RMSE, and the RMSE of a simulation of the whole test with the fitted cell.

use serde::{Deserialize, Serialize};

use super::model::{InitialState, Input, Simulator};
use super::params::{CellParams, EntropicCoefficient, OcvTable, Param3, ThermalParams};
use super::table::{Table1, Table3};
use super::SimError;
use crate::data::BatteryLog;

/// Settings of [`fit_hppc`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HppcFitParams {
    /// Cell capacity (Ah); `None` = the charge between the fullest and emptiest points of the test.
    pub capacity_ah: Option<f64>,
    /// A rest at least this long gives an OCV point (s).
    pub min_rest_s: f64,
    /// |I| below this is rest (A).
    pub rest_current_a: f64,
    /// Longest discharge counted as a pulse (s).
    pub max_pulse_s: f64,
    /// Length of the fit window after the pulse start (pulse plus relaxation, s).
    pub window_s: f64,
    /// Bounds of τ1 (s).
    pub tau_min_s: f64,
    /// Upper bound of τ1 (s).
    pub tau_max_s: f64,
}

impl Default for HppcFitParams {
    fn default() -> Self {
        Self {
            capacity_ah: None,
            min_rest_s: 600.0,
            rest_current_a: 0.05,
            max_pulse_s: 60.0,
            window_s: 70.0,
            tau_min_s: 1.0,
            tau_max_s: 300.0,
        }
    }
}

/// Parameters identified at one SoC level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HppcPoint {
    /// SoC at the pulse start.
    pub soc: f64,
    /// OCV before the pulse (V).
    pub ocv_v: f64,
    /// Series resistance (Ω).
    pub r0_ohm: f64,
    /// RC resistance (Ω).
    pub r1_ohm: f64,
    /// RC capacitance (F).
    pub c1_farad: f64,
    /// RMSE of the window fit (V).
    pub rmse_v: f64,
}

/// Result of [`fit_hppc`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HppcFit {
    /// The identified cell (1 RC, parameters tabulated over SoC, constant in T and I).
    pub params: CellParams,
    /// Per-level results, by increasing SoC.
    pub points: Vec<HppcPoint>,
    /// Capacity used (Ah).
    pub capacity_ah: f64,
    /// RMSE of the simulated versus measured voltage over the whole test (V).
    pub rmse_v: f64,
    /// Largest absolute voltage error over the whole test (V).
    pub max_error_v: f64,
    /// RMSE from the end of the first long rest on (the pulse sequence without the conditioning step, V).
    pub rmse_pulses_v: f64,
}

/// Identifies a 1-RC Thevenin cell from an HPPC log (current positive = discharge).
///
/// # Errors
/// [`SimError::MissingColumn`] without voltage or current; [`SimError::InvalidProtocol`] when fewer than two
/// rests or no pulse are found; simulation errors of the validation run.
pub fn fit_hppc(log: &BatteryLog, fp: &HppcFitParams) -> Result<HppcFit, SimError> {
    let v = log.voltage_v.as_deref().ok_or(SimError::MissingColumn { column: "voltage_v" })?;
    let i = log.current_a.as_deref().ok_or(SimError::MissingColumn { column: "current_a" })?;
    let t = &log.time_s;
    let n = t.len();
    if n < 10 || v.len() != n || i.len() != n {
        return Err(SimError::LengthMismatch { field: "voltage_v", len: v.len(), expected: n });
    }
    // Coulomb counting: the current of sample k flows over (t[k-1], t[k]].
    let mut q = vec![0.0; n];
    for k in 1..n {
        let dt = t[k] - t[k - 1];
        let ik = if i[k].is_finite() { i[k] } else { 0.0 };
        q[k] = q[k - 1] + ik * dt.max(0.0) / 3600.0;
    }
    let (q_full, q_empty) =
        q.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    let capacity_ah = fp.capacity_ah.unwrap_or(q_empty - q_full);
    if !(capacity_ah.is_finite() && capacity_ah > 0.0) {
        return Err(SimError::InvalidProtocol {
            step: 0,
            field: "capacity_ah",
            value: format!("{capacity_ah}"),
            reason: "the test moves no charge",
        });
    }
    let soc: Vec<f64> = q.iter().map(|x| 1.0 - (x - q_full) / capacity_ah).collect();
    let is_rest = |k: usize| i[k].abs() < fp.rest_current_a;
    // Rests: runs of rest samples; OCV = last voltage of each long rest.
    let mut ocv_pts: Vec<(f64, f64)> = Vec::new();
    let mut rest_end_before: Vec<(usize, f64)> = Vec::new(); // (index of rest end, rest length)
    let mut k = 0;
    while k < n {
        if is_rest(k) {
            let start = k;
            while k + 1 < n && is_rest(k + 1) {
                k += 1;
            }
            let len = t[k] - t[start];
            if len >= fp.min_rest_s && v[k].is_finite() {
                ocv_pts.push((soc[k], v[k]));
            }
            rest_end_before.push((k, len));
        }
        k += 1;
    }
    ocv_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    ocv_pts.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-6);
    if ocv_pts.len() < 2 {
        return Err(SimError::InvalidProtocol {
            step: 0,
            field: "min_rest_s",
            value: format!("{}", fp.min_rest_s),
            reason: "fewer than two long rests: no OCV table",
        });
    }
    // OCV table: rest points, extended linearly to cover the whole SoC range of the test.
    let (s_lo, s_hi) =
        soc.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    let base = Table1 { x: ocv_pts.iter().map(|p| p.0).collect(), y: ocv_pts.iter().map(|p| p.1).collect() };
    let mut xs = base.x.clone();
    let mut ys = base.y.clone();
    let lo = s_lo.min(xs[0]) - 0.02;
    let hi = s_hi.max(xs[xs.len() - 1]) + 0.02;
    if lo < xs[0] {
        xs.insert(0, lo);
        ys.insert(0, base.eval(lo));
    }
    if hi > xs[xs.len() - 1] {
        xs.push(hi);
        ys.push(base.eval(hi));
    }
    let ocv = Table1 { x: xs, y: ys };
    // Pulses: a discharge starting right after a rest, shorter than max_pulse_s.
    let mut points = Vec::new();
    for &(rest_end, _) in &rest_end_before {
        let p0 = rest_end + 1;
        if p0 >= n || i[p0] < fp.rest_current_a {
            continue;
        }
        let mut p1 = p0;
        while p1 + 1 < n
            && i[p1 + 1] > fp.rest_current_a
            && (i[p1 + 1] - i[p0]).abs() < 0.1 * i[p0].abs() + 0.5
        {
            p1 += 1;
        }
        if t[p1] - t[rest_end] > fp.max_pulse_s {
            continue;
        }
        let mut w1 = p1;
        while w1 + 1 < n && t[w1 + 1] - t[rest_end] <= fp.window_s && is_rest(w1 + 1) {
            w1 += 1;
        }
        if let Some(pt) = fit_window(t, v, i, &soc, &ocv, rest_end, w1, fp) {
            points.push(pt);
        }
    }
    if points.is_empty() {
        return Err(SimError::InvalidProtocol {
            step: 0,
            field: "max_pulse_s",
            value: format!("{}", fp.max_pulse_s),
            reason: "no discharge pulse after a rest found",
        });
    }
    points.sort_by(|a, b| a.soc.total_cmp(&b.soc));
    points.dedup_by(|a, b| (a.soc - b.soc).abs() < 1e-6);
    // Outside the rest points (typically the empty end, reached only by the conditioning charge), take a
    // pseudo-OCV from steady constant-current samples: OCV ≈ V + I·(R0 + R1) of the nearest level.
    let (rest_lo, rest_hi) = (ocv_pts[0].0, ocv_pts[ocv_pts.len() - 1].0);
    let mut extra: Vec<(f64, f64)> = Vec::new();
    let r_lo = points[0].r0_ohm + points[0].r1_ohm;
    let r_hi = points[points.len() - 1].r0_ohm + points[points.len() - 1].r1_ohm;
    let tau_settle = 5.0 * points.iter().map(|p| p.r1_ohm * p.c1_farad).fold(0.0, f64::max);
    let mut since = 0usize;
    for k in 1..n {
        if (i[k] - i[k - 1]).abs() > 0.05 * i[k].abs().max(1.0) || is_rest(k) {
            since = k;
            continue;
        }
        let steady = t[k] - t[since] > tau_settle;
        let last = extra.last().map_or(f64::NEG_INFINITY, |e| e.0);
        if steady && v[k].is_finite() && (soc[k] - last).abs() >= 0.005 {
            if soc[k] < rest_lo - 0.005 {
                extra.push((soc[k], v[k] + i[k] * r_lo));
            } else if soc[k] > rest_hi + 0.005 {
                extra.push((soc[k], v[k] + i[k] * r_hi));
            } else if i[k] > 0.0 {
                // Inside the rest range, steady discharge samples fill in the shape between rest points.
                let pr =
                    points.iter().min_by(|a, b| (a.soc - soc[k]).abs().total_cmp(&(b.soc - soc[k]).abs()));
                if let Some(pr) = pr {
                    extra.push((soc[k], v[k] + i[k] * (pr.r0_ohm + pr.r1_ohm)));
                }
            }
        }
    }
    let ocv = if extra.is_empty() {
        ocv
    } else {
        let mut all = ocv_pts.clone();
        all.extend(extra);
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-4);
        let t1 = Table1 { x: all.iter().map(|p| p.0).collect(), y: all.iter().map(|p| p.1).collect() };
        let (lo, hi) = (t1.x[0].min(lo), t1.x[t1.x.len() - 1].max(hi));
        let mut xs = vec![lo - 1e-3];
        let mut ys = vec![t1.eval(lo - 1e-3)];
        xs.extend(t1.x.iter().copied());
        ys.extend(t1.y.iter().copied());
        xs.push(hi + 1e-3);
        ys.push(t1.eval(hi + 1e-3));
        Table1 { x: xs, y: ys }
    };
    let params = build_params(&ocv, &points, capacity_ah);
    // Validation: simulate the whole test with the measured current.
    let cell = params.clone().check()?;
    let mut sim = Simulator::new(cell, InitialState { soc: soc[0], temperature_c: None })?;
    let first_rest_end = rest_end_before.iter().find(|(_, len)| *len >= fp.min_rest_s).map_or(0, |(k, _)| *k);
    let (mut ss, mut m, mut max_err) = (0.0, 0usize, 0.0f64);
    let (mut ss2, mut m2) = (0.0, 0usize);
    for k in 1..n {
        let dt = t[k] - t[k - 1];
        if dt.is_nan() || dt <= 0.0 || !i[k].is_finite() {
            continue;
        }
        let o = sim.step(Input::Current { current_a: i[k] }, dt)?;
        if v[k].is_finite() {
            let e = o.voltage_v - v[k];
            ss += e * e;
            m += 1;
            max_err = max_err.max(e.abs());
            if k > first_rest_end {
                ss2 += e * e;
                m2 += 1;
            }
        }
    }
    Ok(HppcFit {
        params,
        points,
        capacity_ah,
        rmse_v: (ss / m.max(1) as f64).sqrt(),
        max_error_v: max_err,
        rmse_pulses_v: (ss2 / m2.max(1) as f64).sqrt(),
    })
}

#[allow(clippy::too_many_arguments)]
fn fit_window(
    t: &[f64],
    v: &[f64],
    i: &[f64],
    soc: &[f64],
    ocv: &Table1,
    k0: usize,
    k1: usize,
    fp: &HppcFitParams,
) -> Option<HppcPoint> {
    if k1 < k0 + 5 {
        return None;
    }
    // Residual target y = V − OCV(SoC), regressors −I and u(τ).
    let y: Vec<f64> = (k0..=k1).map(|k| v[k] - ocv.eval(soc[k])).collect();
    let solve = |tau: f64| -> Option<(f64, f64, f64)> {
        let mut u = 0.0;
        let (mut saa, mut sab, mut sbb, mut say, mut sby) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (j, k) in (k0..=k1).enumerate() {
            if k > k0 {
                let a = (-(t[k] - t[k - 1]) / tau).exp();
                u = a * u - i[k] * (1.0 - a);
            }
            let (xa, xb) = (-i[k], u);
            saa += xa * xa;
            sab += xa * xb;
            sbb += xb * xb;
            say += xa * y[j];
            sby += xb * y[j];
        }
        let det = saa * sbb - sab * sab;
        if det.abs() < 1e-300 {
            return None;
        }
        let r0 = (say * sbb - sby * sab) / det;
        let r1 = (saa * sby - sab * say) / det;
        if !(r0 > 0.0 && r1 > 0.0) {
            return None;
        }
        // Sum of squared residuals.
        let mut u = 0.0;
        let mut sse = 0.0;
        for (j, k) in (k0..=k1).enumerate() {
            if k > k0 {
                let a = (-(t[k] - t[k - 1]) / tau).exp();
                u = a * u - i[k] * (1.0 - a);
            }
            let e = y[j] - (-i[k] * r0 + r1 * u);
            sse += e * e;
        }
        Some((r0, r1, sse))
    };
    let (lmin, lmax) = (fp.tau_min_s.ln(), fp.tau_max_s.ln());
    let grid = 60;
    let mut best: Option<(f64, (f64, f64, f64))> = None;
    for g in 0..=grid {
        let tau = (lmin + (lmax - lmin) * g as f64 / grid as f64).exp();
        if let Some(s) = solve(tau) {
            if best.is_none_or(|(_, b)| s.2 < b.2) {
                best = Some((tau, s));
            }
        }
    }
    let (tau0, _) = best?;
    // Golden-section refinement in ln τ around the best grid point.
    let step = (lmax - lmin) / grid as f64;
    let (mut a, mut b) = ((tau0.ln() - step).max(lmin), (tau0.ln() + step).min(lmax));
    let gr = 0.618_033_988_749_895;
    let f = |x: f64| solve(x.exp()).map_or(f64::INFINITY, |s| s.2);
    for _ in 0..40 {
        let c = b - gr * (b - a);
        let d = a + gr * (b - a);
        if f(c) < f(d) {
            b = d;
        } else {
            a = c;
        }
    }
    let tau = (0.5 * (a + b)).exp();
    let (r0, r1, sse) = solve(tau).or(best.map(|b| b.1))?;
    Some(HppcPoint {
        soc: soc[k0],
        ocv_v: v[k0],
        r0_ohm: r0,
        r1_ohm: r1,
        c1_farad: tau / r1,
        rmse_v: (sse / (k1 - k0 + 1) as f64).sqrt(),
    })
}

fn build_params(ocv: &Table1, points: &[HppcPoint], capacity_ah: f64) -> CellParams {
    let socs: Vec<f64> = points.iter().map(|p| p.soc).collect();
    // Constant in T and I: two identical planes on wide axes.
    let table = |vals: Vec<f64>| -> Param3 {
        if vals.len() == 1 {
            return Param3::Const(vals[0]);
        }
        let mut values = Vec::with_capacity(4 * vals.len());
        for _ in 0..4 {
            values.extend_from_slice(&vals);
        }
        Param3::Table(Table3 {
            t_c: vec![-40.0, 80.0],
            current_a: vec![-1e4, 1e4],
            soc: socs.clone(),
            values,
        })
    };
    let (v_min, v_max) =
        ocv.y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    CellParams {
        capacity_ah,
        ocv: OcvTable { soc: ocv.x.clone(), t_c: None, ocv_v: ocv.y.clone() },
        r0_ohm: table(points.iter().map(|p| p.r0_ohm).collect()),
        r1_ohm: Some(table(points.iter().map(|p| p.r1_ohm).collect())),
        c1_farad: Some(table(points.iter().map(|p| p.c1_farad).collect())),
        r2_ohm: None,
        c2_farad: None,
        r3_ohm: None,
        c3_farad: None,
        dudt_v_per_k: EntropicCoefficient::Const(0.0),
        thermal: ThermalParams::default(),
        v_min_v: (v_min - 0.5).min(2.5),
        v_max_v: (v_max + 0.5).max(4.3),
    }
}
