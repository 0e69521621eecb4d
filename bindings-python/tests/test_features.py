"""Per-cycle features against the cycler's own counters and analytic dQ/dV."""

import numpy as np
import pandas as pd
import pytest

import battsentinel as bs


def test_cycle_summary_matches_the_counters(data_dir):
    path = data_dir / "cyclers" / "arbin_example.csv"
    ref = pd.read_csv(path)
    s = bs.cycle_summary(bs.read(path), capacity_source="counters")
    assert list(s["cycle"]) == [1, 2]
    for cyc, row in zip(s["cycle"], s.itertuples()):
        part = ref[ref["Cycle_Index"] == cyc]
        expect = part["Discharge_Capacity"].max() - part["Discharge_Capacity"].min()
        assert row.discharge_capacity_ah == pytest.approx(expect, abs=1e-9)
        assert row.voltage_max_v == pytest.approx(part["Voltage"].max(), abs=1e-12)
        assert row.temperature_max_c == pytest.approx(part["Temperature"].max(), abs=1e-12)


def test_cycle_summary_analytic():
    t = np.arange(0, 3601, 10.0)
    log = bs.BatteryLog(t, voltage_v=np.full(t.size, 3.6), current_a=np.full(t.size, 2.0))
    s = bs.cycle_summary(log, nominal_capacity_ah=2.5)
    assert s["discharge_capacity_ah"][0] == pytest.approx(2.0, abs=1e-12)
    assert s["discharge_energy_wh"][0] == pytest.approx(7.2, abs=1e-9)
    assert s["soh"][0] == pytest.approx(0.8, abs=1e-12)
    assert np.isnan(s["coulombic_efficiency"][0])
    with pytest.raises(bs.ParamError):
        bs.cycle_summary(log, nominal_capacity_ah=-1.0)


def test_incremental_capacity_linear_cell():
    t = np.arange(0, 3601, 1.0)
    log = bs.BatteryLog(t, voltage_v=4.0 - t / 3600.0, current_a=np.ones(t.size))
    ic = bs.incremental_capacity(log, direction="discharge")
    assert np.all(np.abs(ic["dq_dv_ah_per_v"] - 1.0) < 1e-6)
    assert isinstance(ic["peaks"], pd.DataFrame)


def test_dqdv_arrays():
    v = 3.0 + 0.002 * np.arange(501)
    ic = bs.dqdv(v, 2.0 * (v - 3.0), direction="charge")
    assert ic["dq_dv_ah_per_v"][100] == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(bs.ParamError):
        bs.dqdv(v, v, direction="sideways")
    with pytest.raises(bs.FeatureError):
        bs.dqdv(v, v[:10])


def test_missing_channel():
    log = bs.BatteryLog(np.arange(10.0))
    with pytest.raises(bs.FeatureError) as e:
        bs.incremental_capacity(log)
    assert e.value.code == "missing_channel"
