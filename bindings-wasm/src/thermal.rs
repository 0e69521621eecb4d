//! Thermal images from bytes: `readThermalBytes` → [`ThermalImage`], `analyzeThermal`, `renderThermalPng`,
//! and `analyzeThermalBytes` (read + analyse in one call).

use battsentinel_core::thermal::{
    self as core_thermal, ReadThermalOptions, RenderOptions, ThermalAnalysisParams, ThermalReport,
};
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, f64_array, from_js, from_js_required, to_js};
use crate::errors::OrThrow;

#[wasm_bindgen(typescript_custom_section)]
const TS_THERMAL: &'static str = r#"
/** Options of `readThermalBytes` (the core's `ReadThermalOptions`). */
export interface ReadThermalOptions {
  scene?: Record<string, number | null>;
  integer_scale?: { gain: number; offset_c: number } | null;
  colour_scale?: { palette?: string | null; min_c: number; max_c: number; max_colour_distance?: number } | null;
}
/** Parameters of `analyzeThermal` (the core's `ThermalAnalysisParams`). */
export type ThermalAnalysisParams = Record<string, any>;
/** Result of `analyzeThermal`: statistics, hotspots, gradient, cells and risk. */
export type ThermalReport = Record<string, any>;
/** Options of `renderThermalPng`. */
export interface RenderOptions { palette?: "iron" | "rainbow" | "grey"; scale?: number; min_c?: number | null; max_c?: number | null; }
"#;

/// A temperature map in °C (row-major, NaN where missing).
#[wasm_bindgen]
pub struct ThermalImage {
    inner: core_thermal::ThermalImage,
}

#[wasm_bindgen]
impl ThermalImage {
    /// Wraps temperatures (°C, row-major).
    ///
    /// # Errors
    /// `ThermalError` (`thermal_bad_dimensions`); `TypeError`.
    #[wasm_bindgen(js_name = fromCelsius)]
    pub fn from_celsius(
        width: usize,
        height: usize,
        #[wasm_bindgen(js_name = temperaturesC, unchecked_param_type = "ArrayLike<number>")]
        temperatures_c: JsValue,
    ) -> Result<ThermalImage, JsValue> {
        let t = crate::convert::vector(&temperatures_c, "temperaturesC")?;
        Ok(Self { inner: core_thermal::ThermalImage::from_celsius(width, height, t).or_throw()? })
    }
    /// Width (pixels).
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.width
    }
    /// Height (pixels).
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        self.inner.height
    }
    /// Temperatures (°C), row-major.
    #[wasm_bindgen(getter, js_name = temperaturesC)]
    pub fn temperatures_c(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.temperatures_c)
    }
    /// Whether the temperatures are approximate (mapped back from palette colours).
    #[wasm_bindgen(getter)]
    pub fn approximate(&self) -> bool {
        self.inner.is_approximate()
    }
}

/// Reads a thermal image: radiometric FLIR JPEG, 16-bit PNG/TIFF with `integer_scale`, or a rendered image
/// with `colour_scale`.
///
/// # Errors
/// `TypeError` for bytes of the wrong type; `ThermalError` (`thermal_no_temperature_scale`, `thermal_decode`,
/// …); `ParamError`.
#[wasm_bindgen(js_name = readThermalBytes)]
pub fn read_thermal_bytes(
    #[wasm_bindgen(js_name = bytes, unchecked_param_type = "Uint8Array | ArrayBuffer")] data: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReadThermalOptions | undefined")] options: JsValue,
) -> Result<ThermalImage, JsValue> {
    let data = bytes(&data, "bytes")?;
    let o: ReadThermalOptions = from_js(&options, "options")?;
    Ok(ThermalImage { inner: core_thermal::read_thermal_bytes(&data, &o).or_throw()? })
}

/// Statistics, hotspots with ΔT, gradients, per-cell outliers and a risk level.
///
/// # Errors
/// `ParamError`; `ThermalError` (`thermal_no_valid_pixels`, …).
#[wasm_bindgen(js_name = analyzeThermal, unchecked_return_type = "ThermalReport")]
pub fn analyze_thermal(
    image: &ThermalImage,
    #[wasm_bindgen(unchecked_param_type = "ThermalAnalysisParams | undefined")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let p: ThermalAnalysisParams = from_js(&params, "params")?;
    to_js(&core_thermal::analyze(&image.inner, &p).or_throw()?)
}

/// Reads and analyses a thermal image in one call.
///
/// # Errors
/// As `readThermalBytes` and `analyzeThermal`.
#[wasm_bindgen(js_name = analyzeThermalBytes, unchecked_return_type = "ThermalReport")]
pub fn analyze_thermal_bytes(
    #[wasm_bindgen(js_name = bytes, unchecked_param_type = "Uint8Array | ArrayBuffer")] data: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReadThermalOptions | undefined")] options: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ThermalAnalysisParams | undefined")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let img = read_thermal_bytes(data, options)?;
    analyze_thermal(&img, params)
}

/// Renders an annotated PNG (colour map, hotspot outlines, cells, scale bar) of an image and its report.
///
/// # Errors
/// `ParamError` for a report that is not a `ThermalReport`; `ThermalError` (`thermal_bad_dimensions`).
#[wasm_bindgen(js_name = renderThermalPng)]
pub fn render_thermal_png(
    image: &ThermalImage,
    #[wasm_bindgen(unchecked_param_type = "ThermalReport")] report: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RenderOptions | undefined")] options: JsValue,
) -> Result<Vec<u8>, JsValue> {
    let r: ThermalReport = from_js_required(&report, "report")?;
    let o: RenderOptions = from_js(&options, "options")?;
    core_thermal::render_png(&image.inner, &r, &o).or_throw()
}
