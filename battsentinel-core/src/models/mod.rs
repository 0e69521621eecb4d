//! Fault models: random forest, isolation forest, MLP and SVM (in-house; k-means and Platt scaling from
//! linfa), with one API.
//!
//! Every estimator is fitted from validated params over `ndarray` views
//! (`Model::fit(&params, &x.view(), &y.view())`), predicts with `predict` / `predict_proba` /
//! `score_samples`, takes an explicit seed for anything random, and saves to / loads from one versioned JSON
//! format ([`Persist::save_json`], [`Persist::load_json`]) shared by Rust, Python and JS.
//!
//! | model | type | output |
//! |---|---|---|
//! | random forest | [`forest::RandomForestClassifier`], [`forest::RandomForestRegressor`] | classes + probabilities / values |
//! | isolation forest | [`iforest::IsolationForest`] | anomaly scores (scikit-learn convention) |
//! | MLP | [`mlp::MlpRegressor`], [`mlp::MlpClassifier`] | values / probabilities |
//! | SVM | [`svm::SvmClassifier`], [`svm::OneClassSvm`] | classes + Platt probabilities / inlier scores |
//!
//! [`detector::FaultDetector`] is the battery pipeline on top: windowed log features → fault probabilities,
//! anomaly score, SOH and RUL.
//!
//! Trees are readable through [`tree::TreeView`] (scikit-learn's `tree_` arrays) for TreeSHAP and export.

mod binning;
pub mod detector;
mod error;
pub mod forest;
pub mod iforest;
pub mod inspection;
pub mod metrics;
pub mod mlp;
mod persist;
pub mod svm;
pub mod tree;
mod validate;

pub use error::ModelError;
pub use persist::{model_kind, Persist, FORMAT_NAME, FORMAT_VERSION};
