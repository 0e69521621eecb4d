//! The digital twin (binding of `battsentinel_core::twin`): `CellParams`, `simulate`, `Simulator`,
//! `fit_hppc`, `SocEstimator`.
//!
//! Protocols, inputs and parameter sets are the core's serde types, given as dicts (or JSON / TOML text).

use battsentinel_core::twin::{
    self, CellParams, CellValidParams, Ekf, EkfParams, EkfSnapshot, HppcFitParams, InitialState, Input,
    Protocol, Simulator, State, Trace,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;

use crate::convert::{
    frame, from_json_str, from_json_value, merge_params, params_from_kwargs, py_to_json, records_frame,
    to_json_string, to_py_obj, vec_to_numpy,
};
use crate::errors::{param_err, PyResultExt};
use crate::io::PyBatteryLog;

/// Thevenin equivalent-circuit cell parameters (0–3 RC pairs, constants or tables over T, I, SoC), validated
/// on construction.
///
/// `CellParams(**fields)` takes the core's fields (`capacity_ah`, `ocv` = {"soc": [...], "ocv_v": [...]},
/// `r0_ohm`, `r1_ohm`, `c1_farad`, …, `dudt_v_per_k`, `thermal`, `v_min_v`, `v_max_v`); unknown fields raise
/// `ParamError`. `CellParams.ecm_example()` is PyBaMM's `ECM_Example` set.
#[pyclass(name = "CellParams", module = "battsentinel")]
#[derive(Clone)]
pub struct PyCellParams {
    /// The validated parameters.
    pub inner: CellValidParams,
}

fn cell(p: CellParams) -> PyResult<PyCellParams> {
    Ok(PyCellParams { inner: p.check().py()? })
}

#[pymethods]
impl PyCellParams {
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        match fields {
            None => Ok(Self { inner: CellParams::ecm_example().check().py()? }),
            Some(f) => cell(params_from_kwargs(Some(f), "cell parameters")?),
        }
    }

    /// PyBaMM's `ECM_Example` set: 100 Ah, tabulated OCV, R0/R1/C1 over (T, I, SoC), entropic heat.
    #[staticmethod]
    fn ecm_example() -> PyResult<Self> {
        cell(CellParams::ecm_example())
    }

    /// `ECM_Example` with constant R0 (Ω), R1 (Ω) and C1 (F) and no entropic heat.
    #[staticmethod]
    fn ecm_example_const(r0_ohm: f64, r1_ohm: f64, c1_farad: f64) -> PyResult<Self> {
        cell(CellParams::ecm_example_const(r0_ohm, r1_ohm, c1_farad))
    }

    /// A copy with some fields replaced (validated).
    #[pyo3(signature = (**changes))]
    fn replace(&self, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        cell(merge_params(self.inner.params(), changes, "cell parameters")?)
    }

    /// The parameters as a dict (the core's serde form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, self.inner.params())
    }

    /// The parameters as JSON.
    fn to_json(&self) -> PyResult<String> {
        to_json_string(self.inner.params())
    }

    /// Parameters from JSON (as written by `to_json`, the CLI or the server).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        cell(from_json_str(text, "cell parameters")?)
    }

    /// Capacity (Ah).
    #[getter]
    fn capacity_ah(&self) -> f64 {
        self.inner.params().capacity_ah
    }

    /// Number of RC pairs.
    #[getter]
    fn n_rc(&self) -> usize {
        self.inner.n_rc()
    }

    /// The SoC range covered by the OCV table.
    #[getter]
    fn soc_range(&self) -> (f64, f64) {
        self.inner.soc_range()
    }

    fn __getstate__(&self) -> PyResult<String> {
        self.to_json()
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        self.inner = from_json_str::<CellParams>(state, "cell parameters")?.check().py()?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "CellParams(capacity_ah={}, n_rc={}, v_min_v={}, v_max_v={})",
            p.capacity_ah,
            self.inner.n_rc(),
            p.v_min_v,
            p.v_max_v
        )
    }
}

/// A protocol from a dict, or JSON / TOML text.
fn protocol(obj: &Bound<'_, PyAny>) -> PyResult<Protocol> {
    if let Ok(s) = obj.cast::<PyString>() {
        let text: String = s.extract()?;
        let text = text.as_str();
        if text.trim_start().starts_with('{') {
            return from_json_str(text, "protocol");
        }
        let v: toml_value::Value = toml_value::parse(text)?;
        return from_json_value(v, "protocol");
    }
    from_json_value(py_to_json(obj)?, "protocol")
}

mod toml_value {
    //! TOML text → JSON value with Python's `tomllib` (3.11+) or `tomli`.
    use pyo3::prelude::*;
    pub use serde_json::Value;

    pub fn parse(text: &str) -> PyResult<Value> {
        Python::attach(|py| {
            let tomllib = py.import("tomllib").or_else(|_| py.import("tomli")).map_err(|_| {
                crate::errors::param_err(
                    "TOML protocols need Python >= 3.11 (tomllib) or `tomli`; pass a dict or JSON",
                )
            })?;
            let d = tomllib
                .call_method1("loads", (text,))
                .map_err(|e| crate::errors::param_err(format!("invalid TOML protocol: {e}")))?;
            crate::convert::py_to_json(&d)
        })
    }
}

fn trace_frame<'py>(py: Python<'py>, t: Trace) -> PyResult<Bound<'py, PyAny>> {
    let names = t.columns();
    let mut cols: Vec<Vec<f64>> = vec![t.time_s, t.current_a, t.voltage_v, t.ocv_v, t.soc, t.v_r0_v];
    cols.extend(t.v_rc_v);
    cols.push(t.r0_ohm);
    for (r, c) in t.r_ohm.into_iter().zip(t.c_farad) {
        cols.push(r);
        cols.push(c);
    }
    cols.extend([t.t_cell_c, t.t_jig_c, t.q_gen_w, t.power_w]);
    let mut out: Vec<(String, Bound<'py, PyAny>)> =
        names.into_iter().zip(cols).map(|(n, c)| (n, vec_to_numpy(py, c).into_any())).collect();
    out.push(("step".into(), vec_to_numpy(py, t.step.iter().map(|&s| i64::from(s)).collect()).into_any()));
    let df = frame(py, out)?;
    let attrs = df.getattr("attrs")?;
    attrs.set_item("end_reason", to_py_obj(py, &t.end_reason)?)?;
    attrs.set_item("events", to_py_obj(py, &t.events)?)?;
    Ok(df)
}

/// Runs a protocol on a cell and returns the trace as a DataFrame with PyBaMM's trace columns (`time_s`,
/// `current_A`, `voltage_V`, `ocv_V`, `soc`, …, `power_W`, `step`); `df.attrs` holds `end_reason` and
/// `events`.
///
/// `protocol` is a dict (or JSON/TOML text) of the core's `Protocol`: `{"initial": {"soc": 0.9}, "dt_s": 1.0,
/// "steps": [{"kind": "cc", "current_a": 100.0, "duration_s": 3600.0}], "limits": {...}}`; step kinds `rest`,
/// `cc`, `cv`, `cccv`, `power`, `pulses`, `hppc`, `drive_cycle`, `repeat`. Current is positive on discharge.
#[pyfunction]
#[pyo3(signature = (params, protocol))]
pub fn simulate<'py>(
    py: Python<'py>,
    params: &PyCellParams,
    protocol: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let proto = self::protocol(protocol)?;
    let p = &params.inner;
    let t = py.detach(|| twin::simulate(p, &proto)).py()?;
    trace_frame(py, t)
}

/// A real-time cell: `step(current_a=..., dt_s=1.0)` (or `voltage_v=` / `power_w=`) advances one sample and
/// returns the output as a dict (`time_s`, `current_a`, `voltage_v`, `ocv_v`, `soc`, `t_cell_c`, …).
#[pyclass(name = "Simulator", module = "battsentinel")]
pub struct PySimulator {
    inner: Simulator,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SimState {
    params: CellParams,
    state: State,
}

#[pymethods]
impl PySimulator {
    #[new]
    #[pyo3(signature = (params = None, soc = 1.0, temperature_c = None))]
    fn new(params: Option<&PyCellParams>, soc: f64, temperature_c: Option<f64>) -> PyResult<Self> {
        let p = match params {
            Some(p) => p.inner.clone(),
            None => CellParams::ecm_example().check().py()?,
        };
        Ok(Self { inner: Simulator::new(p, InitialState { soc, temperature_c }).py()? })
    }

    /// Advances by `dt_s` seconds under exactly one of `current_a` (A, positive = discharge), `voltage_v` (a
    /// held terminal voltage) or `power_w`; returns the output at the end of the step. On error the state is
    /// unchanged.
    #[pyo3(signature = (current_a = None, dt_s = 1.0, voltage_v = None, power_w = None))]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        current_a: Option<f64>,
        dt_s: f64,
        voltage_v: Option<f64>,
        power_w: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = match (current_a, voltage_v, power_w) {
            (Some(current_a), None, None) => Input::Current { current_a },
            (None, Some(voltage_v), None) => Input::Voltage { voltage_v },
            (None, None, Some(power_w)) => Input::Power { power_w },
            _ => return Err(param_err("give exactly one of current_a, voltage_v, power_w")),
        };
        let out = self.inner.step(input, dt_s).py()?;
        to_py_obj(py, &out)
    }

    /// Runs a whole protocol from the current state (its `initial` is ignored); returns the trace DataFrame.
    fn run<'py>(&self, py: Python<'py>, protocol: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let proto = self::protocol(protocol)?;
        let sim = self.inner.clone();
        let t = py.detach(|| twin::run(sim, &proto)).py()?;
        trace_frame(py, t)
    }

    /// The state: `time_s`, `soc`, `v_rc_v`, `t_cell_c`, `t_jig_c`.
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, self.inner.state())
    }

    /// The output at the current state (no time advance).
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.inner.output())
    }

    fn __getstate__(&self) -> PyResult<String> {
        to_json_string(&SimState { params: self.inner.params().params().clone(), state: *self.inner.state() })
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        let s: SimState = from_json_str(state, "simulator state")?;
        let p = s.params.check().py()?;
        let mut sim =
            Simulator::new(p, InitialState { soc: s.state.soc, temperature_c: Some(s.state.t_cell_c) })
                .py()?;
        sim.set_state(s.state).py()?;
        self.inner = sim;
        Ok(())
    }
}

/// Identifies a Thevenin cell with one or two RC pairs from an HPPC log (current positive = discharge), fitted
/// to the whole test at once.
///
/// Returns a dict: `params` (a `CellParams`), `points` (DataFrame of `soc`, `ocv_v`, `r0_ohm`, `r1_ohm`,
/// `c1_farad`, `r2_ohm`, `c2_farad` (None with one RC pair), `rmse_v` per pulse level), `capacity_ah`, `tau_s`
/// (fitted time constants), `rmse_v`, `max_error_v` (whole-test simulation), `samples`. Keyword arguments (the
/// core's `HppcFitParams`): `capacity_ah`, `rc_pairs` (1 or 2, default 2), `rest_current_a`, `max_pulse_s`,
/// `window_s`, `ocv_points`, `tau_min_s`, `tau_split_s`, `tau_max_s`, `ocv_smoothing`, `r_smoothing`,
/// `r_min_ohm`.
#[pyfunction]
#[pyo3(signature = (log, **params))]
pub fn fit_hppc<'py>(
    py: Python<'py>,
    log: &PyBatteryLog,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let defaults = serde_json::to_value(HppcFitParams::default()).unwrap_or(Value::Null);
    let mut v = defaults;
    if let (Some(p), Value::Object(m)) = (params, &mut v) {
        if let Value::Object(new) = py_to_json(p.as_any())? {
            m.extend(new);
        }
    }
    let fp: HppcFitParams = from_json_value(v, "HPPC fit parameters")?;
    let log = &log.inner;
    let fit = py.detach(|| twin::fit_hppc(log, &fp)).py()?;
    let d = PyDict::new(py);
    let fitted = serde_json::to_value(&fit).map_err(|e| param_err(e.to_string()))?;
    if let Value::Object(m) = &fitted {
        for (k, x) in m {
            if k != "params" && k != "points" {
                d.set_item(k, crate::convert::json_to_py(py, x)?)?;
            }
        }
    }
    d.set_item("params", Py::new(py, cell(fit.params)?)?)?;
    d.set_item("points", records_frame(py, &fit.points)?)?;
    Ok(d)
}

/// SoC estimation with an extended Kalman filter on a stream of (voltage, current, temperature) samples.
///
/// Keyword arguments tune the filter (`soc_std0`, `v_rc_std0_v`, `soc_process_std`, `v_rc_process_std_v`,
/// `voltage_noise_std_v`).
#[pyclass(name = "SocEstimator", module = "battsentinel")]
pub struct PySocEstimator {
    inner: Ekf,
}

#[pymethods]
impl PySocEstimator {
    #[new]
    #[pyo3(signature = (params, soc0 = 0.5, **tuning))]
    fn new(params: &PyCellParams, soc0: f64, tuning: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let tune: EkfParams = merge_params(&EkfParams::default(), tuning, "EKF tuning")?;
        Ok(Self { inner: Ekf::new(params.inner.clone(), tune, soc0).py()? })
    }

    /// One sample: the voltage (V) measured at the end of `dt_s` seconds of `current_a` (A, positive =
    /// discharge) at `temperature_c`; returns `soc`, `soc_std`, `v_rc_v`, `innovation_v`.
    #[pyo3(signature = (voltage_v, current_a, temperature_c = 25.0, dt_s = 1.0))]
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        voltage_v: f64,
        current_a: f64,
        temperature_c: f64,
        dt_s: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let e = self.inner.update(voltage_v, current_a, temperature_c, dt_s).py()?;
        to_py_obj(py, &e)
    }

    /// The filter's complete state as a dict (`params`, `tuning`, `state` = [SoC, V_1, …], `covariance`
    /// row by row); `SocEstimator.from_snapshot(d)` resumes it with identical estimates.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.inner.snapshot())
    }

    /// Resumes an estimator from `snapshot()` (a dict, or its JSON text).
    #[classmethod]
    fn from_snapshot(_cls: &Bound<'_, pyo3::types::PyType>, snapshot: &Bound<'_, PyAny>) -> PyResult<Self> {
        let v = match snapshot.cast::<PyString>() {
            Ok(s) => {
                serde_json::from_str(&s.to_cow()?).map_err(|e| param_err(format!("EKF snapshot: {e}")))?
            }
            Err(_) => py_to_json(snapshot)?,
        };
        let snap: EkfSnapshot = from_json_value(v, "EKF snapshot")?;
        Ok(Self { inner: Ekf::from_snapshot(snap).py()? })
    }

    /// Pickles as its snapshot.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
        let py = slf.py();
        let json =
            serde_json::to_string(&slf.borrow().inner.snapshot()).map_err(|e| param_err(e.to_string()))?;
        let restore = slf.get_type().getattr("from_snapshot")?;
        pyo3::types::PyTuple::new(py, [restore, pyo3::types::PyTuple::new(py, [json])?.into_any()])
    }

    /// Runs the filter over a whole log (voltage, current, first temperature channel or 25 °C) and returns a
    /// DataFrame of `time_s`, `soc`, `soc_std`, `innovation_v` (the first row is the initial estimate's first
    /// update after the first interval).
    fn run<'py>(&mut self, py: Python<'py>, log: &PyBatteryLog) -> PyResult<Bound<'py, PyAny>> {
        let l = &log.inner;
        let (Some(v), Some(i)) = (l.voltage_v.as_deref(), l.current_a.as_deref()) else {
            return Err(param_err("the log needs voltage_v and current_a"));
        };
        let temp = l.temperature_c();
        let t = &l.time_s;
        let inner = &mut self.inner;
        let rows = py
            .detach(|| {
                let mut rows = Vec::with_capacity(t.len());
                for k in 1..t.len() {
                    let tc = temp.map_or(25.0, |x| x[k]);
                    let e =
                        inner.update(v[k], i[k], if tc.is_finite() { tc } else { 25.0 }, t[k] - t[k - 1])?;
                    rows.push((t[k], e));
                }
                Ok::<_, twin::SimError>(rows)
            })
            .py()?;
        let cols = vec![
            ("time_s".to_string(), vec_to_numpy(py, rows.iter().map(|r| r.0).collect()).into_any()),
            ("soc".to_string(), vec_to_numpy(py, rows.iter().map(|r| r.1.soc).collect()).into_any()),
            ("soc_std".to_string(), vec_to_numpy(py, rows.iter().map(|r| r.1.soc_std).collect()).into_any()),
            (
                "innovation_v".to_string(),
                vec_to_numpy(py, rows.iter().map(|r| r.1.innovation_v).collect()).into_any(),
            ),
        ];
        frame(py, cols)
    }
}

/// Registers the twin.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCellParams>()?;
    m.add_class::<PySimulator>()?;
    m.add_class::<PySocEstimator>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(fit_hppc, m)?)?;
    Ok(())
}
