#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SAE training throughput, subsel against PyTorch on the CPU, in one run (issue 13).

Runs, alternating and best of --rounds each (the machine is noisy):
  * build/bench/bench_sae_train (subsel, 1 thread and all threads: d_in 768,
    16,384 latents, k 64, batches of 4,096, L_mono with set size 128 and a
    50,000-row reservoir);
  * bench/sae_train_torch.py in mode "standard" (the usual TopK SAE code: dense
    autograd through the encoder and the decoder) and mode "sparse" (hand-tuned:
    backward O(B k d), like subsel), on the same thread counts;
and prints their JSON lines, then one line per thread count:
  {"bench":"sae_train_vs_torch","threads":T,"subsel_rows_per_s":...,
   "torch_standard_rows_per_s":...,"torch_sparse_rows_per_s":...,
   "ratio_standard":...,"ratio_sparse":...,"target":2.0}
The issue's target (>= 2x PyTorch on 2 threads) is against the standard code. Both
use the same BLIS sgemm for the encoder's product, which is most of a subsel step,
so against the hand-tuned PyTorch the ratio is bounded by what is left besides it.

    SUBSEL_BENCH_BIN=build/bench/bench_sae_train /usr/bin/python3 bench/bench_sae_train_torch.py
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, **(env or {}))).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=4096, help="rows per step (quick runs)")
    a = ap.parse_args()
    binary = os.environ.get("SUBSEL_BENCH_BIN", os.path.join(HERE, "..", "build", "bench",
                                                            "bench_sae_train"))
    torch_script = os.path.join(HERE, "sae_train_torch.py")
    counts = sorted({1, a.threads})
    best = {}

    def keep(key, value):
        best[key] = max(best.get(key, 0.0), value)

    for _ in range(a.rounds):
        for line in run_json([binary, str(a.steps)], {"SUBSEL_BENCH_PARTS": "steps",
                                                      "SUBSEL_BENCH_SCALE": str(a.batch / 4096)}):
            print(json.dumps(line), flush=True)
            keep(("subsel", line["threads"]), line["rows_per_s"])
        for mode in ("standard", "sparse"):
            for t in counts:
                for line in run_json([sys.executable, torch_script, "--threads", str(t),
                                      "--steps", str(a.steps), "--mode", mode,
                                      "--batch", str(a.batch)]):
                    line["mode"] = mode
                    print(json.dumps(line), flush=True)
                    keep((mode, t), line["rows_per_s"])
    for t in counts:
        s = best.get(("subsel", t), 0.0)
        std, sp = best.get(("standard", t), 0.0), best.get(("sparse", t), 0.0)
        print(json.dumps({
            "bench": "sae_train_vs_torch", "threads": t, "rounds": a.rounds,
            "subsel_rows_per_s": s, "torch_standard_rows_per_s": std,
            "torch_sparse_rows_per_s": sp,
            "ratio_standard": round(s / std, 3) if std else None,
            "ratio_sparse": round(s / sp, 3) if sp else None, "target": 2.0}), flush=True)


if __name__ == "__main__":
    main()
