//! # BattSentinel core
//!
//! Lithium-ion battery analytics in pure Rust, for native programs, Python (via `bindings-python`) and the
//! browser (via `bindings-wasm`).
//!
//! Data flows one way: [`io`] reads cycler exports into a [`data::BatteryLog`]; [`features`] computes per-cycle
//! health; [`models`] learn faults; [`explain`] says why a model predicted what it did. [`twin`] simulates the
//! cell, [`alerts`] raises alerts, [`thermal`] reads thermal images. All of them share the data model in
//! [`data`], the errors in [`error`] and the seeded generator in [`rng`].
//!
//! Conventions: SI units in names (`voltage_v`, `r0_ohm`, `dt_s`); current positive on discharge; every random
//! algorithm takes an explicit seed; parameters are validated (`XParams::check`).

pub mod alerts;
pub mod data;
pub mod error;
pub mod explain;
pub mod features;
pub mod io;
pub mod models;
pub(crate) mod numeric;
pub mod params;
pub mod prelude;
pub mod rng;
#[cfg(feature = "server")]
pub mod server;
pub mod thermal;
pub mod twin;

pub use data::{BatteryLog, Channel, CycleRecord, CycleSummary, EisSpectrum, QualityReport, StepKind};
pub use error::{Error, Result};
pub use params::{ParamError, ParamGuard};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
