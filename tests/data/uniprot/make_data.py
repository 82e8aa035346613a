# SPDX-License-Identifier: MIT
"""Generates tests/data/uniprot: small labelled source and target features
and the greedy UniPROT selection on them, computed independently in NumPy
float64 (converged log-domain solves of f, the water-filling approximate
gain by bisection), for tests/cli_uniprot.sh.

Run with Debian's python3 (numpy, scipy): python3 make_data.py
"""
import os

import numpy as np
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
K, REG = 8, 0.05


def f_value(S, P, cap, reg):
    """f(P) by alternating exact dual updates, run to convergence."""
    Sp = S[P]
    n = S.shape[1]
    g = np.zeros(n)
    for _ in range(200000):
        f = -reg * logsumexp((Sp + g[None, :]) / reg, axis=1)
        gn = np.minimum(0, reg * np.log(cap) - reg * logsumexp((Sp + f[:, None]) / reg, axis=0))
        done = np.abs(gn - g).max() < 1e-14
        g = gn
        if done:
            break
    f = -reg * logsumexp((Sp + g[None, :]) / reg, axis=1)
    G = np.exp((Sp + f[:, None] + g[None, :]) / reg)
    return (G * Sp).sum() - reg * (G * np.log(G)).sum(), G


def approx_gain(s, r, reg):
    lo, hi = -1e4, 1e4
    x = s / reg - (s / reg).max()
    for _ in range(300):
        lc = 0.5 * (lo + hi)
        if np.minimum(r, np.exp(np.minimum(x + lc, 700))).sum() > 1:
            hi = lc
        else:
            lo = lc
    a = np.minimum(r, np.exp(x + lc))
    a = a[a > 0]
    return (s[np.minimum(r, np.exp(x + lc)) > 0] * a).sum() - reg * (a * np.log(a)).sum()


def main():
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(4, 6))
    ls = rng.integers(0, 4, size=40)
    lt = rng.choice(4, size=60, p=[0.55, 0.25, 0.15, 0.05])
    src = (centres[ls] + 0.6 * rng.normal(size=(40, 6))).astype(np.float32)
    tgt = (centres[lt] + 0.6 * rng.normal(size=(60, 6))).astype(np.float32)
    x, y = src.astype(np.float64), tgt.astype(np.float64)
    S = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (y / np.linalg.norm(y, axis=1, keepdims=True)).T
    cap = K / S.shape[1]
    P, r, values = [], np.full(S.shape[1], cap), []
    for _ in range(K):
        gains = np.array([-np.inf if v in P else approx_gain(S[v], r, REG) for v in range(len(S))])
        order = np.argsort(-gains)
        assert gains[order[0]] - gains[order[1]] > 1e-6, "near tie: choose another seed"
        P.append(int(order[0]))
        val, G = f_value(S, P, cap, REG)
        values.append(val)
        r = np.maximum(cap - G.sum(0), 0)
    np.save(os.path.join(HERE, "source.npy"), src)
    np.save(os.path.join(HERE, "target.npy"), tgt)
    np.save(os.path.join(HERE, "source_labels.npy"), ls.astype(np.int64))
    np.save(os.path.join(HERE, "target_labels.npy"), lt.astype(np.int64))
    np.save(os.path.join(HERE, "order.npy"), np.array(P, dtype=np.int64))
    np.save(os.path.join(HERE, "values.npy"), np.array(values))
    # 1-NN accuracy of the targets labelled by their most similar prototype.
    acc = (ls[np.array(P)][S[P].argmax(axis=0)] == lt).mean()
    print("order", P, "f", values[-1], "nn_accuracy", acc)


if __name__ == "__main__":
    main()
