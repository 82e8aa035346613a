# SPDX-License-Identifier: MIT
"""OT, UniPROT and the SAE encoder against the fixtures of the C tests."""
import inspect
import json

import numpy as np
import pytest

import subsel


def _expected(fixtures):
    return json.loads((fixtures / "expected.json").read_text())


@pytest.mark.parametrize("anneal", [0, 1])
def test_sinkhorn_reproduces_pot(fixtures, anneal):
    d = fixtures / "ot_sinkhorn"
    a, b, m = (np.load(d / f) for f in ("a.npy", "b.npy", "M.npy"))
    t = subsel.sinkhorn(a, b, cost=m, reg=0.05, anneal=anneal)
    np.testing.assert_allclose(t.plan, np.load(d / "plan.npy"), atol=1e-7)
    assert t.value == pytest.approx(_expected(fixtures)["ot_sinkhorn"]["cost"],
                                    abs=1e-8)
    np.testing.assert_allclose(
        np.exp((t.f[:, None] + t.g[None, :] - m) / 0.05), t.plan, atol=1e-12)
    assert t.iterations > 0 and t.violation <= 1e-9


def test_partial_reproduces_pot(fixtures):
    d = fixtures / "ot_partial"
    e = _expected(fixtures)["ot_partial"]
    a, b, m = (np.load(d / f) for f in ("a.npy", "b.npy", "M.npy"))
    t = subsel.partial_ot(a, b, cost=m, reg=e["reg"], mass=e["m"])
    np.testing.assert_allclose(t.plan, np.load(d / "plan.npy"), atol=1e-6)
    assert t.plan.sum() == pytest.approx(e["m"], abs=1e-8)


def test_ot_errors(fixtures):
    m = np.ones((3, 4))
    with pytest.raises(subsel.InvalidArgument):
        subsel.sinkhorn(cost=m, reg=0.0)
    with pytest.raises(subsel.InvalidArgument, match="max_iter"):
        subsel.sinkhorn(cost=m, reg=0.1, max_iter=0)
    with pytest.raises(TypeError):
        subsel.sinkhorn(reg=0.1)


def test_sinkhorn_points_match_cost_matrix():
    rng = np.random.default_rng(0)
    x, y = rng.random((7, 3)), rng.random((5, 3))
    cost = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    p = subsel.sinkhorn(x=x.astype(np.float32), y=y.astype(np.float32), reg=0.1)
    q = subsel.sinkhorn(cost=cost, reg=0.1)
    np.testing.assert_allclose(p.plan, q.plan, atol=1e-5)


def test_uniprot_greedy_reproduces_fixture(fixtures):
    d = fixtures / "uniprot"
    s = np.load(d / "S.npy")
    obj = subsel.UniPROT(s, k=10, reg=0.1)
    r = subsel.Optimizer("naive", budget=10, stop_nonpositive=0).run(obj)
    order, values = np.load(d / "order.npy"), np.load(d / "values.npy")
    np.testing.assert_array_equal(r.indices, order)
    assert r.value == pytest.approx(values[-1], abs=1e-6)
    for i in range(10):
        assert obj.evaluate(order[:i + 1]) == pytest.approx(values[i], abs=1e-6)


def test_uniprot_last_prototype_is_the_best_candidate():
    # The k-th prototype fills the room left, up to the last solve's
    # violation; a loose tol makes that shortfall large. Every candidate's
    # gain used to be -inf then, and greedy took the first item.
    rng = np.random.default_rng(3)
    for trial in range(6):
        x, y = rng.standard_normal((60, 5)), rng.standard_normal((80, 5))
        s = -((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).astype(np.float32)
        obj = subsel.UniPROT(s, k=10, reg=0.1, tol=1e-5)
        r = subsel.Optimizer("naive", budget=10, stop_nonpositive=0).run(obj)
        first = list(r.indices[:9])
        gains = {v: obj.gain(first, v) for v in range(60) if v not in first}
        assert np.isfinite(r.gains[-1]), trial
        assert r.indices[-1] == max(gains, key=lambda v: (gains[v], -v)), trial


def test_uniprot_plan_of_first_five(fixtures):
    d = fixtures / "uniprot"
    obj = subsel.UniPROT(np.load(d / "S.npy"), k=10, reg=0.1)
    plan, value = obj.plan([0, 1, 2, 3, 4])
    assert value == pytest.approx(_expected(fixtures)["uniprot"]["f_first5"],
                                  abs=1e-6)
    np.testing.assert_allclose(plan, np.load(d / "plan_first5.npy"), atol=1e-6)
    np.testing.assert_allclose(plan.sum(1), 1.0, atol=1e-9)
    assert obj["max_iter"] == 1000


def test_sae_encode_matches_numpy():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 6)).astype(np.float32)
    be = rng.standard_normal(16).astype(np.float32)
    bd = rng.standard_normal(6).astype(np.float32)
    x = rng.standard_normal((9, 6)).astype(np.float32)
    sae = subsel.SAE(w, be, bd)
    assert (sae.inputs, sae.features) == (6, 16)
    codes = sae.encode(x, k=3).to_scipy().toarray()
    act = np.maximum((x - bd) @ w.T + be, 0)
    want = np.zeros_like(act)
    for r in range(len(act)):
        top = np.argsort(-act[r], kind="stable")[:3]
        top = top[act[r, top] > 0]
        want[r, top] = act[r, top]
    np.testing.assert_allclose(codes, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(subsel.InvalidArgument):
        sae.encode(x, k=17)


def _same_set(a, b):
    assert sorted(a.tolist()) == sorted(np.asarray(b).tolist())


def test_tarot_pipeline_from_raw_features(fixtures):
    d = fixtures / "tarot"
    ctx = subsel.Context(threads=1)
    t = subsel.Tarot(np.load(d / "candidates.npy"), np.load(d / "targets.npy"),
                     reference=1, ctx=ctx)
    assert t["reference"] == 1
    _same_set(t.select_fixed(40, ctx=ctx).indices,
              np.load(d / "fixed_size_reference.npy"))
    r = t.select_otm(5, np.load(d / "target_folds.npy"), ctx=ctx)
    _same_set(r.indices, np.load(d / "otm_reference.npy"))
    # without a count, the folds file's own (5 here)
    r = t.select_otm(fold_of_target=np.load(d / "target_folds.npy"), ctx=ctx)
    _same_set(r.indices, np.load(d / "otm_reference.npy"))


def test_tarot_otm_defaults_to_the_papers_ten_folds(fixtures):
    # TAROT section 4.3: k = 10 (the default was 5 before 0.15), as
    # `subsel tarot --otm`; fewer targets than 10 get one fold each.
    d = fixtures / "tarot"
    cand, targ = np.load(d / "candidates.npy"), np.load(d / "targets.npy")
    t = subsel.Tarot(cand, targ, ctx=subsel.Context(threads=1, seed=2))
    assert inspect.signature(t.folds).parameters["folds"].default == 10
    ctx = subsel.Context(threads=1, seed=2)
    np.testing.assert_array_equal(t.select_otm(ctx=ctx).indices,
                                  t.select_otm(10, ctx=ctx).indices)
    assert len(np.unique(t.folds(ctx=ctx))) == 10
    six = subsel.Tarot(cand, targ[:6], ctx=ctx)
    np.testing.assert_array_equal(six.select_otm(ctx=ctx).indices,
                                  six.select_otm(6, ctx=ctx).indices)


def test_clipcov_select_is_subset_of_greedy():
    rng = np.random.default_rng(2)
    image = rng.standard_normal((40, 8)).astype(np.float32)
    text = image + 0.1 * rng.standard_normal((40, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 40)
    obj = subsel.ClipCov(image, text, labels=labels)
    np.testing.assert_array_equal(np.unique(obj.classes()), [0, 1, 2])
    sel, greedy = obj.select(10)
    assert greedy.budget == 10 and len(greedy) == 10
    assert set(sel.indices) <= set(greedy.indices)
    assert sel.value >= greedy.value - 1e-9
    dg = subsel.double_greedy(obj, greedy.indices)
    assert set(dg.indices) <= set(greedy.indices)


def _clipcov_data(fixtures):
    d = fixtures.parent / "data" / "clipcov"
    return {k: np.load(d / f"{k}.npy") for k in
            ("image", "text", "label_emb", "labels")}


def test_clipcov_as_the_cli_given_labels(fixtures):
    # tests/cli/clipcov.sh "given": 200 pairs, 5 classes, budget 150.
    d = _clipcov_data(fixtures)
    ctx = subsel.Context(threads=1)
    obj = subsel.ClipCov(d["image"], d["text"], d["label_emb"], d["labels"],
                         ctx=ctx)
    assert len(obj) == 200 and len(np.unique(obj.classes())) == 5
    sel, greedy = obj.select(150, ctx=ctx)
    assert 1 <= len(sel) <= 150 and len(greedy) >= len(sel)
    assert sel.value >= greedy.value
    assert sel.budget == 150 and not sel.stopped_early
    again, _ = obj.select(150, ctx=subsel.Context(threads=2))
    np.testing.assert_array_equal(again.indices, sel.indices)


def test_clipcov_as_the_cli_filtered(fixtures):
    # tests/cli/clipcov.sh "filtered": zero-shot classes, budget 190: the
    # double greedy filter leaves the selection short, and says so.
    d = _clipcov_data(fixtures)
    ctx = subsel.Context(threads=1)
    obj = subsel.ClipCov(d["image"], d["text"], d["label_emb"], alpha=0.5,
                         ctx=ctx)
    assert obj.alpha == 0.5 and obj.alpha_source == "given"
    sel, _ = obj.select(190, ctx=ctx)
    assert len(sel) < 190 and sel.budget == 190 and sel.stopped_early
    assert "double greedy" in sel.short_reason
    # What `subsel clipcov --alpha 0.5` prints for this case (0.7.0's
    # default; from 0.15 the CLI's default alpha comes from the data): 166
    # selected,
    # objective 165.3747379052248; the same library call must agree.
    assert len(sel) == 166
    assert sel.value == pytest.approx(165.3747379052248, rel=1e-9)
    none, greedy = obj.select(190, filter="none", ctx=ctx)
    np.testing.assert_array_equal(none.indices, greedy.indices)


def _paper_alpha(v, l):
    """ClipCov appendix A.3: the mean of sim(i, j) = v_i.l_j + v_j.l_i over
    all ordered pairs over the mean of l_i.l_j, pair by pair in float64."""
    v, l = v.astype(np.float64), l.astype(np.float64)
    return (v @ l.T + l @ v.T).mean() / (l @ l.T).mean()


@pytest.mark.parametrize("normalize", [False, True])
def test_clipcov_alpha_defaults_to_the_papers_ratio(fixtures, normalize):
    d = _clipcov_data(fixtures)
    ctx = subsel.Context(threads=1)
    obj = subsel.ClipCov(d["image"], d["text"], d["label_emb"], d["labels"],
                         normalize=normalize, ctx=ctx)
    v, l = d["image"].astype(np.float64), d["text"].astype(np.float64)
    if normalize:
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        l = l / np.linalg.norm(l, axis=1, keepdims=True)
    want = _paper_alpha(v, l)
    assert obj.alpha_source == "data"
    assert obj.alpha == pytest.approx(want, rel=1e-12)
    assert obj.data_alpha() == obj.alpha
    # the value with that alpha is the value with alpha=<that number>
    same = subsel.ClipCov(d["image"], d["text"], d["label_emb"], d["labels"],
                          normalize=normalize, alpha=want, ctx=ctx)
    sel, _ = obj.select(150, ctx=ctx)
    again, _ = same.select(150, ctx=ctx)
    np.testing.assert_array_equal(sel.indices, again.indices)
    assert sel.value == pytest.approx(again.value, rel=1e-12)


def test_clipcov_alpha_without_a_ratio_falls_back_to_the_papers_half():
    rng = np.random.default_rng(3)
    image = rng.standard_normal((6, 4)).astype(np.float32)
    text = np.concatenate([image[:3], -image[:3]])  # captions cancel out
    labels = np.arange(6) % 2
    with pytest.raises(subsel.NumericError, match="set alpha yourself"):
        subsel.ClipCov(image, text, labels=labels, alpha=0.5).data_alpha()
    with pytest.warns(RuntimeWarning, match="using 0.5"):
        obj = subsel.ClipCov(image, text, labels=labels)
    assert obj.alpha == 0.5 and obj.alpha_source == "fallback"
    obj = subsel.ClipCov(image, text, labels=labels, alpha=0.5)
    assert obj.alpha == 0.5
    with pytest.raises(ValueError, match="auto"):
        subsel.ClipCov(image, text, labels=labels, alpha="data")


def _scores_by_pairs(x, codes):
    """MS and MT per latent from their definitions, every pair in float64."""
    x = x.astype(np.float64)
    ms = np.full(codes.shape[1], np.nan)
    mt = np.full(codes.shape[1], np.nan)
    for i in range(codes.shape[1]):
        rows = np.flatnonzero(codes[:, i] > 0)
        order = rows[np.argsort(-codes[rows, i], kind="stable")]
        if len(order) > 1:
            mt[i] = np.mean(np.sum(x[order[:-1]] * x[order[1:]], axis=1))
        u = x[rows]
        u = u[np.linalg.norm(u, axis=1) > 0]
        u /= np.linalg.norm(u, axis=1)[:, None]
        if len(u) > 1:
            ms[i] = (u @ u.T)[np.triu_indices(len(u), 1)].mean()
    return ms, mt


def test_sae_scores_match_pairs():
    rng = np.random.default_rng(4)
    w = rng.standard_normal((24, 8)).astype(np.float32)
    x = (0.5 + rng.standard_normal((80, 8))).astype(np.float32)
    x[3] = 0  # no direction: left out of MS only
    codes = subsel.SAE(w).encode(x, k=4)
    r = subsel.sae_scores(x, codes.to_scipy())
    ms, mt = _scores_by_pairs(x, codes.to_scipy().toarray())
    np.testing.assert_allclose(r.ms_per_latent, ms, rtol=1e-9)
    np.testing.assert_allclose(r.mt_per_latent, mt, rtol=1e-9)
    assert r.ms_latents == np.count_nonzero(~np.isnan(ms))
    assert r.mt_latents == np.count_nonzero(~np.isnan(mt))
    assert r.ms == pytest.approx(np.nanmean(ms), rel=1e-9)
    assert r.mt == pytest.approx(np.nanmean(mt), rel=1e-9)
    # the library's CSR as it is, and one thread: the same bits
    again = subsel.sae_scores(x, codes, ctx=subsel.Context(threads=1))
    np.testing.assert_array_equal(again.ms_per_latent, r.ms_per_latent)
    assert (again.ms, again.mt) == (r.ms, r.mt)


def test_sae_scores_without_scored_latents_and_errors():
    import scipy.sparse as sp
    x = np.ones((3, 2), np.float32)
    codes = sp.csr_matrix(np.array([[1, 0], [0, 0], [0, -1]], np.float32))
    r = subsel.sae_scores(x, codes)
    assert np.isnan(r.ms) and np.isnan(r.mt)
    assert (r.ms_latents, r.mt_latents) == (0, 0)
    assert np.isnan(r.ms_per_latent).all() and r.mt_per_latent.shape == (2,)
    with pytest.raises(subsel.InvalidArgument, match="codes has 3 rows but x has 2"):
        subsel.sae_scores(x[:2], codes)
    stages = []
    with pytest.raises(subsel.Cancelled):
        subsel.sae_scores(x, codes, progress=lambda s, d, t: stages.append(s) or True)
    assert stages == ["scores"]
