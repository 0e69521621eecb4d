//! Errors of the `twin` module.

/// Errors raised by `twin`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// A time step that is not finite and > 0.
    #[error("time step dt_s = {dt_s} must be finite and > 0")]
    InvalidDt {
        /// The offending step (s).
        dt_s: f64,
    },
    /// An initial or running SoC outside the OCV table.
    #[error("SoC {soc} is outside the OCV table [{min}, {max}]")]
    SocOutsideTable {
        /// The SoC.
        soc: f64,
        /// First table breakpoint.
        min: f64,
        /// Last table breakpoint.
        max: f64,
    },
    /// A non-finite input (current, voltage, power or temperature).
    #[error("input `{field}` = {value} at t = {t_s} s is not finite")]
    NonFiniteInput {
        /// Which input.
        field: &'static str,
        /// The value.
        value: f64,
        /// Simulation time (s).
        t_s: f64,
    },
    /// A resistance or capacitance table, extrapolated, gave an unusable value.
    #[error("parameter `{param}` = {value} at t = {t_s} s (T = {t_c} °C, I = {current_a} A, SoC = {soc}) is not usable")]
    ParamOutOfRange {
        /// Parameter name (`r0_ohm`, `r1_ohm`, `c1_farad`, …).
        param: &'static str,
        /// The value.
        value: f64,
        /// Simulation time (s).
        t_s: f64,
        /// Cell temperature (°C).
        t_c: f64,
        /// Current (A).
        current_a: f64,
        /// SoC.
        soc: f64,
    },
    /// A voltage- or power-controlled step whose current could not be solved for.
    #[error("no current satisfies the {mode} set-point {target} at t = {t_s} s")]
    NoSolution {
        /// `"voltage"` or `"power"`.
        mode: &'static str,
        /// Set-point (V or W).
        target: f64,
        /// Simulation time (s).
        t_s: f64,
    },
    /// A protocol that cannot be run.
    #[error("protocol step {step}: `{field}` = {value}: {reason}")]
    InvalidProtocol {
        /// Index of the step (0-based, in the expanded order).
        step: usize,
        /// The field.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// A pack or estimator input of the wrong length.
    #[error("`{field}` has {len} values, expected {expected}")]
    LengthMismatch {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// Expected length.
        expected: usize,
    },
}

impl SimError {
    /// Stable snake_case code, shared by every front-end.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::Params(e) => e.code(),
            SimError::InvalidDt { .. } => "invalid_dt",
            SimError::SocOutsideTable { .. } => "soc_outside_table",
            SimError::NonFiniteInput { .. } => "non_finite_input",
            SimError::ParamOutOfRange { .. } => "param_out_of_range",
            SimError::NoSolution { .. } => "no_solution",
            SimError::InvalidProtocol { .. } => "invalid_protocol",
            SimError::LengthMismatch { .. } => "length_mismatch",
        }
    }
}
