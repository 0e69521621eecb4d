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

/// `shared/reference/xai/cases/<name>/<file>`, found by walking up from the checkout.
fn xai_case(name: &str, file: &str) -> std::path::PathBuf {
    let mut dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared/reference/xai/cases").join(name).join(file);
        if cand.exists() {
            return cand;
        }
        assert!(dir.pop(), "shared/reference/xai/cases/{name}/{file} not found");
    }
}

#[test]
fn explain_accepts_l1_reg_entropy_discretiser_and_lasso_path() {
    let model = xai_case("C_tree_regressor_M10", "model.json");
    let bg = xai_case("C_tree_regressor_M10", "background.csv");
    let xs = xai_case("C_tree_regressor_M10", "instances.csv");
    let (m, b, x) = (model.to_str().unwrap(), bg.to_str().unwrap(), xs.to_str().unwrap());
    let (ok, stdout, stderr) =
        battsentinel(&["explain", "--model", m, "--data", b, "--instances", x, "--l1-reg", "bic"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v.to_string().contains("values"), "{stdout:.300}");
    let (ok, _, stderr) =
        battsentinel(&["explain", "--model", m, "--data", b, "--instances", x, "--l1-reg", "0.01"]);
    assert!(!ok && stderr.contains("l1_reg"), "{stderr}");

    // LIME with the entropy discretiser: labels from a file, one per training row.
    let n_rows =
        std::fs::read_to_string(&bg).unwrap().lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    let labels = std::env::temp_dir().join(format!("bs_cli_labels_{}.csv", std::process::id()));
    let body: String = (0..n_rows).map(|i| format!("{}\n", i % 3)).collect();
    std::fs::write(&labels, format!("label\n{body}")).unwrap();
    let lime = [
        "explain",
        "--model",
        m,
        "--data",
        b,
        "--instances",
        x,
        "--method",
        "lime",
        "--num-samples",
        "300",
        "--discretizer",
        "entropy",
        "--feature-selection",
        "lasso_path",
        "--num-features",
        "3",
    ];
    let (ok, _, stderr) = battsentinel(&lime);
    assert!(!ok && stderr.contains("training labels"), "entropy without labels must fail: {stderr}");
    let mut with_labels = lime.to_vec();
    with_labels.extend(["--training-labels", labels.to_str().unwrap()]);
    let (ok, stdout, stderr) = battsentinel(&with_labels);
    std::fs::remove_file(&labels).ok();
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let used = v[0]["models"][0]["used_features"].as_array().unwrap();
    assert!(!used.is_empty() && used.len() <= 3, "{stdout:.300}");
}
