# SPDX-License-Identifier: MIT
"""Matrix utilities, .npy vectors, UniPROT batches and accuracy, TAROT's
steps and ClipCov's submodularity check, on the CLI's and C tests' data."""
import gc

import numpy as np
import pytest
import scipy.sparse as sp

import subsel

@pytest.fixture(scope="module")
def data(fixtures):
    return fixtures.parent / "data"


# --------------------------------------------------------------------------
# CSR and dense matrices
# --------------------------------------------------------------------------

def test_csr_save_npz_round_trip(fb_data, tmp_path):
    z = fb_data[0]
    m = subsel.csr(z)
    for compressed in (True, False):
        path = tmp_path / f"z{int(compressed)}.npz"
        m.save_npz(path, compressed=compressed)
        back = sp.load_npz(path)
        assert back.dtype == np.float32 and back.shape == z.shape
        assert (back != z).nnz == 0
    with pytest.raises(subsel.IOFailure, match="missing"):
        m.save_npz(tmp_path / "missing" / "z.npz")


def test_csr_view_rows_is_zero_copy_and_outlives_its_parent(fb_data):
    z = fb_data[0].astype(np.float32)
    m = subsel.csr(z)
    view = m.view_rows(20, 30)
    assert view.shape == (30, z.shape[1])
    # row 0 of the view is row 20 of the parent, in place: SciPy's memory
    idx, val, n = view._row_pointers(0)
    assert idx == z.indices.ctypes.data + 4 * int(z.indptr[20])
    assert val == z.data.ctypes.data + 4 * int(z.indptr[20])
    want = subsel.fb(z[20:50], budget=5, optimizer="naive")
    sizes = [(a.size, a.dtype) for a in (z.indptr, z.indices, z.data)]
    # drop every input: the parent handle and SciPy's arrays
    del m, z, fb_data
    gc.collect()
    # Reuse freed memory of the same sizes with other values, so that a
    # view reading freed arrays would select differently (valgrind sees
    # such reads in any case).
    scribble = [np.full(n, 0 if dt.kind == "i" else 1e3, dt)
                for _ in range(4) for n, dt in sizes]
    got = subsel.fb(view, budget=5, optimizer="naive")
    del scribble
    np.testing.assert_array_equal(got.indices, want.indices)
    assert got.value == want.value
    with pytest.raises(subsel.InvalidArgument, match="view_rows"):
        view.view_rows(25, 10)


def test_csr_gather_rows_and_column_sums(fb_data):
    z = fb_data[0]
    m = subsel.csr(z)
    rows = [5, 0, 5, 79]
    g = m.gather_rows(rows)
    assert (g.to_scipy() != z[rows]).nnz == 0
    np.testing.assert_allclose(m.column_sums(),
                               np.asarray(z.sum(0), np.float64).ravel(),
                               rtol=1e-6)
    with pytest.raises(subsel.InvalidArgument, match="gather_rows"):
        m.gather_rows([80])


def test_dense_helpers(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5)).astype(np.float32)
    a[a < 0.3] = 0
    d = subsel.dense(a[::2])  # strided, borrowed
    np.testing.assert_array_equal(d.to_numpy(), a[::2])
    np.testing.assert_array_equal(d.row(1), a[2])
    with pytest.raises(IndexError):
        d.row(3)
    np.testing.assert_allclose(d.column_sums(), a[::2].sum(0, dtype=np.float64),
                               rtol=1e-6)
    c = d.to_csr()
    assert c.nnz == np.count_nonzero(a[::2])
    np.testing.assert_array_equal(c.to_scipy().toarray(), a[::2])
    d.save_npy(tmp_path / "d.npy")
    back = np.load(tmp_path / "d.npy")
    assert back.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(back, a[::2])


# --------------------------------------------------------------------------
# Vectors in .npy files
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["vector_f8", "vector_i4", "vector_i8",
                                  "vector_row", "vector_column_fortran",
                                  "vector_empty"])
def test_load_vector_as_numpy_reads_it(data, name):
    path = data / "variants" / f"{name}.npy"
    want = np.load(path).ravel()
    got = subsel.load_vector(path)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want.astype(np.float64))
    if want.dtype.kind == "i":
        np.testing.assert_array_equal(subsel.load_vector(path, dtype=np.int64),
                                      want)


def test_load_vector_errors(data, fixtures):
    with pytest.raises(subsel.Unsupported):
        subsel.load_vector(data / "variants" / "vector_f8.npy", dtype=np.int64)
    with pytest.raises(subsel.Unsupported):
        subsel.load_vector(data / "variants" / "dense_f4.npy")
    with pytest.raises(subsel.IOFailure, match="nothing.npy"):
        subsel.load_vector(fixtures / "nothing.npy")
    with pytest.raises(TypeError):
        subsel.load_vector(data / "variants" / "vector_f8.npy", dtype=np.int8)


def test_save_vector_and_selection_save(tmp_path, fb_data):
    subsel.save_vector(tmp_path / "f.npy", np.array([1.5, -2.0], np.float32))
    f = np.load(tmp_path / "f.npy")
    assert f.dtype == np.dtype("<f8") and f.tolist() == [1.5, -2.0]
    subsel.save_vector(tmp_path / "i.npy", np.array([3, 1], np.int32))
    i = np.load(tmp_path / "i.npy")
    assert i.dtype == np.dtype("<i8") and i.tolist() == [3, 1]
    r = subsel.fb(fb_data[0], weights=fb_data[1], budget=12,
                  optimizer="naive")
    r.save(tmp_path / "sel.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "sel.npy"), r.indices)
    with pytest.raises(ValueError):
        subsel.save_vector(tmp_path / "x.npy", np.zeros((2, 2)))


# --------------------------------------------------------------------------
# UniPROT: the CLI's case (tests/cli/uniprot.sh), batches
# --------------------------------------------------------------------------

def _uniprot(data):
    d = data / "uniprot"
    return {k: np.load(d / f"{k}.npy") for k in
            ("source", "target", "source_labels", "target_labels", "order")}


def test_uniprot_as_the_cli_with_nn_accuracy(data, tmp_path):
    # `subsel uniprot -k 8 --reg 0.05 --labels ... --target-labels ...`:
    # NumPy's order, objective 7.590794962307694, accuracy 59/60.
    u = _uniprot(data)
    ctx = subsel.Context(threads=1)
    obj = subsel.UniPROT(source=u["source"], target=u["target"], k=8,
                         reg=0.05, ctx=ctx)
    r = subsel.Optimizer("naive", budget=8, ctx=ctx).run(obj, ctx=ctx)
    np.testing.assert_array_equal(r.indices, u["order"])
    assert r.value == pytest.approx(7.590794962307694, abs=1e-6)
    acc = subsel.nn_accuracy(u["source"], u["source_labels"], r.indices,
                             u["target"], u["target_labels"], ctx=ctx)
    assert acc == pytest.approx(59 / 60, abs=1e-12)
    # the .npy the CLI writes: same payload as NumPy's order.npy
    r.save(tmp_path / "a.npy")
    assert (tmp_path / "a.npy").read_bytes()[-64:] == \
        (data / "uniprot" / "order.npy").read_bytes()[-64:]
    with pytest.raises(subsel.InvalidArgument, match="nn_accuracy"):
        subsel.nn_accuracy(u["source"], u["source_labels"], [40],
                           u["target"], u["target_labels"])
    with pytest.raises(ValueError, match="labels"):
        subsel.nn_accuracy(u["source"], u["source_labels"][:5], [0],
                           u["target"], u["target_labels"])


def test_uniprot_select_batch_is_greedy_with_appended_plans(data):
    batch = _uniprot(data)["source"]
    r = subsel.UniPROT.select_batch(batch, 0.25, reg=0.05)
    assert len(r) == 10 and r.budget == 10 and len(set(r.indices)) == 10
    # what the C test checks: naive greedy, appended plans, on the batch
    # against itself
    obj = subsel.UniPROT(source=batch, target=batch, k=10, reg=0.05,
                         update=1)
    ref = subsel.Optimizer("naive", budget=10, stop_nonpositive=0).run(obj)
    np.testing.assert_array_equal(r.indices, ref.indices)
    np.testing.assert_array_equal(r.gains, ref.gains)
    obj["update"] = 0
    assert r.value <= obj.evaluate(r.indices) + 1e-9
    with pytest.raises(subsel.InvalidArgument, match="fraction"):
        subsel.UniPROT.select_batch(batch, 1.5)
    with pytest.raises(ValueError, match="similarity"):
        subsel.UniPROT.select_batch(batch, 0.5, similarity="euclid")


def test_uniprot_gain_memory_changes_speed_not_selection():
    # gain_memory 0 keeps no water-filling weights: every gain makes them
    # again, and the selection must not change by a bit. 600 source rows:
    # naive greedy's scans (512 rows or more) keep them by default.
    rng = np.random.default_rng(5)
    source = rng.standard_normal((600, 16)).astype(np.float32)
    target = rng.standard_normal((90, 16)).astype(np.float32)

    def run(**params):
        obj = subsel.UniPROT(source=source, target=target, k=8, reg=0.05,
                             **params)
        return obj, subsel.Optimizer("naive", budget=8).run(obj)

    kept, a = run()
    assert kept["gain_memory"] == 512 << 20
    remade, b = run(gain_memory=0)
    assert remade["gain_memory"] == 0
    np.testing.assert_array_equal(b.indices, a.indices)
    assert b.value == a.value
    with pytest.raises(subsel.InvalidArgument, match="gain_memory"):
        remade["gain_memory"] = -1


# --------------------------------------------------------------------------
# TAROT, step by step, against tests/fixtures/tarot
# --------------------------------------------------------------------------

@pytest.fixture
def tarot(fixtures):
    d = fixtures / "tarot"
    return subsel.Tarot(np.load(d / "candidates.npy"),
                        np.load(d / "targets.npy"),
                        ctx=subsel.Context(threads=1))


def test_tarot_whiten_and_scores_reproduce_fixture(fixtures, tarot):
    d = fixtures / "tarot"
    u, v = tarot.whiten()
    assert u.shape == (200, 16) and v.shape == (50, 16)
    s = np.load(d / "score.npy")
    # drop the selector and its inputs: the views keep what they read
    sc, di = tarot.scores(distances=True)
    tarot.close()
    gc.collect()
    np.testing.assert_allclose(u.to_numpy(), np.load(d / "U.npy"), atol=1e-5)
    np.testing.assert_allclose(v.to_numpy(), np.load(d / "V.npy"), atol=1e-5)
    np.testing.assert_allclose(sc, s, atol=1e-5)
    np.testing.assert_allclose(di, np.sqrt(np.maximum(0, 2 - 2 * s)),
                               atol=1e-4)
    assert sc.dtype == np.float32


def test_tarot_score_block_is_the_block_of_the_whole(tarot):
    whole = tarot.scores()
    np.testing.assert_array_equal(tarot.scores(slice(7, 14), slice(3, 6)),
                                  whole[7:14, 3:6])
    # slices clamp as Python's do
    np.testing.assert_array_equal(tarot.scores(slice(190, 210)), whole[190:])
    with pytest.raises(TypeError):
        tarot.scores(slice(0, 10, 2))


def test_tarot_topk_orders_the_fixture_scores(fixtures, tarot):
    s = np.load(fixtures / "tarot" / "score.npy")
    idx, sc = tarot.topk(5)
    assert idx.shape == (50, 5) and sc.shape == (50, 5)
    # best first, ties to the lower index: NumPy's order of the fixture
    want = np.array([np.lexsort((np.arange(200), -s[:, j]))[:5]
                     for j in range(50)])
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(sc, np.take_along_axis(s.T, want, 1),
                               atol=1e-5)
    with pytest.raises(subsel.InvalidArgument):
        tarot.topk(201)


def test_tarot_ot_reproduces_fixture(fixtures, tarot):
    d = fixtures / "tarot"
    r = tarot.ot()
    # from raw float32 features: the C test's tolerances
    np.testing.assert_allclose(r.f, np.load(d / "f.npy"), atol=2e-5)
    assert r.g.shape == (50,)
    assert r.loss == pytest.approx(0.9882505286610235, abs=1e-6)
    again = tarot.ot(np.arange(200))
    assert again.loss == r.loss
    np.testing.assert_array_equal(again.f, r.f)
    with pytest.raises(subsel.InvalidArgument):
        tarot.ot([0, 200])


def test_tarot_ot_memory_bounds_the_cost_store(fixtures):
    d = fixtures / "tarot"
    cand, targ = np.load(d / "candidates.npy"), np.load(d / "targets.npy")
    stored = subsel.Tarot(cand, targ)
    assert stored["ot_memory"] == 512 << 20
    # 4 KiB: all but the first rows of each solve recomputed every pass
    lean = subsel.Tarot(cand, targ, ot_memory=4096)
    assert lean["ot_memory"] == 4096
    a, b = stored.select_fixed(40), lean.select_fixed(40)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(b.gains, a.gains, rtol=1e-6, atol=1e-9)
    with pytest.raises(subsel.InvalidArgument):
        lean["ot_memory"] = -1


def test_tarot_weights(data, fixtures):
    f = np.load(fixtures / "tarot" / "f.npy")
    want = np.load(data / "tarot" / "weights_reference.npy")
    np.testing.assert_array_equal(subsel.Tarot.weights_reference(f, 50, 200),
                                  want)
    # every item 1, the other 3 shared as max - p = (2, 1, 0)
    np.testing.assert_array_equal(subsel.Tarot.weights([0.0, 1.0, 2.0], 6),
                                  [3, 2, 1])
    w = subsel.Tarot.weights(f, 250)
    assert w.sum() == 250 and w.min() >= 1
    assert subsel.Tarot.weights(f, 2 ** 53).sum() == 2 ** 53
    with pytest.raises(subsel.InvalidArgument, match="2\\^53"):
        subsel.Tarot.weights(f, 2 ** 53 + 1)
    with pytest.raises(subsel.NumericError):
        subsel.Tarot.weights([0.0, np.nan], 4)


def test_tarot_project_is_seeded_and_row_wise(fixtures):
    x = np.load(fixtures / "tarot" / "candidates.npy").astype(np.float32)
    ctx = subsel.Context(seed=3)
    p = subsel.Tarot.project(x, 8, ctx=ctx).to_numpy()
    assert p.shape == (200, 8)
    # a row's projection depends on the row, seed, dim and kind only
    np.testing.assert_array_equal(
        subsel.Tarot.project(x[50:60], 8, block=1, ctx=ctx).to_numpy(),
        p[50:60])
    q = subsel.Tarot.project(x, 8, ctx=subsel.Context(seed=4)).to_numpy()
    assert not np.array_equal(p, q)
    g = subsel.Tarot.project(x, 8, kind="gaussian", ctx=ctx).to_numpy()
    assert not np.array_equal(p, g)
    with pytest.raises(subsel.InvalidArgument):
        subsel.Tarot.project(x, 0)
    with pytest.raises(ValueError, match="projection"):
        subsel.Tarot.project(x, 8, kind="sparse")


# --------------------------------------------------------------------------
# ClipCov: the submodularity check against NumPy
# --------------------------------------------------------------------------

def test_clipcov_check_submodular_agrees_with_numpy(data):
    d = data / "clipcov"
    image, text = np.load(d / "image.npy"), np.load(d / "text.npy")
    labels = np.load(d / "labels.npy")
    obj = subsel.ClipCov(image, text, labels=labels)
    x, y = image.astype(np.float64), text.astype(np.float64)
    sim = x @ y.T + (x @ y.T).T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    want = bool((sim[same] >= 0).all())
    assert obj.check_submodular(exact=True) == want
    # cheap answer: proven implies true
    assert obj.check_submodular() <= want
    obj["weight_intra"] = 0.0
    assert obj.check_submodular() is True


def test_isa_info_and_context_isa():
    info = subsel.isa_info()
    assert info["scalar"] == {"compiled": True, "supported": True}
    assert info["selected"] in subsel.ISAS
    assert info[info["selected"]]["supported"]
    assert subsel.Context(max_isa=0).isa == "scalar"
    assert subsel.Context().isa == info["selected"]


def test_uniprot_transport_similarity_is_the_plans(data):
    u = _uniprot(data)
    for sim in ("neg_euclidean", "cosine"):
        obj = subsel.UniPROT(source=u["source"], target=u["target"], k=8,
                             reg=0.05, similarity=sim)
        r = subsel.Optimizer("naive", budget=8, stop_nonpositive=0).run(obj)
        f, value = obj.transport_similarity(r.indices)
        plan, v = obj.plan(r.indices)
        # S from the features, independently, in NumPy
        x = u["source"][r.indices].astype(np.float64)
        y = u["target"].astype(np.float64)
        if sim == "cosine":
            s = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ \
                (y / np.linalg.norm(y, axis=1, keepdims=True)).T
        else:
            s = -np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
        assert f == pytest.approx((plan * s).sum(), rel=1e-6, abs=1e-6)
        assert value == pytest.approx(v, rel=1e-12)
        entropy = -(plan[plan > 0] * np.log(plan[plan > 0])).sum()
        assert value - f == pytest.approx(0.05 * entropy, rel=1e-6)
        assert value == pytest.approx(r.value, rel=1e-9)


def test_uniprot_select_batch_per_source_and_solved(data):
    u = _uniprot(data)
    batch, labels = u["source"], u["source_labels"]
    r = subsel.UniPROT.select_batch(batch, 0.25, reg=0.05, sources=labels,
                                    update="solve",
                                    similarity="neg_euclidean")
    at = 0
    for q in np.unique(labels):  # label order, each source on its own
        rows = np.flatnonzero(labels == q)
        ref = subsel.UniPROT.select_batch(batch[rows], 0.25, reg=0.05,
                                          update="solve",
                                          similarity="neg_euclidean")
        np.testing.assert_array_equal(r.indices[at:at + len(ref)],
                                      rows[ref.indices])
        at += len(ref)
    assert at == len(r)
    # update="solve" on the whole batch is naive greedy with re-solves
    pb = subsel.UniPROT.select_batch(batch, 0.25, reg=0.05, update="solve")
    obj = subsel.UniPROT(source=batch, target=batch, k=10, reg=0.05)
    ref = subsel.Optimizer("naive", budget=10, stop_nonpositive=0).run(obj)
    np.testing.assert_array_equal(pb.indices, ref.indices)
    with pytest.raises(ValueError, match="update"):
        subsel.UniPROT.select_batch(batch, 0.5, update="best")
    with pytest.raises(ValueError, match="sources"):
        subsel.UniPROT.select_batch(batch, 0.5, sources=labels[:3])
