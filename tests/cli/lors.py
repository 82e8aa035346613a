#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`subsel lors` end to end on tiny paired data whose two views share a
latent: buffer -> distill -> eval, the files a NumPy user reads, --resume
and --checkpoint-every giving an uninterrupted run's set bit for bit (also
after SIGINT), --seeds with per-seed recalls and their mean and deviation,
a saved set evaluated about as its files are, the baselines, and the exit codes
of bad command lines and data. Exits 77 (skipped) without NumPy.

    lors.py SUBSEL
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summary import summary  # noqa: E402

try:
    import numpy as np
except ImportError:
    sys.exit(77)

SUBSEL = sys.argv[1]
RECALLS = ["ir1", "ir5", "ir10", "tr1", "tr5", "tr10"]
SET_FILES = ["images.npy", "texts.npy", "similarity.npy", "eta.npy"]


def run(*args, expect=0):
    p = subprocess.run([SUBSEL, "lors", *args], capture_output=True, text=True)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    if expect != 0:
        return p
    return summary(p.stdout)


def pairs(rng, n):
    """Two views of a shared 4-dimensional latent, with noise."""
    fixed = np.random.default_rng(7)
    a, b = fixed.normal(size=(4, 10)), fixed.normal(size=(4, 6))
    z = rng.normal(size=(n, 4))
    x = z @ a + 0.1 * rng.normal(size=(n, 10))
    y = z @ b + 0.1 * rng.normal(size=(n, 6))
    return x.astype(np.float32), y.astype(np.float32)


def same_set(a, b):
    for name in SET_FILES:
        with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
            assert fa.read() == fb.read(), (a, b, name)


def main():
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        x, y = pairs(rng, 60)
        tx, ty = pairs(rng, 30)
        for name, a in (("x", x), ("y", y), ("tx", tx), ("ty", ty)):
            np.save(path(name + ".npy"), a)
        towers = ["--tower", "0", "--embed-dim", "8"]
        data = ["--images", path("x.npy"), "--texts", path("y.npy")]
        test = ["--test-images", path("tx.npy"), "--test-texts", path("ty.npy")]
        evals = ["--eval-epochs", "5", "--eval-batch", "8"]

        # expert trajectories
        buf = path("buf")
        j = run("buffer", *data, *towers, "--out", buf, "--experts", "2", "--buffer-epochs",
                "3", "--expert-batch", "16", "--log", path("buffer.jsonl"), "--threads", "2")
        assert j["experts"] == 2 and j["buffer_epochs"] == 3 and j["pairs"] == 60, j
        assert j["image_dim"] == 10 and j["text_dim"] == 6, j
        assert list(j["stages"]) == ["load", "build", "buffer"], j
        params = 10 * 8 + 8 + 6 * 8 + 8  # two linear towers
        for e in range(2):
            traj = np.load(os.path.join(buf, "expert_%04d.npy" % e))
            assert traj.shape == (4, params) and traj.dtype == np.float32, traj.shape
        lines = [json.loads(line) for line in open(path("buffer.jsonl"))]
        assert len(lines) == 6, lines
        assert lines[2]["loss"] < lines[0]["loss"], lines

        # distillation (small steps: these sets are tiny)
        distill = ["distill", *data, *towers, "--buffer", buf, "--pairs", "12", "--syn-steps",
                   "3", "--batch", "4", "--rank", "2", "--lr-image", "0.01", "--lr-text",
                   "0.01", "--lr-sim", "0.01", "--lr-lr", "1e-5", "--momentum", "0", *evals]
        straight = path("straight")
        j = run(*distill, "--iterations", "7", "--out", straight, "--log", path("d.jsonl"))
        assert j["iterations"] == 7 and j["iterations_this_run"] == 7, j
        assert j["interrupted"] == 0 and j["pairs"] == 12, j
        assert np.isfinite(j["loss"]) and j["eta_image"] > 0 and j["eta_text"] > 0, j
        lines = [json.loads(line) for line in open(path("d.jsonl"))]
        assert [l["iteration"] for l in lines] == list(range(1, 8)), lines
        assert np.load(os.path.join(straight, "images.npy")).shape == (12, 10)
        assert np.load(os.path.join(straight, "texts.npy")).shape == (12, 6)
        sim = np.load(os.path.join(straight, "similarity.npy"))
        assert sim.shape == (12, 12) and sim.dtype == np.float32, sim.shape
        assert not np.array_equal(sim, np.eye(12)), "S~ did not move"
        eta = np.load(os.path.join(straight, "eta.npy"))
        assert eta.shape == (2,) and eta[0] == j["eta_image"], (eta, j)

        # 3 iterations, then --resume to 7; and saves every 3: the same set
        resumed = path("resumed")
        run(*distill, "--iterations", "3", "--out", resumed)
        j = run("distill", "--buffer", buf, "--resume", "--iterations", "7", "--out", resumed)
        assert j["iterations"] == 7 and j["iterations_this_run"] == 4, j
        assert list(j["stages"]) == ["load", "distill", "write"], j  # resumed: no build
        same_set(straight, resumed)
        chunked = path("chunked")
        run(*distill, "--iterations", "7", "--checkpoint-every", "3", "--out", chunked)
        same_set(straight, chunked)

        # SIGINT: the iterations done are saved, exit 130, --resume goes on
        # as if nothing happened
        stopped = path("stopped")
        log = path("stopped.jsonl")
        p = subprocess.Popen([SUBSEL, "lors", *distill, "--iterations", "1000000", "--out",
                              stopped, "--log", log], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline and (not os.path.exists(log) or
                                          len(open(log).readlines()) < 3):
            time.sleep(0.002)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 130, (p.returncode, err)
        assert "interrupted after" in err and "--resume" in err, err
        j = json.loads(out)
        done = j["iterations"]
        assert j["interrupted"] == 1 and 3 <= done < 1000000, j
        j = run("distill", "--buffer", buf, "--resume", "--iterations", str(done + 2), "--out",
                stopped)
        assert j["iterations_this_run"] == 2, j
        reference = path("reference")
        run(*distill, "--iterations", str(done + 2), "--out", reference)
        same_set(reference, stopped)

        # evaluation of the set, over 3 seeds
        j = run("eval", *test, "--set", straight, "--seeds", "0,1,2")
        assert j["mode"] == "set" and j["train_pairs"] == 12 and j["seeds"] == [0, 1, 2], j
        assert j["test_images"] == 30 and j["test_texts"] == 30, j
        per = np.array([j[k + "_per_seed"] for k in RECALLS])
        assert per.shape == (6, 3) and ((per >= 0) & (per <= 1)).all(), per
        assert (per[1] >= per[0]).all() and (per[2] >= per[1]).all(), per  # R@1 <= R@5 <= R@10
        for i, k in enumerate(RECALLS):
            assert np.isclose(j[k], per[i].mean()) and np.isclose(j[k + "_std"], per[i].std()), k
        assert np.allclose(j["mean_per_seed"], per.mean(axis=0)), j
        assert np.isclose(j["mean"], per.mean()) and j["mean_std"] > 0, j
        # one of the seeds alone, and the set as its files with its eta
        one = run("eval", *test, "--set", straight, "--seed", "1")
        assert one["seeds"] == [1] and one["mean_std"] == 0, one
        assert [one[k] for k in RECALLS] == list(per[:, 1]), (one, per)
        files = run("eval", *test, *towers, *evals, "--seeds", "0,1,2",
                    "--images", os.path.join(straight, "images.npy"),
                    "--texts", os.path.join(straight, "texts.npy"),
                    "--similarity", os.path.join(straight, "similarity.npy"),
                    "--eta-image", repr(float(eta[0])), "--eta-text", repr(float(eta[1])))
        assert files["mode"] == "pairs", files
        # the set trains in double from its own parameters, its files in
        # float32 from the full S~: the same towers up to rounding
        assert np.allclose([files[k + "_per_seed"] for k in RECALLS], per, atol=0.1), files

        # all the real pairs, and the retrieval learns: better than chance
        j = run("eval", *test, *towers, *evals, *data)
        assert j["train_pairs"] == 60 and j["tr10"] > 10 / 30 and j["ir10"] > 10 / 30, j

        # several texts per image: each test image's text twice
        ty2 = np.concatenate([ty, ty + 0.01 * rng.normal(size=ty.shape).astype(np.float32)])
        np.save(path("ty2.npy"), ty2)
        np.save(path("map.npy"), np.concatenate([np.arange(30), np.arange(30)]).astype(np.int64))
        j = run("eval", "--test-images", path("tx.npy"), "--test-texts", path("ty2.npy"),
                "--text-image", path("map.npy"), "--set", straight)
        assert j["test_images"] == 30 and j["test_texts"] == 60, j

        # baselines: the seed changes the random choice
        for method in ("random", "kcenter", "herding"):
            j = run("eval", *test, *towers, *evals, *data, "--baseline", method, "--count", "12",
                    "--seeds", "3,4")
            assert j["mode"] == "baseline" and j["baseline"] == method, j
            assert j["train_pairs"] == 12 and len(j["mean_per_seed"]) == 2, j
            run("baseline", *data, "--method", method, "--count", "12", "--out",
                path(method + ".npy"))
            idx = np.load(path(method + ".npy"))
            assert idx.dtype == np.int64 and len(set(idx.tolist())) == 12, idx
            assert idx.min() >= 0 and idx.max() < 60, idx
        run("baseline", *data, "--method", "random", "--count", "12", "--seed", "1", "--out",
            path("random1.npy"))
        assert not np.array_equal(np.load(path("random.npy")), np.load(path("random1.npy")))

        # usage errors (2)
        bad = path("bad")
        p = run("distill", "--buffer", buf, "--out", bad, "--iterations", "1", expect=2)
        assert "--images" in p.stderr, p.stderr
        p = run("distill", "--buffer", buf, "--out", straight, "--iterations", "9", "--resume",
                "--seed", "3", expect=2)
        p = run(*distill, "--out", bad, "--iterations", "1", "--lr-image", "-1", expect=2)
        assert "--lr-image" in p.stderr, p.stderr
        p = run("eval", *test, "--set", straight, *data, expect=2)
        p = run("eval", *test, *data, "--baseline", "best", "--count", "3", expect=2)
        assert "best" in p.stderr, p.stderr
        p = run("eval", *test, *data, "--baseline", "random", "--count", "61", expect=2)
        assert "61" in p.stderr, p.stderr
        p = run("eval", *test, "--set", straight, "--seeds", "0,x", expect=2)
        assert "--seeds" in p.stderr, p.stderr
        p = run("eval", *test, "--set", straight, "--seeds", "0,1", "--seed", "2", expect=2)
        p = run("frobnicate", expect=2)
        p = run(expect=2)

        # failures (1): shapes, files, a buffer of other towers
        np.save(path("y59.npy"), y[:59])
        p = run("buffer", "--images", path("x.npy"), "--texts", path("y59.npy"), "--out", bad,
                expect=1)
        assert "60 rows" in p.stderr and "59" in p.stderr, p.stderr
        p = run("buffer", "--images", path("none.npy"), "--texts", path("y.npy"), "--out", bad,
                expect=1)
        assert "none.npy" in p.stderr, p.stderr
        p = run("distill", *data, "--tower", "0", "--embed-dim", "16", "--buffer", buf,
                "--pairs", "12", "--out", bad, "--iterations", "1", expect=1)
        assert "buffer" in p.stderr or "embed" in p.stderr, p.stderr
        p = run("distill", "--buffer", buf, "--resume", "--iterations", "1", "--out", bad,
                expect=1)
        assert "not a saved LoRS set" in p.stderr, p.stderr
        p = run("distill", "--buffer", buf, "--resume", "--iterations", "2", "--out", straight,
                expect=1)
        assert "done 7" in p.stderr, p.stderr
        p = run("distill", "--buffer", buf, "--resume", "--iterations", "9", "--out", straight,
                "--pairs", "5", expect=1)
        assert "pairs" in p.stderr, p.stderr
        np.save(path("ty5.npy"), ty[:, :5])
        p = run("eval", "--test-images", path("tx.npy"), "--test-texts", path("ty5.npy"),
                "--set", straight, expect=1)
        assert "columns" in p.stderr, p.stderr
        np.save(path("s11.npy"), np.eye(11, dtype=np.float32))
        p = run("eval", *test, *data, "--similarity", path("s11.npy"), expect=1)
        assert "--similarity" in p.stderr and "60 pairs" in p.stderr, p.stderr
        np.save(path("map_bad.npy"), np.arange(59, dtype=np.int64))
        p = run("eval", "--test-images", path("tx.npy"), "--test-texts", path("ty2.npy"),
                "--text-image", path("map_bad.npy"), "--set", straight, expect=1)
        assert "--text-image" in p.stderr, p.stderr
    print("lors: ok")


main()
