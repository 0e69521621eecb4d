//! One file per area's subcommand; each exports an `Args` struct and a `run` function.
pub mod alerts;
pub mod analyze;
pub mod explain;
pub mod features;
pub mod io;
pub mod models;
#[cfg(feature = "server")]
pub mod server;
pub mod thermal;
pub mod twin;
