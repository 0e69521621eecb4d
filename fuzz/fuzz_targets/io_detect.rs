//! Fuzz target: format detection, then every reader, on arbitrary bytes. Nothing may panic.
#![no_main]

use battsentinel_core::io::{detect, read_bytes, read_eis_bytes, read_summary_bytes, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = detect(data, None);
    assert!((0.0..=1.0).contains(&d.confidence));
    let _ = detect(data, Some("trace_temperature.lvm"));
    let opts = ReadOptions::default();
    if let Ok(log) = read_bytes(data, &opts) {
        assert!(log.validate().is_ok());
        assert_eq!(log.quality.rows_kept, log.len());
    }
    let _ = read_eis_bytes(data, &opts);
    let _ = read_summary_bytes(data, &opts);
});
