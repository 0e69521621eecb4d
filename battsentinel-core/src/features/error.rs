//! Errors of the `features` module.

/// Errors raised by `features`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// A column of the log has a different number of rows than `time_s`.
    #[error("log column `{column}` has {len} rows but time has {expected}")]
    LengthMismatch {
        /// Column name.
        column: String,
        /// Its length.
        len: usize,
        /// Length of `time_s`.
        expected: usize,
    },
    /// A channel the computation needs is absent.
    #[error("the log has no `{channel}` channel, needed for {needed_for}")]
    MissingChannel {
        /// Channel name (`"current_a"`, `"voltage_v"`, …).
        channel: &'static str,
        /// What it was needed for.
        needed_for: &'static str,
    },
    /// Too few usable points.
    #[error("{what}: {found} usable points, at least {needed} needed")]
    NotEnoughData {
        /// What was being computed.
        what: &'static str,
        /// Points needed.
        needed: usize,
        /// Usable points found.
        found: usize,
    },
    /// The requested cycle is not in the log.
    #[error("cycle {cycle} is not in the log")]
    CycleNotFound {
        /// Requested cycle number.
        cycle: u32,
    },
    /// Two input slices of different lengths.
    #[error("`{left}` has {left_len} values but `{right}` has {right_len}")]
    ShapeMismatch {
        /// First slice name.
        left: &'static str,
        /// Its length.
        left_len: usize,
        /// Second slice name.
        right: &'static str,
        /// Its length.
        right_len: usize,
    },
}

impl FeatureError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::features::FeatureError;
    /// let e = FeatureError::CycleNotFound { cycle: 7 };
    /// assert_eq!(e.code(), "cycle_not_found");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            FeatureError::Params(e) => e.code(),
            FeatureError::LengthMismatch { .. } => "log_length_mismatch",
            FeatureError::MissingChannel { .. } => "missing_channel",
            FeatureError::NotEnoughData { .. } => "not_enough_data",
            FeatureError::CycleNotFound { .. } => "cycle_not_found",
            FeatureError::ShapeMismatch { .. } => "shape_mismatch",
        }
    }
}

impl From<crate::data::LengthMismatch> for FeatureError {
    fn from(e: crate::data::LengthMismatch) -> Self {
        FeatureError::LengthMismatch { column: e.column, len: e.len, expected: e.expected }
    }
}
