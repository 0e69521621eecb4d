//! Fault models: random forest, isolation forest, MLP (in-house) and SVM (linfa), with one fit/predict API.

mod error;
pub use error::ModelError;
