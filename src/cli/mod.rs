//! One file per area's subcommand; each exports an `Args` struct and a `run` function.
pub mod alerts;
pub mod twin;
