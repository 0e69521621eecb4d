//! LIME for tabular data exactly as `lime` 0.2.0.1 computes it (`LimeTabularExplainer`).
//!
//! Fit: quartile (or decile) discretiser statistics per feature (numpy linear percentiles, duplicates
//! collapsed, `searchsorted` left), per-bin mean, population std + 1e-11, min and max, bin frequencies.
//! Explain: draw bins from the training frequencies, undiscretise with truncated normals (seeded), weight
//! the neighbourhood with `sqrt(exp(−d²/w²))`, `w = 0.75·√M`, select features (auto / forward selection /
//! highest weights / lasso path / none) and fit a weighted Ridge(α = 1); report intercept, coefficients,
//! weighted R² and the local prediction.
//!
//! **Entropy discretiser.** lime fits scikit-learn's `DecisionTreeClassifier(criterion="entropy",
//! max_depth=3)` per feature on the training labels and uses its split thresholds as bin edges (the median
//! when the tree does not split). This port grows the same single-feature tree itself: values as `f32`
//! (sklearn's tree dtype), candidate thresholds `v₁/2 + v₂/2` between adjacent distinct sorted values
//! (values within 1e-7 count as equal), the split with the largest `−n_R·H_R − n_L·H_L` (H in bits, the
//! first one on ties, as sklearn's strict `>`), nodes split until depth 3, purity or a constant feature
//! (`min_samples_split = 2`, `min_samples_leaf = 1`). The tree's random state only permutes features,
//! which cannot matter with one feature. Labels must be class labels: lime raises for missing labels
//! and scikit-learn for continuous ones, even in regression mode
//! ([`ExplainError::MissingLabels`], [`ExplainError::InvalidLabel`]).
//!
//! **`lasso_path`** uses the shared port of `sklearn.linear_model.lars_path` (also behind Kernel SHAP's
//! `l1_reg`).
//!
//! **Degenerate-bin quirk.** When a bin has min == max (e.g. more than 25 % of a column at its minimum),
//! lime returns the *standardised* bound `minz` (typically 0.0, outside the data range) instead of the bin
//! value. By default this port returns the bin value; `replicate_degenerate_bin_quirk = true` copies lime.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder as _};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::kernel_shap::predict_checked_blocks;
use super::linalg::solve_normal;
use super::{ExplainError, Predictor};
use crate::numeric::dot;
use crate::params::{ParamError, ParamGuard};
use crate::rng;

/// Discretisation of continuous features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discretizer {
    /// Quartiles (25, 50, 75) — lime's default.
    #[default]
    Quartile,
    /// Deciles (10, …, 90).
    Decile,
    /// lime's `EntropyDiscretizer`: the thresholds of a depth-3 entropy decision tree fitted per feature on
    /// the training labels (scikit-learn's `DecisionTreeClassifier(criterion="entropy", max_depth=3)`);
    /// needs class labels ([`LimeTabular::fit_with_labels`]), in regression mode too, as lime.
    Entropy,
    /// No discretisation: Gaussian sampling around the training mean with the training scale.
    None,
}

/// Feature selection of the local model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSelection {
    /// Forward selection if `num_features ≤ 6`, else highest weights.
    #[default]
    Auto,
    /// Greedy forward selection on weighted R² of an unregularised weighted least-squares fit.
    ForwardSelection,
    /// Rank by |coef · x₀| of a weighted Ridge(α = 0.01) on all features.
    HighestWeights,
    /// lime's `lasso_path`: the Lasso path (`sklearn.linear_model.lars_path(method="lasso")`) of the
    /// weighted, centred neighbourhood; the last step with at most `num_features` non-zero coefficients
    /// (features in index order).
    LassoPath,
    /// All features.
    None,
}

/// Task of the explained model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimeMode {
    /// Scalar output (label 0).
    #[default]
    Regression,
    /// Class probabilities; explain the requested label.
    Classification,
}

/// Validated LIME parameters (see [`LimeParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimeValidParams {
    /// Discretiser.
    pub discretizer: Discretizer,
    /// Kernel width; `None` = `0.75 · √M`.
    pub kernel_width: Option<f64>,
    /// Feature selection method.
    pub feature_selection: FeatureSelection,
    /// Number of features in the explanation.
    pub num_features: usize,
    /// Neighbourhood size (including the instance itself).
    pub num_samples: usize,
    /// Seed of the neighbourhood sampler.
    pub seed: u64,
    /// Regression or classification.
    pub mode: LimeMode,
    /// Copy lime's degenerate-bin behaviour (see module docs).
    pub replicate_degenerate_bin_quirk: bool,
    /// Sample around the instance instead of the training mean (non-discretised path only).
    pub sample_around_instance: bool,
}

impl Default for LimeValidParams {
    fn default() -> Self {
        Self {
            discretizer: Discretizer::Quartile,
            kernel_width: None,
            feature_selection: FeatureSelection::Auto,
            num_features: 10,
            num_samples: 5000,
            seed: 0,
            mode: LimeMode::Regression,
            replicate_degenerate_bin_quirk: false,
            sample_around_instance: false,
        }
    }
}

/// LIME parameters (unchecked). Defaults as lime: quartile discretiser, kernel width `0.75·√M`, `auto`
/// selection, 10 features, 5000 samples; plus `seed = 0`, regression mode, degenerate-bin quirk off.
///
/// # Examples
/// ```
/// use battsentinel_core::explain::LimeParams;
/// use battsentinel_core::params::ParamGuard;
/// assert!(LimeParams::default().num_samples(1).check().is_err());
/// assert_eq!(LimeParams::default().seed(3).check().unwrap().seed, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LimeParams(LimeValidParams);

impl LimeParams {
    /// Discretiser.
    pub fn discretizer(mut self, d: Discretizer) -> Self {
        self.0.discretizer = d;
        self
    }
    /// Kernel width (`None` = `0.75·√M`).
    pub fn kernel_width(mut self, w: Option<f64>) -> Self {
        self.0.kernel_width = w;
        self
    }
    /// Feature selection.
    pub fn feature_selection(mut self, f: FeatureSelection) -> Self {
        self.0.feature_selection = f;
        self
    }
    /// Number of features.
    pub fn num_features(mut self, n: usize) -> Self {
        self.0.num_features = n;
        self
    }
    /// Neighbourhood size.
    pub fn num_samples(mut self, n: usize) -> Self {
        self.0.num_samples = n;
        self
    }
    /// Seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.0.seed = s;
        self
    }
    /// Mode.
    pub fn mode(mut self, m: LimeMode) -> Self {
        self.0.mode = m;
        self
    }
    /// Copy lime's degenerate-bin quirk.
    pub fn replicate_degenerate_bin_quirk(mut self, on: bool) -> Self {
        self.0.replicate_degenerate_bin_quirk = on;
        self
    }
}

impl ParamGuard for LimeParams {
    type Checked = LimeValidParams;

    fn check_ref(&self) -> Result<&Self::Checked, ParamError> {
        let p = &self.0;
        if p.num_samples < 2 {
            return Err(ParamError::invalid("num_samples", p.num_samples, "must be at least 2"));
        }
        if p.num_features == 0 {
            return Err(ParamError::invalid("num_features", 0, "must be at least 1"));
        }
        if let Some(w) = p.kernel_width {
            crate::params::positive("kernel_width", w)?;
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Discretiser statistics of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinStats {
    /// Distinct percentile cut points.
    pub cuts: Vec<f64>,
    /// Mean per bin (0 when empty).
    pub means: Vec<f64>,
    /// Population std per bin + 1e-11 (1e-11 when empty).
    pub stds: Vec<f64>,
    /// Lower bound per bin (`[min] + cuts`).
    pub mins: Vec<f64>,
    /// Upper bound per bin (`cuts + [max]`).
    pub maxs: Vec<f64>,
    /// Bins that occur in the training data (sorted).
    pub values: Vec<usize>,
    /// Their frequencies (sum 1).
    pub frequencies: Vec<f64>,
    /// Bin names as lime prints them (`"name <= 0.12"`, `"0.12 < name <= 0.50"`, `"name > 0.50"`).
    pub names: Vec<String>,
}

impl BinStats {
    /// Bin of a value: `searchsorted(cuts, v, side='left')`.
    pub fn bin(&self, v: f64) -> usize {
        self.cuts.iter().filter(|&&c| c < v).count()
    }
}

/// A normal distribution truncated to `[minz, maxz]` in standard units, drawn by rejection from the
/// standard normal (lime draws it with scipy's `truncnorm`), or a fixed value.
struct TruncatedNormal {
    mean: f64,
    std: f64,
    minz: f64,
    maxz: f64,
    fixed: bool,
}

impl TruncatedNormal {
    fn draw(&self, g: &mut rng::Rng) -> f64 {
        if self.fixed {
            return self.mean;
        }
        for _ in 0..10_000 {
            let z: f64 = StandardNormal.sample(g);
            if z >= self.minz && z <= self.maxz {
                return self.mean + self.std * z;
            }
        }
        // Interval far in a tail: uniform inside it (practically unreachable, the bin mean lies inside).
        self.mean + self.std * (self.minz + g.gen::<f64>() * (self.maxz - self.minz))
    }
}

/// Rows of the neighbourhood drawn from one random stream (the unit of parallel sampling). A multiple of
/// the cache line in rows, small enough that 5,000 samples split evenly over two threads.
pub const LIME_SAMPLE_BLOCK_ROWS: usize = 512;

/// How one column of the LIME neighbourhood is drawn.
enum ColumnDraw<'a> {
    /// No discretiser: a normal around `centre` with the training `scale`, standardised with `mean`.
    Normal { x: f64, centre: f64, mean: f64, scale: f64 },
    /// A bin drawn from the training frequencies (`cdf`, summing to `total`), then its truncated normal;
    /// the surrogate sees 1 where the bin is `x`'s (`first`).
    Binned {
        x: f64,
        first: usize,
        cdf: Vec<f64>,
        total: f64,
        values: &'a [usize],
        truncated: Vec<TruncatedNormal>,
    },
}

impl ColumnDraw<'_> {
    /// The surrogate's value of the instance itself (row 0 of `data`).
    fn instance_value(&self) -> f64 {
        match *self {
            Self::Normal { x, mean, scale, .. } => (x - mean) / scale,
            Self::Binned { .. } => 1.0,
        }
    }
}

/// Draws block `block` of the neighbourhood (rows `block·LIME_SAMPLE_BLOCK_ROWS..`) from ChaCha8 stream `block`
/// of `seed`, column by column, and returns the rows' Euclidean distances to the instance in `data`.
fn fill_block(
    columns: &[ColumnDraw<'_>],
    seed: u64,
    block: usize,
    mut data: Vec<&mut [f64]>,
    inv: &mut [f64],
) -> Vec<f64> {
    let mut g = rng::seeded(seed);
    g.set_stream(block as u64);
    let p = columns.len();
    let rows = data.first().map_or(0, |c| c.len());
    // Row 0 of the first block is the instance itself.
    let skip = usize::from(block == 0);
    let mut drawn = vec![0usize; rows];
    let mut sq = vec![0.0; rows];
    for (j, (column, dcol)) in columns.iter().zip(data.iter_mut()).enumerate() {
        match column {
            ColumnDraw::Normal { x, centre, mean, scale } => {
                for (i, d) in dcol.iter_mut().enumerate() {
                    let z: f64 = StandardNormal.sample(&mut g);
                    let v = if i < skip { *x } else { z * scale + centre };
                    inv[i * p + j] = v;
                    *d = (v - mean) / scale;
                }
            }
            ColumnDraw::Binned { x, first, cdf, total, values, truncated } => {
                let last = cdf.len().saturating_sub(1);
                // One 32-bit word per bin choice (a resolution of 2⁻³², far below any bin frequency of a
                // training set) instead of the 64 bits of a uniform f64: a quarter fewer ChaCha words.
                let unit = total / 4_294_967_296.0;
                for b in &mut drawn {
                    let u = f64::from(g.gen::<u32>()) * unit;
                    // The first k with u < cdf[k], counted without branches (the cdf is non-decreasing, so
                    // it is the number of entries ≤ u): a random bin choice mispredicts a search loop.
                    let k = cdf.iter().map(|&c| usize::from(c <= u)).sum::<usize>().min(last);
                    *b = values[k];
                }
                for (i, (&b, d)) in drawn.iter().zip(dcol.iter_mut()).enumerate() {
                    if i < skip {
                        *d = 1.0;
                        inv[j] = *x;
                    } else {
                        *d = f64::from(u8::from(b == *first));
                        inv[i * p + j] = truncated[b].draw(&mut g);
                    }
                }
            }
        }
        let c0 = column.instance_value();
        for (s, &d) in sq.iter_mut().zip(dcol.iter()) {
            *s += (d - c0) * (d - c0);
        }
    }
    sq.into_iter().map(f64::sqrt).collect()
}

/// numpy `percentile` with the default linear interpolation on sorted data.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let pos = q / 100.0 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    // numpy's _lerp: a + (b − a)·t, computed from the upper end when t ≥ 0.5.
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if frac >= 0.5 {
        b - diff * (1.0 - frac)
    } else {
        a + diff * frac
    }
}

/// A fitted LIME tabular explainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimeTabular {
    params: LimeValidParams,
    feature_names: Vec<String>,
    /// Per-feature discretiser statistics (empty without discretiser).
    bins: Vec<BinStats>,
    /// Training mean and population std (0 → 1) for the non-discretised path.
    mean: Vec<f64>,
    scale: Vec<f64>,
}

/// The local surrogate fitted for one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalModel {
    /// Explained label (output index).
    pub label: usize,
    /// Features in selection order.
    pub used_features: Vec<usize>,
    /// Ridge intercept.
    pub intercept: f64,
    /// `(feature, coefficient)` sorted by |coefficient| descending (lime's `local_exp`).
    pub local_exp: Vec<(usize, f64)>,
    /// Weighted R² of the surrogate on the neighbourhood.
    pub score: f64,
    /// Surrogate prediction at the instance.
    pub local_pred: f64,
}

/// A LIME explanation: the surrogate per label plus names for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimeExplanation {
    /// Model prediction at the instance, per output.
    pub predicted: Vec<f64>,
    /// One surrogate per explained label.
    pub models: Vec<LocalModel>,
    /// Display name per feature for this instance (the bin it falls in, or the feature name).
    pub feature_labels: Vec<String>,
    /// The instance.
    pub instance: Vec<f64>,
}

impl LimeExplanation {
    /// `as_list()` of the first model: `(label, weight)` pairs in `local_exp` order.
    pub fn as_list(&self) -> Vec<(String, f64)> {
        self.models
            .first()
            .map(|m| m.local_exp.iter().map(|&(f, w)| (self.feature_labels[f].clone(), w)).collect())
            .unwrap_or_default()
    }
}

/// A drawn neighbourhood.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbourhood {
    /// Representation the surrogate is fitted on (binary "same bin as x" with the discretiser).
    pub data: Array2<f64>,
    /// Rows in the original feature space (what the model sees).
    pub inverse: Array2<f64>,
    /// Euclidean distance of each row of `data` to row 0.
    pub distances: Vec<f64>,
}

impl LimeTabular {
    /// Fits the explainer's statistics on training data (no training labels: every discretiser except
    /// [`Discretizer::Entropy`]).
    ///
    /// # Errors
    /// [`ExplainError::Empty`], [`ExplainError::NonFinite`], [`ExplainError::Params`],
    /// [`ExplainError::ShapeMismatch`] when `feature_names` has the wrong length,
    /// [`ExplainError::MissingLabels`] with the entropy discretiser.
    pub fn fit(
        training: ArrayView2<'_, f64>,
        feature_names: Vec<String>,
        params: &LimeParams,
    ) -> Result<Self, ExplainError> {
        Self::fit_with_labels(training, None, feature_names, params)
    }

    /// Fits the explainer's statistics on training data with lime's `training_labels` (used by the entropy
    /// discretiser; ignored by the others, as in lime).
    ///
    /// # Errors
    /// As [`LimeTabular::fit`], plus [`ExplainError::ShapeMismatch`] when `labels` does not have one value
    /// per training row and [`ExplainError::InvalidLabel`] when the entropy discretiser gets a label that
    /// is not a finite integer.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::{Discretizer, LimeParams, LimeTabular};
    /// use ndarray::Array2;
    /// let train = Array2::from_shape_fn((40, 1), |(i, _)| i as f64);
    /// let labels: Vec<f64> = (0..40).map(|i| f64::from(u8::from(i >= 25))).collect();
    /// let p = LimeParams::default().discretizer(Discretizer::Entropy);
    /// let lime = LimeTabular::fit_with_labels(train.view(), Some(&labels), vec!["x".into()], &p).unwrap();
    /// assert_eq!(lime.bin_stats()[0].cuts, vec![24.5]); // one pure split between 24 and 25
    /// assert!(LimeTabular::fit(train.view(), vec!["x".into()], &p).is_err());
    /// ```
    pub fn fit_with_labels(
        training: ArrayView2<'_, f64>,
        labels: Option<&[f64]>,
        feature_names: Vec<String>,
        params: &LimeParams,
    ) -> Result<Self, ExplainError> {
        let params = params.check_ref()?.clone();
        let (n, p) = training.dim();
        if n == 0 || p == 0 {
            return Err(ExplainError::Empty { what: "training data" });
        }
        if feature_names.len() != p {
            return Err(ExplainError::ShapeMismatch {
                what: "feature names",
                expected: p,
                got: feature_names.len(),
            });
        }
        super::background::check_finite(training, "training data")?;
        let mut mean = vec![0.0; p];
        let mut scale = vec![1.0; p];
        for j in 0..p {
            let col = training.column(j);
            let m = col.sum() / n as f64;
            let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
            mean[j] = m;
            scale[j] = if var.sqrt() == 0.0 { 1.0 } else { var.sqrt() };
        }
        let qs: &[f64] = match params.discretizer {
            Discretizer::Quartile => &[25.0, 50.0, 75.0],
            Discretizer::Decile => &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
            Discretizer::Entropy | Discretizer::None => &[],
        };
        let classes = match params.discretizer {
            Discretizer::Entropy => {
                let labels = labels.ok_or(ExplainError::MissingLabels { what: "the entropy discretiser" })?;
                Some(class_indices(labels, n)?)
            }
            _ => None,
        };
        let mut bins = Vec::new();
        if params.discretizer != Discretizer::None {
            for j in 0..p {
                let mut sorted = training.column(j).to_vec();
                sorted.sort_by(f64::total_cmp);
                let mut cuts: Vec<f64> = match &classes {
                    Some((cls, k)) => {
                        let t = entropy_tree_thresholds(training.column(j), cls, *k);
                        if t.is_empty() {
                            // np.median
                            vec![if n % 2 == 1 {
                                sorted[n / 2]
                            } else {
                                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
                            }]
                        } else {
                            t
                        }
                    }
                    None => qs.iter().map(|&q| percentile(&sorted, q)).collect(),
                };
                cuts.dedup();
                let nb = cuts.len() + 1;
                let mut st = BinStats {
                    mins: std::iter::once(sorted[0]).chain(cuts.iter().copied()).collect(),
                    maxs: cuts.iter().copied().chain(std::iter::once(sorted[n - 1])).collect(),
                    cuts,
                    means: vec![0.0; nb],
                    stds: vec![0.0; nb],
                    values: Vec::new(),
                    frequencies: Vec::new(),
                    names: Vec::new(),
                };
                let binned: Vec<usize> = training.column(j).iter().map(|&v| st.bin(v)).collect();
                for b in 0..nb {
                    let vals: Vec<f64> = training
                        .column(j)
                        .iter()
                        .zip(&binned)
                        .filter(|(_, &k)| k == b)
                        .map(|(v, _)| *v)
                        .collect();
                    if !vals.is_empty() {
                        let m = vals.iter().sum::<f64>() / vals.len() as f64;
                        let var = vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / vals.len() as f64;
                        st.means[b] = m;
                        st.stds[b] = var.sqrt() + 1e-11;
                        st.values.push(b);
                        st.frequencies.push(vals.len() as f64 / n as f64);
                    } else {
                        st.stds[b] = 1e-11;
                    }
                }
                let name = &feature_names[j];
                let c = &st.cuts;
                st.names.push(format!("{name} <= {:.2}", c[0]));
                for k in 1..c.len() {
                    st.names.push(format!("{:.2} < {name} <= {:.2}", c[k - 1], c[k]));
                }
                st.names.push(format!("{name} > {:.2}", c[c.len() - 1]));
                bins.push(st);
            }
        }
        Ok(Self { params, feature_names, bins, mean, scale })
    }

    /// The feature names, one per column the explainer expects.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Per-feature discretiser statistics.
    pub fn bin_stats(&self) -> &[BinStats] {
        &self.bins
    }

    /// Kernel width in use.
    pub fn kernel_width(&self) -> f64 {
        self.params.kernel_width.unwrap_or(0.75 * (self.feature_names.len() as f64).sqrt())
    }

    /// lime's kernel: `sqrt(exp(−d² / w²))`.
    pub fn kernel(&self, d: f64) -> f64 {
        let w = self.kernel_width();
        (-(d * d) / (w * w)).exp().sqrt()
    }

    /// Draws the neighbourhood of `x` (row 0 is `x` itself), seeded by the params' seed.
    ///
    /// The rows are drawn in blocks of [`LIME_SAMPLE_BLOCK_ROWS`], block `b` from the ChaCha8 stream `b` of the
    /// seed; with feature `parallel` the blocks are drawn on all threads. The neighbourhood depends only
    /// on the seed, not on the thread count or the target (native and wasm32 draw the same rows).
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when `x` has the wrong length.
    pub fn sample(&self, x: ArrayView1<'_, f64>) -> Result<Neighbourhood, ExplainError> {
        self.sample_seeded(x, self.params.seed)
    }

    fn sample_seeded(&self, x: ArrayView1<'_, f64>, seed: u64) -> Result<Neighbourhood, ExplainError> {
        let p = self.feature_names.len();
        if x.len() != p {
            return Err(ExplainError::ShapeMismatch { what: "instance", expected: p, got: x.len() });
        }
        let ns = self.params.num_samples;
        let columns: Vec<ColumnDraw<'_>> = (0..p).map(|j| self.column_draw(j, x[j])).collect();
        // `data` is column-major (the surrogate's fits read its columns); `inverse` is row-major, as the
        // model reads rows. Block `b` owns rows `b·B..` of every column of `data` and of `inverse`.
        let mut data = vec![0.0; ns * p];
        let mut inv = vec![0.0; ns * p];
        let mut blocks: Vec<(Vec<&mut [f64]>, &mut [f64])> = inv
            .chunks_mut((LIME_SAMPLE_BLOCK_ROWS * p).max(1))
            .map(|rows| (Vec::with_capacity(p), rows))
            .collect();
        for column in data.chunks_mut(ns.max(1)) {
            for (piece, block) in column.chunks_mut(LIME_SAMPLE_BLOCK_ROWS).zip(blocks.iter_mut()) {
                block.0.push(piece);
            }
        }
        let fill = |(b, (cols, rows)): (usize, (Vec<&mut [f64]>, &mut [f64]))| {
            fill_block(&columns, seed, b, cols, rows)
        };
        #[cfg(feature = "parallel")]
        let parts: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            blocks.into_par_iter().enumerate().map(fill).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let parts: Vec<Vec<f64>> = blocks.into_iter().enumerate().map(fill).collect();
        let distances = parts.concat();
        let shape_err =
            |_| ExplainError::ShapeMismatch { what: "neighbourhood", expected: ns * p, got: ns * p };
        let data = Array2::from_shape_vec((ns, p).f(), data).map_err(shape_err)?;
        let inverse = Array2::from_shape_vec((ns, p), inv).map_err(shape_err)?;
        Ok(Neighbourhood { data, inverse, distances })
    }

    /// How column `j` of the neighbourhood is drawn for an instance whose value there is `xj`.
    fn column_draw(&self, j: usize, xj: f64) -> ColumnDraw<'_> {
        match self.bins.get(j) {
            None => {
                let (mean, scale) = (self.mean[j], self.scale[j]);
                let centre = if self.params.sample_around_instance { xj } else { mean };
                ColumnDraw::Normal { x: xj, centre, mean, scale }
            }
            Some(st) => {
                let cdf: Vec<f64> = st
                    .frequencies
                    .iter()
                    .scan(0.0, |a, f| {
                        *a += f;
                        Some(*a)
                    })
                    .collect();
                let total = cdf.last().copied().unwrap_or(1.0);
                let truncated = (0..st.means.len()).map(|b| self.truncated_normal(st, b)).collect();
                ColumnDraw::Binned { x: xj, first: st.bin(xj), cdf, total, values: &st.values, truncated }
            }
        }
    }

    /// The undiscretisation of bin `b`: lime's truncated normal with the bin's mean and std between its
    /// bounds, or a fixed value for a degenerate bin.
    fn truncated_normal(&self, st: &BinStats, b: usize) -> TruncatedNormal {
        let (mean, std) = (st.means[b], st.stds[b]);
        let minz = (st.mins[b] - mean) / std;
        let maxz = (st.maxs[b] - mean) / std;
        if minz == maxz {
            let v = if self.params.replicate_degenerate_bin_quirk { minz } else { st.mins[b] };
            return TruncatedNormal { mean: v, std: 0.0, minz, maxz, fixed: true };
        }
        TruncatedNormal { mean, std, minz, maxz, fixed: false }
    }

    /// Explains `x` for `labels` (regression: `[0]`).
    ///
    /// # Errors
    /// Shape, model and label errors.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::{FnPredictor, LimeParams, LimeTabular};
    /// use ndarray::Array2;
    /// let train = Array2::from_shape_fn((200, 3), |(i, j)| ((i * 7 + j * 13) % 50) as f64 / 10.0);
    /// let names = vec!["a".into(), "b".into(), "c".into()];
    /// let lime = LimeTabular::fit(train.view(), names, &LimeParams::default().num_samples(500)).unwrap();
    /// let model = FnPredictor::new(1, |rows, mut out| {
    ///     for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) { o[0] = 3.0 * r[0]; }
    /// });
    /// let e = lime.explain(train.row(0), &model, &[0]).unwrap();
    /// assert_eq!(e.models[0].local_exp[0].0, 0); // feature a dominates
    /// ```
    pub fn explain<P: Predictor + ?Sized>(
        &self,
        x: ArrayView1<'_, f64>,
        model: &P,
        labels: &[usize],
    ) -> Result<LimeExplanation, ExplainError> {
        // Inside the thread pool, the parallel steps of one explanation start without waking the caller.
        #[cfg(feature = "parallel")]
        return rayon::scope(|_| self.explain_seeded(x, model, labels, self.params.seed));
        #[cfg(not(feature = "parallel"))]
        self.explain_seeded(x, model, labels, self.params.seed)
    }

    /// Explains every row of `xs` for `labels`. Row `i` is explained with seed `seed + i` (row 0 as
    /// [`LimeTabular::explain`] would), so the result does not depend on the thread count. With feature
    /// `parallel` the rows are explained on all threads, unless the model is costly to call (Python,
    /// JavaScript), which is then called for one row at a time.
    ///
    /// # Errors
    /// As [`LimeTabular::explain`]; a wrong number of columns is a [`ExplainError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::{FnPredictor, LimeParams, LimeTabular};
    /// use ndarray::Array2;
    /// let train = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7 + j * 13) % 50) as f64 / 10.0);
    /// let lime = LimeTabular::fit(train.view(), vec!["a".into(), "b".into()], &LimeParams::default()).unwrap();
    /// let model = FnPredictor::new(1, |rows, mut out| {
    ///     for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) { o[0] = r[0] - 20.0 * r[1]; }
    /// });
    /// let all = lime.explain_rows(train.slice(ndarray::s![..3, ..]), &model, &[0]).unwrap();
    /// assert_eq!(all.len(), 3);
    /// assert_eq!(all[0], lime.explain(train.row(0), &model, &[0]).unwrap());
    /// assert!(all.iter().all(|e| e.models[0].local_exp[0].0 == 1)); // b weighs most
    /// ```
    pub fn explain_rows<P: Predictor + ?Sized>(
        &self,
        xs: ArrayView2<'_, f64>,
        model: &P,
        labels: &[usize],
    ) -> Result<Vec<LimeExplanation>, ExplainError> {
        let p = self.feature_names.len();
        if xs.ncols() != p {
            return Err(ExplainError::ShapeMismatch {
                what: "instances (columns)",
                expected: p,
                got: xs.ncols(),
            });
        }
        let seed = self.params.seed;
        let one = |i: usize| self.explain_seeded(xs.row(i), model, labels, seed.wrapping_add(i as u64));
        #[cfg(feature = "parallel")]
        if !model.costly_calls() {
            use rayon::prelude::*;
            return (0..xs.nrows()).into_par_iter().map(one).collect();
        }
        (0..xs.nrows()).map(one).collect()
    }

    fn explain_seeded<P: Predictor + ?Sized>(
        &self,
        x: ArrayView1<'_, f64>,
        model: &P,
        labels: &[usize],
        seed: u64,
    ) -> Result<LimeExplanation, ExplainError> {
        let nb = self.sample_seeded(x, seed)?;
        let y = predict_checked_blocks(model, nb.inverse.view(), LIME_SAMPLE_BLOCK_ROWS)?;
        let d = y.ncols();
        let mut models = Vec::with_capacity(labels.len());
        for &label in labels {
            if label >= d {
                return Err(ExplainError::OutputOutOfRange { output: label, n_outputs: d });
            }
            let ys = y.column(label).to_vec();
            models.push(self.explain_with_data(nb.data.view(), &ys, &nb.distances, label)?);
        }
        let feature_labels = (0..x.len())
            .map(|j| match self.bins.get(j) {
                Some(st) => st.names[st.bin(x[j])].clone(),
                None => self.feature_names[j].clone(),
            })
            .collect();
        Ok(LimeExplanation { predicted: y.row(0).to_vec(), models, feature_labels, instance: x.to_vec() })
    }

    /// The deterministic part of lime (`LimeBase.explain_instance_with_data`): kernel weights from the
    /// distances, feature selection and the weighted Ridge(α = 1) surrogate for one label.
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when `labels`/`distances` do not match the rows of `data`.
    pub fn explain_with_data(
        &self,
        data: ArrayView2<'_, f64>,
        labels: &[f64],
        distances: &[f64],
        label: usize,
    ) -> Result<LocalModel, ExplainError> {
        let n = data.nrows();
        if labels.len() != n || distances.len() != n {
            return Err(ExplainError::ShapeMismatch {
                what: "neighbourhood labels/distances",
                expected: n,
                got: labels.len().min(distances.len()),
            });
        }
        if n == 0 {
            return Err(ExplainError::Empty { what: "neighbourhood" });
        }
        let w: Vec<f64> = distances.iter().map(|&d| self.kernel(d)).collect();
        let nf = self.params.num_features;
        let all: Vec<usize> = (0..data.ncols()).collect();
        let design = WeightedDesign::new(data, &all, labels, &w);
        let used = select_on(&design, data, labels, &w, nf, self.params.feature_selection);
        let fit = design.ridge(&used, 1.0);
        let score = design.score(&fit, &used);
        let x0: Vec<f64> = used.iter().map(|&j| data[[0, j]]).collect();
        let local_pred = fit.predict(&x0);
        let mut local_exp: Vec<(usize, f64)> = used.iter().copied().zip(fit.coef.iter().copied()).collect();
        local_exp.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        Ok(LocalModel { label, used_features: used, intercept: fit.intercept, local_exp, score, local_pred })
    }
}

/// Feature selection as lime's `LimeBase.feature_selection`.
pub fn select_features(
    data: ArrayView2<'_, f64>,
    y: &[f64],
    w: &[f64],
    num_features: usize,
    method: FeatureSelection,
) -> Vec<usize> {
    let all: Vec<usize> = (0..data.ncols()).collect();
    select_on(&WeightedDesign::new(data, &all, y, w), data, y, w, num_features, method)
}

/// [`select_features`] on a design holding every column of `data`.
fn select_on(
    design: &WeightedDesign<'_>,
    data: ArrayView2<'_, f64>,
    y: &[f64],
    w: &[f64],
    num_features: usize,
    method: FeatureSelection,
) -> Vec<usize> {
    let p = data.ncols();
    let method = match method {
        FeatureSelection::Auto if num_features <= 6 => FeatureSelection::ForwardSelection,
        FeatureSelection::Auto => FeatureSelection::HighestWeights,
        m => m,
    };
    match method {
        FeatureSelection::None | FeatureSelection::Auto => (0..p).collect(),
        FeatureSelection::ForwardSelection => {
            let mut used: Vec<usize> = Vec::new();
            for _ in 0..num_features.min(p) {
                let mut best = 0;
                let mut max = -100_000_000.0;
                for f in 0..p {
                    if used.contains(&f) {
                        continue;
                    }
                    let mut cols = used.clone();
                    cols.push(f);
                    let fit = design.ridge(&cols, 0.0);
                    let s = design.score(&fit, &cols);
                    if s > max {
                        best = f;
                        max = s;
                    }
                }
                used.push(best);
            }
            used
        }
        FeatureSelection::LassoPath => lasso_path_selection(data, y, w, num_features),
        FeatureSelection::HighestWeights => {
            let all: Vec<usize> = (0..p).collect();
            let fit = design.ridge(&all, 0.01);
            let mut order: Vec<(usize, f64)> = (0..p).map(|j| (j, fit.coef[j] * data[[0, j]])).collect();
            order.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            order.into_iter().take(num_features).map(|(j, _)| j).collect()
        }
    }
}

/// lime's `lasso_path` selection: the Lasso path of `(X − x̄_w)·√w` on `(y − ȳ_w)·√w`, scanned from
/// its end for the first step with at most `num_features` non-zero coefficients (never step 0: with a
/// one-step path every feature is kept, as lime).
fn lasso_path_selection(data: ArrayView2<'_, f64>, y: &[f64], w: &[f64], num_features: usize) -> Vec<usize> {
    let (n, p) = data.dim();
    let sw: f64 = w.iter().sum();
    let xm: Vec<f64> =
        (0..p).map(|j| data.column(j).iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw).collect();
    let ym = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let mut x = vec![0.0; n * p];
    let mut yw = vec![0.0; n];
    for i in 0..n {
        let sq = w[i].sqrt();
        for j in 0..p {
            x[i * p + j] = (data[[i, j]] - xm[j]) * sq;
        }
        yw[i] = (y[i] - ym) * sq;
    }
    let path = super::lars::lars_path(&x, &yw, p, super::lars::LarsMethod::Lasso, 500);
    let mut nonzero: Vec<usize> = (0..p).collect();
    for coef in path.coefs.iter().skip(1).rev() {
        nonzero = (0..p).filter(|&j| coef[j] != 0.0).collect();
        if nonzero.len() <= num_features {
            break;
        }
    }
    nonzero
}

/// Class index of every label (`np.unique` order), and the number of classes.
fn class_indices(labels: &[f64], n: usize) -> Result<(Vec<usize>, usize), ExplainError> {
    if labels.len() != n {
        return Err(ExplainError::ShapeMismatch { what: "training labels", expected: n, got: labels.len() });
    }
    if let Some((row, &value)) = labels.iter().enumerate().find(|(_, v)| !v.is_finite() || v.fract() != 0.0) {
        return Err(ExplainError::InvalidLabel { row, value });
    }
    let mut uniq = labels.to_vec();
    uniq.sort_by(f64::total_cmp);
    uniq.dedup();
    let cls = labels.iter().map(|v| uniq.partition_point(|u| u < v)).collect();
    Ok((cls, uniq.len()))
}

/// sklearn's `FEATURE_THRESHOLD`: sorted values closer than this are not split between.
const FEATURE_THRESHOLD: f64 = 1e-7;

/// Sorted split thresholds of `DecisionTreeClassifier(criterion="entropy", max_depth=3)` fitted on one
/// feature (see the module docs).
fn entropy_tree_thresholds(col: ArrayView1<'_, f64>, classes: &[usize], n_classes: usize) -> Vec<f64> {
    let mut pts: Vec<(f64, usize)> =
        col.iter().map(|&v| f64::from(v as f32)).zip(classes.iter().copied()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    grow_entropy_node(&pts, 0, n_classes, &mut out);
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// Entropy in bits of class counts (sklearn's `Entropy` criterion, `log(x) = ln(x) / ln(2)`).
fn entropy_bits(counts: &[f64], total: f64) -> f64 {
    let ln2 = 2f64.ln();
    let mut h = 0.0;
    for &c in counts {
        if c > 0.0 {
            let q = c / total;
            h -= q * (q.ln() / ln2);
        }
    }
    h
}

fn grow_entropy_node(pts: &[(f64, usize)], depth: usize, k: usize, out: &mut Vec<f64>) {
    let n = pts.len();
    if depth >= 3 || n < 2 {
        return;
    }
    let mut total = vec![0.0; k];
    for &(_, c) in pts {
        total[c] += 1.0;
    }
    if entropy_bits(&total, n as f64) <= f64::EPSILON || pts[n - 1].0 <= pts[0].0 + FEATURE_THRESHOLD {
        return;
    }
    let mut left = vec![0.0; k];
    let mut right = total.clone();
    let mut best: Option<(usize, f64, f64)> = None; // (pos, proxy, threshold)
    let (mut p, mut moved) = (0usize, 0usize);
    while p < n {
        while p + 1 < n && pts[p + 1].0 <= pts[p].0 + FEATURE_THRESHOLD {
            p += 1;
        }
        let p_prev = p;
        p += 1;
        if p >= n {
            break;
        }
        for &(_, c) in &pts[moved..p] {
            left[c] += 1.0;
            right[c] -= 1.0;
        }
        moved = p;
        let (nl, nr) = (p as f64, (n - p) as f64);
        let proxy = -nr * entropy_bits(&right, nr) - nl * entropy_bits(&left, nl);
        if best.is_none_or(|(_, b, _)| proxy > b) {
            let (a, b) = (pts[p_prev].0, pts[p].0);
            let mut t = a / 2.0 + b / 2.0;
            if t == b || t.is_infinite() {
                t = a;
            }
            best = Some((p, proxy, t));
        }
    }
    if let Some((pos, _, t)) = best {
        out.push(t);
        grow_entropy_node(&pts[..pos], depth + 1, k, out);
        grow_entropy_node(&pts[pos..], depth + 1, k, out);
    }
}

/// Weighted ridge with intercept, as scikit-learn's `Ridge(alpha).fit(X, y, sample_weight)`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRidge {
    /// Coefficients (in the order of the columns fitted).
    pub coef: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

impl WeightedRidge {
    /// Fits on columns `cols` of `x`: centre by the weighted means, solve `(XcᵀWXc + αI)β = XcᵀWyc`.
    pub fn fit(x: ArrayView2<'_, f64>, cols: &[usize], y: &[f64], w: &[f64], alpha: f64) -> Self {
        let design = WeightedDesign::new(x, cols, y, w);
        let all: Vec<usize> = (0..cols.len()).collect();
        design.ridge(&all, alpha)
    }

    /// Prediction for one row given in the fitted column order.
    pub fn predict(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coef).map(|(a, b)| a * b).sum::<f64>()
    }

    /// Weighted R² (`sklearn.metrics.r2_score` with `sample_weight`).
    pub fn score(&self, x: ArrayView2<'_, f64>, cols: &[usize], y: &[f64], w: &[f64]) -> f64 {
        let design = WeightedDesign::new(x, cols, y, w);
        let all: Vec<usize> = (0..cols.len()).collect();
        design.score(self, &all)
    }
}

/// Multiply-adds of a Gram matrix (`n·q²`) from which its rows are computed on all threads.
#[cfg(feature = "parallel")]
const PARALLEL_GRAM_MIN_FLOPS: usize = 100_000;

/// The weighted, centred design of one neighbourhood. Each column is centred by its weighted mean and
/// the weighted Gram matrix `Σ w·cₖ·cₗ` and right-hand side `Σ w·cₖ·y_c` are formed once, column by
/// column (contiguous, vectorised dot products); a ridge fit over any subset of the columns is then a
/// small solve, and its R² one pass over the subset's columns. Forward selection fits p·k subsets.
struct WeightedDesign<'a> {
    n: usize,
    w: &'a [f64],
    /// Centred columns, one after another (`n` values each).
    centred: Vec<f64>,
    /// Weighted column means.
    xm: Vec<f64>,
    /// Weighted mean of `y`, `y` centred by it, and `Σ w·y_c²`.
    ym: f64,
    yc: Vec<f64>,
    tss: f64,
    /// `Σ w·cₖ·cₗ` (row-major, q × q) and `Σ w·cₖ·y_c`.
    gram: Vec<f64>,
    rhs: Vec<f64>,
}

impl<'a> WeightedDesign<'a> {
    fn new(x: ArrayView2<'_, f64>, cols: &[usize], y: &[f64], w: &'a [f64]) -> Self {
        let (n, q) = (x.nrows(), cols.len());
        let ones = vec![1.0; n];
        let sw = dot(w, &ones);
        let ym = dot(y, w) / sw;
        let yc: Vec<f64> = y.iter().map(|v| v - ym).collect();
        let wyc: Vec<f64> = yc.iter().zip(w).map(|(a, b)| a * b).collect();
        let mut centred = Vec::with_capacity(n * q);
        let mut xm = Vec::with_capacity(q);
        for &j in cols {
            let at = centred.len();
            let column = x.column(j);
            match column.as_slice() {
                Some(values) => centred.extend_from_slice(values),
                None => centred.extend(column.iter().copied()),
            }
            let col = &mut centred[at..];
            let m = dot(col, w) / sw;
            for v in col.iter_mut() {
                *v -= m;
            }
            xm.push(m);
        }
        // Row k of the Gram matrix from column k on, and Σ w·c_k·y_c.
        let gram_row = |k: usize| -> (f64, Vec<f64>) {
            let ck = &centred[k * n..(k + 1) * n];
            let wc: Vec<f64> = ck.iter().zip(w).map(|(c, wi)| c * wi).collect();
            (dot(ck, &wyc), (k..q).map(|l| dot(&wc, &centred[l * n..(l + 1) * n])).collect())
        };
        #[cfg(feature = "parallel")]
        let rows: Vec<(f64, Vec<f64>)> = if n * q * q >= PARALLEL_GRAM_MIN_FLOPS {
            use rayon::prelude::*;
            (0..q).into_par_iter().map(gram_row).collect()
        } else {
            (0..q).map(gram_row).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let rows: Vec<(f64, Vec<f64>)> = (0..q).map(gram_row).collect();
        let mut gram = vec![0.0; q * q];
        let mut rhs = vec![0.0; q];
        for (k, (r, row)) in rows.into_iter().enumerate() {
            rhs[k] = r;
            for (l, v) in (k..q).zip(row) {
                gram[k * q + l] = v;
                gram[l * q + k] = v;
            }
        }
        let tss = dot(&wyc, &yc);
        Self { n, w, centred, xm, ym, yc, tss, gram, rhs }
    }

    fn column(&self, k: usize) -> &[f64] {
        &self.centred[k * self.n..(k + 1) * self.n]
    }

    /// Ridge over the design's columns at positions `sel` (coefficients in `sel` order).
    fn ridge(&self, sel: &[usize], alpha: f64) -> WeightedRidge {
        let (q, s) = (self.xm.len(), sel.len());
        let mut a = Vec::with_capacity(s * s);
        for &k in sel {
            a.extend(sel.iter().map(|&l| self.gram[k * q + l]));
        }
        for k in 0..s {
            a[k * s + k] += alpha;
        }
        let b: Vec<f64> = sel.iter().map(|&k| self.rhs[k]).collect();
        let coef = if s == 0 { Vec::new() } else { solve_normal(a, b, s) };
        let intercept = self.ym - sel.iter().zip(&coef).map(|(&k, c)| self.xm[k] * c).sum::<f64>();
        WeightedRidge { coef, intercept }
    }

    /// Weighted R² of `fit` (fitted on the columns at `sel`) on this design's rows.
    fn score(&self, fit: &WeightedRidge, sel: &[usize]) -> f64 {
        let mut r = self.yc.clone();
        for (&k, &c) in sel.iter().zip(&fit.coef) {
            for (ri, x) in r.iter_mut().zip(self.column(k)) {
                *ri -= c * x;
            }
        }
        let wr: Vec<f64> = r.iter().zip(self.w).map(|(a, b)| a * b).collect();
        let num = dot(&wr, &r);
        let den = self.tss;
        if den == 0.0 {
            if num == 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            1.0 - num / den
        }
    }
}

/// Convenience for tests and bindings: an `Array1` of kernel weights for distances.
pub fn kernel_weights(lime: &LimeTabular, distances: &[f64]) -> Array1<f64> {
    distances.iter().map(|&d| lime.kernel(d)).collect()
}
