# SPDX-License-Identifier: MIT
"""help() explains every parameter and how to choose it (issue 11)."""
import inspect
import re

import pytest

import subsel
from subsel import _lib, _params, distributed

SHORT = [subsel.sdm, subsel.fb, subsel.sinkhorn, subsel.partial_ot,
         subsel.double_greedy, subsel.UniPROT.select_batch,
         subsel.summary_select, subsel.summary_merge,
         distributed.select_part, distributed.merge, distributed.merge_like,
         distributed.dask_select, distributed.mpi_select]


def test_every_library_parameter_has_advice():
    missing = [(kind, name) for kind, params in _params.table().items()
               for name in params if (kind, name) not in _params.ADVICE]
    assert missing == []
    # and no advice for a parameter the library does not have
    known = {(k, n) for k, ps in _params.table().items() for n in ps}
    assert sorted(set(_params.ADVICE) - known) == []


@pytest.mark.parametrize("fn", SHORT, ids=lambda f: f.__qualname__)
def test_short_functions_describe_each_parameter(fn):
    doc = inspect.getdoc(fn)
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind is p.VAR_KEYWORD:
            continue
        # "name:" or in a "a, b, name:" list at the start of a line
        assert re.search(rf"^\s*([\w]+, )*{name}(, [\w]+)*:", doc, re.M), \
            f"{fn.__qualname__}: parameter {name} is not described"


@pytest.mark.parametrize("fn,kinds", [
    (subsel.sdm, (_lib.KIND_OPTIMIZER, _lib.KIND_SDM)),
    (subsel.fb, (_lib.KIND_OPTIMIZER,)),
    (subsel.summary_select, (_lib.KIND_OPTIMIZER,)),
    (subsel.sinkhorn, (_lib.KIND_OT_SOLVER,)),
    (subsel.Context, (_lib.KIND_CONTEXT,)),
    (subsel.Tarot, (_lib.KIND_TAROT,)),
    (subsel.UniPROT, (_lib.KIND_UNIPROT,)),
    (subsel.ClipCov, (_lib.KIND_CLIPCOV,)),
    (subsel.SAETrainer, (_lib.KIND_SAE_TRAINER,)),
    (subsel.LoRS, (_lib.KIND_LORS,)),
], ids=lambda x: getattr(x, "__qualname__", ""))
def test_help_lists_the_table_with_advice(fn, kinds):
    doc = inspect.getdoc(fn)
    for kind in kinds:
        for name, p in _params.of_kind(kind).items():
            if fn in (subsel.sdm, subsel.fb, subsel.summary_select) \
                    and name == "budget":
                continue  # a named argument there, described above
            line = re.search(rf"^\s*{_params.python_name(name)} \((int|float), "
                             rf".*\n\s*Choosing: .+", doc, re.M)
            assert line, f"{fn.__qualname__}: {name} without bounds or advice"
