# SPDX-License-Identifier: MIT
"""PyTorch reference speed of TopK-SAE training with the monotonicity loss (issue 13).

The model and step are those of tests/data/sae_train/make.py (SDM paper, eq. 2-3 and
Algorithm 1): encoder TopK(ReLU((x - b_dec) W_enc^T + b_enc)), decoder h W_dec^T + b_dec,
loss l1 L_recons + l2 L_mono + l3 L_act, decoder-gradient projection, torch.optim.Adam,
column renormalisation of W_dec. Written as a CPU user would write it efficiently:

* encoder: one dense addmm + torch.topk under no_grad (the only O(B L d) work), then the
  k kept pre-activations are recomputed WITH grad from the gathered rows
  F.embedding(idx, W_enc) (B x k x d; multiply and sum, faster here than bmm or einsum),
  so autograd's backward is O(B k d), not O(B L d);
* decoder: F.embedding_bag(idx, W_dec^T, per_sample_weights=h_vals, mode="sum"), the
  fused sparse gather; W_dec is stored transposed (L x d, one latent a row) for it.
  mode="dense" (h scattered to B x L, h @ W_dec^T, plain autograd) is kept for
  comparison (measured slower);
* mode="standard": the TopK SAE as reference implementations write it (OpenAI's
  sparse_autoencoder: the encoder's addmm and torch.topk under autograd, the codes
  scattered into a dense B x L tensor, a dense decoder): autograd's backward then
  runs four more O(B L d) products (two per layer). This is what a user gets from
  the usual code, and the configuration issue 13's ratio is measured against; the
  sparse mode above is how far PyTorch gets when hand-tuned for the CPU;
* mono set: E = set_size random rows of the batch, M = E[0] and its set_size-1 nearest
  neighbours (torch.cdist, compute_mode="donot_use_mm_for_euclid_dist": 20x faster than
  the default for one query row, + torch.topk) in a reservoir of 50,000 earlier rows, refreshed by
  reservoir sampling after each step (so E[0] is not its own neighbour); D in float64.

Timed: `steps` full steps after 1 warm-up step (data generated beforehand).

Allocator: this VM faults in fresh pages at ~0.4 GB/s, and torch 1.13's CPU allocator
returns every large tensor to the kernel, so with glibc malloc a 150 MB temporary costs
~0.4 s. As PyTorch's CPU tuning guide advises, the script re-executes itself with
jemalloc preloaded (Debian's libjemalloc2) and MALLOC_CONF=dirty_decay_ms:-1,
muzzy_decay_ms:-1 (freed pages are kept and reused), when the library exists and
--allocator is "auto" (the default); "--allocator glibc" measures without it. The JSON
line names the allocator used. The same re-exec sets BLIS_NUM_THREADS (and
OPENBLAS/OMP_NUM_THREADS) to --threads: Debian's torch uses the system BLAS, which takes
its thread count from the environment only. torch_rows_per_second() called from another
program leaves the environment to its caller.

    /usr/bin/python3 bench/sae_train_torch.py --threads 2 [--steps 2] [--mode sparse]

prints {"bench":"sae_train_torch","threads":N,"rows_per_s":...}. Needs torch
(Debian's python3-torch).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from stages import Stages


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, latents: int, k: int, mode: str = "sparse", seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(latents, d_in, generator=g)
        w /= torch.linalg.vector_norm(w, dim=1, keepdim=True)
        self.k, self.mode = k, mode
        self.W_enc = nn.Parameter(w.clone())                       # L x d
        self.b_enc = nn.Parameter(0.01 * torch.randn(latents, generator=g))
        self.W_decT = nn.Parameter(w.clone())                      # L x d = W_dec^T
        self.b_dec = nn.Parameter(torch.zeros(d_in))

    def encode(self, x):
        """(values, indices) of the k kept latents per row (values 0 where not > 0)."""
        xc = x - self.b_dec
        if self.mode == "standard":
            vals, idx = torch.topk(torch.addmm(self.b_enc, xc, self.W_enc.T), self.k, dim=1)
            return F.relu(vals), idx
        with torch.no_grad():
            idx = torch.topk(torch.addmm(self.b_enc, xc, self.W_enc.T), self.k, dim=1).indices
        pre = (F.embedding(idx, self.W_enc) * xc.unsqueeze(1)).sum(2) + self.b_enc[idx]
        return F.relu(pre), idx

    def decode(self, vals, idx):
        if self.mode in ("dense", "standard"):
            h = torch.zeros(vals.shape[0], self.W_decT.shape[0]).scatter(1, idx, vals)
            return h @ self.W_decT + self.b_dec
        return F.embedding_bag(idx, self.W_decT, per_sample_weights=vals,
                               mode="sum") + self.b_dec


def pair_sum(rows):
    r = rows.to(torch.float64)
    t = r.sum(0)
    return (t @ t - (r * r).sum()) / 2


def fb(vals, idx, latents):
    m = torch.zeros(latents, dtype=vals.dtype).index_add(0, idx.reshape(-1), vals.reshape(-1))
    return torch.log1p(m).sum()


class Trainer:
    def __init__(self, d_in, latents, k, set_size, reservoir=50_000, mode="sparse",
                 l1=1.0, l2=0.05, l3=0.01, lr=1e-3, seed=0):
        self.sae = TopKSAE(d_in, latents, k, mode, seed)
        self.opt = torch.optim.Adam(self.sae.parameters(), lr=lr)
        self.L, self.set_size, self.l = latents, set_size, (l1, l2, l3)
        self.g = torch.Generator().manual_seed(seed + 1)
        self.reservoir = torch.randn(reservoir, d_in, generator=self.g).abs()
        self.seen = reservoir

    def reservoir_update(self, xb):
        n = xb.shape[0]
        pos = torch.arange(self.seen, self.seen + n, dtype=torch.float64)
        slot = (torch.rand(n, generator=self.g, dtype=torch.float64) * (pos + 1)).long()
        keep = slot < self.reservoir.shape[0]
        self.reservoir[slot[keep]] = xb[keep]
        self.seen += n

    def step(self, xb, with_mono=True):
        sae, (l1, l2, l3) = self.sae, self.l
        vals, idx = sae.encode(xb)
        xr = sae.decode(vals, idx)
        loss = l1 * ((xb - xr) ** 2).sum(1).mean() + l3 * (vals * vals).sum(1).mean()
        if with_mono:
            E = torch.randperm(xb.shape[0], generator=self.g)[: self.set_size]
            e = xb[E[0]]
            dist = torch.cdist(e[None], self.reservoir,
                               compute_mode="donot_use_mm_for_euclid_dist")[0]
            nn_ = torch.topk(dist, self.set_size - 1, largest=False).indices
            M = torch.cat([e[None], self.reservoir[nn_]])
            D = float(pair_sum(M) - pair_sum(xb[E]))
            if D != 0.0:
                vm, im = sae.encode(M)
                u = 1 - (fb(vals[E], idx[E], self.L) - fb(vm, im, self.L)) / D
                loss = loss + l2 * abs(D) * F.softplus(u)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        W = sae.W_decT
        with torch.no_grad():
            W.grad -= (W.grad * W).sum(1, keepdim=True) * W       # per latent (= column of W_dec)
        self.opt.step()
        with torch.no_grad():
            W /= torch.linalg.vector_norm(W, dim=1, keepdim=True)
        self.reservoir_update(xb)
        return float(loss)


def torch_rows_per_second(clock, d_in=768, latents=16384, k=64, batch=4096, threads=1,
                          steps=2, with_mono=True, set_size=128, mode="sparse"):
    """rows/second of `steps` timed training steps after one warm-up step,
    and the stages (build, warm-up, train) on `clock`."""
    clock.begin("build")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tr = Trainer(d_in, latents, k, set_size, mode=mode)
    g = torch.Generator().manual_seed(2)
    data = [torch.randn(batch, d_in, generator=g).abs() for _ in range(steps + 1)]
    with torch.no_grad():
        tr.sae.b_dec.copy_(data[0].mean(0))
    clock.begin("warm-up")
    tr.step(data[0], with_mono)
    clock.begin("train")
    t0 = time.perf_counter()
    for xb in data[1:]:
        tr.step(xb, with_mono)
    return batch * steps / (time.perf_counter() - t0)


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
JE_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def _setup_env(allocator: str, threads: int) -> str:
    """Re-exec once with the BLAS thread count (and jemalloc) in the environment.

    Debian's torch calls the system libblas.so.3 (BLIS here), whose thread count comes
    from BLIS_NUM_THREADS / OMP_NUM_THREADS at load time, not from torch.set_num_threads:
    without it the dense encoder GEMM runs on one core whatever --threads says.
    Returns the allocator in use."""
    want = {"BLIS_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads)}
    if allocator == "auto" and os.path.exists(JEMALLOC):
        want.update(LD_PRELOAD=JEMALLOC, MALLOC_CONF=JE_CONF)
    if any(os.environ.get(k) != v for k, v in want.items()) and \
            not os.environ.get("SAE_TORCH_BENCH_REEXEC"):
        env = dict(os.environ, SAE_TORCH_BENCH_REEXEC="1", **want)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    return "jemalloc" if JEMALLOC in os.environ.get("LD_PRELOAD", "") else "glibc"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--d-in", type=int, default=768)
    ap.add_argument("--latents", type=int, default=16384)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--set-size", type=int, default=128)
    ap.add_argument("--no-mono", action="store_true")
    ap.add_argument("--mode", choices=("sparse", "dense", "standard"), default="sparse")
    ap.add_argument("--allocator", choices=("auto", "glibc"), default="auto")
    a = ap.parse_args()
    alloc = _setup_env(a.allocator, a.threads)
    clock = Stages()
    r = torch_rows_per_second(clock, a.d_in, a.latents, a.k, a.batch, a.threads, a.steps,
                              not a.no_mono, a.set_size, a.mode)
    out = {"bench": "sae_train_torch", "threads": a.threads, "rows_per_s": round(r, 1),
           "allocator": alloc, "torch": torch.__version__, "stages": clock.take()}
    if a.mode != "sparse" or a.no_mono:
        out.update(mode=a.mode, with_mono=not a.no_mono)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
