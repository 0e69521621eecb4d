//! Explanations: Kernel SHAP, exact TreeSHAP and LIME, numerically equal to the Python references, and plots.

mod error;
pub use error::ExplainError;
