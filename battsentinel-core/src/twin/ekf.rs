//! SoC estimation with an extended Kalman filter on a stream of (V, I, T) samples.
//!
//! State `x = [SoC, V_1, …, V_n]` of the Thevenin model; over a sample of length `h` with current `I`:
//! `SoC ← SoC − I·h/(3600·Q)`, `V_j ← a_j·V_j − I·R_j·(1 − a_j)` with `a_j = e^(−h/τ_j)` (exact, linear);
//! measurement `V = OCV(SoC) − I·R0 + Σ V_j`, linearised with `∂V/∂SoC = dOCV/dSoC` (central difference).
//! Parameters are evaluated at the estimated SoC, the measured temperature and the current.

use serde::{Deserialize, Serialize};

use super::model::MAX_RC;
use super::params::{CellParams, CellValidParams};
use super::SimError;
use crate::params::{positive, ParamError};

const N: usize = 1 + MAX_RC;

/// EKF tuning (defaults suit a cell whose initial SoC may be off by ±30 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EkfParams {
    /// Initial SoC standard deviation (default 0.3).
    pub soc_std0: f64,
    /// Initial RC-voltage standard deviation (V, default 0.01).
    pub v_rc_std0_v: f64,
    /// SoC process noise per √s (default 1e-5).
    pub soc_process_std: f64,
    /// RC-voltage process noise per √s (V, default 1e-4).
    pub v_rc_process_std_v: f64,
    /// Voltage measurement noise (V, default 0.005).
    pub voltage_noise_std_v: f64,
}

impl Default for EkfParams {
    fn default() -> Self {
        Self {
            soc_std0: 0.3,
            v_rc_std0_v: 0.01,
            soc_process_std: 1e-5,
            v_rc_process_std_v: 1e-4,
            voltage_noise_std_v: 0.005,
        }
    }
}

/// One estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SocEstimate {
    /// Estimated SoC.
    pub soc: f64,
    /// Its standard deviation.
    pub soc_std: f64,
    /// Estimated RC voltages (V).
    pub v_rc_v: [f64; MAX_RC],
    /// Innovation: measured minus predicted voltage (V).
    pub innovation_v: f64,
}

/// The complete state of a running [`Ekf`]: enough to save an estimator and resume it later, in another
/// process or runtime, with identical estimates.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{CellParams, Ekf, EkfParams};
/// let mut ekf = Ekf::new(CellParams::ecm_example().check().unwrap(), EkfParams::default(), 0.5).unwrap();
/// ekf.update(3.60, 100.0, 25.0, 1.0).unwrap();
/// let json = serde_json::to_string(&ekf.snapshot()).unwrap();
/// let mut resumed = Ekf::from_snapshot(serde_json::from_str(&json).unwrap()).unwrap();
/// assert_eq!(resumed.update(3.59, 100.0, 25.0, 1.0).unwrap(), ekf.update(3.59, 100.0, 25.0, 1.0).unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EkfSnapshot {
    /// The cell parameters (checked again on restore).
    pub params: CellParams,
    /// The filter tuning.
    pub tuning: EkfParams,
    /// State `[SoC, V_1 (V), …, V_n (V)]`, `1 + n_rc` values.
    pub state: Vec<f64>,
    /// Covariance of the state, `(1 + n_rc)²` values row by row.
    pub covariance: Vec<f64>,
}

/// Extended Kalman filter for SoC.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{CellParams, Ekf, EkfParams};
/// let cell = CellParams::ecm_example().check().unwrap();
/// let mut ekf = Ekf::new(cell, EkfParams::default(), 0.5).unwrap();
/// let est = ekf.update(3.60, 100.0, 25.0, 1.0).unwrap();
/// assert!(est.soc_std < 0.3);
/// ```
#[derive(Debug, Clone)]
pub struct Ekf {
    p: CellValidParams,
    n: usize,
    x: [f64; N],
    cov: [[f64; N]; N],
    tune: EkfParams,
}

impl Ekf {
    /// A filter starting at `soc0`.
    ///
    /// # Errors
    /// [`SimError::Params`] for non-positive tuning values; [`SimError::SocOutsideTable`] for `soc0`.
    pub fn new(params: CellValidParams, tune: EkfParams, soc0: f64) -> Result<Self, SimError> {
        positive("soc_std0", tune.soc_std0)?;
        positive("v_rc_std0_v", tune.v_rc_std0_v)?;
        positive("soc_process_std", tune.soc_process_std)?;
        positive("v_rc_process_std_v", tune.v_rc_process_std_v)?;
        positive("voltage_noise_std_v", tune.voltage_noise_std_v)?;
        let (min, max) = params.soc_range();
        if !(soc0.is_finite() && (min..=max).contains(&soc0)) {
            return Err(SimError::SocOutsideTable { soc: soc0, min, max });
        }
        let n = 1 + params.n_rc();
        let mut cov = [[0.0; N]; N];
        cov[0][0] = tune.soc_std0.powi(2);
        for (j, row) in cov.iter_mut().enumerate().take(n).skip(1) {
            row[j] = tune.v_rc_std0_v.powi(2);
        }
        let mut x = [0.0; N];
        x[0] = soc0;
        Ok(Self { p: params, n, x, cov, tune })
    }

    /// The filter's complete state (see [`EkfSnapshot`]).
    pub fn snapshot(&self) -> EkfSnapshot {
        EkfSnapshot {
            params: self.p.params().clone(),
            tuning: self.tune,
            state: self.x[..self.n].to_vec(),
            covariance: (0..self.n).flat_map(|i| self.cov[i][..self.n].to_vec()).collect(),
        }
    }

    /// Resumes a filter from [`Ekf::snapshot`].
    ///
    /// # Errors
    /// [`SimError::Params`] when the parameters or tuning do not check, or the state or covariance have the
    /// wrong length or non-finite values; [`SimError::SocOutsideTable`] for a SoC outside the OCV table.
    pub fn from_snapshot(snapshot: EkfSnapshot) -> Result<Self, SimError> {
        let EkfSnapshot { params, tuning, state, covariance } = snapshot;
        let params = params.check()?;
        let soc0 = state.first().copied().unwrap_or(f64::NAN);
        let mut ekf = Self::new(params, tuning, soc0)?;
        let n = ekf.n;
        if state.len() != n || covariance.len() != n * n {
            return Err(ParamError::Inconsistent {
                reason: format!(
                    "an EKF snapshot of a cell with {} RC pairs needs {n} state values and {} covariance \
                     values, not {} and {}",
                    n - 1,
                    n * n,
                    state.len(),
                    covariance.len()
                ),
            }
            .into());
        }
        if let Some(v) = state.iter().chain(&covariance).find(|v| !v.is_finite()) {
            return Err(ParamError::invalid("state/covariance", v, "finite values").into());
        }
        ekf.x[..n].copy_from_slice(&state);
        for i in 0..n {
            ekf.cov[i][..n].copy_from_slice(&covariance[i * n..(i + 1) * n]);
        }
        Ok(ekf)
    }

    /// The covariance of `[SoC, V_1, …]` (only the first `1 + n_rc` rows/columns are used).
    pub fn covariance(&self) -> [[f64; N]; N] {
        self.cov
    }

    /// Predicts over `dt_s` with `current_a` held since the previous sample, then corrects with the voltage
    /// measured at the end of it.
    ///
    /// # Errors
    /// [`SimError::InvalidDt`]; [`SimError::NonFiniteInput`] for non-finite measurements.
    pub fn update(
        &mut self,
        voltage_v: f64,
        current_a: f64,
        t_c: f64,
        dt_s: f64,
    ) -> Result<SocEstimate, SimError> {
        if !(dt_s.is_finite() && dt_s > 0.0) {
            return Err(SimError::InvalidDt { dt_s });
        }
        for (field, value) in [("voltage_v", voltage_v), ("current_a", current_a), ("t_c", t_c)] {
            if !value.is_finite() {
                return Err(SimError::NonFiniteInput { field, value, t_s: f64::NAN });
            }
        }
        let raw = self.p.params();
        let (min, max) = self.p.soc_range();
        let soc = self.x[0].clamp(min, max);
        let (r, c) = self.rc_at(t_c, current_a, soc);
        // Predict.
        let mut a = [1.0; N];
        self.x[0] -= current_a * dt_s / (3600.0 * raw.capacity_ah);
        for j in 1..self.n {
            a[j] = (-dt_s / (r[j - 1] * c[j - 1])).exp();
            self.x[j] = a[j] * self.x[j] - current_a * r[j - 1] * (1.0 - a[j]);
        }
        for i in 0..self.n {
            for k in 0..self.n {
                self.cov[i][k] *= a[i] * a[k];
            }
        }
        self.cov[0][0] += self.tune.soc_process_std.powi(2) * dt_s;
        for j in 1..self.n {
            self.cov[j][j] += self.tune.v_rc_process_std_v.powi(2) * dt_s;
        }
        // Correct.
        let soc = self.x[0].clamp(min, max);
        let ocv = |s: f64| ocv_at(&self.p, s, t_c);
        let d = 1e-4;
        let slope =
            (ocv((soc + d).min(max)) - ocv((soc - d).max(min))) / ((soc + d).min(max) - (soc - d).max(min));
        let r0 = raw.r0_ohm.eval(t_c, current_a, soc);
        let mut pred = ocv(soc) + slope * (self.x[0] - soc) - current_a * r0;
        let mut h = [0.0; N];
        h[0] = slope;
        for (hj, xj) in h.iter_mut().zip(self.x.iter()).take(self.n).skip(1) {
            *hj = 1.0;
            pred += xj;
        }
        let innovation = voltage_v - pred;
        let mut ph = [0.0; N];
        for (phi, row) in ph.iter_mut().zip(self.cov.iter()).take(self.n) {
            *phi = (0..self.n).map(|k| row[k] * h[k]).sum();
        }
        let s = (0..self.n).map(|i| h[i] * ph[i]).sum::<f64>() + self.tune.voltage_noise_std_v.powi(2);
        let mut new_cov = self.cov;
        for i in 0..self.n {
            let k_i = ph[i] / s;
            self.x[i] += k_i * innovation;
            for k in 0..self.n {
                new_cov[i][k] -= k_i * ph[k];
            }
        }
        self.cov = new_cov;
        let mut v_rc_v = [0.0; MAX_RC];
        v_rc_v[..self.n - 1].copy_from_slice(&self.x[1..self.n]);
        Ok(SocEstimate {
            soc: self.x[0],
            soc_std: self.cov[0][0].max(0.0).sqrt(),
            v_rc_v,
            innovation_v: innovation,
        })
    }

    fn rc_at(&self, t_c: f64, i: f64, soc: f64) -> ([f64; MAX_RC], [f64; MAX_RC]) {
        let raw = self.p.params();
        let pairs =
            [(&raw.r1_ohm, &raw.c1_farad), (&raw.r2_ohm, &raw.c2_farad), (&raw.r3_ohm, &raw.c3_farad)];
        let (mut r, mut c) = ([0.0; MAX_RC], [1.0; MAX_RC]);
        for (j, (rj, cj)) in pairs.iter().enumerate().take(self.n - 1) {
            if let (Some(rj), Some(cj)) = (rj, cj) {
                r[j] = rj.eval(t_c, i, soc).max(1e-12);
                c[j] = cj.eval(t_c, i, soc).max(1e-12);
            }
        }
        (r, c)
    }
}

fn ocv_at(p: &CellValidParams, soc: f64, t_c: f64) -> f64 {
    p.m.ocv.eval_hint(soc, t_c, &mut [0; 2])
}
