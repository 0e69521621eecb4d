"""The exception tree: every class derives from BattSentinelError and the matching builtin."""

import errno

import pytest

import battsentinel as bs


def test_hierarchy():
    for cls in [bs.ParamError, bs.ParseError, bs.FeatureError, bs.ModelError, bs.ExplainError,
                bs.SimulationError, bs.RuleError, bs.ThermalError]:
        assert issubclass(cls, bs.BattSentinelError)
        assert issubclass(cls, ValueError)
    assert issubclass(bs.FileError, OSError) and issubclass(bs.FileError, bs.BattSentinelError)
    assert issubclass(bs.NotFittedError, bs.ModelError) and issubclass(bs.NotFittedError, AttributeError)
    assert bs.BattSentinelError.__module__ == "battsentinel"


def test_missing_file_is_an_oserror_with_errno(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(bs.FileError) as e:
        bs.read(missing)
    assert isinstance(e.value, FileNotFoundError) or e.value.errno == errno.ENOENT
    assert e.value.code == "io"
    assert "nope.csv" in str(e.value)


def test_codes_are_attached():
    with pytest.raises(bs.ParseError) as e:
        bs.read(b"")
    assert e.value.code == "empty"
    with pytest.raises(bs.ParamError) as e:
        bs.RandomForestClassifier(n_trees=0)
    assert e.value.code == "invalid_param"
    assert "n_trees" in str(e.value)


def test_unknown_keyword_is_a_param_error():
    with pytest.raises(bs.ParamError, match="unknown field `n_estimators`"):
        bs.RandomForestClassifier(n_estimators=10)
    with pytest.raises(bs.ParamError, match="colour"):
        bs.read(b"t,v\n0,1\n", colour="red")
