//! Digital twin: a Thevenin equivalent-circuit cell and pack model with thermal, ageing and SoC estimation.

mod error;
pub use error::SimError;
