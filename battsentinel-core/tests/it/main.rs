//! The integration tests of `battsentinel-core`, in one test binary: one link instead of sixteen keeps the
//! CI build fast and its disk use small (each binary statically links the whole library and its
//! dependencies). Each module is one capability; `common` locates the shared fixtures.

mod common;

mod alerts;
#[cfg(feature = "webhook")]
mod alerts_webhook;
mod detector;
mod explain;
mod explain_extra;
mod explain_plots;
mod explain_props;
mod faults;
mod features;
mod io;
mod io_generic;
mod io_props;
mod io_snapshots;
mod models;
#[cfg(feature = "server")]
mod server;
mod thermal;
mod twin;
