"""Generates the libsvm reference for the SVM solver (battsentinel-core/tests/data/svm/libsvm_reference.json):
scikit-learn's SVC (C-SVC, one-vs-one decision values) and OneClassSVM fitted on a small seeded
make_classification set, with their decision values on held-out rows, support-vector counts and SMO
iteration counts. The solver tolerance is tight (TOL) so that both sides reach the optimum itself, not
two different points within libsvm's default 1e-3 of it. The committed JSON is the reference; CI does not need scikit-learn.

    python benches/python/gen_svm_reference.py      (a venv with numpy and scikit-learn)
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.svm import SVC, OneClassSVM

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "battsentinel-core" / "tests" / "data" / "svm" / "libsvm_reference.json"
TOL = 1e-7


def main():
    x, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_redundant=1, n_classes=3,
                               n_clusters_per_class=1, class_sep=1.0, flip_y=0.03, random_state=7)
    xtr, ytr, xte = x[:300], y[:300], x[300:]
    cases = {"sklearn": sklearn.__version__, "x_train": xtr.tolist(), "y_train": ytr.tolist(),
             "x_test": xte.tolist(), "tol": TOL, "svc": [], "one_class": []}
    for kernel, params in [("rbf", {"gamma": 0.2}), ("linear", {}), ("poly", {"gamma": 1.0, "coef0": 1.0,
                                                                             "degree": 2})]:
        for c in [0.5, 10.0]:
            m = SVC(C=c, kernel=kernel, decision_function_shape="ovo", tol=TOL, **params).fit(xtr, ytr)
            cases["svc"].append({"kernel": kernel, **params, "C": c,
                                 "decision": m.decision_function(xte).tolist(),
                                 "predict": m.predict(xte).tolist(),
                                 "n_support": int(m.n_support_.sum()), "n_iter": [int(v) for v in m.n_iter_]})
    for nu in [0.05, 0.3]:
        m = OneClassSVM(nu=nu, gamma=0.2, kernel="rbf", tol=TOL).fit(xtr)
        cases["one_class"].append({"nu": nu, "gamma": 0.2, "decision": m.decision_function(xte).tolist(),
                                   "n_support": int(m.n_support_.sum())})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, separators=(",", ":")))
    print("wrote", OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
