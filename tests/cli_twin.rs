//! End-to-end tests of the twin commands (`fit-ecm`, `estimate-soc`, `fit-eis`, `ageing`) on the shared fixtures.

use std::path::PathBuf;
use std::process::Command;

/// `shared/data/<rel>`, found by walking up from the crate directory.
fn shared_data(rel: &str) -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let cand = dir.join("shared/data");
        if cand.is_dir() {
            return cand.join(rel);
        }
        assert!(dir.pop(), "no shared/data directory above {}", env!("CARGO_MANIFEST_DIR"));
    }
}

fn battsentinel(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_battsentinel")).args(args).output().expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (stdout, stderr)
}

/// `fit-ecm` on the Nissan Leaf HPPC writes a cell that `estimate-soc` then uses on the same test: the EKF
/// started at SoC 0.5 ends near the fully discharged state the coulomb count gives.
#[test]
fn fit_ecm_then_estimate_soc() {
    let dir = std::env::temp_dir().join(format!("battsentinel-cli-twin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cell = dir.join("cell.toml");
    let report = dir.join("report.json");
    let hppc = shared_data("cyclers/bitrode_nissanleaf_HPPC_25C.csv");
    let (_, stderr) = battsentinel(&[
        "fit-ecm",
        hppc.to_str().unwrap(),
        "-o",
        cell.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(stderr.contains("whole-test RMSE"), "{stderr}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let rmse = r["rmse_v"].as_f64().unwrap();
    assert!(rmse <= 0.010, "{rmse}");
    assert_eq!(r["points"].as_array().unwrap().len(), 10);
    assert_eq!(r["samples"].as_u64(), Some(13_247));
    let text = std::fs::read_to_string(&cell).unwrap();
    assert!(text.contains("r2_ohm") && text.contains("capacity_ah"), "{text:.300}");

    let (csv, stderr) =
        battsentinel(&["estimate-soc", hppc.to_str().unwrap(), "--params", cell.to_str().unwrap()]);
    let rows: Vec<Vec<f64>> =
        csv.lines().skip(1).map(|l| l.split(',').map(|x| x.parse::<f64>().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 13_247, "{stderr}");
    let last = rows.last().unwrap();
    // The test ends at 3.0 V after the last 10 A step: SoC ≈ 0 by coulomb counting.
    assert!(last[3] < 0.05, "final SoC {}", last[3]);
    assert!(last[4] > 0.0 && last[4] < 0.05, "final SoC std {}", last[4]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fit_eis_prints_the_reference_circuit() {
    let (out, _) =
        battsentinel(&["fit-eis", shared_data("eis/eis_impedancepy_exampleData.csv").to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r0 = v["circuit"]["r0_ohm"].as_f64().unwrap();
    let tau = v["circuit"]["warburg"]["tau_s"].as_f64().unwrap();
    assert!((r0 / 16.5e-3 - 1.0).abs() < 0.05, "{r0}");
    assert!((tau / 233.0 - 1.0).abs() < 0.05, "{tau}");
    assert_eq!(v["points"].as_u64(), Some(57));
}

#[test]
fn ageing_projects_end_of_life() {
    let (out, _) = battsentinel(&[
        "ageing",
        shared_data("aging/bdp_p492-13-summary.csv").to_str().unwrap(),
        "--temperature-c",
        "29.886",
        "--cycles-per-day",
        "2",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["params"]["capacity_ah"].as_f64().unwrap() - 0.021770).abs() < 2e-6, "{out}");
    let n = v["end_of_life_cycles"].as_f64().unwrap();
    // (0.2 / b)^(1/z) with the fit of the 5 capacity checks (b = 1.80e-3 at 29.9 °C, z = 0.573): ≈ 3 700.
    assert!((3000.0..4500.0).contains(&n), "{n}");
    assert!((v["end_of_life_days"].as_f64().unwrap() - n / 2.0).abs() < 1.0);
    assert!((v["final_soh"].as_f64().unwrap() - 0.8).abs() < 1e-3);
}
