"""Reference JSON for LIME's entropy discretiser and `lasso_path` feature selection (lime 0.2.0.1) and Kernel
SHAP's `l1_reg="aic"`/`"bic"` (shap 0.51.0, scikit-learn 1.9.1) -> battsentinel-core/tests/data/xai_extra/.

Inputs come from shared/reference/xai/cases (case J's training data and saved neighbourhoods, case B's
background and instances), so only the results (and a small synthetic entropy data set) are written.

Run in a venv with numpy, scikit-learn, shap==0.51.0 and lime==0.2.0.1 (not CI requirements: the committed
JSON is the reference):  python benches/python/gen_xai_l1_entropy_cases.py
"""

import json
import pathlib
import sys
import warnings

import lime
import numpy as np
import shap
import sklearn
from lime.lime_base import LimeBase
from lime.lime_tabular import LimeTabularExplainer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "battsentinel-core" / "tests" / "data" / "xai_extra"
CASES = pathlib.Path("/work/shared/reference/xai/cases")


def csv(path):
    names = open(path).readline().strip().split(",")
    return names, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def fn_b(z):
    return (z[:, 0] * z[:, 1] + np.sin(z[:, 2]) + np.maximum(z[:, 3], 0) * z[:, 4] + 0.5 * z[:, 5] ** 2
            - 0.3 * z[:, 6] + np.exp(-z[:, 7] ** 2))


def fn_h(z):
    """Two outputs; features 3, 5 and 7 have effects small against the interactions (AIC/BIC drop some)."""
    a = 2.0 * z[:, 0] * z[:, 1] + np.sin(3.0 * z[:, 2]) + 1e-3 * z[:, 3] + 0.8 * z[:, 4] ** 2 \
        + 1e-4 * z[:, 5] * z[:, 6] + 0.02 * z[:, 6] + 1e-5 * z[:, 7]
    b = np.tanh(z[:, 0] + z[:, 2]) * z[:, 4] + 0.05 * z[:, 1] - 2e-3 * z[:, 7] ** 2
    return np.stack([a, b], axis=1)


def discretizer_stats(d, names):
    out = {}
    for j, name in enumerate(names):
        out[name] = {
            "cuts": [float(v) for v in d.mins[j][1:]],
            "means": [float(v) for v in d.means[j]],
            "stds": [float(v) for v in d.stds[j]],
            "mins": [float(v) for v in d.mins[j]],
            "maxs": [float(v) for v in d.maxs[j]],
            "names": d.names[j],
        }
    return out


def entropy_case():
    names, train = csv(CASES / "J_lime_tabular_M8" / "training_data.csv")
    y = fn_b(train)
    labels_j = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3])).astype(float)  # 3 classes
    ex = LimeTabularExplainer(train, mode="classification", training_labels=labels_j, feature_names=names,
                              discretizer="entropy", random_state=0)
    case_j = {
        "labels": [int(v) for v in labels_j],
        "stats": discretizer_stats(ex.discretizer, names),
        "feature_values": {names[j]: [int(v) for v in ex.feature_values[j]] for j in range(len(names))},
        "feature_frequencies": {names[j]: [float(v) for v in ex.feature_frequencies[j]] for j in range(len(names))},
    }
    # Synthetic: heavy ties (rounded values), values that round in float32, near-duplicates closer than the
    # tree's 1e-7 feature threshold, a constant column and a column that no split can separate.
    rng = np.random.default_rng(5)
    n = 120
    f0 = np.round(rng.normal(size=n) * 3.0)
    f1 = rng.normal(size=n) * 0.1 + 0.1234567891234
    f2 = 0.25 + np.where(rng.random(n) < 0.5, 0.0, 3e-8) + np.round(rng.random(n) * 4) * 1e-3
    f3 = np.full(n, 2.5)
    f4 = rng.random(n)
    x = np.stack([f0, f1, f2, f3, f4], axis=1)
    labels = ((f0 > 0).astype(int) + (f1 > 0.12).astype(int) * 2 + (rng.random(n) < 0.1)).astype(float)
    snames = [f"s{j}" for j in range(x.shape[1])]
    ex2 = LimeTabularExplainer(x, mode="regression", training_labels=labels, feature_names=snames,
                               discretizer="entropy", random_state=0)
    synth = {
        "data": x.tolist(),
        "labels": [int(v) for v in labels],
        "stats": discretizer_stats(ex2.discretizer, snames),
    }
    doc = {
        "case_j": case_j,
        "synthetic": synth,
        "source": f"lime {lime.__version__ if hasattr(lime, '__version__') else '0.2.0.1'} "
                  f"LimeTabularExplainer(..., training_labels, discretizer='entropy', random_state=0), "
                  f"sklearn {sklearn.__version__}",
    }
    (OUT / "lime_entropy.json").write_text(json.dumps(doc, separators=(",", ":")))


def lasso_path_case():
    d = CASES / "J_lime_tabular_M8"
    names, train = csv(d / "training_data.csv")
    kw = 0.75 * np.sqrt(train.shape[1])
    results = {}
    for nf_file in (4, 10):
        _, binary = csv(d / f"neighbourhood_binary_nf{nf_file}.csv")
        _, lw = csv(d / f"neighbourhood_labels_weights_nf{nf_file}.csv")
        labels = lw[:, :1]
        distances = lw[:, 1]
        base = LimeBase(lambda dd: np.sqrt(np.exp(-(dd ** 2) / kw ** 2)), verbose=False)
        for nf in (1, 2, 3, 5, 8):
            intercept, local_exp, score, local_pred = base.explain_instance_with_data(
                binary, labels, distances, 0, nf, feature_selection="lasso_path")
            w = base.kernel_fn(distances)
            used = base.feature_selection(binary, labels[:, 0], w, nf, "lasso_path")
            results[f"nb{nf_file}_nf{nf}"] = {
                "used_features": [int(v) for v in used],
                "intercept": float(intercept),
                "local_exp": [[int(a), float(b)] for a, b in local_exp],
                "score": float(score),
                "local_pred": float(np.ravel(local_pred)[0]),
            }
    doc = {"results": results,
           "source": "lime 0.2.0.1 LimeBase.explain_instance_with_data(..., feature_selection='lasso_path') on "
                     "case J's saved neighbourhoods"}
    (OUT / "lime_lasso_path.json").write_text(json.dumps(doc, separators=(",", ":")))


def kernel_case():
    _, bg = csv(CASES / "B_nonlinear_fn_M8" / "background.csv")
    _, xs = csv(CASES / "B_nonlinear_fn_M8" / "instances.csv")
    out = {}
    for fname, f in (("b", lambda z: fn_b(z)), ("h", fn_h)):
        for crit in ("aic", "bic"):
            ex = shap.KernelExplainer(f, bg)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sv = ex.shap_values(xs, nsamples="auto", l1_reg=crit, silent=True)
            sv = np.asarray(sv)
            if sv.ndim == 2:
                sv = sv[:, :, None]
            out[f"{fname}_{crit}"] = {
                "expected_value": np.atleast_1d(ex.expected_value).tolist(),
                "shap_values": sv.tolist(),  # [instance][feature][output]
            }
            zeros = int((sv == 0).sum())
            print(fname, crit, "exact zeros:", zeros, file=sys.stderr)
    doc = {"cases": out,
           "source": f"shap {shap.__version__} KernelExplainer(f, case B background).shap_values(case B instances, "
                     f"nsamples='auto', l1_reg=aic|bic), sklearn {sklearn.__version__}"}
    (OUT / "kernel_shap_l1_ic.json").write_text(json.dumps(doc, separators=(",", ":")))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    entropy_case()
    lasso_path_case()
    kernel_case()


if __name__ == "__main__":
    main()
