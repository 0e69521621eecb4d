"""Python anchor for benches/explain.rs: same model, same data, timed with shap / lime / scikit-learn.

Writes into OUT_DIR (argv[1]):
  forest.json      100-tree RandomForestRegressor (max_depth 8, random_state 0) in the reference JSON format
  background.csv   100 background rows (battery_dataset rows 0..100, the 10 features)
  instances.csv    100 instances (rows 100..200)
  anchor.json      seconds per instance for shap.KernelExplainer (forest, and a zero-cost model),
                   shap.TreeExplainer (interventional), lime (5000 samples, case J), plus TreeExplainer
                   values of the first instances for a cross-check.
Run with the venv /work/venvs/explain (shap, lime, scikit-learn, numpy).
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
import shap
from lime.lime_tabular import LimeTabularExplainer
from sklearn.ensemble import RandomForestRegressor

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = HERE
while not os.path.isdir(os.path.join(ROOT, "shared", "reference", "xai")):
    parent = os.path.dirname(ROOT)
    if parent == ROOT:
        sys.exit("shared/reference/xai not found")
    ROOT = parent
XAI = os.path.join(ROOT, "shared", "reference", "xai")
OUT = sys.argv[1] if len(sys.argv) > 1 else "target/explain_bench"
N_KERNEL = int(os.environ.get("EXPLAIN_ANCHOR_KERNEL_INSTANCES", "5"))
os.makedirs(OUT, exist_ok=True)

df = pd.read_csv(os.path.join(XAI, "battery_dataset.csv"))
features = ["cycle_count", "temp_mean_c", "charge_c_rate", "depth_of_discharge", "internal_resistance_mohm",
            "voltage_mean_v", "current_mean_a", "soc_mean", "ambient_temp_c", "calendar_age_days"]
X = df[features].to_numpy(dtype=np.float64)
y = df["soh_pct"].to_numpy(dtype=np.float64)
rf = RandomForestRegressor(n_estimators=100, max_depth=8, random_state=0, n_jobs=1).fit(X, y)


def export_tree(est):
    t = est.tree_
    nodes = []
    for i in range(t.node_count):
        leaf = t.children_left[i] == -1
        nodes.append({"id": i, "feature": -1 if leaf else int(t.feature[i]),
                      "threshold": None if leaf else float(t.threshold[i]),
                      "left": int(t.children_left[i]), "right": int(t.children_right[i]),
                      "value": float(t.value[i][0][0]), "n_node_samples": int(t.n_node_samples[i])})
    return {"root": 0, "nodes": nodes}


with open(os.path.join(OUT, "forest.json"), "w") as f:
    json.dump({"type": "random_forest_regressor", "features": features,
               "trees": [export_tree(e) for e in rf.estimators_]}, f)
bg, xs = X[:100], X[100:200]
pd.DataFrame(bg, columns=features).to_csv(os.path.join(OUT, "background.csv"), index=False, float_format="%.17g")
pd.DataFrame(xs, columns=features).to_csv(os.path.join(OUT, "instances.csv"), index=False, float_format="%.17g")

res = {"n_kernel_instances": N_KERNEL}
ke = shap.KernelExplainer(rf.predict, bg)
t0 = time.perf_counter()
ke.shap_values(xs[:N_KERNEL], nsamples="auto", l1_reg=False, silent=True)
res["kernel_forest_s_per_instance"] = (time.perf_counter() - t0) / N_KERNEL

zero = shap.KernelExplainer(lambda a: np.zeros(a.shape[0]), bg)
n0 = 20
t0 = time.perf_counter()
zero.shap_values(xs[:n0], nsamples="auto", l1_reg=False, silent=True)
res["kernel_zero_model_s_per_instance"] = (time.perf_counter() - t0) / n0

te = shap.TreeExplainer(rf, data=bg, feature_perturbation="interventional")
t0 = time.perf_counter()
tv = te.shap_values(xs, check_additivity=False)
res["tree_interventional_s_per_instance"] = (time.perf_counter() - t0) / len(xs)
res["tree_expected_value"] = float(np.ravel(te.expected_value)[0])
res["tree_values_first3"] = np.asarray(tv)[:3].tolist()

# LIME on case J (same function as the Rust bench), 5000 samples.
train = pd.read_csv(os.path.join(XAI, "cases", "J_lime_tabular_M8", "training_data.csv"))
inst = pd.read_csv(os.path.join(XAI, "cases", "J_lime_tabular_M8", "instance.csv")).to_numpy()[0]


def fj(z):
    return (z[:, 0] * z[:, 1] + np.sin(z[:, 2]) + np.maximum(z[:, 3], 0) * z[:, 4] + 0.5 * z[:, 5] ** 2
            - 0.3 * z[:, 6] + np.exp(-z[:, 7] ** 2))


le = LimeTabularExplainer(train.to_numpy(), mode="regression", feature_names=list(train.columns), random_state=0)
nl = 10
t0 = time.perf_counter()
for _ in range(nl):
    le.explain_instance(inst, fj, num_features=10, num_samples=5000)
res["lime_s_per_instance"] = (time.perf_counter() - t0) / nl

with open(os.path.join(OUT, "anchor.json"), "w") as f:
    json.dump(res, f, indent=1)
print(json.dumps({k: v for k, v in res.items() if not k.startswith("tree_values")}, indent=1))
