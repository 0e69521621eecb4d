"""Reference weights for the MLP unit test `adam_epochs_match_sklearn` (battsentinel-core/src/models/mlp).

Three full-batch Adam epochs (learning rate 0.01, alpha 0.1) of scikit-learn's MLPRegressor from fixed
weights, on a fixed 6 x 3 problem; prints the weights after training. The Rust test builds the same network
with the same formulas and checks that its `train` ends at the same weights (to 1e-12).
Run: /work/venvs/models/bin/python benches/python/mlp_update_reference.py
"""
import warnings

import numpy as np
from sklearn.neural_network import MLPRegressor

warnings.filterwarnings("ignore")  # ConvergenceWarning after 3 epochs is expected
N, P = 6, 3
X = np.array([[((i * 5 + f * 3) % 7 - 3) / 3 for f in range(P)] for i in range(N)])
Y = np.array([(i % 4) * 0.5 - 0.7 for i in range(N)])


def reference_layer(n_in, n_out, li):
    w = np.array([[((k * 7 + j * 3 + li) % 11 - 5) / 10 for j in range(n_out)] for k in range(n_in)])
    b = np.array([((j * 5 + li) % 7 - 3) / 10 + 0.0123 for j in range(n_out)])
    return w, b


for activation, hidden in [("relu", [4, 3]), ("tanh", [4])]:
    m = MLPRegressor(hidden_layer_sizes=hidden, activation=activation, alpha=0.1, learning_rate_init=0.01,
                     batch_size=N, shuffle=False, max_iter=1, tol=0.0, n_iter_no_change=1000,
                     warm_start=True, random_state=0)
    m.fit(X, Y)  # allocates the network; the weights are replaced next
    sizes = [P] + hidden + [1]
    layers = [reference_layer(a, b, li) for li, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    m.coefs_ = [w.copy() for w, _ in layers]
    m.intercepts_ = [b.copy() for _, b in layers]
    m.max_iter = 3
    m.fit(X, Y)  # warm start: a fresh Adam optimizer, three epochs of one batch each
    # no ReLU pre-activation near its kink, before or after training (rounding would pick the derivative)
    for weights in (layers, list(zip(m.coefs_, m.intercepts_))):
        a, zmin = X, np.inf
        for w, b in weights[:-1]:
            z = a @ w + b
            zmin, a = min(zmin, np.abs(z).min()), np.maximum(z, 0)
        assert activation != "relu" or zmin > 1e-3, zmin
    print(activation, hidden)
    for li, (w, b) in enumerate(zip(m.coefs_, m.intercepts_)):
        print(f"  layer {li} w:", ", ".join(repr(float(v)) for v in w.ravel()))
        print(f"  layer {li} b:", ", ".join(repr(float(v)) for v in b))
