# SPDX-License-Identifier: MIT
"""The CLI's cases (tests/cli/sdm.sh) through Python: same fixtures, same
expected orders and values."""
import numpy as np
import pytest
import scipy.sparse as sp

import subsel


@pytest.mark.parametrize("concave", ["log1p", "sqrt"])
def test_fb_naive_matches_fixture_order(fixtures, fb_data, concave):
    z, w = fb_data
    r = subsel.fb(z, weights=w, concave=concave, budget=12, optimizer="naive")
    order = np.load(fixtures / "fb" / f"order_{concave}.npy")
    values = np.load(fixtures / "fb" / f"values_{concave}.npy")
    np.testing.assert_array_equal(r.indices, order)
    np.testing.assert_allclose(np.cumsum(r.gains), values, rtol=1e-5)
    assert r.value == pytest.approx(values[-1], rel=1e-5)
    assert (r.budget, r.short_reason, r.stopped_early) == (12, None, False)
    assert r.evaluations > 0


def test_fb_from_library_reader_and_lazy(fixtures, fb_data):
    _, w = fb_data
    z = subsel.load_npz(fixtures / "fb" / "Z_uncompressed.npz")
    assert z.shape == (80, 50)
    r = subsel.fb(z, weights=w, budget=12, optimizer="lazy")
    np.testing.assert_array_equal(
        r.indices, np.load(fixtures / "fb" / "order_log1p.npy"))


def test_sdm_lazy_matches_fixture_order(fixtures, sdm_data):
    d = fixtures / "sdm"
    r = subsel.sdm(sdm_data["source"], target=sdm_data["target"],
                   quality=sdm_data["quality"], bins=3,
                   bin_weights=[0, 0.01, 0.99], lambda_=0.7, budget=12,
                   optimizer="lazy")
    np.testing.assert_array_equal(r.indices, np.load(d / "order.npy"))
    np.testing.assert_allclose(np.cumsum(r.gains), np.load(d / "values.npy"),
                               rtol=1e-5)
    assert r.kl == np.inf  # the CLI's "kl": null, expected.json's kl_after


def test_sdm_objective_bins_and_kl(fixtures, sdm_data):
    d = fixtures / "sdm"
    obj = subsel.SDM(sdm_data["source"], target=sdm_data["target"],
                     quality=sdm_data["quality"], bins=3)
    np.testing.assert_array_equal(obj.quality_bins(), np.load(d / "bins.npy"))
    assert obj["lambda"] == pytest.approx(0.7)
    order = np.load(d / "order.npy")
    # expected.json: the KL after the greedy order is inf (the CLI's null).
    assert obj.kl(order) == np.inf
    assert obj.evaluate(order) == pytest.approx(np.load(d / "values.npy")[-1],
                                                rel=1e-5)


def test_sdm_runs_lazier_seeded(fixtures):
    d = fixtures / "sdm"
    ctx = subsel.Context(seed=5, threads=2)
    kwargs = dict(target_distribution=np.load(d / "p_target.npy"), budget=20,
                  optimizer="lazier", runs=3, ctx=ctx)
    source = subsel.load_npz(d / "source_uncompressed.npz", ctx=ctx)
    a = subsel.sdm(source, **kwargs)
    b = subsel.sdm(source, **kwargs)
    assert a.budget == 20 and 0 < len(a) <= 20
    assert np.all(np.diff(a.indices) > 0)  # intersections are ascending
    np.testing.assert_array_equal(a.indices, b.indices)
    assert (a.short_reason is None) == (len(a) == 20)
    assert a.kl >= 0  # a KL (NaN would fail)
