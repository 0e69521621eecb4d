"""Models: accuracy against scikit-learn on the same data, pickle, sklearn conventions, input checking."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier as SkForest
from sklearn.model_selection import train_test_split

import battsentinel as bs


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def test_forest_accuracy_matches_sklearn(clf_data):
    Xtr, Xte, ytr, yte = clf_data
    ours = bs.RandomForestClassifier(n_trees=100, seed=0).fit(Xtr, ytr).score(Xte, yte)
    theirs = SkForest(n_estimators=100, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert ours > 0.75 and theirs > 0.75
    assert abs(ours - theirs) <= 0.05, (ours, theirs)


def test_predict_proba_rows_sum_to_one(clf_data):
    Xtr, Xte, ytr, _ = clf_data
    m = bs.RandomForestClassifier(n_trees=20, seed=1).fit(Xtr, ytr)
    p = m.predict_proba(Xte)
    assert p.shape == (len(Xte), 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(m.classes_, [0, 1, 2])
    np.testing.assert_array_equal(m.predict(Xte), m.classes_[p.argmax(axis=1)])
    assert m.n_features_in_ == 8
    assert m.feature_importances_.sum() == pytest.approx(1.0)


def all_models(Xc, yc, Xr, yr):
    return [
        (bs.RandomForestClassifier(n_trees=10, seed=2).fit(Xc, yc), "predict_proba"),
        (bs.RandomForestRegressor(n_trees=10, seed=2).fit(Xr, yr), "predict"),
        (bs.IsolationForest(n_trees=20, seed=2).fit(Xc), "score_samples"),
        (bs.MLPRegressor(hidden_layer_sizes=[8], max_epochs=20, seed=2).fit(Xr, yr), "predict"),
        (bs.MLPClassifier(hidden_layer_sizes=[8], max_epochs=20, seed=2).fit(Xc, yc), "predict_proba"),
        (bs.SVC(c=1.0).fit(Xc[:150], yc[:150]), "predict_proba"),
        (bs.OneClassSVM(nu=0.2).fit(Xc[:150]), "decision_function"),
    ]


def test_pickle_round_trip_gives_identical_predictions(clf_data):
    Xtr, Xte, ytr, _ = clf_data
    Xr, yr = make_regression(n_samples=200, n_features=8, random_state=0)
    for m, method in all_models(Xtr, ytr, Xr, yr):
        back = pickle.loads(pickle.dumps(m))
        np.testing.assert_array_equal(getattr(back, method)(Xte), getattr(m, method)(Xte))
        assert back.get_params() == m.get_params()
        again = type(m).from_json(m.to_json())
        np.testing.assert_array_equal(getattr(again, method)(Xte), getattr(m, method)(Xte))
    unfitted = pickle.loads(pickle.dumps(bs.RandomForestClassifier(n_trees=7)))
    assert unfitted.get_params()["n_trees"] == 7


def test_sklearn_conventions(clf_data):
    Xtr, _, ytr, _ = clf_data
    m = bs.RandomForestClassifier(n_trees=5, max_features=0.5, class_weight="balanced")
    assert m.get_params()["max_features"] == 0.5
    assert m.get_params()["max_depth"] is None
    assert m.set_params(n_trees=3) is m
    assert m.get_params()["n_trees"] == 3
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    with pytest.raises(bs.NotFittedError):
        m.predict(Xtr)
    with pytest.raises(AttributeError):
        m.classes_
    with pytest.raises(bs.ParamError):
        m.set_params(nonsense=1)


def test_bad_inputs_raise_python_exceptions(clf_data):
    Xtr, Xte, ytr, _ = clf_data
    m = bs.RandomForestClassifier(n_trees=5).fit(Xtr, ytr)
    with pytest.raises(TypeError, match="real numbers"):
        m.predict(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="2-D"):
        m.predict(Xte[0])
    with pytest.raises(bs.ModelError) as e:
        m.predict(Xte[:, :3])
    assert e.value.code == "feature_count"
    bad = Xte.copy()
    bad[1, 2] = np.nan
    with pytest.raises(bs.ModelError) as e:
        m.predict(bad)
    assert e.value.code == "non_finite"
    with pytest.raises(bs.ModelError):
        bs.RandomForestClassifier(n_trees=2).fit(Xtr, -ytr - 1)
    with pytest.raises(bs.ModelError):
        bs.RandomForestClassifier(n_trees=2).fit(Xtr, ytr[:-1])
    # Other dtypes and layouts are converted: same result as contiguous float64.
    nc = np.asfortranarray(Xte)[:, :]
    np.testing.assert_array_equal(m.predict_proba(nc), m.predict_proba(np.ascontiguousarray(Xte)))
    strided = np.repeat(Xte, 2, axis=0)[::2]
    assert not strided.flags["C_CONTIGUOUS"] or strided.base is not None
    np.testing.assert_array_equal(m.predict_proba(strided), m.predict_proba(Xte))
    np.testing.assert_array_equal(m.predict(Xte.astype(np.float32)), m.predict(Xte.astype(np.float32).astype(np.float64)))
    np.testing.assert_array_equal(m.predict(Xte.tolist()), m.predict(Xte))


def test_isolation_forest_flags_outliers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    m = bs.IsolationForest(n_trees=100, seed=0).fit(X)
    out = m.predict(np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 8.0]]))
    np.testing.assert_array_equal(out, [1, -1])
