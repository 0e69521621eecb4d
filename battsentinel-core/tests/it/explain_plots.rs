//! Snapshot tests of the SVG plots (deterministic output), on reference case C and LIME case J.

use crate::common::explain as common;

use battsentinel_core::explain::{
    plot, Background, FnPredictor, KernelExplainer, KernelShapParams, LimeParams, LimeTabular, ReferenceModel,
};
use common::{case, read_csv};
use ndarray::{ArrayView2, ArrayViewMut2};

fn case_c() -> battsentinel_core::explain::ExplanationSet {
    let dir = case("C_tree_regressor_M10");
    let (names, bg) = read_csv(&dir.join("background.csv"));
    let (_, xs) = read_csv(&dir.join("instances.csv"));
    let text = std::fs::read_to_string(dir.join("model.json")).unwrap();
    let (model, _) = ReferenceModel::from_json(&text).unwrap();
    KernelExplainer::new(&model, Background::new(bg).unwrap(), &KernelShapParams::default())
        .unwrap()
        .with_feature_names(names)
        .unwrap()
        .explain_rows(xs.view())
        .unwrap()
}

fn write_artifact(name: &str, svg: &str) {
    // Written for visual inspection; the snapshot is the test.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/explain_plots");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(name), svg);
}

#[test]
fn shap_plots_snapshot() {
    let set = case_c();
    let first = set.get(0).unwrap();
    let waterfall = plot::waterfall_svg(&first, 0, 8).unwrap();
    let force = plot::force_svg(&first, 0).unwrap();
    let bar = plot::bar_svg(&set, 0).unwrap();
    let swarm = plot::beeswarm_svg(&set, 0, 10).unwrap();
    for (n, s) in
        [("waterfall.svg", &waterfall), ("force.svg", &force), ("bar.svg", &bar), ("beeswarm.svg", &swarm)]
    {
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        write_artifact(n, s);
    }
    assert_eq!(waterfall, plot::waterfall_svg(&first, 0, 8).unwrap());
    assert!(plot::bar_svg(&set, 3).is_err());
    insta::assert_snapshot!("waterfall_case_c", waterfall);
    insta::assert_snapshot!("force_case_c", force);
    insta::assert_snapshot!("bar_case_c", bar);
    insta::assert_snapshot!("beeswarm_case_c", swarm);
}

#[test]
fn lime_plot_snapshot() {
    let dir = case("J_lime_tabular_M8");
    let (names, train) = read_csv(&dir.join("training_data.csv"));
    let (_, x) = read_csv(&dir.join("instance.csv"));
    let lime =
        LimeTabular::fit(train.view(), names, &LimeParams::default().num_samples(1000).seed(0)).unwrap();
    let model = FnPredictor::new(1, |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
        for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
            o[0] = z[0] * z[1] + z[2].sin() + z[3].max(0.0) * z[4] + 0.5 * z[5].powi(2) - 0.3 * z[6]
                + (-z[7].powi(2)).exp();
        }
    });
    let e = lime.explain(x.row(0), &model, &[0]).unwrap();
    let svg = plot::lime_bar_svg(&e);
    write_artifact("lime.svg", &svg);
    insta::assert_snapshot!("lime_case_j", svg);
}
