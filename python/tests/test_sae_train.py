# SPDX-License-Identifier: MIT
"""subsel.SAETrainer: steps that learn, fit over float16 shards, checkpoints
that resume bit for bit (after a save, a cancellation or Ctrl-C), the
parameter table, and the same weights as `subsel sae-train`."""
import ctypes
import json
import math
import signal
import subprocess
import threading

import numpy as np
import pytest

import subsel

INPUTS, LATENTS, ROWS = 24, 48, 900
# Small enough for a test, with L_mono in every full batch (as
# tests/cli/sae_train.py trains).
SMALL = dict(k=4, batch=128, set_size=16, reservoir=500, lr=3e-3)
CLI_SMALL = ["--k", "4", "--batch", "128", "--set-size", "16",
             "--reservoir", "500", "--lr", "3e-3"]
WEIGHTS = ("W_enc.npy", "b_enc.npy", "b_dec.npy", "W_dec.npy")
STEPS_PER_EPOCH = -(-ROWS // SMALL["batch"])


def structured(seed: int = 3) -> np.ndarray:
    """Rows that are sparse nonnegative mixtures of 10 atoms: what an
    autoencoder with a few active latents per row can learn."""
    rng = np.random.default_rng(seed)
    atoms = np.abs(rng.normal(size=(10, INPUTS)))
    mix = rng.random((ROWS, 10)) * (rng.random((ROWS, 10)) < 0.2)
    return (mix @ atoms).astype(np.float32)


@pytest.fixture
def shards(tmp_path):
    """Three float16 shards of the structured rows, and their glob."""
    x = structured().astype(np.float16)
    for i, part in enumerate(np.split(x, 3)):
        np.save(tmp_path / f"shard-{i}.npy", part)
    return x, str(tmp_path / "shard-*.npy")


def trainer(threads: int = 2, **extra) -> subsel.SAETrainer:
    return subsel.SAETrainer(INPUTS, LATENTS, seed=5, threads=threads,
                             **{**SMALL, **extra})


def weights(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in WEIGHTS}


def saved(t: subsel.SAETrainer, folder) -> dict:
    t.save(folder)
    return weights(folder)


def uninterrupted(pattern: str, epochs: int, folder) -> dict:
    """The weights of one fit() call over every epoch."""
    t = trainer()
    t.fit(pattern, epochs)
    return saved(t, folder)


def resumed(checkpoint, pattern: str, epochs: int, folder, threads: int = 2,
            progress=None) -> dict:
    """The weights of training from a checkpoint until `epochs`."""
    t = subsel.SAETrainer.load(checkpoint, threads=threads)
    t.fit(pattern, epochs, progress=progress)
    return saved(t, folder)


def test_steps_reduce_the_loss():
    x = structured()
    t = trainer()
    assert all(math.isnan(v) for v in vars(t.losses).values())
    rng = np.random.default_rng(0)
    batches = [x[rng.integers(0, ROWS, 128)] for _ in range(300)]
    losses = [t.step(b) for b in batches]
    assert t.steps == 300 and t.epochs == 0
    first = np.mean([l.recons for l in losses[:10]])
    last = np.mean([l.recons for l in losses[-10:]])
    assert last < 0.1 * first, (first, last)
    # step() returns what .losses reads; the total is the weighted sum
    l = losses[-1]
    assert l == t.losses
    assert l.mono > 0 and l.aux == 0
    assert l.total == pytest.approx(l.recons + 0.002 * l.mono
                                    + 1e-10 * l.act, rel=1e-9)


def test_evaluate_is_the_next_steps_loss_and_updates_nothing():
    x = structured()[:200]
    t = trainer()
    t.step(x)
    before = t.decoder()
    recons, act = t.evaluate(x)
    assert t.evaluate(x) == (recons, act)
    assert t.steps == 1 and np.array_equal(before, t.decoder())
    l = t.step(x)
    assert recons == pytest.approx(l.recons, rel=1e-6)
    assert act == l.act
    with pytest.raises(subsel.InvalidArgument, match="columns"):
        t.evaluate(np.ones((3, x.shape[1] + 1), np.float32))
    with pytest.raises(ValueError):
        t.evaluate(np.ones(5, np.float32))


def test_step_converts_float16_and_float64_as_float32():
    x = structured()[:128]
    f16 = x.astype(np.float16)
    a, b, c = trainer(), trainer(), trainer()
    a.step(f16)
    b.step(f16.astype(np.float32))
    c.step(f16.astype(np.float64))
    np.testing.assert_array_equal(a.decoder(), b.decoder())
    np.testing.assert_array_equal(a.decoder(), c.decoder())
    with pytest.raises(ValueError, match="2-D"):
        a.step(x[0])
    with pytest.raises(subsel.InvalidArgument) as e:
        a.step(x[:, :10])
    assert e.value.message == a.context.last_error
    assert "10" in e.value.message and "24" in e.value.message
    assert a.steps == 1  # the failed steps changed nothing


def test_fit_over_float16_shards(shards, tmp_path):
    x, pattern = shards
    t = trainer()
    log = tmp_path / "log.jsonl"
    t.fit(pattern, 2, checkpoint_dir=tmp_path / "ck", log=log)
    assert t.epochs == 2 and t.steps == 2 * STEPS_PER_EPOCH
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len([l for l in lines if "step" in l]) == t.steps
    assert len([l for l in lines if "epoch_end" in l]) == 2
    # the checkpoint holds the weights save() writes
    assert weights(tmp_path / "ck") == saved(t, tmp_path / "again")
    # the float32 copies of the same values, as a list: the same training
    paths = []
    for i, part in enumerate(np.split(x.astype(np.float32), 3)):
        paths.append(tmp_path / f"f32-{i}.npy")
        np.save(paths[-1], part)
    u = trainer()
    u.fit(paths, 2)
    assert saved(u, tmp_path / "f32") == weights(tmp_path / "ck")
    # epochs count in all: asking for 2 again does nothing
    t.fit(pattern, 2)
    assert t.steps == 2 * STEPS_PER_EPOCH


def test_fit_progress_bar(shards, capsys):
    # tqdm is one of ./run's TEST_PACKAGES (python3-tqdm)
    t = trainer()
    t.fit(shards[1], 1, progress=True)
    assert t.epochs == 1
    assert f"{ROWS}/{ROWS}" in capsys.readouterr().err


def test_fit_errors_carry_the_library_message(tmp_path):
    t = trainer()
    with pytest.raises(subsel.IOFailure) as e:
        t.fit(tmp_path / "none-*.npy", 1)
    assert "none-*.npy" in e.value.message
    np.save(tmp_path / "narrow.npy", np.ones((10, 5), np.float32))
    with pytest.raises(subsel.InvalidArgument) as e:
        t.fit(tmp_path / "narrow.npy", 1)
    assert e.value.message == t.context.last_error
    with pytest.raises(ValueError, match="at least one"):
        t.fit([], 1)
    assert t.steps == 0


def test_save_load_resume_equals_an_uninterrupted_run(shards, tmp_path):
    _, pattern = shards
    want = uninterrupted(pattern, 4, tmp_path / "straight")
    first = trainer()
    first.fit(pattern, 2)
    first.save(tmp_path / "half")
    first.close()
    loaded = subsel.SAETrainer.load(tmp_path / "half", threads=2)
    assert (loaded.inputs, loaded.latents) == (INPUTS, LATENTS)
    assert loaded.epochs == 2 and loaded.steps == 2 * STEPS_PER_EPOCH
    assert (loaded["k"], loaded["lr"], loaded["batch"]) == (4, 3e-3, 128)
    assert resumed(tmp_path / "half", pattern, 4, tmp_path / "resumed") == want
    # on another thread count too (0.10 promises any thread count)
    assert resumed(tmp_path / "half", pattern, 4, tmp_path / "one",
                   threads=1) == want


def test_weights_do_not_depend_on_the_thread_count(shards, tmp_path):
    _, pattern = shards
    one = trainer(threads=1)
    one.fit(pattern, 2)
    assert one.context.threads == 1
    assert saved(one, tmp_path / "one") == uninterrupted(pattern, 2,
                                                         tmp_path / "two")


def test_cancelled_fit_resumes_bit_for_bit(shards, tmp_path):
    _, pattern = shards
    want = uninterrupted(pattern, 4, tmp_path / "straight")
    t = trainer()
    seen = []

    def stop_mid_epoch(stage, done, total):
        seen.append((stage, done, total))
        return done >= 2 * ROWS + 300  # in the third epoch
    with pytest.raises(subsel.Cancelled):
        t.fit(pattern, 4, progress=stop_mid_epoch)
    assert seen[0] == ("train", 0, 4 * ROWS)
    assert t.epochs == 2 and 2 * STEPS_PER_EPOCH < t.steps < 3 * STEPS_PER_EPOCH
    # batch sizes the position within an epoch: fixed until it ends
    with pytest.raises(subsel.StateError, match="middle of an epoch"):
        t["batch"] = 64
    # progress counts this call's rows: 0 first, then after each step
    dones = [d for _, d, _ in seen]
    assert dones[:3] == [0, 128, 256] and dones[-1] >= 2 * ROWS + 300
    t.save(tmp_path / "mid")
    again = []
    assert resumed(tmp_path / "mid", pattern, 4, tmp_path / "resumed",
                   progress=lambda *a: again.append(a)) == want
    assert again[0] == ("train", 0, 4 * ROWS - dones[-1])
    assert again[-1] == ("train", 4 * ROWS - dones[-1], 4 * ROWS - dones[-1])


def test_ctrl_c_cancels_fit_cleanly(shards, tmp_path):
    _, pattern = shards
    want = uninterrupted(pattern, 3, tmp_path / "straight")
    def ctrl_c(stage, done, total):
        if done >= ROWS + 256:
            # a real SIGINT to this thread, as test_control.py sends it
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        return False
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    t = trainer()
    try:
        with pytest.raises(KeyboardInterrupt):
            t.fit(pattern, 3, progress=ctrl_c)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert STEPS_PER_EPOCH < t.steps < 2 * STEPS_PER_EPOCH
    # the same trainer continues (no checkpoint needed)
    t.fit(pattern, 3)
    assert saved(t, tmp_path / "continued") == want


def test_parameters_round_trip():
    names = {"k", "lr", "beta1", "beta2", "eps", "l_recons", "l_mono",
             "l_act", "set_size", "reservoir", "auxk", "aux_coef",
             "dead_rows", "batch", "b_dec_init", "checkpoint_steps"}
    params = subsel.SAETrainer.params()
    assert set(params) == names
    t = subsel.SAETrainer(INPUTS, LATENTS)
    for name, p in params.items():
        assert t[name] == p.default, name
        if p.type is int:
            value = p.default + 1 if p.default + 1 <= p.maximum else \
                p.default - 1
        else:
            value = p.default / 2
        t[name] = value
        assert t[name] == value and type(t[name]) is p.type, name
    # keywords of the constructor are the same parameters
    u = subsel.SAETrainer(INPUTS, LATENTS, k=7, l_mono=0.0, b_dec_init=0)
    assert (u["k"], u["l_mono"], u["b_dec_init"]) == (7, 0.0, 0)


@pytest.mark.parametrize("name", sorted(subsel.SAETrainer.params()))
def test_out_of_bounds_raise_with_the_library_message(name):
    p = subsel.SAETrainer.params()[name]
    t = subsel.SAETrainer(INPUTS, LATENTS)
    bad = []
    if p.type is int:
        bad.append(p.minimum - 1)
        if p.maximum < 2**63 - 1:
            bad.append(p.maximum + 1)
    else:
        bad.append(p.minimum if p.open_min else p.minimum - 1)
        if math.isfinite(p.maximum):
            bad.append(p.maximum if p.open_max else p.maximum + 1)
    for value in bad:
        with pytest.raises(subsel.InvalidArgument) as e:
            t[name] = value
        assert e.value.message == t.context.last_error
        assert f"{name} = " in e.value.message and "outside" in e.value.message
        assert t[name] == p.default  # unchanged
    with pytest.raises(subsel.InvalidArgument, match=f"{name} = "):
        subsel.SAETrainer(INPUTS, LATENTS, **{name: bad[0]})


def test_unknown_and_mistyped_parameters():
    t = subsel.SAETrainer(INPUTS, LATENTS)
    with pytest.raises(TypeError, match="unknown SAE trainer parameter "
                       "'learning_rate'.*lr"):
        t["learning_rate"] = 1e-3
    with pytest.raises(TypeError, match="takes an int"):
        t["k"] = 2.5
    with pytest.raises(TypeError, match="seed.*ctx"):
        subsel.SAETrainer(INPUTS, LATENTS, seed=1, ctx=subsel.Context())


def test_fixed_parameters_raise_once_training_started():
    t = trainer(auxk=2)
    t.step(structured()[:64])
    for name, value in (("k", 8), ("set_size", 8), ("reservoir", 100),
                        ("auxk", 4)):
        before = t[name]
        with pytest.raises(subsel.StateError) as e:
            t[name] = value
        assert e.value.message == (f"subsel_param_set_int: '{name}' is "
                                   "fixed once training has started")
        assert t[name] == before
    t["lr"] = 1e-3  # the others may change
    t["batch"] = 64  # not within an epoch of fit()
    assert (t["lr"], t["batch"]) == (1e-3, 64)


def test_fit_matches_the_cli(shards, tmp_path, subsel_cli):
    _, pattern = shards
    cli_out = tmp_path / "cli"
    p = subprocess.run([subsel_cli, "sae-train", "--input", pattern,
                        "--out", str(cli_out), "--latents", str(LATENTS),
                        "--epochs", "2", "--seed", "5", "--threads", "2",
                        *CLI_SMALL], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)

    t = trainer()
    losses = t.fit(pattern, 2, checkpoint_dir=tmp_path / "py")
    assert (tmp_path / "py" / "W_enc.npy").read_bytes() == \
        (cli_out / "W_enc.npy").read_bytes()
    assert weights(tmp_path / "py") == weights(cli_out)
    assert summary["steps"] == t.steps and summary["dead"] == t.dead
    assert summary["loss"] == pytest.approx(losses.total, rel=1e-12)


def test_encoder_decoder_and_scores(shards, tmp_path):
    x, pattern = shards
    t = trainer()
    t.fit(pattern, 3)
    enc = t.encoder()
    assert isinstance(enc, subsel.SAE)
    assert (enc.inputs, enc.features) == (INPUTS, LATENTS)
    codes = enc.encode(x, 4)
    assert codes.shape == (ROWS, LATENTS)
    assert 0 < codes.nnz <= 4 * ROWS
    s = subsel.sae_scores(x, codes)
    assert 0 < s.ms_latents <= LATENTS and np.isfinite(s.ms)
    assert -1 <= s.ms <= 1 and np.isfinite(s.mt)
    # the same encoder as the saved folder's
    t.save(tmp_path / "sae")
    again = subsel.SAE.load(tmp_path / "sae").encode(x, 4).to_scipy()
    assert (again != codes.to_scipy()).nnz == 0
    # the decoder: inputs x latents, unit columns, as saved
    w_dec = t.decoder()
    assert w_dec.shape == (INPUTS, LATENTS) and w_dec.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(w_dec, axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(w_dec, np.load(tmp_path / "sae" /
                                                 "W_dec.npy"))
    # both are copies: more training leaves them as they were
    t.step(x[:128].astype(np.float32))
    assert (enc.encode(x, 4).to_scipy() != codes.to_scipy()).nnz == 0
    assert not np.array_equal(t.decoder(), w_dec)


def test_load_errors_and_handle_kinds(tmp_path):
    with pytest.raises(subsel.IOFailure) as e:
        subsel.SAETrainer.load(tmp_path / "missing")
    assert "missing" in e.value.message
    t = trainer()
    # as for every handle: checked before C sees it (docs/python.md)
    with pytest.raises(ctypes.ArgumentError, match="expected an objective, "
                       "not SAETrainer"):
        subsel.Optimizer("lazy", budget=1).run(t)
    t.close()
    with pytest.raises(ctypes.ArgumentError, match="SAETrainer is closed"):
        t.steps


def test_dense_npy_shape(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((7, 3), np.float16))
    np.save(tmp_path / "v.npy", np.zeros(5))
    assert subsel.dense_npy_shape(tmp_path / "m.npy") == (7, 3)
    assert subsel.dense_npy_shape(tmp_path / "v.npy") == (5, 1)
    (tmp_path / "bad.npy").write_bytes(b"not a npy file")
    with pytest.raises(subsel.FormatError):
        subsel.dense_npy_shape(tmp_path / "bad.npy")
