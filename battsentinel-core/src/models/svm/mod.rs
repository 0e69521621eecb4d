//! Support vector machines on an in-house SMO solver that follows libsvm's algorithm (see [`smo`]):
//! C-SVC with one-vs-one voting for several classes (as libsvm / scikit-learn's `SVC`), Platt-scaled
//! probabilities (per pair, combined by Wu–Lin–Weng pairwise coupling as libsvm), and the one-class SVM.
//!
//! linfa-svm was the first choice; measured on 4 000 × 20 rows, 4 classes, RBF (`benches/compare_models.sh`),
//! it fitted 2.7–3.8× slower than libsvm because it builds the whole dense kernel matrix pair by pair
//! and copies a kernel column per iteration, and its solver cannot take another kernel representation.
//! This solver computes kernel rows on demand into a cache, as libsvm.
//!
//! Kernels: RBF `exp(−γ‖x−x'‖²)`, linear `⟨x,x'⟩`, polynomial `(⟨x,x'⟩ + coef0)^degree` (scikit-learn's
//! `poly` with `gamma = 1`). Differences from libsvm: the Platt sigmoid is fitted on the training decision
//! values (libsvm uses an internal 5-fold cross-validation), so probabilities are somewhat sharper.
//!
//! wasm: the SMO solver and Platt fit draw no random numbers, so the wasm build needs no random source
//! (the core registers an always-failing `getrandom` backend; nothing here reaches it).

mod smo;

use linfa::composing::platt_scaling::{platt_newton_method, PlattParams};
use linfa::ParamGuard as _;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::persist::Persist;
use super::validate::{check_features, check_predict, encode_classes};
use super::ModelError;
use crate::params::{ParamError, ParamGuard};

/// SVM kernel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SvmKernel {
    /// `exp(−gamma·‖x−x'‖²)`.
    Rbf {
        /// Width parameter γ > 0 (scikit-learn's `gamma`).
        gamma: f64,
    },
    /// `⟨x, x'⟩`.
    Linear,
    /// `(⟨x, x'⟩ + coef0)^degree`.
    Polynomial {
        /// Additive constant.
        coef0: f64,
        /// Degree ≥ 1.
        degree: f64,
    },
}

impl SvmKernel {
    /// `K(a, b)`.
    fn eval(self, a: &[f64], b: &[f64]) -> f64 {
        match self {
            SvmKernel::Rbf { gamma } => (-gamma * crate::numeric::sq_dist(a, b)).exp(),
            SvmKernel::Linear => crate::numeric::dot(a, b),
            SvmKernel::Polynomial { coef0, degree } => (crate::numeric::dot(a, b) + coef0).powf(degree),
        }
    }
}

/// Validated SVM parameters; build them with [`SvmParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SvmValidParams {
    c: f64,
    nu: f64,
    kernel: SvmKernel,
    tol: f64,
    probability: bool,
}

impl Default for SvmValidParams {
    fn default() -> Self {
        SvmValidParams {
            c: 1.0,
            nu: 0.5,
            kernel: SvmKernel::Rbf { gamma: 0.1 },
            tol: 1e-3,
            probability: true,
        }
    }
}

impl SvmValidParams {
    /// Penalty C (C-SVC).
    pub fn c(&self) -> f64 {
        self.c
    }
    /// ν (one-class SVM).
    pub fn nu(&self) -> f64 {
        self.nu
    }
    /// Kernel.
    pub fn kernel(&self) -> SvmKernel {
        self.kernel
    }
    /// Solver tolerance.
    pub fn tol(&self) -> f64 {
        self.tol
    }
    /// Whether Platt probabilities are fitted.
    pub fn probability(&self) -> bool {
        self.probability
    }
}

/// SVM parameters (unchecked builder). Defaults: C = 1, ν = 0.5, RBF with γ = 0.1 (scikit-learn's "scale"
/// is `1 / (n_features · var(X))`: set γ explicitly), tolerance 1e-3 (as libsvm), probabilities on.
///
/// # Examples
/// ```
/// use battsentinel_core::models::svm::{SvmClassifier, SvmKernel, SvmParams};
/// use ndarray::array;
/// let x = array![[0.0, 0.0], [0.2, 0.1], [1.0, 1.0], [0.9, 1.1], [0.1, 0.2], [1.1, 0.9]];
/// let y = array![0usize, 0, 1, 1, 0, 1];
/// let p = SvmParams::default().c(10.0).kernel(SvmKernel::Rbf { gamma: 1.0 });
/// let m = SvmClassifier::fit(&p, &x.view(), &y.view())?;
/// assert_eq!(m.predict(&x.view())?, y);
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SvmParams(SvmValidParams);

impl SvmParams {
    /// Penalty C > 0.
    pub fn c(mut self, c: f64) -> Self {
        self.0.c = c;
        self
    }
    /// ν in (0, 1] for the one-class SVM.
    pub fn nu(mut self, nu: f64) -> Self {
        self.0.nu = nu;
        self
    }
    /// Kernel.
    pub fn kernel(mut self, kernel: SvmKernel) -> Self {
        self.0.kernel = kernel;
        self
    }
    /// Solver tolerance > 0.
    pub fn tol(mut self, tol: f64) -> Self {
        self.0.tol = tol;
        self
    }
    /// Fit Platt probabilities.
    pub fn probability(mut self, on: bool) -> Self {
        self.0.probability = on;
        self
    }
}

impl ParamGuard for SvmParams {
    type Checked = SvmValidParams;

    fn check_ref(&self) -> Result<&SvmValidParams, ParamError> {
        let p = &self.0;
        crate::params::positive("c", p.c)?;
        crate::params::positive("tol", p.tol)?;
        if !(p.nu > 0.0 && p.nu <= 1.0) {
            return Err(ParamError::invalid("nu", p.nu, "must be in (0, 1]"));
        }
        match p.kernel {
            SvmKernel::Rbf { gamma } => crate::params::positive("kernel.gamma", gamma)?,
            SvmKernel::Polynomial { coef0, degree } => {
                if !(coef0.is_finite() && degree.is_finite() && degree >= 1.0) {
                    return Err(ParamError::invalid(
                        "kernel",
                        p.kernel,
                        "needs finite coef0 and degree >= 1",
                    ));
                }
            }
            SvmKernel::Linear => {}
        }
        Ok(p)
    }

    fn check(self) -> Result<SvmValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for SvmValidParams {
    type Checked = SvmValidParams;

    fn check_ref(&self) -> Result<&SvmValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<SvmValidParams, ParamError> {
        Ok(self)
    }
}

/// A solved binary machine: decision `Σₛ coefₛ·K(svₛ, x) − ρ`, support vectors stored row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Machine {
    /// Support vectors, row after row (`coef.len() × n_features` values).
    support: Vec<f64>,
    /// `y·α` of each support vector.
    coef: Vec<f64>,
    rho: f64,
    /// SMO iterations of the fit (scikit-learn's `n_iter_`).
    iterations: usize,
}

impl Machine {
    /// Solves the dual for rows `x` (row-major, `d` columns) and keeps the rows with α ≠ 0.
    #[allow(clippy::too_many_arguments)]
    fn solve(
        kernel: SvmKernel,
        x: &[f64],
        d: usize,
        y: &[f64],
        lin: &[f64],
        upper: &[f64],
        alpha: Vec<f64>,
        tol: f64,
    ) -> Self {
        let rows = smo::Rows { x, d, kernel };
        let sol = smo::solve(&rows, y, lin, upper, alpha, tol);
        let mut support = Vec::new();
        let mut coef = Vec::new();
        for (t, &a) in sol.alpha.iter().enumerate() {
            if a != 0.0 {
                support.extend_from_slice(&x[t * d..(t + 1) * d]);
                coef.push(y[t] * a);
            }
        }
        Machine { support, coef, rho: sol.rho, iterations: sol.iterations }
    }

    fn decision(&self, kernel: SvmKernel, x: &[f64]) -> f64 {
        let d = x.len();
        let sum: f64 = self
            .coef
            .iter()
            .zip(self.support.chunks_exact(d.max(1)))
            .map(|(c, sv)| c * kernel.eval(sv, x))
            .sum();
        sum - self.rho
    }

    fn check(&self, n_features: usize) -> Result<(), ModelError> {
        if n_features == 0
            || self.support.len() != self.coef.len() * n_features
            || !self.rho.is_finite()
            || !self.coef.iter().chain(&self.support).all(|v| v.is_finite())
        {
            return Err(ModelError::Corrupt {
                reason: "SVM support vectors do not match the features".into(),
            });
        }
        Ok(())
    }
}

/// The rows of `x` row-major (a copy only when `x` is not already standard layout).
fn row_major<'a>(x: &'a ArrayView2<'_, f64>) -> std::borrow::Cow<'a, [f64]> {
    match x.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

/// One binary machine between classes `pos` (decision > 0) and `neg`, with its Platt sigmoid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pairwise {
    pos: usize,
    neg: usize,
    machine: Machine,
    platt: Option<(f64, f64)>,
}

fn sigmoid_prob(f: f64, (a, b): (f64, f64)) -> f64 {
    let z = a * f + b;
    if z >= 0.0 {
        (-z).exp() / (1.0 + (-z).exp())
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// A fitted C-SVC (binary or one-vs-one multi-class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvmClassifier {
    params: SvmValidParams,
    n_features: usize,
    classes: Vec<usize>,
    machines: Vec<Pairwise>,
}

impl SvmClassifier {
    /// Fits a C-SVC to `x` and labels `y`: one binary machine per pair of classes (fitted in parallel with
    /// feature `parallel`; the result does not depend on the thread count).
    ///
    /// # Errors
    /// [`ModelError::Params`], [`ModelError::EmptyData`], [`ModelError::NonFinite`],
    /// [`ModelError::TargetLength`], [`ModelError::SingleClass`], [`ModelError::Svm`].
    pub fn fit<P: ParamGuard<Checked = SvmValidParams>>(
        params: &P,
        x: &ArrayView2<f64>,
        y: &ArrayView1<usize>,
    ) -> Result<Self, ModelError> {
        let p = params.check_ref()?;
        check_features(x)?;
        let (classes, enc) = encode_classes(x.nrows(), y)?;
        let k = classes.len();
        let d = x.ncols();
        // The pairwise machines are independent: fitted in parallel with feature `parallel`, in pair order.
        let pairs: Vec<(usize, usize)> = (0..k).flat_map(|a| (a + 1..k).map(move |b| (a, b))).collect();
        let fit_pair = |i: usize| -> Result<Pairwise, ModelError> {
            let (a, b) = pairs[i];
            let rows: Vec<usize> = (0..x.nrows()).filter(|&r| enc[r] == a || enc[r] == b).collect();
            let mut records = Vec::with_capacity(rows.len() * d);
            for &r in &rows {
                records.extend(x.row(r).iter().copied());
            }
            let y: Vec<f64> = rows.iter().map(|&r| if enc[r] == a { 1.0 } else { -1.0 }).collect();
            let n = rows.len();
            let (lin, upper) = (vec![-1.0; n], vec![p.c; n]);
            let machine = Machine::solve(p.kernel, &records, d, &y, &lin, &upper, vec![0.0; n], p.tol);
            let mut platt = None;
            if p.probability {
                let dec: Array1<f64> =
                    records.chunks_exact(d).map(|r| machine.decision(p.kernel, r)).collect();
                let targets: Array1<bool> = y.iter().map(|&v| v > 0.0).collect();
                let pp = PlattParams::<f64, ()>::default();
                let pv = pp.check_ref().map_err(|e| ModelError::Svm { source: e })?;
                let ab = platt_newton_method(dec.view(), targets.view(), pv)
                    .map_err(|e| ModelError::Svm { source: e })?;
                platt = Some(ab);
            }
            Ok(Pairwise { pos: a, neg: b, machine, platt })
        };
        let machines = crate::models::forest::map_indices(pairs.len(), fit_pair)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SvmClassifier { params: p.clone(), n_features: x.ncols(), classes, machines })
    }

    /// Decision values per row and machine (`n_rows × n_pairs`, pairs `(0,1), (0,2), …, (1,2), …`; positive
    /// favours the first class of the pair), as scikit-learn's `decision_function_shape="ovo"`.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`], [`ModelError::NonFinite`].
    pub fn decision_function(&self, x: &ArrayView2<f64>) -> Result<Array2<f64>, ModelError> {
        check_predict(x, self.n_features)?;
        let mut out = Array2::zeros((x.nrows(), self.machines.len()));
        let rows = row_major(x);
        for (mut o, row) in out.outer_iter_mut().zip(rows.chunks_exact(self.n_features.max(1))) {
            for (v, m) in o.iter_mut().zip(&self.machines) {
                *v = m.machine.decision(self.params.kernel, row);
            }
        }
        Ok(out)
    }

    /// Predicted label per row by one-vs-one voting (ties: the lower class index, as libsvm).
    ///
    /// # Errors
    /// As [`Self::decision_function`].
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<usize>, ModelError> {
        let dec = self.decision_function(x)?;
        let k = self.classes.len();
        Ok(dec
            .outer_iter()
            .map(|d| {
                let mut votes = vec![0usize; k];
                for (m, &v) in self.machines.iter().zip(d.iter()) {
                    votes[if v > 0.0 { m.pos } else { m.neg }] += 1;
                }
                let mut best = 0;
                for c in 1..k {
                    if votes[c] > votes[best] {
                        best = c;
                    }
                }
                self.classes[best]
            })
            .collect())
    }

    /// Class probabilities (`n_rows × n_classes`): Platt probability per pair, coupled as libsvm.
    ///
    /// # Errors
    /// As [`Self::decision_function`]; [`ModelError::Params`] if the model was fitted without probabilities.
    pub fn predict_proba(&self, x: &ArrayView2<f64>) -> Result<Array2<f64>, ModelError> {
        if !self.params.probability {
            return Err(ParamError::Inconsistent {
                reason: "fit with probability = true to get predict_proba".into(),
            }
            .into());
        }
        let dec = self.decision_function(x)?;
        let k = self.classes.len();
        let mut out = Array2::zeros((x.nrows(), k));
        let mut r = vec![0.0; k * k];
        for (i, d) in dec.outer_iter().enumerate() {
            for (m, &v) in self.machines.iter().zip(d.iter()) {
                let pr = sigmoid_prob(v, m.platt.unwrap_or((-1.0, 0.0))).clamp(1e-7, 1.0 - 1e-7);
                r[m.pos * k + m.neg] = pr;
                r[m.neg * k + m.pos] = 1.0 - pr;
            }
            let p = if k == 2 { vec![r[1], r[k]] } else { couple(&r, k) };
            for (c, v) in p.into_iter().enumerate() {
                out[[i, c]] = v;
            }
        }
        Ok(out)
    }

    /// Sorted class labels.
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// SMO iterations per pairwise machine, in pair order (scikit-learn's `n_iter_`).
    pub fn n_iter(&self) -> Vec<usize> {
        self.machines.iter().map(|m| m.machine.iterations).collect()
    }

    /// Total support vectors over all machines.
    pub fn n_support(&self) -> usize {
        self.machines.iter().map(|m| m.machine.coef.len()).sum()
    }
}

/// libsvm's `multiclass_probability` (Wu, Lin & Weng 2004, method 2); `r[i*k+j]` = P(i | i or j).
fn couple(r: &[f64], k: usize) -> Vec<f64> {
    let mut q = vec![0.0; k * k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t * k + t] += r[j * k + t] * r[j * k + t];
                q[t * k + j] = -r[j * k + t] * r[t * k + j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    let eps = 0.005 / k as f64;
    for _ in 0..100.max(k) {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t * k + j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_err = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_err < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

impl Persist for SvmClassifier {
    const KIND: &'static str = "svm_classifier";

    fn restore(&mut self) -> Result<(), ModelError> {
        let k = self.classes.len();
        if k < 2 || self.machines.len() != k * (k - 1) / 2 {
            return Err(ModelError::Corrupt {
                reason: "SVM machine count does not match the classes".into(),
            });
        }
        if self.machines.iter().any(|m| m.pos >= k || m.neg >= k) {
            return Err(ModelError::Corrupt { reason: "SVM machine class out of range".into() });
        }
        self.machines.iter().try_for_each(|m| m.machine.check(self.n_features))
    }
}

/// A fitted one-class SVM (novelty detection, as scikit-learn's `OneClassSVM`).
///
/// # Examples
/// ```
/// use battsentinel_core::models::svm::{OneClassSvm, SvmKernel, SvmParams};
/// use ndarray::{array, Array2};
/// let x = Array2::from_shape_fn((60, 2), |(i, j)| ((i * (j + 2)) % 11) as f64 / 11.0);
/// let m = OneClassSvm::fit(&SvmParams::default().nu(0.1).kernel(SvmKernel::Rbf { gamma: 2.0 }), &x.view())?;
/// let d = m.decision_function(&array![[0.5, 0.5], [8.0, 8.0]].view())?;
/// assert!(d[1] < 0.0 && d[1] < d[0]);
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneClassSvm {
    params: SvmValidParams,
    n_features: usize,
    machine: Machine,
}

impl OneClassSvm {
    /// Fits on reference rows `x` with the `nu` and kernel of the params.
    ///
    /// # Errors
    /// [`ModelError::Params`], [`ModelError::EmptyData`], [`ModelError::NonFinite`], [`ModelError::Svm`].
    pub fn fit<P: ParamGuard<Checked = SvmValidParams>>(
        params: &P,
        x: &ArrayView2<f64>,
    ) -> Result<Self, ModelError> {
        let p = params.check_ref()?;
        check_features(x)?;
        // libsvm's one-class start: the first ⌊ν·n⌋ multipliers at 1, the next one at the remainder
        // (Σα = ν·n, every α ≤ 1), no linear term, all labels +1.
        let n = x.nrows();
        let total = p.nu * n as f64;
        let whole = total.floor() as usize;
        let alpha: Vec<f64> = (0..n)
            .map(|t| match t.cmp(&whole) {
                std::cmp::Ordering::Less => 1.0,
                std::cmp::Ordering::Equal => total - whole as f64,
                std::cmp::Ordering::Greater => 0.0,
            })
            .collect();
        let records = row_major(x);
        let (y, lin, upper) = (vec![1.0; n], vec![0.0; n], vec![1.0; n]);
        let machine = Machine::solve(p.kernel, &records, x.ncols(), &y, &lin, &upper, alpha, p.tol);
        Ok(OneClassSvm { params: p.clone(), n_features: x.ncols(), machine })
    }

    /// Signed distance to the boundary per row (`Σ αᵢ K(xᵢ, x) − ρ`): negative for outliers, as
    /// scikit-learn's `decision_function`.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`], [`ModelError::NonFinite`].
    pub fn decision_function(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_predict(x, self.n_features)?;
        let rows = row_major(x);
        Ok(rows
            .chunks_exact(self.n_features.max(1))
            .map(|r| self.machine.decision(self.params.kernel, r))
            .collect())
    }

    /// `Σ αᵢ K(xᵢ, x)` (= decision + ρ), as scikit-learn's `score_samples`.
    ///
    /// # Errors
    /// As [`Self::decision_function`].
    pub fn score_samples(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.decision_function(x)? + self.machine.rho)
    }

    /// `1` for inliers, `-1` for outliers.
    ///
    /// # Errors
    /// As [`Self::decision_function`].
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<i8>, ModelError> {
        Ok(self.decision_function(x)?.mapv(|d| if d >= 0.0 { 1 } else { -1 }))
    }
}

impl Persist for OneClassSvm {
    const KIND: &'static str = "one_class_svm";

    fn restore(&mut self) -> Result<(), ModelError> {
        if self.n_features == 0 {
            return Err(ModelError::Corrupt { reason: "one-class SVM without features".into() });
        }
        self.machine.check(self.n_features)
    }
}
