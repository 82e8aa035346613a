# SPDX-License-Identifier: MIT
"""Selection across processes and machines (docs/distributed.md).

A pool too large for one process is given as parts: row blocks in order
(SciPy CSR matrices, or paths of scipy.sparse.save_npz shard files). The
engine-agnostic pieces are two pure functions any engine can map:

    select_part(part, make_objective, offset, total, ...) -> Summary
    merge(summaries, like, fanin=...)                     -> Summary

Summaries pickle as the library's checked bytes, so Dask, Ray, Spark or
multiprocessing ship them as they are. `dask_select()` runs both on a Dask
cluster; `mpi_select()` calls the library's MPI component on an mpi4py
communicator. `make_objective(matrix)` builds a part's objective (FB or
SDM) over a SciPy CSR matrix; engines pickle it, so it must be a top-level
function or a functools.partial of one (functools.partial(subsel.SDM,
target_distribution=p) is the usual SDM one: every part needs the same
target).
"""
from __future__ import annotations

import dataclasses
import functools
import os
import time
from typing import Callable, Optional, Sequence, Union

from . import _lib
from ._core import (Context, Objective, Optimizer, Selection, _named,
                    _run_selection)
from ._summary import Summary, csr_npz_shape, summary_merge, summary_select

#: subsel_mpi_select()'s methods, SUBSEL_DISTRIBUTED_*.
METHODS = {"greedi": _lib.DISTRIBUTED_GREEDI, "exact": _lib.DISTRIBUTED_EXACT,
           "union": _lib.DISTRIBUTED_UNION}

ContextLike = Union[Context, dict, None]


def _context(ctx: ContextLike) -> Optional[Context]:
    # Engines cannot pickle a Context (a C handle): they ship its
    # parameters as a dict, and each call makes its own.
    return Context(**ctx) if isinstance(ctx, dict) else ctx


def _is_path(part) -> bool:
    return isinstance(part, (str, bytes, os.PathLike))


def part_rows(part) -> int:
    """Rows of a part: a matrix's, or a shard file's read from its shape
    member alone (csr_npz_shape), so no process loads another's shard."""
    if _is_path(part):
        return csr_npz_shape(part)[0]
    return part.shape[0]


def offsets(parts: Sequence) -> tuple[list[int], int]:
    """The pool row of each part's first row, and the pool's size: parts
    are consecutive row blocks, in order."""
    out, total = [], 0
    for part in parts:
        out.append(total)
        total += part_rows(part)
    return out, total


def _load(part):
    """The part as a SciPy CSR matrix (a path is read with SciPy), so that
    make_objective sees one type whatever the engine was given."""
    if _is_path(part):
        import scipy.sparse as sp
        return sp.load_npz(os.fsdecode(part)).tocsr()
    return part


def select_part(part, make_objective: Callable, offset: int, total: int, *,
                budget: int, optimizer: str = "lazy", ctx: ContextLike = None,
                **params) -> Summary:
    """Selects from one part into a Summary (what an engine maps).

    part: a SciPy CSR matrix, or the path of a save_npz file.
    make_objective: matrix -> an FB or SDM objective over its rows.
    offset: the pool row of the part's first row (offsets() gives them).
    total: the pool's size.
    budget, optimizer: as subsel.summary_select().
    ctx: a Context, or a dict of Context parameters (seed, threads) for a
      context made for this call (what engines pass).
    Other keywords: optimizer parameters (runs, epsilon, ...).
    """
    matrix = _load(part)
    objective = make_objective(matrix)
    try:
        if not isinstance(objective, Objective):
            raise TypeError(f"make_objective returned "
                            f"{type(objective).__name__}, not an objective")
        if len(objective) != matrix.shape[0]:
            raise ValueError(f"make_objective's objective has "
                             f"{len(objective)} items for a part of "
                             f"{matrix.shape[0]} rows")
        return summary_select(objective, offset=offset, total=total,
                              budget=budget, optimizer=optimizer,
                              ctx=_context(ctx), **params)
    finally:
        objective.close()


def merge_tree(items: list, fanin: int, merge_group: Callable) -> object:
    """Multi-round GreeDi's grouping, as subsel_mpi_select() groups ranks:
    with 2 <= fanin < len(items), consecutive groups of `fanin` merge into
    one each (a lone last item passes on as it is), then groups of those
    results, ... until one is left; otherwise one merge of all. A single
    item is returned as it is. `merge_group(list)` does one merge (in this
    process, or as an engine's task)."""
    items = list(items)
    if not items:
        raise ValueError("nothing to merge: no summaries")
    f = fanin if 2 <= fanin < len(items) else len(items)
    while len(items) > 1:
        items = [merge_group(items[i:i + f]) if len(items[i:i + f]) > 1
                 else items[i] for i in range(0, len(items), f)]
    return items[0]


def merge(summaries: Sequence[Summary], like: Objective, *, budget: int,
          fanin: int = 0, optimizer: str = "lazy", ctx: ContextLike = None,
          **params) -> Summary:
    """Merges summaries (GreeDi) into one, in a tree of merges of `fanin`
    summaries when fanin >= 2 (merge_tree), so that no merge holds more
    than fanin x budget rows.

    summaries: Summary objects of disjoint parts of one pool, in pool
      order (the tree groups neighbours; one merge does not care).
    like: an objective of the parts' kind and parameters (any part's).
    budget, optimizer, ctx: as select_part().
    fanin: 0 (one merge of all), or the summaries per merge.
    """
    c = _context(ctx)
    return merge_tree(summaries, fanin, lambda group: summary_merge(
        group, like=like, budget=budget, optimizer=optimizer, ctx=c,
        fanin=fanin, **params))


def merge_like(*summaries: Summary, make_objective: Callable, budget: int,
               fanin: int = 0, optimizer: str = "lazy",
               ctx: ContextLike = None, **params) -> Summary:
    """One merge where no part is at hand (an engine's merge task).

    summaries: the Summary objects to merge.
    make_objective: as select_part(); `like` is make_objective over the
      first summary's rows.
    budget, fanin, optimizer, ctx: as merge().
    """
    like = make_objective(summaries[0].rows())
    try:
        return summary_merge(summaries, like=like, budget=budget,
                             optimizer=optimizer, ctx=_context(ctx),
                             fanin=fanin, **params)
    finally:
        like.close()


def dask_select(client, parts: Sequence, make_objective: Callable, *,
                budget: int, fanin: int = 0, optimizer: str = "lazy",
                ctx: Optional[dict] = None, **params) -> Selection:
    """Selection over row blocks on a Dask cluster.

    client: a distributed.Client whose workers can import subsel.
    parts: row blocks in pool order, SciPy CSR matrices (scattered to the
      workers) or save_npz paths every worker can read (each worker reads
      its own; offsets come from the files' shapes alone).
    make_objective: matrix -> objective, picklable (see the module).
    budget: rows to select from the whole pool.
    fanin: 0 merges every summary in one task; >= 2 merges in a tree of
      tasks of `fanin` summaries (merge_tree).
    optimizer: as subsel.summary_select(), for parts and merges.
    ctx: a dict of Context parameters for the workers' calls (e.g.
      {"seed": 7, "threads": 1}); None: each worker thread's default.
    Other keywords: optimizer parameters (runs, epsilon, ...).

    Returns the merged Selection with global row ids (seconds: the wall
    time of the whole call). Workers must find the same libsubsel as this
    process: they inherit its environment (SUBSEL_LIBRARY, PKG_CONFIG_PATH)
    when the cluster is started from it.
    """
    if ctx is not None and not isinstance(ctx, dict):
        raise TypeError("dask_select's ctx is a dict of Context parameters "
                        "(a Context cannot travel to the workers)")
    parts = list(parts)
    if not parts:
        raise ValueError("dask_select needs at least one part")
    start = time.perf_counter()
    firsts, total = offsets(parts)
    options = dict(budget=budget, optimizer=optimizer, ctx=ctx, **params)
    select = functools.partial(select_part, make_objective=make_objective,
                               **options)
    summaries = []
    for part, first in zip(parts, firsts):
        if not _is_path(part):
            # scattered, not embedded in the task graph; under a key of its
            # own (hash=False): a second call with the same data would
            # otherwise reuse the key of futures the first call is
            # releasing, and Dask cancels them (CancelledError)
            part = client.scatter(part, hash=False)
        summaries.append(client.submit(select, part, offset=first,
                                       total=total, pure=False))
    merge_task = functools.partial(merge_like, make_objective=make_objective,
                                   fanin=fanin, **options)
    final = merge_tree(summaries, fanin,
                       lambda group: client.submit(merge_task, *group,
                                                   pure=False))
    selection = final.result().selection()
    return dataclasses.replace(selection,
                               seconds=time.perf_counter() - start)


def mpi_select(comm, objective: Objective, *, budget: int,
               method: str = "greedi", optimizer: Optional[str] = None,
               fanin: int = 0, ctx: ContextLike = None, progress=None,
               **params) -> Selection:
    """Selection across the ranks of an MPI communicator (collective: every
    rank calls it with its own part's objective; rank r's rows follow those
    of ranks 0 .. r-1). Every rank gets the same Selection in global ids.

    comm: an mpi4py communicator (its py2f() handle is passed), or a
      Fortran handle (int). MPI must be initialised (importing
      mpi4py.MPI does it).
    objective: this rank's part's FB or SDM objective (the same target on
      every rank for SDM).
    budget: rows to select from the whole pool.
    method: "greedi" (every rank selects, summaries merge in rounds of
      fanin) or "exact" (stochastic greedy over the whole pool, the
      selection subsel.Optimizer("stochastic").run gives on one process
      with the same seed) or "union" (every rank selects its share of the
      budget; the union, for budgets that are a large fraction of the
      pool).
    optimizer: default lazy for greedi; exact needs stochastic (default).
    fanin: as merge().
    ctx, progress: as subsel.sdm().
    Raises Unsupported when the library has no MPI component
    (subsel.mpi_available()).
    """
    kind = _named(METHODS, "method", method)
    if optimizer is None:
        optimizer = "stochastic" if method == "exact" else "lazy"
    handle = comm.py2f() if hasattr(comm, "py2f") else int(comm)
    c = _context(ctx)
    with Optimizer(optimizer, ctx=c, budget=budget, fanin=fanin,
                   **params) as opt:
        return _run_selection(_lib.lib.subsel_mpi_select, c, progress, opt,
                              objective, kind, handle)


__all__ = ["METHODS", "dask_select", "merge", "merge_like", "merge_tree",
           "mpi_select", "offsets", "part_rows", "select_part"]
