# SPDX-License-Identifier: MIT
"""The README's Python example runs as printed, and selects what the
README's shell command (the `subsel` program) selects on the same files."""
import contextlib
import io
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import scipy.sparse as sp

TOP = Path(__file__).resolve().parents[2]


def readme_parts():
    text = (TOP / "README.md").read_text()
    python = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    shell = re.search(r"The same from the shell: `(subsel sdm [^`]*)`", text,
                      re.S).group(1)
    return python, " ".join(shell.split())


def write_inputs(folder: Path) -> None:
    """A pool of sparse codes larger than the README's budget of 1,000 and a
    target drawn from a skewed part of the same columns."""
    rng = np.random.default_rng(11)
    pool = sp.random(3000, 256, density=0.05, format="csr", dtype=np.float32,
                     random_state=rng)
    pool.data = np.abs(pool.data) + np.float32(0.01)
    target = sp.random(400, 256, density=0.05, format="csr",
                       dtype=np.float32, random_state=rng)
    target.data = np.abs(target.data) + np.float32(0.01)
    target = sp.csr_matrix(target.multiply(
        np.linspace(0.1, 3.0, 256, dtype=np.float32)))
    sp.save_npz(folder / "pool.npz", pool)
    sp.save_npz(folder / "target.npz", target)


def test_readme_python_example_matches_the_cli(tmp_path, monkeypatch,
                                               subsel_cli):
    python, shell = readme_parts()
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python, "README.md", "exec"), names)
    r = names["r"]
    assert len(r.indices) == 1000
    assert out.getvalue().startswith("1000 rows, f = ")

    argv = shlex.split(shell)
    argv[0] = subsel_cli
    subprocess.run(argv, check=True, capture_output=True, cwd=tmp_path)
    cli = np.load(tmp_path / "selected.npy")
    np.testing.assert_array_equal(r.indices, cli)
