//! Thermal images (binding of `battsentinel_core::thermal`): `read_thermal` and `analyze_thermal`.

use battsentinel_core::thermal::{self, ReadThermalOptions, ThermalAnalysisParams, ThermalImage};
use numpy::{PyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

use crate::convert::{array2, from_json_value, json_to_py, params_from_kwargs, py_to_json, to_py_obj};
use crate::errors::PyResultExt;
use crate::io::{source, Source};

fn read_options(
    integer_scale: Option<&Bound<'_, PyAny>>,
    colour_scale: Option<&Bound<'_, PyAny>>,
    scene: Option<&Bound<'_, PyAny>>,
) -> PyResult<ReadThermalOptions> {
    let mut m = Map::new();
    for (k, v) in [("integer_scale", integer_scale), ("colour_scale", colour_scale), ("scene", scene)] {
        if let Some(v) = v {
            let j = match v.extract::<String>() {
                Ok(s) if k == "integer_scale" && s == "centi_kelvin" => {
                    serde_json::json!({"gain": 0.01, "offset_c": -273.15})
                }
                Ok(s) if k == "integer_scale" && s == "deci_kelvin" => {
                    serde_json::json!({"gain": 0.1, "offset_c": -273.15})
                }
                _ => py_to_json(v)?,
            };
            m.insert(k.into(), j);
        }
    }
    from_json_value(Value::Object(m), "thermal read options")
}

fn image_of(py: Python<'_>, obj: &Bound<'_, PyAny>, opts: &ReadThermalOptions) -> PyResult<ThermalImage> {
    if crate::convert::ndim(obj).unwrap_or(0) == 2
        && !obj.is_instance_of::<pyo3::types::PyBytes>()
        && !obj.is_instance_of::<pyo3::types::PyString>()
    {
        let a = array2(obj, "temperatures_c")?;
        let (h, w) = (a.shape()[0], a.shape()[1]);
        let data: Vec<f64> = a.as_array().iter().copied().collect();
        return ThermalImage::from_celsius(w, h, data).py();
    }
    let src = source(obj)?;
    let opts = *opts;
    py.detach(move || match src {
        Source::Path(p) => thermal::read_thermal_path(p, &opts),
        Source::Bytes(b) => thermal::read_thermal_bytes(&b, &opts),
    })
    .py()
}

fn temperatures<'py>(py: Python<'py>, img: &ThermalImage) -> PyResult<Bound<'py, PyAny>> {
    let a = ndarray::Array2::from_shape_vec((img.height, img.width), img.temperatures_c.clone())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(PyArray2::from_owned_array(py, a).into_any())
}

/// Reads a thermal image (radiometric FLIR JPEG, 16-bit PNG/TIFF temperature map with `integer_scale`, or a
/// rendered image with `colour_scale`) and returns its temperatures (°C) as a `(height, width)` NumPy array.
///
/// `integer_scale` is `{"gain": .., "offset_c": ..}` or `"centi_kelvin"` / `"deci_kelvin"`; `colour_scale`
/// `{"min_c": .., "max_c": .., "palette": "iron"}`; `scene` overrides the camera's scene parameters
/// (emissivity, distance, …).
#[pyfunction]
#[pyo3(signature = (source, integer_scale = None, colour_scale = None, scene = None))]
pub fn read_thermal<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    integer_scale: Option<&Bound<'py, PyAny>>,
    colour_scale: Option<&Bound<'py, PyAny>>,
    scene: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = read_options(integer_scale, colour_scale, scene)?;
    let img = image_of(py, source, &opts)?;
    temperatures(py, &img)
}

/// Analyses a thermal image: statistics, hotspots with their ΔT to the background, gradients, per-cell
/// statistics and outliers, and a risk level.
///
/// `source` is a path, bytes, a file object or a 2-D array of temperatures (°C); reading options as
/// `read_thermal`. Other keyword arguments are the core's `ThermalAnalysisParams`: `hotspot`
/// (`{"above_median": {"delta_c": 5.0}}` or `{"absolute": {"threshold_c": ..}}`), `min_hotspot_area_px`,
/// `max_hotspots`, `cells` (`{"grid": {"rows": .., "cols": ..}}` or regions), `outlier_z`,
/// `outlier_min_delta_c`, `risk`. Returns the report as a dict (`stats`, `hotspots`, `background_c`,
/// `max_delta_t_c`, `gradient`, `cells`, `risk`, …) plus `temperatures_c`, a `(height, width)` NumPy array.
#[pyfunction]
#[pyo3(signature = (source, integer_scale = None, colour_scale = None, scene = None, **params))]
pub fn analyze_thermal<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    integer_scale: Option<&Bound<'py, PyAny>>,
    colour_scale: Option<&Bound<'py, PyAny>>,
    scene: Option<&Bound<'py, PyAny>>,
    params: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = read_options(integer_scale, colour_scale, scene)?;
    let p: ThermalAnalysisParams = params_from_kwargs(params, "thermal analysis parameters")?;
    let img = image_of(py, source, &opts)?;
    let img_ref = &img;
    let report = py.detach(|| thermal::analyze(img_ref, &p)).py()?;
    let v =
        serde_json::to_value(&report).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let d = json_to_py(py, &v)?.cast_into::<PyDict>()?;
    d.set_item("temperatures_c", temperatures(py, &img)?)?;
    d.set_item("source", to_py_obj(py, &img.source)?)?;
    Ok(d)
}

/// Registers the thermal functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_thermal, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_thermal, m)?)?;
    Ok(())
}
