//! Explanations: Kernel SHAP, exact TreeSHAP and LIME, numerically equal to the Python references, and plots.
//!
//! - [`KernelExplainer`]: Kernel SHAP as `shap.KernelExplainer` 0.51 computes it, model-agnostic over any
//!   batch [`Predictor`], exact whenever `2^M − 2` coalitions fit in the budget, seeded otherwise, under a
//!   memory budget and in parallel with feature `parallel`.
//! - [`TreeExplainer`]: exact TreeSHAP over sklearn-like tree arrays ([`Tree`], [`TreeEnsemble`]):
//!   interventional (equals exact Kernel SHAP on the same background) or path-dependent from the node covers
//!   ([`FeaturePerturbation`]), and SHAP interaction values.
//! - [`LimeTabular`]: LIME tabular as `lime` 0.2.0.1 computes it, with an explicit seed.
//! - [`Background`]: weighted background sets, `shap.kmeans`/`shap.sample` summarisers.
//! - [`Explanation`] / [`ExplanationSet`]: serde results, global importance; [`plot`] renders SVG.
//! - [`ReferenceModel`]: the JSON model format of the reference cases (linear, softmax, trees).

// Numerical kernels index several arrays with one loop variable; iterator chains would obscure them.
#![allow(clippy::needless_range_loop)]

mod background;
mod error;
mod explanation;
mod from_models;
pub mod kernel_shap;
mod lars;
pub mod lime;
mod linalg;
pub mod plot;
mod predictor;
mod reference_model;
pub mod tree_shap;

pub use background::Background;
pub use error::ExplainError;
pub use explanation::{Explanation, ExplanationSet};
pub use kernel_shap::{CoalitionPlan, KernelExplainer, KernelShapParams, KernelShapValidParams, L1Reg};
pub use lime::{
    Discretizer, FeatureSelection, LimeExplanation, LimeMode, LimeParams, LimeTabular, LimeValidParams,
    LocalModel, LIME_SAMPLE_BLOCK_ROWS,
};
pub use predictor::{FnPredictor, Link, Predictor};
pub use reference_model::ReferenceModel;
pub use tree_shap::{
    FeaturePerturbation, Tree, TreeEnsemble, TreeExplainer, TreeShapParams, TreeShapValidParams,
};
