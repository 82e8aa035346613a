# SPDX-License-Identifier: MIT
"""Handles: context, matrices, objectives, optimizer, selections.

Lifetimes: each Python handle owns one reference on its C handle (released
by close() or the garbage collector) and keeps in `_keep` the Python
objects whose memory the C handle reads (borrowed NumPy arrays, the
matrices an objective keeps). C reference counts keep C handles alive;
`_keep` does the same for the arrays the library cannot count.
"""
from __future__ import annotations

import ctypes
import functools
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import _lib, _params
from .errors import Cancelled, check

L = _lib.lib

_CTX_KIND = _lib.KIND_CONTEXT


class _Handle:
    """Base of every handle: one C pointer, its free function, kept objects."""

    _free_fn: Callable = None  # set by subclasses

    def __init__(self, ptr: int, keep: Sequence[Any] = ()):
        self._ptr = ptr
        self._keep = list(keep)

    @property
    def _as_parameter_(self):
        # Lets a handle be passed directly to a ctypes function; a closed one
        # is refused here rather than handed to C as NULL.
        if not self._ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return ctypes.c_void_p(self._ptr)

    def close(self) -> None:
        """Releases this object's reference now (idempotent)."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            type(self)._free_fn(ctypes.c_void_p(ptr))
        self._keep = []

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _create(fn, ctx: "Context", *args) -> int:
    """Calls a constructor `fn(ctx, *args, &out)` and returns the handle."""
    out = ctypes.c_void_p()
    # Through _call: constructors report progress too (CSR validation), so
    # Ctrl-C during one raises KeyboardInterrupt like any long call.
    ctx._call(fn, ctx, *args, ctypes.byref(out))
    return out.value


class Context(_Handle):
    """Options of calls (threads, seed, max_isa, memory_limit: see
    `Context.params()`), and the message of the last failure.

    A context is used by one thread at a time: the functions that take
    `ctx=None` use one context per thread, made on first use.
    """

    _free_fn = staticmethod(L.subsel_ctx_free)

    def __init__(self, **params):
        out = ctypes.c_void_p()
        check(L.subsel_ctx_create(ctypes.byref(out)))
        super().__init__(out.value)
        self._interrupted = False
        self._callback_error: Optional[BaseException] = None
        self._progress: Optional[Callable[[str, int, int], Any]] = None
        # One C callback for the life of the context: ctypes must keep the
        # trampoline alive as long as C may call it. It reaches the context
        # through a weak reference: a bound method would make a cycle
        # (context -> callback -> context) that only the cycle collector
        # frees, so contexts (a thread's default one too) would outlive
        # their last reference, and those alive at exit are never freed.
        self._callback = _lib.PROGRESS_FN(
            functools.partial(_progress_trampoline, weakref.ref(self)))
        check(L.subsel_ctx_set_progress(self, self._callback, None), self)
        for name, value in params.items():
            self[name] = value

    @staticmethod
    def params() -> dict:
        return dict(_params.of_kind(_CTX_KIND))

    def __setitem__(self, name: str, value) -> None:
        _params.set_value(self, self, _CTX_KIND, name, value)

    def __getitem__(self, name: str):
        return _params.get_value(self, self, _CTX_KIND, name)

    @property
    def isa(self) -> str:
        """The instruction set calls on this context use ("scalar",
        "avx2", "avx512"): the selected one, lowered by max_isa."""
        return L.subsel_isa_name(L.subsel_ctx_isa(self)).decode()

    @property
    def threads(self) -> int:
        """Threads calls on this context use now (after caps)."""
        return L.subsel_ctx_threads(self)

    @property
    def last_error(self) -> str:
        return L.subsel_ctx_last_error(self).decode("utf-8", "replace")

    def _on_progress(self, _user, stage, done, total) -> int:
        # Runs in the calling thread with the GIL held; a pending Ctrl-C
        # raises KeyboardInterrupt here, which ctypes would print and drop:
        # turn it into "cancel" and re-raise after the call returns.
        try:
            if self._progress is not None:
                if self._progress(stage.decode(), done, total):
                    return 1
            return 0
        except KeyboardInterrupt:
            self._interrupted = True
            return 1
        except BaseException as exc:  # a failing progress callback cancels
            self._callback_error = exc
            return 1

    def _call(self, fn, *args, progress=None) -> int:
        """Runs a long call with `progress` as callback; turns a cancellation
        caused by Ctrl-C into KeyboardInterrupt and one caused by an
        exception of the callback into that exception."""
        self._interrupted = False
        self._callback_error = None
        self._progress = progress
        try:
            status = fn(*args)
        finally:
            self._progress = None
        if self._interrupted:
            raise KeyboardInterrupt
        if self._callback_error is not None:
            raise self._callback_error
        return check(status, self)


def _progress_trampoline(ref, user, stage, done, total) -> int:
    ctx = ref()
    return 0 if ctx is None else ctx._on_progress(user, stage, done, total)


_local = threading.local()


def default_context() -> Context:
    """This thread's context, used where `ctx` is None."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = Context()
    return ctx


def _ctx(ctx: Optional[Context]) -> Context:
    return default_context() if ctx is None else ctx


def _own_context(who: str, ctx: Optional[Context],
                 **context_params) -> Context:
    """The context a stateful handle (SAETrainer, LoRS) keeps for all its
    calls: `ctx` as given, or a new one with the given parameters (seed,
    threads; None ones left at their defaults), not both."""
    given = {k: v for k, v in context_params.items() if v is not None}
    if ctx is None:
        return Context(**given)
    if given:
        raise TypeError(f"{who}: give {' and '.join(given)} or ctx=, not "
                        f"both")
    return ctx


# --------------------------------------------------------------------------
# Matrices
# --------------------------------------------------------------------------

_VALUE_DTYPES = {np.dtype("<f4"): _lib.DTYPE_FLOAT32,
                 np.dtype("<f8"): _lib.DTYPE_FLOAT64,
                 np.dtype("<f2"): _lib.DTYPE_FLOAT16}
_INDEX_DTYPES = {np.dtype("<i4"): _lib.DTYPE_INT32,
                 np.dtype("<i8"): _lib.DTYPE_INT64}


def _values_array(a) -> np.ndarray:
    """Float values as the library reads them: float16/32/64 as they are
    (C converts 16/64 once), anything else to float32 here (one copy)."""
    a = np.asarray(a)
    if a.dtype.newbyteorder("<") in _VALUE_DTYPES:
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    else:
        a = a.astype(np.float32)
    return a


class CSR(_Handle):
    """An immutable CSR matrix in the library (rows x cols, float32 values).

    Made by `csr()` from a SciPy matrix (borrowing its arrays when it can)
    or by `load_npz()`."""

    _free_fn = staticmethod(L.subsel_csr_free)

    @property
    def shape(self) -> tuple[int, int]:
        return (L.subsel_csr_rows(self), L.subsel_csr_cols(self))

    @property
    def nnz(self) -> int:
        return L.subsel_csr_nnz(self)

    @property
    def index_dtype(self) -> np.dtype:
        t = L.subsel_csr_index_type(self)
        return np.dtype(np.int32 if t == _lib.DTYPE_INT32 else np.int64)

    def _row_pointers(self, row: int) -> tuple[int, int, int]:
        """(indices address, values address, count) of a row, in place."""
        idx, val, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_int64()
        check(L.subsel_csr_row_v2(self, row, ctypes.byref(idx),
                                  ctypes.byref(val), ctypes.byref(n)))
        return idx.value or 0, val.value or 0, n.value

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of row `row`'s column indices and values."""
        idx, val, n = self._row_pointers(row)
        if n == 0:
            return np.empty(0, self.index_dtype), np.empty(0, np.float32)
        it = ctypes.c_int32 if self.index_dtype == np.int32 else ctypes.c_int64
        return (np.ctypeslib.as_array((it * n).from_address(idx)).copy(),
                np.ctypeslib.as_array((ctypes.c_float * n).from_address(val))
                .copy())

    def column_sums(self, *, ctx: Optional[Context] = None) -> np.ndarray:
        """The sum of every column, in double precision (independent of the
        thread count)."""
        c = _ctx(ctx)
        out = np.empty(self.shape[1], np.float64)
        check(L.subsel_csr_column_sums_v2(c, self, out.ctypes.data,
                                          out.size), c)
        return out

    def view_rows(self, first: int, count: int, *,
                  ctx: Optional[Context] = None) -> "CSR":
        """Rows [first, first + count) as a matrix sharing this one's arrays
        (no copy), for splitting a pool into ranges. The view keeps this
        matrix alive (and the arrays it borrows), so it may outlive it."""
        c = _ctx(ctx)
        ptr = _create(L.subsel_csr_view_rows, c, self, first, count)
        # C holds a reference on the parent; the Python parent holds the
        # borrowed NumPy arrays, which only Python can keep.
        return CSR(ptr, self._keep)

    def gather_rows(self, rows, *, ctx: Optional[Context] = None) -> "CSR":
        """A new matrix (a copy in library memory) of the given rows, in
        that order (repeats allowed)."""
        c, r = _ctx(ctx), _i64(rows)
        return CSR(_create(L.subsel_csr_gather_rows, c, self, r.ctypes.data,
                           r.size))

    def save_npz(self, path, *, compressed: bool = True,
                 ctx: Optional[Context] = None) -> None:
        """Writes the matrix as scipy.sparse.save_npz does (readable by
        scipy.sparse.load_npz); atomically for regular files."""
        c = _ctx(ctx)
        check(L.subsel_csr_save_npz(c, self, _path(path), int(compressed)), c)

    def to_scipy(self):
        """A scipy.sparse.csr_array copy (one row read at a time)."""
        import scipy.sparse as sp
        rows, cols = self.shape
        parts = [self.row(r) for r in range(rows)]
        indptr = np.zeros(rows + 1, np.int64)
        indptr[1:] = np.cumsum([len(p[0]) for p in parts])
        indices = (np.concatenate([p[0] for p in parts]) if rows
                   else np.empty(0, np.int64))
        data = (np.concatenate([p[1] for p in parts]) if rows
                else np.empty(0, np.float32))
        return sp.csr_array((data, indices, indptr), shape=(rows, cols))


def _aligned(a: np.ndarray) -> np.ndarray:
    """A contiguous array the library can read in place: arrays
    deserialised from a packed buffer (Dask's scipy.sparse frames) may
    start at any byte, which the library refuses, so those are copied."""
    a = np.ascontiguousarray(a)
    return a if a.flags.aligned else a.copy()


def csr(matrix, *, copy: bool = False, ctx: Optional[Context] = None) -> CSR:
    """A CSR matrix from a scipy.sparse matrix or array (or a CSR).

    `csr_matrix`/`csr_array` with int32 or int64 indices and float32 values
    are borrowed without a copy (the arrays are kept alive by the result;
    do not modify them while it lives). float64/float16 values are
    converted once to float32 by the library (the indices are still
    borrowed). Other sparse formats are converted with `.tocsr()`, other
    value types to float32, and matrices with unsorted or duplicate column
    indices are canonicalised: each of these is one copy. `copy=True` makes
    the library copy everything (the inputs may then change freely).
    """
    if isinstance(matrix, CSR):
        return matrix
    import scipy.sparse as sp
    c = _ctx(ctx)
    if not sp.issparse(matrix):
        raise TypeError(f"csr() needs a scipy.sparse matrix, not "
                        f"{type(matrix).__name__} (use dense() for arrays)")
    if matrix.format != "csr":
        matrix = matrix.tocsr()
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()  # sorts indices too
    indptr, indices = matrix.indptr, matrix.indices
    if indptr.dtype != indices.dtype or indptr.dtype.newbyteorder("<") \
            not in _INDEX_DTYPES:
        indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
    indptr = _aligned(indptr.astype(indptr.dtype.newbyteorder("<"),
                                    copy=False))
    indices = _aligned(indices.astype(indices.dtype.newbyteorder("<"),
                                      copy=False))
    data = _aligned(_values_array(matrix.data))
    rows, cols = matrix.shape
    flags = _lib.OWN_COPY if copy else _lib.OWN_BORROW
    ptr = _create(L.subsel_csr_create_v2, c, rows, cols,
                  indptr.ctypes.data, indices.ctypes.data,
                  _INDEX_DTYPES[indptr.dtype], data.ctypes.data,
                  _VALUE_DTYPES[data.dtype], flags)
    return CSR(ptr, () if copy else (indptr, indices, data))


def load_npz(path, *, ctx: Optional[Context] = None, progress=None) -> CSR:
    """Reads a scipy.sparse.save_npz file with the library's reader.
    `progress(stage, done, total)` hears the reading ("load", bytes of the
    arrays) and the checks ("validate", rows), as docs/matrices.md lists;
    returning True cancels (subsel.Cancelled), and progress=True shows a
    tqdm bar."""
    c = _ctx(ctx)
    out = ctypes.c_void_p()
    _call_with_progress(c, L.subsel_csr_load_npz, c, _path(path),
                        ctypes.byref(out), progress=progress)
    return CSR(out.value)


class Dense(_Handle):
    """An immutable dense row-major float32 matrix (rows may be strided)."""

    _free_fn = staticmethod(L.subsel_dense_free)

    @property
    def shape(self) -> tuple[int, int]:
        return (L.subsel_dense_rows(self), L.subsel_dense_cols(self))

    @property
    def row_stride(self) -> int:
        """Elements (not bytes) from one row to the next."""
        return L.subsel_dense_stride(self)

    @property
    def data_address(self) -> int:
        """Address of row 0 (for checking that an array was not copied)."""
        return L.subsel_dense_data(self) or 0

    def row(self, row: int) -> np.ndarray:
        """A copy of row `row` (float32)."""
        rows, cols = self.shape
        if not 0 <= row < rows:
            raise IndexError(f"row {row} out of range [0, {rows})")
        addr = L.subsel_dense_row(self, row)
        return np.ctypeslib.as_array(
            (ctypes.c_float * cols).from_address(addr)).copy() if cols else \
            np.empty(0, np.float32)

    def to_numpy(self) -> np.ndarray:
        """A copy of the matrix as a rows x cols float32 array (for views
        the library made, such as TAROT's whitened rows)."""
        rows, cols = self.shape
        if rows == 0 or cols == 0:
            return np.empty((rows, cols), np.float32)
        stride = self.row_stride
        flat = (ctypes.c_float * ((rows - 1) * stride + cols)).from_address(
            self.data_address)
        return np.lib.stride_tricks.as_strided(
            np.ctypeslib.as_array(flat), (rows, cols), (4 * stride, 4)).copy()

    def column_sums(self, *, ctx: Optional[Context] = None) -> np.ndarray:
        """The double-precision sum of every column."""
        c = _ctx(ctx)
        out = np.empty(self.shape[1], np.float64)
        check(L.subsel_dense_column_sums_v2(c, self, out.ctypes.data,
                                            out.size), c)
        return out

    def to_csr(self, *, ctx: Optional[Context] = None) -> CSR:
        """A CSR matrix (library memory) of the nonzero entries."""
        c = _ctx(ctx)
        return CSR(_create(L.subsel_csr_from_dense, c, self))

    def save_npy(self, path, *, ctx: Optional[Context] = None) -> None:
        """Writes a 2-D '<f4' .npy file (atomically for regular files)."""
        c = _ctx(ctx)
        check(L.subsel_dense_save_npy(c, self, _path(path)), c)


def dense(array, *, copy: bool = False, ctx: Optional[Context] = None) -> Dense:
    """A dense matrix from a 2-D NumPy array (or a 1-D one as a column).

    float32 arrays whose rows are contiguous are borrowed in place, with
    their row stride (slices such as `a[::2]` or `a[:, :10]`, memory-mapped
    `.npy` files from `np.load(path, mmap_mode="r")`): no copy. float16 and
    float64 are converted once by the library; other dtypes, big-endian or
    column-strided arrays are converted to float32 here (one copy).
    """
    if isinstance(array, Dense):
        return array
    c = _ctx(ctx)
    a = np.asarray(array)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"dense() needs a 1-D or 2-D array, not {a.ndim}-D")
    a = _values_array(a)
    item = a.dtype.itemsize
    rows, cols = a.shape
    strided_ok = (a.flags.aligned and (cols <= 1 or a.strides[1] == item)
                  and a.strides[0] % item == 0
                  and (rows <= 1 or a.strides[0] >= cols * item))
    if not strided_ok:
        a = np.ascontiguousarray(a)
    stride = a.strides[0] // item if rows > 1 else cols
    flags = _lib.OWN_COPY if copy else _lib.OWN_BORROW
    ptr = _create(L.subsel_dense_create_v2, c, rows, cols, a.ctypes.data,
                  _VALUE_DTYPES[a.dtype], stride, flags)
    return Dense(ptr, () if copy else (a,))


def load_npy(path, *, ctx: Optional[Context] = None, progress=None) -> Dense:
    """Reads a 1-D or 2-D `.npy` file with the library's reader (used in
    place from the mapped file when the context's map_files allows, else a
    copy in library memory). For zero copy of an array NumPy holds use
    dense(np.load(path, mmap_mode="r")). `progress` as for load_npz()
    (stage "load", the data read and checked for NaN/Inf)."""
    c = _ctx(ctx)
    out = ctypes.c_void_p()
    _call_with_progress(c, L.subsel_dense_load_npy, c, _path(path),
                        ctypes.byref(out), progress=progress)
    return Dense(out.value)


def dense_npy_shape(path, *, ctx: Optional[Context] = None) -> tuple[int, int]:
    """(rows, cols) of the matrix load_npy(path) would read (a vector is one
    column), from the file's header alone: the data is not read."""
    c = _ctx(ctx)
    rows, cols = ctypes.c_int64(), ctypes.c_int64()
    check(L.subsel_dense_npy_shape(c, _path(path), ctypes.byref(rows),
                                   ctypes.byref(cols)), c)
    return rows.value, cols.value


def _path(path) -> bytes:
    """A path as the library takes it (bytes, as the file system has it)."""
    import os
    return os.fsencode(path)


def load_vector(path, *, dtype=np.float64,
                ctx: Optional[Context] = None) -> np.ndarray:
    """Reads a vector .npy file (1-D, or 2-D with a dimension of 1; float32,
    float64, int32 or int64) with the library's reader, as float64 or, with
    dtype=np.int64, as int64 (integer files only). Pipes and /dev/stdin
    work: the file is read once."""
    c = _ctx(ctx)
    dt = np.dtype(dtype)
    if dt == np.float64:
        fn, ctype = L.subsel_npy_load_f64, ctypes.c_double
    elif dt == np.int64:
        fn, ctype = L.subsel_npy_load_i64, ctypes.c_int64
    else:
        raise TypeError(f"load_vector() reads float64 or int64, not {dt}")
    values, count = ctypes.c_void_p(), ctypes.c_int64()
    c._call(fn, c, _path(path), ctypes.byref(values), ctypes.byref(count))
    try:
        if count.value == 0:
            return np.empty(0, dt)
        return np.ctypeslib.as_array(
            (ctype * count.value).from_address(values.value)).copy()
    finally:
        L.subsel_array_free(values)  # the library's array: copied, freed


def save_vector(path, values, *, ctx: Optional[Context] = None) -> None:
    """Writes a 1-D .npy file: '<i8' for integer or bool values, else
    '<f8' (atomically for regular files)."""
    c = _ctx(ctx)
    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"save_vector() writes 1-D arrays, not {a.ndim}-D")
    if a.dtype.kind in "iub":
        a, fn = _i64(a), L.subsel_npy_write_i64
    else:
        a, fn = _f64(a, "values"), L.subsel_npy_write_f64
    check(fn(c, _path(path), a.ctypes.data, a.size), c)


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------

def _f64(a, name: str) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64).ravel())


def _named(table: dict, what: str, name: str) -> int:
    """The library's constant for `name` in `table`, or a ValueError that
    lists the known names."""
    if name not in table:
        raise ValueError(f"unknown {what} '{name}' (known: "
                         f"{', '.join(table)})")
    return table[name]


def _i64(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64).ravel())


class Objective(_Handle):
    """A set function over the rows of a pool (ground set 0..n-1)."""

    _free_fn = staticmethod(L.subsel_objective_free)
    _kind = 0

    def __len__(self) -> int:
        return L.subsel_objective_size(self)

    def __setitem__(self, name: str, value) -> None:
        c = default_context()
        _params.set_value(c, self, self._kind, name, value)

    def __getitem__(self, name: str):
        c = default_context()
        return _params.get_value(c, self, self._kind, name)

    def evaluate(self, indices, *, ctx: Optional[Context] = None) -> float:
        """f(set), computed from scratch in double precision."""
        c, s = _ctx(ctx), _i64(indices)
        v = ctypes.c_double()
        check(L.subsel_objective_evaluate(c, self, s.ctypes.data, s.size,
                                          ctypes.byref(v)), c)
        return v.value

    def gain(self, indices, item: int, *, ctx: Optional[Context] = None) -> float:
        """f(set + {item}) - f(set)."""
        c, s = _ctx(ctx), _i64(indices)
        v = ctypes.c_double()
        check(L.subsel_objective_gain(c, self, s.ctypes.data, s.size, item,
                                      ctypes.byref(v)), c)
        return v.value


CONCAVE = {"log1p": 0, "sqrt": 1, "saturate": 2, "exp": 3, "min": 4, "pow": 5}


class FB(Objective):
    """Feature-based function f(A) = sum_i w_i phi(sum_{j in A} Z[j, i]).

    features: nonnegative scipy.sparse matrix (or CSR), rows are items.
    concave: phi, one of "log1p", "sqrt", "saturate", "exp" (1 - exp(-x/c)),
      "min" (min(x, c)), "pow" (x^a); `param` is c or a for the last three.
    weights: one nonnegative weight per column, or None for ones.
    """

    _kind = _lib.KIND_FB

    def __init__(self, features, *, concave: str = "log1p",
                 param: float = 1.0, weights=None,
                 ctx: Optional[Context] = None):
        c = _ctx(ctx)
        m = csr(features, ctx=c)
        kind = _named(CONCAVE, "concave function", concave)
        w = None if weights is None else _f64(weights, "weights")
        ptr = _create(L.subsel_fb_create, c, m, kind, param,
                      None if w is None else w.ctypes.data)
        # The C objective holds a reference on the matrix; keep the Python
        # object too, whose arrays that matrix may borrow.
        super().__init__(ptr, (m,))


class SDM(Objective):
    """Submodular Distribution Matching over the rows of `source`:

        f(A) = lambda sum_i p_i log(1 + m_i(A))
             + (1 - lambda) sum_l u_l log(1 + |A cap bin_l|)

    target: a sparse matrix with the source's columns; p = its normalised
      column sums. Or target_distribution: p directly (one value per column).
    quality: one score per source row (optional), quantised by rank into
      `bins` equal bins, or by `quality_edges` (numpy.digitize); bin_weights
      u, lowest bin first (default (0, 0.01, 0.99) for 3 bins).
    Other keywords are parameters from the library's table (lambda_).
    """

    _kind = _lib.KIND_SDM

    def __init__(self, source, *, target=None, target_distribution=None,
                 quality=None, bins: int = 3, quality_edges=None,
                 bin_weights=None, ctx: Optional[Context] = None,
                 progress=None, **params):
        c = _ctx(ctx)
        m = csr(source, ctx=c)
        super().__init__(_create(L.subsel_sdm_create, c, m), (m,))
        if (target is None) == (target_distribution is None):
            raise TypeError("SDM needs exactly one of target= and "
                            "target_distribution=")
        if target is not None:
            t = csr(target, ctx=c)
            c._call(L.subsel_sdm_set_target, c, self, t, progress=progress)
        else:
            p = _f64(target_distribution, "target_distribution")
            check(L.subsel_sdm_set_target_distribution(
                c, self, p.ctypes.data, p.size), c)
        if quality is not None:
            q = _f64(quality, "quality")
            if quality_edges is not None:
                e = _f64(quality_edges, "quality_edges")
                check(L.subsel_sdm_set_quality_edges(
                    c, self, q.ctypes.data, q.size, e.ctypes.data, e.size),
                    c)
            else:
                check(L.subsel_sdm_set_quality(c, self, q.ctypes.data, q.size,
                                               bins), c)
            if bin_weights is not None:
                u = _f64(bin_weights, "bin_weights")
                check(L.subsel_sdm_set_bin_weights(c, self, u.ctypes.data,
                                                   u.size), c)
        elif bin_weights is not None or quality_edges is not None:
            raise TypeError("bin_weights= and quality_edges= need quality=")
        for name, value in params.items():
            _params.set_value(c, self, self._kind, name, value)

    def kl(self, indices, *, ctx: Optional[Context] = None) -> float:
        """KL(p || p(A)); +inf when a column with p_i > 0 is not covered."""
        c, s = _ctx(ctx), _i64(indices)
        v = ctypes.c_double()
        check(L.subsel_sdm_kl(c, self, s.ctypes.data, s.size,
                              ctypes.byref(v)), c)
        return v.value

    def quality_bins(self, *, ctx: Optional[Context] = None) -> np.ndarray:
        c = _ctx(ctx)
        out = np.empty(len(self), np.int64)
        check(L.subsel_sdm_quality_bins(c, self, out.ctypes.data, out.size),
              c)
        return out


# --------------------------------------------------------------------------
# Optimizers and selections
# --------------------------------------------------------------------------

ALGORITHMS = {"naive": 1000, "lazy": 1001, "stochastic": 1002,
              "lazier": 1003, "double_greedy": 1004,
              "double_greedy_random": 1005}


@dataclass(frozen=True)
class Selection:
    """The result of a selection.

    indices: chosen rows (int64), in the order chosen (ascending for an
      intersection of several runs); gains: the marginal gain of each;
    value: f(indices); evaluations: gains computed (all runs);
    budget: items asked for; short_reason: None when len(indices) ==
    budget, else why fewer (the library's sentence); seconds: wall time of
    the selection; kl: for subsel.sdm(), KL(p || p(A)) (inf when a target
    column is not covered), else None.
    """
    indices: np.ndarray
    gains: np.ndarray
    value: float
    evaluations: int
    budget: int
    short_reason: Optional[str]
    short_code: int
    seconds: float
    kl: Optional[float] = None  # SDM: KL(p || p(selection)), as the CLI's

    @property
    def stopped_early(self) -> bool:
        return self.short_code != 0

    def __len__(self) -> int:
        return len(self.indices)

    def ids(self, ids, *, sort: bool = False) -> np.ndarray:
        """The ids of the selected rows: `ids` holds one id per pool row
        (any integer dtype, or bytes 'S<n>' such as DataComp's uids), and
        the result keeps its dtype, in the order chosen, or with sort=True
        ascending and each once (np.unique), as the CLI's --ids-sorted."""
        a = _ids_array(ids, little_endian=False)
        if len(self.indices) and self.indices.max() >= len(a):
            raise ValueError(f"ids: {len(a)} ids, but row "
                             f"{int(self.indices.max())} was selected")
        out = a[self.indices]
        return np.unique(out) if sort else out

    def save(self, path, *, ids=None, sort: bool = False,
             datacomp: bool = False, ctx: Optional[Context] = None) -> None:
        """Writes the indices as a 1-D int64 .npy file, as the CLI's --out
        writes them; with `ids` (one per pool row, as for ids()), their ids
        instead, in the ids' dtype: in the order chosen, sorted and each
        once (sort=True), or as DataComp's subset file (datacomp=True: uids
        of 32 hex digits or 16 bytes, as two uint64 each, sorted), as the
        CLI's --ids, --ids-sorted and --ids-datacomp write them (one
        writer, subsel_ids_save_npy)."""
        if ids is None:
            if sort or datacomp:
                raise ValueError("sort and datacomp go with ids")
            save_vector(path, self.indices, ctx=ctx)
            return
        if sort and datacomp:
            raise ValueError("give sort or datacomp, not both (DataComp's "
                             "file is sorted)")
        c = _ctx(ctx)
        a = _ids_array(ids)
        idx = _i64(self.indices)
        flags = 2 if datacomp else 1 if sort else 0  # SUBSEL_IDS_*
        check(L.subsel_ids_save_npy(c, _path(path), a.ctypes.data, len(a),
                                    a.dtype.str.encode(), idx.ctypes.data,
                                    len(idx), flags), c)


def _ids_array(ids, little_endian: bool = True) -> np.ndarray:
    """ids checked to be a 1-D array of an id dtype; for the library, a
    contiguous little-endian one."""
    a = np.asarray(ids)
    if a.ndim != 1:
        raise ValueError(f"ids must be 1-D (one per pool row), not {a.ndim}-D")
    if not ((a.dtype.kind in "iu" and a.dtype.itemsize in (1, 2, 4, 8))
            or (a.dtype.kind == "S" and 0 < a.dtype.itemsize <= 4096)):
        raise TypeError(f"ids of dtype {a.dtype.str} are not supported "
                        f"(integers, or bytes 'S<n>' up to n = 4096, are)")
    if not little_endian:
        return a
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return np.ascontiguousarray(a)


def _selection(ptr: int, seconds: float) -> Selection:
    """Copies a C selection into a Selection and frees it."""
    ptr = ctypes.c_void_p(ptr)
    try:
        n = L.subsel_selection_count(ptr)
        def arr(addr, ctype, dtype):
            if n == 0:
                return np.empty(0, dtype)
            return np.ctypeslib.as_array((ctype * n).from_address(addr)).copy()
        code = L.subsel_selection_short_reason(ptr)
        return Selection(
            arr(L.subsel_selection_indices(ptr), ctypes.c_int64, np.int64),
            arr(L.subsel_selection_gains(ptr), ctypes.c_double, np.float64),
            L.subsel_selection_value(ptr), L.subsel_selection_evaluations(ptr),
            L.subsel_selection_budget(ptr),
            None if code == 0 else
            L.subsel_short_reason_string(code).decode(), code, seconds)
    finally:
        L.subsel_selection_free(ptr)


class Optimizer(_Handle):
    """A greedy-family maximiser: algorithm is one of naive, lazy,
    stochastic, lazier, double_greedy, double_greedy_random. Keyword
    parameters (budget, runs, ..., checkpoint_every) come from the
    library's table: see `Optimizer.params()`.

    initial: items every run starts from, in order (a warm start; the
      budget counts them): see set_initial().
    checkpoint: a file the run saves its selection to as it goes (every
      checkpoint_every items, and when cancelled or interrupted with
      Ctrl-C): see set_checkpoint().
    resume: a checkpoint to go on from, to the selection the run that
      wrote it would have made uninterrupted: see resume()."""

    _free_fn = staticmethod(L.subsel_optimizer_free)
    _kind = _lib.KIND_OPTIMIZER

    def __init__(self, algorithm: str = "lazy", *,
                 ctx: Optional[Context] = None, initial=None,
                 checkpoint=None, resume=None, **params):
        kind = _named(ALGORITHMS, "algorithm", algorithm)
        c = _ctx(ctx)
        super().__init__(_create(L.subsel_optimizer_create, c, kind))
        self.algorithm = algorithm
        for name, value in params.items():
            self[name] = value
        if initial is not None:
            self.set_initial(initial, ctx=c)
        if resume is not None:
            self.resume(resume, ctx=c)
        if checkpoint is not None:
            self.set_checkpoint(checkpoint, ctx=c)

    def set_initial(self, items, *, ctx: Optional[Context] = None) -> None:
        """Every run starts from `items` (integer indices, in order; None or
        empty clears them): the selection lists them first, then what the
        algorithm adds until the budget, which counts them. Negative or
        repeated indices raise InvalidArgument here; indices outside the
        pool and more items than the budget, at run()."""
        c = _ctx(ctx)
        a = np.asarray([] if items is None else items)
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"initial items must be integers, not {a.dtype}")
        a = _i64(a)
        check(L.subsel_optimizer_set_initial(c, self, a.ctypes.data, len(a)), c)

    def set_checkpoint(self, path, *, every: Optional[int] = None,
                       ctx: Optional[Context] = None) -> None:
        """Saves the selection so far to `path` (an .npz NumPy reads:
        selection, checkpoint record, reals) every `every` items (the
        checkpoint_every parameter; 0: only when cancelled), and when
        progress cancels the run or Ctrl-C interrupts it. None: no
        checkpoint."""
        c = _ctx(ctx)
        check(L.subsel_optimizer_set_checkpoint(
            c, self, None if path is None else _path(path)), c)
        if every is not None:
            self["checkpoint_every"] = every

    def resume(self, path, *, ctx: Optional[Context] = None) -> None:
        """Goes on from the checkpoint at `path` at the next run(), which
        then returns what the run that wrote it would have returned
        uninterrupted (same items, gains and value). The run must be that
        run (algorithm, budget, seed, epsilon, pool) or run() raises
        InvalidArgument naming the difference."""
        c = _ctx(ctx)
        check(L.subsel_optimizer_resume(c, self, _path(path)), c)

    @staticmethod
    def params() -> dict:
        return dict(_params.of_kind(_lib.KIND_OPTIMIZER))

    def __setitem__(self, name: str, value) -> None:
        _params.set_value(default_context(), self, self._kind, name, value)

    def __getitem__(self, name: str):
        return _params.get_value(default_context(), self, self._kind, name)

    @classmethod
    def _wrap(cls, ptr: int, algorithm: str) -> "Optimizer":
        self = cls.__new__(cls)
        _Handle.__init__(self, ptr)
        self.algorithm = algorithm
        return self

    def run(self, objective: Objective, *, ctx: Optional[Context] = None,
            progress=None) -> Selection:
        """Maximises `objective`. The GIL is released while it runs; Ctrl-C
        cancels it (KeyboardInterrupt). `progress(stage, done, total)` is
        called between steps; returning True cancels (subsel.Cancelled), and
        progress=True shows a tqdm bar."""
        return _run_selection(L.subsel_optimizer_run, ctx, progress, self,
                              objective)


def _run_selection(fn, ctx, progress, *args, extra_out: bool = False):
    """Calls fn(ctx, *args, &out[, &out2]) with progress and timing, and
    returns the Selection (or two)."""
    c = _ctx(ctx)
    out, out2 = ctypes.c_void_p(), ctypes.c_void_p()
    outs = (ctypes.byref(out), ctypes.byref(out2)) if extra_out else \
        (ctypes.byref(out),)
    start = time.perf_counter()
    _call_with_progress(c, fn, c, *args, *outs, progress=progress)
    seconds = time.perf_counter() - start
    if extra_out:
        return _selection(out.value, seconds), _selection(out2.value, seconds)
    return _selection(out.value, seconds)


def _call_with_progress(ctx: Context, fn, *args, progress=None) -> int:
    """ctx._call(fn, *args) with `progress` a callable, None, or True for
    a tqdm bar (closed when the call ends, however it ends)."""
    cb = _progress_bar() if progress is True else progress
    try:
        return ctx._call(fn, *args, progress=cb)
    finally:
        if progress is True:
            cb.close()


class _progress_bar:
    """A tqdm bar fed by the progress callback (tqdm is optional)."""

    def __init__(self):
        try:
            from tqdm import tqdm
        except ImportError as exc:
            raise ImportError("progress=True needs tqdm (Debian: "
                              "python3-tqdm)") from exc
        self._tqdm, self._bar, self._stage = tqdm, None, None

    def __call__(self, stage, done, total):
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = self._tqdm(total=total or None, desc=stage)
        self._bar.n = done
        self._bar.refresh()
        return False

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
