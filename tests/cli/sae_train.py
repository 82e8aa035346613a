#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`subsel sae-train` end to end: float16 shards named by a glob, the JSON
summary, the JSON-lines log, a folder `subsel encode` reads, --resume that
gives the weights of an uninterrupted run bit for bit, and the exit codes
of bad command lines and bad data. Exits 77 (skipped) without NumPy.

    sae_train.py SUBSEL
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summary import summary  # noqa: E402

try:
    import numpy as np
except ImportError:
    sys.exit(77)

SUBSEL = sys.argv[1]


def run(*args, expect=0):
    p = subprocess.run([SUBSEL, *args], capture_output=True, text=True)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p


def train(*args, expect=0):
    p = run("sae-train", *args, expect=expect)
    if expect != 0:
        return p
    return summary(p.stdout)


def main():
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp:
        atoms = np.abs(rng.normal(size=(10, 24)))
        mix = rng.random((900, 10)) * (rng.random((900, 10)) < 0.2)
        x = (mix @ atoms).astype(np.float16)
        for i, part in enumerate(np.split(x, 3)):
            np.save(os.path.join(tmp, f"shard-{i}.npy"), part)
        shards = os.path.join(tmp, "shard-*.npy")
        common = ["--input", shards, "--k", "4", "--batch", "128", "--set-size", "16",
                  "--reservoir", "500", "--lr", "3e-3", "--threads", "2"]

        # a fresh run of 4 epochs, logged
        straight = os.path.join(tmp, "straight")
        log = os.path.join(tmp, "log.jsonl")
        j = train(*common, "--latents", "48", "--epochs", "4", "--out", straight,
                  "--log", log)
        steps_per_epoch = -(-900 // 128)
        assert j["files"] == 3 and j["epochs"] == 4, j
        assert j["steps"] == 4 * steps_per_epoch, j
        assert j["k"] == 4 and j["batch"] == 128, j
        assert np.isfinite(j["loss"]), j
        lines = [json.loads(line) for line in open(log)]
        step_lines = [l for l in lines if "step" in l]
        epoch_lines = [l for l in lines if "epoch_end" in l]
        assert len(step_lines) == j["steps"] and len(epoch_lines) == 4, len(lines)
        assert [l["step"] for l in step_lines] == list(range(1, j["steps"] + 1))
        assert epoch_lines[-1]["recons"] < epoch_lines[0]["recons"], epoch_lines
        # L_mono in every full batch; not in an epoch's last (4 rows < 16)
        used = [l["mono_used"] for l in step_lines]
        assert used == [i % steps_per_epoch != steps_per_epoch - 1
                        for i in range(len(used))], used
        assert all(l["mono"] > 0 for l in step_lines if l["mono_used"])
        w_enc = np.load(os.path.join(straight, "W_enc.npy"))
        w_dec = np.load(os.path.join(straight, "W_dec.npy"))
        assert w_enc.shape == (48, 24) and w_dec.shape == (24, 48)
        assert np.allclose(np.linalg.norm(w_dec, axis=0), 1, atol=1e-5)
        assert np.load(os.path.join(straight, "b_dec.npy")).shape == (24,)

        # the folder is an encoder
        np.save(os.path.join(tmp, "x32.npy"), x.astype(np.float32))
        z = os.path.join(tmp, "z.npz")
        e = json.loads(run("encode", "--sae", straight, "--input",
                           os.path.join(tmp, "x32.npy"), "-k", "4", "-o", z).stdout)
        assert e["rows"] == 900 and e["features"] == 48, e

        # 1 epoch, then --resume to 4: the same weights, bit for bit
        resumed = os.path.join(tmp, "resumed")
        train(*common, "--latents", "48", "--epochs", "1", "--out", resumed)
        j2 = train("--input", shards, "--threads", "2", "--resume", "--epochs", "4",
                   "--out", resumed)
        assert j2["steps"] == j["steps"] and j2["steps_this_run"] == 3 * steps_per_epoch
        for name in ("W_enc.npy", "W_dec.npy", "b_enc.npy", "b_dec.npy"):
            a = np.load(os.path.join(straight, name))
            b = np.load(os.path.join(resumed, name))
            assert np.array_equal(a, b), name

        # usage errors (2) and failures (1)
        out = os.path.join(tmp, "bad")
        p = train("--input", shards, "--out", out, expect=2)
        assert "--latents" in p.stderr, p.stderr
        p = train("--input", shards, "--out", out, "--latents", "8", "--resume", expect=2)
        p = train("--input", shards, "--out", out, "--latents", "8", "--lr", "0", expect=2)
        assert "--lr" in p.stderr, p.stderr
        p = train("--input", shards, "--out", out, "--latents", "8", "--k", "9", expect=1)
        assert "k = 9" in p.stderr, p.stderr
        p = train("--input", os.path.join(tmp, "none-*.npy"), "--out", out, "--latents", "8",
                  expect=1)
        p = train("--input", shards, "--out", os.path.join(tmp, "nothing"), "--resume",
                  expect=1)
        assert "not a complete checkpoint" in p.stderr, p.stderr
        bad = x[:50].copy()
        bad[7, 3] = np.inf
        np.save(os.path.join(tmp, "inf.npy"), bad)
        p = train("--input", os.path.join(tmp, "inf.npy"), "--out", out, "--latents", "8",
                  "--k", "2", "--set-size", "4", expect=1)
        assert "inf.npy" in p.stderr and "row 7" in p.stderr, p.stderr
        np.save(os.path.join(tmp, "wide.npy"), np.zeros((5, 25), np.float32))
        p = train("--input", os.path.join(tmp, "[sw]*.npy"), "--out", out,
                  "--latents", "8", "--k", "2", expect=1)
        assert "columns" in p.stderr, p.stderr
    print("sae-train: ok")


main()
