//! The Python exception tree and the one place where core errors become Python exceptions.
//!
//! ```text
//! BattSentinelError(Exception)            every error raised by battsentinel; `.code` is the core's code()
//! ├── ParamError(…, ValueError)           invalid_param, inconsistent_params, unknown keyword arguments
//! ├── ParseError(…, ValueError)           io: unknown_format, bad_header, bad_value, empty, …
//! ├── FileError(…, OSError)               io / thermal_io: the file cannot be opened or read (errno set)
//! ├── FeatureError(…, ValueError)         features
//! ├── ModelError(…, ValueError)           models; NotFittedError(ModelError, AttributeError) before fit
//! ├── ExplainError(…, ValueError)         explain
//! ├── SimulationError(…, ValueError)      twin
//! ├── RuleError(…, ValueError)            alerts
//! └── ThermalError(…, ValueError)         thermal
//! ```

use battsentinel_core::{
    alerts::RuleError, explain::ExplainError, features::FeatureError, io::ParseError, models::ModelError,
    params::ParamError, thermal::ThermalError, twin::SimError, Error,
};
use pyo3::exceptions::{PyAttributeError, PyException, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The exception classes, one per area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `BattSentinelError`.
    Base,
    /// `ParamError`.
    Param,
    /// `ParseError`.
    Parse,
    /// `FileError`.
    File,
    /// `FeatureError`.
    Feature,
    /// `ModelError`.
    Model,
    /// `NotFittedError`.
    NotFitted,
    /// `ExplainError`.
    Explain,
    /// `SimulationError`.
    Simulation,
    /// `RuleError`.
    Rule,
    /// `ThermalError`.
    Thermal,
}

const KINDS: [Kind; 11] = [
    Kind::Base,
    Kind::Param,
    Kind::Parse,
    Kind::File,
    Kind::Feature,
    Kind::Model,
    Kind::NotFitted,
    Kind::Explain,
    Kind::Simulation,
    Kind::Rule,
    Kind::Thermal,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Base => "BattSentinelError",
            Kind::Param => "ParamError",
            Kind::Parse => "ParseError",
            Kind::File => "FileError",
            Kind::Feature => "FeatureError",
            Kind::Model => "ModelError",
            Kind::NotFitted => "NotFittedError",
            Kind::Explain => "ExplainError",
            Kind::Simulation => "SimulationError",
            Kind::Rule => "RuleError",
            Kind::Thermal => "ThermalError",
        }
    }

    fn doc(self) -> &'static str {
        match self {
            Kind::Base => {
                "Base class of every error raised by battsentinel. `code` holds the stable error code."
            }
            Kind::Param => "Invalid parameters or unknown keyword arguments.",
            Kind::Parse => "A battery data file could not be read.",
            Kind::File => "A file could not be opened or read (an OSError; `errno` and `filename` are set).",
            Kind::Feature => "Feature extraction failed (missing channel, too little data, ...).",
            Kind::Model => "A model failed to fit or predict (shape, NaN, labels, model file).",
            Kind::NotFitted => "The model was used before `fit` (also an AttributeError, as scikit-learn's).",
            Kind::Explain => "An explanation failed (shapes, NaN, link domain, a failing model callable).",
            Kind::Simulation => "The digital-twin simulation failed or got invalid input.",
            Kind::Rule => "An alert rule is invalid or an alert operation failed.",
            Kind::Thermal => "A thermal image could not be decoded or analysed.",
        }
    }

    fn index(self) -> usize {
        KINDS.iter().position(|k| *k == self).unwrap_or(0)
    }
}

static TYPES: [PyOnceLock<Py<PyType>>; 11] = [const { PyOnceLock::new() }; 11];

fn type_of(py: Python<'_>, kind: Kind) -> PyResult<Bound<'_, PyType>> {
    let cell = &TYPES[kind.index()];
    if let Some(t) = cell.get(py) {
        return Ok(t.bind(py).clone());
    }
    let extra: Option<Bound<'_, PyType>> = match kind {
        Kind::Base => None,
        Kind::File => Some(py.get_type::<PyOSError>()),
        Kind::NotFitted => Some(py.get_type::<PyAttributeError>()),
        _ => Some(py.get_type::<PyValueError>()),
    };
    let parent = match kind {
        Kind::Base => py.get_type::<PyException>(),
        Kind::NotFitted => type_of(py, Kind::Model)?,
        _ => type_of(py, Kind::Base)?,
    };
    let bases = match extra {
        Some(e) => PyTuple::new(py, [parent.into_any(), e.into_any()])?,
        None => PyTuple::new(py, [parent.into_any()])?,
    };
    let dict = PyDict::new(py);
    dict.set_item("__doc__", kind.doc())?;
    dict.set_item("__module__", "battsentinel")?;
    let builtins = py.import("builtins")?;
    let t = builtins.getattr("type")?.call1((kind.name(), bases, dict))?.cast_into::<PyType>()?;
    let _ = cell.set(py, t.clone().unbind());
    Ok(cell.get(py).map(|t| t.bind(py).clone()).unwrap_or(t))
}

/// A Python exception of class `kind` with message `message` and attribute `code`.
pub fn new_err(kind: Kind, code: &str, message: String) -> PyErr {
    Python::attach(|py| match build(py, kind, code, message, None) {
        Ok(e) => e,
        Err(e) => e,
    })
}

fn build(
    py: Python<'_>,
    kind: Kind,
    code: &str,
    message: String,
    os: Option<(i32, Option<String>)>,
) -> PyResult<PyErr> {
    let ty = type_of(py, kind)?;
    let value = match os {
        Some((errno, file)) => ty.call1((errno, message, file))?,
        None => ty.call1((message,))?,
    };
    value.setattr("code", code)?;
    Ok(PyErr::from_value(value))
}

/// `ParamError` with code `invalid_param`.
pub fn param_err(message: impl Into<String>) -> PyErr {
    new_err(Kind::Param, "invalid_param", message.into())
}

/// `NotFittedError`.
pub fn not_fitted(class: &str) -> PyErr {
    new_err(
        Kind::NotFitted,
        "not_fitted",
        format!("this {class} instance is not fitted yet; call `fit` with appropriate arguments first"),
    )
}

fn io_source<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(io) = x.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = x.source();
    }
    None
}

/// The exception class of a core error code. Every code of the core is listed; an unknown code (a newer core)
/// falls back to the area's class.
fn kind_of_code(code: &str, area: Kind) -> Kind {
    match code {
        "invalid_param" | "inconsistent_params" => Kind::Param,
        "io" | "thermal_io" => Kind::File,
        // io
        "unknown_format" | "bad_header" | "bad_value" | "missing_column" | "empty" | "encoding"
        | "not_a_time_series" | "spreadsheet" => Kind::Parse,
        // features
        "log_length_mismatch"
        | "missing_channel"
        | "not_enough_data"
        | "cycle_not_found"
        | "shape_mismatch" => Kind::Feature,
        // models
        "empty_data" | "non_finite" | "feature_count" | "target_length" | "single_class"
        | "too_few_samples" | "class_weight" | "format_version" | "wrong_model_kind"
        | "invalid_model_file" | "corrupt_model_file" | "svm_failed" => Kind::Model,
        // twin
        "invalid_dt" | "soc_outside_table" | "non_finite_input" | "param_out_of_range" | "no_solution"
        | "invalid_protocol" | "length_mismatch" => Kind::Simulation,
        c if c.starts_with("explain_") => Kind::Explain,
        c if c.starts_with("rule_") || c == "unknown_alert" || c == "duplicate_alert" => Kind::Rule,
        c if c.starts_with("thermal_") => Kind::Thermal,
        _ => area,
    }
}

/// Converts any core error into its Python exception (the one mapping of the package).
pub fn to_py(e: Error) -> PyErr {
    let area = match &e {
        Error::Parse(_) => Kind::Parse,
        Error::Params(_) => Kind::Param,
        Error::Feature(_) => Kind::Feature,
        Error::Model(_) => Kind::Model,
        Error::Explain(_) => Kind::Explain,
        Error::Sim(_) => Kind::Simulation,
        Error::Rule(_) => Kind::Rule,
        Error::Thermal(_) => Kind::Thermal,
        _ => Kind::Base,
    };
    let code = e.code();
    let kind = kind_of_code(code, area);
    let mut message = e.to_string();
    let os = if kind == Kind::File {
        let io = io_source(&e);
        if let Some(io) = io {
            message = format!("{message}: {io}");
        }
        let file = match &e {
            Error::Parse(p) => p.file().map(str::to_string),
            _ => None,
        };
        Some((io.and_then(std::io::Error::raw_os_error).unwrap_or(0), file))
    } else {
        None
    };
    Python::attach(|py| match build(py, kind, code, message, os) {
        Ok(e) => e,
        Err(e) => e,
    })
}

macro_rules! from_area {
    ($($t:ty),*) => {$(
        impl From<Wrap<$t>> for PyErr {
            fn from(w: Wrap<$t>) -> PyErr {
                to_py(Error::from(w.0))
            }
        }
    )*};
}

/// Carrier for the `?` conversion of core errors into `PyErr` (orphan rule).
pub struct Wrap<E>(pub E);

from_area!(
    ParseError,
    ParamError,
    FeatureError,
    ModelError,
    ExplainError,
    SimError,
    RuleError,
    ThermalError,
    Error
);

/// Extension: `.py()?` on core results.
pub trait PyResultExt<T> {
    /// Maps the core error into its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T, E> PyResultExt<T> for Result<T, E>
where
    PyErr: From<Wrap<E>>,
{
    fn py(self) -> PyResult<T> {
        self.map_err(|e| PyErr::from(Wrap(e)))
    }
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for k in KINDS {
        m.add(k.name(), type_of(m.py(), k)?)?;
    }
    Ok(())
}
