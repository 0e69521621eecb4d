//! Errors of the `features` module.

/// Errors raised by `features`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl FeatureError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            FeatureError::Params(e) => e.code(),
        }
    }
}
