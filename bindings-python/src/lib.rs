//! Python bindings for BattSentinel: a thin layer that converts arguments, calls `battsentinel-core`, and
//! maps errors to Python exceptions.

use pyo3::prelude::*;

/// Compile-time check that numpy's ndarray and the core's ndarray are one crate (see TOOLCHAIN: the pin).
#[allow(dead_code)]
fn same_ndarray(a: ndarray::Array1<f64>) -> numpy::ndarray::Array1<f64> {
    a
}

/// The native module behind the `battsentinel` Python package.
#[pymodule]
fn _battsentinel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
