//! Readers for cycler exports and battery logs, with format detection and a data-quality report.

mod error;
pub use error::ParseError;
