//! Errors of the `models` module.

/// Errors raised by `models`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl ModelError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::Params(e) => e.code(),
        }
    }
}
