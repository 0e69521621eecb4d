//! Per-cycle features (binding of `battsentinel_core::features`): `cycle_summary`, `incremental_capacity`,
//! `dqdv`, `dcir_events`.

use battsentinel_core::data::CycleSummary;
use battsentinel_core::features::{self, CycleFeatureParams, DcirParams, Direction, IcaCurve, IcaParams};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::convert::{array1, from_json_value, params_from_kwargs, records_frame, to_py_obj, vec_to_numpy};
use crate::errors::PyResultExt;
use crate::io::PyBatteryLog;

/// A per-cycle summary as a DataFrame (one row per cycle; NaN where not computable).
pub fn summary_frame<'py>(py: Python<'py>, s: &CycleSummary) -> PyResult<Bound<'py, PyAny>> {
    let df = records_frame(py, &s.cycles)?;
    df.getattr("attrs")?.set_item("quality", to_py_obj(py, &s.quality)?)?;
    Ok(df)
}

/// Per-cycle features of a log as a DataFrame: capacities (Ah), energies (Wh), coulombic and energy
/// efficiency, voltage and temperature statistics, duration (s), DCIR (Ω) and SOH, one row per cycle.
///
/// Keyword arguments are the core's `CycleFeatureParams`: `capacity_source` (`"auto"`, `"counters"`,
/// `"integrate"`), `nominal_capacity_ah`, `full_cycle_fraction`, `temperature_channel`, `max_gap_s`, `dcir`
/// (a dict of `dcir_events` parameters). Unknown keys raise `ParamError`.
#[pyfunction]
#[pyo3(signature = (log, **params))]
pub fn cycle_summary<'py>(
    py: Python<'py>,
    log: &PyBatteryLog,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let p: CycleFeatureParams = params_from_kwargs(params, "cycle feature parameters")?;
    let log = &log.inner;
    let s = py.detach(|| features::cycle_summary(log, &p)).py()?;
    summary_frame(py, &s)
}

fn curve_dict<'py>(py: Python<'py>, c: IcaCurve) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cycle", c.cycle)?;
    d.set_item("direction", to_py_obj(py, &c.direction)?)?;
    d.set_item("peaks", records_frame(py, &c.peaks)?)?;
    d.set_item("voltage_v", vec_to_numpy(py, c.voltage_v))?;
    d.set_item("capacity_ah", vec_to_numpy(py, c.capacity_ah))?;
    d.set_item("dq_dv_ah_per_v", vec_to_numpy(py, c.dq_dv_ah_per_v))?;
    Ok(d)
}

fn direction(s: &str) -> PyResult<Direction> {
    from_json_value(Value::String(s.to_string()), "direction (\"charge\" or \"discharge\")")
}

/// Incremental capacity dQ/dV of one charge or discharge segment of a log (`cycle=None`: the whole log).
///
/// Returns a dict: `voltage_v` (uniform grid), `capacity_ah`, `dq_dv_ah_per_v` (NumPy arrays), `peaks` (a
/// DataFrame with `index`, `voltage_v`, `height_ah_per_v`, `prominence_ah_per_v`), `cycle`, `direction`.
/// Keyword arguments: `voltage_step_v`, `sg_window`, `sg_poly_order`, `min_prominence_fraction`,
/// `min_current_fraction`.
#[pyfunction]
#[pyo3(signature = (log, cycle=None, direction="discharge", **params))]
pub fn incremental_capacity<'py>(
    py: Python<'py>,
    log: &PyBatteryLog,
    cycle: Option<u32>,
    direction: &str,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p: IcaParams = params_from_kwargs(params, "ICA parameters")?;
    let dir = self::direction(direction)?;
    let log = &log.inner;
    let c = py.detach(|| features::incremental_capacity(log, cycle, dir, &p)).py()?;
    curve_dict(py, c)
}

/// dQ/dV from raw arrays of voltage (V) and capacity (Ah); returns the dict of `incremental_capacity`.
#[pyfunction]
#[pyo3(signature = (voltage_v, capacity_ah, direction="discharge", **params))]
pub fn dqdv<'py>(
    py: Python<'py>,
    voltage_v: &Bound<'py, PyAny>,
    capacity_ah: &Bound<'py, PyAny>,
    direction: &str,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p: IcaParams = params_from_kwargs(params, "ICA parameters")?;
    let dir = self::direction(direction)?;
    let v = array1(voltage_v, "voltage_v")?;
    let q = array1(capacity_ah, "capacity_ah")?;
    let (v, q) = (v.as_array().to_vec(), q.as_array().to_vec());
    let c = py.detach(|| features::dqdv(&v, &q, dir, &p)).py()?;
    curve_dict(py, c)
}

/// DCIR of every current step of a log, as a DataFrame (`cycle`, `row`, `edge_time_s`, `read_time_s`,
/// currents and voltages before/after, `r_ohm`). Keyword arguments: `delay_s`, `min_delta_current_a`,
/// `direction` (`"discharge"`, `"charge"`, `"both"`).
#[pyfunction]
#[pyo3(signature = (log, **params))]
pub fn dcir_events<'py>(
    py: Python<'py>,
    log: &PyBatteryLog,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let p: DcirParams = params_from_kwargs(params, "DCIR parameters")?;
    let log = &log.inner;
    let ev = py.detach(|| features::dcir_events(log, &p)).py()?;
    records_frame(py, &ev)
}

/// Registers the feature functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cycle_summary, m)?)?;
    m.add_function(wrap_pyfunction!(incremental_capacity, m)?)?;
    m.add_function(wrap_pyfunction!(dqdv, m)?)?;
    m.add_function(wrap_pyfunction!(dcir_events, m)?)?;
    Ok(())
}
