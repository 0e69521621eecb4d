//! Errors of the `explain` module.

/// Errors raised by `explain`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// An array does not have the expected number of columns (features) or rows.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which input is wrong (`"instance"`, `"background"`, `"model output"`, ...).
        what: &'static str,
        /// Expected size along the offending axis.
        expected: usize,
        /// Size found.
        got: usize,
    },
    /// The background (or training data) has no rows.
    #[error("{what} is empty")]
    Empty {
        /// Which input is empty.
        what: &'static str,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("non-finite value in {what} at row {row}, column {column}")]
    NonFinite {
        /// Which input holds it.
        what: &'static str,
        /// Row index.
        row: usize,
        /// Column index.
        column: usize,
    },
    /// The memory budget cannot hold even one coalition evaluated over the whole background.
    #[error("memory budget of {budget_bytes} bytes is below the {needed_bytes} bytes one coalition needs")]
    BudgetTooSmall {
        /// Configured budget.
        budget_bytes: usize,
        /// Bytes needed for one coalition (background rows × (features + outputs) × 8).
        needed_bytes: usize,
    },
    /// The logit link got a value outside [0, 1] (the model does not output probabilities).
    #[error("logit link needs probabilities in [0, 1]; output {output} is {value}")]
    LinkDomain {
        /// Output index.
        output: usize,
        /// Offending value.
        value: f64,
    },
    /// A tree in the imported or converted model is malformed.
    #[error("invalid tree at node {node}: {reason}")]
    InvalidTree {
        /// Node index.
        node: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A model description (JSON) could not be understood.
    #[error("unsupported model description: {kind}")]
    UnsupportedModel {
        /// The `type` field found.
        kind: String,
    },
    /// The model JSON could not be parsed.
    #[error("invalid model JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A group of features references a column out of range or is empty.
    #[error("feature group {group} is invalid (column {column} with {n_features} features)")]
    InvalidGroup {
        /// Group index.
        group: usize,
        /// Offending column (or `usize::MAX` for an empty group).
        column: usize,
        /// Number of feature columns.
        n_features: usize,
    },
    /// The model behind a [`crate::explain::Predictor`] failed (for example a user callback raised an
    /// exception in a language binding).
    #[error("model prediction failed: {reason}")]
    Predictor {
        /// What the model reported.
        reason: String,
    },
    /// Too few rows for a statistical estimate (e.g. the noise variance of `l1_reg = "aic"`/`"bic"`,
    /// which needs more rows than features + 1, as scikit-learn's `LassoLarsIC`).
    #[error("{what} needs at least {needed} rows, got {got}")]
    TooFewSamples {
        /// What needs the rows.
        what: &'static str,
        /// Rows available.
        got: usize,
        /// Rows needed.
        needed: usize,
    },
    /// Training labels are required (LIME's entropy discretiser fits a decision tree on them).
    #[error("{what} needs training labels")]
    MissingLabels {
        /// What needs them.
        what: &'static str,
    },
    /// A training label cannot be used as a class label (NaN, infinite or not integral, which lime's entropy
    /// discretiser rejects through scikit-learn as "Unknown label type: continuous").
    #[error("training label at row {row} is {value}: class labels must be finite integers")]
    InvalidLabel {
        /// Row index.
        row: usize,
        /// Offending value.
        value: f64,
    },
    /// The requested label/output does not exist.
    #[error("output {output} out of range ({n_outputs} outputs)")]
    OutputOutOfRange {
        /// Requested output.
        output: usize,
        /// Number of outputs.
        n_outputs: usize,
    },
}

impl ExplainError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::ExplainError;
    /// let e = ExplainError::Predictor { reason: "callback raised".into() };
    /// assert_eq!(e.code(), "explain_predictor_failed");
    /// assert!(e.to_string().contains("callback raised"));
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ExplainError::Params(e) => e.code(),
            ExplainError::ShapeMismatch { .. } => "explain_shape_mismatch",
            ExplainError::Empty { .. } => "explain_empty_input",
            ExplainError::NonFinite { .. } => "explain_non_finite",
            ExplainError::BudgetTooSmall { .. } => "explain_budget_too_small",
            ExplainError::LinkDomain { .. } => "explain_link_domain",
            ExplainError::InvalidTree { .. } => "explain_invalid_tree",
            ExplainError::UnsupportedModel { .. } => "explain_unsupported_model",
            ExplainError::Json(_) => "explain_invalid_json",
            ExplainError::InvalidGroup { .. } => "explain_invalid_group",
            ExplainError::OutputOutOfRange { .. } => "explain_output_out_of_range",
            ExplainError::Predictor { .. } => "explain_predictor_failed",
            ExplainError::TooFewSamples { .. } => "explain_too_few_samples",
            ExplainError::MissingLabels { .. } => "explain_missing_labels",
            ExplainError::InvalidLabel { .. } => "explain_invalid_label",
        }
    }
}
