//! Thermal images: radiometric FLIR decoding, colour maps, hotspots and per-cell statistics.

mod error;
pub use error::ThermalError;
