# SPDX-License-Identifier: MIT
"""PyTorch reference speed of one LoRS distillation iteration on the CPU (issue 14).

The computation of tests/data/lors/make.py (LoRS, Xu et al. 2024, section 3 and
Algorithm 1; the model of lib/lors/lors.h), in float32 at benchmark size: N synthetic
pairs (embeddings, d_image and d_text columns), head towers (W1, b1, W2, b2, gamma, beta;
exact GELU; LayerNorm), unit-normalised embeddings, logits exp(s) u.v with the
temperature fixed at 0.07, wBCE (beta 0.5) against the block S~[b, b] of the low-rank
similarity S~ = diag(w) + (alpha/r) L R^T. One iteration:

  1. T student steps from theta_0 on minibatches (chunks of random permutations of the N
     pairs): theta_I -= eta_image grad_I, theta_T -= eta_text grad_T, with the graph kept
     (torch.autograd.grad(create_graph=True)): the exact unrolled gradient, not TESLA's;
  2. L = ||theta_T - theta_star||^2 / ||theta_0 - theta_star||^2, backward to x, y, w, L,
     R, eta_image, eta_text;
  3. SGD with momentum on those (the step sizes and momentum 0.5 of the authors' Flickr
     script for 100 pairs).

Written as a careful PyTorch user would: each tower's parameters are one flat tensor,
the towers hand-written functions of views into it (F.linear, F.gelu, F.layer_norm), no
Python loop over rows; the wBCE groups are masked sums (no data-dependent shapes).
theta_0 is nn.Linear's default initialisation (gamma 1, beta 0), theta_star = theta_0 +
0.01 N(0, 1): an expert's trajectory would give both, at no cost to the timing.

Timed: --iterations iterations after 1 warm-up, each on its own; prints one JSON line
  {"bench":"lors_torch","threads":..,"batch":..,"steps":..,"embed":..,
   "seconds_per_iteration": median, "peak_rss_mb": ru_maxrss,
   "peak_rss_delta_mb": ru_maxrss - the RSS just before the warm-up iteration,
   "allocator": .., "torch": ..}
As bench/sae_train_torch.py does (and for the same reasons: the system BLAS takes its
thread count from the environment only; this VM faults fresh pages in slowly), the script
re-executes itself once with BLIS_NUM_THREADS etc. set to --threads and, unless
--allocator glibc, jemalloc preloaded.

    /usr/bin/python3 bench/lors_torch.py [--threads 2] [--batch 20] [--iterations 5]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F

from sae_train_torch import _setup_env
from stages import Stages

BETA, TEMPERATURE, LN_EPS = 0.5, 0.07, 1e-5
LR_SYN, LR_ETA, LR_SIM, MOMENTUM = 100.0, 1e-2, 10.0, 0.5
ETA_IMAGE, ETA_TEXT = 0.1, 0.1


def head_params(d, e):
    return e * d + e + e * e + e + 2 * e


def head_init(d, e, gen):
    """nn.Linear's default initialisation of W1, b1 (fan_in d) and W2, b2 (fan_in e)."""
    def uniform(n, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return (torch.rand(n, generator=gen) * 2 - 1) * bound
    return torch.cat([uniform(e * d, d), uniform(e, d), uniform(e * e, e), uniform(e, e),
                      torch.ones(e), torch.zeros(e)])


def head(theta, x, e):
    """LayerNorm(W2 GELU(W1 x + b1) + b2 + W1 x + b1) over the flat parameters."""
    d = x.shape[1]
    at = 0

    def take(*shape):
        nonlocal at
        n = math.prod(shape)
        v = theta[at:at + n].view(*shape)
        at += n
        return v
    w1, b1, w2, b2, gamma, beta = take(e, d), take(e), take(e, e), take(e), take(e), take(e)
    pre = F.linear(x, w1, b1)
    return F.layer_norm(F.linear(F.gelu(pre), w2, b2) + pre, (e,), gamma, beta, LN_EPS)


def wbce(z, s):
    """Mean of softplus(z) - s z over {s > beta} plus the mean over {s <= beta}."""
    elem = F.softplus(z) - s * z
    pos = (s > BETA).to(z.dtype)
    neg = 1 - pos
    return (elem * pos).sum() / pos.sum().clamp(min=1) + \
        (elem * neg).sum() / neg.sum().clamp(min=1)


class Distiller:
    def __init__(self, n, d_image, d_text, e, steps, batch, rank, alpha, seed=0):
        if not 0 < batch <= n:
            raise ValueError(f"a minibatch of {batch} from {n} pairs")
        gen = torch.Generator().manual_seed(seed)
        self.n, self.e, self.steps, self.batch = n, e, steps, batch
        self.scale, self.alpha_r = 1 / TEMPERATURE, alpha / rank
        self.x = torch.randn(n, d_image, generator=gen).requires_grad_(True)
        self.y = torch.randn(n, d_text, generator=gen).requires_grad_(True)
        self.w = torch.ones(n).requires_grad_(True)
        self.left = torch.randn(n, rank, generator=gen).requires_grad_(True)
        self.right = torch.zeros(n, rank).requires_grad_(True)
        self.eta_image = torch.tensor(ETA_IMAGE).requires_grad_(True)
        self.eta_text = torch.tensor(ETA_TEXT).requires_grad_(True)
        self.theta0 = [head_init(d_image, e, gen), head_init(d_text, e, gen)]
        self.theta_star = [t + 0.01 * torch.randn(t.shape, generator=gen)
                           for t in self.theta0]
        self.denom = sum(((a - b) ** 2).sum() for a, b in zip(self.theta0, self.theta_star))
        self.gen = gen
        self.opt = torch.optim.SGD([
            {"params": [self.x, self.y], "lr": LR_SYN},
            {"params": [self.eta_image, self.eta_text], "lr": LR_ETA},
            {"params": [self.w, self.left, self.right], "lr": LR_SIM},
        ], lr=0.0, momentum=MOMENTUM)

    def batches(self):
        per = self.n // self.batch
        perms = [torch.randperm(self.n, generator=self.gen)
                 for _ in range(-(-self.steps // per))]
        return torch.cat([p[:per * self.batch] for p in perms]).view(-1, self.batch)

    def iteration(self):
        th_i, th_t = (t.clone().requires_grad_(True) for t in self.theta0)
        for idx in self.batches()[:self.steps]:
            s = torch.diag(self.w[idx]) + self.alpha_r * self.left[idx] @ self.right[idx].T
            u = F.normalize(head(th_i, self.x[idx], self.e), dim=1)
            v = F.normalize(head(th_t, self.y[idx], self.e), dim=1)
            loss = wbce(self.scale * u @ v.T, s)
            g_i, g_t = torch.autograd.grad(loss, (th_i, th_t), create_graph=True)
            th_i = th_i - self.eta_image * g_i
            th_t = th_t - self.eta_text * g_t
        mtt = (((th_i - self.theta_star[0]) ** 2).sum()
               + ((th_t - self.theta_star[1]) ** 2).sum()) / self.denom
        self.opt.zero_grad(set_to_none=True)
        mtt.backward()
        self.opt.step()
        return float(mtt)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--embed", type=int, default=256)
    ap.add_argument("--d-image", type=int, default=512)
    ap.add_argument("--d-text", type=int, default=512)
    ap.add_argument("--rank", type=int, default=10)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--allocator", choices=("auto", "glibc"), default="auto")
    a = ap.parse_args()
    alloc = _setup_env(a.allocator, a.threads)
    clock = Stages()
    clock.begin("build")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dist = Distiller(a.pairs, a.d_image, a.d_text, a.embed, a.steps, a.batch, a.rank,
                     a.alpha)
    before = rss_mb()
    clock.begin("warm-up")
    losses = [dist.iteration()]  # warm-up
    clock.begin("distill")
    times = []
    for _ in range(a.iterations):
        t0 = time.perf_counter()
        losses.append(dist.iteration())
        times.append(time.perf_counter() - t0)
    assert all(math.isfinite(v) for v in losses), losses
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "bench": "lors_torch", "threads": a.threads, "batch": a.batch, "steps": a.steps,
        "embed": a.embed, "seconds_per_iteration": round(statistics.median(times), 4),
        "peak_rss_mb": round(peak, 1), "peak_rss_delta_mb": round(peak - before, 1),
        "allocator": alloc, "torch": torch.__version__, "stages": clock.take()}))


if __name__ == "__main__":
    main()
