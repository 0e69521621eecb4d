"""Shared fixtures: the `shared/data` directory, found by walking up from this file (as the Rust tests do)."""

from pathlib import Path

import pytest


def find_data() -> Path:
    here = Path(__file__).resolve().parent
    for d in [here, *here.parents]:
        cand = d / "shared" / "data"
        if cand.is_dir():
            return cand
    raise RuntimeError("no shared/data directory above " + str(here))


DATA = find_data()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
