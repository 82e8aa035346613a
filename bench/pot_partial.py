# SPDX-License-Identifier: MIT
"""Times POT's entropic_partial_wasserstein for bench_ot (Debian python3).

Usage: pot_partial.py COSTS.npy N REG MASS. The costs are a flat float64
array of N * N values; marginals are uniform. Runs 3 iterations
(numItermax=3) and prints the seconds per iteration; prints nothing and
exits 1 when POT is missing.
"""
import sys
import time

try:
    import numpy as np
    import ot
except ImportError:
    sys.exit(1)

path, n, reg, mass = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
M = np.load(path).reshape(n, n)
a = np.full(n, 1.0 / n)
b = np.full(n, 1.0 / n)
iters = 3
t0 = time.perf_counter()
ot.partial.entropic_partial_wasserstein(a, b, M, reg, mass, numItermax=iters)
print((time.perf_counter() - t0) / iters)
