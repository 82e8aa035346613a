# SPDX-License-Identifier: MIT
"""subsel.LoRS: experts and distillation end to end on small paired data,
resumption bit for bit (after a save, a cancellation or Ctrl-C), what comes
back and in which dtypes, evaluation's recalls, the coreset baselines
against NumPy statements of their rules, and the errors."""
import json
import math

import numpy as np
import pytest

import subsel

IMAGE_DIM, TEXT_DIM, PAIRS = 6, 5, 12
# The C tests' small handle (tests/test_lors.c): towers of e 8, 12 pairs,
# T 3, batch 4, 2 experts of 3 epochs.
SMALL = dict(embed_dim=8, pairs=PAIRS, syn_steps=3, batch=4, rank=2,
             experts=2, buffer_epochs=3, expert_batch=16, eval_epochs=5,
             lr_image=1.0, lr_text=1.0, lr_sim=1.0)


def paired(n: int, seed: int, texts_per_image: int = 1):
    """Images A z + noise and texts B z + noise sharing a 4-d latent z
    (the same maps for every seed), so retrieval can be learnt; with
    several texts per image, each text its own noise."""
    maps = np.random.default_rng(1000)
    a, b = maps.normal(size=(IMAGE_DIM, 4)), maps.normal(size=(TEXT_DIM, 4))
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    images = z @ a.T + 0.3 * rng.normal(size=(n, IMAGE_DIM))
    zt = np.repeat(z, texts_per_image, axis=0)
    texts = zt @ b.T + 0.3 * rng.normal(size=(len(zt), TEXT_DIM))
    return images.astype(np.float32), texts.astype(np.float32)


def lors(threads: int = 2, **extra) -> subsel.LoRS:
    return subsel.LoRS(IMAGE_DIM, TEXT_DIM, seed=7, threads=threads,
                       **{**SMALL, **extra})


@pytest.fixture(scope="module")
def real():
    return paired(64, 3)


@pytest.fixture(scope="module")
def experts(real, tmp_path_factory):
    """A buffer of the small handle's experts on the real pairs."""
    folder = tmp_path_factory.mktemp("lors") / "buffer"
    lors().buffer(*real, folder)
    return folder


def state(l: subsel.LoRS) -> tuple:
    """Everything distillation produces, as bytes."""
    images, texts = l.synthetic()
    return (images.tobytes(), texts.tobytes(), l.similarity().tobytes(),
            l.eta, l.iterations)


def straight(real, experts, iterations: int) -> tuple:
    l = lors()
    l.distill(experts, iterations, *real)
    return state(l)


def test_buffer_writes_the_experts_and_the_log(real, tmp_path):
    l = lors()
    seen = []
    l.buffer(*real, tmp_path / "buf", log=tmp_path / "log.jsonl",
             progress=lambda *a: seen.append(a))
    names = sorted(p.name for p in (tmp_path / "buf").iterdir())
    assert names == ["expert_0000.npy", "expert_0001.npy", "meta.npy"]
    trajectory = np.load(tmp_path / "buf" / "expert_0000.npy")
    assert trajectory.dtype == np.float32 and trajectory.shape[0] == 3 + 1
    assert not np.array_equal(trajectory[0], trajectory[-1])
    lines = [json.loads(s) for s in
             (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 3
    assert seen[0] == ("buffer", 0, 6) and seen[-1] == ("buffer", 6, 6)
    assert l.iterations == 0 and math.isnan(l.last_loss)


def test_inputs_of_any_float_dtype_and_layout_train_alike(real, experts,
                                                          tmp_path):
    images, texts = real
    # float64 in Fortran order and strided float32 views: what the library
    # reads is the same float32 values, so the same experts
    f64 = (np.asfortranarray(images.astype(np.float64)),
           np.asfortranarray(texts.astype(np.float64)))
    wide = np.zeros((64, 2 * IMAGE_DIM), np.float32)
    wide[:, ::2] = images
    views = (wide[:, ::2], np.repeat(texts, 2, axis=0)[::2])
    assert not views[0].flags.c_contiguous and not views[1].flags.c_contiguous
    for k, pair in enumerate((f64, views)):
        lors().buffer(*pair, tmp_path / str(k))
        for name in ("expert_0000.npy", "expert_0001.npy", "meta.npy"):
            assert (tmp_path / str(k) / name).read_bytes() == \
                (experts / name).read_bytes(), (k, name)
    # float16 is converted by the library as NumPy rounds it
    h = (images.astype(np.float16), texts.astype(np.float16))
    lors().buffer(*h, tmp_path / "f16")
    lors().buffer(*(a.astype(np.float32) for a in h), tmp_path / "f32")
    assert (tmp_path / "f16" / "expert_0001.npy").read_bytes() == \
        (tmp_path / "f32" / "expert_0001.npy").read_bytes()


def test_distill_returns_the_synthetic_set(real, experts, tmp_path):
    l = lors()
    loss = l.distill(experts, 4, *real, log=tmp_path / "log.jsonl")
    assert l.iterations == 4
    assert loss == l.last_loss and math.isfinite(loss) and loss > 0
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 4
    images, texts = l.synthetic()
    assert images.shape == (PAIRS, IMAGE_DIM) and images.dtype == np.float32
    assert texts.shape == (PAIRS, TEXT_DIM) and texts.dtype == np.float32
    assert np.isfinite(images).all() and np.isfinite(texts).all()
    s = l.similarity()
    assert s.shape == (PAIRS, PAIRS) and s.dtype == np.float32
    assert np.abs(s - np.eye(PAIRS)).sum() > 1e-6, "S~ never left I"
    eta = l.eta
    assert isinstance(eta, tuple) and len(eta) == 2
    assert all(isinstance(v, float) and v > 0 for v in eta)
    # copies: changing them changes nothing
    images[:] = 0
    assert l.synthetic()[0].any()
    # the first real pairs are no longer needed
    l.distill(experts, 1)
    assert l.iterations == 5
    # the identity when no similarity is learnt
    i = lors(similarity="identity")
    i.distill(experts, 1, *real)
    np.testing.assert_array_equal(i.similarity(), np.eye(PAIRS))


def test_save_load_then_distill_equals_one_run(real, experts, tmp_path):
    want = straight(real, experts, 4)
    first = lors()
    first.distill(experts, 2, *real)
    first.save(tmp_path / "half")
    first.close()
    for threads in (2, 1):
        loaded = subsel.LoRS.load(tmp_path / "half", threads=threads)
        assert (loaded.image_dim, loaded.text_dim) == (IMAGE_DIM, TEXT_DIM)
        assert loaded.iterations == 2 and loaded.context.threads == threads
        assert (loaded["embed_dim"], loaded["pairs"], loaded["lr_sim"]) == \
            (8, PAIRS, 1.0)
        loaded.distill(experts, 2)
        assert state(loaded) == want, threads
    # the files users read directly
    images = np.load(tmp_path / "half" / "images.npy")
    assert images.shape == (PAIRS, IMAGE_DIM) and images.dtype == np.float32
    assert np.load(tmp_path / "half" / "similarity.npy").shape == \
        (PAIRS, PAIRS)


def test_cancel_and_ctrl_c_leave_a_resumable_state(real, experts):
    want = straight(real, experts, 4)
    l = lors()
    seen = []

    def stop_after_one(stage, done, total):
        seen.append((stage, done, total))
        return stage == "distill" and done == 1
    with pytest.raises(subsel.Cancelled):
        l.distill(experts, 4, *real, progress=stop_after_one)
    # (the buffer's files are read first, stage "load")
    assert [s for s in seen if s[0] == "distill"] == [("distill", 0, 4),
                                                      ("distill", 1, 4)]
    assert l.iterations == 1

    def ctrl_c(stage, done, total):
        if stage == "distill" and done == 1:
            raise KeyboardInterrupt
        return False
    with pytest.raises(KeyboardInterrupt):
        l.distill(experts, 3, progress=ctrl_c)
    assert l.iterations == 2
    # the state is consistent: reading and saving it work
    assert l.synthetic()[0].shape == (PAIRS, IMAGE_DIM)
    l.distill(experts, 2)
    assert state(l) == want


def test_evaluate_on_real_pairs_retrieves_above_chance():
    train, test = paired(200, 21), paired(30, 22)
    l = lors(eval_epochs=30, eval_batch=32, loss="infonce")
    r = l.evaluate(*test, images=train[0], texts=train[1])
    assert list(r) == ["IR@1", "IR@5", "IR@10", "TR@1", "TR@5", "TR@10"]
    assert all(isinstance(v, float) and 0 <= v <= 1 for v in r.values())
    for side in ("IR", "TR"):
        assert r[f"{side}@1"] <= r[f"{side}@5"] <= r[f"{side}@10"]
    # chance at 1 is 1/30; the shared latent makes it far easier
    assert r["IR@1"] > 0.3 and r["TR@1"] > 0.3, r
    # seeded: the same again
    assert l.evaluate(*test, images=train[0], texts=train[1]) == r


def test_evaluate_with_several_texts_per_image():
    train = paired(200, 21)
    images, texts = paired(15, 23, texts_per_image=2)
    owner = np.repeat(np.arange(15), 2)
    l = lors(eval_epochs=30, eval_batch=32, loss="infonce")
    r = l.evaluate(images, texts, owner, images=train[0], texts=train[1])
    # recall is a multiple of 1/30 for texts (IR), 1/15 for images (TR)
    assert all(abs(r[k] * 30 - round(r[k] * 30)) < 1e-9 for k in r)
    assert all(abs(r[k] * 15 - round(r[k] * 15)) < 1e-9
               for k in ("TR@1", "TR@5", "TR@10"))
    assert r["TR@10"] >= r["TR@5"] >= r["TR@1"] > 2 / 15, r
    # int32 image rows are accepted as well
    assert l.evaluate(images, texts, owner.astype(np.int32),
                      images=train[0], texts=train[1]) == r
    with pytest.raises(ValueError, match="one image row per test text"):
        l.evaluate(images, texts, owner[:-1], images=train[0],
                   texts=train[1])
    with pytest.raises(TypeError, match="integers"):
        l.evaluate(images, texts, owner.astype(float), images=train[0],
                   texts=train[1])
    bad = owner.copy()
    bad[-1] = 15
    with pytest.raises(subsel.InvalidArgument) as e:
        l.evaluate(images, texts, bad, images=train[0], texts=train[1])
    assert e.value.message == l.context.last_error


def test_evaluate_distilled_set_and_a_given_similarity(real, experts):
    test = paired(30, 22)
    l = lors()
    with pytest.raises(subsel.StateError, match="no distilled set"):
        l.evaluate(*test)
    l.distill(experts, 2, *real)
    r = l.evaluate(*test, progress=lambda *a: False)
    assert all(0 <= v <= 1 for v in r.values())
    # a similarity of the training pairs, in float64 too, and step sizes
    images, texts = real
    sim = np.eye(64) * 0.9 + 0.001
    got = l.evaluate(*test, images=images, texts=texts, similarity=sim,
                     eta_image=0.05, eta_text=0.05)
    assert got == l.evaluate(*test, images=images, texts=texts,
                             similarity=sim.astype(np.float32),
                             eta_image=0.05, eta_text=0.05)
    with pytest.raises(ValueError, match="64 x 64"):
        l.evaluate(*test, images=images, texts=texts, similarity=sim[:10])
    with pytest.raises(ValueError, match="images="):
        l.evaluate(*test, similarity=sim)
    with pytest.raises(ValueError, match="needs texts"):
        l.evaluate(*test, images=images)
    sim[3, 4] = np.nan
    with pytest.raises(subsel.InvalidArgument, match="not finite"):
        l.evaluate(*test, images=images, texts=texts, similarity=sim)


def features(images, texts) -> np.ndarray:
    """The header's description of a pair: each half scaled to unit
    length, side by side (from the float32 values the library reads)."""
    halves = [np.asarray(a, np.float32).astype(np.float64)
              for a in (images, texts)]
    return np.hstack([h / np.linalg.norm(h, axis=1, keepdims=True)
                      for h in halves])


def farthest_first(f: np.ndarray, first: int, count: int) -> list:
    chosen = [first]
    near = ((f - f[first]) ** 2).sum(axis=1)
    while len(chosen) < count:
        near[chosen] = -1
        chosen.append(int(np.argmax(near)))  # the lowest index on ties
        near = np.minimum(near, ((f - f[chosen[-1]]) ** 2).sum(axis=1))
    return chosen


def herding(f: np.ndarray, count: int) -> list:
    mean, total, chosen = f.mean(axis=0), np.zeros(f.shape[1]), []
    for k in range(count):
        gap = (((total + f) / (k + 1) - mean) ** 2).sum(axis=1)
        gap[chosen] = np.inf
        chosen.append(int(np.argmin(gap)))
        total += f[chosen[-1]]
    return chosen


def test_baselines_follow_their_rules():
    images, texts = paired(40, 11)
    images[:, 0] *= 50  # scales that the unit halves must undo
    f = features(images, texts)
    l = lors()
    count = 7
    r = l.baseline("random", images, texts, count)
    assert r.dtype == np.int64 and r.shape == (count,)
    assert len(set(r.tolist())) == count and 0 <= r.min() and r.max() < 40
    assert np.array_equal(r, l.baseline(0, images, texts, count))
    k = l.baseline("kcenter", images, texts, count)
    assert k.tolist() == farthest_first(f, int(k[0]), count)
    h = l.baseline(l.BASELINES["herding"], images.astype(np.float64),
                   texts, count)
    assert h.tolist() == herding(f, count)
    # the whole set, in some order
    assert sorted(l.baseline("kcenter", images, texts, 40)) == list(range(40))
    with pytest.raises(ValueError, match="unknown baseline method 'kmeans'"):
        l.baseline("kmeans", images, texts, count)
    with pytest.raises(subsel.InvalidArgument, match="method 7"):
        l.baseline(7, images, texts, count)
    with pytest.raises(ValueError, match=r"\[1, 40\]"):
        l.baseline("random", images, texts, 41)


def test_shape_errors(real, experts, tmp_path):
    images, texts = real
    l = lors()
    with pytest.raises(ValueError, match="images must be a 2-D array"):
        l.buffer(images[0], texts, tmp_path / "b")
    with pytest.raises(subsel.InvalidArgument) as e:
        l.buffer(images[:, :4], texts, tmp_path / "b")
    assert e.value.message == l.context.last_error
    assert "4 image and 5 text columns" in e.value.message
    with pytest.raises(subsel.InvalidArgument, match="row i of each"):
        l.distill(experts, 1, images[:30], texts)
    with pytest.raises(ValueError, match="both images and texts"):
        l.distill(experts, 1, images)
    with pytest.raises(subsel.InvalidArgument, match="iterations -1"):
        l.distill(experts, -1, *real)
    # the first call needs the real pairs
    with pytest.raises(subsel.InvalidArgument):
        l.distill(experts, 1)
    assert l.iterations == 0
    # a buffer of other towers
    with pytest.raises(subsel.FormatError):
        lors(embed_dim=9).distill(experts, 1, *real)
    with pytest.raises(subsel.IOFailure):
        l.distill(tmp_path / "none", 1, *real)


def test_nothing_distilled_yet(tmp_path):
    l = lors()
    for call in (l.synthetic, l.similarity, lambda: l.eta,
                 lambda: l.save(tmp_path / "s")):
        with pytest.raises(subsel.StateError, match="nothing is distilled"):
            call()
    with pytest.raises(subsel.FormatError, match="not a saved LoRS set"):
        subsel.LoRS.load(tmp_path / "missing")


def test_parameters(real, experts):
    params = subsel.LoRS.params()
    assert len(params) == 28
    l = subsel.LoRS(IMAGE_DIM, TEXT_DIM)
    for name, p in params.items():
        assert l[name] == p.default and type(l[name]) is p.type, name
    assert (l["embed_dim"], l["loss"], l["tower"]) == (256, 3, 1)
    for name, names in subsel.LoRS.CHOICES.items():
        for word, number in names.items():
            l[name] = word
            assert l[name] == number
    with pytest.raises(ValueError, match="unknown loss 'nce'.*infonce"):
        l["loss"] = "nce"
    with pytest.raises(TypeError, match="unknown LoRS distiller parameter "
                       "'lr'.*lr_image"):
        subsel.LoRS(IMAGE_DIM, TEXT_DIM, lr=1.0)
    with pytest.raises(subsel.InvalidArgument, match="embed_dim = 0"):
        l["embed_dim"] = 0
    with pytest.raises(TypeError, match="seed.*ctx"):
        subsel.LoRS(IMAGE_DIM, TEXT_DIM, seed=1, ctx=subsel.Context())
    with pytest.raises(subsel.InvalidArgument, match="image_dim 0"):
        subsel.LoRS(0, TEXT_DIM)
    # those that shape the set are fixed once distillation started
    d = lors()
    d.distill(experts, 1, *real)
    with pytest.raises(subsel.StateError, match="'pairs' is fixed"):
        d["pairs"] = 5
    assert d["pairs"] == PAIRS
    d["lr_sim"] = 2.0
    d["loss"] = "ence"
    assert (d["lr_sim"], d["loss"]) == (2.0, 1)
    assert "12 pairs, 1 iterations" in repr(d)
    d.close()
    assert repr(d) == "<subsel.LoRS (closed)>"
