//! Fixture lookup for the thermal tests.

use std::path::PathBuf;

/// Path of `rel` under the shared `shared/data` directory, found by walking up from the crate directory
/// (the repository sits beside `shared/`, one or two levels up).
pub fn shared_data(rel: &str) -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared").join("data");
        if candidate.is_dir() {
            return candidate.join(rel);
        }
        if !dir.pop() {
            panic!("no shared/data directory above {}", env!("CARGO_MANIFEST_DIR"));
        }
    }
}
