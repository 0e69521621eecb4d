"""Thermal: the FLIR fixture's documented values; arrays in, reports out."""

import numpy as np
import pytest

import battsentinel as bs


def test_flir_image(data_dir):
    path = data_dir / "thermal" / "flir_rjpeg_E60_floor_heating_CC0.jpg"
    t = bs.read_thermal(path)
    assert t.shape == (240, 320)
    assert t[119, 160] == pytest.approx(21.1, abs=0.05)
    assert np.nanmin(t) == pytest.approx(16.72, abs=0.01)
    assert np.nanmax(t) == pytest.approx(34.47, abs=0.01)
    r = bs.analyze_thermal(path.read_bytes())
    assert r["stats"]["mean_c"] == pytest.approx(19.88, abs=0.01)
    np.testing.assert_array_equal(r["temperatures_c"], t)


def test_array_with_hotspot():
    img = np.full((40, 60), 25.0)
    img[10:15, 20:26] = 45.0
    r = bs.analyze_thermal(img)
    assert len(r["hotspots"]) == 1
    assert r["max_delta_t_c"] == pytest.approx(20.0, abs=1e-9)
    with pytest.raises(bs.ThermalError):
        bs.analyze_thermal(np.full((4, 4), np.nan))
    with pytest.raises(bs.ParamError):
        bs.analyze_thermal(img, hotspots=3)
    with pytest.raises(bs.ThermalError):
        bs.read_thermal(b"not an image")
