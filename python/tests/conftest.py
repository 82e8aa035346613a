# SPDX-License-Identifier: MIT
"""Fixtures shared with the C and CLI tests (tests/fixtures), and the
`subsel` program the tests compare with."""
import os
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


@pytest.fixture(scope="session")
def subsel_cli() -> str:
    """The `subsel` program: CI names the installed one ($SUBSEL_CLI);
    from the source tree, the build's."""
    top = Path(__file__).resolve().parents[2]
    cli = os.environ.get("SUBSEL_CLI") or str(
        top / os.environ.get("SUBSEL_BUILD_DIR", "build") / "tools" / "subsel")
    assert os.access(cli, os.X_OK), (
        f"no subsel program at {cli}: build the tree or set SUBSEL_CLI")
    return cli


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
