//! Thermal images: radiometric FLIR decoding, colour maps, hotspots and per-cell statistics.
//!
//! A tour:
//! - [`read_thermal_bytes`] (and [`read_thermal_path`] with feature `fs`) turns bytes into a [`ThermalImage`]
//!   in °C: radiometric FLIR JPEGs (APP1 "FLIR" segments holding an FFF container; see [`decode_flir`]) are
//!   converted with the camera's Planck constants and the atmospheric model of [`radiometry`]; 16-bit PNG/TIFF
//!   temperature maps take an [`IntegerScale`]; rendered images take a [`ColourScale`] and come out labelled
//!   approximate.
//! - [`encode_radiometric_jpeg`] writes a FLIR-style radiometric JPEG (for synthetic data and round trips).
//! - [`analyze`] computes statistics, hotspots with their ΔT to the background, gradients, per-cell outliers
//!   (robust z-score) and a [`RiskLevel`] for the alert engine.
//! - [`render_png`] draws an annotated PNG: colour-mapped temperatures, hotspot outlines, cells, a scale bar.
//! - [`Palette`] holds the iron, rainbow and grey colour tables.

pub mod analysis;
mod error;
mod flir;
mod frame;
mod palette;
pub mod radiometry;
mod read;
mod render;

pub use analysis::{
    analyze, gradient_magnitude, CellLayout, CellReport, CellStats, GradientStats, Hotspot, HotspotRule,
    PixelPos, PixelRect, Region, RiskAssessment, RiskCriterion, RiskLevel, RiskReason, RiskThresholds,
    TemperatureStats, ThermalAnalysisParams, ThermalAnalysisValidParams, ThermalReport,
};
pub use error::ThermalError;
pub use flir::{decode_flir, encode_radiometric_jpeg, is_flir_jpeg, FlirFrame, FlirMetadata, RawEncoding};
pub use frame::{TemperatureSource, ThermalImage};
pub use palette::Palette;
pub use radiometry::{AtmosphereConstants, PlanckConstants, RadiometricModel, RadiometricParams};
#[cfg(feature = "fs")]
pub use read::read_thermal_path;
pub use read::{
    flir_to_image, read_thermal_bytes, ColourScale, IntegerScale, ReadThermalOptions, SceneOverrides,
};
pub use render::{render_png, RenderOptions};
