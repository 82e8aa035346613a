# SPDX-License-Identifier: MIT
"""Multimodal dataset distillation (since 0.11): LoRS, over subsel_lors_*
(lib/lors). Expert trajectories, trajectory matching, evaluation by
retrieval recall and the coreset baselines, on one handle whose parameters
come from the library's table (_params.py). Like SAETrainer, the handle
keeps one context: the seed is read when the handle is made, the thread
count serves every call.
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional

import numpy as np

from . import _lib, _params
from ._core import (Context, _call_with_progress, _Handle, _named,
                    _own_context, _path, dense, dense_npy_shape)
from .errors import check

L = _lib.lib

#: subsel_lors_baseline()'s methods (SUBSEL_LORS_BASELINE_*).
BASELINES = {"random": 0, "kcenter": 1, "herding": 2}

#: The keys of evaluate()'s result, in SUBSEL_LORS_IR1 ... order: IR is
#: text-to-image retrieval, TR image-to-text.
RECALLS = ("IR@1", "IR@5", "IR@10", "TR@1", "TR@5", "TR@10")

#: Names the integer choices of the parameter table also accept (the
#: SUBSEL_LORS_TOWER_*, _LOSS_*, _SIM_* and _INIT_* values); reading a
#: parameter gives the number.
CHOICES = {
    "tower": {"linear": 0, "head": 1},
    "loss": {"infonce": 0, "ence": 1, "bce": 2, "wbce": 3},
    "similarity": {"identity": 0, "lowrank": 1, "full": 2},
    "init": {"real": 0, "noise": 1},
}


def _choice(table: dict, what: str, value):
    """`value` itself, or the number a name in `table` stands for."""
    if not isinstance(value, str):
        return value
    return _named(table, what, value)


def _matrix2d(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x columns), not "
                         f"{a.ndim}-D")
    return a


class LoRS(_Handle):
    """Distils image-text pairs into a few synthetic pairs and a learned
    soft similarity between them (LoRS, Xu et al. 2024; docs/lors.md), in
    embedding space: rows of frozen image and text embeddings, matched by
    two small towers into a joint space.

    image_dim, text_dim: the embedding widths of images and of texts.
    seed: of every random choice (experts, distillation, evaluation,
      baselines; the library's default when None); the handle keeps it.
    threads: threads of every call (None: every CPU). Results are the same
      bits on any thread count.
    ctx: a Context to use for every call instead of one made from seed and
      threads (not with them).
    Other keywords are parameters of the library's table, also read and
    set as l["name"]; tower, loss, similarity and init also take the names
    of LoRS.CHOICES (l["loss"] = "ence"). Those that shape the synthetic set
    (tower, embed_dim, temperature, learn_temperature, similarity, rank,
    alpha, pairs, init) raise StateError once distillation has started.

    l.buffer(images, texts, dir) trains the experts; l.distill(dir,
    iterations, images, texts) matches their trajectories; l.synthetic(),
    l.similarity() and l.eta give the result; l.evaluate(...) measures
    retrieval; l.save(dir) / LoRS.load(dir) checkpoint and resume;
    l.baseline(method, images, texts, count) picks real pairs to compare.
    """

    _free_fn = staticmethod(L.subsel_lors_free)
    _kind = _lib.KIND_LORS
    BASELINES, RECALLS, CHOICES = BASELINES, RECALLS, CHOICES

    def __init__(self, image_dim: int, text_dim: int, *,
                 seed: Optional[int] = None, threads: Optional[int] = None,
                 ctx: Optional[Context] = None, **params):
        c = _own_context("LoRS", ctx, seed=seed, threads=threads)
        out = ctypes.c_void_p()
        c._call(L.subsel_lors_create, c, image_dim, text_dim,
                ctypes.byref(out))
        self._setup(out.value, c, image_dim, text_dim)
        for name, value in params.items():
            self[name] = value

    def _setup(self, ptr: int, ctx: Context, image_dim: int,
               text_dim: int) -> None:
        _Handle.__init__(self, ptr, (ctx,))
        self._ctx = ctx
        self._image_dim, self._text_dim = image_dim, text_dim

    @classmethod
    def load(cls, directory, *, threads: Optional[int] = None,
             ctx: Optional[Context] = None) -> "LoRS":
        """A handle from a folder of save(): the same parameters and seed,
        the distilled set, and distill() continues bit for bit where the
        saved handle stopped. threads and ctx as for LoRS()."""
        c = _own_context("LoRS", ctx, threads=threads)
        out = ctypes.c_void_p()
        c._call(L.subsel_lors_load, c, _path(directory), ctypes.byref(out))
        self = cls.__new__(cls)
        _Handle.__init__(self, out.value)  # freed if what follows fails
        folder = os.fsencode(directory)
        _, image_dim = dense_npy_shape(os.path.join(folder, b"images.npy"),
                                       ctx=c)
        _, text_dim = dense_npy_shape(os.path.join(folder, b"texts.npy"),
                                      ctx=c)
        self._setup(self._ptr, c, image_dim, text_dim)
        return self

    @staticmethod
    def params() -> dict:
        return dict(_params.of_kind(_lib.KIND_LORS))

    def __setitem__(self, name: str, value) -> None:
        value = _choice(CHOICES.get(name, {}), name, value)
        _params.set_value(self._ctx, self, self._kind, name, value)

    def __getitem__(self, name: str):
        return _params.get_value(self._ctx, self, self._kind, name)

    def __repr__(self) -> str:
        if not self._ptr:
            return "<subsel.LoRS (closed)>"
        return (f"<subsel.LoRS images {self._image_dim}, texts "
                f"{self._text_dim} -> {self['pairs']} pairs, "
                f"{self.iterations} iterations>")

    @property
    def image_dim(self) -> int:
        return self._image_dim

    @property
    def text_dim(self) -> int:
        return self._text_dim

    @property
    def context(self) -> Context:
        """The context of the handle's calls (its threads)."""
        return self._ctx

    @property
    def iterations(self) -> int:
        """Distillation iterations done (0 before the first)."""
        return L.subsel_lors_iterations(self)

    @property
    def last_loss(self) -> float:
        """The matching loss of the last iteration (NaN before the
        first): ||theta_T - theta_{s+M}||^2 / ||theta_s - theta_{s+M}||^2."""
        loss = ctypes.c_double()
        check(L.subsel_lors_last_loss(self._ctx, self, ctypes.byref(loss)),
              self._ctx)
        return loss.value

    @property
    def eta(self) -> tuple:
        """The learned step sizes (eta_image, eta_text) of the student
        towers; StateError before anything is distilled."""
        image, text = ctypes.c_double(), ctypes.c_double()
        check(L.subsel_lors_eta(self._ctx, self, ctypes.byref(image),
                                ctypes.byref(text)), self._ctx)
        return image.value, text.value

    def _pairs(self, images, texts) -> tuple:
        """Dense matrices of a set of pairs (the library checks that their
        rows agree and their columns are the handle's)."""
        return (dense(_matrix2d(images, "images"), ctx=self._ctx),
                dense(_matrix2d(texts, "texts"), ctx=self._ctx))

    def buffer(self, images, texts, out_dir, log=None, *,
               progress=None) -> None:
        """Trains `experts` experts (fresh towers, InfoNCE, SGD with
        expert_lr, batches of expert_batch) on the real pairs (row i of
        images with row i of texts; 2-D float16/32/64 arrays) for
        buffer_epochs epochs each, and writes their trajectories to the
        folder out_dir (created if missing): expert_0000.npy ... and
        meta.npy, which distill() reads.

        log: a file to append a JSON line per expert epoch to.
        progress: callable(stage, done, total) (stage "buffer", expert
          epochs) returning True to cancel (subsel.Cancelled), or True for
          a tqdm bar. Ctrl-C raises KeyboardInterrupt; either way the
          experts finished so far stay in out_dir and serve distill().
        """
        im, tx = self._pairs(images, texts)
        _call_with_progress(self._ctx, L.subsel_lors_buffer, self._ctx, self,
                            im, tx, _path(out_dir),
                            None if log is None else _path(log),
                            progress=progress)

    def distill(self, buffer_dir, iterations: int, images=None, texts=None,
                log=None, *, progress=None) -> float:
        """Runs `iterations` more iterations of trajectory matching against
        the experts in buffer_dir (from buffer() with the same tower
        parameters) and returns the last iteration's loss.

        images, texts: the real pairs, needed by the first call only (the
          synthetic set starts from `pairs` of them, or from noise of their
          statistics, as init says); later calls and loaded handles
          continue without them.
        log: a file to append a JSON line per iteration to.
        progress: callable(stage, done, total) (stage "distill": iterations
          done by this call) returning True to cancel (subsel.Cancelled),
          or True for a tqdm bar. Ctrl-C cancels between iterations and
          raises KeyboardInterrupt; either way the handle holds the
          iterations done, and distill() again continues from there as if
          never stopped.
        """
        if (images is None) != (texts is None):
            raise ValueError("distill() takes both images and texts, or "
                             "neither")
        im, tx = (None, None) if images is None else \
            self._pairs(images, texts)
        _call_with_progress(self._ctx, L.subsel_lors_distill, self._ctx,
                            self, im, tx, _path(buffer_dir), iterations,
                            None if log is None else _path(log),
                            progress=progress)
        return self.last_loss

    def synthetic(self) -> tuple:
        """Copies of the synthetic pairs: (images, texts), float32 arrays
        of pairs x image_dim and pairs x text_dim; StateError before
        anything is distilled."""
        n = self["pairs"]
        images = np.empty((n, self._image_dim), np.float32)
        texts = np.empty((n, self._text_dim), np.float32)
        check(L.subsel_lors_synthetic(self._ctx, self, images.ctypes.data,
                                      texts.ctypes.data), self._ctx)
        return images, texts

    def similarity(self) -> np.ndarray:
        """The learned similarity S~ between the synthetic pairs, pairs x
        pairs float32 (the identity when similarity is 0); StateError
        before anything is distilled."""
        n = self["pairs"]
        out = np.empty((n, n), np.float32)
        check(L.subsel_lors_similarity(self._ctx, self, out.ctypes.data),
              self._ctx)
        return out

    def save(self, directory) -> None:
        """Writes the distilled set and everything distill() needs to
        continue to `directory` (created if missing): images.npy,
        texts.npy, similarity.npy (float32), eta.npy, and the state
        LoRS.load() reads."""
        self._ctx._call(L.subsel_lors_save, self._ctx, self,
                        _path(directory))

    def evaluate(self, test_images, test_texts, text_image=None, *,
                 images=None, texts=None, similarity=None,
                 eta_image: float = 0.0, eta_text: float = 0.0,
                 progress=None) -> dict:
        """Trains fresh towers (drawn from the context's seed as it is now:
        set l.context["seed"] to evaluate over several seeds; eval_epochs
        epochs of SGD with
        eval_momentum and eval_weight_decay, the handle's loss) on a
        training set, then measures retrieval on held-out pairs. Returns
        the recalls, fractions in [0, 1]: {"IR@1": ..., "IR@5", "IR@10",
        "TR@1", "TR@5", "TR@10"} (IR: a text finds its image among the
        first K images; TR: an image finds one of its texts among the
        first K texts).

        test_images, test_texts: the held-out embeddings (2-D).
        text_image: for each test text, the row of its image (several texts
          may share an image, as COCO's five captions); None: text t
          belongs to image t (then the row counts agree).
        images, texts: the training pairs; None (the default) trains on the
          distilled set with its learned similarity and step sizes.
        similarity: the training pairs' target similarity, rows x rows
          (None: the identity); only with images.
        eta_image, eta_text: the towers' step sizes on the training pairs
          (<= 0: expert_lr); only with images.
        progress: as for distill() (stage "evaluate", epochs).
        """
        c = self._ctx
        if images is None:
            if texts is not None or similarity is not None \
                    or eta_image > 0 or eta_text > 0:
                raise ValueError("evaluate(): texts, similarity, eta_image "
                                 "and eta_text describe a training set "
                                 "given as images=; without it the "
                                 "distilled set is used")
            im = tx = sim = None
        else:
            if texts is None:
                raise ValueError("evaluate(): images= needs texts=")
            im, tx = self._pairs(images, texts)
            sim = None
            if similarity is not None:
                rows = im.shape[0]
                sim = np.ascontiguousarray(similarity, dtype=np.float32)
                if sim.shape != (rows, rows):
                    raise ValueError(f"evaluate(): similarity must be "
                                     f"{rows} x {rows} (the training "
                                     f"pairs), not {sim.shape}")
        ti, tt = (dense(_matrix2d(test_images, "test_images"), ctx=c),
                  dense(_matrix2d(test_texts, "test_texts"), ctx=c))
        owner = None
        if text_image is not None:
            owner = np.asarray(text_image)
            if owner.dtype.kind not in "iu":
                raise TypeError(f"evaluate(): text_image holds image rows "
                                f"(integers), not {owner.dtype}")
            owner = np.ascontiguousarray(owner, dtype=np.int64)
            if owner.shape != (tt.shape[0],):
                raise ValueError(f"evaluate(): text_image needs one image "
                                 f"row per test text ({tt.shape[0]}), not "
                                 f"shape {owner.shape}")
        out = np.empty(_lib.LORS_RECALLS)
        _call_with_progress(
            c, L.subsel_lors_evaluate, c, self, im, tx,
            None if sim is None else sim.ctypes.data, eta_image, eta_text,
            ti, tt, None if owner is None else owner.ctypes.data,
            out.ctypes.data, progress=progress)
        return dict(zip(RECALLS, (float(v) for v in out)))

    def baseline(self, method, images, texts, count: int) -> np.ndarray:
        """`count` real pairs chosen by a coreset baseline of the paper's
        tables, as int64 row indices in the order chosen. Each pair is
        described by its image and text embeddings, each scaled to unit
        length, side by side.

        method: "random" (a seeded sample), "kcenter" (farthest-first from
          a seeded first pair) or "herding" (each step the pair that brings
          the chosen pairs' mean closest to the mean of all), or the
          numbers of LoRS.BASELINES.
        """
        m = _choice(BASELINES, "baseline method", method)
        im, tx = self._pairs(images, texts)
        if not 1 <= count <= im.shape[0]:
            # The library checks it too, but only after `indices` would
            # have to hold `count` values.
            raise ValueError(f"baseline(): count {count} must be in "
                             f"[1, {im.shape[0]}], the pairs")
        out = np.empty(count, np.int64)
        check(L.subsel_lors_baseline(self._ctx, self, m, im, tx, count,
                                     out.ctypes.data), self._ctx)
        return out
