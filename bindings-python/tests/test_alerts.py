"""Alerts: batch evaluation equals streaming push; rule errors name the problem."""

import numpy as np
import pytest

import battsentinel as bs

RULES = """
[[rule]]
id = "under_voltage"
severity = "critical"
when = { below = { signal = "voltage_v", threshold = 2.5 } }
"""


def test_evaluate_and_push_agree():
    log = bs.BatteryLog([0.0, 1.0, 2.0, 3.0], voltage_v=[3.0, 2.6, 2.4, 3.2])
    events = bs.AlertEngine(RULES).evaluate(log)
    assert [(e["kind"], e["t_s"]) for e in events] == [("raised", 2.0), ("cleared", 3.0)]
    eng = bs.AlertEngine(bs.RuleSet.from_toml(RULES), signals=["voltage_v"])
    streamed = []
    for t, v in zip([0.0, 1.0, 2.0, 3.0], [3.0, 2.6, 2.4, 3.2]):
        streamed += eng.push(t, {"voltage_v": v})
    assert streamed == events
    assert eng.stats["samples"] == 4


def test_default_rules_on_a_real_log(data_dir):
    log = bs.read(data_dir / "cyclers" / "arbin_example.csv")
    eng = bs.AlertEngine(bs.RuleSet.default("lfp"))
    events = eng.evaluate(log)
    assert isinstance(events, list)
    assert "voltage_v" in eng.signals


def test_rule_errors():
    with pytest.raises(bs.RuleError) as e:
        bs.RuleSet.from_toml("[[rule]]\nid = 3\n")
    assert e.value.code.startswith("rule_")
    with pytest.raises(bs.ParamError):
        bs.AlertEngine(RULES, max_gap_s=-1.0)
    eng = bs.AlertEngine(RULES)
    with pytest.raises(bs.ParamError):
        eng.push(0.0, {"voltage_v": 3.0})
    eng = bs.AlertEngine(RULES, signals=["voltage_v"])
    with pytest.raises(KeyError):
        eng.push(0.0, {"volts": 3.0})


HOT = """
[[rule]]
id = "hot"
severity = "warning"
for_s = 3
clear_for_s = 2
cooldown_s = 5
when = { above = { signal = "temperature_c:*", across = "max", threshold = 45, clear = 40 } }
escalate = [ { after_s = 4, to = "critical" } ]

[[rule]]
id = "rising"
severity = "info"
when = { above = { signal = "temperature_c:TC1", window = { agg = "rate", seconds = 10 }, threshold = 0.5 } }
"""


def _samples():
    rng = np.random.default_rng(7)
    t = 0.0
    for k in range(400):
        t += 1.0 if k % 97 else 400.0  # a few gaps
        base = 38.0 + 10.0 * np.sin(k / 15.0)
        yield t, [base + rng.normal(0, 0.5), base - 1.0 + rng.normal(0, 0.5) if k % 31 else float("nan")]


def _run(eng, samples):
    out = []
    for t, v in samples:
        out += eng.push(t, v)
    return out


@pytest.mark.parametrize("rules", [HOT, None])
def test_snapshot_pickle_round_trip_resumes_identically(rules):
    import json
    import pickle

    signals = ["temperature_c:TC1", "temperature_c:TC2"]
    samples = list(_samples())
    whole = bs.AlertEngine(rules, signals=signals, battery_id="b1")
    want = _run(whole, samples)
    if rules is HOT:
        assert {e["kind"] for e in want} >= {"raised", "cleared", "escalated"}
    for cut in (1, 50, 133, 250, 399):
        eng = bs.AlertEngine(rules, signals=signals, battery_id="b1")
        got = _run(eng, samples[:cut])
        restored = [
            pickle.loads(pickle.dumps(eng)),
            bs.AlertEngine.from_snapshot(eng.snapshot()),
            bs.AlertEngine.from_snapshot(json.dumps(eng.snapshot())),
        ]
        for r in restored:
            assert r.signals == signals
            assert r.stats == eng.stats
            assert r.active_keys == eng.active_keys
            assert got + _run(r, samples[cut:]) == want, cut
    assert json.loads(json.dumps(whole.snapshot())) == whole.snapshot()


def test_unbound_engine_pickles_and_binds_later():
    import pickle

    log = bs.BatteryLog([0.0, 1.0, 2.0, 3.0], voltage_v=[3.0, 2.6, 2.4, 3.2])
    eng = bs.AlertEngine(RULES)
    assert eng.snapshot()["bound"] is False
    again = pickle.loads(pickle.dumps(eng))
    assert again.signals == []
    assert again.evaluate(log) == bs.AlertEngine(RULES).evaluate(log)


def test_tampered_snapshot_raises_rule_error():
    eng = bs.AlertEngine(HOT, signals=["temperature_c:TC1"])
    _run(eng, [(float(k), [50.0]) for k in range(10)])
    snap = eng.snapshot()
    bad = dict(snap, state=dict(snap["state"], rules=snap["state"]["rules"][:1]))
    with pytest.raises(bs.RuleError) as e:
        bs.AlertEngine.from_snapshot(bad)
    assert e.value.code == "invalid_snapshot"
    keys = [dict(k) for k in snap["state"]["keys"]]
    keys[0]["active"] += 1
    with pytest.raises(bs.RuleError) as e:
        bs.AlertEngine.from_snapshot(dict(snap, state=dict(snap["state"], keys=keys)))
    assert e.value.code == "invalid_snapshot"
    with pytest.raises(bs.ParamError):
        bs.AlertEngine.from_snapshot("{not json")
