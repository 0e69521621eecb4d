//! End-to-end tests of the `battsentinel` program on a shipped fixture.

use std::process::Command;

fn battsentinel(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_battsentinel"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn inspect_json_reports_format_rows_and_sign() {
    let (ok, stdout, stderr) = battsentinel(&["inspect", "tests/data/io/arbin_example.csv", "--json"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("inspect --json prints JSON");
    let text = v.to_string();
    assert!(text.contains("arbin_csv"), "{text:.400}");
    assert!(text.contains("2142"), "row count of the Arbin fixture: {text:.400}");
}

#[test]
fn convert_to_csv_keeps_every_row() {
    let (ok, stdout, stderr) = battsentinel(&["convert", "tests/data/io/arbin_example.csv", "--to", "csv"]);
    assert!(ok, "{stderr}");
    let rows = stdout.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
    assert_eq!(rows, 2142 + 1, "header + every row of the fixture");
}

#[test]
fn unreadable_file_is_a_clear_error_not_a_panic() {
    let (ok, _stdout, stderr) = battsentinel(&["inspect", "Cargo.toml"]);
    assert!(!ok);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.trim().is_empty());
}
