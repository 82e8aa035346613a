#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Expected TAROT selections and weights beyond the shared fixtures.

Independent NumPy/SciPy port of the reference procedures (GeomLoss's
annealed Sinkhorn with cost |x - y|, p = 2, blur 0.01, scaling 0.5, and the
authors' DataSelector rules), run on the fixture's whitened rows U and V in
double precision. Writes, next to this script:

  fixed_<mode>_<budget>.npy   fixed-size selections in the order added
                              (ranks ascending, ascending index within a
                              rank, then the fill by preference), for the
                              default (smallest potentials kept) and the
                              reference (largest) modes
  weights_reference.npy       the authors' scale_weights_with_max_k on the
                              fixture's potentials f with N = 200, M = 50
                              (stable sort: ties to the lower position)

Run with Debian's /usr/bin/python3 (numpy, scipy):
    /usr/bin/python3 tests/data/tarot/make_data.py
"""
import os

import numpy as np
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, '..', '..', 'fixtures', 'tarot')


def annealed_ot(x, y, blur=0.01, scaling=0.5):
    n, m = len(x), len(y)
    c = np.sqrt(np.maximum(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1), 0))
    both = np.vstack([x, y])
    diam = np.linalg.norm(both.max(0) - both.min(0))
    eps_list = ([diam ** 2] +
                [np.exp(e) for e in np.arange(2 * np.log(diam), 2 * np.log(blur),
                                              2 * np.log(scaling))] +
                [blur ** 2])
    a_log = np.full(n, -np.log(n))
    b_log = np.full(m, -np.log(m))

    def softmin(eps, cm, h):
        return -eps * logsumexp(h[None, :] - cm / eps, axis=1)

    eps = eps_list[0]
    g = softmin(eps, c.T, a_log)
    f = softmin(eps, c, b_log)
    for eps in eps_list:
        ft = softmin(eps, c, b_log + g / eps)
        gt = softmin(eps, c.T, a_log + f / eps)
        f, g = 0.5 * (f + ft), 0.5 * (g + gt)
    f, g = softmin(eps, c, b_log + g / eps), softmin(eps, c.T, a_log + f / eps)
    return f, g, f.mean() + g.mean()


def fixed_size(u, v, budget, largest):
    score = u @ v.T
    n = len(u)
    idx = np.arange(n)
    # rank r of target j: higher score first, then lower index
    order = np.array([np.lexsort((idx, -score[:, j])) for j in range(len(v))]).T
    chosen, out = set(), []
    for r in range(n):
        if len(out) == budget:
            break
        layer = sorted(set(order[r].tolist()) - chosen)
        if len(out) + len(layer) <= budget:
            out += layer
            chosen |= set(layer)
            continue
        need = budget - len(out)
        f, _, _ = annealed_ot(u[layer], v)
        keys = sorted(range(len(layer)),
                      key=lambda p: ((-f[p] if largest else f[p]), layer[p]))
        out += [layer[p] for p in keys[:need]]
        break
    return np.array(out, dtype=np.int64)


def weights_reference(f, n, m):
    k = f.max()
    ext = np.concatenate((f, np.full(m, k)))
    scaled = ext / ext.sum() * n
    w = np.floor(scaled).astype(np.int64)
    diff = n - w.sum()
    frac = scaled - w
    ind = np.argsort(-frac, kind='stable')
    for i in range(diff):
        w[ind[i]] += 1
    return w


def main():
    u = np.load(os.path.join(FIX, 'U.npy'))
    v = np.load(os.path.join(FIX, 'V.npy'))
    for budget in (40, 60, 100):
        for mode, largest in (('default', False), ('reference', True)):
            np.save(os.path.join(HERE, 'fixed_%s_%d.npy' % (mode, budget)),
                    fixed_size(u, v, budget, largest))
    f = np.load(os.path.join(FIX, 'f.npy'))
    np.save(os.path.join(HERE, 'weights_reference.npy'),
            weights_reference(f, len(u), len(v)))


if __name__ == '__main__':
    main()
