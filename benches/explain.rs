//! Criterion benches of `explain` on the same model and data as `benches/python/explain_anchor.py`
//! (run `benches/compare_explain.sh` to time both in one run and print the ratios).
//!
//! Inputs come from `EXPLAIN_BENCH_DIR` (default `target/explain_bench`), written by the Python anchor:
//! a 100-tree random forest (sklearn, max_depth 8) exported to JSON, 100 background rows, 100 instances.
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};

use battsentinel_core::explain::{
    Background, FnPredictor, KernelExplainer, KernelShapParams, LimeParams, LimeTabular, ReferenceModel,
    TreeExplainer,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

fn read_csv(path: &Path) -> Option<(Vec<String>, Array2<f64>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split(',').map(str::to_string).collect();
    let mut vals = Vec::new();
    let mut rows = 0;
    for l in lines.filter(|l| !l.is_empty()) {
        for v in l.split(',') {
            vals.push(v.parse().ok()?);
        }
        rows += 1;
    }
    let cols = header.len();
    Some((header, Array2::from_shape_vec((rows, cols), vals).ok()?))
}

fn bench_dir() -> PathBuf {
    std::env::var_os("EXPLAIN_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/explain_bench")))
}

fn shared_xai() -> Option<PathBuf> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let c = dir.join("shared/reference/xai");
        if c.exists() {
            return Some(c);
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn fn_j(rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    for (z, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
        o[0] = z[0] * z[1] + z[2].sin() + z[3].max(0.0) * z[4] + 0.5 * z[5].powi(2) - 0.3 * z[6]
            + (-z[7].powi(2)).exp();
    }
}

fn forest_benches(c: &mut Criterion) {
    let dir = bench_dir();
    let (Ok(text), Some((_, bg)), Some((_, xs))) = (
        std::fs::read_to_string(dir.join("forest.json")),
        read_csv(&dir.join("background.csv")),
        read_csv(&dir.join("instances.csv")),
    ) else {
        eprintln!("explain bench: no forest in {} — run benches/compare_explain.sh first", dir.display());
        return;
    };
    let (model, _) = ReferenceModel::from_json(&text).expect("forest.json");
    let ReferenceModel::Trees(forest) = &model else { panic!("forest.json is not a forest") };

    let mut g = c.benchmark_group("explain_kernel_forest_per_instance");
    g.sample_size(10);
    let ex = KernelExplainer::new(&model, Background::new(bg.clone()).unwrap(), &KernelShapParams::default())
        .unwrap();
    g.bench_function(BenchmarkId::from_parameter("rf100_M10_bg100"), |b| {
        b.iter(|| ex.explain(xs.row(0)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("explain_kernel_zero_model_per_instance");
    g.sample_size(20);
    let zero = FnPredictor::new(1, |_rows: ArrayView2<'_, f64>, _out: ArrayViewMut2<'_, f64>| {});
    let ex0 = KernelExplainer::new(&zero, Background::new(bg.clone()).unwrap(), &KernelShapParams::default())
        .unwrap();
    g.bench_function(BenchmarkId::from_parameter("M10_bg100"), |b| {
        b.iter(|| ex0.explain(xs.row(0)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("explain_tree_interventional_100_instances");
    g.sample_size(10);
    let bgd = Background::new(bg).unwrap();
    let te = TreeExplainer::new(forest, &bgd).unwrap();
    g.bench_function(BenchmarkId::from_parameter("rf100_M10_bg100"), |b| {
        b.iter(|| te.explain_rows(xs.view()).unwrap())
    });
    g.finish();
}

/// Instances per `explain_rows` call in the LIME throughput bench.
const LIME_ROWS: usize = 20;

fn lime_benches(c: &mut Criterion) {
    let Some(xai) = shared_xai() else { return };
    let case = xai.join("cases/J_lime_tabular_M8");
    let (Some((names, train)), Some((_, inst))) =
        (read_csv(&case.join("training_data.csv")), read_csv(&case.join("instance.csv")))
    else {
        return;
    };
    let lime = LimeTabular::fit(train.view(), names, &LimeParams::default().num_samples(5000)).unwrap();
    let model = FnPredictor::new(1, fn_j);
    let mut g = c.benchmark_group("explain_lime_per_instance");
    g.bench_function(BenchmarkId::from_parameter("J_M8_5000"), |b| {
        b.iter(|| lime.explain(inst.row(0), &model, &[0]).unwrap())
    });
    g.finish();
    // Throughput: 20 explanations of the instance (seeds 0..20) in one `explain_rows` call, as a fleet
    // explains its rows; the time per instance is the group's time / 20.
    let rows = inst.broadcast((LIME_ROWS, inst.ncols())).unwrap().to_owned();
    let mut g = c.benchmark_group("explain_lime_rows");
    g.bench_function(BenchmarkId::from_parameter("J_M8_5000_x20"), |b| {
        b.iter(|| lime.explain_rows(rows.view(), &model, &[0]).unwrap())
    });
    g.finish();
}

criterion_group!(benches, forest_benches, lime_benches);
criterion_main!(benches);
