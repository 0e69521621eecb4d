//! Time-windowed signal helpers for irregularly sampled channels: least-squares derivative (dV/dt, dT/dt)
//! and rolling statistics.
//!
//! A window is defined in **seconds**, not samples, so irregular sampling (60 s rests, 0.1 s pulses) is
//! handled. For row `i` the window holds the rows with `t` in `[tᵢ − w, tᵢ]` ([`WindowAlign::Trailing`],
//! causal: what a streaming alert sees) or `[tᵢ − w/2, tᵢ + w/2]` ([`WindowAlign::Centered`]). Time must be
//! non-decreasing; non-finite values are skipped. Each row costs O(rows in its window).

use serde::{Deserialize, Serialize};

use super::FeatureError;

/// Where the window sits relative to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WindowAlign {
    /// `[t − w, t]`: only past samples.
    #[default]
    Trailing,
    /// `[t − w/2, t + w/2]`.
    Centered,
}

/// Rolling statistics, one value per row (NaN where the window holds no finite value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingStats {
    /// Mean of the window's finite values.
    pub mean: Vec<f64>,
    /// Minimum.
    pub min: Vec<f64>,
    /// Maximum.
    pub max: Vec<f64>,
    /// Population standard deviation.
    pub std: Vec<f64>,
    /// Number of finite values in the window.
    pub count: Vec<usize>,
}

fn check(time_s: &[f64], values: &[f64], window_s: f64) -> Result<(), FeatureError> {
    if time_s.len() != values.len() {
        return Err(FeatureError::ShapeMismatch {
            left: "time_s",
            left_len: time_s.len(),
            right: "values",
            right_len: values.len(),
        });
    }
    crate::params::positive("window_s", window_s)?;
    if let Some(k) = time_s.windows(2).position(|w| !w[0].is_finite() || !w[1].is_finite() || w[1] < w[0]) {
        return Err(crate::params::ParamError::invalid(
            "time_s",
            (k + 1, time_s[k + 1]),
            "must be finite and non-decreasing",
        )
        .into());
    }
    Ok(())
}

/// Calls `f(i, lo..hi)` with each row's window of row indices.
fn for_windows(
    time_s: &[f64],
    window_s: f64,
    align: WindowAlign,
    mut f: impl FnMut(usize, std::ops::Range<usize>),
) {
    let (back, ahead) = match align {
        WindowAlign::Trailing => (window_s, 0.0),
        WindowAlign::Centered => (0.5 * window_s, 0.5 * window_s),
    };
    let (mut lo, mut hi) = (0usize, 0usize);
    for (i, &t) in time_s.iter().enumerate() {
        while time_s[lo] < t - back {
            lo += 1;
        }
        hi = hi.max(i + 1);
        while hi < time_s.len() && time_s[hi] <= t + ahead {
            hi += 1;
        }
        f(i, lo..hi);
    }
}

/// Least-squares slope of `values` against time over each row's window (units of `values` per second):
/// dV/dt, dT/dt. NaN where the window has fewer than 2 finite values or no time spread.
///
/// # Errors
/// [`FeatureError::ShapeMismatch`] for slices of different lengths; [`FeatureError::Params`] for a
/// non-positive window or a time axis that is not finite and non-decreasing.
///
/// # Examples
/// ```
/// use battsentinel_core::features::{derivative, WindowAlign};
/// let t = [0.0, 1.0, 1.5, 4.0, 10.0];
/// let temp: Vec<f64> = t.iter().map(|t| 25.0 + 0.5 * t).collect(); // 0.5 K/s
/// let d = derivative(&t, &temp, 5.0, WindowAlign::Trailing).unwrap();
/// assert!(d[0].is_nan()); // one sample only
/// assert!(d[1..].iter().all(|x| (x - 0.5).abs() < 1e-12));
/// ```
pub fn derivative(
    time_s: &[f64],
    values: &[f64],
    window_s: f64,
    align: WindowAlign,
) -> Result<Vec<f64>, FeatureError> {
    check(time_s, values, window_s)?;
    let mut out = vec![f64::NAN; values.len()];
    for_windows(time_s, window_s, align, |i, r| {
        let t0 = time_s[i];
        let (mut n, mut st, mut sv) = (0.0, 0.0, 0.0);
        for k in r.clone() {
            if values[k].is_finite() {
                n += 1.0;
                st += time_s[k] - t0;
                sv += values[k];
            }
        }
        if n < 2.0 {
            return;
        }
        let (mt, mv) = (st / n, sv / n);
        let (mut sxx, mut sxy) = (0.0, 0.0);
        for k in r {
            if values[k].is_finite() {
                let dt = time_s[k] - t0 - mt;
                sxx += dt * dt;
                sxy += dt * (values[k] - mv);
            }
        }
        if sxx > 0.0 {
            out[i] = sxy / sxx;
        }
    });
    Ok(out)
}

/// Mean, min, max, standard deviation and count over each row's time window.
///
/// # Errors
/// As [`derivative`].
///
/// # Examples
/// ```
/// use battsentinel_core::features::{rolling, WindowAlign};
/// let t = [0.0, 1.0, 2.0, 3.0];
/// let v = [1.0, f64::NAN, 3.0, 5.0];
/// let r = rolling(&t, &v, 2.0, WindowAlign::Trailing).unwrap();
/// assert_eq!(r.count, vec![1, 1, 2, 2]);
/// assert_eq!(r.mean[3], 4.0);
/// assert_eq!((r.min[2], r.max[2]), (1.0, 3.0));
/// ```
pub fn rolling(
    time_s: &[f64],
    values: &[f64],
    window_s: f64,
    align: WindowAlign,
) -> Result<RollingStats, FeatureError> {
    check(time_s, values, window_s)?;
    let n = values.len();
    let mut s = RollingStats {
        mean: vec![f64::NAN; n],
        min: vec![f64::NAN; n],
        max: vec![f64::NAN; n],
        std: vec![f64::NAN; n],
        count: vec![0; n],
    };
    for_windows(time_s, window_s, align, |i, r| {
        let (mut c, mut mean, mut m2) = (0usize, 0.0, 0.0);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &x in &values[r] {
            if x.is_finite() {
                c += 1;
                let d = x - mean;
                mean += d / c as f64;
                m2 += d * (x - mean);
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        s.count[i] = c;
        if c > 0 {
            s.mean[i] = mean;
            s.min[i] = lo;
            s.max[i] = hi;
            s.std[i] = (m2 / c as f64).sqrt();
        }
    });
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    #[test]
    fn centered_window_and_irregular_sampling() {
        let t = [0.0, 0.1, 0.2, 60.0, 120.0, 120.5, 121.0];
        let v: Vec<f64> = t.iter().map(|t| 3.0 - 0.01 * t).collect();
        let d = derivative(&t, &v, 2.0, WindowAlign::Centered).unwrap();
        for (k, x) in d.iter().enumerate() {
            if k == 3 {
                assert!(x.is_nan()); // alone in its window
            } else {
                assert_relative_eq!(*x, -0.01, epsilon = 1e-9);
            }
        }
        let r = rolling(&t, &v, 2.0, WindowAlign::Centered).unwrap();
        assert_eq!(r.count, vec![3, 3, 3, 1, 3, 3, 3]);
        assert_relative_eq!(r.std[3], 0.0);
    }

    #[test]
    fn errors() {
        assert_eq!(derivative(&[0.0], &[], 1.0, WindowAlign::Trailing).unwrap_err().code(), "shape_mismatch");
        assert_eq!(
            derivative(&[0.0], &[1.0], 0.0, WindowAlign::Trailing).unwrap_err().code(),
            "invalid_param"
        );
        assert_eq!(
            rolling(&[1.0, 0.0], &[1.0, 1.0], 1.0, WindowAlign::Trailing).unwrap_err().code(),
            "invalid_param"
        );
    }

    proptest! {
        #[test]
        fn slope_of_a_line_is_exact(
            dts in proptest::collection::vec(0.01f64..10.0, 3..100),
            slope in -5.0f64..5.0,
            w in 0.5f64..50.0,
        ) {
            let mut t = vec![0.0];
            for dt in &dts { t.push(t[t.len() - 1] + dt); }
            let v: Vec<f64> = t.iter().map(|t| 1.0 + slope * t).collect();
            let d = derivative(&t, &v, w, WindowAlign::Trailing).unwrap();
            for x in d.iter().filter(|x| x.is_finite()) {
                prop_assert!((x - slope).abs() < 1e-6 * (1.0 + slope.abs()));
            }
            let r = rolling(&t, &v, w, WindowAlign::Trailing).unwrap();
            for i in 0..t.len() {
                prop_assert!(r.min[i] <= r.mean[i] + 1e-9 && r.mean[i] <= r.max[i] + 1e-9);
                prop_assert!(r.count[i] >= 1);
            }
        }
    }
}
