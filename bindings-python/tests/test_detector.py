"""FaultDetector: the default detector on the shared Arbin and Maccor fixtures (values as asserted by the core's
battsentinel-core/tests/it/detector.rs), the binding's DataFrame/array view consistent with its own classifier, pickling, errors."""

import pickle

import numpy as np
import pytest

import battsentinel as bs


@pytest.fixture(scope="module")
def detector():
    return bs.FaultDetector.default()


@pytest.fixture(scope="module")
def arbin(data_dir):
    return bs.read(data_dir / "cyclers" / "arbin_example.csv")


def test_arbin_fixture_analysed_with_an_lfp_window(detector, arbin):
    r = detector.analyze(arbin)
    w, s = r["windows"], r["summary"]
    assert len(w) == 2
    assert (s["scale"]["v_min_v"], s["scale"]["v_max_v"]) == (2.0, 3.65)
    assert abs(s["scale"]["nominal_capacity_ah"] - 1.07) < 0.05
    assert s["n_windows"] == 2
    assert s["verdict"] in r["classes"]
    assert sum(s["label_counts"].values()) == 2
    prob_cols = [f"probabilities.{c}" for c in r["classes"]]
    assert np.allclose(w[prob_cols].sum(axis=1), 1.0, atol=1e-9)
    assert all(len(c) == 0 for c in w["data_checks"])
    assert list(w["start_row"]) == sorted(w["start_row"])
    assert (w["t_end_s"] > w["t_start_s"]).all()
    # The features array is the classifier's input: its probabilities are the window probabilities.
    x = r["features"]
    assert x.shape == (2, len(r["feature_names"])) == (2, 31)
    assert r["feature_names"] == detector.feature_names
    clf = detector.classifier
    p = clf.predict_proba(x)
    assert p.shape[1] == len(detector.classes) == len(clf.classes_)
    assert np.allclose(p, w[[f"probabilities.{c}" for c in detector.classes]].to_numpy(), atol=1e-12)
    assert np.allclose(w["confidence"], p.max(axis=1), atol=1e-12)


def test_disconnected_thermocouples_are_a_sensor_fault(detector, data_dir):
    log = bs.read(data_dir / "cyclers" / "maccor_LGM50_0degC_validation.txt")
    s = detector.analyze(log)["summary"]
    assert s["verdict"] == "sensor_fault"
    assert "temperature_disconnected" in s["data_checks"]
    assert (s["scale"]["v_min_v"], s["scale"]["v_max_v"], s["scale"]["n_series"]) == (2.5, 4.2, 1)


def test_pickle_and_json_round_trip(detector, arbin):
    again = pickle.loads(pickle.dumps(detector))
    assert again.n_training_windows == detector.n_training_windows > 0
    a, b = detector.analyze(arbin, window_s=7200.0), again.analyze(arbin, window_s=7200.0)
    assert np.array_equal(a["features"], b["features"])
    assert a["windows"].equals(b["windows"])
    assert bs.FaultDetector.from_json(detector.to_json()).classes == detector.classes


def test_typed_errors(detector, arbin):
    with pytest.raises(bs.ParamError):
        detector.analyze(arbin, threshold_soh=2.0)
    with pytest.raises(bs.ParamError):
        detector.analyze(arbin, bogus=1)
    with pytest.raises(bs.ModelError):
        bs.FaultDetector.from_json(bs.RandomForestClassifier().fit([[0.0], [1.0]], [0, 1]).to_json())
