"""Analyse a folder of cycler files on a Dask cluster with 2 workers.

Run with: python bindings-python/examples/fleet_dask.py [FOLDER]   (default: shared/data/cyclers)

Each worker reads one file with `battsentinel.read`, computes its per-cycle summary and scores every cycle
with an isolation forest trained once on the client: the model travels to the workers by pickle (the core's
JSON model format), and so do the results.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from dask.distributed import Client, LocalCluster

import battsentinel as bs

FEATURES = ["discharge_capacity_ah", "voltage_max_v", "voltage_min_v", "duration_s"]


def shared_data() -> Path:
    here = Path(__file__).resolve().parent
    for d in [here, *here.parents]:
        if (d / "shared" / "data").is_dir():
            return d / "shared" / "data"
    raise SystemExit("shared/data not found")


def analyse(path: str, model: bs.IsolationForest) -> dict:
    """One file → a row of the fleet table (errors are reported, not raised)."""
    try:
        log = bs.read(path)
        summary = bs.cycle_summary(log)
    except bs.BattSentinelError as e:
        return {"file": Path(path).name, "error": f"{type(e).__name__}: {e.code}"}
    x = summary[FEATURES].fillna(0.0).to_numpy()
    scores = model.score_samples(x)
    return {
        "file": Path(path).name,
        "format": log.meta["format"],
        "rows": len(log),
        "cycles": len(summary),
        "max_discharge_ah": float(np.nanmax(q)) if np.isfinite(q := summary["discharge_capacity_ah"].to_numpy()).any() else float("nan"),
        "worst_anomaly_score": float(scores.min()) if len(scores) else float("nan"),
        "error": None,
    }


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data() / "cyclers"
    files = sorted(str(p) for p in folder.iterdir() if p.is_file() and not p.name.endswith("_Metadata.csv"))
    rng = np.random.default_rng(0)
    healthy = np.column_stack([rng.normal(2.0, 0.05, 500), rng.normal(3.6, 0.01, 500), rng.normal(2.5, 0.02, 500), rng.normal(7000, 300, 500)])
    model = bs.IsolationForest(n_trees=100, seed=0).fit(healthy)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        model_future = client.scatter(model, broadcast=True)
        futures = client.map(analyse, files, model=model_future)
        table = pd.DataFrame(client.gather(futures))
    pd.set_option("display.width", 160)
    print(table.to_string(index=False))
    ok = table["error"].isna().sum()
    print(f"{ok} of {len(table)} files analysed on 2 Dask workers")
    if ok == 0:
        raise SystemExit("no file could be analysed")


if __name__ == "__main__":
    main()
