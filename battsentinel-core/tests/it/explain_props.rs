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

/// A random tree in sklearn's arrays: complete to `depth`, features in `0..m`, covers additive (leaf covers
/// random, internal nodes the sum of their children). Returns (left, right, feature, threshold, value, cover).
type RawTree = (Vec<i64>, Vec<i64>, Vec<i64>, Vec<f64>, Vec<f64>, Vec<f64>);

fn random_tree(m: usize, depth: usize, u: &[f64]) -> RawTree {
    let mut t: RawTree = Default::default();
    let mut k = 0usize;
    let mut next = || {
        k += 1;
        u[k % u.len()]
    };
    fn build(t: &mut RawTree, depth: usize, m: usize, next: &mut dyn FnMut() -> f64) -> usize {
        let id = t.0.len();
        t.0.push(-1);
        t.1.push(-1);
        t.2.push(-1);
        t.3.push(f64::NAN);
        t.4.push(0.0);
        t.5.push(0.0);
        if depth == 0 || next() < 0.15 {
            t.4[id] = next() * 10.0 - 5.0;
            t.5[id] = 1.0 + (next() * 20.0).floor();
            return id;
        }
        t.2[id] = ((next() * m as f64) as usize).min(m - 1) as i64;
        t.3[id] = next() * 2.0 - 1.0;
        let l = build(t, depth - 1, m, next);
        let r = build(t, depth - 1, m, next);
        t.0[id] = l as i64;
        t.1[id] = r as i64;
        t.5[id] = t.5[l] + t.5[r];
        id
    }
    build(&mut t, depth, m, &mut next);
    t
}

/// Brute-force path-dependent game value `v(S)` of one raw tree.
fn v_raw(t: &RawTree, node: usize, x: &[f64], s: u32) -> f64 {
    if t.0[node] == -1 {
        return t.4[node];
    }
    let (f, l, r) = (t.2[node] as usize, t.0[node] as usize, t.1[node] as usize);
    if s & (1 << f) != 0 {
        return v_raw(t, if x[f] <= t.3[node] { l } else { r }, x, s);
    }
    (t.5[l] * v_raw(t, l, x, s) + t.5[r] * v_raw(t, r, x, s)) / t.5[node]
}

fn to_tree(t: &RawTree) -> battsentinel_core::explain::Tree {
    let n = t.0.len();
    battsentinel_core::explain::Tree::new(
        t.0.clone(),
        t.1.clone(),
        t.2.clone(),
        t.3.clone(),
        Array2::from_shape_vec((n, 1), t.4.clone()).unwrap(),
        t.5.clone(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Path-dependent TreeSHAP: Σφ = f(x) − E, values equal brute-force Shapley values of the cover game,
    /// interaction rows add up to φ, the matrix is symmetric and sums to f(x) − E.
    #[test]
    fn path_dependent_efficiency_brute_force_and_interaction_rows(
        m in 1usize..5,
        depth in 1usize..6,
        n_trees in 1usize..4,
        u in prop::collection::vec(0.0f64..1.0, 64..200),
        x in prop::collection::vec(-1.2f64..1.2, 5),
    ) {
        use battsentinel_core::explain::{TreeEnsemble, TreeExplainer};
        let raws: Vec<RawTree> = (0..n_trees).map(|i| random_tree(m, depth, &u[i..])).collect();
        let model = TreeEnsemble::new(raws.iter().map(to_tree).collect(), 1.0 / n_trees as f64, vec![0.5], m)
            .unwrap();
        let te = TreeExplainer::path_dependent(&model).unwrap();
        let xv = Array1::from(x[..m].to_vec());
        let e = te.explain(xv.view()).unwrap();
        let fx = e.model_output[0];
        let total: f64 = e.values.column(0).sum();
        prop_assert!((total - (fx - e.base_values[0])).abs() < 1e-9, "Σφ {} vs {}", total, fx - e.base_values[0]);
        // Brute force over all coalitions.
        let v = |s: u32| 0.5 + raws.iter().map(|t| v_raw(t, 0, &xv.to_vec(), s)).sum::<f64>() / n_trees as f64;
        prop_assert!((v(0) - e.base_values[0]).abs() < 1e-9);
        let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        for i in 0..m {
            let mut phi = 0.0;
            for s in 0u32..(1 << m) {
                if s & (1 << i) != 0 {
                    continue;
                }
                let k = s.count_ones() as usize;
                phi += fact(k) * fact(m - k - 1) / fact(m) * (v(s | (1 << i)) - v(s));
            }
            prop_assert!((phi - e.values[[i, 0]]).abs() < 1e-9, "feature {}: {} vs {}", i, phi, e.values[[i, 0]]);
        }
        let iv = te.interaction_values(xv.view()).unwrap();
        let mut all = 0.0;
        for a in 0..m {
            let row: f64 = (0..m).map(|b| iv[[a, b, 0]]).sum();
            prop_assert!((row - e.values[[a, 0]]).abs() < 1e-9);
            for b in 0..m {
                prop_assert!((iv[[a, b, 0]] - iv[[b, a, 0]]).abs() < 1e-9);
                all += iv[[a, b, 0]];
            }
        }
        prop_assert!((all - (fx - e.base_values[0])).abs() < 1e-9);
    }
}
