#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Generates the small TopK SAE encoder test data in this folder, with the
codes NumPy computes for it in double precision (an independent reference
for the C encoder). Run with Debian's /usr/bin/python3 (numpy, scipy):

    /usr/bin/python3 tests/data/sae/make_data.py

The encoder folder (W_enc.npy, b_enc.npy, b_dec.npy) is what
`subsel encode --sae DIR` reads. The data is shaped to exercise the awkward
cases: b_dec far from 0 (centring matters), two identical encoder rows with
the same bias (exact ties between features 5 and 17, broken by the lower
index), a row equal to b_dec whose only positive activations are the three
positive entries of b_enc (fewer than k), and a row whose activations are
all negative (an empty code).
"""
import json
import os

import numpy as np
import scipy.sparse

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES, INPUTS, ROWS, K = 40, 12, 30, 8


def topk_codes(x, w, b_enc, b_dec, k):
    """h(x) = TopK(ReLU(W (x - b_dec) + b_enc)) in float64, ties to the lower
    index, as CSR arrays (indptr, indices ascending, values)."""
    act = (x.astype(np.float64) - b_dec.astype(np.float64)) @ w.astype(np.float64).T
    act += b_enc.astype(np.float64)
    indptr, indices, values = [0], [], []
    for row in act:
        order = np.argsort(-row, kind="stable")  # stable: equal values by index
        keep = [j for j in order[:k] if row[j] > 0]
        keep.sort()
        indices.extend(keep)
        values.extend(row[keep])
        indptr.append(len(indices))
    return (np.array(indptr, np.int64), np.array(indices, np.int64),
            np.array(values, np.float64))


def main():
    rng = np.random.default_rng(20240611)
    pos = [3, 11, 29]  # the features with a positive bias
    w = rng.standard_normal((FEATURES, INPUTS)) / np.sqrt(INPUTS)
    # Row 1 of X: all activations negative. The features of `pos` read one
    # direction u (weights 1, 2, 0.5) that every other row of W is made
    # orthogonal to; x[1] = b_dec - u takes those three below 0 and leaves
    # the others at their negative bias.
    u = rng.standard_normal(INPUTS)
    u /= np.linalg.norm(u)
    w -= np.outer(w @ u, u)
    w[pos] = np.outer([1.0, 2.0, 0.5], u)
    w[17] = w[5]
    w = w.astype(np.float32)
    b_enc = -np.abs(0.1 * rng.standard_normal(FEATURES) + 0.3).astype(np.float32)
    b_enc[17] = b_enc[5]
    b_enc[pos] = np.array([0.25, 0.5, 0.125], np.float32)
    b_dec = (2.0 + rng.standard_normal(INPUTS)).astype(np.float32)
    x = (b_dec + rng.standard_normal((ROWS, INPUTS))).astype(np.float32)
    x[0] = b_dec  # activations = b_enc: three positive, fewer than K
    x[1] = (b_dec - u).astype(np.float32)

    indptr, indices, values = topk_codes(x, w, b_enc, b_dec, K)
    assert indptr[1] - indptr[0] == 3, "row 0 must keep exactly three codes"
    assert indptr[2] - indptr[1] == 0, "row 1 must have an empty code"

    np.save(os.path.join(HERE, "W_enc.npy"), w)
    np.save(os.path.join(HERE, "b_enc.npy"), b_enc)
    np.save(os.path.join(HERE, "b_dec.npy"), b_dec)
    np.save(os.path.join(HERE, "X.npy"), x)
    np.save(os.path.join(HERE, "expected_indptr.npy"), indptr)
    np.save(os.path.join(HERE, "expected_indices.npy"), indices)
    np.save(os.path.join(HERE, "expected_values.npy"), values)
    z = scipy.sparse.csr_matrix((values.astype(np.float32), indices, indptr),
                                shape=(ROWS, FEATURES))
    scipy.sparse.save_npz(os.path.join(HERE, "expected_Z.npz"), z)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"rows": ROWS, "features": FEATURES, "inputs": INPUTS,
                   "k": K, "nnz": int(indptr[-1]),
                   "row_counts": np.diff(indptr).tolist(),
                   "definition": "TopK(ReLU(W_enc (x - b_dec) + b_enc)) in "
                                 "float64, ties to the lower index"},
                  f)
        f.write("\n")


if __name__ == "__main__":
    main()
