//! End-to-end tests of `battsentinel analyze` and `battsentinel train` on the shipped Arbin fixture.

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

const FIXTURE: &str = "tests/data/io/arbin_example.csv";

#[test]
fn analyze_prints_a_table_per_cycle() {
    let (ok, stdout, stderr) = battsentinel(&["analyze", FIXTURE]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("2 windows, verdict"), "{stdout}");
    // One row per cycle of the fixture, the LFP window inferred, and the SOH column filled.
    assert!(stdout.lines().any(|l| l.trim_start().starts_with("c1 ")), "{stdout}");
    assert!(stdout.lines().any(|l| l.trim_start().starts_with("c2 ")), "{stdout}");
    assert!(stdout.contains("2.00–3.65 V per cell (inferred)"), "{stdout}");
    assert!(stdout.contains("mean probabilities:"), "{stdout}");
    assert!(stdout.contains("RUL: not estimated"), "{stdout}");
}

#[test]
fn analyze_json_matches_the_output_file() {
    let out = std::env::temp_dir().join(format!("bs_analyze_{}.json", std::process::id()));
    let out_s = out.to_str().unwrap();
    let (ok, stdout, stderr) = battsentinel(&["analyze", FIXTURE, "--json", "-o", out_s]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let f: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v, f);
    let _ = std::fs::remove_file(&out);
    let w = v["windows"].as_array().unwrap();
    assert_eq!(w.len(), 2);
    assert_eq!(w[0]["cycle"], 1);
    let p: f64 = w[0]["probabilities"].as_object().unwrap().values().map(|x| x.as_f64().unwrap()).sum();
    assert!((p - 1.0).abs() < 1e-9);
    // The fixture's cycle 2 discharges 1.073 Ah of a 1.073 Ah (inferred) capacity.
    let soh = w[1]["soh"].as_f64().unwrap();
    assert!((soh - 1.0).abs() < 0.01, "{soh}");
    assert_eq!(v["feature_names"].as_array().unwrap().len(), 31);
}

#[test]
fn train_then_analyze_with_the_saved_detector() {
    let dir = std::env::temp_dir().join(format!("bs_train_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("labels.csv");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    std::fs::write(&manifest, format!("file,label\n{},normal\n", fixture.display())).unwrap();
    let model = dir.join("detector.json");
    let (ok, stdout, stderr) = battsentinel(&[
        "train",
        &format!("normal={FIXTURE}"),
        "--manifest",
        manifest.to_str().unwrap(),
        "--n-trees",
        "20",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("10 classes"), "{stdout}");
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(text.contains("\"kind\":\"fault_detector\""));
    let (ok, stdout, stderr) = battsentinel(&["analyze", FIXTURE, "--model", model.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    // Trained on this very file as normal: both cycles come back normal.
    assert!(stdout.contains("verdict normal"), "{stdout}");
    let (ok, _, stderr) = battsentinel(&["train", "broken_label=x.csv", "-o", model.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("unknown label"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn analyze_refuses_a_file_without_a_log() {
    let (ok, _, stderr) = battsentinel(&["analyze", "Cargo.toml"]);
    assert!(!ok);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
