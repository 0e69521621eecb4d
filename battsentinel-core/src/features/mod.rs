//! Per-cycle features: capacity, energy, efficiencies, DCIR, SOH and incremental capacity (dQ/dV).

mod error;
pub use error::FeatureError;
