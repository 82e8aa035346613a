# SPDX-License-Identifier: MIT
"""subsel: data subset selection (SDM, FB, greedy optimizers) from Python.

A ctypes binding of libsubsel: NumPy and SciPy inputs are borrowed without
copies where their layout allows, errors are exceptions carrying the
library's message (`subsel.Error` and one subclass per status), the GIL is
released during every call, and Ctrl-C cancels a running selection.

    import subsel
    result = subsel.sdm(pool, target=target, budget=1000, runs=5)
    result.indices, result.value, result.short_reason

The library is found through $SUBSEL_LIBRARY, then pkg-config, then the
build tree, then the system's library path.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from . import _lib, _params
from ._core import (ALGORITHMS, CONCAVE, CSR, FB, SDM, Context, Dense,
                    Objective, Optimizer, Selection, csr, default_context,
                    dense, load_npy, load_npz, load_vector, save_vector)
from ._extra import (COSTS, PROJECTIONS, SAE, SIMILARITIES, ClipCov,
                     OTSolver, Tarot, TarotOT, Transport, UniPROT,
                     double_greedy, nn_accuracy, partial_ot, sinkhorn)
from .errors import (Cancelled, Error, FormatError, InvalidArgument,
                     IOFailure, NumericError, OutOfMemory, StateError,
                     Unsupported)

__version__ = _lib.lib.subsel_version_string().decode()
library_path = _lib.path


def build_info() -> str:
    """The library's one-line build description (kernels, BLIS, ...)."""
    return _lib.lib.subsel_build_info().decode()


#: Instruction sets the library knows, in SUBSEL_ISA_* order.
ISAS = ("scalar", "avx2", "avx512")


def isa_info() -> dict:
    """For each instruction set: whether its kernels are compiled in and
    whether this CPU and OS support it, and which one calls use by default
    (the best supported, lowered by $SUBSEL_ISA), e.g.
    {"scalar": {"compiled": True, "supported": True}, ...,
     "selected": "avx512"}. A context can lower it further (max_isa)."""
    lib = _lib.lib
    info = {name: {"compiled": bool(lib.subsel_isa_compiled(i)),
                   "supported": bool(lib.subsel_isa_supported(i))}
            for i, name in enumerate(ISAS)}
    info["selected"] = lib.subsel_isa_name(lib.subsel_isa_selected()).decode()
    return info


def _split(params: dict, kind: int) -> tuple[dict, dict]:
    """Splits keywords into those of `kind`'s table and the rest."""
    names = {_params.python_name(n) for n in _params.of_kind(kind)}
    mine = {k: v for k, v in params.items() if k in names}
    return mine, {k: v for k, v in params.items() if k not in names}


def _select(objective, algorithm, budget, ctx, progress, params):
    opt_params, rest = _split(params, _lib.KIND_OPTIMIZER)
    if rest:
        raise TypeError(f"unknown keyword(s): {', '.join(sorted(rest))}")
    with Optimizer(algorithm, ctx=ctx, budget=budget, **opt_params) as opt:
        return opt.run(objective, ctx=ctx, progress=progress)


def sdm(pool, *, target=None, budget: int, target_distribution=None,
        quality=None, bins: int = 3, bin_weights=None, quality_edges=None,
        optimizer: Optional[str] = None, ctx: Optional[Context] = None,
        progress=None, **params) -> Selection:
    """Selects `budget` rows of `pool` whose feature distribution matches
    the target's (SDM), and returns a Selection.

    pool: nonnegative scipy.sparse matrix (rows are candidates), e.g. SAE
      codes; borrowed without a copy when CSR with float32 values.
    target: sparse matrix with the pool's columns (the distribution to
      match is its normalised column sums); or target_distribution, one
      nonnegative value per column.
    budget: rows to select (at most the pool's rows).
    quality, bins, bin_weights, quality_edges: optional quality scores per
      row and their bins (see subsel.SDM).
    optimizer: naive, lazy, stochastic or lazier; default stochastic (as
      the CLI), which needs no more than (n/k) ln(1/epsilon) gains a step.
      runs > 1 intersects seeded stochastic runs for a stabler selection.
    ctx: a Context (threads, seed, memory_limit); default: this thread's.
    progress: callable(stage, done, total) returning True to cancel, or
      True for a tqdm bar.
    Parameters from the library's table (optimizer and SDM):
{OPT}
{SDM}
    """
    sdm_params, rest = _split(params, _lib.KIND_SDM)
    if optimizer is None:
        optimizer = "stochastic"
    with SDM(pool, target=target, target_distribution=target_distribution,
             quality=quality, bins=bins, bin_weights=bin_weights,
             quality_edges=quality_edges, ctx=ctx, progress=progress,
             **sdm_params) as objective:
        r = _select(objective, optimizer, budget, ctx, progress, rest)
        return dataclasses.replace(r, kl=objective.kl(r.indices, ctx=ctx))


def fb(features, *, budget: int, concave: str = "log1p", param: float = 1.0,
       weights=None, optimizer: str = "lazy", ctx: Optional[Context] = None,
       progress=None, **params) -> Selection:
    """Selects `budget` rows maximising the feature-based function
    sum_i w_i phi(sum_{j in A} features[j, i]) (see subsel.FB).

    features: nonnegative scipy.sparse matrix; concave: log1p, sqrt,
      saturate, exp, min, pow (param: their c or a); weights: per column.
    optimizer: naive, lazy (default: the same result with fewer gains),
      stochastic or lazier.
    Parameters from the library's table (optimizer):
{OPT}
    """
    with FB(features, concave=concave, param=param, weights=weights,
            ctx=ctx) as objective:
        return _select(objective, optimizer, budget, ctx, progress, params)


# help() shows the bounds and defaults the linked library has.
for _fn in (sdm, fb):
    _fn.__doc__ = _fn.__doc__.replace(
        "{OPT}", _params.docs(_lib.KIND_OPTIMIZER)).replace(
        "{SDM}", _params.docs(_lib.KIND_SDM))
Context.__doc__ += "\n    Parameters:\n" + _params.docs(_lib.KIND_CONTEXT)
Optimizer.__doc__ += "\n    Parameters:\n" + _params.docs(_lib.KIND_OPTIMIZER)
del _fn

__all__ = [
    "ALGORITHMS", "COSTS", "OTSolver", "SAE", "SIMILARITIES", "Transport",
    "UniPROT", "partial_ot", "sinkhorn", "CONCAVE", "ClipCov", "Tarot",
    "double_greedy", "CSR", "Cancelled", "Context", "Dense", "Error",
    "FB", "FormatError", "IOFailure", "InvalidArgument", "NumericError",
    "Objective", "OutOfMemory", "Optimizer", "SDM", "Selection",
    "StateError", "Unsupported", "build_info", "csr", "default_context",
    "dense", "fb", "load_npy", "load_npz", "sdm", "ISAS", "PROJECTIONS",
    "TarotOT", "isa_info", "load_vector", "nn_accuracy", "save_vector",
]
