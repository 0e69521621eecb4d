//! Windows of a log and their features (see the [`super`] module docs for the list and the method).

use serde::{Deserialize, Serialize};

use crate::data::BatteryLog;
use crate::features::FeatureError;

/// Names of the window features, in column order (see the module docs of [`super`]).
pub const FEATURE_NAMES: [&str; 31] = [
    "v_max_norm",
    "v_min_norm",
    "v_mean_norm",
    "v_std_norm",
    "discharge_c_rate",
    "charge_c_rate",
    "discharged_fraction",
    "charged_fraction",
    "coulombic_efficiency",
    "resistance_norm_ohm_ah",
    "has_resistance",
    "rest_slope_norm_per_h",
    "v_noise_norm",
    "v_jump_max_norm",
    "t_rise_k",
    "t_rise_per_heat_k",
    "dtdt_max_k_per_h",
    "dtdt_rest_k_per_h",
    "t_noise_k",
    "t_jump_max_k",
    "has_temperature",
    "t_missing_fraction",
    "v_missing_fraction",
    "i_missing_fraction",
    "v_invalid_fraction",
    "v_stuck_fraction",
    "t_stuck_fraction",
    "has_cell_voltages",
    "cell_spread_max_norm",
    "cell_spread_mean_norm",
    "t_invalid_fraction",
];

/// Number of window features.
pub const N_FEATURES: usize = FEATURE_NAMES.len();

/// How a log's values were normalised: nominal capacity (for C-rates and SOH), the per-cell voltage window
/// (`V_norm = (V/n_series − v_min_v)/(v_max_v − v_min_v)`) and the number of cells in series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogScale {
    /// Nominal capacity (Ah).
    pub nominal_capacity_ah: f64,
    /// Lower voltage limit per cell (V).
    pub v_min_v: f64,
    /// Upper voltage limit per cell (V).
    pub v_max_v: f64,
    /// Cells in series.
    pub n_series: usize,
    /// Where each value came from: `"given"`, `"log"` (the log's `meta.info`) or `"inferred"`, in the order
    /// capacity, voltage window, cells in series.
    pub sources: [String; 3],
}

/// A span of rows analysed together: one cycle, or one sliding window when the log has no cycle index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSpan {
    /// First row (inclusive).
    pub start_row: usize,
    /// Last row (exclusive).
    pub end_row: usize,
    /// Cycle number when the window is a cycle.
    pub cycle: Option<u32>,
}

fn finite(x: f64) -> bool {
    x.is_finite()
}

/// Splits a log into windows: contiguous runs of one cycle index when the log has one (rows without an
/// index join the current run), otherwise windows of `window_s` seconds advancing by half a window. Windows
/// with fewer than `min_rows` rows are merged into their predecessor (or dropped when first and alone).
pub(crate) fn windows(log: &BatteryLog, window_s: f64, min_rows: usize) -> Vec<WindowSpan> {
    let n = log.len();
    let mut out: Vec<WindowSpan> = Vec::new();
    let has_cycles = log.cycle_index.as_ref().is_some_and(|c| c.iter().any(Option::is_some));
    if has_cycles {
        let c = log.cycle_index.as_deref().unwrap_or(&[]);
        let mut cur: Option<u32> = None;
        let mut start = 0;
        for (k, ck) in c.iter().enumerate() {
            if let Some(ck) = *ck {
                if cur.is_some_and(|x| x != ck) {
                    out.push(WindowSpan { start_row: start, end_row: k, cycle: cur });
                    start = k;
                }
                cur = Some(ck);
            }
        }
        if start < n {
            out.push(WindowSpan { start_row: start, end_row: n, cycle: cur });
        }
    } else {
        let t = &log.time_s;
        let mut start = 0;
        while start < n {
            let t0 = t[start];
            let mut end = start;
            while end < n && !(t[end] - t0 >= window_s) {
                end += 1;
            }
            out.push(WindowSpan { start_row: start, end_row: end, cycle: None });
            if end >= n {
                break;
            }
            let mut next = start + 1;
            while next < end && t[next] - t0 < 0.5 * window_s {
                next += 1;
            }
            start = next.max(start + 1);
        }
    }
    // Merge short windows.
    let mut merged: Vec<WindowSpan> = Vec::new();
    for w in out {
        if w.end_row - w.start_row < min_rows {
            if let Some(last) = merged.last_mut() {
                if log.cycle_index.is_some() {
                    last.end_row = last.end_row.max(w.end_row);
                }
                continue;
            }
            if w.end_row < n {
                continue;
            }
        }
        merged.push(w);
    }
    merged
}

fn info_f64(log: &BatteryLog, key: &str) -> Option<f64> {
    log.meta.info.get(key).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite() && *v > 0.0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let k = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[k.min(v.len() - 1)]
}

/// Resolves the normalisation of `log`: given values first, then `meta.info` (`capacity_ah`, `v_min_v`,
/// `v_max_v`, `n_series`), then inference — cells in series from the median voltage (`round(median/3.7)`
/// when above 4.5 V, else 1), the voltage window from the 99.5th percentile of the per-cell voltage (≤ 3.75 V:
/// LFP, 2.0–3.65 V; else 2.5–4.2 V), the capacity as the largest charge passed in one direction within a
/// window (integrated current).
pub(crate) fn resolve_scale(
    log: &BatteryLog,
    given_capacity_ah: Option<f64>,
    given_window_v: Option<(f64, f64)>,
    given_n_series: Option<usize>,
    spans: &[WindowSpan],
) -> Result<LogScale, FeatureError> {
    let v = log
        .voltage_v
        .as_deref()
        .ok_or(FeatureError::MissingChannel { channel: "voltage_v", needed_for: "fault detection" })?;
    let mut finite_v: Vec<f64> = v.iter().copied().filter(|x| finite(*x) && *x > 0.0).collect();
    if finite_v.len() < 2 {
        return Err(FeatureError::NotEnoughData {
            what: "fault detection (positive, finite voltages)",
            needed: 2,
            found: finite_v.len(),
        });
    }
    let median = percentile(&mut finite_v, 50.0);
    let (n_series, s_src) = match (given_n_series, info_f64(log, "n_series")) {
        (Some(n), _) => (n.max(1), "given"),
        (None, Some(n)) => ((n.round() as usize).max(1), "log"),
        (None, None) => (if median > 4.5 { (median / 3.7).round().max(1.0) as usize } else { 1 }, "inferred"),
    };
    let (window, w_src) = match (given_window_v, info_f64(log, "v_min_v"), info_f64(log, "v_max_v")) {
        (Some(w), _, _) => (w, "given"),
        (None, Some(lo), Some(hi)) if hi > lo => ((lo, hi), "log"),
        _ => {
            let p995 = percentile(&mut finite_v, 99.5) / n_series as f64;
            (if p995 <= 3.75 { (2.0, 3.65) } else { (2.5, 4.2) }, "inferred")
        }
    };
    let (capacity, c_src) = match (given_capacity_ah, info_f64(log, "capacity_ah")) {
        (Some(q), _) => (q, "given"),
        (None, Some(q)) => (q, "log"),
        (None, None) => {
            let mut best: f64 = 0.0;
            if let Some(i) = log.current_a.as_deref() {
                for w in spans {
                    let (qd, qc) = charge_passed(&log.time_s, i, w.start_row, w.end_row);
                    best = best.max(qd).max(qc);
                }
            }
            (if best > 0.0 { best } else { 1.0 }, "inferred")
        }
    };
    Ok(LogScale {
        nominal_capacity_ah: capacity,
        v_min_v: window.0,
        v_max_v: window.1,
        n_series,
        sources: [c_src.to_string(), w_src.to_string(), s_src.to_string()],
    })
}

/// Charge discharged and charged (Ah) over rows `[a, b)`, the current held over each interval.
fn charge_passed(t: &[f64], i: &[f64], a: usize, b: usize) -> (f64, f64) {
    let (mut qd, mut qc) = (0.0, 0.0);
    for k in a + 1..b {
        let dt = t[k] - t[k - 1];
        if !(dt.is_finite() && dt > 0.0 && dt < 3600.0) || !i[k].is_finite() {
            continue;
        }
        let dq = i[k] * dt / 3600.0;
        if dq > 0.0 {
            qd += dq;
        } else {
            qc -= dq;
        }
    }
    (qd, qc)
}

/// Longest run of identical consecutive finite values among the rows where `mask` holds, as a fraction of
/// the window length.
fn stuck_fraction(x: &[f64], mask: impl Fn(usize) -> bool) -> f64 {
    let (mut best, mut run) = (0usize, 0usize);
    for k in 1..x.len() {
        if mask(k) && x[k].is_finite() && x[k] == x[k - 1] {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    if x.is_empty() {
        0.0
    } else {
        best as f64 / x.len() as f64
    }
}

/// Median absolute second difference (a robust noise level) and largest absolute first difference.
fn noise_and_jump(x: &[f64]) -> (f64, f64) {
    let mut d2: Vec<f64> = x
        .windows(3)
        .filter(|w| w.iter().all(|v| v.is_finite()))
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .collect();
    let jump = x
        .windows(2)
        .filter(|w| w[0].is_finite() && w[1].is_finite())
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    let noise = if d2.is_empty() { 0.0 } else { percentile(&mut d2, 50.0) };
    (noise, jump)
}

/// The temperature channel used: the one with the most finite values (the first on a tie).
pub(crate) fn temperature_channel(log: &BatteryLog) -> Option<&[f64]> {
    log.temperatures_c
        .iter()
        .enumerate()
        .max_by_key(|(k, c)| (c.values.iter().filter(|x| x.is_finite()).count(), usize::MAX - k))
        .map(|(_, c)| c.values.as_slice())
}

/// Per-cell voltage channels: extra channels in volts whose name starts with "cell".
fn cell_channels(log: &BatteryLog) -> Vec<&[f64]> {
    log.extra
        .iter()
        .filter(|c| c.unit == "V" && c.name.to_ascii_lowercase().starts_with("cell"))
        .map(|c| c.values.as_slice())
        .collect()
}

/// The features of rows `[a, b)` (finite by construction; missing quantities get the documented neutral
/// value and an indicator).
pub(crate) fn window_features(log: &BatteryLog, s: &LogScale, w: &WindowSpan) -> [f64; N_FEATURES] {
    let (a, b) = (w.start_row, w.end_row);
    let m = (b - a).max(1) as f64;
    let t = &log.time_s[a..b];
    let span = s.v_max_v - s.v_min_v;
    let ns = s.n_series as f64;
    let q = s.nominal_capacity_ah;
    let vraw = log.voltage_v.as_deref().map(|v| &v[a..b]).unwrap_or(&[]);
    let vn: Vec<f64> = vraw.iter().map(|&v| (v / ns - s.v_min_v) / span).collect();
    let iraw: Vec<f64> =
        log.current_a.as_deref().map(|i| i[a..b].to_vec()).unwrap_or_else(|| vec![f64::NAN; b - a]);
    let c: Vec<f64> = iraw.iter().map(|&i| i / q).collect();
    let mut f = [0.0; N_FEATURES];
    let good_v: Vec<f64> = vn.iter().copied().filter(|x| x.is_finite() && *x > -1.0 && *x < 2.0).collect();
    if !good_v.is_empty() {
        let mean = good_v.iter().sum::<f64>() / good_v.len() as f64;
        let var = good_v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / good_v.len() as f64;
        f[0] = good_v.iter().copied().fold(f64::MIN, f64::max);
        f[1] = good_v.iter().copied().fold(f64::MAX, f64::min);
        f[2] = mean;
        f[3] = var.sqrt();
    }
    let dis: Vec<f64> = c.iter().copied().filter(|x| *x > 0.02).collect();
    let chg: Vec<f64> = c.iter().copied().filter(|x| *x < -0.02).collect();
    f[4] = if dis.is_empty() { 0.0 } else { dis.iter().sum::<f64>() / dis.len() as f64 };
    f[5] = if chg.is_empty() { 0.0 } else { -chg.iter().sum::<f64>() / chg.len() as f64 };
    let (qd, qc) = charge_passed(t, &iraw, 0, b - a);
    f[6] = qd / q;
    f[7] = qc / q;
    f[8] = if qc > 0.05 * q && qd > 0.05 * q { (qd / qc).clamp(0.0, 2.0) } else { 1.0 };
    // Resistance from current steps larger than C/10.
    let mut rs: Vec<f64> = Vec::new();
    for k in 1..vraw.len() {
        let di = iraw[k] - iraw[k - 1];
        let dv = vraw[k] - vraw[k - 1];
        if di.abs() > 0.1 * q && dv.is_finite() && vraw[k] > 0.0 && vraw[k - 1] > 0.0 {
            rs.push((dv / ns / di).abs() * q);
        }
    }
    if !rs.is_empty() {
        f[9] = percentile(&mut rs, 50.0).min(10.0);
        f[10] = 1.0;
    }
    // Rest slope: the later half of every rest run (|I| < C/100).
    let rest = |k: usize| iraw[k].is_finite() && iraw[k].abs() < 0.01 * q;
    let mut slopes = Vec::new();
    let mut k = 0;
    while k < vn.len() {
        if !rest(k) {
            k += 1;
            continue;
        }
        let start = k;
        while k < vn.len() && rest(k) {
            k += 1;
        }
        let mid = start + (k - start) / 2;
        let (t0, t1) = (t[mid], t[k - 1]);
        if k - mid >= 3 && t1 - t0 > 300.0 && vn[mid].is_finite() && vn[k - 1].is_finite() {
            slopes.push((vn[k - 1] - vn[mid]) / ((t1 - t0) / 3600.0));
        }
    }
    if !slopes.is_empty() {
        f[11] = slopes.iter().sum::<f64>() / slopes.len() as f64;
    }
    let (vnoise, vjump) = noise_and_jump(&vn);
    f[12] = vnoise.min(5.0);
    f[13] = vjump.min(5.0);
    // Temperature.
    let dt_med = {
        let mut d: Vec<f64> =
            t.windows(2).map(|w| w[1] - w[0]).filter(|d| d.is_finite() && *d > 0.0).collect();
        percentile(&mut d, 50.0)
    };
    let lag = if dt_med.is_finite() { ((300.0 / dt_med).round() as usize).max(1) } else { 1 };
    if let Some(tc) = temperature_channel(log) {
        let tc = &tc[a..b];
        f[20] = 1.0;
        let ok: Vec<f64> =
            tc.iter().copied().filter(|x| x.is_finite() && (-50.0..=150.0).contains(x)).collect();
        f[21] = tc.iter().filter(|x| !x.is_finite()).count() as f64 / m;
        f[30] = tc.iter().filter(|x| x.is_finite() && !(-50.0..=150.0).contains(*x)).count() as f64 / m;
        if ok.len() >= 2 {
            let tmax = ok.iter().copied().fold(f64::MIN, f64::max);
            let tmin = ok.iter().copied().fold(f64::MAX, f64::min);
            f[14] = tmax - tmin;
            let c2 = c.iter().filter(|x| x.is_finite()).map(|x| x * x).sum::<f64>() / m;
            f[15] = (tmax - tmin) / (c2 + 0.05);
            let (mut dmax, mut rest_sum, mut rest_n) = (0.0f64, 0.0, 0usize);
            for k in lag..tc.len() {
                let (x0, x1) = (tc[k - lag], tc[k]);
                let dtt = t[k] - t[k - lag];
                if !(x0.is_finite() && x1.is_finite() && dtt > 0.0)
                    || !(-50.0..=150.0).contains(&x0)
                    || !(-50.0..=150.0).contains(&x1)
                {
                    continue;
                }
                let r = (x1 - x0) / (dtt / 3600.0);
                dmax = dmax.max(r);
                if rest(k) && rest(k - lag) {
                    rest_sum += r;
                    rest_n += 1;
                }
            }
            f[16] = dmax.min(1e3);
            f[17] = if rest_n > 0 { (rest_sum / rest_n as f64).clamp(-1e3, 1e3) } else { 0.0 };
            let (tn, tj) = noise_and_jump(tc);
            f[18] = tn.min(100.0);
            f[19] = tj.min(500.0);
        }
        f[26] = stuck_fraction(tc, |_| true);
    }
    f[22] = vraw.iter().filter(|x| !x.is_finite()).count() as f64 / m;
    f[23] = iraw.iter().filter(|x| !x.is_finite()).count() as f64 / m;
    f[24] = vn.iter().filter(|&&x| x.is_finite() && !(x > -1.0 && x < 2.0)).count() as f64 / m;
    f[25] = stuck_fraction(vraw, |k| iraw[k].is_finite() && iraw[k].abs() > 0.02 * q);
    let cells = cell_channels(log);
    if cells.len() >= 2 {
        f[27] = 1.0;
        let (mut smax, mut ssum, mut sn) = (0.0f64, 0.0, 0usize);
        for k in a..b {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for ch in &cells {
                if ch[k].is_finite() {
                    lo = lo.min(ch[k]);
                    hi = hi.max(ch[k]);
                }
            }
            if hi >= lo {
                let d = (hi - lo) / span;
                smax = smax.max(d);
                ssum += d;
                sn += 1;
            }
        }
        f[28] = smax.min(5.0);
        f[29] = if sn > 0 { ssum / sn as f64 } else { 0.0 };
    }
    for x in &mut f {
        if !x.is_finite() {
            *x = 0.0;
        }
    }
    f
}

/// Hard data-quality checks of a window (documented in [`super`]); each fired check is a stable code.
pub(crate) fn data_checks(
    log: &BatteryLog,
    s: &LogScale,
    w: &WindowSpan,
    f: &[f64; N_FEATURES],
) -> Vec<String> {
    let mut out = Vec::new();
    let v = log.voltage_v.as_deref().map(|v| &v[w.start_row..w.end_row]).unwrap_or(&[]);
    let per_cell_max = 6.0 * s.n_series as f64;
    if v.iter().any(|x| x.is_finite() && (*x <= 0.0 || *x > per_cell_max)) {
        out.push("voltage_out_of_range".to_string());
    }
    if f[22] >= 0.2 {
        out.push("voltage_missing".to_string());
    }
    if f[23] >= 0.2 {
        out.push("current_missing".to_string());
    }
    if f[20] > 0.0 && f[21] >= 0.5 {
        let disconnected = log.quality.issues.iter().any(|i| i.code == "disconnected_sensor");
        out.push(if disconnected { "temperature_disconnected" } else { "temperature_missing" }.to_string());
    }
    if f[30] > 0.0 {
        out.push("temperature_out_of_range".to_string());
    }
    out
}
