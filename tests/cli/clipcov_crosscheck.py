#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Optional cross-check of `subsel clipcov` against NumPy: runs the command
on tests/data/clipcov with given and zero-shot classes, raw and normalised
embeddings, default and custom term weights, and recomputes the objective of
the selection it wrote from the paper's formulas in float64 (every pairwise
similarity written out, F_inter over pairs of different classes directly,
not from class means). The reported objective must agree to 1e-9 relative.
Without --alpha the command uses the paper's alpha from the data (appendix
A.3): the mean of sim(i, j) over all ordered pairs over the mean caption-
caption similarity, recomputed here from the n x n matrices; it must agree
to 1e-12 relative, and a pool without a usable ratio must fall back to 0.5
with one warning line (alpha_source "fallback"). Exits 77 (skipped) without numpy.

    cli_clipcov_crosscheck.py SUBSEL DATA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    sys.exit(77)


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def objective(v, l, y, cls, sel, w, alpha):
    """F(S) of appendix A with term weights w = (intra, self, inter, reg, label)."""
    sim = v @ l.T + l @ v.T  # sim[i, j] = v_i.l_j + v_j.l_i
    k = y.shape[0]
    size = np.bincount(cls, minlength=k).astype(np.float64)
    s = np.zeros(len(cls), dtype=bool)
    s[sel] = True
    same = cls[:, None] == cls[None, :]
    inv = 1.0 / size[cls]  # 1/|V_k| of each pair's class
    intra = np.sum(inv[s] * (sim[s] * same[s]).sum(axis=1)) \
        - 0.5 * np.sum((inv[s, None] * sim[np.ix_(s, s)]) * same[np.ix_(s, s)])
    self_term = np.trace(sim[np.ix_(s, s)])
    inter = np.sum((sim[s] * ~same[s]) / size[cls][None, :])
    reg = np.sum(inv[s] ** 2 * (sim[s] * same[s]).sum(axis=1))
    label = np.sum(np.einsum("ij,ij->i", l[s], y[cls[s]]) * (1 - inv[s]))
    return (w[0] * intra + w[1] * self_term - w[2] * inter - w[3] * reg
            + w[4] * alpha * label)


def paper_alpha(v, l):
    """Appendix A.3: average cross-modal similarity (eq. 22's sim over all
    ordered pairs, i = j included) over the average text similarity."""
    sim = v @ l.T + l @ v.T
    return sim.mean() / (l @ l.T).mean()


def main():
    subsel, data = sys.argv[1], sys.argv[2]
    image = np.load(os.path.join(data, "image.npy")).astype(np.float64)
    text = np.load(os.path.join(data, "text.npy")).astype(np.float64)
    emb = np.load(os.path.join(data, "label_emb.npy")).astype(np.float64)
    labels = np.load(os.path.join(data, "labels.npy"))
    # alpha None: the command's default, the paper's alpha from the data
    cases = [
        ([], (1, 1, 1, 1, 1), None, True, False),
        (["--alpha", "0.5"], (1, 1, 1, 1, 1), 0.5, True, False),
        (["--normalize", "--term-weights", "2,0.5,1.5,3,1", "--alpha", "0.8"],
         (2, 0.5, 1.5, 3, 1), 0.8, True, True),
        (["--filter", "randomized", "--seed", "9"], (1, 1, 1, 1, 1), None, False, False),
        (["--normalize", "--optimizer", "naive", "--filter", "none"],
         (1, 1, 1, 1, 1), None, False, True),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for extra, w, alpha, given, normalize in cases:
            out = os.path.join(tmp, "sel.npy")
            args = [subsel, "clipcov", "--image", os.path.join(data, "image.npy"),
                    "--text", os.path.join(data, "text.npy"),
                    "--label-embeddings", os.path.join(data, "label_emb.npy"),
                    "--budget", "120", "--out", out] + extra
            if given:
                args += ["--labels", os.path.join(data, "labels.npy")]
            summary = json.loads(subprocess.run(args, check=True, capture_output=True,
                                                text=True).stdout)
            sel = np.load(out)
            v, l, y = (unit(image), unit(text), unit(emb)) if normalize else (image, text, emb)
            # zero-shot: the cosine arg-max of the image embedding
            cls = labels if given else np.argmax(unit(image) @ unit(emb).T, axis=1)
            if alpha is None:
                alpha = paper_alpha(v, l)
                assert summary["alpha_source"] == "data", summary
                assert abs(summary["alpha"] - alpha) <= 1e-12 * alpha, (summary, alpha)
            else:
                assert summary["alpha_source"] == "given", summary
                assert summary["alpha"] == alpha, summary
            want = objective(v, l, y, cls, sel, w, alpha)
            got = summary["objective"]
            assert len(sel) == summary["selected"] <= 120, summary
            assert len(set(sel.tolist())) == len(sel)
            assert abs(got - want) <= 1e-9 * (1 + abs(want)), (extra, got, want)
            print("ok", extra, got, want, "alpha", alpha)
        # captions that cancel out: no average text similarity to divide by
        x = np.array([[1, 0], [0, 1]], np.float32)
        np.save(os.path.join(tmp, "v.npy"), x)
        np.save(os.path.join(tmp, "l.npy"), np.array([[1, 0], [-1, 0]], np.float32))
        np.save(os.path.join(tmp, "y.npy"), np.array([0, 1], np.int64))
        base = [subsel, "clipcov", "--image", os.path.join(tmp, "v.npy"),
                "--text", os.path.join(tmp, "l.npy"), "--labels",
                os.path.join(tmp, "y.npy"), "--budget", "1",
                "--out", os.path.join(tmp, "s.npy")]
        r = subprocess.run(base, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary["alpha"] == 0.5 and summary["alpha_source"] == "fallback", summary
        warn = r.stderr.strip().splitlines()
        assert len(warn) == 1 and "warning: --alpha auto: using 0.5" in warn[0] \
            and "average text similarity" in warn[0], r.stderr
        r = subprocess.run(base + ["--alpha", "0.5"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert json.loads(r.stdout)["alpha_source"] == "given"
        print("ok: no usable alpha falls back to 0.5 with one warning; --alpha 0.5 is quiet")


if __name__ == "__main__":
    main()
