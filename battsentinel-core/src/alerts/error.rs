//! Errors of the `alerts` module.

/// Errors raised by `alerts`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl RuleError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::Params(e) => e.code(),
        }
    }
}
