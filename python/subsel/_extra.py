# SPDX-License-Identifier: MIT
"""The SAE encoder, optimal transport and UniPROT, on the handles of _core."""
from __future__ import annotations

import ctypes
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _lib, _params
from ._core import (CSR, Context, Dense, Objective, _create, _ctx, _f64,
                    _Handle, _i64, _named, _path, _run_selection, csr,
                    dense)
from .errors import NumericError, check

L = _lib.lib


class SAE(_Handle):
    """A TopK sparse autoencoder's encoder, h(x) = TopK(ReLU(W_enc (x -
    b_dec) + b_enc)): dense embeddings to the sparse codes SDM selects on.

    w_enc: features x inputs array (borrowed when float32, see dense());
    b_enc (features) and b_dec (inputs): biases, None for zeros.
    """

    _free_fn = staticmethod(L.subsel_sae_free)

    def __init__(self, w_enc, b_enc=None, b_dec=None, *,
                 ctx: Optional[Context] = None, _ptr: int = 0):
        if _ptr:  # from SAE.load()
            super().__init__(_ptr)
            return
        c = _ctx(ctx)
        w = dense(w_enc, ctx=c)
        be = None if b_enc is None else np.ascontiguousarray(b_enc, np.float32)
        bd = None if b_dec is None else np.ascontiguousarray(b_dec, np.float32)
        ptr = _create(L.subsel_sae_create, c, w,
                      None if be is None else be.ctypes.data,
                      None if bd is None else bd.ctypes.data)
        super().__init__(ptr, (w,))  # biases are copied by the library

    @classmethod
    def load(cls, directory, *, ctx: Optional[Context] = None) -> "SAE":
        """Loads W_enc.npy, b_enc.npy and b_dec.npy from `directory`."""
        c = _ctx(ctx)
        out = ctypes.c_void_p()
        c._call(L.subsel_sae_load, c, _path(directory),
                ctypes.byref(out))
        return cls(None, _ptr=out.value)

    @property
    def inputs(self) -> int:
        return L.subsel_sae_inputs(self)

    @property
    def features(self) -> int:
        return L.subsel_sae_features(self)

    def encode(self, x, k: int, *, ctx: Optional[Context] = None,
               progress=None) -> CSR:
        """Codes of the rows of `x` (rows x inputs): the k largest positive
        activations of each row, as a CSR matrix owned by the library."""
        c = _ctx(ctx)
        xd = dense(x, ctx=c)
        out = ctypes.c_void_p()
        c._call(L.subsel_sae_encode, c, self, xd, k, ctypes.byref(out),
                progress=progress)
        return CSR(out.value)


@dataclass(frozen=True)
class SAEScores:
    """The MS and MT scores of sparse codes (subsel.sae_scores()): the means
    ms and mt over the latents that have a score, how many do (ms_latents,
    mt_latents), and the score of every latent (NaN: fewer than 2 rows)."""
    ms: float
    mt: float
    ms_latents: int
    mt_latents: int
    ms_per_latent: np.ndarray
    mt_per_latent: np.ndarray


def sae_scores(x, codes, *, ctx: Optional[Context] = None,
               progress=None) -> SAEScores:
    """Monosemanticity (MS) and Monotonicity (MT) of the latents of sparse
    codes (SDM paper, section 3.4): how interpretable an encoder is on a
    sample of inputs. Returns an SAEScores.

    x: the inputs, rows x d (as encoded; borrowed when float32).
    codes: their codes, rows x features (a scipy.sparse matrix or a CSR,
      e.g. SAE.encode(x, k)); an entry > 0 means the row activates the
      latent.
    Of each latent, over its activating rows: MS, the mean pairwise cosine
    similarity (rows of zero norm left out); MT, the mean inner product
    <x_a, x_b> of neighbours when sorted by activation, largest first (ties:
    lower row first). Unlike the paper, MT sorts only the activating rows,
    not every row. A latent with fewer than 2 rows has no score (NaN) and
    is left out of the means.
    ctx, progress: as subsel.sdm() (stage "scores").
    """
    c = _ctx(ctx)
    xd = dense(x, ctx=c)
    z = csr(codes, ctx=c)
    features = z.shape[1]
    ms_l, mt_l = np.empty(features), np.empty(features)
    ms, mt = ctypes.c_double(), ctypes.c_double()
    ms_n, mt_n = ctypes.c_int64(), ctypes.c_int64()
    c._call(L.subsel_sae_scores, c, xd, z, ctypes.byref(ms), ctypes.byref(mt),
            ctypes.byref(ms_n), ctypes.byref(mt_n), ms_l.ctypes.data,
            features, mt_l.ctypes.data, features, progress=progress)
    return SAEScores(ms.value, mt.value, ms_n.value, mt_n.value, ms_l, mt_l)


# --------------------------------------------------------------------------
# Optimal transport
# --------------------------------------------------------------------------

COSTS = {"sqeuclidean": 0, "euclidean": 1, "cosine": 2}


@dataclass(frozen=True)
class Transport:
    """An entropic OT solution: plan (n x m), potentials f and g with
    plan = exp((f_i + g_j - C_ij) / reg), value <plan, C>, and the solver's
    iterations and final L1 marginal violation."""
    plan: np.ndarray
    f: np.ndarray
    g: np.ndarray
    value: float
    iterations: int
    violation: float


def _transport(partial: bool, a, b, cost, x, y, metric: str, reg: float,
               mass: Optional[float], ctx, progress, params) -> Transport:
    c = _ctx(ctx)
    if (cost is None) == (x is None or y is None):
        raise TypeError("give either cost= (n x m) or x= and y= (points)")
    if cost is not None:
        cm = np.ascontiguousarray(cost, dtype=np.float64)
        if cm.ndim != 2:
            raise ValueError("cost must be a 2-D array")
        n, m = cm.shape
    else:
        metric_kind = _named(COSTS, "metric", metric)
        xd, yd = dense(x, ctx=c), dense(y, ctx=c)
        n, m = xd.shape[0], yd.shape[0]
    av = None if a is None else _f64(a, "a")
    bv = None if b is None else _f64(b, "b")
    plan = np.empty((n, m), np.float64)
    f, g = np.empty(n), np.empty(m)
    value = ctypes.c_double()
    with OTSolver(ctx=c, **params) as solver:
        aptr = None if av is None else av.ctypes.data
        bptr = None if bv is None else bv.ctypes.data
        outs = (ctypes.byref(value), f.ctypes.data, n, g.ctypes.data, m,
                plan.ctypes.data, n * m)
        extra = (mass,) if partial else ()
        if cost is not None:
            fn = L.subsel_ot_partial_v2 if partial else L.subsel_ot_sinkhorn_v2
            c._call(fn, c, solver, aptr, n, bptr, m, cm.ctypes.data, reg,
                    *extra, *outs, progress=progress)
        else:
            fn = (L.subsel_ot_partial_points_v2 if partial
                  else L.subsel_ot_sinkhorn_points_v2)
            c._call(fn, c, solver, aptr, xd, bptr, yd, metric_kind, reg,
                    *extra, *outs, progress=progress)
        return Transport(plan, f, g, value.value,
                         L.subsel_ot_solver_iterations(solver),
                         L.subsel_ot_solver_violation(solver))


class OTSolver(_Handle):
    """Options of OT solves (max_iter, tol, anneal, ...: from the library's
    table); used by sinkhorn() and partial_ot()."""

    _free_fn = staticmethod(L.subsel_ot_solver_free)
    _kind = _lib.KIND_OT_SOLVER

    def __init__(self, *, ctx: Optional[Context] = None, **params):
        c = _ctx(ctx)
        super().__init__(_create(L.subsel_ot_solver_create, c))
        for name, value in params.items():
            _params.set_value(c, self, self._kind, name, value)


def sinkhorn(a=None, b=None, *, reg: float, cost=None, x=None, y=None,
             metric: str = "sqeuclidean", ctx: Optional[Context] = None,
             progress=None, **params) -> Transport:
    """Balanced entropic OT (POT's ot.sinkhorn): min <P, C> + reg sum P
    (log P - 1) with P 1 = a, P^T 1 = b. Returns a Transport.

    a, b: positive masses of the n sources and m targets with equal
      totals; None for uniform (1/n, 1/m), the usual choice.
    reg: entropic regularisation (> 0), in the units of the costs: about
      1e-2 to 1e-1 of the typical cost gives a plan close to exact OT;
      larger smooths it towards the uniform a b^T. Stable for any reg
      (log domain), smaller only takes more iterations.
    cost: an n x m cost matrix, when you have one.
    x, y, metric: or point clouds (n x d, m x d) and the cost between
      their rows: sqeuclidean (the usual), euclidean or cosine, computed
      in tiles (no n x m matrix unless it fits the solver's memory).
    ctx, progress: as subsel.sdm().
"""
    return _transport(False, a, b, cost, x, y, metric, reg, None, ctx,
                      progress, params)


def partial_ot(a=None, b=None, *, reg: float, mass: float, cost=None, x=None,
               y=None, metric: str = "sqeuclidean",
               ctx: Optional[Context] = None, progress=None,
               **params) -> Transport:
    """Entropic partial OT (POT's entropic_partial_wasserstein): moves only
    `mass` with P 1 <= a, P^T 1 <= b, so outliers on either side can stay
    unmatched. Returns a Transport.

    mass: in (0, min(sum a, sum b)]: the share of the data to match;
      e.g. 0.9 of unit totals ignores the worst-matched 10 %.
    a, b, reg, cost, x, y, metric, ctx, progress: as sinkhorn().
"""
    return _transport(True, a, b, cost, x, y, metric, reg, mass, ctx,
                      progress, params)


# --------------------------------------------------------------------------
# UniPROT
# --------------------------------------------------------------------------

SIMILARITIES = {"cosine": 0, "dot": 1, "neg_sqeuclidean": 2, "neg_euclidean": 3}
UPDATES = {"solve": 0, "append": 1}


class UniPROT(Objective):
    """UniPROT: choose k prototypes among the rows of `similarity` (|S| x n,
    candidates x targets) that cover the targets evenly by entropic
    transport; or from features: `UniPROT(source=..., target=...,
    similarity="cosine", k=..., reg=...)`. Parameters (gain, update, tol,
    max_iter, gain_memory) from the library's table as keywords."""

    _kind = _lib.KIND_UNIPROT

    def __init__(self, similarity=None, *, k: int, reg: float, source=None,
                 target=None, ctx: Optional[Context] = None, **params):
        c = _ctx(ctx)
        if similarity is not None and not isinstance(similarity, str):
            s = dense(similarity, ctx=c)
            self._targets = s.shape[1]
            ptr = _create(L.subsel_uniprot_create, c, s, k, reg)
            keep = (s,)
        else:
            sim = _similarity(similarity or "cosine")
            sd, td = dense(source, ctx=c), dense(target, ctx=c)
            self._targets = td.shape[0]
            ptr = _create(L.subsel_uniprot_create_from_features, c, sd, td,
                          sim, k, reg)
            keep = ()  # the objective computed S and keeps nothing else
        super().__init__(ptr, keep)
        for name, value in params.items():
            _params.set_value(c, self, self._kind, name, value)

    def plan(self, indices, *, ctx: Optional[Context] = None):
        """(plan, value): the optimal transport plan of the prototypes
        `indices` (len(indices) x targets) and f(indices)."""
        c, s = _ctx(ctx), _i64(indices)
        plan = np.empty((s.size, self._targets))
        v = ctypes.c_double()
        check(L.subsel_uniprot_plan_v2(c, self, s.ctypes.data, s.size,
                                       plan.ctypes.data, plan.size,
                                       ctypes.byref(v)), c)
        return plan, v.value

    def transport_similarity(self, indices, *,
                             ctx: Optional[Context] = None):
        """(similarity, value) of the prototypes `indices`: the paper's
        objective f = <S_P, G>, the similarity the optimal entropic plan G
        carries (without the entropy term), and the entropic value
        f(indices) = <S_P, G> + reg H(G) the optimizers maximise."""
        c, s = _ctx(ctx), _i64(indices)
        f, v = ctypes.c_double(), ctypes.c_double()
        check(L.subsel_uniprot_transport_similarity(
            c, self, s.ctypes.data, s.size, ctypes.byref(f),
            ctypes.byref(v)), c)
        return f.value, v.value

    @staticmethod
    def select_batch(batch, fraction: float, *, reg: float = 0.01,
                     similarity: str = "cosine", sources=None,
                     update: str = "append",
                     ctx: Optional[Context] = None, progress=None):
        """Per-batch UniPROT, the modes of the paper's supplement: with
        sources None, UniPROT-PB, round(fraction * B) (at least 1) rows of
        `batch` (B x d, e.g. per-example gradient features) chosen as
        prototypes of the batch itself; with `sources`, UniPROT-PS,
        round(fraction * B_q) rows of each source q as prototypes of its
        own rows. Returns a Selection: batch rows, source by source in
        increasing label order, each in the order chosen; its value is the
        sum of the sources' final values (f with update="solve", the
        appended plans' lower bounds of f with "append").

        batch: B x d float array (borrowed when float32), one row per
          example; per-example gradients or embeddings.
        fraction: in (0, 1], the share of the batch (or of each source) to
          keep.
        reg: entropic regularisation (> 0), default the paper's 0.01
          (0.05 before 0.15); smaller spreads the prototypes more
          strictly over the batch, larger smooths towards uniform.
        similarity: cosine (scale-free, the usual choice), dot,
          neg_sqeuclidean or neg_euclidean.
        sources: None, or B integer labels (the dataset each example
          comes from).
        update: "append" (default: no OT solve at all, cheap enough for
          every training step) or "solve" (re-solve the partial OT problem
          after every prototype, as the paper does; tens of times slower).
        ctx, progress: as subsel.sdm().
        """
        c = _ctx(ctx)
        b = dense(batch, ctx=c)
        src = None
        if sources is not None:
            src = _i64(sources)
            if src.size != b.shape[0]:
                raise ValueError(f"select_batch: {src.size} sources for "
                                 f"{b.shape[0]} rows")
        return _run_selection(L.subsel_uniprot_select_batch_v2, c, progress,
                              b, None if src is None else src.ctypes.data,
                              fraction, reg, _similarity(similarity),
                              _named(UPDATES, "update", update))


def _similarity(name: str) -> int:
    return _named(SIMILARITIES, "similarity", name)


def nn_accuracy(source, source_labels, prototypes, target, target_labels, *,
                similarity: str = "cosine",
                ctx: Optional[Context] = None) -> float:
    """The UniPROT paper's evaluation: each row of `target` takes the label
    of its most similar prototype (rows `prototypes` of `source`; ties to
    the earliest), and the result is the fraction of targets whose label
    that is. Labels are any integers."""
    c = _ctx(ctx)
    sd, td = dense(source, ctx=c), dense(target, ctx=c)
    sl, tl, p = _i64(source_labels), _i64(target_labels), _i64(prototypes)
    if sl.size != sd.shape[0] or tl.size != td.shape[0]:
        # The library takes the label arrays without their length.
        raise ValueError(f"nn_accuracy: {sl.size} source labels for "
                         f"{sd.shape[0]} rows, {tl.size} target labels for "
                         f"{td.shape[0]} rows")
    acc = ctypes.c_double()
    check(L.subsel_nn_accuracy(c, sd, sl.ctypes.data, p.ctypes.data, p.size,
                               td, tl.ctypes.data, _similarity(similarity),
                               ctypes.byref(acc)), c)
    return acc.value


# --------------------------------------------------------------------------
# TAROT, ClipCov, double greedy
# --------------------------------------------------------------------------

PROJECTIONS = {"rademacher": 0, "gaussian": 1}


@dataclass(frozen=True)
class TarotOT:
    """OT between a TAROT selection and the targets: potentials f (one per
    selected candidate: smaller is more useful) and g (one per target),
    and the loss mean(f) + mean(g)."""
    f: np.ndarray
    g: np.ndarray
    loss: float


# TAROT's k of its k-fold OTM (section 4.3: "k = 10 ensures a good match
# with the target distribution while avoiding overfitting"); 5 before 0.15.
PAPER_FOLDS = 10


class Tarot(_Handle):
    """TAROT: select candidates whose whitened features match the targets'
    by optimal transport. candidates (N x d) and targets (M x d) are
    borrowed when float32 (see dense()); parameters (proj_dim, whiten,
    reference, max_rank, eps, blur, scaling, ...) from the library's table
    as keywords or t["name"] = value."""

    _free_fn = staticmethod(L.subsel_tarot_free)
    _kind = _lib.KIND_TAROT

    def __init__(self, candidates, targets, *, ctx: Optional[Context] = None,
                 **params):
        c = _ctx(ctx)
        cd, td = dense(candidates, ctx=c), dense(targets, ctx=c)
        self.candidates, self.targets = cd.shape[0], td.shape[0]
        super().__init__(_create(L.subsel_tarot_create, c, cd, td), (cd, td))
        for name, value in params.items():
            self[name] = value

    def __setitem__(self, name, value):
        c = _ctx(None)
        _params.set_value(c, self, self._kind, name, value)

    def __getitem__(self, name):
        return _params.get_value(_ctx(None), self, self._kind, name)

    @staticmethod
    def project(x, dim: int, *, kind: str = "rademacher", block: int = 0,
                ctx: Optional[Context] = None, progress=None) -> Dense:
        """The seeded random projection x P / sqrt(dim) of every row of `x`
        (rows x D) to `dim` columns (P from the context's seed). A row's
        projection depends only on the row, seed, dim and kind, so a pool
        can be projected in batches. kind: rademacher (+-1, the default)
        or gaussian. block: input columns of P held at once (0: as many as
        fit in 64 MiB; does not change the result)."""
        c = _ctx(ctx)
        projection = _named(PROJECTIONS, "projection", kind)
        xd = dense(x, ctx=c)
        out = ctypes.c_void_p()
        c._call(L.subsel_tarot_project, c, xd, dim, projection, block,
                ctypes.byref(out), progress=progress)
        return Dense(out.value)

    def whiten(self, *, ctx: Optional[Context] = None, progress=None):
        """(U, V): the whitened unit rows of the candidates (N x dim) and
        targets (M x dim) as Dense views of the selector's memory (no
        copy; .to_numpy() copies). Computed once; the views stay valid
        after the selector is closed."""
        c = _ctx(ctx)
        u, v = ctypes.c_void_p(), ctypes.c_void_p()
        c._call(L.subsel_tarot_whiten, c, self, ctypes.byref(u),
                ctypes.byref(v), progress=progress)
        # C: each view holds a reference on the selector. Python: the
        # views keep what the selector keeps (the borrowed input arrays).
        return Dense(u.value, self._keep), Dense(v.value, self._keep)

    def scores(self, candidates: slice = slice(None),
               targets: slice = slice(None), *, distances: bool = False,
               ctx: Optional[Context] = None):
        """Cosine scores u . v of the whitened candidates and targets
        (a float32 array, candidates x targets, for contiguous ranges
        given as slices), and with distances=True also the whitened
        feature distances |u - v|: (scores, distances)."""
        c = _ctx(ctx)
        (c0, nc), (t0, nt) = (_range(candidates, self.candidates, "candidates"),
                              _range(targets, self.targets, "targets"))
        sc = np.empty((nc, nt), np.float32)
        di = np.empty((nc, nt), np.float32) if distances else None
        check(L.subsel_tarot_scores_v2(
            c, self, c0, nc, t0, nt, sc.ctypes.data, sc.size,
            None if di is None else di.ctypes.data,
            0 if di is None else di.size), c)
        return (sc, di) if distances else sc

    def topk(self, k: int, *, ctx: Optional[Context] = None, progress=None):
        """(indices, scores): every target's k best candidates, best first
        (M x k int64 and float32). Kept, so a later selection needing at
        most k ranks reuses it."""
        c = _ctx(ctx)
        idx = np.empty((self.targets, k), np.int64) if k > 0 else \
            np.empty((self.targets, 0), np.int64)
        sc = np.empty(idx.shape, np.float32)
        c._call(L.subsel_tarot_topk_v2, c, self, k, idx.ctypes.data, idx.size,
                sc.ctypes.data, sc.size, progress=progress)
        return idx, sc

    def ot(self, indices=None, *, ctx: Optional[Context] = None,
           progress=None) -> TarotOT:
        """Balanced OT (cost |u - v|, annealed to blur^2) between the
        whitened candidates `indices` (None: all, in order) and all the
        targets."""
        c = _ctx(ctx)
        s = None if indices is None else _i64(indices)
        n = self.candidates if s is None else s.size
        f, g = np.empty(n), np.empty(self.targets)
        loss = ctypes.c_double()
        c._call(L.subsel_tarot_ot_v2, c, self,
                None if s is None else s.ctypes.data, n, f.ctypes.data,
                f.size, g.ctypes.data, g.size, ctypes.byref(loss),
                progress=progress)
        return TarotOT(f, g, loss.value)

    @staticmethod
    def weights(potentials, total: int, *,
                ctx: Optional[Context] = None) -> np.ndarray:
        """Integer repetition counts summing exactly to `total` (at least
        len(potentials), at most 2^53; the paper uses N + M) from the OT
        potentials of a selection (its gains): each item gets 1, the rest
        is shared in proportion to max(potentials) - potential."""
        c, p = _ctx(ctx), _f64(potentials, "potentials")
        out = np.empty(p.size, np.int64)
        check(L.subsel_tarot_weights_v2(c, p.ctypes.data, p.size, total,
                                        out.ctypes.data, out.size), c)
        return out

    @staticmethod
    def weights_reference(potentials, targets: int, total: int, *,
                          ctx: Optional[Context] = None) -> np.ndarray:
        """The TAROT authors' weights: len(potentials) + targets counts
        (the targets' last) summing to `total` (the authors use N)."""
        c, p = _ctx(ctx), _f64(potentials, "potentials")
        out = np.empty(p.size + max(targets, 0), np.int64)
        check(L.subsel_tarot_weights_reference_v2(
            c, p.ctypes.data, p.size, targets, total, out.ctypes.data,
            out.size), c)
        return out

    def select_fixed(self, budget: int, *, ctx: Optional[Context] = None,
                     progress=None):
        """The `budget` candidates nearest the targets, rank by rank."""
        return _run_selection(L.subsel_tarot_select_fixed, ctx, progress,
                              self, budget)

    def folds(self, folds: int = PAPER_FOLDS, *,
              ctx: Optional[Context] = None):
        """A seeded fold number per target (the context's seed), in
        `folds` folds (the paper's 10 by default)."""
        c = _ctx(ctx)
        out = np.empty(self.targets, np.int64)
        check(L.subsel_tarot_folds_v2(c, self.targets, folds, out.ctypes.data,
                                      out.size), c)
        return out

    def select_otm(self, folds: Optional[int] = None, fold_of_target=None,
                   *, ctx: Optional[Context] = None, progress=None):
        """Optimal-transport-minimising size: grows the selection and keeps
        the size whose held-out OT loss is smallest. folds: the number of
        target folds; None for the paper's 10 (capped at the number of
        targets), or with fold_of_target the folds it names (its largest
        value + 1), as `subsel tarot --otm` does. fold_of_target: the fold
        of each target, or None for folds(folds)."""
        if fold_of_target is not None:
            f = _i64(fold_of_target)
            if folds is None:
                folds = int(f.max()) + 1 if f.size else 0
        else:
            if folds is None:
                folds = min(PAPER_FOLDS, self.targets)
            f = self.folds(folds, ctx=ctx)
        return _run_selection(L.subsel_tarot_select_otm, ctx, progress, self,
                              folds, f.ctypes.data)


def _range(s: slice, n: int, what: str) -> tuple[int, int]:
    """(first, count) of a contiguous slice of range(n)."""
    if not isinstance(s, slice) or s.step not in (None, 1):
        raise TypeError(f"{what}: a contiguous slice, such as 0:10")
    first, stop, _ = s.indices(n)
    return first, max(stop - first, 0)


# SUBSEL_CLIPCOV_FILTER_*.
FILTERS = {"none": 0, "deterministic": 1, "randomized": 2}


class ClipCov(Objective):
    """ClipCov over n image-caption pairs: image and text (n x d), and
    label_embeddings (K x d) with labels (n class numbers) or None for
    zero-shot classes. normalize=True divides every embedding by its norm
    (off by default, as in the CLI). alpha="auto" (the default, as the
    CLI's) sets the paper's alpha from the data (data_alpha(): the average
    cross-modal similarity over the average text similarity of the pool);
    a number sets it (the paper finds about 0.5, the library's own
    default). alpha_source says which ("data" or "given"; "fallback" when
    the pool has no usable ratio, e.g. centred embeddings: then 0.5, with a
    RuntimeWarning). Weights from the
    library's table (weight_intra, ...) as keywords."""

    _kind = _lib.KIND_CLIPCOV

    def __init__(self, image, text, label_embeddings=None, labels=None, *,
                 normalize: bool = False, alpha="auto",
                 ctx: Optional[Context] = None, progress=None, **params):
        c = _ctx(ctx)
        im, tx = dense(image, ctx=c), dense(text, ctx=c)
        le = None if label_embeddings is None else dense(label_embeddings,
                                                         ctx=c)
        lab = None if labels is None else _i64(labels)
        out = ctypes.c_void_p()
        c._call(L.subsel_clipcov_create, c, im, tx, le,
                None if lab is None else lab.ctypes.data, int(normalize),
                ctypes.byref(out), progress=progress)
        super().__init__(out.value, (im, tx) + (() if le is None else (le,)))
        for name, value in params.items():
            _params.set_value(c, self, self._kind, name, value)
        if isinstance(alpha, str):
            if alpha != "auto":
                raise ValueError(f"alpha: 'auto' or a number >= 0, not "
                                 f"{alpha!r}")
            try:
                alpha, self.alpha_source = self.data_alpha(ctx=c), "data"
            except NumericError as e:
                # centred embeddings: both averages near 0, no ratio
                warnings.warn(f"ClipCov alpha='auto': {e}; using 0.5, the "
                              f"paper's reported value", RuntimeWarning,
                              stacklevel=2)
                alpha, self.alpha_source = 0.5, "fallback"
        else:
            self.alpha_source = "given"
        _params.set_value(c, self, self._kind, "alpha", alpha)

    def data_alpha(self, *, ctx: Optional[Context] = None) -> float:
        """The paper's alpha for this pool (appendix A.3): the mean of
        sim(i, j) = x_V(i).x_L(j) + x_V(j).x_L(i) over all ordered pairs
        over the mean of x_L(i).x_L(j), with the embeddings as the
        objective uses them. Raises NumericError when the text average is
        not positive or the ratio is negative (then pass a number)."""
        c = _ctx(ctx)
        out = ctypes.c_double()
        check(L.subsel_clipcov_data_alpha(c, self, ctypes.byref(out)), c)
        return out.value

    @property
    def alpha(self) -> float:
        """The alpha in use (from the data or as given)."""
        return _params.get_value(_ctx(None), self, self._kind, "alpha")

    def classes(self, *, ctx: Optional[Context] = None) -> np.ndarray:
        """The class of every pair."""
        c = _ctx(ctx)
        out = np.empty(len(self), np.int64)
        check(L.subsel_clipcov_classes(c, self, out.ctypes.data, out.size),
              c)
        return out

    def check_submodular(self, *, exact: bool = False,
                         ctx: Optional[Context] = None,
                         progress=None) -> bool:
        """Whether F is known to be submodular: with exact=False what
        construction proved cheaply (False: not proven); with exact=True
        settled by computing every within-class similarity (about
        2 sum_k |V_k|^2 d multiply-adds). Once proven, lazy and lazier
        optimizers accept the objective."""
        c = _ctx(ctx)
        out = ctypes.c_int()
        c._call(L.subsel_clipcov_check_submodular, c, self, int(exact),
                ctypes.byref(out), progress=progress)
        return bool(out.value)

    def optimizer(self, budget: int, *, ctx: Optional[Context] = None):
        """The greedy optimizer ClipCov should run (lazy when F is proven
        submodular, else stochastic), to change before select()."""
        from ._core import Optimizer
        c = _ctx(ctx)
        ptr = _create(L.subsel_clipcov_optimizer, c, self, budget)
        return Optimizer._wrap(ptr, "clipcov")

    def select(self, budget: int, *, filter: str = "deterministic",
               greedy=None, ctx: Optional[Context] = None, progress=None):
        """The paper's Algorithm 1: greedy to `budget` (or the given
        Optimizer), then the double greedy filter: "deterministic"
        (default, as the CLI), "randomized" (coins from the context's seed)
        or "none". Returns (selection, greedy selection)."""
        kind = _named(FILTERS, "filter", filter)
        opt = greedy if greedy is not None else self.optimizer(budget, ctx=ctx)
        return _run_selection(L.subsel_clipcov_select, ctx, progress, self,
                              opt, kind, extra_out=True)


def double_greedy(objective, ground=None, *, randomized: bool = False,
                  ctx: Optional[Context] = None, progress=None):
    """Double greedy (Buchbinder et al.) for non-monotone objectives such
    as ClipCov: decides every item of `ground` once, keeping it if that
    helps more than dropping it; chooses its own size. Returns a
    Selection.

    objective: any objective of the package (ClipCov, FB, SDM, ...).
    ground: the items to decide, in visiting order (e.g. a greedy
      selection, to filter it); None for all items in index order.
    randomized: False (deterministic, a 1/3 guarantee) or True (coins
      from the context's seed, 1/2 in expectation); try both when it
      matters.
    ctx, progress: as subsel.sdm().
    """
    g = None if ground is None else _i64(ground)
    return _run_selection(L.subsel_double_greedy, ctx, progress, objective,
                          None if g is None else g.ctypes.data,
                          0 if g is None else g.size, int(randomized))
