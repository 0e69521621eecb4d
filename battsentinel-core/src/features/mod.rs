//! Per-cycle features of a [`crate::BatteryLog`]: capacity, energy, efficiencies, voltage and temperature
//! statistics, DCIR, SOH ([`cycle_summary`]); incremental capacity dQ/dV with peaks
//! ([`incremental_capacity`], [`dqdv`]); DCIR of every current step ([`dcir_events`]); the capacity-fade
//! trend with an end-of-life prediction ([`soh_trend`]); time-windowed derivative and rolling statistics
//! ([`derivative`], [`rolling`]) for alerts and models.
//!
//! Each function documents its method in its module: [`cycles`], [`dcir`], [`ica`], [`trend`], [`signal`]. Parameters
//! follow the `XParams` → `check()` → `XValidParams` pattern; every function takes either form. Anything
//! not computable is NaN (or `None`), never zero.

pub mod cycles;
pub mod dcir;
mod error;
pub mod ica;
pub mod signal;
pub mod trend;

pub use cycles::{cycle_summary, CapacitySource, CycleFeatureParams, CycleFeatureValidParams};
pub use dcir::{dcir_events, DcirEvent, DcirParams, DcirValidParams, PulseDirection};
pub use error::FeatureError;
pub use ica::{dqdv, incremental_capacity, Direction, IcaCurve, IcaParams, IcaPeak, IcaValidParams};
pub use signal::{derivative, rolling, RollingStats, WindowAlign};
pub use trend::{
    soh_trend, CycleSelect, FadeFit, FadeModel, FadeTrend, TrendParams, TrendPoint, TrendValidParams,
};
