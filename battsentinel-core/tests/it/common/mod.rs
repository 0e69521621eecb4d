//! Fixture lookup and helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod explain;
#[cfg(feature = "server")]
pub mod server;
pub mod twin;

/// `shared/<rel>`, found by walking up from the crate directory: the checkout sits beside `shared/`, one
/// level up in the main checkout and deeper in worktrees and CI clones.
pub fn shared(rel: &str) -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared").join(rel);
        if cand.exists() {
            return cand;
        }
        assert!(dir.pop(), "shared/{rel} not found above {}", env!("CARGO_MANIFEST_DIR"));
    }
}

/// `shared/data/<rel>` (the file need not exist: tests of missing files use it too).
pub fn shared_data(rel: &str) -> PathBuf {
    shared("data").join(rel)
}
