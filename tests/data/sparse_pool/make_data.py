#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the pool of the budget-filling tests (tests/cli/budget.sh): 4000
rows over 64 concept columns of which only 200 (5%) have any nonzero entry
(4 concepts each, values in [0.1, 1.1)); the other 3800 rows add nothing to
SDM or FB. A uniform target distribution over the columns. Stochastic greedy
with budget 200 used to stop at the first sample without a useful row (a
handful of items); the monotone default must now return exactly 200.
Deterministic (seed 9).

    /usr/bin/python3 make_data.py   # in tests/data/sparse_pool
"""
import numpy as np
import scipy.sparse as sp

rng = np.random.default_rng(9)
n, d, useful, per_row = 4000, 64, 200, 4

rows = np.sort(rng.choice(n, size=useful, replace=False))
dense = np.zeros((n, d), dtype=np.float32)
for r in rows:
    cols = rng.choice(d, size=per_row, replace=False)
    dense[r, cols] = 0.1 + rng.random(per_row)
sp.save_npz("pool.npz", sp.csr_matrix(dense), compressed=True)
np.save("p_target.npy", np.full(d, 1.0 / d))
