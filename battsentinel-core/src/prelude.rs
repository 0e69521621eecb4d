//! The common imports: `use battsentinel_core::prelude::*;`.

pub use crate::data::{BatteryLog, Channel, CycleRecord, CycleSummary, EisSpectrum, QualityReport, StepKind};
pub use crate::error::{Error, Result};
pub use crate::models::detector::{AnalyzeParams, DetectorReport, FaultDetector};
pub use crate::params::{ParamError, ParamGuard};
pub use crate::twin::FaultKind;
