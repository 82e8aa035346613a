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
                    dense, dense_npy_shape, load_npy, load_npz, load_vector,
                    save_vector)
from ._extra import (COSTS, PROJECTIONS, SAE, SIMILARITIES, ClipCov,
                     OTSolver, SAEScores, Tarot, TarotOT, Transport, UniPROT,
                     double_greedy, nn_accuracy, partial_ot, sae_scores,
                     sinkhorn)
from ._lors import LoRS
from ._sae_train import SAELosses, SAETrainer
from ._summary import (Summary, csr_npz_shape, mpi_available,
                       summary_merge, summary_select)
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
    # the optimizer's start and checkpoints: initial=, checkpoint=, resume=
    start = {k: rest.pop(k) for k in ("initial", "checkpoint", "resume")
             if k in rest}
    if rest:
        raise TypeError(f"unknown keyword(s): {', '.join(sorted(rest))}")
    with Optimizer(algorithm, ctx=ctx, budget=budget, **start,
                   **opt_params) as opt:
        return opt.run(objective, ctx=ctx, progress=progress)


def sdm(pool, *, target=None, budget: int, target_distribution=None,
        quality=None, bins: int = 3, bin_weights=None, quality_edges=None,
        optimizer: Optional[str] = None, ctx: Optional[Context] = None,
        progress=None, **params) -> Selection:
    """Selects `budget` rows of `pool` whose feature distribution matches
    the target's (SDM), and returns a Selection (with .kl).

    pool: nonnegative scipy.sparse matrix, one row per candidate, e.g. the
      TopK SAE codes of your data (subsel.SAE(...).encode). Borrowed
      without a copy when CSR with float32 values.
    target: codes of a sample of the data the selection should resemble
      (same columns, same encoder): a few thousand rows usually give a
      stable distribution, its normalised column sums. Or
      target_distribution: that distribution directly, one nonnegative
      value per column, when you have it.
    budget: rows to keep, what you can afford to train on. If the
      result's kl is inf, some target column is not covered by any kept
      row: raise the budget (or accept it; the order is still meaningful).
    quality: optional, one score per pool row, higher is better (a reward
      model, negative perplexity); None for distribution matching alone.
    bins: 3 (the default: low, middle, high by rank, weighted 0, 0.01,
      0.99); another count needs bin_weights.
    bin_weights: one weight per bin, lowest first; a larger top weight
      favours the best-scored rows more.
    quality_edges: fixed score thresholds instead of equal-count bins,
      when scores have an absolute meaning (numpy.digitize).
    optimizer: stochastic (default, as the CLI) for large pools: each step
      samples (n/budget) ln(1/epsilon) rows; lazier gives the same result
      with fewer gains; lazy or naive for exact greedy on small pools.
    ctx: a Context (threads, seed, memory_limit); default: this thread's.
      Fix its seed to repeat a stochastic selection.
    progress: callable(stage, done, total) returning True to cancel, or
      True for a tqdm bar; Ctrl-C cancels in any case.
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
    sum_i w_i phi(sum_{j in A} features[j, i]) (see subsel.FB): rows
    that together cover many columns, with diminishing returns.

    features: nonnegative scipy.sparse matrix, one row per candidate.
    budget: rows to keep.
    concave: phi; log1p (default) and sqrt reward covering new columns
      over piling onto covered ones; saturate, exp and min (param c: the
      mass at which a column counts as covered) cap it harder; pow (param
      a in (0, 1): smaller is more diverse).
    param: c or a for exp, min and pow; ignored by the others.
    weights: one nonnegative weight per column (importance); None for 1.
    optimizer: lazy (default): the greedy result with far fewer gains;
      naive for the textbook loop; stochastic or lazier for large pools.
    ctx, progress: as subsel.sdm().
    Parameters from the library's table (optimizer):
{OPT}
    """
    with FB(features, concave=concave, param=param, weights=weights,
            ctx=ctx) as objective:
        return _select(objective, optimizer, budget, ctx, progress, params)


# help() shows the bounds and defaults the linked library has.
for _fn in (sdm, fb, summary_select):
    _fn.__doc__ = _fn.__doc__.replace(
        "{OPT}", _params.docs(_lib.KIND_OPTIMIZER, skip=("budget",))).replace(
        "{SDM}", _params.docs(_lib.KIND_SDM))
for _fn in (sinkhorn, partial_ot):
    _fn.__doc__ += ("\n    Solver parameters from the library's table:\n"
                    + _params.docs(_lib.KIND_OT_SOLVER))
for _cls, _kind in ((Context, _lib.KIND_CONTEXT),
                    (Optimizer, _lib.KIND_OPTIMIZER),
                    (OTSolver, _lib.KIND_OT_SOLVER), (SDM, _lib.KIND_SDM),
                    (UniPROT, _lib.KIND_UNIPROT), (Tarot, _lib.KIND_TAROT),
                    (ClipCov, _lib.KIND_CLIPCOV),
                    (SAETrainer, _lib.KIND_SAE_TRAINER),
                    (LoRS, _lib.KIND_LORS)):
    _cls.__doc__ += ("\n    Parameters from the library's table:\n"
                     + _params.docs(_kind))
del _fn, _cls, _kind

__all__ = [
    "ALGORITHMS", "COSTS", "OTSolver", "SAE", "SAEScores", "SIMILARITIES",
    "Transport", "sae_scores",
    "UniPROT", "partial_ot", "sinkhorn", "CONCAVE", "ClipCov", "Tarot",
    "double_greedy", "CSR", "Cancelled", "Context", "Dense", "Error",
    "FB", "FormatError", "IOFailure", "InvalidArgument", "NumericError",
    "Objective", "OutOfMemory", "Optimizer", "SDM", "Selection",
    "StateError", "Unsupported", "build_info", "csr", "default_context",
    "dense", "fb", "load_npy", "load_npz", "sdm", "ISAS", "PROJECTIONS",
    "TarotOT", "isa_info", "load_vector", "nn_accuracy", "save_vector",
    "Summary", "csr_npz_shape", "mpi_available", "summary_merge",
    "summary_select", "SAELosses", "SAETrainer", "dense_npy_shape",
    "LoRS",
]
