# SPDX-License-Identifier: MIT
"""The library's parameter table, read at run time.

Names, types, bounds, defaults and descriptions all come from
subsel_param_* so that a parameter added to the C library appears here
without a change to this package. Keyword arguments are checked against
this table; values are checked by the library itself (one source of truth
for bounds and messages).
"""
from __future__ import annotations

import ctypes
import functools
import math
from dataclasses import dataclass

from . import _lib
from .errors import check

L = _lib.lib


@dataclass(frozen=True)
class Param:
    """One parameter of a handle kind, as the library describes it."""
    number: int
    kind: int
    name: str
    type: type  # int or float
    minimum: float
    maximum: float
    default: float
    doc: str
    open_min: bool = False
    open_max: bool = False

    def describe(self) -> str:
        lo = "(" if self.open_min else "["
        hi = ")" if self.open_max else "]"
        fmt = "{}" if self.type is int else "{:g}"
        lo_v, hi_v, de = (fmt.format(v) for v in
                          (self.minimum, self.maximum, self.default))
        return (f"{self.name} ({self.type.__name__}, {lo}{lo_v}, {hi_v}{hi}, "
                f"default {de}): {self.doc}")


@functools.lru_cache(maxsize=None)
def table() -> dict[int, dict[str, Param]]:
    """All parameters, grouped by kind, then by name."""
    out: dict[int, dict[str, Param]] = {}
    for index in range(L.subsel_param_count()):
        number = ctypes.c_int()
        check(L.subsel_param_at(index, ctypes.byref(number)))
        kind, ptype = ctypes.c_int(), ctypes.c_int()
        name, doc = ctypes.c_char_p(), ctypes.c_char_p()
        check(L.subsel_param_info(number, ctypes.byref(kind),
                                  ctypes.byref(ptype), ctypes.byref(name),
                                  ctypes.byref(doc)))
        if ptype.value == _lib.TYPE_INT:
            lo, hi, de = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
            check(L.subsel_param_int_bounds(number, ctypes.byref(lo),
                                            ctypes.byref(hi), ctypes.byref(de)))
            p = Param(number.value, kind.value, name.value.decode(), int,
                      lo.value, hi.value, de.value, doc.value.decode())
        else:
            lo, hi, de = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            op = ctypes.c_int()
            check(L.subsel_param_real_bounds(number, ctypes.byref(lo),
                                             ctypes.byref(hi), ctypes.byref(de),
                                             ctypes.byref(op)))
            p = Param(number.value, kind.value, name.value.decode(), float,
                      lo.value, hi.value, de.value, doc.value.decode(),
                      bool(op.value & _lib.BOUND_OPEN_MIN) or math.isinf(lo.value),
                      bool(op.value & _lib.BOUND_OPEN_MAX) or math.isinf(hi.value))
        out.setdefault(p.kind, {})[p.name] = p
    return out


def of_kind(kind: int) -> dict[str, Param]:
    return table().get(kind, {})


def python_name(name: str) -> str:
    """Keyword name of a parameter: reserved words get a trailing '_'."""
    import keyword
    return name + "_" if keyword.iskeyword(name) else name


def lookup(kind: int, keyword_name: str) -> Param:
    params = of_kind(kind)
    name = keyword_name[:-1] if keyword_name.endswith("_") else keyword_name
    if name not in params:
        known = ", ".join(sorted(python_name(n) for n in params))
        kind_name = L.subsel_kind_name(kind).decode()
        raise TypeError(f"unknown {kind_name} parameter '{keyword_name}' "
                        f"(known: {known})")
    return params[name]


def set_value(ctx, handle, kind: int, keyword_name: str, value) -> None:
    """Sets one parameter on a raw handle; the library checks the value."""
    p = lookup(kind, keyword_name)
    if p.type is int:
        if isinstance(value, bool) or not isinstance(value, (int,)) and not (
                hasattr(value, "__index__")):
            raise TypeError(f"parameter '{p.name}' takes an int, not "
                            f"{type(value).__name__}")
        check(L.subsel_param_set_int(ctx, handle, p.number, int(value)), ctx)
    else:
        check(L.subsel_param_set_real(ctx, handle, p.number, float(value)), ctx)


def get_value(ctx, handle, kind: int, keyword_name: str):
    p = lookup(kind, keyword_name)
    if p.type is int:
        v = ctypes.c_int64()
        check(L.subsel_param_get_int(ctx, handle, p.number, ctypes.byref(v)), ctx)
    else:
        v = ctypes.c_double()
        check(L.subsel_param_get_real(ctx, handle, p.number, ctypes.byref(v)), ctx)
    return v.value


# How to choose each parameter: advice for users, which the library's
# one-line descriptions (what a parameter is) do not give. Keyed by kind and
# name; a parameter the library adds later is listed without advice until
# one is written here (test_help.py lists the ones missing).
ADVICE = {
    (_lib.KIND_CONTEXT, "threads"): "0 uses every CPU this process may "
        "use; 1 when many processes share the machine",
    (_lib.KIND_CONTEXT, "seed"): "fix it to repeat a selection; results do "
        "not depend on threads or kernels",
    (_lib.KIND_CONTEXT, "max_isa"): "leave at 2; lower only to compare "
        "kernels",
    (_lib.KIND_CONTEXT, "memory_limit"): "a byte cap to fail fast "
        "(OutOfMemory) instead of swapping; 0 for none",
    (_lib.KIND_CONTEXT, "parallel_gains"): "leave at 0 (automatic); 2 can "
        "help lazy greedy on expensive objectives with many threads, 3 "
        "overlaps lazy greedy's heap with its gains (cheap gains on large "
        "pools, cores not shared), 1 when the caller runs many selections "
        "in parallel itself",
    (_lib.KIND_CONTEXT, "map_files"): "leave at 1 (inputs read in place, "
        "fastest); 0 when another process may rewrite an input file in "
        "place while its matrix is in use",
    (_lib.KIND_OPTIMIZER, "budget"): "how many rows you can afford to "
        "keep (train on)",
    (_lib.KIND_OPTIMIZER, "runs"): "1 is fastest; several (e.g. 5) keep "
        "only rows the seeded runs agree on, a stabler but possibly "
        "shorter selection",
    (_lib.KIND_OPTIMIZER, "min_runs"): "0 keeps rows chosen by every run; "
        "a majority (runs // 2 + 1) keeps more rows",
    (_lib.KIND_OPTIMIZER, "stop_nonpositive"): "keep 2: it fills the "
        "budget for monotone objectives and stops when adding can only hurt",
    (_lib.KIND_OPTIMIZER, "epsilon"): "1e-3 is near greedy quality; 1e-2 "
        "samples about a third fewer rows per step",
    (_lib.KIND_OPTIMIZER, "parts"): "1 (exact) for reproducible results on "
        "any machine; the thread count (or 0: automatic) to use every core on "
        "a large pool: within 0.01% of the exact objective on the SDM "
        "benchmark, at about 1/parts of the time",
    (_lib.KIND_OPTIMIZER, "merge"): "0 (union of budget shares) for speed; "
        "1 (RandGreeDi) for its worst-case guarantee, at the cost of a merge "
        "over parts x budget candidates",
    (_lib.KIND_OPTIMIZER, "fanin"): "0 merges every part's summary at "
        "once (one merge of parts x budget rows); 2 to 16 when that union "
        "is too large for one process, at a small cost in quality per "
        "round (docs/distributed.md)",
    (_lib.KIND_OPTIMIZER, "checkpoint_every"): "with a checkpoint file, "
        "a few hundred to a few thousand items: a write costs a pass over "
        "the selection so far; 0 saves only when the run is stopped",
    (_lib.KIND_OT_SOLVER, "max_iter"): "raise it if a solve fails with "
        "NumericError naming the iteration cap",
    (_lib.KIND_OT_SOLVER, "anneal"): "keep 1 (robust for small reg); 0 "
        "only to compare with an unannealed Sinkhorn",
    (_lib.KIND_OT_SOLVER, "memory"): "raise it when n x m x 8 bytes fits "
        "your RAM and point-cloud solves are slow",
    (_lib.KIND_OT_SOLVER, "tol"): "1e-9 for accurate plans; 1e-6 is "
        "plenty to rank or select",
    (_lib.KIND_OT_SOLVER, "anneal_factor"): "0.1 is fast; 0.5 is gentler "
        "for hard problems",
    (_lib.KIND_OT_SOLVER, "anneal_start"): "0 (the cost range) suits "
        "almost every problem",
    (_lib.KIND_TAROT, "proj_dim"): "0 below a few thousand columns; else "
        "1024 to 8192 (whitening needs about 8 dim^2 bytes)",
    (_lib.KIND_TAROT, "proj_kind"): "Rademacher (0) is cheaper; Gaussian "
        "(1) for the textbook projection",
    (_lib.KIND_TAROT, "proj_block"): "0; lower it only to cap memory",
    (_lib.KIND_TAROT, "whiten"): "Cholesky (1) is cheaper; ZCA (2) gives "
        "the same scores; 0 to skip whitening",
    (_lib.KIND_TAROT, "center"): "keep 1: whitening assumes centred rows",
    (_lib.KIND_TAROT, "reference"): "1 to reproduce the authors' code "
        "exactly, 0 for the library's rule "
        "(docs/tarot.md says where they differ)",
    (_lib.KIND_TAROT, "max_rank"): "raise it when OTM stops at the cap "
        "rather than at a minimum",
    (_lib.KIND_TAROT, "potentials"): "0 skips the final OT solve when "
        "you need neither value, gains nor weights",
    (_lib.KIND_TAROT, "eps"): "raise it (1e-3) when whitening fails as "
        "not positive definite",
    (_lib.KIND_TAROT, "blur"): "0.01 suits the unit rows TAROT makes; "
        "larger is faster and blurrier",
    (_lib.KIND_TAROT, "scaling"): "0.5; closer to 1 is slower and more "
        "accurate",
    (_lib.KIND_TAROT, "ot_memory"): "512 MiB; lower it to bound peak "
        "memory (256 MiB: 1.08 GB -> 0.80 GB on the 430 MB benchmark, "
        "its fill about 25 % slower)",
    (_lib.KIND_SDM, "lambda"): "0.7 (the default); toward 1 to match the "
        "target only, lower to favour the quality bins",
    (_lib.KIND_UNIPROT, "gain"): "0 (approximate, the paper's) for real "
        "sizes; 1 (exact) for small problems and tests",
    (_lib.KIND_UNIPROT, "update"): "0 solves each set exactly; 1 is O(n) "
        "per prototype, for large k or per-batch use",
    (_lib.KIND_UNIPROT, "tol"): "keep 1e-9; 1e-6 is faster and enough "
        "to rank",
    (_lib.KIND_UNIPROT, "max_iter"): "raise it if a solve fails naming "
        "the iteration cap (small reg)",
    (_lib.KIND_UNIPROT, "gain_memory"): "512 MiB; lower it to bound "
        "memory (every gain then makes its weights again: slower, the same "
        "selection)",
    (_lib.KIND_CLIPCOV, "weight_intra"): "1 (the default); 0 makes F "
        "submodular, so lazy greedy applies",
    (_lib.KIND_CLIPCOV, "weight_self"): "1 (the default)",
    (_lib.KIND_CLIPCOV, "weight_inter"): "1 (the default); raise it to "
        "separate classes more",
    (_lib.KIND_CLIPCOV, "weight_reg"): "1 (the default)",
    (_lib.KIND_CLIPCOV, "weight_label"): "1 (the default); 0 when class "
        "names carry no meaning",
    (_lib.KIND_CLIPCOV, "alpha"): "leave it to ClipCov's alpha=\"auto\" "
        "(the paper's ratio from the data, data_alpha()); 0.5 (the "
        "library's default, the paper's reported value) to compare runs "
        "across pools; larger trusts the class names more",
    (_lib.KIND_SAE_TRAINER, "k"): "128 (the paper's) for thousands of "
        "latents; about latents / 16 to latents / 4 for small encoders; "
        "encode with the same k",
    (_lib.KIND_SAE_TRAINER, "lr"): "2e-4 (the paper's) for large batches; "
        "raise it (1e-3 to 3e-3) for small data or few steps, lower it if "
        "the loss jumps",
    (_lib.KIND_SAE_TRAINER, "beta1"): "keep 0.9",
    (_lib.KIND_SAE_TRAINER, "beta2"): "keep 0.999",
    (_lib.KIND_SAE_TRAINER, "eps"): "keep 1e-8",
    (_lib.KIND_SAE_TRAINER, "l_recons"): "keep 1: the other weights are "
        "relative to it",
    (_lib.KIND_SAE_TRAINER, "l_mono"): "0.002 (the paper's); 0 trains a "
        "plain TopK SAE (faster, no reservoir); larger orders codes more "
        "by similarity at some cost in reconstruction",
    (_lib.KIND_SAE_TRAINER, "l_act"): "keep 1e-10 (a tiny L2 pull on "
        "activations)",
    (_lib.KIND_SAE_TRAINER, "set_size"): "128 (the paper's); at most the "
        "batch, or steps have no L_mono term",
    (_lib.KIND_SAE_TRAINER, "reservoir"): "50,000 (the default) is plenty; "
        "it costs reservoir x inputs x 4 bytes",
    (_lib.KIND_SAE_TRAINER, "auxk"): "0 (off); about inputs / 2 (OpenAI's "
        "choice) when many latents die",
    (_lib.KIND_SAE_TRAINER, "aux_coef"): "1/32 (the default) when auxk is "
        "on",
    (_lib.KIND_SAE_TRAINER, "dead_rows"): "10 million (the default) for "
        "large data; about one epoch's rows for small data",
    (_lib.KIND_SAE_TRAINER, "batch"): "4096 (the default); smaller for "
        "small data sets (at least set_size)",
    (_lib.KIND_SAE_TRAINER, "b_dec_init"): "1 (geometric median, the "
        "default) is robust to outliers; 0 (mean) is cheaper",
    (_lib.KIND_SAE_TRAINER, "checkpoint_steps"): "0 (after each epoch); a "
        "few thousand when an epoch takes hours",
    (_lib.KIND_LORS, "tower"): "1 (the projection head, the paper's); 0 "
        "(linear) is cheaper and enough for well-aligned embeddings",
    (_lib.KIND_LORS, "embed_dim"): "256; smaller (32 to 128) for small "
        "embeddings or quick trials",
    (_lib.KIND_LORS, "temperature"): "keep 0.07 (CLIP's)",
    (_lib.KIND_LORS, "learn_temperature"): "0; 1 lets the towers tune it, "
        "at the cost of a less stable matching",
    (_lib.KIND_LORS, "loss"): "3 (weighted BCE) or 1 (eNCE), which the "
        "paper finds best; eNCE recalls more on the acceptance data but "
        "can diverge once S~ has negative entries; 0 (InfoNCE) ignores "
        "the learned similarity",
    (_lib.KIND_LORS, "beta"): "keep 0.5",
    (_lib.KIND_LORS, "similarity"): "1 (low rank, the paper's); 2 (full) "
        "for a few hundred pairs at most; 0 for the ablation without "
        "similarity mining",
    (_lib.KIND_LORS, "rank"): "5 to 20 (the paper's); r = 20 is enough "
        "in its ablation",
    (_lib.KIND_LORS, "alpha"): "1; the paper uses 0.01 to 3 depending on "
        "the pairs",
    (_lib.KIND_LORS, "pairs"): "the storage budget: 100 to 500 in the "
        "paper",
    (_lib.KIND_LORS, "syn_steps"): "8 (the paper's); more is slower and "
        "matches longer stretches of the experts",
    (_lib.KIND_LORS, "expert_epochs"): "keep 1 (the paper's)",
    (_lib.KIND_LORS, "max_start_epoch"): "2 or 3 (the paper's); starts "
        "beyond buffer_epochs - expert_epochs are never drawn",
    (_lib.KIND_LORS, "batch"): "20 (the paper's), at most pairs",
    (_lib.KIND_LORS, "lr_image"): "1 for embeddings of unit-scale "
        "coordinates (the paper's 100 to 5000 are for pixels and diverge "
        "here); lower it if the loss jumps",
    (_lib.KIND_LORS, "lr_text"): "as lr_image",
    (_lib.KIND_LORS, "lr_sim"): "1; 3 or more sends S~'s diagonal "
        "negative on embeddings; 0 freezes the similarity",
    (_lib.KIND_LORS, "lr_lr"): "1e-5; the paper's 0.01 drives eta "
        "negative on embeddings",
    (_lib.KIND_LORS, "momentum"): "keep 0.5 (the paper's)",
    (_lib.KIND_LORS, "init"): "0 (real pairs, the paper's); 1 (noise) "
        "when no real pair may appear in the result",
    (_lib.KIND_LORS, "expert_lr"): "0.1 (the paper's initial eta); lower "
        "it if buffer() fails as diverged",
    (_lib.KIND_LORS, "expert_batch"): "128; smaller for small data sets",
    (_lib.KIND_LORS, "buffer_epochs"): "10 (the paper's); at least "
        "max_start_epoch + expert_epochs",
    (_lib.KIND_LORS, "experts"): "20 (the paper's); a few for trials",
    (_lib.KIND_LORS, "eval_epochs"): "10: a distilled set encodes the "
        "first epochs of training (longer training erodes its lead: "
        "docs/lors_acceptance.md); the same for every set compared",
    (_lib.KIND_LORS, "eval_batch"): "the distillation's batch (20)",
    (_lib.KIND_LORS, "eval_momentum"): "0 as the student trains; the "
        "authors' code uses 0.9",
    (_lib.KIND_LORS, "eval_weight_decay"): "0; the authors' code uses "
        "5e-4",
}


def docs(kind: int, skip: tuple = ()) -> str:
    """A docstring section listing the parameters of a kind: the library's
    description, type, bounds and default, then how to choose it."""
    lines = []
    for p in of_kind(kind).values():
        if p.name in skip:
            continue
        lines.append("      " + python_name(p.name) + p.describe()[len(p.name):])
        advice = ADVICE.get((kind, p.name))
        if advice:
            lines.append("        Choosing: " + advice + ".")
    return "\n".join(lines)
