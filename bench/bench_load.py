#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Loading speed: subsel's loaders against SciPy and NumPy, in one run (issue 15, item 1).

Writes a CSR matrix of --rows x --cols with --nnz nonzeros per row (float32 values,
int32 indices: 516 MB at the default 1M x 16,384 x 64) three times, as
scipy.sparse.save_npz writes it (stored members at odd offsets; and deflated) and as
subsel writes it (stored members 64-byte aligned), and a float32 .npy of --dense-rows
x 512. Then, alternating, best of --rounds, with the files in the page cache:
  scipy.sparse.load_npz / numpy.load
  subsel.load_npz / subsel.load_npy with map_files 1 (the default: mapped, used in
    place where aligned, else copied on the way through the CRC check; deflated
    indices and values inflated at once on two threads)
  the same with map_files 0 (streamed into new buffers, as before 0.13)
Every subsel load checks the members' CRC-32 and validates the whole matrix (structure,
finiteness); SciPy and NumPy check neither. One JSON line per file and loader:
  {"bench":"load","file":..,"bytes":..,"loader":..,"seconds":..,"gb_per_s":..,
   "ratio_vs_scipy":(scipy or numpy seconds)/seconds,"threads":..}

    SUBSEL_LIBRARY=build/lib/libsubsel.so.0 PYTHONPATH=python \
        /usr/bin/python3 bench/bench_load.py
"""
import argparse
import gc
import json
import os
import tempfile
import time

import numpy as np
import scipy.sparse as sp

import subsel
from stages import Stages


def timed(fn, clock):
    """Seconds of one call of fn, and its stages: "load", with "validate"
    split out by the library's progress reports (clock.progress)."""
    gc.collect()
    clock.begin("load")
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    stages = clock.take()
    del out
    return seconds, stages


def make_csr(rows, cols, nnz, seed=0):
    rng = np.random.default_rng(seed)
    step = cols // nnz
    start = rng.integers(0, cols, size=(rows, 1))
    idx = (start + np.arange(nnz)[None, :] * step
           + rng.integers(0, step, size=(rows, nnz))) % cols
    idx = np.sort(idx, axis=1).astype(np.int32)
    indptr = np.arange(0, rows * nnz + 1, nnz, dtype=np.int32)
    data = rng.random(rows * nnz, dtype=np.float32) + np.float32(0.01)
    return sp.csr_matrix((data, idx.ravel(), indptr), shape=(rows, cols))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=16384)
    ap.add_argument("--nnz", type=int, default=64)
    ap.add_argument("--dense-rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args()
    mapped = subsel.Context(threads=a.threads, map_files=1)
    copied = subsel.Context(threads=a.threads, map_files=0)
    with tempfile.TemporaryDirectory(prefix="subsel-bench-load-") as tmp:
        scipy_npz = os.path.join(tmp, "scipy.npz")
        deflated_npz = os.path.join(tmp, "scipy_deflated.npz")
        subsel_npz = os.path.join(tmp, "subsel.npz")
        dense_npy = os.path.join(tmp, "dense.npy")
        m = make_csr(a.rows, a.cols, a.nnz)
        sp.save_npz(scipy_npz, m, compressed=False)
        sp.save_npz(deflated_npz, m, compressed=True)
        del m
        subsel.load_npz(scipy_npz, ctx=copied).save_npz(subsel_npz, compressed=False,
                                                        ctx=copied)
        rng = np.random.default_rng(1)
        np.save(dense_npy, rng.random((a.dense_rows, 512), dtype=np.float32))
        clock = Stages()
        cases = [
            (scipy_npz, "scipy.sparse.load_npz", lambda p: sp.load_npz(p),
             lambda p, c: subsel.load_npz(p, ctx=c, progress=clock.progress)),
            (subsel_npz, "scipy.sparse.load_npz", lambda p: sp.load_npz(p),
             lambda p, c: subsel.load_npz(p, ctx=c, progress=clock.progress)),
            (deflated_npz, "scipy.sparse.load_npz", lambda p: sp.load_npz(p),
             lambda p, c: subsel.load_npz(p, ctx=c, progress=clock.progress)),
            (dense_npy, "numpy.load", lambda p: np.load(p),
             lambda p, c: subsel.load_npy(p, ctx=c, progress=clock.progress)),
        ]
        for path, ref_name, ref, ours in cases:
            size = os.path.getsize(path)
            ref(path)  # into the page cache
            loaders = {ref_name: lambda: ref(path),
                       "subsel map_files=1": lambda: ours(path, mapped),
                       "subsel map_files=0": lambda: ours(path, copied)}
            # per loader: (seconds, stages) of each round
            t = {name: [] for name in loaders}
            for _ in range(a.rounds):  # alternating, so drift hits all alike
                for name, load in loaders.items():
                    t[name].append(timed(load, clock))
            ref_s = min(t[ref_name])[0]
            for loader, runs in t.items():
                s, stages = min(runs, key=lambda run: run[0])
                print(json.dumps({
                    "bench": "load", "file": os.path.basename(path), "bytes": size,
                    "loader": loader, "seconds": round(s, 4),
                    "gb_per_s": round(size / s / 1e9, 2),
                    "ratio_vs_scipy": round(ref_s / s, 2), "threads": a.threads,
                    "stages": stages}),
                    flush=True)


if __name__ == "__main__":
    main()
