//! Errors of the `thermal` module.

/// Errors raised by `thermal`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThermalError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl ThermalError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            ThermalError::Params(e) => e.code(),
        }
    }
}
