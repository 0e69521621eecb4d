//! The common imports: `use battsentinel_core::prelude::*;`.

pub use crate::data::{BatteryLog, Channel, CycleRecord, CycleSummary, EisSpectrum, QualityReport, StepKind};
pub use crate::error::{Error, Result};
pub use crate::params::{ParamError, ParamGuard};
