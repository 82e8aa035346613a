# SPDX-License-Identifier: MIT
"""Cross-checks the OT engine against POT 0.8.2 through the public C API
(ctypes on libsubsel.so), on random problems the fixtures do not cover:
non-uniform marginals, rectangular costs, several regularisations and
masses. Plans must agree within 1e-7. Also shows the failure mode the
log-domain solver removes: on costs in [-1, 1] at reg 1e-3, POT's
entropic_partial_wasserstein returns NaN (or warns) while subsel's plan is
finite and feasible. Exits 77 (skip) without numpy or POT.

Usage: ot_pot_crosscheck.py LIBSUBSEL_SO
"""
import ctypes
import sys
import warnings

try:
    import numpy as np
    import ot
except ImportError:
    sys.exit(77)

lib = ctypes.CDLL(sys.argv[1])
dp = ctypes.POINTER(ctypes.c_double)
vp = ctypes.c_void_p
lib.subsel_ctx_create.argtypes = [ctypes.POINTER(vp)]
lib.subsel_ctx_last_error.restype = ctypes.c_char_p
lib.subsel_ctx_last_error.argtypes = [vp]
lib.subsel_ot_partial.argtypes = [vp, vp, dp, ctypes.c_int64, dp, ctypes.c_int64, dp,
                                  ctypes.c_double, ctypes.c_double, dp, dp, dp, dp]
lib.subsel_ot_sinkhorn.argtypes = [vp, vp, dp, ctypes.c_int64, dp, ctypes.c_int64, dp,
                                   ctypes.c_double, dp, dp, dp, dp]
ctx = vp()
assert lib.subsel_ctx_create(ctypes.byref(ctx)) == 0


def ptr(a):
    return a.ctypes.data_as(dp)


def ours(a, b, M, reg, mass=None):
    n, m = M.shape
    plan = np.zeros((n, m))
    value = ctypes.c_double()
    M = np.ascontiguousarray(M)
    if mass is None:
        rc = lib.subsel_ot_sinkhorn(ctx, None, ptr(a), n, ptr(b), m, ptr(M), reg,
                                    ctypes.byref(value), None, None, ptr(plan))
    else:
        rc = lib.subsel_ot_partial(ctx, None, ptr(a), n, ptr(b), m, ptr(M), reg, mass,
                                   ctypes.byref(value), None, None, ptr(plan))
    if rc != 0:
        raise RuntimeError(lib.subsel_ctx_last_error(ctx).decode())
    return plan, value.value


rng = np.random.default_rng(8)
worst = 0.0
for trial in range(8):
    n, m = rng.integers(5, 70, size=2)
    a = rng.uniform(0.2, 1.0, n)
    b = rng.uniform(0.2, 1.0, m)
    M = rng.uniform(0, 1, (n, m)) ** 2
    reg = [0.2, 0.1, 0.05][trial % 3]
    mass = rng.uniform(0.2, 0.9) * min(a.sum(), b.sum())
    ref = ot.partial.entropic_partial_wasserstein(a, b, M, reg, mass, numItermax=3000)
    plan, value = ours(a, b, M, reg, mass)
    worst = max(worst, np.abs(plan - ref).max())
    assert np.abs(plan - ref).max() < 1e-7, ("partial", trial, np.abs(plan - ref).max())
    assert abs(value - (ref * M).sum()) < 1e-7
    a /= a.sum()
    b /= b.sum()
    ref = ot.sinkhorn(a, b, M, reg, numItermax=100000, stopThr=1e-13)
    plan, value = ours(a, b, M, reg)
    worst = max(worst, np.abs(plan - ref).max())
    assert np.abs(plan - ref).max() < 1e-7, ("sinkhorn", trial, np.abs(plan - ref).max())

# Small regularisation on costs in [-1, 1].
n, m = 50, 40
a = np.full(n, 1.0 / n)
b = np.full(m, 1.0 / m)
M = rng.uniform(-1, 1, (n, m))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ref = ot.partial.entropic_partial_wasserstein(a, b, M, 1e-3, 0.5)
plan, value = ours(a, b, M, 1e-3, 0.5)
assert np.all(np.isfinite(plan)) and abs(plan.sum() - 0.5) < 1e-9
assert np.all(plan.sum(1) <= a + 1e-9) and np.all(plan.sum(0) <= b + 1e-9)
print("max |plan - POT| over random problems: %.2e; POT at reg 1e-3 finite: %s"
      % (worst, bool(np.all(np.isfinite(ref)))))
