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

subsel's products run on BLIS, so its speed is BLIS's: "blis_arch" names the kernels
BLIS chose. BLIS 0.9 does not know some recent CPUs and falls back to its generic
kernels there (docs/performance.md). With --blis-arch auto (the default), when BLIS
chose "generic" on a CPU with AVX-512 (or AVX2 and FMA), the subsel side also runs with
BLIS_ARCH_TYPE=skx (or haswell), and a second set of lines reports that; --blis-arch
ARCH forces one, --blis-arch none never.

    SUBSEL_BENCH_BIN=build/bench/bench_lors /usr/bin/python3 bench/bench_lors_torch.py
"""
import argparse
import json
import os
import sys

from bench_sae_train_torch import run_json  # a command's JSON lines

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_arch():
    """The BLIS configuration for this CPU's vector units, by its flags."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    except OSError:
        return "none"
    if "avx512f" in flags and "avx512dq" in flags:
        return "skx"
    if "avx2" in flags and "fma" in flags:
        return "haswell"
    return "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--blis-arch", default="auto",
                    help="also time subsel with BLIS_ARCH_TYPE set to this (auto, none, "
                         "or a BLIS configuration name)")
    a = ap.parse_args()
    binary = os.environ.get("SUBSEL_BENCH_BIN",
                            os.path.join(HERE, "..", "build", "bench", "bench_lors"))
    torch_script = os.path.join(HERE, "lors_torch.py")
    counts = sorted({1, a.threads})
    variants = [("default", {})]
    arch = a.blis_arch
    if arch == "auto":
        arch = cpu_arch() if run_json([binary, "1", str(a.batch), "1"])[0].get(
            "blis_arch") == "generic" else "none"
    if arch != "none":
        variants.append((arch, {"BLIS_ARCH_TYPE": arch}))
    best = {}

    def keep(key, line):
        if key not in best or line["seconds_per_iteration"] < best[key]["seconds_per_iteration"]:
            best[key] = line

    for _ in range(a.rounds):
        for name, env in variants:
            for line in run_json([binary, str(a.iterations), str(a.batch), str(a.threads)], env):
                line["variant"] = name
                print(json.dumps(line), flush=True)
                keep((name, line["threads"]), line)
        for t in counts:
            for line in run_json([sys.executable, torch_script, "--threads", str(t),
                                  "--batch", str(a.batch), "--iterations", str(a.iterations)]):
                print(json.dumps(line), flush=True)
                keep(("torch", t), line)
    for name, _ in variants:
        for t in counts:
            s, p = best.get((name, t)), best.get(("torch", t))
            if not s or not p:
                continue
            print(json.dumps({
                "bench": "lors_vs_torch", "threads": t, "batch": a.batch,
                "variant": name, "blis_arch": s.get("blis_arch"),
                "subsel_seconds": s["seconds_per_iteration"],
                "torch_seconds": p["seconds_per_iteration"],
                "ratio": round(p["seconds_per_iteration"] / s["seconds_per_iteration"], 3),
                "subsel_peak_rss_mb": s["peak_rss_mb"], "torch_peak_rss_mb": p["peak_rss_mb"],
                "target": 3.0}), flush=True)


if __name__ == "__main__":
    main()
