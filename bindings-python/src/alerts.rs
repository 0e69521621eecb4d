//! Alerts (binding of `battsentinel_core::alerts`): `RuleSet` and the streaming `AlertEngine`.

use battsentinel_core::alerts::{AlertEngine, Chemistry, EngineParams, EngineSnapshot, RuleSet, Sample};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use serde_json::Value;

use crate::convert::{from_json_value, params_from_kwargs, py_to_json, to_py_obj};
use crate::errors::{param_err, PyResultExt};
use crate::io::PyBatteryLog;

/// A validated set of alert rules (TOML or JSON rule files; see the core's `alerts` docs for the format).
#[pyclass(name = "RuleSet", module = "battsentinel")]
#[derive(Clone)]
pub struct PyRuleSet {
    /// The rules.
    pub inner: RuleSet,
}

#[pymethods]
impl PyRuleSet {
    /// `RuleSet()` is the default Li-ion rule set for NMC; `RuleSet(text)` parses TOML (or JSON when the text
    /// starts with `{`); `RuleSet(dict)` reads the JSON form.
    #[new]
    #[pyo3(signature = (source = None))]
    fn new(source: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let inner = match source {
            None => RuleSet::default_li_ion(Chemistry::Nmc),
            Some(s) => rules_of(s)?,
        };
        Ok(Self { inner })
    }

    /// The default Li-ion rule set with the thresholds of `chemistry` (`"nmc"` or `"lfp"`).
    #[staticmethod]
    #[pyo3(signature = (chemistry = "nmc"))]
    fn default(chemistry: &str) -> PyResult<Self> {
        let c: Chemistry =
            from_json_value(Value::String(chemistry.into()), "chemistry (\"nmc\" or \"lfp\")")?;
        Ok(Self { inner: RuleSet::default_li_ion(c) })
    }

    /// Parses a TOML rule file.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        Ok(Self { inner: RuleSet::from_toml_str(text).py()? })
    }

    /// Parses a JSON rule file.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(Self { inner: RuleSet::from_json_str(text).py()? })
    }

    /// The rules as TOML.
    fn to_toml(&self) -> PyResult<String> {
        self.inner.to_toml_string().py()
    }

    /// The rules as JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json_string().py()
    }

    /// A copy with one named threshold set (for example `"i_over_a"`).
    fn with_param(&self, name: &str, value: f64) -> PyResult<Self> {
        Ok(Self { inner: self.inner.with_param(name, value).py()? })
    }

    /// A copy with a named profile's thresholds applied.
    fn with_profile(&self, profile: &str) -> PyResult<Self> {
        Ok(Self { inner: self.inner.with_profile(profile).py()? })
    }

    /// Ids of the rules, in order.
    #[getter]
    fn rule_ids(&self) -> Vec<String> {
        self.inner.rules.iter().map(|r| r.id.clone()).collect()
    }

    /// The named thresholds.
    #[getter]
    fn params(&self) -> std::collections::BTreeMap<String, f64> {
        self.inner.params.clone()
    }

    fn __len__(&self) -> usize {
        self.inner.rules.len()
    }

    fn __getstate__(&self) -> PyResult<String> {
        self.to_json()
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        self.inner = RuleSet::from_json_str(state).py()?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("RuleSet(rules={})", self.inner.rules.len())
    }
}

fn rules_of(obj: &Bound<'_, PyAny>) -> PyResult<RuleSet> {
    if let Ok(r) = obj.cast::<PyRuleSet>() {
        return Ok(r.borrow().inner.clone());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text: String = s.extract()?;
        let text = text.as_str();
        return if text.trim_start().starts_with('{') {
            RuleSet::from_json_str(text).py()
        } else {
            RuleSet::from_toml_str(text).py()
        };
    }
    if obj.cast::<PyDict>().is_ok() {
        let json = serde_json::to_string(&py_to_json(obj)?).map_err(|e| param_err(e.to_string()))?;
        return RuleSet::from_json_str(&json).py();
    }
    Err(PyTypeError::new_err("rules must be a RuleSet, TOML/JSON text or a dict"))
}

/// The alert engine: `evaluate(log)` over a whole log, or `push(t_s, values)` sample by sample (both give the
/// same events). Events are dicts: `kind` ("raised", "escalated", "cleared"), `alert_id`, `t_s`,
/// `onset_t_s`, `rule_id`, `dedup_key`, `severity`, `category`, `battery_id`, `values`,
/// `suppressed_episodes`.
///
/// `rules` is a `RuleSet`, TOML/JSON text or a dict (default: the NMC rule set). `signals` names the values of
/// a streamed sample (for `push`); without it the engine binds to the columns of the first log given to
/// `evaluate` (`voltage_v`, `current_a`, `temperature_c:<name>`, …). Keyword arguments: `battery_id`, `tags`,
/// `max_gap_s` (300), `max_window_samples`.
///
/// `snapshot()` saves the complete streaming state (rules, signals, parameters, windows, timers, latches,
/// active alerts, counters) as a dict; `AlertEngine.from_snapshot(d)` resumes it with identical events, and
/// pickling goes through the snapshot.
#[pyclass(name = "AlertEngine", module = "battsentinel")]
pub struct PyAlertEngine {
    rules: RuleSet,
    params: EngineParams,
    engine: Option<AlertEngine>,
}

#[pymethods]
impl PyAlertEngine {
    #[new]
    #[pyo3(signature = (rules = None, signals = None, **params))]
    fn new(
        rules: Option<&Bound<'_, PyAny>>,
        signals: Option<Vec<String>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let rules = match rules {
            Some(r) => rules_of(r)?,
            None => RuleSet::default_li_ion(Chemistry::Nmc),
        };
        let params: EngineParams = params_from_kwargs(params, "alert engine parameters")?;
        let engine = match signals {
            Some(s) => Some(AlertEngine::new(&rules, &s, params.clone()).py()?),
            None => {
                // Validates rules and params now.
                AlertEngine::new(&rules, &[], params.clone()).py()?;
                None
            }
        };
        Ok(Self { rules, params, engine })
    }

    /// Evaluates every row of `log` (continuing the engine's history) and returns the events in order. The
    /// GIL is released.
    fn evaluate<'py>(&mut self, py: Python<'py>, log: &PyBatteryLog) -> PyResult<Bound<'py, PyAny>> {
        if self.engine.is_none() {
            self.engine = Some(AlertEngine::for_log(&self.rules, &log.inner, self.params.clone()).py()?);
        }
        let (Some(engine), l) = (self.engine.as_mut(), &log.inner) else {
            return Err(param_err("engine not initialised"));
        };
        let events = py.detach(|| engine.evaluate(l));
        to_py_obj(py, &events)
    }

    /// Feeds one sample at time `t_s` (s): `values` is a dict `{signal: value}` (missing signals are NaN) or a
    /// sequence aligned with `signals`. Returns the events it causes.
    fn push<'py>(
        &mut self,
        py: Python<'py>,
        t_s: f64,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(engine) = self.engine.as_mut() else {
            return Err(param_err("push needs the stream's signals: AlertEngine(rules, signals=[...])"));
        };
        let row: Vec<f64> = if let Ok(d) = values.cast::<PyDict>() {
            let mut row = vec![f64::NAN; engine.signals().len()];
            for (k, v) in d.iter() {
                let name: String = k.extract()?;
                let i = engine.signal_index(&name).ok_or_else(|| {
                    PyKeyError::new_err(format!(
                        "unknown signal {name:?}; signals are {:?}",
                        engine.signals()
                    ))
                })?;
                row[i] = v.extract::<Option<f64>>()?.unwrap_or(f64::NAN);
            }
            row
        } else {
            values.extract()?
        };
        let events = engine.push(&Sample { t_s, values: &row });
        to_py_obj(py, &events)
    }

    /// The complete streaming state as a dict (JSON-compatible: non-finite times are the strings `"nan"`,
    /// `"inf"`, `"-inf"`); `AlertEngine.from_snapshot(d)` resumes it with identical events. An engine not yet
    /// bound to its signals (no `signals`, no `evaluate` yet) carries `"bound": False`.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.snapshot_value()?)
    }

    /// Resumes an engine from `snapshot()` (a dict, or its JSON text). Raises `RuleError` (code
    /// `invalid_snapshot`, naming the field) when the state does not fit the rules.
    #[classmethod]
    fn from_snapshot(_cls: &Bound<'_, PyType>, snapshot: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut v = match snapshot.cast::<PyString>() {
            Ok(s) => serde_json::from_str(&s.to_cow()?)
                .map_err(|e| param_err(format!("alert engine snapshot: {e}")))?,
            Err(_) => py_to_json(snapshot)?,
        };
        let bound = match v.as_object_mut().and_then(|o| o.remove("bound")) {
            None => true,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(param_err(format!("alert engine snapshot: `bound` must be a bool, got {other}")))
            }
        };
        let snap: EngineSnapshot = from_json_value(v, "alert engine snapshot")?;
        let rules = snap.rules.clone();
        let params_json = serde_json::to_value(&snap.params).map_err(|e| param_err(e.to_string()))?;
        let params: EngineParams = from_json_value(params_json, "alert engine parameters")?;
        let engine = AlertEngine::from_snapshot(snap).py()?;
        Ok(Self { rules, params, engine: bound.then_some(engine) })
    }

    /// Pickles as its snapshot (`(AlertEngine.from_snapshot, (json,))`).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json =
            serde_json::to_string(&slf.borrow().snapshot_value()?).map_err(|e| param_err(e.to_string()))?;
        let restore = slf.get_type().getattr("from_snapshot")?;
        PyTuple::new(py, [restore, PyTuple::new(py, [json])?.into_any()])
    }

    /// Back to the state right after construction.
    fn reset(&mut self) {
        if let Some(e) = self.engine.as_mut() {
            e.reset();
        }
    }

    /// The signals a sample carries, in order (empty before the first `evaluate` without `signals`).
    #[getter]
    fn signals(&self) -> Vec<String> {
        self.engine.as_ref().map(|e| e.signals().to_vec()).unwrap_or_default()
    }

    /// Signals named by rules that the stream does not carry.
    #[getter]
    fn unbound_signals(&self) -> Vec<String> {
        self.engine.as_ref().map(|e| e.unbound_signals().to_vec()).unwrap_or_default()
    }

    /// Dedup keys of the alerts currently raised.
    #[getter]
    fn active_keys(&self) -> Vec<String> {
        self.engine
            .as_ref()
            .map(|e| e.active_keys().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    }

    /// Counters: `samples`, `duplicates`, `out_of_order`, `invalid_time`, `gaps`, `window_evictions`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.engine.as_ref().map(|e| e.stats()).unwrap_or_default())
    }
}

impl PyAlertEngine {
    fn snapshot_value(&self) -> PyResult<Value> {
        let to_value = |s: EngineSnapshot| serde_json::to_value(s).map_err(|e| param_err(e.to_string()));
        match &self.engine {
            Some(e) => to_value(e.snapshot()),
            None => {
                let e = AlertEngine::new(&self.rules, &[], self.params.clone()).py()?;
                let mut v = to_value(e.snapshot())?;
                if let Some(o) = v.as_object_mut() {
                    o.insert("bound".into(), Value::Bool(false));
                }
                Ok(v)
            }
        }
    }
}

/// Registers the alerts.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRuleSet>()?;
    m.add_class::<PyAlertEngine>()?;
    Ok(())
}
