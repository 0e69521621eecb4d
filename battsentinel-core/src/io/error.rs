//! Errors of the `io` module.

/// Errors raised by `io`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl ParseError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Params(e) => e.code(),
        }
    }
}
