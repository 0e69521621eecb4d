//! Integration tests of `explain` against the shap/lime reference cases in `shared/reference/xai`.

use crate::common::explain as common;

use battsentinel_core::explain::{
    Background, CoalitionPlan, ExplainError, FnPredictor, KernelExplainer, KernelShapParams, LimeParams,
    LimeTabular, Link, Predictor, ReferenceModel, TreeExplainer, LIME_SAMPLE_BLOCK_ROWS,
};
use common::{case, f64s, read_csv, read_json};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// Tolerance for every comparison against the reference Kernel SHAP values (observed ≤ 1e-13).
const TOL: f64 = 1e-10;

fn fn_b(rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
        o[0] = z[0] * z[1] + z[2].sin() + z[3].max(0.0) * z[4] + 0.5 * z[5].powi(2) - 0.3 * z[6]
            + (-z[7].powi(2)).exp();
    }
}

fn fn_g(rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
        o[0] = z[0] * z[1] + z[2] * z[3] + (z[4] - 20.0).max(0.0) * z[5] / 10.0;
    }
}

fn load_model(name: &str) -> Box<dyn Predictor> {
    match name {
        "B_nonlinear_fn_M8" => Box::new(FnPredictor::new(1, fn_b)),
        "G_varying_features_M6" => Box::new(FnPredictor::new(1, fn_g)),
        _ => {
            let text = std::fs::read_to_string(case(name).join("model.json")).unwrap();
            Box::new(ReferenceModel::from_json(&text).unwrap().0)
        }
    }
}

fn link_of(exp: &serde_json::Value) -> Link {
    match exp["link"].as_str().unwrap() {
        "logit" => Link::Logit,
        _ => Link::Identity,
    }
}

/// Max |ours − reference| over every instance and the expected value.
fn kernel_case(name: &str) -> f64 {
    let dir = case(name);
    let exp = read_json(&dir.join("expected.json"));
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let model = load_model(name);
    let params = KernelShapParams::default().link(link_of(&exp));
    let explainer = KernelExplainer::new(model.as_ref(), Background::new(bg).unwrap(), &params).unwrap();
    let mut worst = 0.0f64;
    for (a, b) in explainer.expected_value().iter().zip(f64s(&exp["expected_value"])) {
        worst = worst.max((a - b).abs());
    }
    let set = explainer.explain_rows(xs.view()).unwrap();
    for (i, inst) in exp["instances"].as_array().unwrap().iter().enumerate() {
        let e = set.get(i).unwrap();
        for (a, b) in e.model_output.iter().zip(f64s(&inst["link_fx"])) {
            worst = worst.max((a - b).abs());
        }
        for (j, row) in inst["shap_values"].as_array().unwrap().iter().enumerate() {
            for (k, v) in f64s(row).iter().enumerate() {
                worst = worst.max((e.values[[j, k]] - v).abs());
            }
        }
        // Efficiency in link space.
        for k in 0..e.n_outputs() {
            let s: f64 = e.values.column(k).sum();
            assert!((s - (e.model_output[k] - e.base_values[k])).abs() < 1e-9, "{name} efficiency");
        }
    }
    worst
}

#[test]
fn kernel_shap_matches_every_reference_case() {
    for name in [
        "A_linear_regression_M6",
        "B_nonlinear_fn_M8",
        "C_tree_regressor_M10",
        "E_tree_classifier_proba_M7",
        "F_logistic_proba_M6_identity",
        "F_logistic_proba_M6_logit",
        "G_varying_features_M6",
    ] {
        let worst = kernel_case(name);
        eprintln!("{name}: max |kernel − shap| = {worst:.3e}");
        assert!(worst <= TOL, "{name}: {worst}");
    }
}

#[test]
fn shap_values_csv_agrees_with_expected_json() {
    // shap_values.csv: one row per instance, φ feature-major then the expected value(s).
    let dir = case("E_tree_classifier_proba_M7");
    let exp = read_json(&dir.join("expected.json"));
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_path(dir.join("shap_values.csv")).unwrap();
    let first: Vec<f64> = rdr.records().next().unwrap().unwrap().iter().map(|v| v.parse().unwrap()).collect();
    let inst = &exp["instances"][0]["shap_values"];
    let flat: Vec<f64> = inst.as_array().unwrap().iter().flat_map(f64s).collect();
    // Column 0 is the instance index.
    assert_eq!(first[0], 0.0);
    assert_eq!(&first[1..=flat.len()], &flat[..]);
}

#[test]
fn coalition_plan_matches_kernel_plan_json() {
    let plan = read_json(&common::shared("reference/xai/kernel_plan.json"));
    let rows = plan["rows"].as_array().unwrap();
    assert!(rows.len() > 100);
    let close = |a: &[f64], b: &[f64]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-15 * y.abs().max(1.0))
    };
    for r in rows {
        let m = r["M"].as_u64().unwrap() as usize;
        let ns = match r["nsamples_arg"].as_u64() {
            Some(n) => n as usize,
            None => 2 * m + 2048,
        };
        let p = CoalitionPlan::build(m, ns, 0);
        let ctx = format!("M={m} nsamples={ns}");
        assert_eq!(p.nsamples as u64, r["nsamples"].as_u64().unwrap(), "{ctx}");
        assert_eq!(p.max_samples as u64, r["max_samples"].as_u64().unwrap(), "{ctx}");
        assert_eq!(p.num_subset_sizes as u64, r["num_subset_sizes"].as_u64().unwrap(), "{ctx}");
        assert_eq!(p.num_paired_subset_sizes as u64, r["num_paired_subset_sizes"].as_u64().unwrap(), "{ctx}");
        assert_eq!(p.num_full_subsets as u64, r["num_full_subsets"].as_u64().unwrap(), "{ctx}");
        assert_eq!(p.n_fixed_samples as u64, r["n_fixed_samples"].as_u64().unwrap(), "{ctx}");
        assert!(close(&p.weight_vector, &f64s(&r["weight_vector"])), "{ctx} weight_vector");
        assert!(close(&p.fixed_weight_per_size, &f64s(&r["fixed_weight_per_size"])), "{ctx} fixed weights");
        if let Some(rw) = r.get("remaining_weight_vector") {
            assert!(close(&p.remaining_weight_vector, &f64s(rw)), "{ctx} remaining");
            assert!((p.weight_left - r["weight_left"].as_f64().unwrap()).abs() < 1e-15, "{ctx} weight_left");
            assert_eq!(p.n_masks(), p.nsamples, "{ctx}: budget filled");
        }
        let total: f64 = p.kernel_weights.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{ctx} total weight {total}");
    }
}

fn tree_case(name: &str) -> f64 {
    let dir = case(name);
    let exp = read_json(&dir.join("expected.json"));
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let text = std::fs::read_to_string(dir.join("model.json")).unwrap();
    let ReferenceModel::Trees(model) = ReferenceModel::from_json(&text).unwrap().0 else {
        panic!("not a tree")
    };
    let bg = Background::new(bg).unwrap();
    let te = TreeExplainer::new(&model, &bg).unwrap();
    let mut worst = 0.0f64;
    for (a, b) in te.expected_value().iter().zip(f64s(&exp["expected_value"])) {
        worst = worst.max((a - b).abs());
    }
    let set = te.explain_rows(xs.view()).unwrap();
    for (i, inst) in exp["instances"].as_array().unwrap().iter().enumerate() {
        for (j, row) in inst["shap_values"].as_array().unwrap().iter().enumerate() {
            for (k, v) in f64s(row).iter().enumerate() {
                worst = worst.max((set.values[[i, j, k]] - v).abs());
            }
        }
    }
    worst
}

#[test]
fn tree_shap_interventional_matches_tree_cases() {
    for name in ["C_tree_regressor_M10", "E_tree_classifier_proba_M7"] {
        let worst = tree_case(name);
        eprintln!("{name}: max |TreeSHAP − shap Kernel| = {worst:.3e}");
        assert!(worst <= TOL, "{name}: {worst}");
    }
}

#[test]
fn lime_case_j_discretiser_statistics() {
    let dir = case("J_lime_tabular_M8");
    let exp = read_json(&dir.join("expected.json"));
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let (_, x) = read_csv(&dir.join("instance.csv"));
    let lime = LimeTabular::fit(train.view(), names.clone(), &LimeParams::default()).unwrap();
    let st = &exp["discretizer_stats"];
    let close =
        |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12);
    for (j, name) in names.iter().enumerate() {
        let b = &lime.bin_stats()[j];
        assert!(close(&b.cuts, &f64s(&st["quartiles"][name])), "{name} quartiles");
        assert!(close(&b.means, &f64s(&st["bin_means"][name])), "{name} means");
        assert!(close(&b.stds, &f64s(&st["bin_stds"][name])), "{name} stds");
        assert!(close(&b.mins, &f64s(&st["bin_mins"][name])), "{name} mins");
        assert!(close(&b.maxs, &f64s(&st["bin_maxs"][name])), "{name} maxs");
        let vals: Vec<f64> = b.values.iter().map(|&v| v as f64).collect();
        assert!(close(&vals, &f64s(&st["feature_values"][name])), "{name} values");
        assert!(close(&b.frequencies, &f64s(&st["feature_frequencies"][name])), "{name} freqs");
        let want: Vec<String> = st["bin_names"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(b.names, want);
        assert_eq!(b.bin(x[[0, j]]) as u64, st["instance_bins"][j].as_f64().unwrap() as u64);
    }
    assert!((lime.kernel_width() - st["kernel_width"].as_f64().unwrap()).abs() < 1e-15);
}

#[test]
fn lime_case_j_local_models_given_the_saved_neighbourhood() {
    let dir = case("J_lime_tabular_M8");
    let exp = read_json(&dir.join("expected.json"));
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    for nf in [4usize, 10] {
        let lime =
            LimeTabular::fit(train.view(), names.clone(), &LimeParams::default().num_features(nf)).unwrap();
        let (_, binary) = read_csv(&dir.join(format!("neighbourhood_binary_nf{nf}.csv")));
        let (_, inverse) = read_csv(&dir.join(format!("neighbourhood_inverse_nf{nf}.csv")));
        let (_, lw) = read_csv(&dir.join(format!("neighbourhood_labels_weights_nf{nf}.csv")));
        // Re-discretising the inverse rows gives the binary matrix.
        for i in 0..binary.nrows() {
            for j in 0..binary.ncols() {
                let b = &lime.bin_stats()[j];
                let same = b.bin(inverse[[i, j]]) == b.bin(inverse[[0, j]]);
                assert_eq!(f64::from(u8::from(same)), binary[[i, j]], "row {i} col {j}");
            }
        }
        let distances: Vec<f64> = (0..binary.nrows())
            .map(|i| {
                binary.row(i).iter().zip(binary.row(0)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
            })
            .collect();
        for i in 0..binary.nrows() {
            assert!((distances[i] - lw[[i, 1]]).abs() < 1e-14);
            assert!((lime.kernel(distances[i]) - lw[[i, 2]]).abs() < 1e-14);
        }
        // The labels are the model at the inverse rows.
        let mut y = Array2::zeros((inverse.nrows(), 1));
        fn_b(inverse.view(), y.view_mut());
        for i in 0..inverse.nrows() {
            assert!((y[[i, 0]] - lw[[i, 0]]).abs() < 1e-12);
        }
        let labels: Vec<f64> = lw.column(0).to_vec();
        let lm = lime.explain_with_data(binary.view(), &labels, &distances, 0).unwrap();
        let r = &exp["results"][format!("num_features_{nf}")];
        let used: Vec<usize> =
            r["used_features"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(lm.used_features, used, "nf={nf}");
        let d_int = (lm.intercept - r["intercept"].as_f64().unwrap()).abs();
        let d_score = (lm.score - r["score_r2"].as_f64().unwrap()).abs();
        let d_pred = (lm.local_pred - r["local_pred"].as_f64().unwrap()).abs();
        let mut d_coef = 0.0f64;
        for (got, want) in lm.local_exp.iter().zip(r["local_exp_sorted"].as_array().unwrap()) {
            assert_eq!(got.0 as u64, want[0].as_u64().unwrap());
            d_coef = d_coef.max((got.1 - want[1].as_f64().unwrap()).abs());
        }
        eprintln!("LIME nf={nf}: |Δintercept| {d_int:.2e} |Δcoef| {d_coef:.2e} |Δscore| {d_score:.2e} |Δlocal_pred| {d_pred:.2e}");
        assert!(d_int < 1e-12 && d_coef < 1e-12 && d_score < 1e-12 && d_pred < 1e-12);
    }
}

#[test]
fn lime_display_labels_match_as_list() {
    let dir = case("J_lime_tabular_M8");
    let exp = read_json(&dir.join("expected.json"));
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let (_, x) = read_csv(&dir.join("instance.csv"));
    let lime =
        LimeTabular::fit(train.view(), names, &LimeParams::default().num_features(4).num_samples(1000))
            .unwrap();
    let e = lime.explain(x.row(0), &FnPredictor::new(1, fn_b), &[0]).unwrap();
    let want: Vec<String> = exp["results"]["num_features_10"]["as_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[0].as_str().unwrap().to_string())
        .collect();
    for w in &want {
        assert!(e.feature_labels.contains(w), "{w}");
    }
    assert!(
        (e.predicted[0] - exp["results"]["num_features_4"]["predicted_value"].as_f64().unwrap()).abs()
            < 1e-15
    );
}

#[test]
fn lime_sampler_matches_training_distribution() {
    // Statistical equivalence: bin frequencies of the drawn neighbourhood match the training frequencies,
    // and every undiscretised value lies inside its bin.
    let dir = case("J_lime_tabular_M8");
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let (_, x) = read_csv(&dir.join("instance.csv"));
    let n = 20_000;
    let lime = LimeTabular::fit(train.view(), names, &LimeParams::default().num_samples(n).seed(11)).unwrap();
    let nb = lime.sample(x.row(0)).unwrap();
    for (j, st) in lime.bin_stats().iter().enumerate() {
        let mut counts = vec![0usize; st.means.len()];
        for i in 1..n {
            let v = nb.inverse[[i, j]];
            let b = st.bin(v);
            counts[b] += 1;
            assert!(v >= st.mins[b] - 1e-12 && v <= st.maxs[b] + 1e-12);
        }
        for (&b, &f) in st.values.iter().zip(&st.frequencies) {
            let got = counts[b] as f64 / (n - 1) as f64;
            // 5 sigma of a binomial proportion.
            assert!(
                (got - f).abs() < 5.0 * (f * (1.0 - f) / n as f64).sqrt(),
                "feature {j} bin {b}: {got} vs {f}"
            );
        }
    }
    let again = lime.sample(x.row(0)).unwrap();
    assert_eq!(nb, again);
}

#[test]
fn lime_sample_blocks_draw_from_distinct_streams() {
    // Each block of rows has its own ChaCha stream: no block repeats another's draws, and the instance is
    // row 0 only.
    let dir = case("J_lime_tabular_M8");
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let (_, x) = read_csv(&dir.join("instance.csv"));
    let n = 3 * LIME_SAMPLE_BLOCK_ROWS + 17;
    let lime = LimeTabular::fit(train.view(), names, &LimeParams::default().num_samples(n).seed(5)).unwrap();
    let nb = lime.sample(x.row(0)).unwrap();
    assert_eq!(nb.inverse.row(0), x.row(0));
    assert_eq!(nb.distances.len(), n);
    assert_eq!(nb.distances[0], 0.0);
    let block = |b: usize| nb.inverse.row(b * LIME_SAMPLE_BLOCK_ROWS + 1).to_vec();
    for a in 0..4 {
        for b in a + 1..4 {
            assert_ne!(block(a), block(b), "blocks {a} and {b}");
        }
    }
    // Distances are those of the binary representation to row 0 (all ones).
    for i in [1, LIME_SAMPLE_BLOCK_ROWS, n - 1] {
        let d2: f64 = nb.data.row(i).iter().map(|v| (v - 1.0).powi(2)).sum();
        assert!((nb.distances[i] - d2.sqrt()).abs() < 1e-15);
    }
}

#[test]
fn lime_explain_rows_equals_seeded_single_explanations() {
    let dir = case("J_lime_tabular_M8");
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let params = LimeParams::default().num_samples(1200).seed(40);
    let lime = LimeTabular::fit(train.view(), names.clone(), &params).unwrap();
    let xs = train.slice(ndarray::s![..5, ..]);
    let model = FnPredictor::new(1, fn_b);
    let all = lime.explain_rows(xs, &model, &[0]).unwrap();
    assert_eq!(all.len(), 5);
    for (i, e) in all.iter().enumerate() {
        let single =
            LimeTabular::fit(train.view(), names.clone(), &params.clone().seed(40 + i as u64)).unwrap();
        assert_eq!(*e, single.explain(xs.row(i), &model, &[0]).unwrap(), "row {i}");
    }
    let err = lime.explain_rows(train.slice(ndarray::s![..2, ..3]), &model, &[0]).unwrap_err();
    assert!(matches!(err, ExplainError::ShapeMismatch { expected: 8, got: 3, .. }));
}

#[test]
fn bad_inputs_give_typed_errors() {
    let model = FnPredictor::new(1, fn_g);
    let bg = Array2::from_shape_fn((5, 6), |(i, j)| (i + j) as f64);
    assert!(matches!(Background::new(Array2::zeros((0, 6))), Err(ExplainError::Empty { .. })));
    let mut nan = bg.clone();
    nan[[2, 3]] = f64::NAN;
    assert!(matches!(Background::new(nan), Err(ExplainError::NonFinite { row: 2, column: 3, .. })));
    let ex = KernelExplainer::new(&model, Background::new(bg.clone()).unwrap(), &KernelShapParams::default())
        .unwrap();
    assert!(matches!(ex.explain(ndarray::arr1(&[1.0, 2.0]).view()), Err(ExplainError::ShapeMismatch { .. })));
    let tiny = KernelShapParams::default().memory_budget_bytes(64);
    let ex = KernelExplainer::new(&model, Background::new(bg.clone()).unwrap(), &tiny).unwrap();
    let err = ex.explain(bg.row(0).mapv(|v| v + 1.0).view()).unwrap_err();
    assert_eq!(err.code(), "explain_budget_too_small");
    let logit = KernelShapParams::default().link(Link::Logit);
    let err = KernelExplainer::new(&model, Background::new(bg).unwrap(), &logit).err().unwrap();
    assert!(matches!(err, ExplainError::LinkDomain { .. }));
}

#[test]
fn memory_budget_and_parallel_paths_give_identical_values() {
    let dir = case("C_tree_regressor_M10");
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let tree = load_model("C_tree_regressor_M10");
    let model: Box<dyn Predictor> = Box::new(Opaque(tree.as_ref()));
    let big = KernelExplainer::new(
        model.as_ref(),
        Background::new(bg.clone()).unwrap(),
        &KernelShapParams::default(),
    )
    .unwrap();
    // 50 rows × (10 + 1) × 8 bytes = 4400 bytes per coalition: 3 coalitions per batch.
    let small_params = KernelShapParams::default().memory_budget_bytes(3 * 4400);
    let small = KernelExplainer::new(model.as_ref(), Background::new(bg).unwrap(), &small_params).unwrap();
    let set = big.explain_rows(xs.view()).unwrap();
    for i in 0..xs.nrows() {
        let a = small.explain(xs.row(i)).unwrap();
        let b = big.explain(xs.row(i)).unwrap();
        assert_eq!(a.values, b.values);
        assert_eq!(set.get(i).unwrap().values, b.values);
    }
}

/// Hides `tree_ensemble()` so Kernel SHAP evaluates synthetic rows (the model-agnostic path).
struct Opaque<'a>(&'a dyn Predictor);

impl Predictor for Opaque<'_> {
    fn n_outputs(&self) -> usize {
        self.0.n_outputs()
    }
    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        self.0.predict_into(rows, out)
    }
}

#[test]
fn kernel_tree_fast_path_equals_model_agnostic_path() {
    for name in ["C_tree_regressor_M10", "E_tree_classifier_proba_M7"] {
        let dir = case(name);
        let exp = read_json(&dir.join("expected.json"));
        let (_, bg) = read_csv(&dir.join("background.csv"));
        let (_, xs) = read_csv(&dir.join("instances.csv"));
        let model = load_model(name);
        let opaque = Opaque(model.as_ref());
        let p = KernelShapParams::default();
        let fast = KernelExplainer::new(model.as_ref(), Background::new(bg.clone()).unwrap(), &p).unwrap();
        let slow = KernelExplainer::new(&opaque, Background::new(bg).unwrap(), &p).unwrap();
        let mut worst_pair = 0.0f64;
        let mut worst_ref = 0.0f64;
        for i in 0..xs.nrows() {
            let a = fast.explain(xs.row(i)).unwrap();
            let b = slow.explain(xs.row(i)).unwrap();
            for ((u, v), r) in a
                .values
                .iter()
                .zip(b.values.iter())
                .zip(exp["instances"][i]["shap_values"].as_array().unwrap().iter().flat_map(f64s))
            {
                worst_pair = worst_pair.max((u - v).abs());
                worst_ref = worst_ref.max((v - r).abs());
            }
        }
        eprintln!("{name}: |fast − agnostic| {worst_pair:.2e}, |agnostic − shap| {worst_ref:.2e}");
        assert!(worst_pair < 1e-10 && worst_ref < TOL);
    }
}

#[test]
fn own_random_forest_converts_and_tree_shap_equals_exact_kernel_shap() {
    use battsentinel_core::explain::TreeEnsemble;
    use battsentinel_core::models::forest::{RandomForestParams, RandomForestRegressor};
    let dir = case("C_tree_regressor_M10");
    let (_, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let y = bg
        .rows()
        .into_iter()
        .map(|r| r[0] * 0.01 - r[4] * 0.3 + r[9] * 0.002)
        .collect::<ndarray::Array1<f64>>();
    let params = RandomForestParams::default().n_trees(10).max_depth(Some(4)).seed(3);
    let rf = RandomForestRegressor::fit(&params, &bg.view(), &y.view()).unwrap();
    let ens = TreeEnsemble::try_from(&rf).unwrap();
    let ours = ens.predict(xs.view()).unwrap();
    let theirs = rf.predict(&xs.view()).unwrap();
    for (a, b) in ours.column(0).iter().zip(theirs.iter()) {
        assert_eq!(a, b);
    }
    let bgd = Background::new(bg.clone()).unwrap();
    let tree = TreeExplainer::new(&ens, &bgd).unwrap().explain_rows(xs.view()).unwrap();
    let opaque = Opaque(&ens);
    let kernel = KernelExplainer::new(&opaque, bgd.clone(), &KernelShapParams::default())
        .unwrap()
        .explain_rows(xs.view())
        .unwrap();
    let worst = tree.values.iter().zip(kernel.values.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    eprintln!("own forest: max |TreeSHAP − Kernel exact| = {worst:.2e}");
    assert!(worst < 1e-10);
}

/// Above 3^m pairs fitting the dense table (here m = 14) the tree fast path keeps its constraint pairs in a
/// sparse map; both must equal the model-agnostic path on the same coalition plan.
#[test]
fn kernel_tree_fast_path_with_many_features_equals_model_agnostic_path() {
    use battsentinel_core::explain::TreeEnsemble;
    use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams};
    let mut rng = battsentinel_core::rng::seeded(5);
    let x = Array2::from_shape_fn((300, 14), |_| rand::Rng::gen::<f64>(&mut rng) * 2.0 - 1.0);
    let y: ndarray::Array1<usize> =
        x.rows().into_iter().map(|r| usize::from(r[0] * r[13] + r[5] - 0.4 * r[9] > 0.0)).collect();
    let params = RandomForestParams::default().n_trees(8).max_depth(Some(6)).seed(2);
    let ens =
        TreeEnsemble::try_from(&RandomForestClassifier::fit(&params, &x.view(), &y.view()).unwrap()).unwrap();
    let bgd = Background::new(x.slice(ndarray::s![..20, ..]).to_owned()).unwrap();
    let p = KernelShapParams::default();
    let opaque = Opaque(&ens);
    let fast = KernelExplainer::new(&ens, bgd.clone(), &p)
        .unwrap()
        .explain_rows(x.slice(ndarray::s![200..203, ..]))
        .unwrap();
    let slow = KernelExplainer::new(&opaque, bgd, &p)
        .unwrap()
        .explain_rows(x.slice(ndarray::s![200..203, ..]))
        .unwrap();
    let worst = fast.values.iter().zip(slow.values.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(fast.values.iter().any(|v| v.abs() > 1e-3));
    assert!(worst < 1e-10, "{worst:.2e}");
}

/// Counts the synthetic rows held by concurrent model calls and remembers the most at once.
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
    calls: std::sync::atomic::AtomicUsize,
}

impl Predictor for InFlight {
    fn n_outputs(&self) -> usize {
        1
    }
    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_add(rows.nrows(), SeqCst) + rows.nrows();
        self.peak.fetch_max(n, SeqCst);
        self.calls.fetch_add(1, SeqCst);
        // Long enough for calls on other threads to overlap this one.
        std::thread::sleep(std::time::Duration::from_millis(2));
        fn_g(rows, out);
        self.now.fetch_sub(rows.nrows(), SeqCst);
        Ok(())
    }
}

#[test]
fn synthetic_rows_in_flight_stay_within_the_memory_budget() {
    use std::sync::atomic::Ordering::SeqCst;
    let bg = Array2::from_shape_fn((40, 6), |(i, j)| ((i * 7 + j * 3) % 11) as f64 + 15.0);
    let xs = Array2::from_shape_fn((5, 6), |(i, j)| (i + 2 * j) as f64 + 30.5);
    // 40 rows × (6 features + 1 output) × 8 bytes = 2 240 bytes per coalition; 2^6 − 2 = 62 coalitions.
    for coalitions in [1usize, 2, 5, 62, 1000] {
        let budget = coalitions * 2240;
        let model = InFlight { now: 0.into(), peak: 0.into(), calls: 0.into() };
        let params = KernelShapParams::default().memory_budget_bytes(budget);
        let ex = KernelExplainer::new(&model, Background::new(bg.clone()).unwrap(), &params).unwrap();
        let set = ex.explain_rows(xs.view()).unwrap();
        let peak_bytes = model.peak.load(SeqCst) * 7 * 8;
        assert!(peak_bytes <= budget, "{peak_bytes} bytes in flight with a budget of {budget}");
        // Same values as an unconstrained run.
        let plain = FnPredictor::new(1, fn_g);
        let free =
            KernelExplainer::new(&plain, Background::new(bg.clone()).unwrap(), &KernelShapParams::default())
                .unwrap();
        for i in 0..xs.nrows() {
            assert_eq!(set.get(i).unwrap().values, free.explain(xs.row(i)).unwrap().values);
        }
        // One f(x) call per instance plus the coalition batches.
        assert!(model.calls.load(SeqCst) >= 5 + 62usize.div_ceil(coalitions.min(62)).min(62));
    }
}
