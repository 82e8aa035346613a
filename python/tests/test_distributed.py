# SPDX-License-Identifier: MIT
"""Selection across processes (issue 12), as tests/test_distributed.c
checks it in C: summaries of row blocks with global ids and values on the
whole pool's objective, GreeDi merges (order-independent, at least the best
part, within 1% of one greedy), multi-round trees, the byte form and
pickle, shard files, errors; then the Dask engine on a two-process
LocalCluster against the same pieces computed here, and the MPI entry point
on MPI_COMM_SELF in a child process."""
import functools
import contextlib
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import subsel
from subsel import distributed as dist


def random_pool(seed, n, d, per_row):
    """A pool like the C tests' random_pool: per_row draws of u^3 * d per
    row (so low columns are common), values in [0.1, 1.1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        cols = np.unique((rng.random(per_row) ** 3 * d).astype(np.int64))
        rows.append(cols)
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    indices = np.concatenate(rows)
    data = (0.1 + rng.random(len(indices))).astype(np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, d))


def blocks(n, parts):
    """Row ranges of `parts` blocks whose sizes differ by at most one."""
    return [(n * j // parts, n * (j + 1) // parts) for j in range(parts)]


def target_of(pool):
    p = np.asarray(pool.sum(axis=0), dtype=np.float64).ravel()
    return p / p.sum()


@pytest.fixture(scope="module")
def pool():
    return random_pool(9, 2000, 64, 8)


@pytest.fixture(scope="module")
def make_objective(pool):
    # Picklable (a partial of a class of the package), the same target for
    # every part, so f of a part's set is f of it on the whole pool.
    return functools.partial(subsel.SDM, target_distribution=target_of(pool))


def summarise(pool, make_objective, parts, budget, **opt):
    n = pool.shape[0]
    return [dist.select_part(pool[a:b], make_objective, a, n, budget=budget,
                             **opt) for a, b in blocks(n, parts)]


def test_parts_summarise_with_global_ids(pool, make_objective):
    n = pool.shape[0]
    whole = make_objective(pool)
    summaries = summarise(pool, make_objective, 3, 40)
    for (a, b), s in zip(blocks(n, 3), summaries):
        assert (s.count, s.total, len(s)) == (40, n, 40)
        sel = s.selection()
        assert sel.indices.dtype == np.int64
        assert ((sel.indices >= a) & (sel.indices < b)).all()
        assert len(set(sel.indices.tolist())) == 40
        assert sel.value == pytest.approx(whole.evaluate(sel.indices),
                                          rel=1e-9)
        assert sel.budget == 40 and sel.short_reason is None
        # row i of the summary is the pool's row of the i-th id, exactly
        rows = s.rows()
        assert rows.shape == (40, pool.shape[1])
        np.testing.assert_array_equal(rows.toarray(),
                                      pool[sel.indices].toarray())
    # a part smaller than the budget selects all it has
    small = dist.select_part(pool[n - 10:], make_objective, n - 10, n,
                             budget=40)
    assert small.count == 10
    assert sorted(small.selection().indices) == list(range(n - 10, n))


def test_merges_follow_greedi(pool, make_objective):
    whole = make_objective(pool)
    single = subsel.Optimizer("lazy", budget=60).run(whole)
    s = summarise(pool, make_objective, 4, 60)
    best = max(x.selection().value for x in s)
    a = dist.merge(s, whole, budget=60).selection()
    b = dist.merge(s[::-1], whole, budget=60).selection()
    np.testing.assert_array_equal(a.indices, b.indices)
    assert len(a.indices) == 60
    assert a.value == pytest.approx(whole.evaluate(a.indices), rel=1e-9)
    assert a.value >= best
    assert a.value >= 0.99 * single.value
    assert a.evaluations > 4 * 60  # every part's and the merge's
    # `like` is only a kind and parameters: a part's objective does as well
    with make_objective(pool[:10]) as like:
        np.testing.assert_array_equal(
            dist.merge(s, like, budget=60).selection().indices, a.indices)
    # two rounds of two, as the tree with fanin 2 builds them
    left = subsel.summary_merge(s[:2], like=whole, budget=60)
    right = subsel.summary_merge(s[2:], like=whole, budget=60)
    by_hand = subsel.summary_merge([left, right], like=whole, budget=60)
    tree = dist.merge(s, whole, budget=60, fanin=2)
    assert tree.to_bytes() == by_hand.to_bytes()
    t = tree.selection()
    assert t.value == pytest.approx(whole.evaluate(t.indices), rel=1e-9)
    assert t.value >= 0.99 * single.value
    # one summary merges into itself, as one MPI rank does
    assert dist.merge(s[:1], whole, budget=60) is s[0]


def test_merge_tree_groups_in_order_like_the_mpi_ranks():
    def join(group):
        return "(" + "".join(group) + ")"
    assert dist.merge_tree(list("abcde"), 2, join) == "(((ab)(cd))e)"
    assert dist.merge_tree(list("abcde"), 4, join) == "((abcd)e)"
    assert dist.merge_tree(list("abcdefg"), 3, join) == "((abc)(def)g)"
    for fanin in (0, 1, 5, 9):
        assert dist.merge_tree(list("abcde"), fanin, join) == "(abcde)"
    assert dist.merge_tree(["a"], 2, join) == "a"
    with pytest.raises(ValueError, match="nothing to merge"):
        dist.merge_tree([], 2, join)


def test_bytes_pickle_and_files_round_trip(pool, make_objective, tmp_path):
    s = dist.select_part(pool[100:400], make_objective, 100, 2000,
                         budget=12, optimizer="stochastic",
                         ctx={"seed": 5})
    data = s.to_bytes()
    assert isinstance(data, bytes) and len(data) > 12 * 8
    for back in (subsel.Summary.from_bytes(data),
                 subsel.Summary.from_bytes(bytearray(data)),
                 subsel.Summary.from_bytes(memoryview(data)),
                 pickle.loads(pickle.dumps(s))):
        assert back.to_bytes() == data
        a, b = back.selection(), s.selection()
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.gains, b.gains)
        assert (a.value, a.evaluations) == (b.value, b.evaluations)
    s.save(tmp_path / "part.sss")
    assert subsel.Summary.load(tmp_path / "part.sss").to_bytes() == data
    assert (tmp_path / "part.sss").read_bytes() == data
    # damage is refused with the library's reason, never read past
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x41
    with pytest.raises(subsel.FormatError):
        subsel.Summary.from_bytes(bytes(damaged))
    with pytest.raises(subsel.FormatError):
        subsel.Summary.from_bytes(data[:-1])
    with pytest.raises(subsel.Error):
        subsel.Summary.from_bytes(b"")
    with pytest.raises(subsel.IOFailure):
        subsel.Summary.load(tmp_path / "missing.sss")
    closed = subsel.Summary.from_bytes(data)
    closed.close()
    assert repr(closed) == "<subsel.Summary (closed)>"
    # ctypes reports the handle's refusal as an ArgumentError
    with pytest.raises(Exception, match="Summary is closed"):
        closed.to_bytes()


def test_shard_files(pool, make_objective, tmp_path):
    n = pool.shape[0]
    paths = []
    for j, (a, b) in enumerate(blocks(n, 3)):
        paths.append(tmp_path / f"shard{j}.npz")
        sp.save_npz(paths[-1], pool[a:b])
    assert subsel.csr_npz_shape(paths[1]) == (blocks(n, 3)[1][1]
                                              - blocks(n, 3)[1][0], 64)
    firsts, total = dist.offsets(paths)
    assert (firsts, total) == dist.offsets([pool[a:b]
                                            for a, b in blocks(n, 3)])
    assert firsts == [a for a, _ in blocks(n, 3)] and total == n
    from_files = [dist.select_part(str(p), make_objective, f, total,
                                   budget=30) for p, f in zip(paths, firsts)]
    in_memory = summarise(pool, make_objective, 3, 30)
    assert [x.to_bytes() for x in from_files] == \
        [x.to_bytes() for x in in_memory]
    with pytest.raises(subsel.IOFailure):
        subsel.csr_npz_shape(tmp_path / "missing.npz")


def test_errors_carry_the_library_message(pool, make_objective):
    part = make_objective(pool[:50])
    with pytest.raises(subsel.InvalidArgument, match="does not fit a pool"):
        subsel.summary_select(part, offset=60, total=100, budget=5)
    with pytest.raises(subsel.InvalidArgument):
        subsel.summary_select(part, offset=-1, total=100, budget=5)
    # objectives that are not over CSR rows cannot be split
    points = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
    with subsel.UniPROT(source=points, target=points, k=2, reg=0.1) as up:
        with pytest.raises(subsel.Unsupported, match="FB or SDM"):
            subsel.summary_select(up, offset=0, total=4, budget=2)
    a = subsel.summary_select(part, offset=0, total=100, budget=5)
    other_pool = subsel.summary_select(part, offset=0, total=101, budget=5)
    with pytest.raises(subsel.InvalidArgument, match="not parts of one pool"):
        subsel.summary_merge([a, other_pool], like=part, budget=5)
    overlapping = subsel.summary_select(part, offset=0, total=100, budget=5)
    with pytest.raises(subsel.InvalidArgument, match="disjoint"):
        subsel.summary_merge([a, overlapping], like=part, budget=5)
    with pytest.raises(subsel.InvalidArgument, match="columns"):
        subsel.summary_merge([a], like=subsel.SDM(
            random_pool(4, 10, 13, 3), target_distribution=np.ones(13)),
            budget=5)
    with subsel.UniPROT(source=points, target=points, k=2, reg=0.1) as up:
        with pytest.raises(subsel.Unsupported):
            subsel.summary_merge([a], like=up, budget=5)
    with pytest.raises(subsel.InvalidArgument):
        subsel.summary_merge([], like=part, budget=5)
    with pytest.raises(TypeError, match="Summary"):
        subsel.summary_merge([a, a.to_bytes()], like=part, budget=5)
    # the handle checks: a summary where an objective belongs
    with pytest.raises(Exception, match="expected an objective, not Summary"):
        subsel.summary_select(a, offset=0, total=100, budget=5)
    with pytest.raises(TypeError, match="unknown optimizer parameter"):
        subsel.summary_select(part, offset=0, total=100, budget=5, fan_in=2)
    # make_objective over other rows than the part's
    with pytest.raises(ValueError, match="50 items for a part of 60 rows"):
        dist.select_part(pool[:60], lambda m: make_objective(pool[:50]),
                         0, 100, budget=5)
    with pytest.raises(ValueError, match="unknown method"):
        dist.mpi_select(0, part, budget=5, method="fast")


def test_mpi_available_is_a_bool():
    assert isinstance(subsel.mpi_available(), bool)


# --------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    import distributed  # installed by ./run test: never skipped
    # Processes, as on a real cluster: each worker imports the package and
    # loads the library itself (environment inherited: SUBSEL_LIBRARY or
    # PKG_CONFIG_PATH, PYTHONPATH).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _library_path():
    import subsel as s
    return s.library_path


def test_dask_select_equals_the_pieces_in_process(client, pool,
                                                  make_objective, tmp_path):
    assert set(client.run(_library_path).values()) == {subsel.library_path}
    n = pool.shape[0]
    ranges = blocks(n, 5)
    # three shard files and two matrices: both kinds of part at once
    parts = []
    for j, (a, b) in enumerate(ranges):
        if j % 2 == 0:
            parts.append(str(tmp_path / f"shard{j}.npz"))
            sp.save_npz(parts[-1], pool[a:b])
        else:
            parts.append(pool[a:b])
    whole = make_objective(pool)
    single = subsel.Optimizer("lazy", budget=60).run(whole)
    here = summarise(pool, make_objective, 5, 60)
    for fanin in (0, 2):
        got = dist.dask_select(client, parts, make_objective, budget=60,
                               fanin=fanin)
        want = dist.merge(here, whole, budget=60, fanin=fanin).selection()
        np.testing.assert_array_equal(got.indices, want.indices)
        assert got.value == want.value
        assert got.evaluations == want.evaluations
        assert ((got.indices >= 0) & (got.indices < n)).all()
        assert got.value == pytest.approx(whole.evaluate(got.indices),
                                          rel=1e-9)
        assert got.value >= 0.99 * single.value
    # a seeded stochastic selection is repeated exactly on the workers
    opts = dict(budget=40, optimizer="stochastic", ctx={"seed": 3})
    got = dist.dask_select(client, parts, make_objective, fanin=3, **opts)
    here = [dist.select_part(pool[a:b], make_objective, a, n, **opts)
            for a, b in ranges]
    want = dist.merge(here, whole, fanin=3, **opts).selection()
    np.testing.assert_array_equal(got.indices, want.indices)


def test_dask_select_reports_errors(client, pool):
    with pytest.raises(TypeError, match="dict of Context parameters"):
        dist.dask_select(client, [pool], subsel.FB, budget=5,
                         ctx=subsel.Context())
    with pytest.raises(ValueError, match="at least one part"):
        dist.dask_select(client, [], subsel.FB, budget=5)
    # a worker's error comes back as the library's exception
    with pytest.raises(subsel.InvalidArgument, match="budget = -3 is outside"):
        dist.dask_select(client, [pool[:10], pool[10:20]], subsel.FB,
                         budget=-3)


_MPI_CHILD = r"""
import sys
import numpy as np
from mpi4py import MPI
import subsel
from subsel import distributed as dist
from test_distributed import random_pool, target_of
pool = random_pool(8, 1500, 40, 6)
obj = subsel.SDM(pool, target_distribution=target_of(pool))
ctx = subsel.Context(seed=77)
want = subsel.Optimizer("stochastic", budget=50).run(obj, ctx=ctx)
got = dist.mpi_select(MPI.COMM_SELF, obj, budget=50, method="exact",
                      ctx={"seed": 77})
assert np.array_equal(got.indices, want.indices), (got, want)
assert np.array_equal(got.gains, want.gains)
assert got.value == want.value
greedi = dist.mpi_select(MPI.COMM_SELF, obj, budget=50)
lazy = subsel.Optimizer("lazy", budget=50).run(obj)
assert np.array_equal(greedi.indices, lazy.indices), (greedi, lazy)
try:
    dist.mpi_select(MPI.COMM_SELF, obj, budget=5, method="exact",
                    optimizer="lazy")
except subsel.Unsupported as e:
    print("unsupported:", e)
else:
    raise AssertionError("exact with lazy was accepted")
print("ok")
"""


def _child_env() -> dict:
    """The environment of a child Python running this module's helpers
    with this package and library."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(
        [here, str(Path(subsel.__file__).resolve().parents[1])]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["SUBSEL_LIBRARY"] = subsel.library_path
    return env


def test_mpi_select_on_comm_self():
    pytest.importorskip("mpi4py")
    if not subsel.mpi_available():
        pytest.skip("libsubsel was built without its MPI component")
    # In a child: MPI is initialised once per process, and not in the one
    # that starts the Dask cluster.
    env = _child_env()
    r = subprocess.run([sys.executable, "-c", _MPI_CHILD], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("ok")
    assert "unsupported:" in r.stdout


_MPI_RANKS = r"""
import functools
import numpy as np
from mpi4py import MPI
import subsel
from subsel import distributed as dist
from test_distributed import blocks, random_pool, target_of
pool = random_pool(9, 900, 32, 6)
make = functools.partial(subsel.SDM, target_distribution=target_of(pool))
comm = MPI.COMM_WORLD
a, b = blocks(900, comm.Get_size())[comm.Get_rank()]
one = {"threads": 1}
for fanin in (0, 2):
    got = dist.mpi_select(comm, make(pool[a:b]), budget=30, fanin=fanin,
                          ctx=one)
    here = [dist.select_part(pool[x:y], make, x, 900, budget=30, ctx=one)
            for x, y in blocks(900, comm.Get_size())]
    want = dist.merge(here, make(pool), budget=30, fanin=fanin).selection()
    assert np.array_equal(got.indices, want.indices), (fanin, got, want)
got = dist.mpi_select(comm, make(pool[a:b]), budget=30, method="exact",
                      ctx={"seed": 4, "threads": 1})
want = subsel.Optimizer("stochastic", budget=30).run(
    make(pool), ctx=subsel.Context(seed=4, threads=1))
assert np.array_equal(got.indices, want.indices), (got, want)
print("rank ok")
"""


def test_mpi_ranks_merge_as_the_python_tree():
    """Three ranks under mpirun: the C component's GreeDi tree is
    merge() of the same parts with the same fanin, and exact is the
    one-process stochastic selection."""
    pytest.importorskip("mpi4py")
    if not subsel.mpi_available() or shutil.which("mpirun") is None:
        pytest.skip("no MPI component or no mpirun")
    env = _child_env()
    if os.geteuid() == 0:  # containers; Open MPI refuses root otherwise
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "3",
                        sys.executable, "-c", _MPI_RANKS], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("rank ok") == 3


def test_docs_examples_run_as_printed(pool, tmp_path, monkeypatch):
    """docs/python.md's Dask example and its engine-agnostic one, on three
    shards of the pool: the Dask result is the in-process pieces' one."""
    text = (Path(__file__).resolve().parents[2] / "docs" /
            "python.md").read_text()
    section = text.split("## Distributed selection", 1)[1].split("\n## ")[0]
    dask_example, pieces, _mpi = re.findall(r"```python\n(.*?)```", section,
                                            re.S)
    n = pool.shape[0]
    for j, (a, b) in enumerate(blocks(n, 3)):
        sp.save_npz(tmp_path / f"codes-{j}.npz", pool[a:b])
    np.save(tmp_path / "target_distribution.npy", target_of(pool))
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(dask_example, "python.md", "exec"), names)
        exec(compile(pieces, "python.md", "exec"), names)
    make_objective = names["make_objective"]
    opts = dict(budget=100, optimizer="lazier", ctx={"seed": 7})
    here = [dist.select_part(pool[a:b], make_objective, a, n, **opts)
            for a, b in blocks(n, 3)]
    whole = make_objective(pool)
    want = dist.merge(here, whole, fanin=2, **opts).selection()
    np.testing.assert_array_equal(names["r"].indices, want.indices)
    final = names["final"].selection()
    lazy = subsel.Optimizer("lazy", budget=100).run(whole)
    assert final.value == pytest.approx(whole.evaluate(final.indices),
                                        rel=1e-9)
    assert final.value >= 0.99 * lazy.value
