"""Explainers: our KernelExplainer through a scikit-learn callable equals shap.KernelExplainer (exact mode),
TreeSHAP equals exact Kernel SHAP on our forest, LIME is seeded, failures raise the right exception."""

import json
import pickle

import numpy as np
import pytest
import shap
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier as SkForest
from sklearn.linear_model import LogisticRegression

import battsentinel as bs


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, random_state=1)
    return X, y


def test_kernel_shap_equals_shap_on_sklearn_callable(data):
    X, y = data
    for model in [LogisticRegression().fit(X, y), SkForest(n_estimators=20, random_state=0).fit(X, y)]:
        bg = X[:20]
        xs = X[100:104]
        ref = shap.KernelExplainer(model.predict_proba, bg).shap_values(xs, nsamples=1000, silent=True)
        ours = bs.KernelExplainer(model.predict_proba, bg, nsamples=1000)
        got = ours.shap_values(xs)
        ref = np.asarray(ref)
        assert got.shape == ref.shape == (4, 6, 2)
        assert np.max(np.abs(got - ref)) <= 1e-9
        np.testing.assert_allclose(ours.expected_value, model.predict_proba(bg).mean(axis=0), atol=1e-12)


def test_single_output_callable_and_logit_link(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    f = lambda a: model.predict_proba(a)[:, 1]  # noqa: E731
    bg = X[:15]
    ref = shap.KernelExplainer(f, bg, link="logit").shap_values(X[200], nsamples=1000, silent=True)
    e = bs.KernelExplainer(f, bg, link="logit")(X[200])
    assert e.values.shape == (6,)
    assert np.max(np.abs(e.values - ref)) <= 1e-9
    # Efficiency: the values add up to link(f(x)) - E.
    p = f(X[200:201])[0]
    assert e.base_values + e.values.sum() == pytest.approx(np.log(p / (1 - p)), abs=1e-9)


def test_tree_explainer_equals_exact_kernel_on_our_forest(data):
    X, y = data
    m = bs.RandomForestClassifier(n_trees=25, seed=3).fit(X, y)
    bg = X[:30]
    tree = bs.TreeExplainer(m, bg).explain(X[50:55])
    kern = bs.KernelExplainer(m, bg).explain(X[50:55])
    assert np.max(np.abs(tree.values - kern.values)) <= 1e-9
    # Our forest through a callable gives the same values as the tree path.
    call = bs.KernelExplainer(m.predict_proba, bg).explain(X[50:55])
    assert np.max(np.abs(call.values - kern.values)) <= 1e-9
    assert tree.values.shape == (5, 6, 2)
    np.testing.assert_allclose(tree.base_values[:, 1] + tree.values[:, :, 1].sum(axis=1), m.predict_proba(X[50:55])[:, 1], atol=1e-12)


def test_explanation_plots_and_pickle(data):
    X, y = data
    m = bs.RandomForestRegressor(n_trees=10, seed=0).fit(X, y.astype(float))
    ex = bs.TreeExplainer(m, X[:20], feature_names=[f"f{i}" for i in range(6)])
    e = ex(X[:8])
    assert e.feature_names == ["f0", "f1", "f2", "f3", "f4", "f5"]
    assert e.values.shape == (8, 6)
    for kind in ["waterfall", "force", "bar", "beeswarm"]:
        assert e.to_svg(kind).lstrip().startswith("<svg")
    assert e[0]._repr_svg_().lstrip().startswith("<svg")
    with pytest.raises(bs.ParamError):
        e.to_svg("pie")
    back = pickle.loads(pickle.dumps(e))
    np.testing.assert_array_equal(back.values, e.values)
    ex2 = pickle.loads(pickle.dumps(ex))
    np.testing.assert_array_equal(ex2(X[:8]).values, e.values)
    k = bs.KernelExplainer(m, X[:20], nsamples=200, seed=4)
    k2 = pickle.loads(pickle.dumps(k))
    np.testing.assert_array_equal(k2.shap_values(X[:3]), k.shap_values(X[:3]))


def test_callable_errors_are_reraised(data):
    X, _ = data
    calls = {"n": 0}

    def flaky(a):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyError("model broke")
        return a.sum(axis=1)

    ex = bs.KernelExplainer(flaky, X[:5])
    with pytest.raises(KeyError, match="model broke"):
        ex.explain(X[10])
    with pytest.raises(ValueError, match="rows"):
        bs.KernelExplainer(lambda a: np.zeros(3), X[:5]).explain(X[10])
    with pytest.raises(TypeError):
        bs.KernelExplainer(42, X[:5])
    with pytest.raises(bs.ExplainError):
        bs.KernelExplainer(lambda a: a.sum(axis=1), X[:5]).explain(X[10, :3])
    bad = X[:5].copy()
    bad[0, 0] = np.nan
    with pytest.raises(bs.ExplainError) as e:
        bs.KernelExplainer(lambda a: a.sum(axis=1), bad)
    assert e.value.code == "explain_non_finite"


def test_lime_is_seeded_and_pickles(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    lime = bs.LimeTabularExplainer(X, mode="classification", num_samples=500, seed=7)
    a = lime.explain_instance(X[3], model.predict_proba)
    b = lime.explain_instance(X[3], model.predict_proba)
    assert a.as_list() == b.as_list()
    assert len(a.as_list()) == 6
    assert a.to_svg().lstrip().startswith("<svg")
    lime2 = pickle.loads(pickle.dumps(lime))
    assert lime2.explain_instance(X[3], model.predict_proba).as_list() == a.as_list()
    ours = bs.RandomForestClassifier(n_trees=10).fit(X, y)
    assert len(lime.explain_instance(X[3], ours).as_list()) == 6


def test_lime_explain_instances_equals_seeded_explain_instance(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    ours = bs.RandomForestClassifier(n_trees=10).fit(X, y)
    lime = bs.LimeTabularExplainer(X, mode="classification", num_samples=400, seed=7)
    for predict in (model.predict_proba, ours):
        many = lime.explain_instances(X[:4], predict)
        assert len(many) == 4
        for i, e in enumerate(many):
            single = bs.LimeTabularExplainer(X, mode="classification", num_samples=400, seed=7 + i)
            assert e.as_list() == single.explain_instance(X[i], predict).as_list()
    assert lime.explain_instances(X[:0], model.predict_proba) == []
    with pytest.raises(bs.ExplainError):
        lime.explain_instances(X[:2, :3], model.predict_proba)


@pytest.mark.parametrize("r", [4, 8, 12])
def test_l1_reg_num_features_equals_shap(r):
    """shap's default selection `l1_reg="num_features(r)"` (LARS) on a 12-feature model, every coalition
    enumerated on both sides (nsamples = 2^12 - 2), so the values must agree to rounding."""
    rng = np.random.default_rng(3)
    m = 12
    coef = rng.normal(size=m)

    def f(x):
        x = np.asarray(x, dtype=float)
        return x @ coef + 0.3 * x[:, 0] * x[:, 1] - 0.2 * np.sin(x[:, 5] * x[:, 7])

    bg = rng.normal(size=(4, m))
    xs = rng.normal(size=(3, m))
    n = 2**m - 2
    ref = shap.KernelExplainer(f, bg).shap_values(xs, nsamples=n, l1_reg=f"num_features({r})", silent=True)
    ours = bs.KernelExplainer(f, bg, nsamples=n, l1_reg=f"num_features({r})").shap_values(xs)
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=1e-9)
    assert ((ours != 0).sum(axis=1) <= r).all()
    # Efficiency holds whatever is selected.
    ev = bs.KernelExplainer(f, bg, nsamples=n, l1_reg=f"num_features({r})").expected_value
    np.testing.assert_allclose(ours.sum(axis=1), f(xs) - ev, atol=1e-9)
    # No selection is shap's l1_reg=False.
    ref_all = shap.KernelExplainer(f, bg).shap_values(xs, nsamples=n, l1_reg=False, silent=True)
    np.testing.assert_allclose(bs.KernelExplainer(f, bg, nsamples=n, l1_reg=False).shap_values(xs), ref_all,
                               rtol=1e-7, atol=1e-9)
    with pytest.raises(bs.ParamError):
        bs.KernelExplainer(f, bg, l1_reg="auto")


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_l1_reg_aic_bic_equals_shap(criterion):
    """shap's `l1_reg="aic"`/`"bic"` (LassoLarsIC after StandardScaler) with every coalition enumerated: the
    same features are dropped (exact zeros) and the rest agree to rounding."""
    rng = np.random.default_rng(4)
    m = 8

    def f(x):
        x = np.asarray(x, dtype=float)
        return 2 * x[:, 0] * x[:, 1] + np.sin(3 * x[:, 2]) + 0.8 * x[:, 4] ** 2 + 1e-3 * x[:, 3] + 1e-5 * x[:, 7]

    bg = rng.normal(size=(10, m))
    xs = rng.normal(size=(3, m))
    ref = shap.KernelExplainer(f, bg).shap_values(xs, l1_reg=criterion, silent=True)
    ours = bs.KernelExplainer(f, bg, l1_reg=criterion).shap_values(xs)
    np.testing.assert_array_equal(ours == 0, ref == 0)
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=1e-9)


def test_lime_entropy_discretiser_and_lasso_path(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    with pytest.raises(bs.ExplainError):
        bs.LimeTabularExplainer(X, mode="classification", discretizer="entropy")
    with pytest.raises(ValueError):
        bs.LimeTabularExplainer(X, mode="regression", discretizer="entropy", training_labels=X[:, 0])
    lime = bs.LimeTabularExplainer(X, mode="classification", training_labels=y, discretizer="entropy",
                                   feature_selection="lasso_path", num_features=3, num_samples=500, seed=1)
    e = lime.explain_instance(X[3], model.predict_proba)
    assert 1 <= len(e.as_list()) <= 3
    # The bins are lime's EntropyDiscretizer thresholds.
    lime_tabular = pytest.importorskip("lime.lime_tabular")
    ref = lime_tabular.LimeTabularExplainer(X, mode="classification", training_labels=y, discretizer="entropy",
                                            random_state=0)
    state, _mode = json.loads(lime.__getstate__())
    for j in range(X.shape[1]):
        np.testing.assert_allclose(state["bins"][j]["cuts"], ref.discretizer.mins[j][1:], rtol=0, atol=1e-12)


def _shap_dict_model(forest):
    """Our forest (its compact JSON model format: preorder nodes, `children_right` per node, split arrays for
    internal nodes, values and covers for leaves) as shap's custom tree-ensemble dict, so that
    shap.TreeExplainer explains the very same trees. Internal nodes get covers summed from their children and
    cover-weighted mean values (shap reads the root's for its expected value)."""
    trees = json.loads(forest.to_json())["model"]["trees"]
    out = []
    for t in trees:
        right = t["children_right"]
        n, d = len(right), t["n_outputs"]
        left = [-1 if r == -1 else i + 1 for i, r in enumerate(right)]
        feat, thr = np.full(n, -2, dtype=np.int32), np.full(n, -2.0)
        values, cover = np.zeros((n, d)), np.zeros(n)
        leaf_values = np.asarray(t["leaf_value"], dtype=float).reshape(-1, d)
        ki = kl = 0
        for i in range(n):
            if right[i] == -1:
                values[i], cover[i] = leaf_values[kl], t["leaf_weighted_n_node_samples"][kl]
                kl += 1
            else:
                feat[i], thr[i] = t["feature"][ki], t["threshold"][ki]
                ki += 1
        for i in reversed(range(n)):  # children come after their parent in preorder
            if right[i] != -1:
                a, b = left[i], right[i]
                cover[i] = cover[a] + cover[b]
                values[i] = (cover[a] * values[a] + cover[b] * values[b]) / cover[i]
        out.append({
            "children_left": np.asarray(left, dtype=np.int32),
            "children_right": np.asarray(right, dtype=np.int32),
            "children_default": np.asarray(right, dtype=np.int32),
            "features": feat,
            "thresholds": thr,
            "values": values / len(trees),
            "node_sample_weight": cover,
        })
    return {"trees": out, "base_offset": 0.0}


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_tree_path_dependent_equals_shap_on_our_forest(data, kind):
    X, y = data
    if kind == "regressor":
        m = bs.RandomForestRegressor(n_trees=8, max_depth=6, seed=2).fit(X, y.astype(float))
    else:
        m = bs.RandomForestClassifier(n_trees=8, max_depth=6, seed=2).fit(X, y)
    ex = bs.TreeExplainer(m)  # no data: tree_path_dependent, as shap
    assert ex.feature_perturbation == "tree_path_dependent"
    xs = X[60:66]
    phi = ex.shap_values(xs)
    iv = ex.shap_interaction_values(xs)
    out = m.predict(xs) if kind == "regressor" else m.predict_proba(xs)
    # Efficiency, and interaction rows add up to the SHAP values.
    np.testing.assert_allclose(np.asarray(ex.expected_value) + phi.sum(axis=1), out, atol=1e-9)
    np.testing.assert_allclose(iv.sum(axis=2), phi, atol=1e-9)
    ref = shap.TreeExplainer(_shap_dict_model(m))
    assert ref.feature_perturbation == "tree_path_dependent"
    ref_phi = np.asarray(ref.shap_values(xs, check_additivity=False)).reshape(phi.shape)
    ref_iv = np.asarray(ref.shap_interaction_values(xs)).reshape(iv.shape)
    assert np.max(np.abs(phi - ref_phi)) <= 1e-9
    assert np.max(np.abs(iv - ref_iv)) <= 1e-9
    np.testing.assert_allclose(np.asarray(ref.expected_value).reshape(-1), np.atleast_1d(ex.expected_value), atol=1e-9)


def test_tree_perturbation_is_validated(data):
    X, y = data
    m = bs.RandomForestRegressor(n_trees=3, seed=0).fit(X, y.astype(float))
    assert bs.TreeExplainer(m, X[:10]).feature_perturbation == "interventional"
    with pytest.raises(bs.ParamError):
        bs.TreeExplainer(m, feature_perturbation="interventional")
    with pytest.raises(bs.ParamError):
        bs.TreeExplainer(m, X[:10], feature_perturbation="tree_path_dependent")
    with pytest.raises(ValueError):
        bs.TreeExplainer(m, feature_perturbation="causal")
    with pytest.raises(bs.ParamError):
        bs.TreeExplainer(m, X[:10]).shap_interaction_values(X[:2])
    ex = pickle.loads(pickle.dumps(bs.TreeExplainer(m, feature_perturbation="tree_path_dependent")))
    assert ex.shap_interaction_values(X[0]).shape == (6, 6)
