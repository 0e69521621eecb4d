"""Generates the reference JSON for path-dependent TreeSHAP and SHAP interaction values
(battsentinel-core/tests/data/xai_extra/; LIME's entropy discretiser / lasso_path and Kernel SHAP's l1_reg
aic/bic come from the sibling gen_xai_l1_entropy_cases.py).

Run in a venv with numpy, scikit-learn, shap==0.51.0 and lime (lime is not a CI requirement: the committed
JSON is the reference):  python benches/python/gen_xai_extra_cases.py
"""

import itertools
import json
import math
import pathlib
import sys

import numpy as np
import shap
import sklearn
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "battsentinel-core" / "tests" / "data" / "xai_extra"
DATA = pathlib.Path("/work/shared/reference/xai/battery_dataset.csv")


def load():
    names = open(DATA).readline().strip().split(",")
    arr = np.loadtxt(DATA, delimiter=",", skiprows=1)
    return names, arr


def tree_json(est, classifier):
    t = est.tree_
    nodes = []
    for i in range(t.node_count):
        v = t.value[i, 0, :] if classifier else t.value[i, 0, 0]
        if classifier:
            v = (v / v.sum()).tolist()
        else:
            v = float(v)
        leaf = t.children_left[i] == -1
        nodes.append({
            "id": i,
            "feature": -1 if leaf else int(t.feature[i]),
            "threshold": None if leaf else float(t.threshold[i]),
            "left": int(t.children_left[i]),
            "right": int(t.children_right[i]),
            "value": v,
            "n_node_samples": float(t.weighted_n_node_samples[i]),
        })
    return {"root": 0, "nodes": nodes}


def brute_force(model, x, m):
    """Exact Shapley values of the path-dependent game v(S) = E[f | x_S] (cover-weighted), from the definition."""
    def v_tree(t, s):
        def go(i, w):
            if t.children_left[i] == -1:
                return w * t.value[i, 0, :] / t.value[i, 0, :].sum() if t.value.shape[2] > 1 else w * t.value[i, 0, :]
            f = t.feature[i]
            l, r = t.children_left[i], t.children_right[i]
            if f in s:
                return go(l if x[f] <= t.threshold[i] else r, w)
            c = t.weighted_n_node_samples
            return go(l, w * c[l] / c[i]) + go(r, w * c[r] / c[i])
        return go(0, 1.0)

    def v(s):
        return sum(v_tree(e.tree_, s) for e in model.estimators_) / len(model.estimators_)

    cache = {}
    for k in range(m + 1):
        for s in itertools.combinations(range(m), k):
            cache[frozenset(s)] = v(set(s))
    phi = np.zeros((m, len(cache[frozenset()])))
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for k in range(m):
            w = math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)
            for s in itertools.combinations(others, k):
                s = frozenset(s)
                phi[i] += w * (cache[s | {i}] - cache[s])
    return phi, cache[frozenset()]


def shap_case(name, model, X, xs, classifier):
    m = X.shape[1]
    ex = shap.TreeExplainer(model)  # feature_perturbation="tree_path_dependent" (no data)
    assert ex.feature_perturbation == "tree_path_dependent"
    sv = np.asarray(ex.shap_values(xs, check_additivity=True))
    iv = np.asarray(ex.shap_interaction_values(xs))
    ev = np.atleast_1d(np.asarray(ex.expected_value, dtype=float))
    d = len(ev)
    sv = sv.reshape(len(xs), m, d)
    iv = iv.reshape(len(xs), m, m, d)
    worst_bf = 0.0
    for i, x in enumerate(xs):
        phi, e0 = brute_force(model, x, m)
        worst_bf = max(worst_bf, float(np.abs(phi - sv[i]).max()), float(np.abs(e0 - ev).max()))
    trees = [tree_json(e, classifier) for e in model.estimators_]
    kind = "random_forest_classifier" if classifier else "random_forest_regressor"
    doc = {
        "model": {"type": kind, "features": [f"f{j}" for j in range(m)], "trees": trees},
        "instances": xs.tolist(),
        "expected_value": ev.tolist(),
        "shap_values": sv.tolist(),  # [instance][feature][output]
        "interaction_values": iv.tolist(),  # [instance][feature][feature][output]
        "checks": {"max_abs_shap_vs_brute_force": worst_bf},
        "source": f"shap {shap.__version__} TreeExplainer(model) (tree_path_dependent), sklearn {sklearn.__version__}",
    }
    (OUT / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")))
    print(name, "brute force vs shap:", worst_bf, file=sys.stderr)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    names, arr = load()
    X = arr[:400, :6]
    soh = arr[:400, 10]
    cls = arr[:400, 11].astype(int)
    xs = arr[600:612, :6]
    reg = RandomForestRegressor(n_estimators=4, max_depth=6, min_samples_leaf=4, random_state=0).fit(X, soh)
    shap_case("tree_path_dependent_regressor", reg, X, xs, False)
    clf = RandomForestClassifier(n_estimators=3, max_depth=5, min_samples_leaf=4, random_state=1).fit(X[:, :5], cls)
    shap_case("tree_path_dependent_classifier", clf, X[:, :5], xs[:, :5], True)


if __name__ == "__main__":
    main()
