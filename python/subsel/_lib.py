# SPDX-License-Identifier: MIT
"""Finding libsubsel and declaring the C functions the package calls.

Every foreign declaration (argtypes/restype) lives here and nowhere else, so
a change of the header has one place to follow. ctypes releases the GIL
around every foreign call, which is why the package needs no compiled
extension: long selections let other Python threads run.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_int, c_int32,
                    c_int64, c_void_p)
from pathlib import Path

#: The version of the C header this package was written against. The
#: library may be that version or a later one of the same major number: the
#: ABI only ever adds (docs/abi.md), so a later library has every function
#: and constant this package uses; an earlier one may lack some.
HEADER_VERSION = (0, 11)

_SONAME = "libsubsel.so"


def _candidates():
    """Library paths to try, in the documented order."""
    env = os.environ.get("SUBSEL_LIBRARY")
    if env:
        # An explicit choice is final: falling back would hide a typo.
        yield "SUBSEL_LIBRARY", env
        return
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(
                ["pkg-config", "--variable=libdir", "subsel"],
                capture_output=True, text=True, check=True).stdout.strip()
        except (subprocess.CalledProcessError, OSError):
            libdir = ""
        if libdir:
            yield "pkg-config", os.path.join(libdir, _SONAME)
    # The build tree, when this package is imported from the source tree
    # (python/subsel beside meson.build and build/, as ./run makes it).
    tree = Path(__file__).resolve().parent.parent.parent
    if (tree / "meson.build").exists() and (tree / "include" / "subsel.h").exists():
        build = os.environ.get("SUBSEL_BUILD_DIR", "build")
        yield "build tree", str(tree / build / "lib" / _SONAME)
    found = ctypes.util.find_library("subsel")
    if found:
        yield "ctypes.util.find_library", found


def _load():
    tried = []
    for how, path in _candidates():
        if how != "ctypes.util.find_library" and not os.path.exists(path):
            tried.append(f"{how}: {path} (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append(f"{how}: {path} ({exc})")
    raise ImportError(
        "subsel: cannot find libsubsel. Set SUBSEL_LIBRARY to the path of "
        "libsubsel.so, or install the library so that `pkg-config "
        "--variable=libdir subsel` finds it (PKG_CONFIG_PATH). Tried:\n  "
        + "\n  ".join(tried or ["nothing"]))


lib, path = _load()

_version = lib.subsel_version_number
_version.restype = c_int
_version.argtypes = []
version_number = _version()
_found = (version_number // 10000, version_number // 100 % 100)
if _found[0] != HEADER_VERSION[0] or _found < HEADER_VERSION:
    raise ImportError(
        f"subsel: {path} is version {_found[0]}.{_found[1]}, this package "
        f"needs {HEADER_VERSION[0]}.{HEADER_VERSION[1]} or a later "
        f"{HEADER_VERSION[0]}.x")

def _handle_type(what: str, kinds: frozenset):
    """An argument type for handle parameters of the given SUBSEL_KIND_*s
    (any kind when empty). It accepts the package's handle objects (a closed
    one raises), raw c_void_p from this package's own code, and None, and
    checks the kind with subsel_handle_kind() before C sees the pointer:
    the library does not check every argument's kind itself, and an int
    or a matrix where an objective belongs would crash the host."""

    class HandleArg:
        @classmethod
        def from_param(cls, obj):
            if obj is None:
                return None
            param = obj if isinstance(obj, c_void_p) else \
                getattr(obj, "_as_parameter_", None)
            if not isinstance(param, c_void_p):
                raise TypeError(f"expected {what}, not {type(obj).__name__}")
            if kinds and param.value is not None:
                kind = _handle_kind(param)
                if kind not in kinds:
                    raise TypeError(f"expected {what}, not "
                                    f"{type(obj).__name__} ("
                                    f"{lib.subsel_kind_name(kind).decode()})")
            return param

    HandleArg.__name__ = what
    return HandleArg


_handle_kind = lib.subsel_handle_kind
_handle_kind.restype = c_int
_handle_kind.argtypes = [c_void_p]
lib.subsel_kind_name.restype = c_char_p
lib.subsel_kind_name.argtypes = [c_int]

handle = _handle_type("a subsel handle", frozenset())
CTX = _handle_type("a Context", frozenset({1}))
OPT = _handle_type("an Optimizer", frozenset({2}))
OTS = _handle_type("an OTSolver", frozenset({3}))
TAROT = _handle_type("a Tarot", frozenset({4}))
OBJ = _handle_type("an objective", frozenset({5, 6, 7, 8}))
SDM_OBJ = _handle_type("an SDM objective", frozenset({5}))
UNIPROT_OBJ = _handle_type("a UniPROT objective", frozenset({6}))
CLIPCOV_OBJ = _handle_type("a ClipCov objective", frozenset({7}))
CSR_H = _handle_type("a CSR matrix", frozenset({9}))
DENSE_H = _handle_type("a Dense matrix", frozenset({10}))
SEL = _handle_type("a selection", frozenset({11}))
SAE_H = _handle_type("an SAE", frozenset({12}))
SUMMARY = _handle_type("a Summary", frozenset({13}))
SAE_TRAINER_H = _handle_type("an SAETrainer", frozenset({14}))
LORS_H = _handle_type("a LoRS", frozenset({15}))
handle_p = POINTER(c_void_p)

PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_char_p, c_int64, c_int64)

# name: (restype, argtypes). Status-returning functions have restype c_int.
_DECLS = {
    "subsel_version_string": (c_char_p, []),
    "subsel_status_string": (c_char_p, [c_int]),
    "subsel_build_info": (c_char_p, []),
    "subsel_isa_name": (c_char_p, [c_int]),
    "subsel_isa_compiled": (c_int, [c_int]),
    "subsel_isa_supported": (c_int, [c_int]),
    "subsel_isa_selected": (c_int, []),
    "subsel_ctx_isa": (c_int, [CTX]),
    "subsel_ctx_create": (c_int, [handle_p]),
    "subsel_ctx_free": (None, [CTX]),
    "subsel_ctx_last_error": (c_char_p, [CTX]),
    "subsel_ctx_threads": (c_int, [CTX]),
    "subsel_ctx_set_progress": (c_int, [CTX, PROGRESS_FN, c_void_p]),
    "subsel_handle_kind": (c_int, [handle]),
    "subsel_kind_name": (c_char_p, [c_int]),
    "subsel_param_count": (c_int64, []),
    "subsel_param_at": (c_int, [c_int64, POINTER(c_int)]),
    "subsel_param_find": (c_int, [c_int, c_char_p, POINTER(c_int)]),
    "subsel_param_info": (c_int, [c_int, POINTER(c_int), POINTER(c_int),
                                  POINTER(c_char_p), POINTER(c_char_p)]),
    "subsel_param_int_bounds": (c_int, [c_int, POINTER(c_int64),
                                        POINTER(c_int64), POINTER(c_int64)]),
    "subsel_param_real_bounds": (c_int, [c_int, POINTER(c_double),
                                         POINTER(c_double), POINTER(c_double),
                                         POINTER(c_int)]),
    "subsel_param_set_int": (c_int, [CTX, handle, c_int, c_int64]),
    "subsel_param_set_real": (c_int, [CTX, handle, c_int, c_double]),
    "subsel_param_get_int": (c_int, [CTX, handle, c_int, POINTER(c_int64)]),
    "subsel_param_get_real": (c_int, [CTX, handle, c_int,
                                      POINTER(c_double)]),
    "subsel_csr_create_v2": (c_int, [CTX, c_int64, c_int64, c_void_p,
                                     c_void_p, c_int, c_void_p, c_int, c_int,
                                     handle_p]),
    "subsel_csr_load_npz": (c_int, [CTX, c_char_p, handle_p]),
    "subsel_csr_save_npz": (c_int, [CTX, CSR_H, c_char_p, c_int]),
    "subsel_csr_from_dense": (c_int, [CTX, DENSE_H, handle_p]),
    "subsel_csr_view_rows": (c_int, [CTX, CSR_H, c_int64, c_int64,
                                     handle_p]),
    "subsel_csr_gather_rows": (c_int, [CTX, CSR_H, c_void_p, c_int64,
                                       handle_p]),
    "subsel_csr_column_sums_v2": (c_int, [CTX, CSR_H, c_void_p, c_int64]),
    "subsel_csr_free": (None, [CSR_H]),
    "subsel_csr_rows": (c_int64, [CSR_H]),
    "subsel_csr_cols": (c_int64, [CSR_H]),
    "subsel_csr_nnz": (c_int64, [CSR_H]),
    "subsel_csr_index_type": (c_int, [CSR_H]),
    "subsel_csr_row_v2": (c_int, [CSR_H, c_int64, POINTER(c_void_p),
                                  POINTER(c_void_p), POINTER(c_int64)]),
    "subsel_dense_create_v2": (c_int, [CTX, c_int64, c_int64, c_void_p,
                                       c_int, c_int64, c_int, handle_p]),
    "subsel_dense_load_npy": (c_int, [CTX, c_char_p, handle_p]),
    "subsel_dense_free": (None, [DENSE_H]),
    "subsel_dense_rows": (c_int64, [DENSE_H]),
    "subsel_dense_cols": (c_int64, [DENSE_H]),
    "subsel_dense_data": (c_void_p, [DENSE_H]),
    "subsel_dense_stride": (c_int64, [DENSE_H]),
    "subsel_dense_row": (c_void_p, [DENSE_H, c_int64]),
    "subsel_dense_column_sums_v2": (c_int, [CTX, DENSE_H, c_void_p,
                                            c_int64]),
    "subsel_dense_save_npy": (c_int, [CTX, DENSE_H, c_char_p]),
    "subsel_dense_npy_shape": (c_int, [CTX, c_char_p, POINTER(c_int64),
                                       POINTER(c_int64)]),
    # Vectors in .npy files: the load_* forms read pipes too (one pass) and
    # return library memory, released with subsel_array_free().
    "subsel_npy_load_f64": (c_int, [CTX, c_char_p, POINTER(c_void_p),
                                    POINTER(c_int64)]),
    "subsel_npy_load_i64": (c_int, [CTX, c_char_p, POINTER(c_void_p),
                                    POINTER(c_int64)]),
    "subsel_array_free": (None, [c_void_p]),
    "subsel_npy_write_f64": (c_int, [CTX, c_char_p, c_void_p, c_int64]),
    "subsel_npy_write_i64": (c_int, [CTX, c_char_p, c_void_p, c_int64]),
    # Ids of the selected rows (Selection.save(ids=...)).
    "subsel_ids_save_npy": (c_int, [CTX, c_char_p, c_void_p, c_int64, c_char_p,
                                    c_void_p, c_int64, c_int]),
    "subsel_objective_size": (c_int64, [OBJ]),
    "subsel_objective_evaluate": (c_int, [CTX, OBJ, c_void_p, c_int64,
                                          POINTER(c_double)]),
    "subsel_objective_gain": (c_int, [CTX, OBJ, c_void_p, c_int64,
                                      c_int64, POINTER(c_double)]),
    "subsel_objective_free": (None, [OBJ]),
    "subsel_fb_create": (c_int, [CTX, CSR_H, c_int, c_double, c_void_p,
                                 handle_p]),
    "subsel_sdm_create": (c_int, [CTX, CSR_H, handle_p]),
    "subsel_sdm_set_target": (c_int, [CTX, SDM_OBJ, CSR_H]),
    "subsel_sdm_set_target_distribution": (c_int, [CTX, SDM_OBJ, c_void_p,
                                                   c_int64]),
    "subsel_sdm_set_quality": (c_int, [CTX, SDM_OBJ, c_void_p, c_int64,
                                       c_int64]),
    "subsel_sdm_set_quality_edges": (c_int, [CTX, SDM_OBJ, c_void_p,
                                             c_int64, c_void_p, c_int64]),
    "subsel_sdm_set_bin_weights": (c_int, [CTX, SDM_OBJ, c_void_p,
                                           c_int64]),
    "subsel_sdm_quality_bins": (c_int, [CTX, SDM_OBJ, c_void_p, c_int64]),
    "subsel_sdm_kl": (c_int, [CTX, SDM_OBJ, c_void_p, c_int64,
                              POINTER(c_double)]),
    "subsel_optimizer_create": (c_int, [CTX, c_int, handle_p]),
    "subsel_optimizer_free": (None, [OPT]),
    "subsel_optimizer_run": (c_int, [CTX, OPT, OBJ, handle_p]),
    "subsel_optimizer_set_initial": (c_int, [CTX, OPT, c_void_p, c_int64]),
    "subsel_optimizer_set_checkpoint": (c_int, [CTX, OPT, c_char_p]),
    "subsel_optimizer_resume": (c_int, [CTX, OPT, c_char_p]),
    "subsel_selection_count": (c_int64, [SEL]),
    "subsel_selection_indices": (c_void_p, [SEL]),
    "subsel_selection_gains": (c_void_p, [SEL]),
    "subsel_selection_value": (c_double, [SEL]),
    "subsel_selection_evaluations": (c_int64, [SEL]),
    "subsel_selection_budget": (c_int64, [SEL]),
    "subsel_selection_short_reason": (c_int, [SEL]),
    "subsel_short_reason_string": (c_char_p, [c_int]),
    "subsel_selection_free": (None, [SEL]),
    "subsel_sae_create": (c_int, [CTX, DENSE_H, c_void_p, c_void_p,
                                  handle_p]),
    "subsel_sae_load": (c_int, [CTX, c_char_p, handle_p]),
    "subsel_sae_free": (None, [SAE_H]),
    "subsel_sae_inputs": (c_int64, [SAE_H]),
    "subsel_sae_features": (c_int64, [SAE_H]),
    "subsel_sae_encode": (c_int, [CTX, SAE_H, DENSE_H, c_int64, handle_p]),
    "subsel_sae_scores": (c_int, [CTX, DENSE_H, CSR_H, POINTER(c_double),
                                  POINTER(c_double), POINTER(c_int64),
                                  POINTER(c_int64), c_void_p, c_int64,
                                  c_void_p, c_int64]),
    # Training an SAE (since 0.10). fit's files travel as an array of
    # char pointers the package builds (_sae_train.py).
    "subsel_sae_trainer_create": (c_int, [CTX, c_int64, c_int64, handle_p]),
    "subsel_sae_trainer_free": (None, [SAE_TRAINER_H]),
    "subsel_sae_trainer_step": (c_int, [CTX, SAE_TRAINER_H, DENSE_H]),
    "subsel_sae_trainer_fit": (c_int, [CTX, SAE_TRAINER_H, POINTER(c_char_p),
                                       c_int64, c_int64, c_char_p,
                                       c_char_p]),
    "subsel_sae_trainer_losses": (c_int, [CTX, SAE_TRAINER_H, c_void_p,
                                          c_int64]),
    "subsel_sae_trainer_steps": (c_int64, [SAE_TRAINER_H]),
    "subsel_sae_trainer_epochs": (c_int64, [SAE_TRAINER_H]),
    "subsel_sae_trainer_dead": (c_int64, [SAE_TRAINER_H]),
    "subsel_sae_trainer_encoder": (c_int, [CTX, SAE_TRAINER_H, handle_p]),
    "subsel_sae_trainer_decoder": (c_int, [CTX, SAE_TRAINER_H, handle_p]),
    "subsel_sae_trainer_evaluate": (c_int, [CTX, SAE_TRAINER_H, c_void_p,
                                            POINTER(c_double), POINTER(c_double)]),
    "subsel_sae_trainer_save": (c_int, [CTX, SAE_TRAINER_H, c_char_p]),
    "subsel_sae_trainer_load": (c_int, [CTX, c_char_p, handle_p]),
    # LoRS distillation (since 0.11). Arrays the library reads or writes
    # without a length (the synthetic set, S~, evaluate's similarity and
    # text_image, the baseline's indices) are sized by _lors.py.
    "subsel_lors_create": (c_int, [CTX, c_int64, c_int64, handle_p]),
    "subsel_lors_free": (None, [LORS_H]),
    "subsel_lors_buffer": (c_int, [CTX, LORS_H, DENSE_H, DENSE_H, c_char_p,
                                   c_char_p]),
    "subsel_lors_distill": (c_int, [CTX, LORS_H, DENSE_H, DENSE_H, c_char_p,
                                    c_int64, c_char_p]),
    "subsel_lors_iterations": (c_int64, [LORS_H]),
    "subsel_lors_last_loss": (c_int, [CTX, LORS_H, POINTER(c_double)]),
    "subsel_lors_synthetic": (c_int, [CTX, LORS_H, c_void_p, c_void_p]),
    "subsel_lors_similarity": (c_int, [CTX, LORS_H, c_void_p]),
    "subsel_lors_eta": (c_int, [CTX, LORS_H, POINTER(c_double),
                                POINTER(c_double)]),
    "subsel_lors_save": (c_int, [CTX, LORS_H, c_char_p]),
    "subsel_lors_load": (c_int, [CTX, c_char_p, handle_p]),
    "subsel_lors_evaluate": (c_int, [CTX, LORS_H, DENSE_H, DENSE_H, c_void_p,
                                     c_double, c_double, DENSE_H, DENSE_H,
                                     c_void_p, c_void_p]),
    "subsel_lors_baseline": (c_int, [CTX, LORS_H, c_int, DENSE_H, DENSE_H,
                                     c_int64, c_void_p]),
    "subsel_ot_solver_create": (c_int, [CTX, handle_p]),
    "subsel_ot_solver_free": (None, [OTS]),
    "subsel_ot_solver_iterations": (c_int64, [OTS]),
    "subsel_ot_solver_violation": (c_double, [OTS]),
    # The four OT solves share one shape after their inputs: value, f, g,
    # plan, each array with its capacity.
    "subsel_ot_sinkhorn_v2": (c_int, [CTX, OTS, c_void_p, c_int64,
                                      c_void_p, c_int64, c_void_p, c_double]
                              + [POINTER(c_double)] + [c_void_p, c_int64] * 3),
    "subsel_ot_partial_v2": (c_int, [CTX, OTS, c_void_p, c_int64,
                                     c_void_p, c_int64, c_void_p, c_double,
                                     c_double]
                             + [POINTER(c_double)] + [c_void_p, c_int64] * 3),
    "subsel_ot_sinkhorn_points_v2": (c_int, [CTX, OTS, c_void_p, DENSE_H,
                                             c_void_p, DENSE_H, c_int, c_double]
                                     + [POINTER(c_double)]
                                     + [c_void_p, c_int64] * 3),
    "subsel_ot_partial_points_v2": (c_int, [CTX, OTS, c_void_p, DENSE_H,
                                            c_void_p, DENSE_H, c_int, c_double,
                                            c_double] + [POINTER(c_double)]
                                    + [c_void_p, c_int64] * 3),
    "subsel_uniprot_create": (c_int, [CTX, DENSE_H, c_int64, c_double,
                                      handle_p]),
    "subsel_uniprot_create_from_features": (c_int, [CTX, DENSE_H, DENSE_H,
                                                    c_int, c_int64, c_double,
                                                    handle_p]),
    "subsel_uniprot_plan_v2": (c_int, [CTX, UNIPROT_OBJ, c_void_p, c_int64,
                                       c_void_p, c_int64, POINTER(c_double)]),
    "subsel_uniprot_select_batch": (c_int, [CTX, DENSE_H, c_double, c_double,
                                            c_int, handle_p]),
    "subsel_uniprot_select_batch_v2": (c_int, [CTX, DENSE_H, c_void_p,
                                               c_double, c_double, c_int,
                                               c_int, handle_p]),
    "subsel_uniprot_transport_similarity": (c_int, [CTX, UNIPROT_OBJ,
                                                    c_void_p, c_int64,
                                                    POINTER(c_double),
                                                    POINTER(c_double)]),
    "subsel_nn_accuracy": (c_int, [CTX, DENSE_H, c_void_p, c_void_p, c_int64,
                                   DENSE_H, c_void_p, c_int,
                                   POINTER(c_double)]),
    "subsel_tarot_create": (c_int, [CTX, DENSE_H, DENSE_H, handle_p]),
    "subsel_tarot_free": (None, [TAROT]),
    "subsel_tarot_select_fixed": (c_int, [CTX, TAROT, c_int64, handle_p]),
    "subsel_tarot_project": (c_int, [CTX, DENSE_H, c_int64, c_int, c_int64,
                                     handle_p]),
    "subsel_tarot_whiten": (c_int, [CTX, TAROT, handle_p, handle_p]),
    "subsel_tarot_scores_v2": (c_int, [CTX, TAROT, c_int64, c_int64, c_int64,
                                       c_int64, c_void_p, c_int64, c_void_p,
                                       c_int64]),
    "subsel_tarot_topk_v2": (c_int, [CTX, TAROT, c_int64, c_void_p, c_int64,
                                     c_void_p, c_int64]),
    "subsel_tarot_ot_v2": (c_int, [CTX, TAROT, c_void_p, c_int64, c_void_p,
                                   c_int64, c_void_p, c_int64,
                                   POINTER(c_double)]),
    "subsel_tarot_weights_v2": (c_int, [CTX, c_void_p, c_int64, c_int64,
                                        c_void_p, c_int64]),
    "subsel_tarot_weights_reference_v2": (c_int, [CTX, c_void_p, c_int64,
                                                  c_int64, c_int64, c_void_p,
                                                  c_int64]),
    "subsel_tarot_folds_v2": (c_int, [CTX, c_int64, c_int64, c_void_p,
                                      c_int64]),
    "subsel_tarot_select_otm": (c_int, [CTX, TAROT, c_int64, c_void_p,
                                        handle_p]),
    "subsel_clipcov_create": (c_int, [CTX, DENSE_H, DENSE_H, DENSE_H,
                                      c_void_p, c_int, handle_p]),
    "subsel_clipcov_data_alpha": (c_int, [CTX, CLIPCOV_OBJ, POINTER(c_double)]),
    "subsel_clipcov_class_count": (c_int64, [CLIPCOV_OBJ]),
    "subsel_clipcov_classes": (c_int, [CTX, CLIPCOV_OBJ, c_void_p, c_int64]),
    "subsel_clipcov_check_submodular": (c_int, [CTX, CLIPCOV_OBJ, c_int,
                                                POINTER(c_int)]),
    "subsel_clipcov_optimizer": (c_int, [CTX, CLIPCOV_OBJ, c_int64, handle_p]),
    "subsel_clipcov_select": (c_int, [CTX, OBJ, OPT, c_int,
                                      handle_p, handle_p]),
    "subsel_double_greedy": (c_int, [CTX, OBJ, c_void_p, c_int64, c_int,
                                     handle_p]),
    # Selection across processes (since 0.9). The merge's summaries travel
    # as an array of pointers the package builds from Summary objects,
    # checking each one's kind first (_summary.py), as the handle types do.
    "subsel_summary_select": (c_int, [CTX, OPT, OBJ, c_int64, c_int64,
                                      handle_p]),
    "subsel_summary_merge": (c_int, [CTX, OPT, OBJ, POINTER(c_void_p),
                                     c_int64, handle_p]),
    "subsel_summary_selection": (c_int, [CTX, SUMMARY, handle_p]),
    "subsel_summary_rows": (c_int, [CTX, SUMMARY, handle_p]),
    "subsel_summary_count": (c_int64, [SUMMARY]),
    "subsel_summary_total": (c_int64, [SUMMARY]),
    "subsel_summary_to_bytes": (c_int, [CTX, SUMMARY, c_void_p, c_int64,
                                        POINTER(c_int64)]),
    "subsel_summary_from_bytes": (c_int, [CTX, c_void_p, c_int64, handle_p]),
    "subsel_summary_save": (c_int, [CTX, SUMMARY, c_char_p]),
    "subsel_summary_load": (c_int, [CTX, c_char_p, handle_p]),
    "subsel_summary_free": (None, [SUMMARY]),
    "subsel_csr_npz_shape": (c_int, [CTX, c_char_p, POINTER(c_int64),
                                     POINTER(c_int64)]),
    "subsel_mpi_available": (c_int, []),
    # The communicator is its Fortran handle (mpi4py: comm.py2f()), so
    # declaring this needs neither mpi.h nor mpi4py; only calling it does.
    "subsel_mpi_select": (c_int, [CTX, OPT, OBJ, c_int, c_int64, handle_p]),
}

#: Functions of the header this package does not call, and why. Together
#: with _DECLS this accounts for every function of include/subsel.h
#: (python/tests/test_api.py checks it), so a function added to the header without
#: a Python surface fails a test. Functions documented as deprecated (the
#: forms without a capacity, 0.6's names) are left out on purpose.
NOT_BOUND = {
    # One parameter mechanism (subsel_param_*, read from the library's
    # table) replaces the per-handle setters, getters and bounds.
    **{name: "parameters go through subsel_param_* (see _params.py)"
       for name in (
           "subsel_ctx_set_int", "subsel_ctx_get_int",
           "subsel_ctx_param_bounds", "subsel_optimizer_set_int",
           "subsel_optimizer_set_double", "subsel_optimizer_get_int",
           "subsel_optimizer_get_double", "subsel_optimizer_param_bounds",
           "subsel_ot_solver_set_int", "subsel_ot_solver_set_double",
           "subsel_ot_solver_get_int", "subsel_ot_solver_get_double",
           "subsel_ot_solver_param_bounds", "subsel_tarot_set_int",
           "subsel_tarot_set_double", "subsel_tarot_get_int",
           "subsel_tarot_get_double", "subsel_tarot_param_bounds",
           "subsel_sdm_set_lambda", "subsel_uniprot_set_gain",
           "subsel_uniprot_set_update", "subsel_uniprot_set_tolerance",
           "subsel_uniprot_set_max_iterations", "subsel_clipcov_set_weight",
           "subsel_clipcov_set_alpha")},
    # The *_v2 constructors cover these (every dtype, strides, borrowing).
    "subsel_csr_create": "subsel_csr_create_v2 takes SciPy's arrays as "
                         "they are",
    "subsel_dense_create": "subsel_dense_create_v2",
    "subsel_dense_create_f64": "subsel_dense_create_v2 converts float64",
    "subsel_csr_row": "subsel_csr_row_v2 reads int64 indices in place "
                      "(this one makes an int32 copy of them)",
    # The two-call readers need the file twice (header, then data);
    # subsel_npy_load_* read it once, pipes included.
    "subsel_npy_read_f64": "subsel_npy_load_f64",
    "subsel_npy_read_i64": "subsel_npy_load_i64",
    # Selections are copied into NumPy and freed at once; Selection.save()
    # writes the same '<i8' file with subsel_npy_write_i64.
    "subsel_selection_save_npy": "subsel_npy_write_i64",
    # Allocator hooks would be called from OpenMP worker threads, each
    # taking the GIL: far slower than malloc, for no gain in Python; the
    # context's memory_limit gives the accounting.
    "subsel_ctx_create_with_allocator": "memory_limit instead",
    "subsel_version_number": "read once when the library is loaded",
    # Python's ids are NumPy arrays already (np.load reads every dtype);
    # Selection.save(ids=...) writes them with subsel_ids_save_npy.
    "subsel_ids_load_npy": "np.load, then Selection.save(ids=...)",
}

for _name, (_restype, _argtypes) in _DECLS.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

del _name, _restype, _argtypes, _fn

# Constants that are not parameters (those come from the library's table).
OWN_COPY, OWN_BORROW = 0, 1
DTYPE_FLOAT16, DTYPE_FLOAT32, DTYPE_FLOAT64 = 2001, 2002, 2003
DTYPE_INT32, DTYPE_INT64 = 2011, 2012
TYPE_INT, TYPE_REAL = 1, 2
BOUND_OPEN_MIN, BOUND_OPEN_MAX = 1, 2
KIND_CONTEXT, KIND_OPTIMIZER, KIND_OT_SOLVER, KIND_SDM, KIND_UNIPROT = 1, 2, 3, 5, 6
KIND_TAROT, KIND_CLIPCOV, KIND_FB = 4, 7, 8
KIND_CSR, KIND_DENSE = 9, 10
KIND_SUMMARY = 13
KIND_SAE_TRAINER = 14
KIND_LORS = 15
LORS_RECALLS = 6  # SUBSEL_LORS_RECALLS: IR@1, IR@5, IR@10, TR@1, TR@5, TR@10
SAE_LOSSES = 5  # SUBSEL_SAE_LOSSES: total, recons, mono, act, aux
DISTRIBUTED_GREEDI, DISTRIBUTED_EXACT, DISTRIBUTED_UNION = 0, 1, 2
