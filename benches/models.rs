//! Criterion benches of the models (issue 4): forest fit / predict_proba, isolation forest fit / score,
//! MLP fit, SVM fit, over input sizes, on seeded make_classification-like data. The sklearn comparison with
//! ratios is `benches/compare_models.sh`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams};
use battsentinel_core::models::iforest::{IsolationForest, IsolationForestParams};
use battsentinel_core::models::mlp::{MlpParams, MlpRegressor};
use battsentinel_core::models::svm::{SvmClassifier, SvmKernel, SvmParams};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{Array1, Array2};
use rand::Rng as _;

/// 4 classes, 20 features of which the first 6 carry signal (class-dependent means), seeded.
fn data(n: usize, seed: u64) -> (Array2<f64>, Array1<usize>) {
    let mut rng = battsentinel_core::rng::seeded(seed);
    let y: Array1<usize> = (0..n).map(|_| rng.gen_range(0..4)).collect();
    let x = Array2::from_shape_fn((n, 20), |(i, j)| {
        let shift = if j < 6 { ((y[i] * 7 + j * 3) % 5) as f64 * 0.6 } else { 0.0 };
        shift + rng.gen_range(-1.0..1.0) + rng.gen_range(-1.0..1.0)
    });
    (x, y)
}

fn forest(c: &mut Criterion) {
    let mut g = c.benchmark_group("forest_fit_100_trees");
    g.sample_size(10);
    for n in [2_000usize, 20_000] {
        let (x, y) = data(n, 1);
        let p = RandomForestParams::default().n_trees(100).seed(1);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| RandomForestClassifier::fit(&p, &x.view(), &y.view()).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("forest_predict_proba_5000_rows");
    g.sample_size(10);
    for n in [2_000usize, 20_000] {
        let (x, y) = data(n, 1);
        let (xt, _) = data(5_000, 2);
        let m = RandomForestClassifier::fit(&RandomForestParams::default().seed(1), &x.view(), &y.view())
            .unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| m.predict_proba(&xt.view()).unwrap())
        });
    }
    g.finish();
}

fn iforest(c: &mut Criterion) {
    let mut g = c.benchmark_group("iforest_fit_and_score");
    g.sample_size(10);
    for n in [2_000usize, 20_000] {
        let (x, _) = data(n, 3);
        let p = IsolationForestParams::default().seed(1);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| IsolationForest::fit(&p, &x.view()).unwrap().score_samples(&x.view()).unwrap())
        });
    }
    g.finish();
}

fn mlp_and_svm(c: &mut Criterion) {
    let mut g = c.benchmark_group("mlp_fit_20_epochs");
    g.sample_size(10);
    for n in [1_000usize, 5_000] {
        let (x, y) = data(n, 4);
        let yf = y.mapv(|v| v as f64);
        let p = MlpParams::default().max_epochs(20).seed(1);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| MlpRegressor::fit(&p, &x.view(), &yf.view()).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("svm_fit_rbf");
    g.sample_size(10);
    for n in [500usize, 2_000] {
        let (x, y) = data(n, 5);
        let p = SvmParams::default().kernel(SvmKernel::Rbf { gamma: 0.05 }).probability(false);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| SvmClassifier::fit(&p, &x.view(), &y.view()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, forest, iforest, mlp_and_svm);
criterion_main!(benches);
