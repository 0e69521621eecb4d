//! Path-dependent TreeSHAP, SHAP interaction values and LIME's entropy discretiser / lasso_path selection
//! against shap 0.51.0 and lime 0.2.0.1 (`tests/data/xai_extra`, made by
//! `benches/python/gen_xai_extra_cases.py`).

use battsentinel_core::explain::{
    Background, ExplainError, FeaturePerturbation, ReferenceModel, TreeEnsemble, TreeExplainer,
    TreeShapParams,
};
use ndarray::Array2;

use crate::common::explain::{f64s, read_json};

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
