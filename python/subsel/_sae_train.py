# SPDX-License-Identifier: MIT
"""Training a monotone TopK sparse autoencoder (since 0.10): SAETrainer, over
subsel_sae_trainer_* (lib/sae_train). Its parameters go through the
library's table like every handle's (_params.py); the trainer keeps one
context, so its seed and thread count stay those it was made with.
"""
from __future__ import annotations

import ctypes
import glob
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _lib, _params
from ._core import (Context, Dense, _call_with_progress, _Handle,
                    _own_context, _path, dense, dense_npy_shape)
from ._extra import SAE
from .errors import check

L = _lib.lib


@dataclass(frozen=True)
class SAELosses:
    """The losses of a trainer's last step: total, the weighted sum
    l_recons recons + l_mono mono + l_act act + aux_coef aux; recons, the
    mean squared reconstruction error; mono, the monotonicity loss (0 when
    the step had no sets E and M); act, the mean squared activation; aux,
    the AuxK loss (0 without auxk or dead latents). All NaN before the
    first step."""
    total: float
    recons: float
    mono: float
    act: float
    aux: float


def _files(paths_or_glob) -> list:
    """The files fit() reads: a list of paths as given, or one path or glob
    pattern (matches sorted by name, as `subsel sae-train --input` sorts
    them; a pattern matching nothing is passed on, so the library's error
    names it)."""
    if isinstance(paths_or_glob, (str, bytes, os.PathLike)):
        pattern = os.fspath(paths_or_glob)
        if glob.has_magic(pattern):
            return sorted(glob.glob(pattern)) or [pattern]
        return [pattern]
    files = [os.fspath(f) for f in paths_or_glob]
    if not files:
        raise ValueError("fit() needs at least one .npy file")
    return files


class SAETrainer(_Handle):
    """Trains a monotone TopK sparse autoencoder from `inputs` dimensions
    to `latents` latents (the SDM paper's Algorithm 1, docs/sae.md), by
    Adam on the loss l_recons L_recons + l_mono L_mono + l_act L_act (+
    aux_coef L_aux), the decoder's columns kept at unit norm.

    inputs, latents: the embedding width and the latents (d_sparse).
    seed: of the initial weights, the epochs' orders and the sets of
      L_mono (the library's default when None); the trainer keeps it.
    threads: threads of every call (None: every CPU). The same data, seed
      and parameters give the same weights bit for bit on any thread
      count (another machine's BLIS may round differently).
    ctx: a Context to use for every call instead of one made from seed
      and threads (not with them).
    Other keywords are parameters of the library's table, also read and
    set as t["name"]; those the library marks fixed (k, set_size,
    reservoir, auxk) raise StateError once a step has run, and batch
    within an epoch.

    t.step(x) trains on one batch; t.fit(files, epochs) streams .npy
    files; t.save(dir) / SAETrainer.load(dir) checkpoint and resume;
    t.encoder() is a subsel.SAE for encode() and sae_scores().
    """

    _free_fn = staticmethod(L.subsel_sae_trainer_free)
    _kind = _lib.KIND_SAE_TRAINER

    def __init__(self, inputs: int, latents: int, *,
                 seed: Optional[int] = None, threads: Optional[int] = None,
                 ctx: Optional[Context] = None, **params):
        c = self._context(ctx, seed=seed, threads=threads)
        out = ctypes.c_void_p()
        c._call(L.subsel_sae_trainer_create, c, inputs, latents,
                ctypes.byref(out))
        self._setup(out.value, c, inputs, latents)
        for name, value in params.items():
            self[name] = value

    @staticmethod
    def _context(ctx: Optional[Context], **context_params) -> Context:
        return _own_context("SAETrainer", ctx, **context_params)

    def _setup(self, ptr: int, ctx: Context, inputs: int,
               latents: int) -> None:
        # The context is kept: the trainer's calls all go through it.
        _Handle.__init__(self, ptr, (ctx,))
        self._ctx = ctx
        self._inputs, self._latents = inputs, latents

    @classmethod
    def load(cls, directory, *, threads: Optional[int] = None,
             ctx: Optional[Context] = None) -> "SAETrainer":
        """A trainer from a checkpoint of save() or fit(checkpoint_dir=):
        training continued from it gives the weights of an uninterrupted
        run, bit for bit (on the same machine). The seed and the parameters
        are the checkpoint's; threads and ctx as for SAETrainer()."""
        c = cls._context(ctx, threads=threads)
        out = ctypes.c_void_p()
        c._call(L.subsel_sae_trainer_load, c, _path(directory),
                ctypes.byref(out))
        self = cls.__new__(cls)
        _Handle.__init__(self, out.value)  # freed if what follows fails
        latents, inputs = dense_npy_shape(
            os.path.join(os.fsencode(directory), b"W_enc.npy"), ctx=c)
        self._setup(self._ptr, c, inputs, latents)
        return self

    @staticmethod
    def params() -> dict:
        return dict(_params.of_kind(_lib.KIND_SAE_TRAINER))

    def __setitem__(self, name: str, value) -> None:
        _params.set_value(self._ctx, self, self._kind, name, value)

    def __getitem__(self, name: str):
        return _params.get_value(self._ctx, self, self._kind, name)

    def __repr__(self) -> str:
        if not self._ptr:
            return "<subsel.SAETrainer (closed)>"
        return (f"<subsel.SAETrainer {self._inputs} -> {self._latents}, "
                f"k={self['k']}, {self.steps} steps, {self.epochs} epochs>")

    @property
    def inputs(self) -> int:
        return self._inputs

    @property
    def latents(self) -> int:
        return self._latents

    @property
    def context(self) -> Context:
        """The context of the trainer's calls (its seed and threads)."""
        return self._ctx

    @property
    def steps(self) -> int:
        """Steps taken (step() and fit() together)."""
        return L.subsel_sae_trainer_steps(self)

    @property
    def epochs(self) -> int:
        """Epochs fit() has completed."""
        return L.subsel_sae_trainer_epochs(self)

    @property
    def dead(self) -> int:
        """Latents that had not fired for dead_rows rows at the last step."""
        return L.subsel_sae_trainer_dead(self)

    @property
    def losses(self) -> SAELosses:
        """The losses of the last step (all NaN before the first)."""
        out = np.empty(_lib.SAE_LOSSES)
        check(L.subsel_sae_trainer_losses(self._ctx, self, out.ctypes.data,
                                          out.size), self._ctx)
        return SAELosses(*(float(v) for v in out))

    def step(self, x) -> SAELosses:
        """One Adam step on the rows of `x` (a 2-D float array, rows x
        inputs; float32 is borrowed, float16 and float64 converted by the
        library): the rows join the reservoir of L_mono, then the update.
        Any row count, a different one each step if wished. Returns the
        step's losses."""
        a = np.asarray(x)
        if a.ndim != 2:
            raise ValueError(f"step() needs a 2-D array (rows x inputs), "
                             f"not {a.ndim}-D")
        xd = dense(a, ctx=self._ctx)
        self._ctx._call(L.subsel_sae_trainer_step, self._ctx, self, xd)
        return self.losses

    def evaluate(self, x) -> tuple:
        """Held-out evaluation with the current weights, nothing updated:
        (recons, act), the means over the rows of `x` (2-D, rows x inputs)
        of ||x - x~||^2 and ||h(x)||^2, as the L_recons and L_act a step on
        those rows would report."""
        a = np.asarray(x)
        if a.ndim != 2:
            raise ValueError(f"evaluate() needs a 2-D array (rows x inputs), "
                             f"not {a.ndim}-D")
        xd = dense(a, ctx=self._ctx)
        recons, act = ctypes.c_double(), ctypes.c_double()
        self._ctx._call(L.subsel_sae_trainer_evaluate, self._ctx, self, xd,
                        ctypes.byref(recons), ctypes.byref(act))
        return recons.value, act.value

    def fit(self, paths_or_glob, epochs: int, *, checkpoint_dir=None,
            log=None, progress=None) -> SAELosses:
        """Trains over the rows of .npy files until `epochs` epochs are done
        in all (those of earlier calls count), streaming batches of `batch`
        rows in a seeded random order per epoch; the files are never loaded
        whole. Returns the last step's losses.

        paths_or_glob: one .npy file, a glob pattern of shards (sorted by
          name, as `subsel sae-train --input` sorts them), or a list of
          paths; 2-D, float16/32/64, the same columns (inputs): one data
          set of their rows in that order.
        epochs: the epochs to have done in all, not more to do.
        checkpoint_dir: a folder to save a checkpoint to after each epoch
          and every checkpoint_steps steps (SAETrainer.load() resumes it;
          SAE.load() and `subsel encode --sae` read its encoder); None: no
          checkpoints.
        log: a file to append a JSON line per step and per epoch to.
        progress: callable(stage, done, total) (stage "train": rows done by
          this call, of the rows it has to do; 0 first, then after each
          step) returning True to cancel (subsel.Cancelled), or
          True for a tqdm bar. Ctrl-C cancels between steps and raises
          KeyboardInterrupt; either way the trainer stays consistent, and
          fit() again with the same files continues where it stopped.
        """
        files = [_path(f) for f in _files(paths_or_glob)]
        array = (ctypes.c_char_p * len(files))(*files)
        _call_with_progress(
            self._ctx, L.subsel_sae_trainer_fit, self._ctx, self, array,
            len(files), epochs,
            None if checkpoint_dir is None else _path(checkpoint_dir),
            None if log is None else _path(log), progress=progress)
        return self.losses

    def save(self, directory) -> None:
        """Writes a checkpoint to `directory` (created if missing):
        W_enc.npy, b_enc.npy, b_dec.npy (the encoder SAE.load() reads),
        W_dec.npy (inputs x latents) and the trainer's state; each file
        replaced atomically."""
        self._ctx._call(L.subsel_sae_trainer_save, self._ctx, self,
                        _path(directory))

    def encoder(self) -> SAE:
        """The encoder with a copy of the current weights, independent of
        the trainer: .encode(x, k) gives the sparse codes SDM selects on
        and subsel.sae_scores() scores."""
        out = ctypes.c_void_p()
        self._ctx._call(L.subsel_sae_trainer_encoder, self._ctx, self,
                        ctypes.byref(out))
        return SAE(None, _ptr=out.value)

    def decoder(self) -> np.ndarray:
        """A copy of W_dec, inputs x latents float32 (unit-norm columns):
        the reconstruction is W_dec h + b_dec."""
        out = ctypes.c_void_p()
        self._ctx._call(L.subsel_sae_trainer_decoder, self._ctx, self,
                        ctypes.byref(out))
        with Dense(out.value) as d:
            return d.to_numpy()
