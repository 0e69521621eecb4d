"""Digital twin against the PyBaMM reference trace, streaming step, HPPC fit, EKF."""

import pickle

import numpy as np
import pandas as pd
import pytest

import battsentinel as bs


def test_constant_current_matches_pybamm(data_dir):
    ref = pd.read_csv(data_dir / "twin" / "pybamm_thevenin_1C_constparams.csv")
    cell = bs.CellParams.ecm_example_const(4e-4, 6e-4, 5e4)
    proto = {"initial": {"soc": 0.9999}, "steps": [{"kind": "cc", "current_a": 100.0, "duration_s": 7200.0}]}
    tr = bs.simulate(cell, proto)
    assert tr["time_s"].iloc[-1] == pytest.approx(3556.96, abs=0.1)
    assert tr.attrs["end_reason"] == "voltage_below"
    m = ref.merge(tr, on="time_s", suffixes=("_ref", ""))
    assert len(m) > 3000
    assert np.max(np.abs(m["voltage_V_ref"] - m["voltage_V"])) < 1e-4
    # JSON protocol text works too.
    import json
    assert len(bs.simulate(cell, json.dumps(proto))) == len(tr)


def test_simulator_step_and_pickle():
    sim = bs.Simulator(bs.CellParams.ecm_example(), soc=0.9)
    out = sim.step(current_a=100.0, dt_s=1.0)
    assert out["voltage_v"] < out["ocv_v"]
    assert out["soc"] == pytest.approx(0.9 - 1.0 / 3600.0, abs=1e-12)
    back = pickle.loads(pickle.dumps(sim))
    assert back.state == sim.state
    assert back.step(current_a=50.0) == sim.step(current_a=50.0)
    with pytest.raises(bs.ParamError):
        sim.step(current_a=1.0, voltage_v=4.0)
    with pytest.raises(bs.SimulationError) as e:
        sim.step(current_a=1.0, dt_s=-1.0)
    assert e.value.code == "invalid_dt"


def test_cell_params_validation_and_pickle():
    p = bs.CellParams.ecm_example()
    assert p.capacity_ah == 100.0 and p.n_rc == 1
    q = p.replace(capacity_ah=50.0)
    assert q.capacity_ah == 50.0
    assert pickle.loads(pickle.dumps(q)).to_dict() == q.to_dict()
    with pytest.raises(bs.ParamError):
        p.replace(capacity_ah=-1.0)
    with pytest.raises(bs.ParamError):
        p.replace(capacity=1.0)


def test_hppc_fit_recovers_simulated_cell():
    cell = bs.CellParams.ecm_example_const(4e-4, 6e-4, 5e4)
    proto = {"initial": {"soc": 0.95}, "steps": [
        {"kind": "rest", "duration_s": 1800.0},
        {"kind": "hppc", "pulse_current_a": 100.0, "charge_pulse_current_a": -75.0, "pulse_s": 10.0,
         "pulse_rest_s": 40.0, "discharge_current_a": 50.0, "soc_step": 0.1, "rest_s": 1800.0, "levels": 5}]}
    tr = bs.simulate(cell, proto)
    log = bs.BatteryLog(tr["time_s"].to_numpy(), voltage_v=tr["voltage_V"].to_numpy(), current_a=tr["current_A"].to_numpy())
    # The simulated cell has one RC pair (tau = 6e-4 ohm * 5e4 F = 30 s). Measured (whole-test fit, noise-free
    # log): 1 RC pair: R0 within 4e-4, R1 within 1.6e-3, C1 and tau within 2e-3 relative, RMSE 1.0e-5 V,
    # max error 1.0e-4 V; default 2 RC pairs: R0 within 8.2e-4, RMSE 1.04e-5 V. Tolerances ~2.5x these.
    fit = bs.fit_hppc(log, capacity_ah=100.0, rc_pairs=1)
    assert isinstance(fit["params"], bs.CellParams)
    pts = fit["points"]
    assert len(pts) == 5
    assert np.allclose(pts["r0_ohm"], 4e-4, rtol=1e-3)
    assert np.allclose(pts["r1_ohm"], 6e-4, rtol=5e-3)
    assert np.allclose(pts["c1_farad"], 5e4, rtol=5e-3)
    assert pts["r2_ohm"].isna().all()
    assert abs(fit["tau_s"][0] - 30.0) < 0.03
    assert fit["rmse_v"] < 3e-5 and fit["max_error_v"] < 3e-4
    fit2 = bs.fit_hppc(log, capacity_ah=100.0)
    assert len(fit2["tau_s"]) == 2
    assert np.allclose(fit2["points"]["r0_ohm"], 4e-4, rtol=2e-3)
    assert fit2["rmse_v"] < 3e-5


def test_soc_estimator_converges():
    cell = bs.CellParams.ecm_example_const(4e-4, 6e-4, 5e4)
    tr = bs.simulate(cell, {"initial": {"soc": 0.9}, "steps": [{"kind": "cc", "current_a": 50.0, "duration_s": 1800.0}]})
    log = bs.BatteryLog(tr["time_s"].to_numpy(), voltage_v=tr["voltage_V"].to_numpy(), current_a=tr["current_A"].to_numpy())
    est = bs.SocEstimator(cell, soc0=0.6).run(log)
    assert abs(est["soc"].iloc[-1] - tr["soc"].iloc[-1]) < 0.02
    with pytest.raises(bs.ParamError):
        bs.SocEstimator(cell, soc0=0.5, bogus=1.0)


def test_soc_estimator_pickles_and_resumes_identically():
    import pickle

    cell = bs.CellParams.ecm_example()
    a = bs.SocEstimator(cell, soc0=0.7)
    for k in range(30):
        a.update(3.65 - 0.001 * k, 80.0, 25.0, 1.0)
    b = pickle.loads(pickle.dumps(a))
    c = bs.SocEstimator.from_snapshot(a.snapshot())
    snap = a.snapshot()
    assert len(snap["covariance"]) == len(snap["state"]) ** 2
    for k in range(30):
        ea = a.update(3.62 - 0.001 * k, 80.0, 25.0, 1.0)
        eb = b.update(3.62 - 0.001 * k, 80.0, 25.0, 1.0)
        ec = c.update(3.62 - 0.001 * k, 80.0, 25.0, 1.0)
        assert ea == eb == ec
    bad = dict(snap, covariance=snap["covariance"][:-1])
    with pytest.raises(bs.ParamError):
        bs.SocEstimator.from_snapshot(bad)
