//! Direct-current internal resistance (DCIR) from current steps.
//!
//! # Method
//! A **step edge** is a pair of consecutive rows `i-1 → i` where the current changes by at least
//! `min_delta_current_a` and the current was steady before it (`|I[i-1] − I[i-2]| < min_delta_current_a`;
//! this keeps the later samples of a current ramp from counting as edges). The pre-step point is row
//! `i-1` (`V₀`, `I₀`). The edge time is `t[i]`, the first sample at the new current, and the resistance is
//! read `delay_s` later, at `t₁ = t[i] + delay_s`, by linear interpolation of voltage and current between
//! the two samples around `t₁` (`delay_s = 0` uses the first sample itself, which approximates the ohmic
//! resistance R0; 10 s is the usual "10-s DCIR"):
//!
//! `R = −(V(t₁) − V₀) / (I(t₁) − I₀)`  (Ω; current positive on discharge, so R > 0 for a real cell).
//!
//! The step must be held until `t₁`: every sample from `i` up to the first sample at or after `t₁` stays
//! on the step's side of `I₀` by at least half of `min_delta_current_a`, and no new edge occurs between the
//! two samples around `t₁`. Otherwise (pulse shorter than `delay_s`, or log ends) the edge is skipped.

use serde::{Deserialize, Serialize};

use super::FeatureError;
use crate::data::BatteryLog;
use crate::params::{ParamError, ParamGuard};

/// Which current steps count for DCIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PulseDirection {
    /// Steps towards discharge (current increases; for example rest → discharge pulse). The usual DCIR.
    #[default]
    Discharge,
    /// Steps towards charge (current decreases; for example rest → regen pulse).
    Charge,
    /// Both.
    Any,
}

/// Validated DCIR parameters (see [`DcirParams`] for the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DcirValidParams {
    pub(crate) delay_s: f64,
    pub(crate) min_delta_current_a: f64,
    pub(crate) direction: PulseDirection,
}

impl Default for DcirValidParams {
    fn default() -> Self {
        Self { delay_s: 10.0, min_delta_current_a: 0.2, direction: PulseDirection::Discharge }
    }
}

impl DcirValidParams {
    /// Time after the step edge at which ΔV/ΔI is read (s).
    pub fn delay_s(&self) -> f64 {
        self.delay_s
    }
    /// Minimum |ΔI| of a step (A).
    pub fn min_delta_current_a(&self) -> f64 {
        self.min_delta_current_a
    }
    /// Which steps count.
    pub fn direction(&self) -> PulseDirection {
        self.direction
    }
}

/// DCIR parameters (unchecked builder).
///
/// Defaults: `delay_s = 10` s, `min_delta_current_a = 0.2` A, `direction = Discharge`.
///
/// # Examples
/// ```
/// use battsentinel_core::features::DcirParams;
/// use battsentinel_core::ParamGuard;
/// let p = DcirParams::default().delay_s(0.0).min_delta_current_a(5.0).check().unwrap();
/// assert_eq!(p.delay_s(), 0.0);
/// assert!(DcirParams::default().delay_s(-1.0).check().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DcirParams(pub(crate) DcirValidParams);

impl DcirParams {
    /// Sets the read-out time after the step edge (s, ≥ 0).
    pub fn delay_s(mut self, v: f64) -> Self {
        self.0.delay_s = v;
        self
    }
    /// Sets the minimum |ΔI| of a step (A, > 0).
    pub fn min_delta_current_a(mut self, v: f64) -> Self {
        self.0.min_delta_current_a = v;
        self
    }
    /// Sets which steps count.
    pub fn direction(mut self, v: PulseDirection) -> Self {
        self.0.direction = v;
        self
    }
}

impl DcirValidParams {
    pub(crate) fn validate(&self) -> Result<(), ParamError> {
        if !(self.delay_s.is_finite() && self.delay_s >= 0.0) {
            return Err(ParamError::invalid("delay_s", self.delay_s, "must be finite and >= 0"));
        }
        crate::params::positive("min_delta_current_a", self.min_delta_current_a)
    }
}

impl ParamGuard for DcirParams {
    type Checked = DcirValidParams;
    fn check_ref(&self) -> Result<&DcirValidParams, ParamError> {
        self.0.validate()?;
        Ok(&self.0)
    }
    fn check(self) -> Result<DcirValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for DcirValidParams {
    type Checked = DcirValidParams;
    fn check_ref(&self) -> Result<&DcirValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
    fn check(self) -> Result<DcirValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
}

/// One current step and the resistance read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcirEvent {
    /// Cycle of the first sample at the new current (`None` when the log has no cycle index there).
    pub cycle: Option<u32>,
    /// Row index of the first sample at the new current.
    pub row: usize,
    /// Time of the first sample at the new current (s).
    pub edge_time_s: f64,
    /// Time at which the resistance was read (s) = `edge_time_s + delay_s`.
    pub read_time_s: f64,
    /// Current before the step (A, positive = discharge).
    pub current_before_a: f64,
    /// Current at the read-out time (A).
    pub current_after_a: f64,
    /// Voltage before the step (V).
    pub voltage_before_v: f64,
    /// Voltage at the read-out time (V).
    pub voltage_after_v: f64,
    /// Resistance −ΔV/ΔI (Ω).
    pub r_ohm: f64,
}

/// Every current step of the log and its DCIR (see the module docs for the method).
///
/// # Errors
/// [`FeatureError::Params`] on invalid params, [`FeatureError::LengthMismatch`] on an inconsistent log,
/// [`FeatureError::MissingChannel`] without voltage or current.
///
/// # Examples
/// ```
/// use battsentinel_core::{BatteryLog, features::{dcir_events, DcirParams}};
/// // Rest at 4.0 V, then a 10 A discharge through 2 mΩ.
/// let t: Vec<f64> = (0..40).map(f64::from).collect();
/// let i: Vec<f64> = t.iter().map(|&t| if t < 20.0 { 0.0 } else { 10.0 }).collect();
/// let v: Vec<f64> = i.iter().map(|&i| 4.0 - 0.002 * i).collect();
/// let mut log = BatteryLog::with_time(t);
/// log.current_a = Some(i);
/// log.voltage_v = Some(v);
/// let ev = dcir_events(&log, &DcirParams::default()).unwrap();
/// assert_eq!(ev.len(), 1);
/// assert!((ev[0].r_ohm - 0.002).abs() < 1e-12);
/// ```
pub fn dcir_events<P>(log: &BatteryLog, params: &P) -> Result<Vec<DcirEvent>, FeatureError>
where
    P: ParamGuard<Checked = DcirValidParams>,
{
    let p = params.check_ref()?;
    log.validate()?;
    let v = log
        .voltage_v
        .as_deref()
        .ok_or(FeatureError::MissingChannel { channel: "voltage_v", needed_for: "DCIR" })?;
    let i = log
        .current_a
        .as_deref()
        .ok_or(FeatureError::MissingChannel { channel: "current_a", needed_for: "DCIR" })?;
    Ok(detect(&log.time_s, v, i, log.cycle_index.as_deref(), p))
}

pub(crate) fn detect(
    t: &[f64],
    v: &[f64],
    cur: &[f64],
    cycles: Option<&[Option<u32>]>,
    p: &DcirValidParams,
) -> Vec<DcirEvent> {
    let n = t.len();
    let min_di = p.min_delta_current_a;
    let ok = |k: usize| t[k].is_finite() && v[k].is_finite() && cur[k].is_finite();
    let mut out = Vec::new();
    for e in 1..n {
        let di = cur[e] - cur[e - 1];
        if !ok(e) || !ok(e - 1) || di.abs() < min_di {
            continue;
        }
        let wanted = match p.direction {
            PulseDirection::Discharge => di > 0.0,
            PulseDirection::Charge => di < 0.0,
            PulseDirection::Any => true,
        };
        if !wanted {
            continue;
        }
        if e >= 2 && cur[e - 2].is_finite() && (cur[e - 1] - cur[e - 2]).abs() >= min_di {
            continue; // not steady before the edge (a ramp)
        }
        let (i0, v0) = (cur[e - 1], v[e - 1]);
        let s = di.signum();
        let t1 = t[e] + p.delay_s;
        // First sample at or after t1, checking the step is held on the way.
        let mut k = e;
        let mut held = true;
        while k < n {
            if !ok(k) || s * (cur[k] - i0) < 0.5 * min_di {
                held = false;
                break;
            }
            if t[k] >= t1 {
                break;
            }
            k += 1;
        }
        if !held || k >= n {
            continue;
        }
        let (i1, v1) = if k == e || t[k] == t1 {
            (cur[k], v[k])
        } else {
            if (cur[k] - cur[k - 1]).abs() >= min_di {
                continue; // another step between the samples around t1
            }
            let dt = t[k] - t[k - 1];
            if dt <= 0.0 {
                continue;
            }
            let f = (t1 - t[k - 1]) / dt;
            (cur[k - 1] + f * (cur[k] - cur[k - 1]), v[k - 1] + f * (v[k] - v[k - 1]))
        };
        let d_i = i1 - i0;
        if d_i.is_nan() || d_i.abs() < min_di {
            continue;
        }
        out.push(DcirEvent {
            cycle: cycles.and_then(|c| c[e]),
            row: e,
            edge_time_s: t[e],
            read_time_s: if k == e { t[e] } else { t1 },
            current_before_a: i0,
            current_after_a: i1,
            voltage_before_v: v0,
            voltage_after_v: v1,
            r_ohm: -(v1 - v0) / d_i,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Rest, then a discharge pulse through R0 plus an RC branch: V = OCV − I·R0 − I·R1·(1 − e^{−t/τ}).
    fn pulse_log(dt: f64) -> BatteryLog {
        let (r0, r1, tau, amps) = (0.0015, 0.001, 5.0, 30.0);
        let n = (120.0 / dt) as usize;
        let t: Vec<f64> = (0..n).map(|k| k as f64 * dt).collect();
        let cur: Vec<f64> = t.iter().map(|&t| if (30.0..60.0).contains(&t) { amps } else { 0.0 }).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|&t| {
                if (30.0..60.0).contains(&t) {
                    3.7 - amps * r0 - amps * r1 * (1.0 - (-(t - 30.0) / tau).exp())
                } else {
                    3.7
                }
            })
            .collect();
        let mut log = BatteryLog::with_time(t);
        log.current_a = Some(cur);
        log.voltage_v = Some(v);
        log
    }

    #[test]
    fn known_step_response() {
        let log = pulse_log(0.5);
        let r0 = dcir_events(&log, &DcirParams::default().delay_s(0.0)).unwrap();
        assert_eq!(r0.len(), 1);
        assert_relative_eq!(r0[0].r_ohm, 0.0015, epsilon = 1e-12);
        let r10 = dcir_events(&log, &DcirParams::default()).unwrap();
        assert_eq!(r10.len(), 1);
        let expect = 0.0015 + 0.001 * (1.0 - (-10.0f64 / 5.0).exp());
        assert_relative_eq!(r10[0].r_ohm, expect, epsilon = 1e-12);
        assert_relative_eq!(r10[0].read_time_s, 40.0);
        // Interpolated read-out between samples (delay not on the grid).
        let r = dcir_events(&log, &DcirParams::default().delay_s(2.25)).unwrap();
        let lo = 0.0015 + 0.001 * (1.0 - (-2.0f64 / 5.0).exp());
        let hi = 0.0015 + 0.001 * (1.0 - (-2.5f64 / 5.0).exp());
        assert!(r[0].r_ohm > lo && r[0].r_ohm < hi);
        // The relaxation edge (discharge → rest) counts only for Charge/Any.
        let any = dcir_events(&log, &DcirParams::default().direction(PulseDirection::Any)).unwrap();
        assert_eq!(any.len(), 2);
        assert_relative_eq!(any[1].r_ohm, 0.0015 + 0.001 * (1.0 - (-29.5f64 / 5.0).exp()), epsilon = 1e-9);
    }

    #[test]
    fn pulse_shorter_than_delay_is_skipped() {
        let log = pulse_log(1.0);
        let ev = dcir_events(&log, &DcirParams::default().delay_s(45.0)).unwrap();
        assert!(ev.is_empty());
    }

    #[test]
    fn small_steps_and_missing_channels() {
        let log = pulse_log(1.0);
        assert!(dcir_events(&log, &DcirParams::default().min_delta_current_a(31.0)).unwrap().is_empty());
        let mut no_v = log.clone();
        no_v.voltage_v = None;
        assert_eq!(dcir_events(&no_v, &DcirParams::default()).unwrap_err().code(), "missing_channel");
        assert_eq!(
            dcir_events(&log, &DcirParams::default().min_delta_current_a(0.0)).unwrap_err().code(),
            "invalid_param"
        );
    }

    #[test]
    fn ramp_counts_once() {
        // Current ramps 0 → 10 → 20 → 30 A over three samples, then holds.
        let t: Vec<f64> = (0..60).map(f64::from).collect();
        let cur: Vec<f64> = t
            .iter()
            .map(|&t| match t as i32 {
                x if x < 20 => 0.0,
                20 => 10.0,
                21 => 20.0,
                _ => 30.0,
            })
            .collect();
        let v: Vec<f64> = cur.iter().map(|&i| 4.0 - 0.002 * i).collect();
        let mut log = BatteryLog::with_time(t);
        log.current_a = Some(cur);
        log.voltage_v = Some(v);
        let ev = dcir_events(&log, &DcirParams::default()).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].row, 20);
        assert_relative_eq!(ev[0].r_ohm, 0.002, epsilon = 1e-12);
    }
}
