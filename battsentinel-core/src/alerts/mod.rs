//! Alert rule engine: declarative rules evaluated on streams and histories, with a lifecycle.

mod error;
pub use error::RuleError;
