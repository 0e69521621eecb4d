//! Random forests (classifier and regressor) on histogram-binned splits.
//!
//! Each tree is grown on a bootstrap sample (multiplicities become sample weights, as in scikit-learn), drawing
//! `max_features` candidate features per node; split points are the edges of at most `max_bins` quantile bins
//! per feature, computed once on the training data. `predict_proba` is the mean of the trees' leaf class
//! distributions. Trees are fitted from per-tree seeds drawn from `seed`, so the model is identical with and
//! without the `parallel` feature and on every platform.

mod params;

pub use params::{ClassWeight, MaxFeatures, RandomForestParams, RandomForestValidParams};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::binning::Binned;
use super::inspection::{permutation_importance, PermutationImportance};
use super::metrics;
use super::persist::Persist;
use super::tree::{grow, GrowConfig, Task, Tree};
use super::validate::{check_features, check_predict, check_regression_targets, encode_classes};
use super::ModelError;
use crate::params::{ParamError, ParamGuard};
use crate::rng;

/// A fitted random forest classifier.
///
/// # Examples
/// ```
/// use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams};
/// use battsentinel_core::models::Persist;
/// use ndarray::array;
/// let x = array![[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2], [0.05, 1.1], [1.1, 0.1]];
/// let y = array![0usize, 0, 1, 1, 0, 1];
/// let params = RandomForestParams::default().n_trees(20).seed(1);
/// let model = RandomForestClassifier::fit(&params, &x.view(), &y.view())?;
/// assert_eq!(model.predict(&x.view())?, y);
/// let proba = model.predict_proba(&x.view())?;
/// assert!((proba.row(0).sum() - 1.0).abs() < 1e-12);
/// let again = RandomForestClassifier::load_json(&model.save_json()?)?;
/// assert_eq!(again.predict_proba(&x.view())?, proba);
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForestClassifier {
    params: RandomForestValidParams,
    n_features: usize,
    classes: Vec<usize>,
    trees: Vec<Tree>,
    feature_importances: Vec<f64>,
    oob_score: Option<f64>,
}

/// A fitted random forest regressor.
///
/// # Examples
/// ```
/// use battsentinel_core::models::forest::{RandomForestParams, RandomForestRegressor};
/// use ndarray::{array, Array2};
/// let x = Array2::from_shape_fn((50, 1), |(i, _)| i as f64);
/// let y = x.column(0).mapv(|v| if v < 25.0 { 1.0 } else { 3.0 });
/// let model = RandomForestRegressor::fit(&RandomForestParams::default().n_trees(10), &x.view(), &y.view())?;
/// let p = model.predict(&array![[3.0], [40.0]].view())?;
/// assert!((p[0] - 1.0).abs() < 0.2 && (p[1] - 3.0).abs() < 0.2);
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForestRegressor {
    params: RandomForestValidParams,
    n_features: usize,
    trees: Vec<Tree>,
    feature_importances: Vec<f64>,
    oob_score: Option<f64>,
}

/// Output of fitting all trees.
struct Fitted {
    trees: Vec<Tree>,
    importances: Vec<f64>,
    /// Per tree, in-bag flags (only when the OOB score is requested).
    in_bag: Vec<Vec<bool>>,
}

/// Runs `f(i)` for `i in 0..n`, in parallel with the `parallel` feature; results in index order.
pub(crate) fn map_indices<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

fn fit_trees(
    p: &RandomForestValidParams,
    x: &ArrayView2<f64>,
    base_stats: &[f64],
    task: Task,
) -> Result<Fitted, ModelError> {
    let (n, n_features) = x.dim();
    if let MaxFeatures::Count(k) = p.max_features {
        if k > n_features {
            return Err(ParamError::invalid("max_features", k, "exceeds the number of features").into());
        }
    }
    let max_features = p.max_features.resolve(n_features, matches!(task, Task::Classification { .. }));
    let cfg = GrowConfig {
        task,
        max_depth: p.max_depth.unwrap_or(usize::MAX),
        min_samples_split: p.min_samples_split,
        min_samples_leaf: p.min_samples_leaf,
        max_features,
    };
    let binned = Binned::fit(x, p.max_bins);
    let mut master = rng::seeded(p.seed);
    let seeds: Vec<(u64, u64)> = (0..p.n_trees).map(|_| (master.gen(), master.gen())).collect();
    let s = task.stride();
    let keep_bag = p.oob_score;
    let results = map_indices(p.n_trees, |t| {
        let (boot_seed, tree_seed) = seeds[t];
        let mut counts = vec![0u32; n];
        if p.bootstrap {
            let mut r = rng::seeded(boot_seed);
            for _ in 0..n {
                counts[rng::index(&mut r, 0, n)] += 1;
            }
        } else {
            counts.iter_mut().for_each(|c| *c = 1);
        }
        let mut stats = base_stats.to_vec();
        let mut samples = Vec::with_capacity(n);
        for (i, &c) in counts.iter().enumerate() {
            if c > 0 {
                samples.push(i as u32);
                if c > 1 {
                    for v in &mut stats[i * s + 1..(i + 1) * s] {
                        *v *= c as f64;
                    }
                }
            }
        }
        let mut imp = vec![0.0; n_features];
        let tree = grow(&binned, &stats, samples, &cfg, tree_seed, &mut imp);
        let bag = if keep_bag { counts.iter().map(|&c| c > 0).collect() } else { Vec::new() };
        (tree, imp, bag)
    });
    let mut importances = vec![0.0; n_features];
    let mut trees = Vec::with_capacity(p.n_trees);
    let mut in_bag = Vec::new();
    for (tree, imp, bag) in results {
        let total: f64 = imp.iter().sum();
        if total > 0.0 {
            for (a, v) in importances.iter_mut().zip(&imp) {
                *a += v / total;
            }
        }
        trees.push(tree);
        if keep_bag {
            in_bag.push(bag);
        }
    }
    let total: f64 = importances.iter().sum();
    if total > 0.0 {
        importances.iter_mut().for_each(|v| *v /= total);
    }
    Ok(Fitted { trees, importances, in_bag })
}

/// Mean of the trees' leaf values for every row: `n_rows × d`, row-major. Trees are summed in index order
/// for every row, so the result does not depend on threads.
pub(crate) fn mean_leaf_values(trees: &[Tree], x: &ArrayView2<f64>, d: usize) -> Vec<f64> {
    let xs = x.as_standard_layout();
    let n = xs.nrows();
    let nf = xs.ncols();
    let data = xs.as_slice().unwrap_or(&[]);
    const CHUNK: usize = 512;
    let n_chunks = n.div_ceil(CHUNK);
    let parts = map_indices(n_chunks, |c| {
        let (r0, r1) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
        let mut out = vec![0.0; (r1 - r0) * d];
        for tree in trees {
            tree.add_leaf_values(&data[r0 * nf..r1 * nf], nf, &mut out);
        }
        let inv = 1.0 / trees.len() as f64;
        out.iter_mut().for_each(|v| *v *= inv);
        out
    });
    parts.concat()
}

/// Sum of OOB leaf values and vote counts per row.
fn oob_sums(trees: &[Tree], in_bag: &[Vec<bool>], x: &ArrayView2<f64>, d: usize) -> (Vec<f64>, Vec<u32>) {
    let xs = x.as_standard_layout();
    let (n, nf) = xs.dim();
    let data = xs.as_slice().unwrap_or(&[]);
    let mut sums = vec![0.0; n * d];
    let mut votes = vec![0u32; n];
    for (tree, bag) in trees.iter().zip(in_bag) {
        for r in 0..n {
            if !bag[r] {
                let v = tree.leaf_value_of(&data[r * nf..(r + 1) * nf]);
                for (a, b) in sums[r * d..(r + 1) * d].iter_mut().zip(v) {
                    *a += b;
                }
                votes[r] += 1;
            }
        }
    }
    (sums, votes)
}

fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = k;
        }
    }
    best
}

fn restore_trees(trees: &mut [Tree], n_features: usize, n_outputs: usize) -> Result<(), ModelError> {
    if trees.is_empty() {
        return Err(ModelError::Corrupt { reason: "forest without trees".to_string() });
    }
    for t in trees.iter_mut() {
        t.restore(n_features)?;
        if t.view().n_outputs != n_outputs {
            return Err(ModelError::Corrupt {
                reason: "tree output count differs from the model's".to_string(),
            });
        }
    }
    Ok(())
}

impl RandomForestClassifier {
    /// Fits a forest to features `x` (`n_rows × n_features`) and class labels `y`.
    ///
    /// # Errors
    /// [`ModelError::Params`], [`ModelError::EmptyData`], [`ModelError::NonFinite`],
    /// [`ModelError::TargetLength`], [`ModelError::SingleClass`], [`ModelError::ClassWeight`].
    pub fn fit<P: ParamGuard<Checked = RandomForestValidParams>>(
        params: &P,
        x: &ArrayView2<f64>,
        y: &ArrayView1<usize>,
    ) -> Result<Self, ModelError> {
        let p = params.check_ref()?;
        check_features(x)?;
        let (classes, encoded) = encode_classes(x.nrows(), y)?;
        let k = classes.len();
        let weights = class_weights(&p.class_weight, &classes, &encoded)?;
        let task = Task::Classification { n_classes: k };
        let s = task.stride();
        let mut stats = vec![0.0; x.nrows() * s];
        for (i, &c) in encoded.iter().enumerate() {
            stats[i * s] = 1.0;
            stats[i * s + 1 + c] = weights[c];
        }
        let fitted = fit_trees(p, x, &stats, task)?;
        let oob_score = if p.oob_score {
            let (sums, votes) = oob_sums(&fitted.trees, &fitted.in_bag, x, k);
            let (mut hit, mut total) = (0usize, 0usize);
            for (r, &v) in votes.iter().enumerate() {
                if v > 0 {
                    total += 1;
                    hit += (argmax(&sums[r * k..(r + 1) * k]) == encoded[r]) as usize;
                }
            }
            (total > 0).then(|| hit as f64 / total as f64)
        } else {
            None
        };
        Ok(RandomForestClassifier {
            params: p.clone(),
            n_features: x.ncols(),
            classes,
            trees: fitted.trees,
            feature_importances: fitted.importances,
            oob_score,
        })
    }

    /// Class probabilities, `n_rows × n_classes` (columns in the order of [`Self::classes`]): the mean of the
    /// trees' leaf distributions.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`], [`ModelError::NonFinite`].
    pub fn predict_proba(&self, x: &ArrayView2<f64>) -> Result<Array2<f64>, ModelError> {
        check_predict(x, self.n_features)?;
        let k = self.classes.len();
        let v = mean_leaf_values(&self.trees, x, k);
        Array2::from_shape_vec((x.nrows(), k), v)
            .map_err(|_| ModelError::Corrupt { reason: "probability shape".to_string() })
    }

    /// Most probable class label per row.
    ///
    /// # Errors
    /// As [`Self::predict_proba`].
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<usize>, ModelError> {
        let proba = self.predict_proba(x)?;
        Ok(proba.outer_iter().map(|r| self.classes[argmax(r.as_slice().unwrap_or(&[]))]).collect())
    }

    /// Accuracy on `(x, y)`.
    ///
    /// # Errors
    /// As [`Self::predict`], plus [`ModelError::TargetLength`].
    pub fn score(&self, x: &ArrayView2<f64>, y: &ArrayView1<usize>) -> Result<f64, ModelError> {
        let p = self.predict(x)?;
        metrics::accuracy(&y.view(), &p.view())
    }

    /// Permutation importance of every feature on `(x, y)` (accuracy drop), `n_repeats` shuffles per feature.
    ///
    /// # Errors
    /// As [`Self::score`]; [`ModelError::Params`] if `n_repeats` is 0.
    pub fn permutation_importance(
        &self,
        x: &ArrayView2<f64>,
        y: &ArrayView1<usize>,
        n_repeats: usize,
        seed: u64,
    ) -> Result<PermutationImportance, ModelError> {
        permutation_importance(x, n_repeats, seed, |xp| self.score(xp, y))
    }

    /// Sorted class labels seen in training (column order of `predict_proba`).
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    /// Number of features the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The fitted trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Mean decrease in impurity per feature (sums to 1, as scikit-learn's `feature_importances_`).
    pub fn feature_importances(&self) -> &[f64] {
        &self.feature_importances
    }

    /// Out-of-bag accuracy, when requested in the params.
    pub fn oob_score(&self) -> Option<f64> {
        self.oob_score
    }

    /// The parameters the model was fitted with.
    pub fn params(&self) -> &RandomForestValidParams {
        &self.params
    }
}

impl Persist for RandomForestClassifier {
    const KIND: &'static str = "random_forest_classifier";

    fn restore(&mut self) -> Result<(), ModelError> {
        if self.classes.len() < 2 || self.feature_importances.len() != self.n_features {
            return Err(ModelError::Corrupt { reason: "classes or importances inconsistent".to_string() });
        }
        restore_trees(&mut self.trees, self.n_features, self.classes.len())
    }
}

fn class_weights(cw: &ClassWeight, classes: &[usize], encoded: &[usize]) -> Result<Vec<f64>, ModelError> {
    let k = classes.len();
    match cw {
        ClassWeight::Uniform => Ok(vec![1.0; k]),
        ClassWeight::Balanced => {
            let mut counts = vec![0usize; k];
            for &c in encoded {
                counts[c] += 1;
            }
            let n = encoded.len() as f64;
            Ok(counts.iter().map(|&c| n / (k as f64 * c as f64)).collect())
        }
        ClassWeight::Custom(pairs) => {
            for (label, _) in pairs {
                if classes.binary_search(label).is_err() {
                    return Err(ModelError::ClassWeight {
                        class: *label,
                        reason: "label not in the training data",
                    });
                }
            }
            classes
                .iter()
                .map(|c| {
                    pairs.iter().find(|(l, _)| l == c).map(|(_, w)| *w).ok_or(ModelError::ClassWeight {
                        class: *c,
                        reason: "no weight given for this label",
                    })
                })
                .collect()
        }
    }
}

impl RandomForestRegressor {
    /// Fits a forest to features `x` and real targets `y`.
    ///
    /// # Errors
    /// [`ModelError::Params`], [`ModelError::EmptyData`], [`ModelError::NonFinite`],
    /// [`ModelError::TargetLength`].
    pub fn fit<P: ParamGuard<Checked = RandomForestValidParams>>(
        params: &P,
        x: &ArrayView2<f64>,
        y: &ArrayView1<f64>,
    ) -> Result<Self, ModelError> {
        let p = params.check_ref()?;
        check_features(x)?;
        check_regression_targets(x.nrows(), y)?;
        let task = Task::Regression;
        let s = task.stride();
        let mut stats = vec![0.0; x.nrows() * s];
        for (i, &v) in y.iter().enumerate() {
            stats[i * s..(i + 1) * s].copy_from_slice(&[1.0, 1.0, v, v * v]);
        }
        let fitted = fit_trees(p, x, &stats, task)?;
        let oob_score = if p.oob_score {
            let (sums, votes) = oob_sums(&fitted.trees, &fitted.in_bag, x, 1);
            let (mut yt, mut yp) = (Vec::new(), Vec::new());
            for (r, &v) in votes.iter().enumerate() {
                if v > 0 {
                    yt.push(y[r]);
                    yp.push(sums[r] / v as f64);
                }
            }
            if yt.len() >= 2 {
                Some(metrics::r2(&ArrayView1::from(&yt), &ArrayView1::from(&yp))?)
            } else {
                None
            }
        } else {
            None
        };
        Ok(RandomForestRegressor {
            params: p.clone(),
            n_features: x.ncols(),
            trees: fitted.trees,
            feature_importances: fitted.importances,
            oob_score,
        })
    }

    /// Mean prediction of the trees per row.
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`], [`ModelError::NonFinite`].
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_predict(x, self.n_features)?;
        Ok(Array1::from(mean_leaf_values(&self.trees, x, 1)))
    }

    /// R² on `(x, y)`.
    ///
    /// # Errors
    /// As [`Self::predict`], plus [`ModelError::TargetLength`].
    pub fn score(&self, x: &ArrayView2<f64>, y: &ArrayView1<f64>) -> Result<f64, ModelError> {
        let p = self.predict(x)?;
        metrics::r2(y, &p.view())
    }

    /// Permutation importance of every feature on `(x, y)` (R² drop).
    ///
    /// # Errors
    /// As [`Self::score`]; [`ModelError::Params`] if `n_repeats` is 0.
    pub fn permutation_importance(
        &self,
        x: &ArrayView2<f64>,
        y: &ArrayView1<f64>,
        n_repeats: usize,
        seed: u64,
    ) -> Result<PermutationImportance, ModelError> {
        permutation_importance(x, n_repeats, seed, |xp| self.score(xp, y))
    }

    /// Number of features the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The fitted trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Mean decrease in impurity per feature (sums to 1).
    pub fn feature_importances(&self) -> &[f64] {
        &self.feature_importances
    }

    /// Out-of-bag R², when requested.
    pub fn oob_score(&self) -> Option<f64> {
        self.oob_score
    }

    /// The parameters the model was fitted with.
    pub fn params(&self) -> &RandomForestValidParams {
        &self.params
    }
}

impl Persist for RandomForestRegressor {
    const KIND: &'static str = "random_forest_regressor";

    fn restore(&mut self) -> Result<(), ModelError> {
        if self.feature_importances.len() != self.n_features {
            return Err(ModelError::Corrupt { reason: "importances inconsistent".to_string() });
        }
        restore_trees(&mut self.trees, self.n_features, 1)
    }
}
