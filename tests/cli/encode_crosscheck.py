#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Optional cross-check of `subsel encode` against NumPy and SciPy: encodes
the committed data and a fresh random problem (500 x 64 inputs, 300
features, an offset b_dec) and compares the Z.npz that SciPy reads back with
codes computed by NumPy in float64. Indices must agree except where two
activations are within float rounding of the k-th value; values within 1e-5
of the row's activation scale. Exits 77 (skipped) without numpy/scipy.

    cli_encode_crosscheck.py SUBSEL DATA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy.sparse
except ImportError:
    sys.exit(77)


def reference(x, w, b_enc, b_dec):
    """Activations W (x - b_dec) + b_enc and their rounding scale, float64."""
    xc = x.astype(np.float64) - b_dec.astype(np.float64)
    w64 = w.astype(np.float64)
    act = xc @ w64.T + b_enc.astype(np.float64)
    scale = np.abs(xc) @ np.abs(w64).T + np.abs(b_enc.astype(np.float64))
    return act, scale


def check(z, act, scale, k):
    rows, features = act.shape
    assert z.shape == (rows, features), z.shape
    for r in range(rows):
        got = z.indices[z.indptr[r]:z.indptr[r + 1]]
        val = z.data[z.indptr[r]:z.indptr[r + 1]]
        assert len(got) <= k
        assert np.all(np.diff(got) > 0), "indices not ascending"
        assert np.all(val > 0)
        tol = 1e-5 * scale[r]
        assert np.all(np.abs(val - act[r, got]) <= tol[got]), (r, val, act[r, got])
        order = np.argsort(-act[r], kind="stable")
        want = np.array(sorted(j for j in order[:k] if act[r, j] > 0), int)
        if len(got) == len(want) and np.array_equal(got, want):
            continue
        slack = 2 * tol.max()
        kth_ref = act[r, want].min() if len(want) == k else 0.0
        kth_got = val.min() if len(got) == k else 0.0
        for j in np.setdiff1d(got, want):
            assert act[r, j] >= kth_ref - slack, (r, j)
        for j in np.setdiff1d(want, got):
            assert act[r, j] <= kth_got + slack, (r, j)


def encode(subsel, folder, x_path, k, out):
    run = subprocess.run([subsel, "encode", "--sae", folder, "--input", x_path,
                          "--k", str(k), "--out", out],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    z = scipy.sparse.load_npz(out).tocsr()
    assert summary["nnz"] == z.nnz and summary["rows"] == z.shape[0], summary
    return z


def main():
    subsel, data = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        load = lambda name: np.load(os.path.join(data, name))
        act, scale = reference(load("X.npy"), load("W_enc.npy"),
                               load("b_enc.npy"), load("b_dec.npy"))
        z = encode(subsel, data, os.path.join(data, "X.npy"), 8,
                   os.path.join(tmp, "Z.npz"))
        check(z, act, scale, 8)

        rng = np.random.default_rng(7)
        w = (rng.standard_normal((300, 64)) / 8).astype(np.float32)
        b_enc = (0.05 * rng.standard_normal(300) - 0.1).astype(np.float32)
        b_dec = (3 + rng.standard_normal(64)).astype(np.float32)
        x = (b_dec + rng.standard_normal((500, 64))).astype(np.float32)
        for name, a in (("W_enc", w), ("b_enc", b_enc), ("b_dec", b_dec), ("X", x)):
            np.save(os.path.join(tmp, name + ".npy"), a)
        act, scale = reference(x, w, b_enc, b_dec)
        for k in (1, 16, 300):
            z = encode(subsel, tmp, os.path.join(tmp, "X.npy"), k,
                       os.path.join(tmp, "Z%d.npz" % k))
            check(z, act, scale, k)
    print("ok")


if __name__ == "__main__":
    main()
