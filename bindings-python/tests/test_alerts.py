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
