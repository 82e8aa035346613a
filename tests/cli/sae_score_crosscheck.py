#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Optional cross-check of `subsel sae-score` against NumPy: MS and MT
computed from their definitions, with every pair (the cosine of each pair
of activating rows; the inner products of neighbours in a stable sort by
activation, largest first), on a random encoder's codes (--sae) and on
random codes with tied and non-positive entries and a zero input row
(--codes). The means, counts, per-latent scores (--ms-out, --mt-out) and
histograms must agree: scores to 1e-9 relative. Exits 77 (skipped)
without numpy/scipy.

    sae_score_crosscheck.py SUBSEL
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


def reference(x, z):
    """Per-latent MS and MT (NaN where unscored), by pairs, in float64."""
    x = x.astype(np.float64)
    z = z.tocsc()
    ms = np.full(z.shape[1], np.nan)
    mt = np.full(z.shape[1], np.nan)
    for i in range(z.shape[1]):
        rows = z.indices[z.indptr[i]:z.indptr[i + 1]]
        vals = z.data[z.indptr[i]:z.indptr[i + 1]]
        keep = vals > 0
        rows, vals = rows[keep], vals[keep]
        order = np.argsort(rows, kind="stable")       # ties: lower row first
        rows, vals = rows[order], vals[order]
        order = np.argsort(-vals, kind="stable")      # largest first
        ranked = rows[order]
        if len(ranked) > 1:
            xs = x[ranked]
            mt[i] = np.mean(np.sum(xs[:-1] * xs[1:], axis=1))
        norms = np.linalg.norm(x[rows], axis=1)
        u = x[rows][norms > 0] / norms[norms > 0, None]
        n = len(u)
        if n > 1:
            cos = u @ u.T
            ms[i] = cos[np.triu_indices(n, 1)].mean()
    return ms, mt


def run(subsel, args, tmp):
    ms_path, mt_path = os.path.join(tmp, "ms.npy"), os.path.join(tmp, "mt.npy")
    out = subprocess.run([subsel, "sae-score", *args, "--bins", "7",
                          "--ms-out", ms_path, "--mt-out", mt_path],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), np.load(ms_path), np.load(mt_path)


def close(got, want, what):
    assert np.array_equal(np.isnan(got), np.isnan(want)), (what, got, want)
    ok = ~np.isnan(want)
    err = np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1e-300)
    assert np.all(err <= 1e-9), (what, err.max())


def check(summary, ms_got, mt_got, ms, mt):
    close(ms_got, ms, "MS per latent")
    close(mt_got, mt, "MT per latent")
    ms_ok, mt_ok = ms[~np.isnan(ms)], mt[~np.isnan(mt)]
    assert summary["ms_latents"] == len(ms_ok), summary
    assert summary["mt_latents"] == len(mt_ok), summary
    close(np.array([summary["ms"]]), np.array([ms_ok.mean()]), "mean MS")
    close(np.array([summary["mt"]]), np.array([mt_ok.mean()]), "mean MT")
    hist, _ = np.histogram(ms_got[~np.isnan(ms_got)], 7, (-1.0, 1.0))
    assert summary["ms_histogram"] == hist.tolist(), (summary, hist)
    hist, _ = np.histogram(mt_got[~np.isnan(mt_got)], 7)
    assert summary["mt_histogram"] == hist.tolist(), (summary, hist)
    assert summary["mt_min"] == np.nanmin(mt_got), summary
    assert summary["mt_max"] == np.nanmax(mt_got), summary
    close(np.array([summary["mt_min"], summary["mt_max"]]),
          np.array([mt_ok.min(), mt_ok.max()]), "MT range")


def main():
    subsel = sys.argv[1]
    rng = np.random.default_rng(13)
    with tempfile.TemporaryDirectory() as tmp:
        # an encoder's codes, read back from the file `subsel encode` writes
        w = (rng.standard_normal((60, 16)) / 4).astype(np.float32)
        b_enc = (0.05 * rng.standard_normal(60)).astype(np.float32)
        b_dec = (1 + rng.standard_normal(16)).astype(np.float32)
        x = (b_dec + rng.standard_normal((200, 16))).astype(np.float32)
        for name, a in (("W_enc", w), ("b_enc", b_enc), ("b_dec", b_dec), ("X", x)):
            np.save(os.path.join(tmp, name + ".npy"), a)
        x_path, z_path = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Z.npz")
        enc = subprocess.run([subsel, "encode", "--sae", tmp, "--input", x_path,
                              "--k", "6", "--out", z_path],
                             capture_output=True, text=True, check=False)
        assert enc.returncode == 0, enc.stderr
        z = scipy.sparse.load_npz(z_path).tocsr()
        ms, mt = reference(x, z)
        check(*run(subsel, ["--sae", tmp, "--k", "6", "--input", x_path], tmp), ms, mt)
        check(*run(subsel, ["--codes", z_path, "--input", x_path, "-t", "1"], tmp), ms, mt)

        # random codes: tied activations, zeros and negatives (not active),
        # a zero input row, a latent active once and one never
        x = (0.3 + rng.standard_normal((150, 10))).astype(np.float32)
        x[4] = 0
        dense = rng.integers(1, 6, (150, 25)).astype(np.float32) * 0.5
        dense[rng.random((150, 25)) < 0.7] = 0
        dense[rng.random((150, 25)) < 0.05] = -1
        dense[:, 23] = 0
        dense[5, 23] = 2
        dense[:, 24] = 0
        z = scipy.sparse.csr_matrix(dense)
        z.data[:7] = 0  # explicit zeros, stored
        np.save(x_path, x)
        scipy.sparse.save_npz(z_path, z)
        ms, mt = reference(x, z)
        assert np.isnan(ms[23]) and np.isnan(mt[24])
        check(*run(subsel, ["--codes", z_path, "--input", x_path], tmp), ms, mt)
    print("ok")


if __name__ == "__main__":
    main()
