//! Python bindings for BattSentinel: a thin layer that converts arguments, calls `battsentinel-core`, and
//! maps errors to Python exceptions. One file per core module (`io`, `features`, `models`, `explain`, `twin`,
//! `alerts`, `thermal`), the exception tree in `errors`, shared conversions in `convert`.

use pyo3::prelude::*;

pub mod alerts;
pub mod convert;
pub mod errors;
pub mod explain;
pub mod features;
pub mod io;
pub mod models;
pub mod thermal;
pub mod twin;

/// Compile-time check that numpy's ndarray and the core's ndarray are one crate (see TOOLCHAIN: the pin).
#[allow(dead_code)]
fn same_ndarray(a: ndarray::Array1<f64>) -> numpy::ndarray::Array1<f64> {
    a
}

/// The native module behind the `battsentinel` Python package.
#[pymodule]
fn _battsentinel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    io::register(m)?;
    features::register(m)?;
    models::register(m)?;
    explain::register(m)?;
    twin::register(m)?;
    alerts::register(m)?;
    thermal::register(m)?;
    Ok(())
}
