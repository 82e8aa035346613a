#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""LoRS distillation speed, subsel against PyTorch on the CPU, in one run (issue 14).

One distillation iteration at the issue's size (100 synthetic pairs, T = 20 student
steps, projection-head towers with e = 256 from 512-dimensional embeddings, wBCE,
rank-10 similarity, minibatches of --batch pairs): build/bench/bench_lors (subsel) and
bench/lors_torch.py (the same computation in PyTorch, exact unrolled gradient), each on
1 and --threads threads, alternating, best of --rounds (the machine is noisy). Prints
their JSON lines, then one line per thread count:
  {"bench":"lors_vs_torch","threads":T,"batch":B,"blis_arch":..,
   "subsel_seconds":..,"torch_seconds":..,"ratio":torch/subsel,
   "subsel_peak_rss_mb":..,"torch_peak_rss_mb":..,"target":3.0}

subsel's products run on BLIS: "blis_arch" names the kernels (lib/core/blis_arch.c).
PyTorch's BLAS is the system's BLIS too (its linear layers may also use oneDNN): it runs
with BLIS_ARCH_TYPE set to the same kernels, unless the environment sets it already.

    SUBSEL_BENCH_BIN=build/bench/bench_lors /usr/bin/python3 bench/bench_lors_torch.py
"""
import argparse
import json
import os
import sys

from bench_sae_train_torch import run_json  # a command's JSON lines

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args()
    binary = os.environ.get("SUBSEL_BENCH_BIN",
                            os.path.join(HERE, "..", "build", "bench", "bench_lors"))
    torch_script = os.path.join(HERE, "lors_torch.py")
    counts = sorted({1, a.threads})
    best = {}

    def keep(key, line):
        if key not in best or line["seconds_per_iteration"] < best[key]["seconds_per_iteration"]:
            best[key] = line

    torch_env = {}
    for _ in range(a.rounds):
        for line in run_json([binary, str(a.iterations), str(a.batch), str(a.threads)]):
            print(json.dumps(line), flush=True)
            keep(("subsel", line["threads"]), line)
            # PyTorch's BLAS is the system's BLIS: it gets the kernels subsel
            # runs with, so that neither side is slowed by BLIS's choice
            if "BLIS_ARCH_TYPE" not in os.environ and line.get("blis_arch"):
                torch_env = {"BLIS_ARCH_TYPE": line["blis_arch"]}
        for t in counts:
            for line in run_json([sys.executable, torch_script, "--threads", str(t),
                                  "--batch", str(a.batch), "--iterations", str(a.iterations)],
                                 torch_env):
                print(json.dumps(line), flush=True)
                keep(("torch", t), line)
    for t in counts:
        s, p = best.get(("subsel", t)), best.get(("torch", t))
        if not s or not p:
            continue
        print(json.dumps({
            "bench": "lors_vs_torch", "threads": t, "batch": a.batch,
            "blis_arch": s.get("blis_arch"),
            "subsel_seconds": s["seconds_per_iteration"],
            "torch_seconds": p["seconds_per_iteration"],
            "ratio": round(p["seconds_per_iteration"] / s["seconds_per_iteration"], 3),
            "subsel_peak_rss_mb": s["peak_rss_mb"], "torch_peak_rss_mb": p["peak_rss_mb"],
            "target": 3.0}), flush=True)


if __name__ == "__main__":
    main()
