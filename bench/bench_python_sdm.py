# SPDX-License-Identifier: MIT
"""The SDM benchmark workload through Python and through the CLI, in one run.

A synthetic SAE-like pool (Zipf-popular columns, positive activations, as
bench/bench_sdm.c makes it) is written once as an uncompressed .npz; then
stochastic greedy (budget n/5, one thread, seed 0) selects from it through
`subsel sdm` and through `subsel.sdm()` in a child Python process, each
SUBSEL_BENCH_REPEAT (default 5) times, alternating. Prints one JSON line per path and a summary:
the selection times (best of the repeats; both measure the optimizer run
only), their ratio (the issue asks <= 1.05), the same selection on both
paths, and peak memory: the Python child's growth after its imports
against the CLI's peak plus the input arrays (no hidden copies).

    SUBSEL_CLI=build/tools/subsel /usr/bin/python3 bench/bench_python_sdm.py

(`./run bench` runs it last.) SUBSEL_BENCH_SCALE scales n (default 1:
n = 200,000, d = 4,096). The child imports the source tree's package
(python/) unless one is installed ahead of it.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPEAT = int(os.environ.get("SUBSEL_BENCH_REPEAT", "5"))


def peak_rss_bytes(who=resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss * 1024


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_pool(n: int, d: int, per_row: int, seed: int = 1):
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(1.0 / np.arange(1, d + 1))
    cdf /= cdf[-1]
    perm = rng.permutation(d).astype(np.int32)
    ranks = np.searchsorted(cdf, rng.random((n, per_row * 2)))
    cols = perm[ranks]
    indices = np.empty((n, per_row), np.int32)
    for r in range(n):  # per_row distinct columns a row
        u = np.unique(cols[r])
        while len(u) < per_row:
            u = np.unique(np.concatenate([u, rng.integers(0, d, per_row)]))
        indices[r] = np.sort(rng.choice(u, per_row, replace=False))
    data = rng.exponential(1.0, n * per_row).astype(np.float32) + 1e-3
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int32)
    pool = sp.csr_matrix((data, indices.ravel(), indptr), shape=(n, d))
    p = rng.pareto(1.0, d) + 1e-3
    return pool, p / p.sum()


def child(path: str, p_path: str, budget: int) -> None:
    """The Python path, in its own process so its peak memory is its own."""
    import scipy.sparse as sp
    import subsel
    from stages import Stages
    clock = Stages()
    ctx = subsel.Context(threads=1, seed=0)
    # Resident now, after the imports: growth past it is what the selection
    # path costs (an overestimate if the imports peaked higher earlier).
    base = current_rss_bytes()
    clock.begin("load")
    pool = sp.load_npz(path)
    p = np.load(p_path)
    clock.begin("select")  # subsel.sdm(): the objective, then the optimizer
    inputs = pool.data.nbytes + pool.indices.nbytes + pool.indptr.nbytes \
        + p.nbytes
    r = subsel.sdm(pool, target_distribution=p, budget=budget,
                   optimizer="stochastic", ctx=ctx)
    stages = clock.take()
    growth = peak_rss_bytes() - base
    # A control: the same arrays copied to 64-byte boundaries (as the
    # library aligns its own). NumPy's large arrays start 16 bytes past a
    # page, so rows of a multiple of 64 bytes (TopK codes) straddle one more
    # cache line each; until the FB prefetch counted lines from the row's
    # first byte, that third line was never prefetched and the borrowed
    # arrays selected 35-50% slower than these.
    clock.begin("build")
    aligned = sp.csr_matrix((aligned64(pool.data), aligned64(pool.indices),
                             aligned64(pool.indptr)), shape=pool.shape)
    clock.begin("select")
    ra = subsel.sdm(aligned, target_distribution=p, budget=budget,
                    optimizer="stochastic", ctx=ctx)
    aligned_stages = clock.take()
    # The library's own reader (its memory, as the CLI has it).
    clock.begin("load")
    own = subsel.load_npz(path, ctx=ctx, progress=clock.progress)
    clock.begin("select")
    rl = subsel.sdm(own, target_distribution=p,
                    budget=budget, optimizer="stochastic", ctx=ctx)
    reader_stages = clock.take()
    print(json.dumps({"seconds": r.seconds, "indices": r.indices.tolist(),
                      "aligned_seconds": ra.seconds,
                      "reader_seconds": rl.seconds,
                      "data_offset": pool.data.ctypes.data % 64,
                      "peak_growth": growth, "inputs": inputs,
                      "stages": stages, "aligned_stages": aligned_stages,
                      "reader_stages": reader_stages}))


def aligned64(a: np.ndarray) -> np.ndarray:
    buf = np.empty(a.nbytes + 64, np.uint8)
    off = (-buf.ctypes.data) % 64
    out = buf[off:off + a.nbytes].view(a.dtype)
    out[...] = a
    return out


def main() -> int:
    scale = float(os.environ.get("SUBSEL_BENCH_SCALE", "1"))
    n, d, per_row = int(200_000 * scale), 4096, 32
    budget = n // 5
    top = Path(__file__).resolve().parents[1]
    cli = os.environ.get("SUBSEL_CLI", str(top / "build/tools/subsel"))
    with tempfile.TemporaryDirectory() as tmp:
        pool, p = make_pool(n, d, per_row)
        import scipy.sparse as sp
        path, p_path = os.path.join(tmp, "pool.npz"), os.path.join(tmp, "p.npy")
        sp.save_npz(path, pool, compressed=False)
        np.save(p_path, p)
        del pool
        cli_runs, py_runs = [], []
        # The child imports this source tree's package unless one is
        # installed ahead of it.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(top / "python"),
                          env.get("PYTHONPATH")]))
        cli_peak = 0
        for _ in range(REPEAT):
            out = subprocess.run(
                [cli, "sdm", "--source", path, "--target-dist", p_path,
                 "--budget", str(budget), "--optimizer", "stochastic",
                 "--threads", "1", "--seed", "0",
                 "--out", os.path.join(tmp, "cli.npy")],
                capture_output=True, text=True, check=True)
            cli_runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            if not cli_peak:
                # Only CLI children have run so far: this is the CLI's peak.
                cli_peak = peak_rss_bytes(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [sys.executable, __file__, "--child", path, p_path,
                 str(budget)], capture_output=True, text=True, check=True,
                env=env)
            py_runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        cli_indices = np.load(os.path.join(tmp, "cli.npy")).tolist()
    cli_best = min(cli_runs, key=lambda r: r["seconds"])
    py_best = min(py_runs, key=lambda r: r["seconds"])
    cli_s, py_s = cli_best["seconds"], py_best["seconds"]
    growth = max(r["peak_growth"] for r in py_runs)
    inputs = py_runs[0]["inputs"]
    common = {"bench": "python_sdm", "n": n, "d": d, "nnz": n * per_row,
              "budget": budget}
    # stages: the CLI's own, and the Python child's (of the fastest runs)
    print(json.dumps({**common, "path": "cli", "seconds": cli_s,
                      "stages": cli_best.get("stages", {})}))
    print(json.dumps({**common, "path": "python", "seconds": py_s,
                      "peak_growth_bytes": growth,
                      "data_offset_mod_64": py_runs[0]["data_offset"],
                      "stages": py_best["stages"]}))
    py_a = min(py_runs, key=lambda r: r["aligned_seconds"])
    print(json.dumps({**common, "path": "python_aligned64",
                      "seconds": py_a["aligned_seconds"],
                      "stages": py_a["aligned_stages"]}))
    py_l = min(py_runs, key=lambda r: r["reader_seconds"])
    print(json.dumps({**common, "path": "python_library_reader",
                      "seconds": py_l["reader_seconds"],
                      "stages": py_l["reader_stages"]}))
    py_a = py_a["aligned_seconds"]
    print(json.dumps({**common, "path": "summary",
                      "time_ratio": py_s / cli_s,
                      "aligned_time_ratio": py_a / cli_s,
                      "time_ok": py_s <= 1.05 * cli_s,
                      "same_selection": py_runs[0]["indices"] == cli_indices,
                      "inputs_bytes": inputs,
                      "cli_peak_bytes": cli_peak,
                      "memory_ok": growth <= cli_peak + inputs}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
