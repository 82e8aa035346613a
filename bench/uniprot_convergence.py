#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How often UniPROT's solves converge: 576 greedy selections of k
prototypes with `subsel uniprot` (200 x 8 features drawn normal, clustered,
duplicated in fours, or normal times 100; cosine, dot and negative squared
distances; reg 1e-4, 1e-3, 1e-2, 1; k 10, 20, 25 (dividing the 200 targets)
and 33; seeds 1-3). One selection fails when one of its solves fails. Prints
one JSON line per `subsel` program given, so that two builds are compared
on the same problems in one run:

    /usr/bin/python3 bench/uniprot_convergence.py build/tools/subsel [OTHER_SUBSEL]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def features(seed, kind, n=200, d=8):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    elif kind == "clustered":
        centres = 3 * rng.standard_normal((10, d))
        x = centres[rng.integers(0, 10, n)] + 0.2 * rng.standard_normal((n, d))
        y = centres[rng.integers(0, 10, n)] + 0.2 * rng.standard_normal((n, d))
    elif kind == "duplicated":
        x = np.repeat(rng.standard_normal((n // 4, d)), 4, axis=0)
        y = x.copy()
    else:  # "scaled"
        x, y = 100 * rng.standard_normal((n, d)), 100 * rng.standard_normal((n, d))
    return x.astype(np.float32), y.astype(np.float32)


def main():
    programs = sys.argv[1:] or ["build/tools/subsel"]
    kinds = ["normal", "clustered", "duplicated", "scaled"]
    with tempfile.TemporaryDirectory() as tmp:
        problems = []
        for seed in (1, 2, 3):
            for kind in kinds:
                x, y = features(seed, kind)
                src = os.path.join(tmp, f"x{seed}{kind}.npy")
                tgt = os.path.join(tmp, f"y{seed}{kind}.npy")
                np.save(src, x)
                np.save(tgt, y)
                for sim in ("neg-sqeuclid", "cosine", "dot"):
                    for reg in ("0.0001", "0.001", "0.01", "1"):
                        for k in ("10", "20", "25", "33"):
                            problems.append((kind, src, tgt, sim, reg, k))
        out = os.path.join(tmp, "sel.npy")
        for program in programs:
            failed = {}
            start = time.monotonic()
            for kind, src, tgt, sim, reg, k in problems:
                run = subprocess.run(
                    [program, "uniprot", "--source", src, "--target", tgt, "-k", k,
                     "--reg", reg, "--similarity", sim, "--threads", "1", "--out", out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if run.returncode != 0:
                    key = f"{kind} {sim} reg {reg}"
                    failed[key] = failed.get(key, 0) + 1
            print(json.dumps({
                "bench": "uniprot_convergence", "program": program,
                "selections": len(problems),
                "converged": len(problems) - sum(failed.values()),
                "failed_by_case": failed,
                "seconds": round(time.monotonic() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
