# SPDX-License-Identifier: MIT
"""Warm starts and resumed selections (issue 16): initial= puts the items
first and continues greedily (naive from the greedy prefix gives the greedy
selection back); a run cancelled by its progress callback leaves a
checkpoint (an .npz NumPy reads) from which resume= reaches the
uninterrupted selection, items, gains and value, for every greedy
algorithm; bad inputs raise the library's errors."""
import numpy as np
import pytest
import scipy.sparse as sp

import subsel

ALGORITHMS = ["naive", "lazy", "stochastic", "lazier"]


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(16)
    return sp.random(400, 48, density=0.12, format="csr", dtype=np.float32,
                     random_state=rng)


def ctx():
    return subsel.Context(seed=11, threads=1)


def stop_at(limit):
    return lambda stage, done, total: stage == "select" and done >= limit


def same(a, b):
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.gains, b.gains)
    assert a.value == b.value


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_resume_equals_uninterrupted(pool, tmp_path, algorithm):
    c = ctx()
    whole = subsel.fb(pool, budget=50, optimizer=algorithm, ctx=c)
    path = tmp_path / "run.ckpt.npz"
    with pytest.raises(subsel.Cancelled):
        subsel.fb(pool, budget=50, optimizer=algorithm, ctx=c,
                  checkpoint=path, checkpoint_every=10, progress=stop_at(17))
    saved = np.load(path)
    np.testing.assert_array_equal(saved["selection"], whole.indices[:17])
    assert saved["checkpoint"][3] == 50  # the budget
    with pytest.raises(subsel.Cancelled):
        subsel.fb(pool, budget=50, optimizer=algorithm, ctx=c, resume=path,
                  checkpoint=path, progress=stop_at(33))
    assert len(np.load(path)["selection"]) == 33
    same(whole, subsel.fb(pool, budget=50, optimizer=algorithm, ctx=c,
                          resume=path))


def test_initial_set_continues_greedily(pool):
    c = ctx()
    whole = subsel.fb(pool, budget=30, optimizer="naive", ctx=c)
    for algorithm in ("naive", "lazy"):
        warm = subsel.fb(pool, budget=30, optimizer=algorithm, ctx=c,
                         initial=whole.indices[:6])
        np.testing.assert_array_equal(warm.indices, whole.indices)
    mine = [399, 0, 7]
    with subsel.Optimizer("stochastic", ctx=c, budget=30,
                          initial=np.array(mine, np.int32)) as opt:
        with subsel.FB(pool, ctx=c) as f:
            sel = opt.run(f, ctx=c)
    assert sel.indices[:3].tolist() == mine
    assert len(set(sel.indices.tolist())) == 30


def test_bad_inputs_raise_the_library_errors(pool, tmp_path):
    c = ctx()
    with pytest.raises(subsel.InvalidArgument, match="more than once"):
        subsel.Optimizer("lazy", ctx=c, initial=[3, 4, 3])
    with pytest.raises(TypeError, match="integers"):
        subsel.Optimizer("lazy", ctx=c, initial=[1.5])
    with pytest.raises(subsel.InvalidArgument, match="outside"):
        subsel.fb(pool, budget=5, ctx=c, initial=[400])
    with pytest.raises(subsel.InvalidArgument, match="more than the budget"):
        subsel.fb(pool, budget=2, ctx=c, initial=[1, 2, 3])
    with pytest.raises(subsel.Unsupported, match="parts"):
        subsel.fb(pool, budget=5, ctx=c, initial=[1], parts=2)
    path = tmp_path / "c.npz"
    with pytest.raises(subsel.Cancelled):
        subsel.fb(pool, budget=20, optimizer="stochastic", ctx=c,
                  checkpoint=path, progress=stop_at(5))
    with pytest.raises(subsel.InvalidArgument, match="budget is 20"):
        subsel.fb(pool, budget=21, optimizer="stochastic", ctx=c, resume=path)
    with pytest.raises(subsel.InvalidArgument, match="seed is 11"):
        subsel.fb(pool, budget=20, optimizer="stochastic",
                  ctx=subsel.Context(seed=12), resume=path)
    np.save(tmp_path / "sel.npy", np.arange(3))
    with pytest.raises(subsel.FormatError):
        subsel.Optimizer("lazy", ctx=c, resume=tmp_path / "sel.npy")
    with pytest.raises(subsel.IOFailure):
        subsel.Optimizer("lazy", ctx=c, resume=tmp_path / "missing.npz")
