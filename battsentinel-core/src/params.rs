//! Validated parameters: the `XParams` → `check()` → `XValidParams` pattern used by every module.
//!
//! An `XParams` is an unchecked builder with documented defaults and serde support; `check()` returns
//! the validated form that `fit`/`simulate` take. Validation lives in one place, [`ParamGuard::check_ref`].

/// An invalid parameter value, naming the parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A value outside its allowed range or otherwise unusable.
    #[error("invalid parameter `{param}` = {value}: {reason}")]
    Invalid {
        /// Parameter name, as spelled in the params struct.
        param: String,
        /// The offending value, formatted.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// Two or more parameters that cannot be used together.
    #[error("inconsistent parameters: {reason}")]
    Inconsistent {
        /// What is wrong.
        reason: String,
    },
}

impl ParamError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ParamError::Invalid { .. } => "invalid_param",
            ParamError::Inconsistent { .. } => "inconsistent_params",
        }
    }

    /// Shorthand for [`ParamError::Invalid`].
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::params::ParamError;
    /// let e = ParamError::invalid("n_trees", 0, "must be at least 1");
    /// assert_eq!(e.code(), "invalid_param");
    /// assert!(e.to_string().contains("n_trees"));
    /// ```
    pub fn invalid(param: &str, value: impl std::fmt::Debug, reason: &str) -> Self {
        ParamError::Invalid {
            param: param.to_string(),
            value: format!("{value:?}"),
            reason: reason.to_string(),
        }
    }
}

/// Parameters that can be validated into a checked form.
pub trait ParamGuard {
    /// The validated form.
    type Checked;

    /// Validates by reference.
    ///
    /// # Errors
    /// [`ParamError`] naming the first invalid parameter.
    fn check_ref(&self) -> Result<&Self::Checked, ParamError>;

    /// Validates and converts into the checked form.
    ///
    /// # Errors
    /// [`ParamError`] naming the first invalid parameter.
    fn check(self) -> Result<Self::Checked, ParamError>;
}

/// Checks that `value` is finite and strictly positive.
///
/// # Errors
/// [`ParamError::Invalid`] otherwise.
pub fn positive(param: &str, value: f64) -> Result<(), ParamError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ParamError::invalid(param, value, "must be finite and > 0"))
    }
}

/// Checks that `value` is finite and in `[lo, hi]`.
///
/// # Errors
/// [`ParamError::Invalid`] otherwise.
pub fn in_range(param: &str, value: f64, lo: f64, hi: f64) -> Result<(), ParamError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::invalid(param, value, &format!("must be in [{lo}, {hi}]")))
    }
}
