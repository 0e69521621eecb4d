//! Per-cycle summary of a [`BatteryLog`]: capacities, energies, efficiencies, voltage and temperature
//! statistics, duration, DCIR and SOH.
//!
//! # Method
//! - **Cycles** are the distinct values of `cycle_index`, reported in increasing order. A log without a
//!   cycle index is one cycle, numbered 1. Rows whose cycle index is missing belong to no cycle.
//! - Only the intervals between **consecutive rows of the same cycle** are integrated; the interval
//!   between the last row of a cycle and the first row of the next belongs to neither (cyclers log a row
//!   at every step change, so it is normally empty). Intervals longer than `max_gap_s` (when set), with a
//!   non-finite or backwards time, are skipped.
//! - **Capacity and energy** come from the cycler's cumulative columns when present
//!   ([`CapacitySource::Auto`]): the throughput of a counter in a cycle is the sum of its increments
//!   between consecutive finite values. A decrease to less than half of the previous value is a **reset**
//!   (per step or per cycle, as cyclers do) and counts the new value from zero; a smaller decrease is noise
//!   and counts nothing. The value at the first row of a cycle is the starting point, not counted (a log
//!   starting mid-cycle does not inherit the counter's past). Without counters, capacity is the trapezoidal
//!   integral of the current (positive part → discharge, negative part → charge, split exactly at zero
//!   crossings of the linear interpolant) and energy that of the power `V·I`.
//! - **Efficiencies**: coulombic = Q_dis/Q_chg, energy = E_dis/E_chg, only when both are > 0 (NaN
//!   otherwise; a charge-only cycle has no efficiency).
//! - **Voltage/temperature**: min and max over finite samples; the mean is time-weighted (trapezoid over
//!   the cycle's intervals), or the plain sample mean when the cycle spans no time.
//! - **Duration**: last minus first finite time of the cycle.
//! - **DCIR**: the median of the cycle's [`super::dcir_events`] (method there); NaN if none.
//! - **SOH** = Q_dis / reference capacity, where the reference is `nominal_capacity_ah` when given, else the
//!   discharge capacity of the first **full** cycle: the first whose discharge capacity is at least
//!   `full_cycle_fraction` × the largest discharge capacity of the log.
//!
//! Anything that cannot be computed is NaN, never zero. `meta.info` records the sources used
//! (`capacity_source`, `energy_source`, `reference_capacity_ah`, `reference_capacity_source`); the per-cycle
//! `extra` map holds `dcir_pulses` (number of steps used for DCIR).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::dcir::{self, DcirParams, DcirValidParams};
use super::FeatureError;
use crate::data::{BatteryLog, CycleRecord, CycleSummary, LogMeta};
use crate::params::{ParamError, ParamGuard};

/// Where capacities and energies come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CapacitySource {
    /// The cycler's cumulative columns when the cycle has them, otherwise integration.
    #[default]
    Auto,
    /// Only the cumulative columns (NaN without them).
    Counters,
    /// Always integrate current (and power) over time.
    Integrate,
}

/// Validated per-cycle feature parameters (see [`CycleFeatureParams`] for the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CycleFeatureValidParams {
    pub(crate) capacity_source: CapacitySource,
    pub(crate) nominal_capacity_ah: Option<f64>,
    pub(crate) full_cycle_fraction: f64,
    pub(crate) temperature_channel: Option<String>,
    pub(crate) max_gap_s: Option<f64>,
    pub(crate) dcir: DcirValidParams,
}

impl Default for CycleFeatureValidParams {
    fn default() -> Self {
        Self {
            capacity_source: CapacitySource::Auto,
            nominal_capacity_ah: None,
            full_cycle_fraction: 0.8,
            temperature_channel: None,
            max_gap_s: None,
            dcir: DcirValidParams::default(),
        }
    }
}

impl CycleFeatureValidParams {
    /// Where capacities and energies come from.
    pub fn capacity_source(&self) -> CapacitySource {
        self.capacity_source
    }
    /// Explicit reference capacity for SOH (Ah), if any.
    pub fn nominal_capacity_ah(&self) -> Option<f64> {
        self.nominal_capacity_ah
    }
    /// Fraction of the largest discharge capacity that makes a cycle "full".
    pub fn full_cycle_fraction(&self) -> f64 {
        self.full_cycle_fraction
    }
    /// Temperature channel used (by name); `None` = the first.
    pub fn temperature_channel(&self) -> Option<&str> {
        self.temperature_channel.as_deref()
    }
    /// Longest interval integrated (s); `None` = no limit.
    pub fn max_gap_s(&self) -> Option<f64> {
        self.max_gap_s
    }
    /// DCIR parameters.
    pub fn dcir(&self) -> &DcirValidParams {
        &self.dcir
    }

    fn validate(&self) -> Result<(), ParamError> {
        if let Some(q) = self.nominal_capacity_ah {
            crate::params::positive("nominal_capacity_ah", q)?;
        }
        if !(self.full_cycle_fraction > 0.0 && self.full_cycle_fraction <= 1.0) {
            return Err(ParamError::invalid(
                "full_cycle_fraction",
                self.full_cycle_fraction,
                "must be in (0, 1]",
            ));
        }
        if let Some(g) = self.max_gap_s {
            crate::params::positive("max_gap_s", g)?;
        }
        self.dcir.validate()
    }
}

/// Per-cycle feature parameters (unchecked builder).
///
/// Defaults: `capacity_source = Auto`, no `nominal_capacity_ah` (reference = first full cycle),
/// `full_cycle_fraction = 0.8`, first temperature channel, no `max_gap_s`, DCIR defaults of
/// [`DcirParams`] (10 s, 0.2 A, discharge steps).
///
/// # Examples
/// ```
/// use battsentinel_core::features::CycleFeatureParams;
/// use battsentinel_core::ParamGuard;
/// let p = CycleFeatureParams::default().nominal_capacity_ah(1.1).check().unwrap();
/// assert_eq!(p.nominal_capacity_ah(), Some(1.1));
/// assert!(CycleFeatureParams::default().nominal_capacity_ah(-1.0).check().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CycleFeatureParams(CycleFeatureValidParams);

impl CycleFeatureParams {
    /// Sets where capacities come from.
    pub fn capacity_source(mut self, v: CapacitySource) -> Self {
        self.0.capacity_source = v;
        self
    }
    /// Sets the reference capacity for SOH (Ah, > 0).
    pub fn nominal_capacity_ah(mut self, v: f64) -> Self {
        self.0.nominal_capacity_ah = Some(v);
        self
    }
    /// Sets the fraction of the largest discharge capacity that makes a cycle "full" (in (0, 1]).
    pub fn full_cycle_fraction(mut self, v: f64) -> Self {
        self.0.full_cycle_fraction = v;
        self
    }
    /// Uses the temperature channel of this name.
    pub fn temperature_channel(mut self, v: impl Into<String>) -> Self {
        self.0.temperature_channel = Some(v.into());
        self
    }
    /// Skips intervals longer than this (s, > 0).
    pub fn max_gap_s(mut self, v: f64) -> Self {
        self.0.max_gap_s = Some(v);
        self
    }
    /// Sets the DCIR parameters.
    pub fn dcir(mut self, v: DcirParams) -> Self {
        self.0.dcir = v.0;
        self
    }
}

impl ParamGuard for CycleFeatureParams {
    type Checked = CycleFeatureValidParams;
    fn check_ref(&self) -> Result<&CycleFeatureValidParams, ParamError> {
        self.0.validate()?;
        Ok(&self.0)
    }
    fn check(self) -> Result<CycleFeatureValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for CycleFeatureValidParams {
    type Checked = CycleFeatureValidParams;
    fn check_ref(&self) -> Result<&CycleFeatureValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
    fn check(self) -> Result<CycleFeatureValidParams, ParamError> {
        self.validate()?;
        Ok(self)
    }
}

/// Integral of the positive and of the negative part (as a positive number) of the linear interpolant
/// between `a` and `b` over `dt`.
#[inline]
pub(crate) fn split_trapezoid(a: f64, b: f64, dt: f64) -> (f64, f64) {
    if a >= 0.0 && b >= 0.0 {
        (0.5 * (a + b) * dt, 0.0)
    } else if a <= 0.0 && b <= 0.0 {
        (0.0, -0.5 * (a + b) * dt)
    } else {
        let tc = a / (a - b) * dt;
        if a > 0.0 {
            (0.5 * a * tc, -0.5 * b * (dt - tc))
        } else {
            (0.5 * b * (dt - tc), -0.5 * a * tc)
        }
    }
}

/// A cumulative counter's throughput within one cycle.
#[derive(Debug, Clone, Copy, Default)]
struct Counter {
    last: Option<f64>,
    sum: f64,
    steps: usize,
}

impl Counter {
    #[inline]
    fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        if let Some(l) = self.last {
            let inc = if x >= l {
                x - l
            } else if x < 0.5 * l {
                x.max(0.0) // reset: counted from zero
            } else {
                0.0 // small decrease: noise
            };
            self.sum += inc;
            self.steps += 1;
        }
        self.last = Some(x);
    }
    fn value(&self) -> Option<f64> {
        (self.steps > 0).then_some(self.sum)
    }
}

#[derive(Debug, Clone, Copy)]
struct Stat {
    min: f64,
    max: f64,
    sum: f64,
    n: usize,
    tw_sum: f64,
    tw_t: f64,
}

impl Default for Stat {
    fn default() -> Self {
        Self { min: f64::INFINITY, max: f64::NEG_INFINITY, sum: 0.0, n: 0, tw_sum: 0.0, tw_t: 0.0 }
    }
}

impl Stat {
    #[inline]
    fn push(&mut self, x: f64) {
        if x.is_finite() {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
            self.sum += x;
            self.n += 1;
        }
    }
    #[inline]
    fn interval(&mut self, a: f64, b: f64, dt: f64) {
        if a.is_finite() && b.is_finite() {
            self.tw_sum += 0.5 * (a + b) * dt;
            self.tw_t += dt;
        }
    }
    fn min(&self) -> f64 {
        if self.n > 0 {
            self.min
        } else {
            f64::NAN
        }
    }
    fn max(&self) -> f64 {
        if self.n > 0 {
            self.max
        } else {
            f64::NAN
        }
    }
    fn mean(&self) -> f64 {
        if self.tw_t > 0.0 {
            self.tw_sum / self.tw_t
        } else if self.n > 0 {
            self.sum / self.n as f64
        } else {
            f64::NAN
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    t_first: Option<f64>,
    t_last: f64,
    counters: [Counter; 4], // q_chg, q_dis, e_chg, e_dis
    q_chg: f64,
    q_dis: f64,
    e_chg: f64,
    e_dis: f64,
    q_intervals: usize,
    e_intervals: usize,
    v: Stat,
    temp: Stat,
    dcir: Vec<f64>,
}

/// The per-cycle table of a log (see the module docs for every definition).
///
/// Takes [`CycleFeatureParams`] or already validated [`CycleFeatureValidParams`].
///
/// # Errors
/// [`FeatureError::Params`] on invalid params, [`FeatureError::LengthMismatch`] on an inconsistent log,
/// [`FeatureError::NotEnoughData`] on an empty log, [`FeatureError::MissingChannel`] when a named
/// temperature channel is absent.
///
/// # Examples
/// ```
/// use battsentinel_core::{BatteryLog, features::{cycle_summary, CycleFeatureParams}};
/// // One hour at 2 A discharge, sampled every 10 s: 2 Ah.
/// let t: Vec<f64> = (0..=360).map(|k| 10.0 * f64::from(k)).collect();
/// let mut log = BatteryLog::with_time(t.clone());
/// log.current_a = Some(vec![2.0; t.len()]);
/// log.voltage_v = Some(vec![3.6; t.len()]);
/// let s = cycle_summary(&log, &CycleFeatureParams::default().nominal_capacity_ah(2.5)).unwrap();
/// assert_eq!(s.cycles.len(), 1);
/// assert!((s.cycles[0].discharge_capacity_ah - 2.0).abs() < 1e-12);
/// assert!((s.cycles[0].discharge_energy_wh - 7.2).abs() < 1e-9);
/// assert!((s.cycles[0].soh - 0.8).abs() < 1e-12);
/// assert!(s.cycles[0].coulombic_efficiency.is_nan()); // no charge in this cycle
/// ```
pub fn cycle_summary<P>(log: &BatteryLog, params: &P) -> Result<CycleSummary, FeatureError>
where
    P: ParamGuard<Checked = CycleFeatureValidParams>,
{
    let p = params.check_ref()?;
    log.validate()?;
    let n = log.len();
    if n == 0 {
        return Err(FeatureError::NotEnoughData { what: "cycle summary", needed: 1, found: 0 });
    }
    let temp: Option<&[f64]> = match &p.temperature_channel {
        Some(name) => {
            Some(log.temperatures_c.iter().find(|c| &c.name == name).map(|c| c.values.as_slice()).ok_or(
                FeatureError::MissingChannel { channel: "temperature", needed_for: "cycle summary" },
            )?)
        }
        None => log.temperature_c(),
    };
    let t = &log.time_s;
    let v = log.voltage_v.as_deref();
    let cur = log.current_a.as_deref();
    let cyc = log.cycle_index.as_deref();
    let cycle_of = |k: usize| -> Option<u32> {
        match cyc {
            Some(c) => c[k],
            None => Some(1),
        }
    };
    let use_counters = p.capacity_source != CapacitySource::Integrate;
    let counter_cols: [Option<&[f64]>; 4] = if use_counters {
        [
            log.charge_capacity_ah.as_deref(),
            log.discharge_capacity_ah.as_deref(),
            log.charge_energy_wh.as_deref(),
            log.discharge_energy_wh.as_deref(),
        ]
    } else {
        [None; 4]
    };
    let max_gap = p.max_gap_s.unwrap_or(f64::INFINITY);

    let mut slot_of: BTreeMap<u32, usize> = BTreeMap::new();
    let mut accs: Vec<(u32, Acc)> = Vec::new();
    let mut prev: Option<(u32, usize)> = None; // (cycle, slot) of the previous row
    for k in 0..n {
        let Some(c) = cycle_of(k) else {
            prev = None;
            continue;
        };
        let slot = match prev {
            Some((pc, ps)) if pc == c => ps,
            _ => *slot_of.entry(c).or_insert_with(|| {
                accs.push((c, Acc::default()));
                accs.len() - 1
            }),
        };
        let same_cycle_pair = matches!(prev, Some((pc, _)) if pc == c);
        let a = &mut accs[slot].1;
        let tk = t[k];
        if tk.is_finite() {
            if a.t_first.is_none() {
                a.t_first = Some(tk);
            }
            a.t_last = tk;
        }
        if let Some(v) = v {
            a.v.push(v[k]);
        }
        if let Some(tc) = temp {
            a.temp.push(tc[k]);
        }
        for (ctr, col) in a.counters.iter_mut().zip(counter_cols.iter()) {
            if let Some(col) = col {
                ctr.push(col[k]);
            }
        }
        if same_cycle_pair {
            let dt = tk - t[k - 1];
            if dt.is_finite() && dt >= 0.0 && dt <= max_gap {
                if let Some(cur) = cur {
                    let (i0, i1) = (cur[k - 1], cur[k]);
                    if i0.is_finite() && i1.is_finite() {
                        let (pos, neg) = split_trapezoid(i0, i1, dt);
                        a.q_dis += pos;
                        a.q_chg += neg;
                        a.q_intervals += 1;
                        if let Some(v) = v {
                            let (p0, p1) = (v[k - 1] * i0, v[k] * i1);
                            if p0.is_finite() && p1.is_finite() {
                                let (pos, neg) = split_trapezoid(p0, p1, dt);
                                a.e_dis += pos;
                                a.e_chg += neg;
                                a.e_intervals += 1;
                            }
                        }
                    }
                }
                if let Some(v) = v {
                    a.v.interval(v[k - 1], v[k], dt);
                }
                if let Some(tc) = temp {
                    a.temp.interval(tc[k - 1], tc[k], dt);
                }
            }
        }
        prev = Some((c, slot));
    }

    // DCIR events, grouped by cycle.
    let mut dcir_note = None;
    if let (Some(v), Some(cur)) = (v, cur) {
        let cycles_owned: Option<Vec<Option<u32>>> = match cyc {
            Some(_) => None,
            None => Some(vec![Some(1); n]),
        };
        let cyc_ref = cyc.or(cycles_owned.as_deref());
        for ev in dcir::detect(t, v, cur, cyc_ref, &p.dcir) {
            if let Some(slot) = ev.cycle.and_then(|c| slot_of.get(&c)) {
                accs[*slot].1.dcir.push(ev.r_ohm);
            }
        }
    } else {
        dcir_note = Some("DCIR not computed: the log needs both voltage and current");
    }

    accs.sort_by_key(|(c, _)| *c);
    let mut q_src = BTreeMap::<&str, usize>::new();
    let mut e_src = BTreeMap::<&str, usize>::new();
    let mut records: Vec<CycleRecord> = accs
        .into_iter()
        .map(|(c, a)| {
            let mut r = CycleRecord::empty(c);
            let integ_q = p.capacity_source != CapacitySource::Counters && a.q_intervals > 0;
            let integ_e = p.capacity_source != CapacitySource::Counters && a.e_intervals > 0;
            let pick = |ctr: &Counter, integ: bool, val: f64| -> (f64, &'static str) {
                match ctr.value() {
                    Some(x) => (x, "cumulative_columns"),
                    None if integ => (val / 3600.0, "integrated"),
                    None => (f64::NAN, "none"),
                }
            };
            let (qc, s1) = pick(&a.counters[0], integ_q, a.q_chg);
            let (qd, s2) = pick(&a.counters[1], integ_q, a.q_dis);
            let (ec, s3) = pick(&a.counters[2], integ_e, a.e_chg);
            let (ed, s4) = pick(&a.counters[3], integ_e, a.e_dis);
            for s in [s1, s2] {
                *q_src.entry(s).or_default() += 1;
            }
            for s in [s3, s4] {
                *e_src.entry(s).or_default() += 1;
            }
            r.charge_capacity_ah = qc;
            r.discharge_capacity_ah = qd;
            r.charge_energy_wh = ec;
            r.discharge_energy_wh = ed;
            r.coulombic_efficiency = ratio(qd, qc);
            r.energy_efficiency = ratio(ed, ec);
            r.voltage_min_v = a.v.min();
            r.voltage_max_v = a.v.max();
            r.voltage_mean_v = a.v.mean();
            r.temperature_min_c = a.temp.min();
            r.temperature_max_c = a.temp.max();
            r.temperature_mean_c = a.temp.mean();
            r.duration_s = a.t_first.map_or(f64::NAN, |t0| a.t_last - t0);
            r.dcir_ohm = median(a.dcir.clone());
            r.extra.insert("dcir_pulses".to_string(), a.dcir.len() as f64);
            r
        })
        .collect();

    // Reference capacity and SOH.
    let mut meta = LogMeta {
        format: "cycle_features".to_string(),
        source_name: log.meta.source_name.clone(),
        ..LogMeta::default()
    };
    let (q_ref, ref_src) = match p.nominal_capacity_ah {
        Some(q) => (q, "nominal".to_string()),
        None => {
            let qmax = records
                .iter()
                .map(|r| r.discharge_capacity_ah)
                .filter(|q| q.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            match records.iter().find(|r| {
                r.discharge_capacity_ah.is_finite() && r.discharge_capacity_ah >= p.full_cycle_fraction * qmax
            }) {
                Some(r) if qmax > 0.0 => (r.discharge_capacity_ah, format!("first_full_cycle:{}", r.cycle)),
                _ => (f64::NAN, "none".to_string()),
            }
        }
    };
    for r in &mut records {
        r.soh = if q_ref > 0.0 { r.discharge_capacity_ah / q_ref } else { f64::NAN };
    }
    let describe =
        |m: &BTreeMap<&str, usize>| m.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",");
    meta.info.insert("capacity_source".into(), describe(&q_src));
    meta.info.insert("energy_source".into(), describe(&e_src));
    meta.info.insert("reference_capacity_ah".into(), format!("{q_ref}"));
    meta.info.insert("reference_capacity_source".into(), ref_src);
    if let Some(w) = dcir_note {
        meta.warnings.push(w.to_string());
    }
    if cur.is_none() && !counter_cols.iter().any(Option::is_some) {
        meta.warnings
            .push("capacity not computed: the log has neither current nor cumulative capacity".into());
    }
    Ok(CycleSummary { cycles: records, meta, quality: Default::default() })
}

fn ratio(num: f64, den: f64) -> f64 {
    if num > 0.0 && den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// Median of the finite values (NaN when none).
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        0.5 * (xs[m - 1] + xs[m])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Channel;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    /// Charge at `amps` for `secs`, rest, discharge at `amps` for `secs`, at constant voltage `volts`,
    /// sampled every `dt` seconds, repeated `n_cycles` times.
    fn cc_cycles(n_cycles: u32, amps: f64, secs: f64, dt: f64, volts: f64) -> BatteryLog {
        let mut t = Vec::new();
        let mut i = Vec::new();
        let mut c = Vec::new();
        let mut t0 = 0.0;
        for cyc in 1..=n_cycles {
            let steps = (secs / dt).round() as usize;
            for (cur, len) in [(-amps, steps), (0.0, 10), (amps, steps)] {
                for k in 0..=len {
                    t.push(t0 + k as f64 * dt);
                    i.push(cur);
                    c.push(Some(cyc));
                }
                t0 += len as f64 * dt; // the next step starts at the same instant
            }
        }
        let n = t.len();
        let mut log = BatteryLog::with_time(t);
        log.current_a = Some(i);
        log.voltage_v = Some(vec![volts; n]);
        log.cycle_index = Some(c);
        log.temperatures_c = vec![Channel::new("T", "°C", (0..n).map(|k| 25.0 + (k % 3) as f64).collect())];
        log
    }

    #[test]
    fn constant_current_known_capacity() {
        let log = cc_cycles(2, 1.5, 3600.0, 5.0, 3.7);
        let s = cycle_summary(&log, &CycleFeatureParams::default()).unwrap();
        assert_eq!(s.cycles.len(), 2);
        for r in &s.cycles {
            assert_relative_eq!(r.charge_capacity_ah, 1.5, epsilon = 1e-12);
            assert_relative_eq!(r.discharge_capacity_ah, 1.5, epsilon = 1e-12);
            assert_relative_eq!(r.charge_energy_wh, 1.5 * 3.7, epsilon = 1e-9);
            assert_relative_eq!(r.coulombic_efficiency, 1.0, epsilon = 1e-12);
            assert_relative_eq!(r.energy_efficiency, 1.0, epsilon = 1e-12);
            assert_relative_eq!(r.voltage_mean_v, 3.7, epsilon = 1e-12);
            assert_eq!((r.temperature_min_c, r.temperature_max_c), (25.0, 27.0));
            assert_relative_eq!(r.soh, 1.0, epsilon = 1e-12);
            assert_eq!(r.dcir_ohm, 0.0, "constant voltage: a resistance-free cell");
        }
        assert_eq!(s.meta.info["capacity_source"], "integrated:4");
        assert_eq!(s.meta.info["reference_capacity_source"], "first_full_cycle:1");
    }

    #[test]
    fn counters_with_resets_match_integration() {
        // Counters that reset at every step, as many cyclers do.
        let mut log = cc_cycles(2, 2.0, 1800.0, 10.0, 3.6);
        let (t, i) = (log.time_s.clone(), log.current_a.clone().unwrap());
        let (mut qc, mut qd) = (vec![0.0; t.len()], vec![0.0; t.len()]);
        for k in 1..t.len() {
            let same_step = i[k] == i[k - 1];
            let dq = 0.5 * (i[k] + i[k - 1]) * (t[k] - t[k - 1]) / 3600.0;
            qd[k] = if same_step { qd[k - 1] + dq.max(0.0) } else { 0.0 };
            qc[k] = if same_step { qc[k - 1] + (-dq).max(0.0) } else { 0.0 };
        }
        log.charge_capacity_ah = Some(qc);
        log.discharge_capacity_ah = Some(qd);
        let s = cycle_summary(&log, &CycleFeatureParams::default()).unwrap();
        assert_eq!(s.meta.info["capacity_source"], "cumulative_columns:4");
        for r in &s.cycles {
            assert_relative_eq!(r.charge_capacity_ah, 1.0, epsilon = 1e-12);
            assert_relative_eq!(r.discharge_capacity_ah, 1.0, epsilon = 1e-12);
            assert!(r.charge_energy_wh.is_finite(), "energy integrated from V·I without counters");
        }
        let only =
            cycle_summary(&log, &CycleFeatureParams::default().capacity_source(CapacitySource::Counters))
                .unwrap();
        assert!(only.cycles[0].charge_energy_wh.is_nan());
    }

    #[test]
    fn no_cycle_index_is_one_cycle_and_missing_is_nan() {
        let mut log = cc_cycles(3, 1.0, 600.0, 10.0, 3.7);
        log.cycle_index = None;
        log.temperatures_c.clear();
        log.voltage_v = None;
        let s = cycle_summary(&log, &CycleFeatureParams::default().nominal_capacity_ah(2.0)).unwrap();
        assert_eq!(s.cycles.len(), 1);
        let r = &s.cycles[0];
        assert_eq!(r.cycle, 1);
        // Three cycles' discharges (step changes are instantaneous).
        assert_relative_eq!(r.discharge_capacity_ah, 0.5, epsilon = 1e-9);
        assert_relative_eq!(r.soh, 0.25, epsilon = 1e-9);
        assert!(r.voltage_mean_v.is_nan() && r.temperature_max_c.is_nan() && r.charge_energy_wh.is_nan());
        assert!(r.dcir_ohm.is_nan());
    }

    #[test]
    fn dcir_per_cycle_and_errors() {
        // A 10 A discharge pulse after rest through 3 mΩ in cycle 2 only.
        let t: Vec<f64> = (0..100).map(f64::from).collect();
        let cur: Vec<f64> = t.iter().map(|&t| if (60.0..80.0).contains(&t) { 10.0 } else { 0.0 }).collect();
        let v: Vec<f64> = cur.iter().map(|i| 3.7 - 0.003 * i).collect();
        let mut log = BatteryLog::with_time(t.clone());
        log.current_a = Some(cur);
        log.voltage_v = Some(v);
        log.cycle_index = Some(t.iter().map(|&t| Some(if t < 50.0 { 1 } else { 2 })).collect());
        let s = cycle_summary(&log, &CycleFeatureParams::default()).unwrap();
        assert!(s.cycles[0].dcir_ohm.is_nan());
        assert_relative_eq!(s.cycles[1].dcir_ohm, 0.003, epsilon = 1e-12);
        assert_eq!(s.cycles[1].extra["dcir_pulses"], 1.0);
        assert!(s.cycles[0].coulombic_efficiency.is_nan(), "rest-only cycle: no efficiency, not zero");
        assert_eq!(
            cycle_summary(&BatteryLog::default(), &CycleFeatureParams::default()).unwrap_err().code(),
            "not_enough_data"
        );
        let mut bad = log.clone();
        bad.voltage_v = Some(vec![1.0]);
        assert_eq!(
            cycle_summary(&bad, &CycleFeatureParams::default()).unwrap_err().code(),
            "log_length_mismatch"
        );
        assert_eq!(
            cycle_summary(&log, &CycleFeatureParams::default().temperature_channel("nope"))
                .unwrap_err()
                .code(),
            "missing_channel"
        );
    }

    #[test]
    fn split_trapezoid_zero_crossing() {
        // From +2 to −2 over 4 s: 2 A·s each way.
        let (p, n) = split_trapezoid(2.0, -2.0, 4.0);
        assert_relative_eq!(p, 2.0);
        assert_relative_eq!(n, 2.0);
    }

    #[test]
    fn params_serde_round_trip() {
        let p = CycleFeatureParams::default().nominal_capacity_ah(1.1).max_gap_s(60.0);
        let js = serde_json::to_string(&p).unwrap();
        let back: CycleFeatureParams = serde_json::from_str(&js).unwrap();
        assert_eq!(p, back);
        assert!(serde_json::from_str::<CycleFeatureParams>(r#"{"bogus": 1}"#).is_err());
    }

    #[test]
    fn autotraits() {
        fn is<T: Send + Sync + Clone + std::fmt::Debug>() {}
        is::<CycleFeatureParams>();
        is::<CycleFeatureValidParams>();
    }

    proptest! {
        #[test]
        fn capacities_non_negative_and_lossless_is_one(
            currents in proptest::collection::vec(-20.0f64..20.0, 2..200),
            dts in proptest::collection::vec(0.0f64..30.0, 2..200),
        ) {
            let n = currents.len().min(dts.len());
            let mut t = Vec::with_capacity(n);
            let mut acc = 0.0;
            for dt in &dts[..n] { acc += dt; t.push(acc); }
            let mut log = BatteryLog::with_time(t.clone());
            log.current_a = Some(currents[..n].to_vec());
            log.voltage_v = Some(vec![3.7; n]);
            let s = cycle_summary(&log, &CycleFeatureParams::default()).unwrap();
            let r = &s.cycles[0];
            prop_assert!(r.charge_capacity_ah >= 0.0 && r.discharge_capacity_ah >= 0.0);
            prop_assert!(r.charge_energy_wh >= 0.0 && r.discharge_energy_wh >= 0.0);
            // Net charge equals the signed integral.
            let signed: f64 = (1..n).map(|k| 0.5 * (currents[k] + currents[k-1]) * (t[k] - t[k-1])).sum::<f64>() / 3600.0;
            prop_assert!((r.discharge_capacity_ah - r.charge_capacity_ah - signed).abs() < 1e-9);

            // Lossless: |I| profile (zero at both ends) charged, then the same profile discharged.
            let mut mag: Vec<f64> = currents[..n].iter().map(|i| i.abs()).collect();
            mag[0] = 0.0;
            mag[n - 1] = 0.0;
            let t_end = t[n - 1];
            let mut t2 = t.clone();
            let mut i2: Vec<f64> = mag.iter().map(|m| -m).collect();
            for k in 0..n { t2.push(t_end + 1.0 + (t[k] - t[0])); i2.push(mag[k]); }
            let mut lossless = BatteryLog::with_time(t2);
            lossless.current_a = Some(i2);
            lossless.voltage_v = Some(vec![3.7; 2 * n]);
            let r = cycle_summary(&lossless, &CycleFeatureParams::default()).unwrap().cycles[0].clone();
            if r.charge_capacity_ah > 1e-9 {
                prop_assert!((r.coulombic_efficiency - 1.0).abs() < 1e-9);
                prop_assert!((r.energy_efficiency - 1.0).abs() < 1e-9);
            }
        }
    }
}
