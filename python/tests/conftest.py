# SPDX-License-Identifier: MIT
"""Fixtures shared with the C and CLI tests (tests/fixtures)."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

# An installed package wins (CI tests what pip installed); without one the
# source tree's is used, so `pytest python/tests` works from anywhere. The
# report header says which.
try:
    import subsel  # noqa: F401
except ModuleNotFoundError:
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def fb_data():
    return (sp.load_npz(FIXTURES / "fb" / "Z.npz"),
            np.load(FIXTURES / "fb" / "w.npy"))


@pytest.fixture
def sdm_data():
    d = FIXTURES / "sdm"
    return {"source": sp.load_npz(d / "source.npz"),
            "target": sp.load_npz(d / "target.npz"),
            "quality": np.load(d / "quality.npy")}


def pytest_report_header(config):
    import subsel
    return f"subsel {subsel.__version__} from {subsel.__file__}, library {subsel.library_path}"
