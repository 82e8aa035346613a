# SPDX-License-Identifier: MIT
"""subsel.plot: each picture is a valid PNG (tests/png_check.py parses it
with the standard library) of exactly size * dpi pixels; wrong inputs
raise; without matplotlib the package still imports and drawing says what
to install."""
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from subsel import plot

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from png_check import png_size  # noqa: E402

CLASSES = ["a", "b", "c"]
RNG = np.random.default_rng(3)


def images(n):
    return RNG.random((n, 6, 5))


def test_class_mix_is_a_png_of_the_figure_size(tmp_path):
    out = plot.class_mix(tmp_path / "mix.png", [
        ("target", [0, 0, 1, 2], None, images(4)),
        ("chosen", [0, 1, 1], 0.25, images(3)),
        ("random", [2, 2, 2], float("inf"), None)],
        CLASSES, title="tiny")
    assert out == str(tmp_path / "mix.png")
    assert png_size(out) == (1200, 800)
    # two metrics per selection: the same size
    out = plot.class_mix(tmp_path / "two.png", [
        ("chosen", [0, 1], (0.5, 0.25), images(2))], CLASSES,
        metric=("KL", "TV"))
    assert png_size(out) == (1200, 800)


def test_size_and_dpi_set_the_pixels(tmp_path):
    out = plot.class_mix(tmp_path / "m.png", [("x", [1], None, None)],
                         CLASSES, size=(3.2, 2.5), dpi=50)
    assert png_size(out) == (160, 125)


def test_prototypes_is_a_png_of_the_figure_size(tmp_path):
    out = plot.prototypes(tmp_path / "p.png", [
        ("chosen", images(4), [0, 1, 2, 0]),
        ("random", images(2), [1, 1])], CLASSES, title="prototypes")
    assert png_size(out) == (1200, 400)


def test_score_distributions_is_a_png_of_the_figure_size(tmp_path):
    s = RNG.normal(size=30)
    y = RNG.integers(0, 3, size=30)
    out = plot.score_distributions(
        tmp_path / "s.png", [("pool", s, y), ("chosen", s[:9], y[:9])],
        score_name="cosine", class_names=CLASSES)
    assert png_size(out) == (1200, 500)
    # without classes: the histograms alone, same size
    out = plot.score_distributions(tmp_path / "t.png", [("pool", s, None)],
                                   score_name="cosine", size=(4, 3))
    assert png_size(out) == (400, 300)


def test_labels_outside_the_classes_raise(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        plot.class_mix(tmp_path / "x.png", [("x", [3], None, None)], CLASSES)
    assert not (tmp_path / "x.png").exists()


def test_png_check_refuses_a_damaged_file(tmp_path):
    # the checker the tests rely on must be able to say no
    good = plot.class_mix(tmp_path / "g.png", [("x", [0], None, None)],
                          CLASSES, size=(2, 2), dpi=40)
    data = bytearray(Path(good).read_bytes())
    bad = tmp_path / "bad.png"
    for damage, message in ((lambda d: d.__setitem__(0, 0), "signature"),
                            (lambda d: d.__setitem__(20, d[20] ^ 1), "CRC"),
                            (lambda d: d.__delitem__(slice(-12, None)), "IEND")):
        d = bytearray(data)
        damage(d)
        bad.write_bytes(bytes(d))
        with pytest.raises(ValueError, match=message):
            png_size(bad)
    # a correct CRC over a wrong height: the pixel rows do not add up
    ihdr = bytearray(data[16:29])
    ihdr[4:8] = struct.pack(">I", 81)
    d = data[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + data[33:]
    bad.write_bytes(bytes(d))
    with pytest.raises(ValueError, match="rows"):
        png_size(bad)


def test_without_matplotlib_drawing_says_what_to_install(tmp_path,
                                                          monkeypatch):
    # None in sys.modules makes `import matplotlib...` raise ImportError
    for name in ("matplotlib", "matplotlib.figure",
                 "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match="python3-matplotlib"):
        plot.class_mix(tmp_path / "x.png", [("x", [0], None, None)], CLASSES)
    assert not (tmp_path / "x.png").exists()


def test_the_package_does_not_import_matplotlib():
    import subprocess
    code = ("import sys, subsel, subsel.plot; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.call([sys.executable, "-c", code]) == 0
