//! Random forest hyper-parameters (`RandomForestParams` → `check()` → `RandomForestValidParams`).

use serde::{Deserialize, Serialize};

use crate::params::{ParamError, ParamGuard};

/// Features drawn (without replacement) as split candidates at every node, as scikit-learn's `max_features`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    /// `sqrt` for classifiers, all features for regressors (scikit-learn's defaults).
    Auto,
    /// `max(1, floor(sqrt(n_features)))`.
    Sqrt,
    /// `max(1, floor(log2(n_features)))`.
    Log2,
    /// Every feature.
    All,
    /// `max(1, floor(fraction · n_features))`, fraction in (0, 1].
    Fraction(f64),
    /// An explicit count (≤ n_features).
    Count(usize),
}

impl MaxFeatures {
    /// Resolves to a count for `n_features` columns.
    pub(crate) fn resolve(self, n_features: usize, classification: bool) -> usize {
        let nf = n_features as f64;
        let k = match self {
            MaxFeatures::Auto if classification => nf.sqrt() as usize,
            MaxFeatures::Auto | MaxFeatures::All => n_features,
            MaxFeatures::Sqrt => nf.sqrt() as usize,
            MaxFeatures::Log2 => nf.log2() as usize,
            MaxFeatures::Fraction(f) => (f * nf) as usize,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, n_features)
    }
}

/// Per-class sample weights (classifiers only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every sample weighs 1.
    Uniform,
    /// `n_samples / (n_classes · count(class))`, as scikit-learn's `"balanced"`.
    Balanced,
    /// Explicit `(label, weight)` pairs; every label present must be listed.
    Custom(Vec<(usize, f64)>),
}

/// Validated random forest parameters. Build them with [`RandomForestParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomForestValidParams {
    pub(crate) n_trees: usize,
    pub(crate) max_depth: Option<usize>,
    pub(crate) min_samples_split: usize,
    pub(crate) min_samples_leaf: usize,
    pub(crate) max_features: MaxFeatures,
    pub(crate) bootstrap: bool,
    pub(crate) class_weight: ClassWeight,
    pub(crate) oob_score: bool,
    pub(crate) max_bins: usize,
    pub(crate) seed: u64,
}

impl Default for RandomForestValidParams {
    fn default() -> Self {
        RandomForestValidParams {
            n_trees: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Auto,
            bootstrap: true,
            class_weight: ClassWeight::Uniform,
            oob_score: false,
            max_bins: 255,
            seed: 0,
        }
    }
}

/// Random forest parameters (unchecked builder). Defaults follow scikit-learn's `RandomForestClassifier` /
/// `RandomForestRegressor`: 100 trees, unlimited depth, `min_samples_split` 2, `min_samples_leaf` 1,
/// `max_features` sqrt (classifier) / all (regressor), bootstrap on, no class weights, no OOB score; plus
/// `max_bins` 255 (histogram bins per feature) and `seed` 0.
///
/// # Examples
/// ```
/// use battsentinel_core::models::forest::{MaxFeatures, RandomForestParams};
/// use battsentinel_core::ParamGuard;
/// let p = RandomForestParams::default().n_trees(50).max_features(MaxFeatures::Sqrt).seed(7);
/// assert!(p.check_ref().is_ok());
/// assert!(RandomForestParams::default().n_trees(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RandomForestParams(RandomForestValidParams);

macro_rules! accessors {
    ($($(#[$doc:meta])* $name:ident : $ty:ty),* $(,)?) => {
        impl RandomForestParams {
            $($(#[$doc])* pub fn $name(mut self, value: $ty) -> Self { self.0.$name = value; self })*
        }
        impl RandomForestValidParams {
            $($(#[$doc])* pub fn $name(&self) -> $ty { self.$name.clone() })*
        }
    };
}

accessors! {
    /// Number of trees (≥ 1).
    n_trees: usize,
    /// Maximum depth (root = 0); `None` grows until leaves are pure or too small.
    max_depth: Option<usize>,
    /// Minimum rows in a node to split it (≥ 2).
    min_samples_split: usize,
    /// Minimum rows in each leaf (≥ 1).
    min_samples_leaf: usize,
    /// Split candidates per node.
    max_features: MaxFeatures,
    /// Draw a bootstrap sample per tree (else every tree sees every row).
    bootstrap: bool,
    /// Class weights (classifiers).
    class_weight: ClassWeight,
    /// Compute the out-of-bag score (needs `bootstrap`).
    oob_score: bool,
    /// Histogram bins per feature, 2..=256.
    max_bins: usize,
    /// Seed of every random choice.
    seed: u64,
}

impl ParamGuard for RandomForestParams {
    type Checked = RandomForestValidParams;

    fn check_ref(&self) -> Result<&RandomForestValidParams, ParamError> {
        let p = &self.0;
        if p.n_trees == 0 {
            return Err(ParamError::invalid("n_trees", p.n_trees, "must be at least 1"));
        }
        if p.max_depth == Some(0) {
            return Err(ParamError::invalid("max_depth", p.max_depth, "must be at least 1 (or None)"));
        }
        if p.min_samples_split < 2 {
            return Err(ParamError::invalid("min_samples_split", p.min_samples_split, "must be at least 2"));
        }
        if p.min_samples_leaf == 0 {
            return Err(ParamError::invalid("min_samples_leaf", p.min_samples_leaf, "must be at least 1"));
        }
        match p.max_features {
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(ParamError::invalid(
                    "max_features",
                    p.max_features,
                    "fraction must be in (0, 1]",
                ));
            }
            MaxFeatures::Count(0) => {
                return Err(ParamError::invalid("max_features", p.max_features, "count must be at least 1"));
            }
            _ => {}
        }
        if let ClassWeight::Custom(w) = &p.class_weight {
            if let Some((_, v)) = w.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
                return Err(ParamError::invalid("class_weight", v, "weights must be finite and >= 0"));
            }
        }
        if p.oob_score && !p.bootstrap {
            return Err(ParamError::Inconsistent { reason: "oob_score needs bootstrap = true".to_string() });
        }
        if !(2..=256).contains(&p.max_bins) {
            return Err(ParamError::invalid("max_bins", p.max_bins, "must be in 2..=256"));
        }
        Ok(p)
    }

    fn check(self) -> Result<RandomForestValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for RandomForestValidParams {
    type Checked = RandomForestValidParams;

    fn check_ref(&self) -> Result<&RandomForestValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<RandomForestValidParams, ParamError> {
        Ok(self)
    }
}
