//! # BattSentinel for JavaScript
//!
//! WebAssembly bindings (wasm-bindgen) over `battsentinel-core`: a thin layer that converts arguments, calls
//! the core and throws JS `Error`s with `name` and `code` ([`errors`]). The JS API is camelCase and mirrors
//! the core module by module:
//!
//! | JS | core |
//! |---|---|
//! | `readBytes`, `detectFormat`, `BatteryLog` ([`io`]) | `io::read_bytes`, `io::detect`, `BatteryLog` |
//! | `cycleSummary`, `sohTrend`, `incrementalCapacity`, `dcirEvents` ([`features`]) | `features::*` |
//! | `RandomForestClassifier`, … `fit / predict / predictProba / toJSON / load` ([`models`]) | `models::*` |
//! | `FaultDetector.default`, `analyze`, `classifier`, `toJSON / load` ([`detector`]) | `models::detector::FaultDetector` |
//! | `KernelExplainer`, `TreeExplainer`, `LimeExplainer`, `Explanation.toSvg` ([`explain`]) | `explain::*` |
//! | `simulate`, `Simulator.step`, `ecmExampleParams` ([`twin`]) | `twin::*` |
//! | `AlertEngine`, `evaluateAlerts`, `defaultRules` ([`alerts`]) | `alerts::*` |
//! | `readThermalBytes`, `analyzeThermal`, `renderThermalPng` ([`thermal`]) | `thermal::*` |
//!
//! Parameters and plain results travel as JSON objects in the core's serde format (snake_case keys, NaN as
//! `null`, unknown keys rejected); long numeric columns travel as `Float64Array`s.

pub mod alerts;
mod convert;
pub mod detector;
pub mod errors;
pub mod explain;
pub mod features;
pub mod io;
pub mod models;
pub mod thermal;
pub mod twin;

use wasm_bindgen::prelude::*;

/// The package version (the core's crate version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
