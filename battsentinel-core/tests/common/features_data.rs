//! Locating the shared fixtures from any checkout: walks up from the crate until a `shared/data` directory.

use std::path::PathBuf;

/// Path of a file under `shared/data/`.
pub fn shared_data(rel: &str) -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared/data");
        if cand.is_dir() {
            return cand.join(rel);
        }
        if !dir.pop() {
            panic!("no shared/data directory above {}", env!("CARGO_MANIFEST_DIR"));
        }
    }
}
