//! Weighted background data sets and the summarisers shap offers (`shap.kmeans`, `shap.sample`).

use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::ExplainError;
use crate::rng;

/// A background (reference) data set: rows and normalised weights (summing to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    data: Array2<f64>,
    weights: Vec<f64>,
}

impl Background {
    /// Equal weights for every row.
    ///
    /// # Errors
    /// [`ExplainError::Empty`] without rows or columns; [`ExplainError::NonFinite`] on NaN/inf.
    pub fn new(data: Array2<f64>) -> Result<Self, ExplainError> {
        let n = data.nrows();
        Self::weighted(data, vec![1.0; n])
    }

    /// Row weights (any positive scale; normalised here, as shap does).
    ///
    /// # Errors
    /// As [`Background::new`], plus [`ExplainError::ShapeMismatch`] when `weights` has the wrong length and
    /// [`ExplainError::Params`] when a weight is negative or they sum to zero.
    pub fn weighted(data: Array2<f64>, weights: Vec<f64>) -> Result<Self, ExplainError> {
        if data.nrows() == 0 || data.ncols() == 0 {
            return Err(ExplainError::Empty { what: "background" });
        }
        if weights.len() != data.nrows() {
            return Err(ExplainError::ShapeMismatch {
                what: "background weights",
                expected: data.nrows(),
                got: weights.len(),
            });
        }
        check_finite(data.view(), "background")?;
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(
                crate::params::ParamError::invalid("weights", &weights, "must be finite and >= 0").into()
            );
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(crate::params::ParamError::invalid("weights", total, "must not sum to zero").into());
        }
        let weights = weights.iter().map(|w| w / total).collect();
        // Row-major once here, so that explainers can copy whole rows without a layout copy per call.
        let data = if data.is_standard_layout() { data } else { data.as_standard_layout().into_owned() };
        Ok(Self { data, weights })
    }

    /// The rows (row-major).
    pub fn data(&self) -> ArrayView2<'_, f64> {
        self.data.view()
    }

    /// The normalised weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.data.ncols()
    }

    /// Weighted column means.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.n_features()];
        for (row, w) in self.data.rows().into_iter().zip(&self.weights) {
            for (a, v) in m.iter_mut().zip(row) {
                *a += w * v;
            }
        }
        m
    }

    /// `shap.sample`: `n` rows drawn without replacement (seeded); all rows when `n ≥` the row count.
    ///
    /// # Errors
    /// As [`Background::new`].
    pub fn sample(x: ArrayView2<'_, f64>, n: usize, seed: u64) -> Result<Self, ExplainError> {
        if n >= x.nrows() {
            return Self::new(x.to_owned());
        }
        let mut idx: Vec<usize> = (0..x.nrows()).collect();
        let mut g = rng::seeded(seed);
        for i in 0..n {
            let j = rng::index(&mut g, i, idx.len());
            idx.swap(i, j);
        }
        Self::new(x.select(Axis(0), &idx[..n]))
    }

    /// `shap.kmeans`: NaNs mean-imputed, k-means with k-means++ seeding (`n_init` restarts, best inertia,
    /// all seeded from `seed`), weights = cluster sizes; with `round_values` every centre coordinate is
    /// snapped to the nearest value actually present in that column (first on ties), as shap does.
    ///
    /// The clustering is not bit-identical to scikit-learn's (different generator), but it is the same
    /// algorithm (Lloyd iterations from k-means++ seeds, `n_init = 10` in shap).
    ///
    /// # Errors
    /// [`ExplainError::Empty`] for empty input; [`ExplainError::Params`] for `k == 0` or `k >` rows.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::Background;
    /// use ndarray::array;
    /// let x = array![[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.0, 10.1]];
    /// let bg = Background::kmeans(x.view(), 2, 10, true, 0).unwrap();
    /// assert_eq!(bg.n_rows(), 2);
    /// assert_eq!(bg.weights(), &[0.5, 0.5]);
    /// ```
    pub fn kmeans(
        x: ArrayView2<'_, f64>,
        k: usize,
        n_init: usize,
        round_values: bool,
        seed: u64,
    ) -> Result<Self, ExplainError> {
        let (n, p) = x.dim();
        if n == 0 || p == 0 {
            return Err(ExplainError::Empty { what: "data to summarise" });
        }
        if k == 0 || k > n {
            return Err(crate::params::ParamError::invalid("k", k, "must be in 1..=n_rows").into());
        }
        // Mean imputation of NaNs.
        let mut data = x.to_owned();
        for j in 0..p {
            let col = x.column(j);
            let (s, c) = col.iter().filter(|v| v.is_finite()).fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
            let mean = if c > 0 { s / c as f64 } else { 0.0 };
            data.column_mut(j).mapv_inplace(|v| if v.is_finite() { v } else { mean });
        }
        let mut g = rng::seeded(seed);
        let mut best: Option<(f64, Array2<f64>, Vec<usize>)> = None;
        for _ in 0..n_init.max(1) {
            let (inertia, centres, labels) = lloyd(&data, k, &mut g);
            if best.as_ref().is_none_or(|b| inertia < b.0) {
                best = Some((inertia, centres, labels));
            }
        }
        let (_, mut centres, labels) = best.ok_or(ExplainError::Empty { what: "data to summarise" })?;
        if round_values {
            for i in 0..k {
                for j in 0..p {
                    let c = centres[[i, j]];
                    let mut bi = 0;
                    let mut bd = f64::INFINITY;
                    for r in 0..n {
                        let d = (data[[r, j]] - c).abs();
                        if d < bd {
                            bd = d;
                            bi = r;
                        }
                    }
                    centres[[i, j]] = data[[bi, j]];
                }
            }
        }
        let mut counts = vec![0.0; k];
        for &l in &labels {
            counts[l] += 1.0;
        }
        let keep: Vec<usize> = (0..k).filter(|&i| counts[i] > 0.0).collect();
        let centres = centres.select(Axis(0), &keep);
        let weights = keep.iter().map(|&i| counts[i]).collect();
        Self::weighted(centres, weights)
    }
}

fn sqdist(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// One k-means run: k-means++ seeding then Lloyd iterations to convergence.
fn lloyd(data: &Array2<f64>, k: usize, g: &mut rng::Rng) -> (f64, Array2<f64>, Vec<usize>) {
    let (n, p) = data.dim();
    let mut centres = Array2::zeros((k, p));
    let first = rng::index(g, 0, n);
    centres.row_mut(0).assign(&data.row(first));
    let mut d2: Vec<f64> = (0..n).map(|r| sqdist(data.row(r), centres.row(0))).collect();
    for c in 1..k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let u = g.gen::<f64>() * total;
            let mut acc = 0.0;
            let mut idx = n - 1;
            for (i, d) in d2.iter().enumerate() {
                acc += d;
                if u < acc {
                    idx = i;
                    break;
                }
            }
            idx
        } else {
            rng::index(g, 0, n)
        };
        centres.row_mut(c).assign(&data.row(pick));
        for (r, d) in d2.iter_mut().enumerate() {
            *d = d.min(sqdist(data.row(r), centres.row(c)));
        }
    }
    let mut labels = vec![0usize; n];
    let mut inertia = f64::INFINITY;
    for _ in 0..300 {
        let mut new_inertia = 0.0;
        for r in 0..n {
            let (mut bi, mut bd) = (0, f64::INFINITY);
            for c in 0..k {
                let d = sqdist(data.row(r), centres.row(c));
                if d < bd {
                    bd = d;
                    bi = c;
                }
            }
            labels[r] = bi;
            new_inertia += bd;
        }
        let mut sums = Array2::<f64>::zeros((k, p));
        let mut counts = vec![0usize; k];
        for r in 0..n {
            counts[labels[r]] += 1;
            let mut s = sums.row_mut(labels[r]);
            s += &data.row(r);
        }
        for c in 0..k {
            if counts[c] > 0 {
                let row = sums.row(c).mapv(|v| v / counts[c] as f64);
                centres.row_mut(c).assign(&row);
            }
        }
        let converged = inertia - new_inertia <= 1e-12 * inertia.abs().max(1e-300);
        inertia = new_inertia;
        if converged {
            break;
        }
    }
    (inertia, centres, labels)
}

pub(crate) fn check_finite(a: ArrayView2<'_, f64>, what: &'static str) -> Result<(), ExplainError> {
    // Fast path: one branch-free pass over contiguous values; the position is searched only on failure.
    if let Some(values) = a.as_slice_memory_order() {
        if values.iter().fold(true, |ok, v| ok & v.is_finite()) {
            return Ok(());
        }
    }
    for ((row, column), v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(ExplainError::NonFinite { what, row, column });
        }
    }
    Ok(())
}
