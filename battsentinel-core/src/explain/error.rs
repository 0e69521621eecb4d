//! Errors of the `explain` module.

/// Errors raised by `explain`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl ExplainError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            ExplainError::Params(e) => e.code(),
        }
    }
}
