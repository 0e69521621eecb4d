//! [`ThermalImage`]: a temperature map in °C with the provenance of its values.

use serde::{Deserialize, Serialize};

use super::flir::{check_dimensions, FlirMetadata};
use super::palette::Palette;
use super::radiometry::RadiometricParams;
use super::ThermalError;

/// Where the temperatures of a [`ThermalImage`] come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemperatureSource {
    /// Radiometric raw counts converted with the camera's calibration (the parameters actually used,
    /// after any user overrides).
    Radiometric {
        /// Parameters used for the conversion.
        params: RadiometricParams,
    },
    /// Integer samples scaled as `T = gain · value + offset_c` (for example centi-kelvin: gain 0.01,
    /// offset −273.15).
    ScaledInteger {
        /// °C per count.
        gain: f64,
        /// °C at count 0.
        offset_c: f64,
    },
    /// Colours of a rendered palette mapped back onto a user-given scale. **Approximate**: the result is
    /// only as good as the palette match and the scale the user read off the image.
    Palette {
        /// The palette matched.
        palette: Palette,
        /// Temperature at the coldest palette colour (°C).
        min_c: f64,
        /// Temperature at the hottest palette colour (°C).
        max_c: f64,
        /// Mean RGB distance between pixels and their nearest palette colour (0 = exact).
        mean_colour_distance: f64,
        /// Pixels too far from any palette colour (text, crosshairs), stored as NaN.
        unmatched_px: usize,
    },
    /// Temperatures given directly by the caller.
    Provided,
}

/// A temperature map, row-major, in °C. Missing or unmeasurable pixels are NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalImage {
    /// Width (pixels).
    pub width: usize,
    /// Height (pixels).
    pub height: usize,
    /// Temperatures (°C), `width × height`, row-major; NaN where missing.
    pub temperatures_c: Vec<f64>,
    /// Provenance of the values.
    pub source: TemperatureSource,
    /// Radiometric raw counts, when the image had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_counts: Option<Vec<u16>>,
    /// FLIR metadata, for radiometric FLIR images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flir: Option<FlirMetadata>,
}

impl ThermalImage {
    /// Wraps caller-provided temperatures.
    ///
    /// # Errors
    /// [`ThermalError::BadDimensions`] if the sizes are zero, too large or disagree with the data length.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::thermal::ThermalImage;
    /// let img = ThermalImage::from_celsius(3, 2, vec![20.0, 21.0, 22.0, 23.0, 24.0, 25.0]).unwrap();
    /// assert_eq!(img.get(1, 2), Some(25.0));
    /// assert!(!img.is_approximate());
    /// ```
    pub fn from_celsius(width: usize, height: usize, temperatures_c: Vec<f64>) -> Result<Self, ThermalError> {
        check_dimensions(width, height)?;
        if temperatures_c.len() != width * height {
            return Err(ThermalError::BadDimensions {
                width: width as u64,
                height: height as u64,
                reason: "temperature count differs from width × height",
            });
        }
        Ok(ThermalImage {
            width,
            height,
            temperatures_c,
            source: TemperatureSource::Provided,
            raw_counts: None,
            flir: None,
        })
    }

    /// Temperature at (`row`, `col`), `None` outside the image.
    pub fn get(&self, row: usize, col: usize) -> Option<f64> {
        (row < self.height && col < self.width).then(|| self.temperatures_c[row * self.width + col])
    }

    /// Whether the temperatures are approximate (mapped from palette colours).
    pub fn is_approximate(&self) -> bool {
        matches!(self.source, TemperatureSource::Palette { .. })
    }
}
