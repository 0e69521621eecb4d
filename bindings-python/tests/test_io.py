"""Readers: values equal to pandas.read_csv on the same file, every source kind, round trips."""

import io
import pickle

import numpy as np
import pandas as pd
import pytest

import battsentinel as bs


def test_arbin_matches_pandas(data_dir):
    path = data_dir / "cyclers" / "arbin_example.csv"
    ref = pd.read_csv(path)
    log = bs.read(path)
    assert len(log) == len(ref) == 2142
    assert log.quality["rows_read"] == 2142 and log.quality["rows_kept"] == 2142
    assert log.meta["format"] == "arbin_csv"
    df = log.to_pandas()
    np.testing.assert_allclose(df["time_s"], ref["Test_Time"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["voltage_v"], ref["Voltage"], rtol=0, atol=1e-12)
    # Arbin signs charge positive; the library's convention is discharge positive.
    np.testing.assert_allclose(df["current_a"], -ref["Current"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["charge_capacity_ah"], ref["Charge_Capacity"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["discharge_energy_wh"], ref["Discharge_Energy"], rtol=0, atol=1e-12)
    temp = [c for c in df.columns if c.startswith("temperature_c:")]
    assert len(temp) == 1
    np.testing.assert_allclose(df[temp[0]], ref["Temperature"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(df["cycle_index"], ref["Cycle_Index"])
    assert df["cycle_index"].dtype == np.int64


def test_every_source_kind_reads_the_same(data_dir):
    path = data_dir / "cyclers" / "arbin_example.csv"
    raw = path.read_bytes()
    ref = bs.read(str(path)).to_numpy()
    for src in [path, raw, bytearray(raw), io.BytesIO(raw), memoryview(raw)]:
        got = bs.read(src, file_name="arbin_example.csv").to_numpy()
        np.testing.assert_array_equal(got["voltage_v"], ref["voltage_v"])


def test_forced_format_and_mapping():
    csv = b"secs;U;I\n0;3700;-500\n60;3720;-500\n"
    log = bs.read(csv, format="generic", mapping={"secs": ("time_s", "s"), "U": ("voltage_v", "mV"), "I": ("current_a", "mA")}, delimiter=";")
    np.testing.assert_allclose(log.voltage_v, [3.70, 3.72])
    np.testing.assert_allclose(log.time_s, [0.0, 60.0])


def test_detect(data_dir):
    d = bs.detect(data_dir / "cyclers" / "maccor_LGM50_0degC_validation.txt")
    assert d["format"] == "maccor_text" and d["confidence"] > 0.5


def test_quality_report_counts_bad_rows():
    csv = b"time_s,voltage_v,current_a\n0,4.1,1.5\n10,abc,1.5\n20,4.0,1.5\n"
    log = bs.read(csv)
    assert log.quality["rows_kept"] == 3
    assert np.isnan(log.voltage_v[1])
    assert any(i["code"] == "unparseable" for i in log.quality["issues"])


def test_pandas_and_pickle_round_trip(data_dir):
    log = bs.read(data_dir / "cyclers" / "arbin_example.csv")
    df = log.to_pandas()
    back = bs.BatteryLog.from_pandas(df).to_pandas()
    for c in df.columns:
        np.testing.assert_array_equal(back[c].to_numpy(), df[c].to_numpy())
    p = pickle.loads(pickle.dumps(log))
    np.testing.assert_array_equal(p.to_numpy()["current_a"], log.to_numpy()["current_a"])
    assert p.meta == log.meta


def test_constructor_checks_lengths_and_dtypes():
    log = bs.BatteryLog(np.arange(3.0), voltage_v=[4.0, 3.9, 3.8])
    assert len(log) == 3
    with pytest.raises(ValueError, match="voltage_v"):
        bs.BatteryLog(np.arange(3.0), voltage_v=[4.0])
    with pytest.raises(TypeError, match="real numbers"):
        bs.BatteryLog(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="1-D"):
        bs.BatteryLog(np.zeros((2, 2)))
    # Non-contiguous input is copied, not rejected.
    t = np.arange(10.0)[::2]
    np.testing.assert_array_equal(bs.BatteryLog(t).time_s, t)


def test_bad_content_raises_parse_error():
    with pytest.raises(bs.ParseError):
        bs.read(b"just some words\nwith no numbers\n")
    with pytest.raises(TypeError):
        bs.read(12345)


def test_step_kind_column_is_strings_and_none(data_dir):
    log = bs.read(data_dir / "cyclers" / "bitrode_nissanleaf_HPPC_25C.csv")
    kinds = log.to_numpy()["step_kind"]
    assert kinds.dtype == object and kinds.shape == (13248,)
    counts = {k: int((kinds == k).sum()) for k in ("discharge", "charge", "rest")}
    assert counts == {"discharge": 10932, "charge": 1257, "rest": 1059}
    assert all(type(k) is str for k in kinds)
    df = log.to_pandas()
    assert df["step_kind"].tolist() == kinds.tolist()
    # Missing kinds stay None through a round trip.
    small = bs.BatteryLog.from_pandas(
        pd.DataFrame({"time_s": [0.0, 1.0, 2.0, 3.0], "step_kind": ["charge", None, "rest", "charge"]})
    )
    assert small.to_numpy()["step_kind"].tolist() == ["charge", None, "rest", "charge"]
    assert bs.BatteryLog.from_pandas(small.to_pandas()).to_numpy()["step_kind"].tolist() == [
        "charge", None, "rest", "charge"
    ]
    na = pd.DataFrame({"time_s": [0.0, 1.0], "step_kind": pd.array(["rest", pd.NA], dtype="string")})
    assert bs.BatteryLog.from_pandas(na).to_numpy()["step_kind"].tolist() == ["rest", None]
    with pytest.raises(TypeError, match="step_kind"):
        bs.BatteryLog.from_pandas(pd.DataFrame({"time_s": [0.0], "step_kind": [3]}))
