//! The crate-wide [`Error`]: one variant per area, each with a stable [`Error::code`].

use crate::{
    alerts::RuleError, explain::ExplainError, features::FeatureError, io::ParseError, models::ModelError,
    params::ParamError, thermal::ThermalError, twin::SimError,
};

/// Any error from BattSentinel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a file failed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// Feature extraction failed.
    #[error(transparent)]
    Feature(#[from] FeatureError),
    /// A model failed to fit or predict.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An explanation failed.
    #[error(transparent)]
    Explain(#[from] ExplainError),
    /// The twin simulation failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// An alert rule is invalid or failed to evaluate.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// Thermal image decoding or analysis failed.
    #[error(transparent)]
    Thermal(#[from] ThermalError),
}

impl Error {
    /// Stable snake_case code, shared by the CLI, Python, JS and the REST API.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::{params::ParamError, Error};
    /// let e: Error = ParamError::invalid("dt_s", -1.0, "must be > 0").into();
    /// assert_eq!(e.code(), "invalid_param");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse(e) => e.code(),
            Error::Params(e) => e.code(),
            Error::Feature(e) => e.code(),
            Error::Model(e) => e.code(),
            Error::Explain(e) => e.code(),
            Error::Sim(e) => e.code(),
            Error::Rule(e) => e.code(),
            Error::Thermal(e) => e.code(),
        }
    }
}

/// Result with the crate [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;
