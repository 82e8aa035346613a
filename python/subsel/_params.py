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


def docs(kind: int) -> str:
    """A docstring section listing the parameters of a kind."""
    return "\n".join("      " + python_name(p.name) + p.describe()[len(p.name):]
                     for p in of_kind(kind).values())
