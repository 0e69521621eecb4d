//! Property tests of the explainers: efficiency, symmetry, dummy, linear closed form, LIME determinism.

use battsentinel_core::explain::{
    Background, FnPredictor, KernelExplainer, KernelShapParams, LimeParams, LimeTabular,
};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use proptest::prelude::*;

fn matrix(rows: usize, cols: usize) -> impl Strategy<Value = Array2<f64>> {
    prop::collection::vec(-3.0f64..3.0, rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

fn case() -> impl Strategy<Value = (Array2<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (2usize..7, 2usize..8).prop_flat_map(|(m, n)| {
        (
            matrix(n, m),
            prop::collection::vec(-3.0f64..3.0, m),
            prop::collection::vec(-2.0f64..2.0, m),
            prop::collection::vec(0.1f64..3.0, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn efficiency_sum_equals_fx_minus_expected((bg, x, coef, _w) in case()) {
        let c = coef.clone();
        let model = FnPredictor::new(1, move |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
            for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                let lin: f64 = r.iter().zip(&c).map(|(a, b)| a * b).sum();
                o[0] = lin + r[0] * r[1] + (r[r.len() - 1]).sin() * 2.0;
            }
        });
        let ex = KernelExplainer::new(&model, Background::new(bg).unwrap(), &KernelShapParams::default()).unwrap();
        let e = ex.explain(Array1::from(x).view()).unwrap();
        let s: f64 = e.values.column(0).sum();
        prop_assert!((s - (e.model_output[0] - e.base_values[0])).abs() <= 1e-9);
    }

    #[test]
    fn linear_model_gives_coef_times_x_minus_weighted_mean((bg, x, coef, w) in case()) {
        let c = coef.clone();
        let model = FnPredictor::new(1, move |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
            for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                o[0] = 0.5 + r.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>();
            }
        });
        let bg = Background::weighted(bg, w).unwrap();
        let mean = bg.mean();
        let ex = KernelExplainer::new(&model, bg, &KernelShapParams::default()).unwrap();
        let e = ex.explain(Array1::from(x.clone()).view()).unwrap();
        for j in 0..x.len() {
            let want = coef[j] * (x[j] - mean[j]);
            // Non-varying features are exactly 0; |want| is then below the allclose tolerance scale.
            prop_assert!((e.values[[j, 0]] - want).abs() <= 1e-9 + 1e-5 * want.abs(), "j={} got {} want {}", j, e.values[[j, 0]], want);
        }
    }

    #[test]
    fn dummy_feature_gets_zero((bg, x, coef, _w) in case()) {
        let m = x.len();
        let c = coef.clone();
        // The last feature is never used.
        let model = FnPredictor::new(1, move |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
            for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                o[0] = r.iter().take(m - 1).zip(&c).map(|(a, b)| a * b * b.abs()).sum::<f64>() + (r[0] * 0.7).tanh();
            }
        });
        let ex = KernelExplainer::new(&model, Background::new(bg).unwrap(), &KernelShapParams::default()).unwrap();
        let e = ex.explain(Array1::from(x).view()).unwrap();
        prop_assert!(e.values[[m - 1, 0]].abs() <= 1e-9);
    }

    #[test]
    fn symmetric_features_get_equal_values((mut bg, mut x, _coef, _w) in case()) {
        // f is symmetric in x0, x1; make the background and instance symmetric too.
        for i in 0..bg.nrows() {
            let v = bg[[i, 0]];
            bg[[i, 1]] = v;
        }
        x[1] = x[0];
        let model = FnPredictor::new(1, |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
            for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                o[0] = (r[0] * r[1]).sin() + r[0] + r[1] + r.iter().skip(2).sum::<f64>().powi(2);
            }
        });
        let ex = KernelExplainer::new(&model, Background::new(bg).unwrap(), &KernelShapParams::default()).unwrap();
        let e = ex.explain(Array1::from(x).view()).unwrap();
        prop_assert!((e.values[[0, 0]] - e.values[[1, 0]]).abs() <= 1e-9);
    }

    #[test]
    fn lime_is_deterministic_under_a_seed(train in matrix(40, 3), seed in any::<u64>()) {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let params = LimeParams::default().num_samples(200).seed(seed);
        let lime = LimeTabular::fit(train.view(), names, &params).unwrap();
        let model = FnPredictor::new(1, |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
            for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                o[0] = r[0] - 2.0 * r[1] * r[2];
            }
        });
        let a = lime.explain(train.row(0), &model, &[0]).unwrap();
        let b = lime.explain(train.row(0), &model, &[0]).unwrap();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn sampled_regime_error_shrinks_with_budget() {
    // M = 14: exact enumeration (16382 coalitions) vs the default budget (2M + 2048) and a larger one,
    // RMSE averaged over seeds.
    let m = 14;
    let n = 8;
    let bg = Array2::from_shape_fn((n, m), |(i, j)| (((i * 31 + j * 17) % 23) as f64 - 11.0) / 5.0);
    let x = Array1::from_shape_fn(m, |j| ((j * 7 % 5) as f64 - 2.0) * 0.9);
    let model = FnPredictor::new(1, |rows: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>| {
        for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
            let mut s = 0.0;
            for j in 0..r.len() {
                s += (j as f64 + 1.0) * 0.1 * r[j];
            }
            o[0] = s + r[0] * r[1] - r[2] * r[3] * 0.5 + (r[4] + r[5]).sin() + r[6].max(0.0) * r[7];
        }
    });
    let exact = KernelExplainer::new(
        &model,
        Background::new(bg.clone()).unwrap(),
        &KernelShapParams::default().nsamples(Some((1 << m) - 2)),
    )
    .unwrap()
    .explain(x.view())
    .unwrap();
    let rmse = |budget: usize| {
        let mut tot = 0.0;
        let seeds = 8;
        for seed in 0..seeds {
            let p = KernelShapParams::default().nsamples(Some(budget)).seed(seed);
            let e = KernelExplainer::new(&model, Background::new(bg.clone()).unwrap(), &p)
                .unwrap()
                .explain(x.view())
                .unwrap();
            let se: f64 = e.values.iter().zip(exact.values.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
            tot += (se / m as f64).sqrt();
        }
        tot / seeds as f64
    };
    let default = rmse(2 * m + 2048);
    let more = rmse(8000);
    eprintln!("M=14 RMSE vs exact: default budget {default:.4e}, budget 8000 {more:.4e}");
    assert!(more < default);
    assert!(default < 0.05);
}
