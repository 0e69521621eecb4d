//! Path-dependent TreeSHAP, SHAP interaction values, LIME's entropy discretiser / lasso_path selection and
//! Kernel SHAP's `l1_reg = "aic"`/`"bic"` against shap 0.51.0, lime 0.2.0.1 and scikit-learn 1.9.1
//! (`tests/data/xai_extra`, made by `benches/python/gen_xai_extra_cases.py` and
//! `benches/python/gen_xai_l1_entropy_cases.py`). Every comparison is asserted at ≤ 1e-9.

use battsentinel_core::explain::{
    Background, Discretizer, ExplainError, FeaturePerturbation, FeatureSelection, FnPredictor,
    KernelExplainer, KernelShapParams, L1Reg, LimeMode, LimeParams, LimeTabular, ReferenceModel,
    TreeEnsemble, TreeExplainer, TreeShapParams,
};
use battsentinel_core::params::ParamGuard;
use ndarray::Array2;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::common::explain::{case, f64s, read_csv, read_json};

const TOL: f64 = 1e-9;

fn data(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xai_extra").join(name);
    read_json(&path)
}

fn model_and_rows(doc: &serde_json::Value) -> (TreeEnsemble, Array2<f64>) {
    let ReferenceModel::Trees(model) = ReferenceModel::from_json(&doc["model"].to_string()).unwrap().0 else {
        panic!("not trees")
    };
    let rows: Vec<Vec<f64>> = doc["instances"].as_array().unwrap().iter().map(f64s).collect();
    let p = rows[0].len();
    let xs = Array2::from_shape_vec((rows.len(), p), rows.concat()).unwrap();
    (model, xs)
}

/// Max |ours − shap| over expected value, SHAP values and interaction values.
fn path_dependent_case(name: &str) -> (f64, f64) {
    let doc = data(name);
    let (model, xs) = model_and_rows(&doc);
    let te = TreeExplainer::path_dependent(&model).unwrap();
    assert_eq!(te.feature_perturbation(), FeaturePerturbation::TreePathDependent);
    let mut worst_phi = 0.0f64;
    for (a, b) in te.expected_value().iter().zip(f64s(&doc["expected_value"])) {
        worst_phi = worst_phi.max((a - b).abs());
    }
    let set = te.explain_rows(xs.view()).unwrap();
    let iv = te.interaction_values_rows(xs.view()).unwrap();
    let mut worst_iv = 0.0f64;
    for (i, inst) in doc["shap_values"].as_array().unwrap().iter().enumerate() {
        for (j, row) in inst.as_array().unwrap().iter().enumerate() {
            for (k, v) in f64s(row).iter().enumerate() {
                worst_phi = worst_phi.max((set.values[[i, j, k]] - v).abs());
            }
        }
        // Efficiency.
        for k in 0..set.values.dim().2 {
            let total: f64 = (0..set.values.dim().1).map(|j| set.values[[i, j, k]]).sum();
            let gap = set.model_output[[i, k]] - set.base_values[k];
            assert!((total - gap).abs() < 1e-12, "{name} instance {i}: Σφ {total} vs f − E {gap}");
        }
    }
    for (i, inst) in doc["interaction_values"].as_array().unwrap().iter().enumerate() {
        for (j, row) in inst.as_array().unwrap().iter().enumerate() {
            for (l, cell) in row.as_array().unwrap().iter().enumerate() {
                for (k, v) in f64s(cell).iter().enumerate() {
                    worst_iv = worst_iv.max((iv[[i, j, l, k]] - v).abs());
                }
            }
        }
    }
    (worst_phi, worst_iv)
}

#[test]
fn path_dependent_regressor_matches_shap() {
    let (phi, iv) = path_dependent_case("tree_path_dependent_regressor.json");
    eprintln!("regressor: max |Δφ| = {phi:e}, max |ΔΦ| = {iv:e}");
    assert!(phi <= TOL && iv <= TOL, "φ {phi:e}, interactions {iv:e}");
}

#[test]
fn path_dependent_classifier_matches_shap() {
    let (phi, iv) = path_dependent_case("tree_path_dependent_classifier.json");
    eprintln!("classifier: max |Δφ| = {phi:e}, max |ΔΦ| = {iv:e}");
    assert!(phi <= TOL && iv <= TOL, "φ {phi:e}, interactions {iv:e}");
}

#[test]
fn interaction_rows_sum_to_shap_values_and_matrix_is_symmetric() {
    let doc = data("tree_path_dependent_classifier.json");
    let (model, xs) = model_and_rows(&doc);
    let te = TreeExplainer::path_dependent(&model).unwrap();
    for i in 0..xs.nrows() {
        let e = te.explain(xs.row(i)).unwrap();
        let iv = te.interaction_values(xs.row(i)).unwrap();
        let (p, _, d) = iv.dim();
        for k in 0..d {
            for a in 0..p {
                let row: f64 = (0..p).map(|b| iv[[a, b, k]]).sum();
                assert!((row - e.values[[a, k]]).abs() < 1e-12);
                for b in 0..p {
                    assert!((iv[[a, b, k]] - iv[[b, a, k]]).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn perturbation_choice_is_validated() {
    let doc = data("tree_path_dependent_regressor.json");
    let (model, xs) = model_and_rows(&doc);
    let bg = Background::new(xs.clone()).unwrap();
    let pd = TreeShapParams::default().feature_perturbation(FeaturePerturbation::TreePathDependent);
    let iv = TreeShapParams::default().feature_perturbation(FeaturePerturbation::Interventional);
    let e = TreeExplainer::with_params(&model, Some(&bg), &pd).err().unwrap();
    assert_eq!(e.code(), "invalid_param");
    let e = TreeExplainer::with_params(&model, None, &iv).err().unwrap();
    assert!(matches!(e, ExplainError::Params(_)));
    // "auto": interventional with a background, path-dependent without.
    let auto = TreeShapParams::default();
    let te = TreeExplainer::with_params(&model, Some(&bg), &auto).unwrap();
    assert_eq!(te.feature_perturbation(), FeaturePerturbation::Interventional);
    assert!(matches!(te.interaction_values(xs.row(0)), Err(ExplainError::Params(_))));
    let te = TreeExplainer::with_params(&model, None, &auto).unwrap();
    assert_eq!(te.feature_perturbation(), FeaturePerturbation::TreePathDependent);
    assert!(matches!(
        te.interaction_values(ndarray::array![1.0].view()),
        Err(ExplainError::ShapeMismatch { .. })
    ));
    // serde snake_case.
    let p: TreeShapParams =
        serde_json::from_str(r#"{"feature_perturbation":"tree_path_dependent"}"#).unwrap();
    assert_eq!(p, pd);
    assert!(serde_json::from_str::<TreeShapParams>(r#"{"feature_perturbation":"auto"}"#).is_err());
}

// ---- LIME entropy discretiser, lasso_path selection and Kernel SHAP l1_reg = "aic" / "bic" ----
// (`tests/data/xai_extra/{lime_entropy,lime_lasso_path,kernel_shap_l1_ic}.json`, made by
// `benches/python/gen_xai_l1_entropy_cases.py` from lime 0.2.0.1, shap 0.51.0 and scikit-learn 1.9.1.)

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Max |ours − lime| over the discretiser statistics of every feature (the bin names must be equal).
fn entropy_stats_diff(lime: &LimeTabular, names: &[String], stats: &serde_json::Value) -> f64 {
    let mut worst = 0.0f64;
    for (j, name) in names.iter().enumerate() {
        let b = &lime.bin_stats()[j];
        let s = &stats[name];
        worst = worst.max(max_diff(&b.cuts, &f64s(&s["cuts"])));
        worst = worst.max(max_diff(&b.means, &f64s(&s["means"])));
        worst = worst.max(max_diff(&b.stds, &f64s(&s["stds"])));
        worst = worst.max(max_diff(&b.mins, &f64s(&s["mins"])));
        worst = worst.max(max_diff(&b.maxs, &f64s(&s["maxs"])));
        assert_eq!(b.names, strings(&s["names"]), "{name}");
    }
    worst
}

fn labels_of(v: &serde_json::Value) -> Vec<f64> {
    f64s(v)
}

#[test]
fn lime_entropy_discretiser_matches_lime_on_case_j() {
    let doc = data("lime_entropy.json");
    let (names, train) = read_csv(&case("J_lime_tabular_M8").join("training_data.csv"));
    let labels = labels_of(&doc["case_j"]["labels"]);
    let params = LimeParams::default().discretizer(Discretizer::Entropy);
    let lime = LimeTabular::fit_with_labels(train.view(), Some(&labels), names.clone(), &params).unwrap();
    let mut worst = entropy_stats_diff(&lime, &names, &doc["case_j"]["stats"]);
    for (j, name) in names.iter().enumerate() {
        let b = &lime.bin_stats()[j];
        let vals: Vec<f64> = b.values.iter().map(|&v| v as f64).collect();
        assert_eq!(vals, f64s(&doc["case_j"]["feature_values"][name]), "{name}");
        worst = worst.max(max_diff(&b.frequencies, &f64s(&doc["case_j"]["feature_frequencies"][name])));
    }
    eprintln!("entropy case J: max |Δ| = {worst:e}");
    assert!(worst <= TOL, "{worst}");
}

#[test]
fn lime_entropy_discretiser_handles_ties_float32_and_constant_columns() {
    let doc = data("lime_entropy.json");
    let s = &doc["synthetic"];
    let rows: Vec<Vec<f64>> = s["data"].as_array().unwrap().iter().map(f64s).collect();
    let x = Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).unwrap();
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("s{j}")).collect();
    let labels = labels_of(&s["labels"]);
    let params = LimeParams::default().discretizer(Discretizer::Entropy).mode(LimeMode::Regression);
    let lime = LimeTabular::fit_with_labels(x.view(), Some(&labels), names.clone(), &params).unwrap();
    let worst = entropy_stats_diff(&lime, &names, &s["stats"]);
    eprintln!("entropy synthetic: max |Δ| = {worst:e}");
    assert!(worst <= TOL, "{worst}");
    // The constant column falls back to the median, as lime.
    assert_eq!(lime.bin_stats()[3].cuts, vec![2.5]);
}

#[test]
fn lime_entropy_discretiser_needs_class_labels() {
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * (j + 1)) as f64);
    let names = vec!["a".to_string(), "b".to_string()];
    let p = LimeParams::default().discretizer(Discretizer::Entropy);
    let e = LimeTabular::fit(x.view(), names.clone(), &p).unwrap_err();
    assert!(matches!(e, ExplainError::MissingLabels { .. }));
    assert_eq!(e.code(), "explain_missing_labels");
    let mut labels = vec![0.0; 10];
    labels[4] = 0.5; // a regression target: sklearn's "Unknown label type: continuous"
    let e = LimeTabular::fit_with_labels(x.view(), Some(&labels), names.clone(), &p).unwrap_err();
    assert!(matches!(e, ExplainError::InvalidLabel { row: 4, .. }), "{e}");
    assert_eq!(e.code(), "explain_invalid_label");
    let e = LimeTabular::fit_with_labels(x.view(), Some(&labels[..3]), names.clone(), &p).unwrap_err();
    assert!(matches!(e, ExplainError::ShapeMismatch { .. }));
    // Other discretisers ignore the labels, as lime.
    let q = LimeParams::default();
    assert_eq!(
        LimeTabular::fit_with_labels(x.view(), Some(&labels), names.clone(), &q).unwrap(),
        LimeTabular::fit(x.view(), names, &q).unwrap()
    );
    // serde spelling.
    let p: LimeParams =
        serde_json::from_str(r#"{"discretizer":"entropy","feature_selection":"lasso_path"}"#).unwrap();
    let v = p.check().unwrap();
    assert_eq!((v.discretizer, v.feature_selection), (Discretizer::Entropy, FeatureSelection::LassoPath));
}

#[test]
fn lime_lasso_path_selection_matches_lime() {
    let doc = data("lime_lasso_path.json");
    let dir = case("J_lime_tabular_M8");
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let mut worst = 0.0f64;
    for (key, r) in doc["results"].as_object().unwrap() {
        let (nb, nf) = key.split_once("_nf").unwrap();
        let nf: usize = nf.parse().unwrap();
        let (_, binary) = read_csv(&dir.join(format!("neighbourhood_binary_nf{}.csv", &nb[2..])));
        let (_, lw) = read_csv(&dir.join(format!("neighbourhood_labels_weights_nf{}.csv", &nb[2..])));
        let params = LimeParams::default().num_features(nf).feature_selection(FeatureSelection::LassoPath);
        let lime = LimeTabular::fit(train.view(), names.clone(), &params).unwrap();
        let labels = lw.column(0).to_vec();
        let distances = lw.column(1).to_vec();
        let lm = lime.explain_with_data(binary.view(), &labels, &distances, 0).unwrap();
        let used: Vec<usize> =
            r["used_features"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(lm.used_features, used, "{key}");
        worst = worst.max((lm.intercept - r["intercept"].as_f64().unwrap()).abs());
        worst = worst.max((lm.score - r["score"].as_f64().unwrap()).abs());
        worst = worst.max((lm.local_pred - r["local_pred"].as_f64().unwrap()).abs());
        for (got, want) in lm.local_exp.iter().zip(r["local_exp"].as_array().unwrap()) {
            assert_eq!(got.0 as u64, want[0].as_u64().unwrap(), "{key}");
            worst = worst.max((got.1 - want[1].as_f64().unwrap()).abs());
        }
    }
    eprintln!("lasso_path: max |Δ| = {worst:e}");
    assert!(worst <= TOL, "{worst}");
}

fn fn_b(rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
        o[0] = z[0] * z[1] + z[2].sin() + z[3].max(0.0) * z[4] + 0.5 * z[5].powi(2) - 0.3 * z[6]
            + (-z[7].powi(2)).exp();
    }
}

fn fn_h(rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
        o[0] = 2.0 * z[0] * z[1]
            + (3.0 * z[2]).sin()
            + 1e-3 * z[3]
            + 0.8 * z[4].powi(2)
            + 1e-4 * z[5] * z[6]
            + 0.02 * z[6]
            + 1e-5 * z[7];
        o[1] = (z[0] + z[2]).tanh() * z[4] + 0.05 * z[1] - 2e-3 * z[7].powi(2);
    }
}

#[test]
fn kernel_shap_aic_bic_match_shap() {
    let doc = data("kernel_shap_l1_ic.json");
    let dir = case("B_nonlinear_fn_M8");
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    for (key, r) in doc["cases"].as_object().unwrap() {
        let (f, crit) = key.split_once('_').unwrap();
        let l1: L1Reg = serde_json::from_value(serde_json::Value::String(crit.into())).unwrap();
        assert_eq!(serde_json::to_value(l1).unwrap(), serde_json::Value::String(crit.into()));
        let params = KernelShapParams::default().l1_reg(l1);
        let model: Box<dyn battsentinel_core::explain::Predictor> = match f {
            "b" => Box::new(FnPredictor::new(1, fn_b)),
            _ => Box::new(FnPredictor::new(2, fn_h)),
        };
        let explainer =
            KernelExplainer::new(model.as_ref(), Background::new(bg.clone()).unwrap(), &params).unwrap();
        let mut worst = max_diff(explainer.expected_value(), &f64s(&r["expected_value"]));
        let set = explainer.explain_rows(xs.view()).unwrap();
        let mut zeros = 0;
        for (i, inst) in r["shap_values"].as_array().unwrap().iter().enumerate() {
            for (j, row) in inst.as_array().unwrap().iter().enumerate() {
                for (k, v) in f64s(row).iter().enumerate() {
                    let got = set.values[[i, j, k]];
                    // Features shap dropped are exactly 0 here too.
                    assert_eq!(
                        got == 0.0,
                        *v == 0.0,
                        "{key} instance {i} feature {j} output {k}: {got} vs {v}"
                    );
                    zeros += usize::from(*v == 0.0);
                    worst = worst.max((got - v).abs());
                }
            }
        }
        eprintln!("kernel shap {key}: max |Δφ| = {worst:e} ({zeros} values dropped by the criterion)");
        assert!(worst <= TOL, "{key}: {worst}");
    }
}

#[test]
fn kernel_shap_aic_needs_enough_coalitions() {
    // M = 8 with 3 coalitions: 6 augmented rows ≤ M + 1, where sklearn's LassoLarsIC raises.
    let dir = case("B_nonlinear_fn_M8");
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let model = FnPredictor::new(1, fn_b);
    let params = KernelShapParams::default().l1_reg(L1Reg::Aic).nsamples(Some(3));
    let explainer = KernelExplainer::new(&model, Background::new(bg).unwrap(), &params).unwrap();
    let e = explainer.explain(xs.row(0)).unwrap_err();
    assert!(matches!(e, ExplainError::TooFewSamples { .. }), "{e}");
    assert_eq!(e.code(), "explain_too_few_samples");
}
