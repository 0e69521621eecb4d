//! `battsentinel.read`, `detect`, `read_summary` and the `BatteryLog` class (binding of `battsentinel_core::io`
//! and the shared data model).

use battsentinel_core::data::{BatteryLog, Channel, StepKind};
use battsentinel_core::io::{self, ReadOptions};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use serde_json::{Map, Value};

use crate::convert::{
    array1, frame, from_json_str, from_json_value, py_to_json, to_json_string, to_py_obj, vec_to_numpy,
};
use crate::errors::{param_err, PyResultExt};

/// A path or the bytes of a file.
pub enum Source {
    /// A file-system path.
    Path(String),
    /// File contents.
    Bytes(Vec<u8>),
}

/// `str` / `os.PathLike` → path; `bytes`, `bytearray`, `memoryview` → bytes; an object with `read()` → its bytes.
pub fn source(obj: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Source::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Source::Bytes(b.to_vec()));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Source::Path(obj.extract()?));
    }
    if obj.hasattr("__fspath__")? {
        let p = obj.py().import("os")?.call_method1("fspath", (obj,))?;
        if let Ok(s) = p.extract::<String>() {
            return Ok(Source::Path(s));
        }
        return Ok(Source::Path(p.call_method1("decode", ("utf-8",))?.extract()?));
    }
    if obj.hasattr("read")? {
        return source(&obj.call_method0("read")?);
    }
    if obj.py().import("builtins")?.getattr("memoryview")?.is(obj.get_type().as_any()) {
        return Ok(Source::Bytes(obj.call_method0("tobytes")?.extract()?));
    }
    Err(PyTypeError::new_err(format!(
        "expected a path (str or os.PathLike), bytes or a binary file object, got {}",
        obj.get_type().name()?
    )))
}

fn mapping_json(mapping: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(d) = mapping.cast::<PyDict>() {
        let mut out = Vec::new();
        for (header, target) in d.iter() {
            let header: String = header.extract()?;
            let (channel, unit): (String, Option<String>) = match target.extract::<String>() {
                Ok(c) => (c, None),
                Err(_) => target.extract().map_err(|_| {
                    PyTypeError::new_err("mapping values must be a channel name or a (channel, unit) pair")
                })?,
            };
            out.push(serde_json::json!({"header": header, "channel": channel, "unit": unit}));
        }
        return Ok(Value::Array(out));
    }
    py_to_json(mapping)
}

fn read_options(
    format: Option<&str>,
    mapping: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<ReadOptions> {
    let mut m = match kwargs {
        Some(k) => match py_to_json(k.as_any())? {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        None => Map::new(),
    };
    if let Some(Value::String(s)) = m.get("delimiter") {
        let b = s.as_bytes();
        if b.len() != 1 {
            return Err(param_err(format!("delimiter must be one ASCII character, got {s:?}")));
        }
        m.insert("delimiter".into(), Value::from(b[0]));
    }
    if let Some(f) = format {
        m.insert("format".into(), Value::String(f.to_string()));
    }
    if let Some(map) = mapping {
        m.insert("mapping".into(), mapping_json(map)?);
    }
    from_json_value(Value::Object(m), "read options")
}

/// Reads a battery time series (any supported cycler export) into a `BatteryLog`.
///
/// `source` is a path (`str` / `os.PathLike`), the file's bytes, or a binary file object. `format` forces a
/// format by name (for example `"arbin_csv"`, `"maccor_text"`, `"generic"`; see `detect`). `mapping` maps source
/// headers to channels: `{"U": ("voltage_v", "mV"), "Temp": "temperature:cell"}`. Other keyword arguments are
/// the reader options: `file_name`, `sheet`, `current_sign`, `sample_interval_s`, `delimiter`, `strict`.
///
/// Raises `ParseError` for unreadable content, `FileError` (an `OSError`) when the file cannot be read and
/// `ParamError` for unknown options. The GIL is released while parsing.
#[pyfunction]
#[pyo3(signature = (source, format=None, mapping=None, **options))]
pub fn read(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    format: Option<&str>,
    mapping: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyBatteryLog> {
    let opts = read_options(format, mapping, options)?;
    let src = self::source(source)?;
    let log = py
        .detach(move || match src {
            Source::Path(p) => io::read_path(p, &opts),
            Source::Bytes(b) => io::read_bytes(&b, &opts),
        })
        .py()?;
    Ok(PyBatteryLog { inner: log })
}

/// Reads a per-cycle summary table (batteryarchive.org cycle data, battery-data-toolkit summaries, LANHE
/// `Cycle-Tab`) as a DataFrame, one row per cycle. Arguments as `read`.
#[pyfunction]
#[pyo3(signature = (source, format=None, mapping=None, **options))]
pub fn read_summary<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    format: Option<&str>,
    mapping: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = read_options(format, mapping, options)?;
    let src = self::source(source)?;
    let s = py
        .detach(move || match src {
            Source::Path(p) => io::read_summary_path(p, &opts),
            Source::Bytes(b) => io::read_summary_bytes(&b, &opts),
        })
        .py()?;
    crate::features::summary_frame(py, &s)
}

/// Detects the format of a file from its first bytes (and name): a dict with `format`, `confidence` (0–1) and
/// `reason`. `source` as in `read`.
#[pyfunction]
#[pyo3(signature = (source, file_name=None))]
pub fn detect<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    file_name: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let (bytes, name) = match self::source(source)? {
        Source::Bytes(b) => (b, file_name.map(str::to_string)),
        Source::Path(p) => {
            use std::io::Read;
            let mut buf = Vec::new();
            let f = std::fs::File::open(&p).map_err(|e| {
                crate::errors::to_py(battsentinel_core::Error::Parse(io::ParseError::Io {
                    file: Some(p.clone()),
                    source: e,
                }))
            })?;
            f.take(256 * 1024).read_to_end(&mut buf).map_err(|e| {
                crate::errors::to_py(battsentinel_core::Error::Parse(io::ParseError::Io {
                    file: Some(p.clone()),
                    source: e,
                }))
            })?;
            let name = file_name
                .map(str::to_string)
                .or_else(|| std::path::Path::new(&p).file_name().map(|n| n.to_string_lossy().into_owned()));
            (buf, name)
        }
    };
    to_py_obj(py, &io::detect(&bytes, name.as_deref()))
}

fn step_kind_name(k: StepKind) -> String {
    match serde_json::to_value(k) {
        Ok(Value::String(s)) => s,
        _ => "other".to_string(),
    }
}

/// A battery time series in library units: seconds, volts, amperes (positive = discharge), °C, Ah, Wh.
///
/// Build one with `read(...)`, `BatteryLog(time_s, voltage_v=..., current_a=..., temperature_c=...)`,
/// `BatteryLog.from_pandas(df)` or `BatteryLog.from_dict(columns)`. Columns come out with `to_numpy()` (a dict
/// of NumPy arrays) and `to_pandas()`. Column names: `time_s`, `voltage_v`, `current_a`,
/// `temperature_c:<name>`, `charge_capacity_ah`, `discharge_capacity_ah`, `charge_energy_wh`,
/// `discharge_energy_wh`, `cycle_index`, `step_index`, `step_kind`, then extra channels by name.
#[pyclass(name = "BatteryLog", module = "battsentinel")]
#[derive(Clone)]
pub struct PyBatteryLog {
    /// The core log.
    pub inner: BatteryLog,
}

fn opt_vec(a: Option<PyReadonlyArray1<'_, f64>>) -> Option<Vec<f64>> {
    a.map(|a| a.as_array().to_vec())
}

fn index_column(v: &[f64], name: &str) -> PyResult<Vec<Option<u32>>> {
    v.iter()
        .map(|&x| {
            if x.is_nan() {
                Ok(None)
            } else if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) {
                Ok(Some(x as u32))
            } else {
                Err(PyValueError::new_err(format!(
                    "column `{name}` must hold non-negative integers, found {x}"
                )))
            }
        })
        .collect()
}

fn index_to_numpy<'py>(py: Python<'py>, v: &[Option<u32>]) -> Bound<'py, PyAny> {
    if v.iter().all(Option::is_some) {
        vec_to_numpy(py, v.iter().map(|x| i64::from(x.unwrap_or(0))).collect()).into_any()
    } else {
        vec_to_numpy(py, v.iter().map(|x| x.map_or(f64::NAN, f64::from)).collect()).into_any()
    }
}

impl PyBatteryLog {
    fn column_arrays<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let l = &self.inner;
        let mut c: Vec<(String, Bound<'py, PyAny>)> =
            vec![("time_s".into(), vec_to_numpy(py, l.time_s.clone()).into_any())];
        let opt = |name: &str, v: &Option<Vec<f64>>, c: &mut Vec<(String, Bound<'py, PyAny>)>| {
            if let Some(v) = v {
                c.push((name.to_string(), vec_to_numpy(py, v.clone()).into_any()));
            }
        };
        opt("voltage_v", &l.voltage_v, &mut c);
        opt("current_a", &l.current_a, &mut c);
        for ch in &l.temperatures_c {
            c.push((format!("temperature_c:{}", ch.name), vec_to_numpy(py, ch.values.clone()).into_any()));
        }
        opt("charge_capacity_ah", &l.charge_capacity_ah, &mut c);
        opt("discharge_capacity_ah", &l.discharge_capacity_ah, &mut c);
        opt("charge_energy_wh", &l.charge_energy_wh, &mut c);
        opt("discharge_energy_wh", &l.discharge_energy_wh, &mut c);
        if let Some(v) = &l.cycle_index {
            c.push(("cycle_index".into(), index_to_numpy(py, v)));
        }
        if let Some(v) = &l.step_index {
            c.push(("step_index".into(), index_to_numpy(py, v)));
        }
        if let Some(v) = &l.step_kind {
            // The few distinct kinds become Python objects once; every row is an index into them (numpy's
            // `take` fills the object array with references, no Python object or name lookup per row).
            let mut kinds: Vec<Option<StepKind>> = vec![None];
            let codes: Vec<i64> = v
                .iter()
                .map(|k| match kinds.iter().position(|x| x == k) {
                    Some(p) => p as i64,
                    None => {
                        kinds.push(*k);
                        kinds.len() as i64 - 1
                    }
                })
                .collect();
            let names: Vec<Option<String>> = kinds.into_iter().map(|k| k.map(step_kind_name)).collect();
            let cats = py.import("numpy")?.call_method1("array", (PyList::new(py, names)?, "object"))?;
            c.push(("step_kind".into(), cats.call_method1("take", (vec_to_numpy(py, codes),))?));
        }
        for ch in &l.extra {
            if !c.iter().any(|(n, _)| *n == ch.name) {
                c.push((ch.name.clone(), vec_to_numpy(py, ch.values.clone()).into_any()));
            }
        }
        Ok(c)
    }

    fn from_columns(columns: &Bound<'_, PyAny>, names: Vec<String>) -> PyResult<Self> {
        let mut log = BatteryLog::default();
        let get = |n: &str| -> PyResult<Bound<'_, PyAny>> {
            let col = columns.get_item(n)?;
            if col.hasattr("to_numpy")? {
                col.call_method0("to_numpy")
            } else {
                Ok(col)
            }
        };
        if !names.iter().any(|n| n == "time_s") {
            return Err(PyKeyError::new_err("a `time_s` column (seconds) is required"));
        }
        log.time_s = array1(&get("time_s")?, "time_s")?.as_array().to_vec();
        for name in names.iter().filter(|n| *n != "time_s") {
            let col = get(name)?;
            if name == "step_kind" {
                // Missing kinds arrive as None, as NaN (pandas' `str` dtype) or as pd.NA (`string` dtype).
                let py = columns.py();
                let na = py.import("pandas").and_then(|pd| pd.getattr("NA")).ok();
                let bad = || {
                    PyTypeError::new_err(
                        "column `step_kind` must hold strings or missing values (None, NaN, pd.NA)",
                    )
                };
                let mut seen: Vec<(String, StepKind)> = Vec::new();
                let mut kinds = Vec::new();
                for item in col.call_method0("tolist")?.try_iter()? {
                    let item = item?;
                    if item.is_none() || na.as_ref().is_some_and(|na| item.is(na)) {
                        kinds.push(None);
                    } else if let Ok(s) = item.extract::<String>() {
                        let k = match seen.iter().find(|(n, _)| *n == s) {
                            Some(&(_, k)) => k,
                            None => {
                                let k = from_json_value::<StepKind>(Value::String(s.clone()), "step_kind")?;
                                seen.push((s, k));
                                k
                            }
                        };
                        kinds.push(Some(k));
                    } else if item.extract::<f64>().is_ok_and(f64::is_nan) {
                        kinds.push(None);
                    } else {
                        return Err(bad());
                    }
                }
                log.step_kind = Some(kinds);
                continue;
            }
            let v = array1(&col, name)?.as_array().to_vec();
            match name.as_str() {
                "voltage_v" => log.voltage_v = Some(v),
                "current_a" => log.current_a = Some(v),
                "charge_capacity_ah" => log.charge_capacity_ah = Some(v),
                "discharge_capacity_ah" => log.discharge_capacity_ah = Some(v),
                "charge_energy_wh" => log.charge_energy_wh = Some(v),
                "discharge_energy_wh" => log.discharge_energy_wh = Some(v),
                "cycle_index" => log.cycle_index = Some(index_column(&v, name)?),
                "step_index" => log.step_index = Some(index_column(&v, name)?),
                "temperature_c" => log.temperatures_c.push(Channel::new("temperature", "°C", v)),
                n if n.starts_with("temperature_c:") => {
                    log.temperatures_c.push(Channel::new(&n["temperature_c:".len()..], "°C", v))
                }
                n => log.extra.push(Channel::new(n, "", v)),
            }
        }
        log.meta.format = "python".into();
        log.quality.rows_read = log.time_s.len();
        log.quality.rows_kept = log.time_s.len();
        log.validate().map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self { inner: log })
    }
}

#[pymethods]
impl PyBatteryLog {
    /// A log from arrays: `time_s` (s), optional `voltage_v` (V), `current_a` (A, positive = discharge) and
    /// `temperature_c` (°C). Every array must have the length of `time_s`. Without arguments: an empty log.
    #[new]
    #[pyo3(signature = (time_s=None, voltage_v=None, current_a=None, temperature_c=None))]
    fn new(
        time_s: Option<&Bound<'_, PyAny>>,
        voltage_v: Option<&Bound<'_, PyAny>>,
        current_a: Option<&Bound<'_, PyAny>>,
        temperature_c: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        fn arr<'py>(o: Option<&Bound<'py, PyAny>>, n: &str) -> PyResult<Option<PyReadonlyArray1<'py, f64>>> {
            o.map(|o| array1(o, n)).transpose()
        }
        let mut log = BatteryLog::with_time(opt_vec(arr(time_s, "time_s")?).unwrap_or_default());
        log.voltage_v = opt_vec(arr(voltage_v, "voltage_v")?);
        log.current_a = opt_vec(arr(current_a, "current_a")?);
        if let Some(t) = opt_vec(arr(temperature_c, "temperature_c")?) {
            log.temperatures_c.push(Channel::new("temperature", "°C", t));
        }
        log.meta.format = "python".into();
        log.quality.rows_read = log.time_s.len();
        log.quality.rows_kept = log.time_s.len();
        log.validate().map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self { inner: log })
    }

    /// A log from a pandas DataFrame whose columns are named as `to_pandas()` writes them (`time_s` required).
    #[staticmethod]
    fn from_pandas(df: &Bound<'_, PyAny>) -> PyResult<Self> {
        let names: Vec<String> = df
            .getattr("columns")?
            .call_method0("tolist")?
            .try_iter()?
            .map(|c| c?.str()?.extract::<String>())
            .collect::<PyResult<_>>()?;
        Self::from_columns(df, names)
    }

    /// A log from a mapping of column name → 1-D array (names as in `to_numpy()`; `time_s` required).
    #[staticmethod]
    fn from_dict(columns: &Bound<'_, PyDict>) -> PyResult<Self> {
        let names: Vec<String> =
            columns.keys().iter().map(|k| k.extract::<String>()).collect::<PyResult<_>>()?;
        Self::from_columns(columns.as_any(), names)
    }

    /// The columns as a dict of NumPy arrays (float64; `cycle_index`/`step_index` int64, or float64 with NaN
    /// when some rows have none; `step_kind` an object array of str/None).
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.column_arrays(py)? {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The columns as a pandas DataFrame (see `to_numpy` for the dtypes); `df.attrs` holds `meta` and `quality`.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let df = frame(py, self.column_arrays(py)?)?;
        let attrs = df.getattr("attrs")?;
        attrs.set_item("meta", to_py_obj(py, &self.inner.meta)?)?;
        attrs.set_item("quality", to_py_obj(py, &self.inner.quality)?)?;
        Ok(df)
    }

    /// Column names, in the order of `to_numpy()`.
    #[getter]
    fn columns(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.column_arrays(py)?.into_iter().map(|(n, _)| n).collect())
    }

    /// Time (s) as a NumPy array.
    #[getter]
    fn time_s<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        vec_to_numpy(py, self.inner.time_s.clone()).into_any()
    }

    /// Voltage (V), or None.
    #[getter]
    fn voltage_v<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.inner.voltage_v.clone().map(|v| vec_to_numpy(py, v).into_any())
    }

    /// Current (A, positive = discharge), or None.
    #[getter]
    fn current_a<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.inner.current_a.clone().map(|v| vec_to_numpy(py, v).into_any())
    }

    /// The first temperature channel (°C), or None.
    #[getter]
    fn temperature_c<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.inner.temperature_c().map(|v| vec_to_numpy(py, v.to_vec()).into_any())
    }

    /// The data-quality report: `rows_read`, `rows_kept`, `issues` (each with `code`, `column`, `action`,
    /// `count`, `first_line`, `last_line`, `detail`).
    #[getter]
    fn quality<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.inner.quality)
    }

    /// Reader metadata: `format`, `source_name`, column `mapping`, `current_sign`, `info`, `warnings`.
    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.inner.meta)
    }

    /// The log as JSON (the format shared with the CLI, the server and the browser package).
    fn to_json(&self) -> PyResult<String> {
        to_json_string(&self.inner)
    }

    /// A log from the JSON of `to_json`.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(Self { inner: from_json_str(text, "battery log JSON")? })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "BatteryLog(rows={}, format={:?}, voltage={}, current={}, temperatures={})",
            self.inner.len(),
            self.inner.meta.format,
            self.inner.voltage_v.is_some(),
            self.inner.current_a.is_some(),
            self.inner.temperatures_c.len()
        )
    }

    fn __getstate__(&self) -> PyResult<String> {
        self.to_json()
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        self.inner = from_json_str(state, "battery log JSON")?;
        Ok(())
    }
}

/// Registers the io functions and `BatteryLog`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBatteryLog>()?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(read_summary, m)?)?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    Ok(())
}
