//! Equivalent-circuit fit of an impedance spectrum: `R0 – (R1 ‖ C1) – ((R2 – W) ‖ C2)` with an optional
//! finite-length open Warburg element `W` (impedance.py's `R0-p(R1,C1)-p(R2-Wo1,C2)`).
//!
//! Impedance at angular frequency `ω = 2πf` (Ω, `j² = −1`):
//! - `Z = R0 + 1/(1/R1 + jωC1) + 1/(1/(R2 + Z_W) + jωC2)`;
//! - open Warburg `Z_W = Z0 · coth(√(jωτ)) / √(jωτ)` (Z0 in Ω, τ in s); without it `Z_W = 0`.
//!
//! The fit minimises the unweighted sum of squared complex residuals `Σ |Z(f_k) − Z_k|²` (real and imaginary
//! parts stacked, as impedance.py's default) by a bounded Levenberg–Marquardt of our own: the parameters are
//! the logarithms of the element values (so every value stays positive), optionally clamped to
//! `[lower, upper]` boxes (a projected step); the Jacobian is by central differences in log space; the damping
//! `λ` is divided by 3 after an accepted step and multiplied by 4 after a rejected one (Marquardt's scaling by
//! the diagonal of `JᵀJ`). It stops when the relative cost decrease and the step are below `tolerance`.
//! By default points with `Im Z ≥ 0` (the inductive tail) are dropped first, as impedance.py's `ignoreBelowX`.

use serde::{Deserialize, Serialize};

use super::SimError;
use crate::data::EisSpectrum;

/// The circuit `R0 – (R1 ‖ C1) – ((R2 – W) ‖ C2)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EisCircuit {
    /// Series (ohmic) resistance (Ω).
    pub r0_ohm: f64,
    /// First arc resistance (Ω).
    pub r1_ohm: f64,
    /// First arc capacitance (F).
    pub c1_farad: f64,
    /// Second arc (charge-transfer) resistance (Ω).
    pub r2_ohm: f64,
    /// Second arc capacitance (F).
    pub c2_farad: f64,
    /// Open finite-length Warburg in series with R2, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warburg: Option<Warburg>,
}

/// Finite-length open Warburg element `Z0·coth(√(jωτ))/√(jωτ)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warburg {
    /// Low-frequency resistance scale Z0 (Ω).
    pub z0_ohm: f64,
    /// Diffusion time constant τ (s).
    pub tau_s: f64,
}

impl Default for EisCircuit {
    /// impedance.py's example initial guess `[.01, .01, 100, .01, .05, 100, 1]`.
    fn default() -> Self {
        Self {
            r0_ohm: 0.01,
            r1_ohm: 0.01,
            c1_farad: 100.0,
            r2_ohm: 0.01,
            c2_farad: 1.0,
            warburg: Some(Warburg { z0_ohm: 0.05, tau_s: 100.0 }),
        }
    }
}

/// A complex number (re, im); enough arithmetic for the circuit.
#[derive(Debug, Clone, Copy, PartialEq)]
struct C(f64, f64);

impl C {
    fn add(self, o: C) -> C {
        C(self.0 + o.0, self.1 + o.1)
    }
    fn mul(self, o: C) -> C {
        C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
    }
    fn inv(self) -> C {
        let d = self.0 * self.0 + self.1 * self.1;
        C(self.0 / d, -self.1 / d)
    }
    fn div(self, o: C) -> C {
        self.mul(o.inv())
    }
    fn sqrt(self) -> C {
        let r = self.0.hypot(self.1);
        let re = (0.5 * (r + self.0)).sqrt();
        let im = (0.5 * (r - self.0)).sqrt().copysign(self.1);
        C(re, im)
    }
    /// `coth(z)`, stable for large `Re z`: `(1 + e^(−2z)) / (1 − e^(−2z))`.
    fn coth(self) -> C {
        let m = (-2.0 * self.0).exp();
        let e = C(m * (-2.0 * self.1).cos(), m * (-2.0 * self.1).sin());
        C(1.0 + e.0, e.1).div(C(1.0 - e.0, -e.1))
    }
}

impl EisCircuit {
    /// Impedance (real, imaginary) in Ω at `frequency_hz`.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::twin::EisCircuit;
    /// let c = EisCircuit { warburg: None, ..EisCircuit::default() };
    /// // At very high frequency only R0 remains; at DC the resistances add up.
    /// assert!((c.impedance(1e9).0 - 0.01).abs() < 1e-9);
    /// assert!((c.impedance(1e-9).0 - 0.03).abs() < 1e-9);
    /// ```
    pub fn impedance(&self, frequency_hz: f64) -> (f64, f64) {
        let w = 2.0 * std::f64::consts::PI * frequency_hz;
        let arc1 = C(1.0 / self.r1_ohm, w * self.c1_farad).inv();
        let zw = match self.warburg {
            Some(wb) => {
                let s = C(0.0, w * wb.tau_s).sqrt();
                C(wb.z0_ohm, 0.0).mul(s.coth()).div(s)
            }
            None => C(0.0, 0.0),
        };
        let branch = C(self.r2_ohm, 0.0).add(zw);
        let arc2 = branch.inv().add(C(0.0, w * self.c2_farad)).inv();
        let z = C(self.r0_ohm, 0.0).add(arc1).add(arc2);
        (z.0, z.1)
    }

    fn to_vec(self) -> Vec<f64> {
        let mut v = vec![self.r0_ohm, self.r1_ohm, self.c1_farad, self.r2_ohm, self.c2_farad];
        if let Some(w) = self.warburg {
            v.extend([w.z0_ohm, w.tau_s]);
        }
        v
    }

    fn from_slice(p: &[f64]) -> Self {
        Self {
            r0_ohm: p[0],
            r1_ohm: p[1],
            c1_farad: p[2],
            r2_ohm: p[3],
            c2_farad: p[4],
            warburg: (p.len() == 7).then(|| Warburg { z0_ohm: p[5], tau_s: p[6] }),
        }
    }
}

/// Settings of [`fit_eis`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EisFitParams {
    /// Starting point; its `warburg` being `Some` or `None` chooses the circuit.
    pub initial: EisCircuit,
    /// Element-wise lower bounds (same circuit shape as `initial`); `None` = only positivity.
    pub lower: Option<EisCircuit>,
    /// Element-wise upper bounds; `None` = unbounded above.
    pub upper: Option<EisCircuit>,
    /// Drop points with `Im Z ≥ 0` before fitting (impedance.py's `ignoreBelowX`).
    pub ignore_below_x: bool,
    /// Largest number of Levenberg–Marquardt iterations.
    pub max_iterations: usize,
    /// Relative tolerance on the cost decrease and on the step (in log parameters).
    pub tolerance: f64,
}

impl Default for EisFitParams {
    fn default() -> Self {
        Self {
            initial: EisCircuit::default(),
            lower: None,
            upper: None,
            ignore_below_x: true,
            max_iterations: 500,
            tolerance: 1e-12,
        }
    }
}

/// Result of [`fit_eis`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EisFit {
    /// The fitted circuit.
    pub circuit: EisCircuit,
    /// Number of points fitted.
    pub points: usize,
    /// RMS of the complex residual magnitude, `√(mean |Z_fit − Z|²)` (Ω).
    pub rms_residual_ohm: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the tolerance was reached before `max_iterations`.
    pub converged: bool,
}

/// Fits [`EisCircuit`] to an impedance spectrum by bounded Levenberg–Marquardt (see the module docs).
///
/// # Errors
/// [`SimError::InvalidProtocol`] when the settings are invalid (non-positive initial values, bounds of another
/// circuit shape) or fewer points than parameters remain; [`SimError::LengthMismatch`] on unequal columns.
///
/// # Examples
/// ```
/// use battsentinel_core::twin::{fit_eis, EisCircuit, EisFitParams};
/// use battsentinel_core::data::EisSpectrum;
/// let truth = EisCircuit { r0_ohm: 0.015, r1_ohm: 0.008, c1_farad: 3.0, r2_ohm: 0.005, c2_farad: 0.2, warburg: None };
/// let f: Vec<f64> = (0..40).map(|k| 10f64.powf(-2.0 + 6.0 * k as f64 / 39.0)).collect();
/// let z: Vec<(f64, f64)> = f.iter().map(|&f| truth.impedance(f)).collect();
/// let s = EisSpectrum {
///     frequency_hz: f,
///     z_real_ohm: z.iter().map(|z| z.0).collect(),
///     z_imag_ohm: z.iter().map(|z| z.1).collect(),
///     ..EisSpectrum::default()
/// };
/// let start = EisCircuit { warburg: None, ..EisCircuit::default() };
/// let fit = fit_eis(&s, &EisFitParams { initial: start, ..EisFitParams::default() }).unwrap();
/// assert!((fit.circuit.r1_ohm - 0.008).abs() < 1e-8);
/// ```
pub fn fit_eis(spectrum: &EisSpectrum, fp: &EisFitParams) -> Result<EisFit, SimError> {
    let n = spectrum.frequency_hz.len();
    for (field, len) in [("z_real_ohm", spectrum.z_real_ohm.len()), ("z_imag_ohm", spectrum.z_imag_ohm.len())]
    {
        if len != n {
            return Err(SimError::LengthMismatch { field, len, expected: n });
        }
    }
    let bad = |field: &'static str, value: String, reason: &'static str| SimError::InvalidProtocol {
        step: 0,
        field,
        value,
        reason,
    };
    let p0 = fp.initial.to_vec();
    if p0.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(bad("initial", format!("{p0:?}"), "initial element values must be finite and > 0"));
    }
    let np = p0.len();
    let bound = |b: Option<EisCircuit>, name: &'static str, default: f64| -> Result<Vec<f64>, SimError> {
        match b {
            None => Ok(vec![default; np]),
            Some(c) => {
                let v = c.to_vec();
                if v.len() != np || v.iter().any(|x| x.is_nan() || *x < 0.0) {
                    return Err(bad(
                        name,
                        format!("{v:?}"),
                        "bounds must have the initial circuit's shape, >= 0",
                    ));
                }
                Ok(v.iter().map(|x| x.max(f64::MIN_POSITIVE).ln()).collect())
            }
        }
    };
    let lo = bound(fp.lower, "lower", f64::NEG_INFINITY)?;
    let hi = bound(fp.upper, "upper", f64::INFINITY)?;
    // Data (finite points, optionally only Im Z < 0).
    let data: Vec<(f64, f64, f64)> = (0..n)
        .map(|k| (spectrum.frequency_hz[k], spectrum.z_real_ohm[k], spectrum.z_imag_ohm[k]))
        .filter(|(f, r, i)| f.is_finite() && *f > 0.0 && r.is_finite() && i.is_finite())
        .filter(|(_, _, i)| !fp.ignore_below_x || *i < 0.0)
        .collect();
    if data.len() < np {
        return Err(bad("frequency_hz", format!("{} points", data.len()), "fewer points than parameters"));
    }
    let project = |x: &mut [f64]| {
        for (k, v) in x.iter_mut().enumerate() {
            *v = v.clamp(lo[k], hi[k]);
        }
    };
    let residuals = |x: &[f64], out: &mut Vec<f64>| {
        let p: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        let c = EisCircuit::from_slice(&p);
        out.clear();
        for &(f, r, i) in &data {
            let (zr, zi) = c.impedance(f);
            out.push(zr - r);
            out.push(zi - i);
        }
    };
    let cost = |r: &[f64]| r.iter().map(|e| e * e).sum::<f64>();
    let mut x: Vec<f64> = p0.iter().map(|v| v.ln()).collect();
    project(&mut x);
    let m = 2 * data.len();
    let mut r = Vec::with_capacity(m);
    residuals(&x, &mut r);
    let mut f = cost(&r);
    let mut lambda = 1e-3;
    let mut jac = vec![0.0; m * np];
    let (mut rp, mut rm) = (Vec::with_capacity(m), Vec::with_capacity(m));
    let (mut iterations, mut converged) = (0, false);
    while iterations < fp.max_iterations && !converged {
        iterations += 1;
        // Central-difference Jacobian in log parameters.
        for q in 0..np {
            let h = 1e-6;
            let mut xp = x.clone();
            xp[q] += h;
            let mut xm = x.clone();
            xm[q] -= h;
            residuals(&xp, &mut rp);
            residuals(&xm, &mut rm);
            for row in 0..m {
                jac[row * np + q] = (rp[row] - rm[row]) / (2.0 * h);
            }
        }
        let mut jtj = vec![0.0; np * np];
        let mut jtr = vec![0.0; np];
        for row in 0..m {
            let jr = &jac[row * np..(row + 1) * np];
            for a in 0..np {
                jtr[a] += jr[a] * r[row];
                for b in 0..np {
                    jtj[a * np + b] += jr[a] * jr[b];
                }
            }
        }
        // Try damped steps until one lowers the cost.
        let mut accepted = false;
        for _ in 0..30 {
            let mut a = jtj.clone();
            for d in 0..np {
                a[d * np + d] += lambda * jtj[d * np + d].max(1e-30);
            }
            let Some(step) = solve_dense(&mut a, &jtr.iter().map(|v| -v).collect::<Vec<_>>(), np) else {
                lambda *= 4.0;
                continue;
            };
            let mut xn: Vec<f64> = x.iter().zip(&step).map(|(a, b)| a + b).collect();
            project(&mut xn);
            let mut rn = Vec::with_capacity(m);
            residuals(&xn, &mut rn);
            let fnew = cost(&rn);
            if fnew.is_finite() && fnew < f {
                let dx = x.iter().zip(&xn).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                let small = (f - fnew) <= fp.tolerance * f && dx <= fp.tolerance.sqrt();
                x = xn;
                r = rn;
                f = fnew;
                lambda = (lambda / 3.0).max(1e-15);
                accepted = true;
                converged = small;
                break;
            }
            lambda *= 4.0;
        }
        if !accepted {
            // No damped step lowers the cost: a (bounded) minimum.
            converged = true;
        }
    }
    let p: Vec<f64> = x.iter().map(|v| v.exp()).collect();
    Ok(EisFit {
        circuit: EisCircuit::from_slice(&p),
        points: data.len(),
        rms_residual_ohm: (f / data.len() as f64).sqrt(),
        iterations,
        converged,
    })
}

/// Solves `a·x = b` (n×n, row-major, overwritten) by Gaussian elimination with partial pivoting.
fn solve_dense(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut b = b.to_vec();
    for col in 0..n {
        let piv = (col..n).max_by(|&p, &q| a[p * n + col].abs().total_cmp(&a[q * n + col].abs()))?;
        if !(a[piv * n + col].abs() > 0.0) {
            return None;
        }
        if piv != col {
            for k in 0..n {
                a.swap(piv * n + k, col * n + k);
            }
            b.swap(piv, col);
        }
        for row in col + 1..n {
            let fct = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= fct * a[col * n + k];
            }
            b[row] -= fct * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warburg_limits() {
        // Open Warburg: at low frequency Re Z_W → Z0/3, at high frequency it vanishes.
        let c = EisCircuit {
            r0_ohm: 0.0 + 1e-12,
            r1_ohm: 1e-12,
            c1_farad: 1e-12,
            r2_ohm: 1e-12,
            c2_farad: 1e-12,
            warburg: Some(Warburg { z0_ohm: 0.06, tau_s: 200.0 }),
        };
        assert!((c.impedance(1e-9).0 - 0.02).abs() < 1e-6);
        assert!(c.impedance(1e6).0.abs() < 1e-4);
    }
}
