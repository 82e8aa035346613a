# SPDX-License-Identifier: MIT
"""Writes a random nonnegative pool (pool.npz), the same pool as 8 shard
files of 500 rows (pool-0.npz ...), a target and quality scores into the
folder given, for tests/cli/distributed.sh."""
import sys

import numpy as np
import scipy.sparse as sp

out = sys.argv[1]
rng = np.random.default_rng(3)
n, d = 4000, 256
z = sp.random(n, d, density=0.03, random_state=rng, format="lil", dtype=np.float32)
for r in range(n):  # every row covers some column
    if not z.rows[r]:
        z[r, rng.integers(d)] = 1.0
z = z.tocsr()
z.data += np.float32(0.1)
z.sort_indices()
sp.save_npz(f"{out}/pool.npz", z)
for i in range(8):
    sp.save_npz(f"{out}/pool-{i}.npz", z[i * 500:(i + 1) * 500])
t = sp.random(300, d, density=0.05, random_state=rng, format="csr", dtype=np.float32)
t.data += np.float32(0.1)
sp.save_npz(f"{out}/target.npz", t)
np.save(f"{out}/quality.npy", rng.random(n))
