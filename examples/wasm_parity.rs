//! Run with: cargo run --release --example wasm_parity > golden.json
//!
//! Native golden values for the WebAssembly parity tests (`bindings-wasm/tests/parity.test.mjs`): the same
//! inputs go through the npm package, and the node test compares its numbers with these. Prints one JSON
//! object: the cycle summary of `shared/data/cyclers/arbin_example.csv`, a seeded random forest (its model
//! file, probabilities, Kernel SHAP with M = 10, interventional and path-dependent TreeSHAP values and SHAP
//! interaction values, LIME weights), a twin run, the alert events of the same log and the default fault
//! detector's report on it.
//!
//! `cargo run --release --example wasm_parity -- bench FILE MODEL_JSON...` is the native anchor of
//! `bindings-wasm/bench/bench.mjs` (run it with `RAYON_NUM_THREADS=1` for one thread): it prints the median
//! time of reading + summarising FILE and of one Kernel SHAP explanation (M = 10, background = the first 50
//! rows of the parity dataset) per model file, as JSON.

use battsentinel_core::alerts::{evaluate, Chemistry, EngineParams, RuleSet};
use battsentinel_core::explain::{
    Background, KernelExplainer, KernelShapParams, LimeMode, LimeParams, LimeTabular, TreeEnsemble,
    TreeExplainer,
};
use battsentinel_core::features::{cycle_summary, CycleFeatureParams};
use battsentinel_core::io::{read_path, ReadOptions};
use battsentinel_core::models::detector::{AnalyzeParams, FaultDetector};
use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams};
use battsentinel_core::models::Persist;
use battsentinel_core::twin::{simulate, CellParams, Protocol};
use ndarray::Array2;
use serde_json::json;

/// The shared data directory: walks up from this package until `shared/data` exists.
fn shared_data() -> Result<std::path::PathBuf, String> {
    let mut dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let candidate = dir.join("shared/data");
        if candidate.is_dir() {
            return Ok(candidate);
        }
        if !dir.pop() {
            return Err("no shared/data directory above the repository".into());
        }
    }
}

/// The synthetic feature matrix of the parity tests, exact in any language: `x[i][j] = ((37 i + 11 j + 5 i j)
/// mod 101) / 101`; label 1 when `x0 + x3 − x7 > 0.5`.
fn dataset(n: usize, m: usize) -> (Array2<f64>, Vec<usize>) {
    let x = Array2::from_shape_fn((n, m), |(i, j)| ((37 * i + 11 * j + 5 * i * j) % 101) as f64 / 101.0);
    let y = (0..n).map(|i| usize::from(x[[i, 0]] + x[[i, 3]] - x[[i, 7]] > 0.5)).collect();
    (x, y)
}

/// Median wall time (ms) of `f` over `runs` runs after one warm-up.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    std::hint::black_box(f());
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let t0 = std::time::Instant::now();
            std::hint::black_box(f());
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

/// The native side of `bindings-wasm/bench/bench.mjs`.
fn bench(file: &str, models: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use battsentinel_core::explain::Predictor;
    use battsentinel_core::models::{mlp::MlpClassifier, model_kind};
    let bytes = std::fs::read(file)?;
    let opts = ReadOptions { file_name: Some("arbin_100k.csv".into()), ..Default::default() };
    let read_ms = median_ms(5, || {
        let log = battsentinel_core::io::read_bytes(&bytes, &opts).map_err(|e| e.to_string())?;
        cycle_summary(&log, &CycleFeatureParams::default()).map_err(|e| e.to_string())
    });
    let (x, _) = dataset(500, 10);
    let bg = Background::new(x.slice(ndarray::s![0..50, ..]).to_owned())?;
    let mut shap = serde_json::Map::new();
    for path in models {
        let json = std::fs::read_to_string(path)?;
        let kind = model_kind(&json)?;
        let model: Box<dyn Predictor> = match kind.as_str() {
            "random_forest_classifier" => {
                Box::new(TreeEnsemble::try_from(&RandomForestClassifier::load_json(&json)?)?)
            }
            "mlp_classifier" => {
                let m = MlpClassifier::load_json(&json)?;
                let k = m.classes().len();
                Box::new(battsentinel_core::explain::FnPredictor::new(k, move |rows, mut out| {
                    if let Ok(p) = m.predict_proba(&rows) {
                        out.assign(&p);
                    }
                }))
            }
            other => return Err(format!("bench: unsupported model kind {other}").into()),
        };
        let explainer = KernelExplainer::new(&*model, bg.clone(), &KernelShapParams::default())?;
        let ms = median_ms(5, || {
            (100..110)
                .map(|i| explainer.explain(x.row(i)).map(|e| e.values.sum()))
                .collect::<Result<Vec<_>, _>>()
        }) / 10.0;
        shap.insert(kind, json!(ms));
    }
    println!("{}", json!({ "read_summary_ms": read_ms, "kernel_shap_ms_per_instance": shap }));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("bench") {
        let file = args.get(2).ok_or("usage: wasm_parity bench FILE MODEL_JSON...")?;
        return bench(file, &args[3..]);
    }
    let data = shared_data()?;
    let log = read_path(data.join("cyclers/arbin_example.csv"), &ReadOptions::default())?;
    let summary = cycle_summary(&log, &CycleFeatureParams::default())?;

    let (x, y) = dataset(120, 10);
    let params = RandomForestParams::default().n_trees(20).max_depth(Some(6)).seed(7);
    let forest = RandomForestClassifier::fit(&params, &x.view(), &ndarray::Array1::from(y).view())?;
    let probe = x.slice(ndarray::s![0..5, ..]).to_owned();
    let proba = forest.predict_proba(&probe.view())?;

    let trees = TreeEnsemble::try_from(&forest)?;
    let bg = Background::new(x.slice(ndarray::s![0..20, ..]).to_owned())?;
    let kernel = KernelExplainer::new(&trees, bg.clone(), &KernelShapParams::default())?;
    let k = kernel.explain(x.row(30))?;
    let tree = TreeExplainer::new(&trees, &bg)?.explain(x.row(30))?;
    let path = TreeExplainer::path_dependent(&trees)?;
    let path_phi = path.explain(x.row(30))?;
    let interactions = path.interaction_values(x.row(30))?;
    let lime = LimeTabular::fit(
        x.view(),
        (0..10).map(|j| format!("f{j}")).collect(),
        &LimeParams::default().mode(LimeMode::Classification).num_samples(500).seed(3),
    )?
    .explain(x.row(30), &trees, &[1])?;

    let cell = CellParams::ecm_example().check()?;
    let trace = simulate(&cell, &Protocol::constant_current(0.9, 100.0, 600.0))?;

    let detector = FaultDetector::default_detector()?;
    let report = detector.analyze(&log, &AnalyzeParams::default())?;

    let events = evaluate(&RuleSet::default_li_ion(Chemistry::Lfp), &log, EngineParams::default())?;

    let out = json!({
        "cycle_summary": summary,
        "log_rows": log.len(),
        "model": serde_json::from_str::<serde_json::Value>(&forest.save_json()?)?,
        "proba": proba.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "kernel_shap": { "values": k.output_values(1), "base_values": k.base_values, "model_output": k.model_output },
        "tree_shap": { "values": tree.output_values(1), "base_values": tree.base_values },
        "tree_shap_path_dependent": {
            "values": path_phi.output_values(1),
            "base_values": path_phi.base_values,
            "interaction_values": interactions.outer_iter().map(|m| m.column(1).to_vec()).collect::<Vec<_>>(),
        },
        "lime": lime.as_list(),
        "twin": { "length": trace.len(), "voltage_v": trace.voltage_v, "end_reason": trace.end_reason },
        "alerts": events,
        "detector": { "classes": detector.classes(), "report": report },
    });
    println!("{out}");
    Ok(())
}
