# SPDX-License-Identifier: MIT
"""Summaries: the pieces of a selection across processes (since 0.9).

A part of a pool (a row range, a shard file) selects into a Summary: its
chosen rows with their global ids, gains and f. Summaries merge (GreeDi)
into a summary that merges again, and travel as bytes, so pickle (and with
it Dask, Ray, Spark, multiprocessing) ships them through
subsel_summary_to_bytes(), whose checksum and checks the receiver runs.
Engines live in subsel.distributed; this module is the library's surface.
"""
from __future__ import annotations

import ctypes
from typing import Iterable, Optional

import numpy as np

from . import _lib
from ._core import (CSR, Context, Objective, Optimizer, Selection, _create,
                    _ctx, _Handle, _path, _selection)
from .errors import check

L = _lib.lib


class Summary(_Handle):
    """What one part (or a merge) selected: global row ids in the order
    chosen, their gains, f of the set, and the chosen rows themselves.
    Immutable; made by summary_select(), summary_merge(), from_bytes() or
    load(). Pickles as its bytes (the library's checked byte form)."""

    _free_fn = staticmethod(L.subsel_summary_free)

    @property
    def count(self) -> int:
        """Items in the summary."""
        return L.subsel_summary_count(self)

    @property
    def total(self) -> int:
        """The size of the pool the summary belongs to."""
        return L.subsel_summary_total(self)

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        if not self._ptr:
            return "<subsel.Summary (closed)>"
        return f"<subsel.Summary of {self.count} items of a pool of {self.total}>"

    def selection(self, *, ctx: Optional[Context] = None) -> Selection:
        """The summary as a Selection: global ids (int64) in the order
        chosen, gains, value, evaluations of every part and merge behind
        it; budget is the count, and seconds 0 (a summary records no
        time)."""
        c = _ctx(ctx)
        out = ctypes.c_void_p()
        check(L.subsel_summary_selection(c, self, ctypes.byref(out)), c)
        return _selection(out.value, 0.0)

    def rows(self, *, ctx: Optional[Context] = None):
        """The chosen rows as a scipy.sparse.csr_array (row i is the row of
        the i-th id), e.g. to build the `like` objective of a merge on a
        machine that holds no part."""
        c = _ctx(ctx)
        with _summary_rows(self, c) as m:
            return m.to_scipy()

    def to_bytes(self, *, ctx: Optional[Context] = None) -> bytes:
        """The library's byte form (little-endian, with a CRC-32)."""
        c = _ctx(ctx)
        size = ctypes.c_int64()
        check(L.subsel_summary_to_bytes(c, self, None, 0,
                                        ctypes.byref(size)), c)
        buf = ctypes.create_string_buffer(size.value)
        check(L.subsel_summary_to_bytes(c, self, buf, size.value,
                                        ctypes.byref(size)), c)
        return buf.raw[:size.value]

    @classmethod
    def from_bytes(cls, data, *, ctx: Optional[Context] = None) -> "Summary":
        """A summary from to_bytes()'s bytes (bytes, bytearray, memoryview).
        Damaged or truncated data raises FormatError saying what was
        wrong."""
        c = _ctx(ctx)
        buf = np.frombuffer(data, dtype=np.uint8)
        return cls(_create(L.subsel_summary_from_bytes, c,
                           buf.ctypes.data if buf.size else None, buf.size))

    def save(self, path, *, ctx: Optional[Context] = None) -> None:
        """Writes the bytes to a file (atomically for regular files)."""
        c = _ctx(ctx)
        check(L.subsel_summary_save(c, self, _path(path)), c)

    @classmethod
    def load(cls, path, *, ctx: Optional[Context] = None) -> "Summary":
        """Reads a file written by save()."""
        c = _ctx(ctx)
        return cls(_create(L.subsel_summary_load, c, _path(path)))

    def __reduce__(self):
        # Through the library's byte form: the receiver checks it (CRC,
        # ids, rows), whatever engine carried it.
        return (_from_bytes, (self.to_bytes(),))


def _from_bytes(data: bytes) -> Summary:
    return Summary.from_bytes(data)


def _summary_rows(summary: Summary, c: Context) -> CSR:
    return CSR(_create(L.subsel_summary_rows, c, summary))


def _summary_array(summaries) -> tuple[list, "ctypes.Array"]:
    """Summaries as the C array of pointers subsel_summary_merge takes,
    each checked to be an open Summary."""
    items = list(summaries)
    for s in items:
        if not isinstance(s, Summary):
            raise TypeError(f"expected Summary objects, not "
                            f"{type(s).__name__}")
    ptrs = (ctypes.c_void_p * max(len(items), 1))(
        *[_lib.SUMMARY.from_param(s).value for s in items])
    return items, ptrs


def _with_optimizer(optimizer: str, budget: int, ctx, params: dict, call):
    """call(optimizer handle) on an optimizer made from the keywords, as
    subsel.sdm() makes its own."""
    with Optimizer(optimizer, ctx=ctx, budget=budget, **params) as opt:
        return call(opt)


def summary_select(objective: Objective, *, offset: int, total: int,
                   budget: int, optimizer: str = "lazy",
                   ctx: Optional[Context] = None, progress=None,
                   **params) -> Summary:
    """Selects `budget` rows from one part of a pool into a Summary.

    objective: an FB or SDM objective over the part's rows only (its row i
      is the pool's row offset + i). For SDM give every part the same
      target (target_distribution= computed once, or the same target=).
    offset: the pool row of the part's first row.
    total: the pool's size (offset + rows <= total), the same for every
      part of the pool.
    budget: rows to keep from the part (capped at its size), usually the
      budget of the whole selection, as GreeDi asks.
    optimizer: lazy (default; exact greedy), or stochastic / lazier for
      large parts (seeded by the context).
    ctx, progress: as subsel.sdm().
    Parameters from the library's table (optimizer):
{OPT}
    """
    c = _ctx(ctx)

    def call(opt):
        out = ctypes.c_void_p()
        c._call(L.subsel_summary_select, c, opt, objective, offset, total,
                ctypes.byref(out), progress=progress)
        return Summary(out.value)
    return _with_optimizer(optimizer, budget, c, params, call)


def summary_merge(summaries: Iterable[Summary], *, like: Objective,
                  budget: int, optimizer: str = "lazy",
                  ctx: Optional[Context] = None, progress=None,
                  **params) -> Summary:
    """Merges summaries of parts of one pool (GreeDi) into a Summary: the
    better of a selection over the union of their rows and the best input.

    summaries: Summary objects of disjoint parts of one pool (any order).
    like: an objective of the kind and parameters the parts used, e.g.
      any part's, or one built on Summary.rows() where no part is at hand.
    budget, optimizer, ctx, progress: as summary_select().
    Parameters from the library's table (optimizer): as summary_select().
    """
    c = _ctx(ctx)
    items, ptrs = _summary_array(summaries)

    def call(opt):
        out = ctypes.c_void_p()
        c._call(L.subsel_summary_merge, c, opt, like, ptrs, len(items),
                ctypes.byref(out), progress=progress)
        return Summary(out.value)
    return _with_optimizer(optimizer, budget, c, params, call)


def csr_npz_shape(path, *, ctx: Optional[Context] = None) -> tuple[int, int]:
    """(rows, cols) of a scipy.sparse.save_npz CSR file, reading only its
    shape member: a shard learns its rows' global ids from the row counts
    of the shards before it without loading them."""
    c = _ctx(ctx)
    rows, cols = ctypes.c_int64(), ctypes.c_int64()
    check(L.subsel_csr_npz_shape(c, _path(path), ctypes.byref(rows),
                                 ctypes.byref(cols)), c)
    return rows.value, cols.value


def mpi_available() -> bool:
    """Whether this library was built with its MPI component
    (subsel.distributed.mpi_select() raises Unsupported otherwise)."""
    return bool(L.subsel_mpi_available())
