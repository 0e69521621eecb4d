//! Conversions shared by every binding file: Python values ⇄ JSON (for serde params and results), keyword
//! arguments → core `XParams`, and NumPy array arguments with clear errors.

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Number, Value};

use crate::errors::{new_err, param_err, Kind};

/// A Python object (None, bool, int, float, str, list/tuple, dict with str keys, NumPy scalars and arrays)
/// as JSON.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(v) = obj.extract::<u64>() {
            return Ok(Value::from(v));
        }
        return Ok(Value::from(obj.extract::<i64>()?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(float_json(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let key: String = k.str()?.extract()?;
            m.insert(key, py_to_json(&v)?);
        }
        return Ok(Value::Object(m));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj.try_iter()?.map(|x| py_to_json(&x?)).collect::<PyResult<Vec<_>>>().map(Value::Array);
    }
    // NumPy scalars and arrays.
    if obj.hasattr("tolist")? {
        let v = obj.call_method0("tolist")?;
        if !v.is(obj) {
            return py_to_json(&v);
        }
    }
    if obj.hasattr("__index__")? {
        return Ok(Value::from(obj.call_method0("__index__")?.extract::<i64>()?));
    }
    if obj.hasattr("__float__")? {
        return Ok(float_json(obj.call_method0("__float__")?.extract()?));
    }
    Err(PyTypeError::new_err(format!(
        "cannot convert a value of type {} to a parameter",
        obj.get_type().name()?
    )))
}

fn float_json(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// JSON as Python (dicts, lists, floats, ints, str, None).
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Any serde value as Python (through JSON).
pub fn to_py_obj<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let j = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &j)
}

/// Deserialises a core type from JSON, reporting unknown keys and bad values as `ParamError`.
pub fn from_json_value<T: DeserializeOwned>(v: Value, what: &str) -> PyResult<T> {
    serde_json::from_value(v).map_err(|e| param_err(format!("invalid {what}: {e}")))
}

/// Keyword arguments (or a dict) → a core params type; unknown keys are a `ParamError`.
pub fn params_from_kwargs<T: DeserializeOwned>(
    kwargs: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let v = match kwargs {
        Some(d) => py_to_json(d.as_any())?,
        None => Value::Object(Map::new()),
    };
    from_json_value(v, what)
}

/// The params of `current`, updated with `kwargs` (for `set_params`).
pub fn merge_params<T: Serialize + DeserializeOwned>(
    current: &T,
    kwargs: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    let mut v = serde_json::to_value(current).map_err(|e| PyValueError::new_err(e.to_string()))?;
    if let (Some(d), Value::Object(m)) = (kwargs, &mut v) {
        if let Value::Object(new) = py_to_json(d.as_any())? {
            for (k, x) in new {
                m.insert(k, x);
            }
        }
    }
    from_json_value(v, what)
}

/// JSON text of a serde value (pickle state).
pub fn to_json_string<T: Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Parses JSON text (pickle state).
pub fn from_json_str<T: DeserializeOwned>(s: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(s).map_err(|e| new_err(Kind::Param, "invalid_param", format!("invalid {what}: {e}")))
}

fn numpy(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("numpy")
}

/// `np.asarray(obj)` checked to hold real numbers, converted to float64 (no copy when it already is).
fn as_float_array<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    let np = numpy(obj.py())?;
    let arr = np
        .call_method1("asarray", (obj,))
        .map_err(|e| PyTypeError::new_err(format!("{what} must be array-like of real numbers ({e})")))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(PyTypeError::new_err(format!("{what} must hold real numbers, got dtype {dtype}")));
    }
    if kind == "f" && arr.getattr("dtype")?.getattr("itemsize")?.extract::<usize>()? == 8 {
        return Ok(arr);
    }
    arr.call_method1("astype", ("float64",))
}

/// A 2-D float64 array argument: zero-copy for float64 arrays of any strides; other real dtypes and
/// array-likes (lists, DataFrames) are converted. Wrong dtypes raise `TypeError`, wrong dimensions `ValueError`.
pub fn array2<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<PyReadonlyArray2<'py, f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f64>>() {
        return Ok(a);
    }
    let arr = as_float_array(obj, what)?;
    let ndim: usize = arr.getattr("ndim")?.extract()?;
    if ndim != 2 {
        let shape = arr.getattr("shape")?.str()?.to_string();
        return Err(PyValueError::new_err(format!(
            "{what} must be a 2-D array (n_samples, n_features), got shape {shape}"
        )));
    }
    arr.extract::<PyReadonlyArray2<'py, f64>>()
}

/// An owned copy of a NumPy array's view. An empty array is built from its shape alone: ndarray's
/// `to_owned` asserts (with debug assertions) on the non-zero strides NumPy gives empty slices such as
/// `X[:0]`.
pub fn owned<D: ndarray::Dimension>(a: ndarray::ArrayView<'_, f64, D>) -> ndarray::Array<f64, D> {
    if a.is_empty() {
        ndarray::Array::zeros(a.raw_dim())
    } else {
        a.to_owned()
    }
}

/// A 1-D float64 array argument (see [`array2`]).
pub fn array1<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<PyReadonlyArray1<'py, f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
        return Ok(a);
    }
    let arr = as_float_array(obj, what)?;
    let ndim: usize = arr.getattr("ndim")?.extract()?;
    if ndim != 1 {
        let shape = arr.getattr("shape")?.str()?.to_string();
        return Err(PyValueError::new_err(format!("{what} must be a 1-D array, got shape {shape}")));
    }
    arr.extract::<PyReadonlyArray1<'py, f64>>()
}

/// Dimension count of an array-like (via `np.ndim`).
pub fn ndim(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    numpy(obj.py())?.call_method1("ndim", (obj,))?.extract()
}

/// Class labels: a 1-D array of non-negative integers (integral floats accepted).
pub fn labels(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<usize>> {
    let np = numpy(obj.py())?;
    let arr = np.call_method1("asarray", (obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(PyTypeError::new_err(format!(
            "{what} must hold non-negative integer class labels, got dtype {dtype}"
        )));
    }
    let a = array1(&arr, what)?;
    let view = a.as_array();
    view.iter()
        .map(|&v| {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53) {
                Ok(v as usize)
            } else {
                Err(new_err(
                    Kind::Model,
                    "invalid_label",
                    format!("{what} must hold non-negative integer class labels, found {v}"),
                ))
            }
        })
        .collect()
}

/// A NumPy array that owns `v` (no copy).
pub fn vec_to_numpy<T: numpy::Element>(py: Python<'_>, v: Vec<T>) -> Bound<'_, PyArray1<T>> {
    PyArray1::from_vec(py, v)
}

/// `pandas.DataFrame(columns)` from `(name, column)` pairs, in order.
pub fn frame<'py>(py: Python<'py>, columns: Vec<(String, Bound<'py, PyAny>)>) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(py);
    for (k, v) in columns {
        d.set_item(k, v)?;
    }
    // The arrays are fresh and owned by nobody else: `copy=False` keeps them as the frame's columns instead
    // of copying them into one consolidated block (a second copy of every column).
    let kwargs = [("copy", false)].into_py_dict(py)?;
    py.import("pandas")?.getattr("DataFrame")?.call((d,), Some(&kwargs))
}

/// A column of JSON values as a NumPy array: int64 when every value is an integer, float64 (missing = NaN) when
/// every value is a number or null, else an object array.
pub fn json_column<'py>(py: Python<'py>, values: &[&Value]) -> PyResult<Bound<'py, PyAny>> {
    let numeric = values.iter().all(|v| v.is_number() || v.is_null());
    if numeric && values.iter().all(|v| v.is_i64()) {
        return Ok(vec_to_numpy(py, values.iter().map(|v| v.as_i64().unwrap_or(0)).collect()).into_any());
    }
    if numeric {
        return Ok(
            vec_to_numpy(py, values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()).into_any()
        );
    }
    // Filled item by item: `np.array(list, dtype=object)` would make a 2-D array of equal-length lists.
    let arr =
        numpy(py)?.call_method("empty", (values.len(),), Some(&[("dtype", "object")].into_py_dict(py)?))?;
    for (i, v) in values.iter().enumerate() {
        arr.set_item(i, json_to_py(py, v)?)?;
    }
    Ok(arr)
}

use pyo3::types::IntoPyDict;

/// A DataFrame from serde records: one row per record, one column per field (nested objects flattened as
/// `outer.inner`), in the order of the first record.
pub fn records_frame<'py, T: Serialize>(py: Python<'py>, records: &[T]) -> PyResult<Bound<'py, PyAny>> {
    let rows: Vec<Map<String, Value>> = records
        .iter()
        .map(|r| {
            let v = serde_json::to_value(r).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let mut flat = Map::new();
            flatten("", v, &mut flat);
            Ok(flat)
        })
        .collect::<PyResult<_>>()?;
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        for k in r.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let null = Value::Null;
    let mut cols = Vec::with_capacity(names.len());
    for n in names {
        let vals: Vec<&Value> = rows.iter().map(|r| r.get(&n).unwrap_or(&null)).collect();
        let col = json_column(py, &vals)?;
        cols.push((n, col));
    }
    frame(py, cols)
}

fn flatten(prefix: &str, v: Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) if !prefix.is_empty() || !m.is_empty() => {
            for (k, x) in m {
                let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(&key, x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other);
        }
    }
}
