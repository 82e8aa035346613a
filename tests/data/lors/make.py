# SPDX-License-Identifier: MIT
"""PyTorch reference fixture for LoRS distillation: the exact gradient through T unrolled steps.

Writes, one sub-folder per case next to this file, the inputs and expected outputs of one
distillation gradient (LoRS, Xu et al. 2024, section 3 and Algorithm 1; the model of
lib/lors/lors.h), computed by autograd in float64 through T student steps
(create_graph=True), so that the C unrolling can be compared with PyTorch:

    /usr/bin/python3 tests/data/lors/make.py      # Debian's python3 + python3-torch

Deterministic (fixed seeds, one thread) and rerunnable: a rerun rewrites the same bytes.
Needs torch (tested with Debian 12's python3-torch 1.13) and numpy; the C tests need
neither, only the .npy files.

Unlike the authors' code (TESLA's approximation, one detached gradient per step, the two
towers' MTT ratios summed), this is the exact unrolled gradient of one MTT ratio over all
parameters, with the paper's loss normalisations.

The model (float64 everywhere)
------------------------------
theta = [image tower params, text tower params, (s, if the temperature is learned)], each
tower in lors.h's layout (nn.Linear's: weights out x in, row-major):
  linear  W (e x d), b (e)                                   u = W x + b
  head    W1 (e x d), b1, W2 (e x e), b2, gamma, beta         p = W1 x + b1
          h = W2 GELU(p) + b2 (exact GELU), u = LayerNorm(h + p) (eps 1e-5, gamma, beta)
u_i = tower_I(x_i) / ||.||, v_j = tower_T(y_j) / ||.||, z_ij = exp(s) u_i . v_j with
s = log(1/0.07), fixed or the last entry of theta.
Losses on (z, S~[b, b]), m the minibatch size:
  InfoNCE  eNCE with S = I
  eNCE     -(1/m) sum_ij s_ij (log_softmax_row(z)_ij + log_softmax_col(z)_ij)
  BCE      (1/m) sum_ij softplus(z_ij) - s_ij z_ij
  wBCE     mean of softplus(z) - s z over {s_ij > beta} + mean over {s_ij <= beta}
           (the split is a comparison: no gradient flows through it; an empty group adds 0)
Similarity: identity; lowrank S~ = diag(w) + (alpha/r) L R^T (params w, L, R flat);
full S~ (n x n, flat). A minibatch uses the block S~[b, b].
Student step k (batch b_k, the row k of batches.npy):
  g = d loss / d theta;  theta_I -= eta_image g_I (s, when learned, is in the image group);
  theta_T -= eta_text g_T.
MTT loss L = ||theta_T - theta_star||^2 / ||theta_0 - theta_star||^2 (theta_T after T steps).

Files per case ('<f8' float64, '<i8' int64). Every file is one-dimensional, matrices
flattened row-major (shapes below, all given by config.npy), so that the C tests read
each with subsel_npy_read_f64 / _i64, which take vectors only.
  config.npy  [tower, d_image, d_text, e, N, m, T, loss, sim_kind, rank, learn_temp, beta,
              alpha, s0, eta_image, eta_text] with lors.h's enum values (SS_TOWER_*,
              SS_LOSS_*, SS_SIM_*); rank and alpha are 0 unless the similarity is lowrank;
              beta is 0.5 in every case (only wBCE reads it); s0 = log(1/0.07)
  x.npy (N x d_image), y.npy (N x d_text), sim.npy (lors.h's layout; empty for
  identity), theta0.npy, theta_star.npy, batches.npy (i8, T x m)
  expected: loss.npy (1), step_losses.npy (T: the contrastive loss of each student step,
  before its update), theta_T.npy, grad_x.npy, grad_y.npy, grad_sim.npy (empty for
  identity), grad_eta.npy ([dL/d eta_image, dL/d eta_text])

Data: x, y ~ N(0, 1); lowrank w = 1 + 0.1 N(0,1), L ~ N(0, 1), R = 0.3 N(0, 1) (not the
initial R = 0, so every path carries gradient); full S~ = I + 0.2 U(0, 1); theta_0 is
PyTorch's default initialisation of the towers (drawn through nn.Linear, so the same
distribution as ss_tower_init, not the same numbers) with gamma, beta and every bias then
moved by 0.1 N(0, 1); theta_star = theta_0 + 0.05 N(0, 1); eta_image 0.1, eta_text 0.07.
Batches: step k takes the k-th chunk of m of a stream of seeded permutations of range(N)
(indices within a step are distinct; different steps repeat indices).

Checks made here (assert): the functional towers equal nn.Linear / nn.GELU / nn.LayerNorm
modules loaded with the same parameters; no similarity entry of any minibatch lies within
1e-3 of beta (for wBCE, so the finite differences below do not move an entry across the
split) and both wBCE groups are non-empty at every step; every expected gradient is
nonzero; and autograd's gradient of L against finite differences of L along random
directions in (x, y, sim, etas): central differences at steps 2e-6 and 1e-6, Richardson-
extrapolated, to a relative 1e-7 (they agree to ~1e-10).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent

TOWER_LINEAR, TOWER_HEAD = 0, 1
LOSS_INFONCE, LOSS_ENCE, LOSS_BCE, LOSS_WBCE = 0, 1, 2, 3
SIM_IDENTITY, SIM_LOWRANK, SIM_FULL = 0, 1, 2
LN_EPS = 1e-5

D_IMAGE, D_TEXT, EMBED, N, M, T = 6, 5, 4, 8, 4, 3
BETA, S0 = 0.5, math.log(1 / 0.07)
ETA_IMAGE, ETA_TEXT = 0.1, 0.07

# name, tower, loss, similarity, rank, alpha, learned temperature, seed
CASES = [
    ("head_wbce_lowrank", TOWER_HEAD, LOSS_WBCE, SIM_LOWRANK, 2, 1.5, False, 1),
    ("linear_ence_full_lt", TOWER_LINEAR, LOSS_ENCE, SIM_FULL, 0, 0.0, True, 2),
    ("head_bce_identity", TOWER_HEAD, LOSS_BCE, SIM_IDENTITY, 0, 0.0, False, 3),
    ("linear_infonce", TOWER_LINEAR, LOSS_INFONCE, SIM_IDENTITY, 0, 0.0, False, 4),
]


def tower_shapes(kind, d, e):
    """(name, shape) of each parameter block, in lors.h's order."""
    if kind == TOWER_LINEAR:
        return [("W", (e, d)), ("b", (e,))]
    return [("W1", (e, d)), ("b1", (e,)), ("W2", (e, e)), ("b2", (e,)),
            ("gamma", (e,)), ("beta", (e,))]


def tower_params(kind, d, e):
    return sum(math.prod(s) for _, s in tower_shapes(kind, d, e))


def unflatten(kind, d, e, flat):
    out, at = {}, 0
    for name, shape in tower_shapes(kind, d, e):
        n = math.prod(shape)
        out[name] = flat[at:at + n].view(shape)
        at += n
    return out


def tower(kind, d, e, flat, x):
    p = unflatten(kind, d, e, flat)
    if kind == TOWER_LINEAR:
        return F.linear(x, p["W"], p["b"])
    pre = F.linear(x, p["W1"], p["b1"])
    h = F.linear(F.gelu(pre), p["W2"], p["b2"])
    return F.layer_norm(h + pre, (e,), p["gamma"], p["beta"], LN_EPS)


def tower_module(kind, d, e):
    """The same tower as nn modules (for the initialisation and the layout check)."""
    if kind == TOWER_LINEAR:
        return nn.Linear(d, e)
    return nn.ModuleDict({"fc1": nn.Linear(d, e), "fc2": nn.Linear(e, e),
                          "ln": nn.LayerNorm(e, eps=LN_EPS)})


def module_params(kind, mod):
    """The module's parameters in lors.h's order."""
    if kind == TOWER_LINEAR:
        return [mod.weight, mod.bias]
    return [mod["fc1"].weight, mod["fc1"].bias, mod["fc2"].weight, mod["fc2"].bias,
            mod["ln"].weight, mod["ln"].bias]


def module_flat(kind, mod):
    return torch.cat([p.detach().reshape(-1) for p in module_params(kind, mod)])


def module_forward(kind, mod, x):
    if kind == TOWER_LINEAR:
        return mod(x)
    pre = mod["fc1"](x)
    return mod["ln"](mod["fc2"](nn.GELU()(pre)) + pre)


def perturb_biases(kind, d, e, flat, gen):
    """gamma, beta and every bias moved by 0.1 N(0, 1), in place, in layout order."""
    p = unflatten(kind, d, e, flat)
    for name, _ in tower_shapes(kind, d, e):
        if not name.startswith("W"):
            p[name] += 0.1 * torch.randn(p[name].shape, generator=gen, dtype=flat.dtype)


def sim_block(kind, params, idx, rank, alpha):
    m = idx.numel()
    if kind == SIM_IDENTITY:
        return torch.eye(m, dtype=torch.float64)
    if kind == SIM_FULL:
        return params.view(N, N)[idx][:, idx]
    w, rest = params[:N], params[N:]
    left, right = rest[:N * rank].view(N, rank), rest[N * rank:].view(N, rank)
    return torch.diag(w[idx]) + (alpha / rank) * left[idx] @ right[idx].T


def contrast(loss, z, s):
    m = z.shape[0]
    if loss in (LOSS_INFONCE, LOSS_ENCE):
        if loss == LOSS_INFONCE:
            s = torch.eye(m, dtype=z.dtype)
        return -(s * (F.log_softmax(z, dim=1) + F.log_softmax(z, dim=0))).sum() / m
    elem = F.softplus(z) - s * z
    if loss == LOSS_BCE:
        return elem.sum() / m
    pos = (s > BETA).detach()
    total = z.new_zeros(())
    for group in (pos, ~pos):
        if group.any():
            total = total + elem[group].mean()
    return total


def richardson(f, h):
    """f'(0) by central differences at steps h and h/2, extrapolated (error O(h^4)): the
    unrolled loss is strongly curved (logit scale 1/0.07, large student steps), so a plain
    central difference is only good to ~1e-5 at any step float64 resolves."""
    d_h = (f(h) - f(-h)) / (2 * h)
    d_half = (f(h / 2) - f(-h / 2)) / h
    return (4 * d_half - d_h) / 3


class Case:
    def __init__(self, name, tkind, loss, skind, rank, alpha, learn_temp, seed):
        self.name, self.tkind, self.loss, self.skind = name, tkind, loss, skind
        self.rank, self.alpha, self.learn_temp, self.seed = rank, alpha, learn_temp, seed
        self.p_image = tower_params(tkind, D_IMAGE, EMBED)
        self.p_text = tower_params(tkind, D_TEXT, EMBED)

    def make_data(self):
        torch.manual_seed(self.seed)  # nn.Linear's initialisation draws from it
        g = torch.Generator().manual_seed(1000 + self.seed)
        f64 = torch.float64
        x = torch.randn(N, D_IMAGE, generator=g, dtype=f64)
        y = torch.randn(N, D_TEXT, generator=g, dtype=f64)
        if self.skind == SIM_LOWRANK:
            w = 1 + 0.1 * torch.randn(N, generator=g, dtype=f64)
            left = torch.randn(N, self.rank, generator=g, dtype=f64)
            right = 0.3 * torch.randn(N, self.rank, generator=g, dtype=f64)
            sim = torch.cat([w, left.reshape(-1), right.reshape(-1)])
        elif self.skind == SIM_FULL:
            sim = (torch.eye(N, dtype=f64)
                   + 0.2 * torch.rand(N, N, generator=g, dtype=f64)).reshape(-1)
        else:
            sim = torch.zeros(0, dtype=f64)
        self.mods = [tower_module(self.tkind, D_IMAGE, EMBED).double(),
                     tower_module(self.tkind, D_TEXT, EMBED).double()]
        parts = []
        for mod, d in zip(self.mods, (D_IMAGE, D_TEXT)):
            flat = module_flat(self.tkind, mod).clone()
            perturb_biases(self.tkind, d, EMBED, flat, g)
            parts.append(flat)
        if self.learn_temp:
            parts.append(torch.tensor([S0], dtype=f64))
        theta0 = torch.cat(parts)
        theta_star = theta0 + 0.05 * torch.randn(theta0.shape, generator=g, dtype=f64)
        chunks = []
        while len(chunks) * M < T * M:
            chunks.append(torch.randperm(N, generator=g))
        batches = torch.cat(chunks)[:T * M].view(T, M)
        self.x, self.y, self.sim = x, y, sim
        self.theta0, self.theta_star, self.batches = theta0, theta_star, batches

    def check_layout(self):
        """The functional towers are nn.Linear / nn.GELU / nn.LayerNorm in lors.h's layout."""
        pI = self.p_image
        for k, (mod, d, data) in enumerate(zip(self.mods, (D_IMAGE, D_TEXT), (self.x, self.y))):
            flat = self.theta0[:pI] if k == 0 else self.theta0[pI:pI + self.p_text]
            with torch.no_grad():
                at = 0
                for p in module_params(self.tkind, mod):
                    p.copy_(flat[at:at + p.numel()].view(p.shape))
                    at += p.numel()
                assert at == flat.numel()
                ref = module_forward(self.tkind, mod, data)
            got = tower(self.tkind, d, EMBED, flat, data)
            assert torch.allclose(ref, got, rtol=0, atol=1e-14), (self.name, k)

    def logits(self, theta, xb, yb):
        pI, pT = self.p_image, self.p_text
        u = F.normalize(tower(self.tkind, D_IMAGE, EMBED, theta[:pI], xb), dim=1, eps=0)
        v = F.normalize(tower(self.tkind, D_TEXT, EMBED, theta[pI:pI + pT], yb), dim=1, eps=0)
        s = theta[-1] if self.learn_temp else torch.tensor(S0, dtype=theta.dtype)
        return torch.exp(s) * u @ v.T

    def unroll(self, x, y, sim, etas):
        """(L, step losses, theta_T, the similarity blocks) with the graph kept."""
        theta = self.theta0.clone().requires_grad_(True)
        n_image = self.p_image + (1 if self.learn_temp else 0)
        step_losses, blocks = [], []
        for k in range(T):
            idx = self.batches[k]
            s = sim_block(self.skind, sim, idx, self.rank, self.alpha)
            loss = contrast(self.loss, self.logits(theta, x[idx], y[idx]), s)
            (g,) = torch.autograd.grad(loss, theta, create_graph=True)
            # the image group: the image tower, then s (the last entry) when learned
            eta = torch.cat([etas[0].expand(self.p_image), etas[1].expand(self.p_text),
                             etas[0].expand(n_image - self.p_image)])
            theta = theta - eta * g
            step_losses.append(loss.detach().item())
            blocks.append(s.detach())
        denom = ((self.theta0 - self.theta_star) ** 2).sum()
        mtt = ((theta - self.theta_star) ** 2).sum() / denom
        return mtt, step_losses, theta, blocks

    def inputs(self):
        return [self.x.clone(), self.y.clone(), self.sim.clone(),
                torch.tensor([ETA_IMAGE, ETA_TEXT], dtype=torch.float64)]

    def run(self):
        leaves = [t.requires_grad_(True) for t in self.inputs()]
        mtt, step_losses, theta_T, blocks = self.unroll(*leaves)
        grads = torch.autograd.grad(mtt, leaves, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, leaves)]
        return float(mtt), step_losses, theta_T.detach(), blocks, grads

    def value(self, leaves):
        with torch.enable_grad():  # the unroll needs the inner gradients
            return float(self.unroll(*leaves)[0])

    def fd_check(self, grads, directions=4, h=2e-6):
        gen = torch.Generator().manual_seed(77 + self.seed)
        base = self.inputs()
        worst = 0.0
        for _ in range(directions):
            dirs = [torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in base]
            fd = richardson(lambda t: self.value([b + t * d for b, d in zip(base, dirs)]), h)
            ag = sum(float((g * d).sum()) for g, d in zip(grads, dirs))
            rel = abs(fd - ag) / max(abs(ag), 1e-12)
            worst = max(worst, rel)
            print(f"  {self.name}: directional derivative autograd {ag:+.12e} "
                  f"finite difference {fd:+.12e} (rel {rel:.1e})")
            assert rel < 1e-7, (self.name, ag, fd)
        return worst

    def config(self):
        return [self.tkind, D_IMAGE, D_TEXT, EMBED, N, M, T, self.loss, self.skind,
                self.rank, int(self.learn_temp), BETA, self.alpha, S0, ETA_IMAGE, ETA_TEXT]


def save(folder, name, arr, dtype="<f8"):
    a = np.ascontiguousarray(np.asarray(arr), dtype=np.dtype(dtype)).reshape(-1)
    np.save(folder / name, a)


def main():
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    for spec in CASES:
        case = Case(*spec)
        case.make_data()
        case.check_layout()
        mtt, step_losses, theta_T, blocks, grads = case.run()
        if case.loss == LOSS_WBCE:
            for b in blocks:
                assert (b - BETA).abs().min() > 1e-3, (case.name, b)
                assert (b > BETA).any() and (b <= BETA).any(), (case.name, b)
        names = ("grad_x", "grad_y", "grad_sim", "grad_eta")
        for n, g in zip(names, grads):
            assert g.numel() == 0 or g.abs().max() > 0, (case.name, n)
        assert math.isfinite(mtt) and mtt > 0
        print(f"{case.name}: L = {mtt:.12g}, step losses {[round(v, 6) for v in step_losses]}")
        case.fd_check(grads)

        folder = HERE / case.name
        folder.mkdir(exist_ok=True)
        save(folder, "config.npy", case.config())
        save(folder, "x.npy", case.x.numpy())
        save(folder, "y.npy", case.y.numpy())
        save(folder, "sim.npy", case.sim.numpy())
        save(folder, "theta0.npy", case.theta0.numpy())
        save(folder, "theta_star.npy", case.theta_star.numpy())
        save(folder, "batches.npy", case.batches.numpy(), "<i8")
        save(folder, "loss.npy", [mtt])
        save(folder, "step_losses.npy", step_losses)
        save(folder, "theta_T.npy", theta_T.numpy())
        for n, g in zip(names, grads):
            save(folder, n + ".npy", g.detach().numpy())
    print(f"{len(CASES)} cases written; {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
