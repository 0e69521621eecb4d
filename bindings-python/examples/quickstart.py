# %% [markdown]
# # BattSentinel quickstart
#
# Read a cycler export, compute per-cycle health, fit a fault model, explain it, simulate the cell and raise
# alerts — all from Python, on the Rust core. Run with `python bindings-python/examples/quickstart.py` (CI runs
# it), or open it as a notebook (percent format).

# %%
from pathlib import Path

import numpy as np

import battsentinel as bs


def shared_data() -> Path:
    here = Path(__file__).resolve().parent
    for d in [here, *here.parents]:
        if (d / "shared" / "data").is_dir():
            return d / "shared" / "data"
    raise SystemExit("shared/data not found")


DATA = shared_data()

# %% [markdown]
# ## Read any cycler export
# The format is detected; units become SI and current is positive on discharge. The quality report says what
# was dropped or repaired.

# %%
log = bs.read(DATA / "cyclers" / "arbin_example.csv")
print(log)
print("quality:", log.quality["rows_read"], "rows read,", log.quality["rows_kept"], "kept")
df = log.to_pandas()
print(df[["time_s", "voltage_v", "current_a"]].describe().loc[["min", "max"]])

# %% [markdown]
# ## Per-cycle health

# %%
summary = bs.cycle_summary(log)
print(summary[["cycle", "discharge_capacity_ah", "coulombic_efficiency", "voltage_max_v", "temperature_max_c"]])

# %% [markdown]
# ## A fault model with scikit-learn conventions, explained with Kernel SHAP

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 4))  # e.g. capacity fade, DCIR rise, temperature spread, voltage noise
y = ((X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2]) > 0.2).astype(int)
model = bs.RandomForestClassifier(n_trees=50, seed=0).fit(X[:300], y[:300])
print("accuracy:", round(model.score(X[300:], y[300:]), 3))

explainer = bs.KernelExplainer(model, X[:50], feature_names=["fade", "dcir", "t_spread", "v_noise"])
explanation = explainer(X[300:305])
print("SHAP values of the first row (class 1):", np.round(explanation.values[0, :, 1], 4))
svg = explanation[0].to_svg("waterfall", output=1)
print("waterfall plot:", len(svg), "bytes of SVG")

# %% [markdown]
# ## The digital twin

# %%
cell = bs.CellParams.ecm_example()
trace = bs.simulate(cell, {"initial": {"soc": 0.9}, "steps": [{"kind": "cc", "current_a": 100.0, "duration_s": 3600.0}]})
print("1C discharge ends at", trace["time_s"].iloc[-1], "s,", round(trace["voltage_V"].iloc[-1], 3), "V:", trace.attrs["end_reason"])

# %% [markdown]
# ## Alerts

# %%
engine = bs.AlertEngine(bs.RuleSet.default("lfp"))
events = engine.evaluate(log)
print(len(events), "alert events;", engine.stats["samples"], "samples evaluated")
