#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Optional cross-check of `subsel clipcov` against NumPy: runs the command
on tests/data/clipcov with given and zero-shot classes, raw and normalised
embeddings, default and custom term weights, and recomputes the objective of
the selection it wrote from the paper's formulas in float64 (every pairwise
similarity written out, F_inter over pairs of different classes directly,
not from class means). The reported objective must agree to 1e-9 relative.
Exits 77 (skipped) without numpy.

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


def main():
    subsel, data = sys.argv[1], sys.argv[2]
    image = np.load(os.path.join(data, "image.npy")).astype(np.float64)
    text = np.load(os.path.join(data, "text.npy")).astype(np.float64)
    emb = np.load(os.path.join(data, "label_emb.npy")).astype(np.float64)
    labels = np.load(os.path.join(data, "labels.npy"))
    cases = [
        ([], (1, 1, 1, 1, 1), 0.5, True, False),
        (["--normalize", "--term-weights", "2,0.5,1.5,3,1", "--alpha", "0.8"],
         (2, 0.5, 1.5, 3, 1), 0.8, True, True),
        (["--filter", "randomized", "--seed", "9"], (1, 1, 1, 1, 1), 0.5, False, False),
        (["--normalize", "--optimizer", "naive", "--filter", "none"],
         (1, 1, 1, 1, 1), 0.5, False, True),
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
            want = objective(v, l, y, cls, sel, w, alpha)
            got = summary["objective"]
            assert len(sel) == summary["selected"] <= 120, summary
            assert len(set(sel.tolist())) == len(sel)
            assert abs(got - want) <= 1e-9 * (1 + abs(want)), (extra, got, want)
            print("ok", extra, got, want)


if __name__ == "__main__":
    main()
