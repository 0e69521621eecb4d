//! Errors of the `models` module.

/// Errors raised by `models`: bad input data, unusable targets, model files from another format version.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// The input has no rows (or no columns).
    #[error("empty data: {n_rows} rows × {n_cols} columns")]
    EmptyData {
        /// Number of rows given.
        n_rows: usize,
        /// Number of columns given.
        n_cols: usize,
    },
    /// A NaN or infinite value in the features or targets.
    #[error("non-finite value {value} at row {row}, column {column} of {what}")]
    NonFinite {
        /// `"features"` or `"targets"`.
        what: &'static str,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based; 0 for targets).
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// The number of feature columns differs from what the model was fitted on.
    #[error("wrong number of features: model expects {expected}, got {found}")]
    FeatureCount {
        /// Columns at fit time.
        expected: usize,
        /// Columns given now.
        found: usize,
    },
    /// The number of targets differs from the number of rows.
    #[error("targets have {n_targets} entries but the features have {n_rows} rows")]
    TargetLength {
        /// Rows in the feature matrix.
        n_rows: usize,
        /// Entries in the target vector.
        n_targets: usize,
    },
    /// A classifier needs at least two classes.
    #[error("only one class ({class}) in the targets; a classifier needs at least two")]
    SingleClass {
        /// The only label present.
        class: usize,
    },
    /// Too few samples for the requested operation.
    #[error("too few samples: {what} needs at least {needed}, got {found}")]
    TooFewSamples {
        /// What needed them.
        what: &'static str,
        /// Minimum required.
        needed: usize,
        /// Available.
        found: usize,
    },
    /// A class weight was given for a label not in the data, or a label has no weight.
    #[error("class weight problem for class {class}: {reason}")]
    ClassWeight {
        /// The class label.
        class: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A model file was written by a different format version.
    #[error("model file format version {found} is not supported (this build reads version {expected})")]
    FormatVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        expected: u32,
    },
    /// A model file holds a different kind of model than requested.
    #[error("model file holds a `{found}`, expected a `{expected}`")]
    WrongKind {
        /// Kind requested.
        expected: String,
        /// Kind in the file.
        found: String,
    },
    /// A model file is not valid JSON or does not match the schema.
    #[error("model file is not valid: {source}")]
    Json {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The file is structurally inconsistent (e.g. a tree child index out of range).
    #[error("model file is inconsistent: {reason}")]
    Corrupt {
        /// What is inconsistent.
        reason: String,
    },
    /// Fitting an SVM's Platt probabilities failed (linfa's Platt scaling).
    #[error("SVM training failed: {source}")]
    Svm {
        /// The Platt-scaling error.
        #[source]
        source: linfa::composing::PlattError,
    },
}

impl ModelError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::models::ModelError;
    /// let e = ModelError::SingleClass { class: 3 };
    /// assert_eq!(e.code(), "single_class");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::Params(e) => e.code(),
            ModelError::EmptyData { .. } => "empty_data",
            ModelError::NonFinite { .. } => "non_finite",
            ModelError::FeatureCount { .. } => "feature_count",
            ModelError::TargetLength { .. } => "target_length",
            ModelError::SingleClass { .. } => "single_class",
            ModelError::TooFewSamples { .. } => "too_few_samples",
            ModelError::ClassWeight { .. } => "class_weight",
            ModelError::FormatVersion { .. } => "format_version",
            ModelError::WrongKind { .. } => "wrong_model_kind",
            ModelError::Json { .. } => "invalid_model_file",
            ModelError::Corrupt { .. } => "corrupt_model_file",
            ModelError::Svm { .. } => "svm_failed",
        }
    }
}
