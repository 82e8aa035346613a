# SPDX-License-Identifier: MIT
"""Every function of include/subsel.h has a Python surface or a stated
reason not to: a function added to the header without either fails here."""
import re
from pathlib import Path

import pytest

from subsel import _lib

HEADER = Path(__file__).resolve().parents[2] / "include" / "subsel.h"


def _header_functions():
    text = HEADER.read_text()
    declared = set(re.findall(r"SUBSEL_API\s+[^;(]*?\b(subsel_\w+)\s*\(",
                              text))
    # "/*! a() / b() :\n * Deprecated: ..." blocks name what they retire.
    deprecated = set()
    for block in re.findall(r"/\*!(.*?)\*/", text, re.S):
        head, _, body = block.partition(" :")
        if body.lstrip(" \n*").startswith("Deprecated"):
            deprecated |= set(re.findall(r"(subsel_\w+)\(\)", head))
    return declared, deprecated


def test_header_is_parsed():
    declared, deprecated = _header_functions()
    assert len(declared) > 150
    assert {"subsel_ot_sinkhorn", "subsel_tarot_topk",
            "subsel_csr_column_sums"} <= deprecated
    assert "subsel_ot_sinkhorn_v2" not in deprecated


def test_every_function_is_bound_or_excused():
    declared, deprecated = _header_functions()
    bound = set(_lib._DECLS) | {"subsel_version_number"}
    missing = sorted(declared - deprecated - bound - set(_lib.NOT_BOUND))
    assert missing == [], f"no Python surface and no reason: {missing}"
    # and nothing deprecated is called, nor anything the header lacks
    assert sorted(bound & deprecated) == []
    assert sorted(bound - declared) == []
    assert sorted(set(_lib.NOT_BOUND) - declared) == []
