# SPDX-License-Identifier: MIT
"""Exceptions: one base class, one subclass per SUBSEL_E_* status.

`check()` is the only place a status becomes an exception, so every failing
call raises the same way and carries the library's own message.
"""
from __future__ import annotations

from . import _lib


class Error(Exception):
    """A libsubsel call failed. `status` is the negative SUBSEL_E_* code,
    `message` the library's detailed message (naming the function)."""

    status = 0

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgument(Error, ValueError):
    """SUBSEL_E_INVALID: a bad argument (size, range, ...)."""
    status = -1


class OutOfMemory(Error, MemoryError):
    """SUBSEL_E_NOMEM: an allocation failed (or the memory limit)."""
    status = -2


class IOFailure(Error, OSError):
    """SUBSEL_E_IO: a file could not be opened, read or written."""
    status = -3


class FormatError(Error, ValueError):
    """SUBSEL_E_FORMAT: malformed or truncated file or data."""
    status = -4


class NumericError(Error, ArithmeticError):
    """SUBSEL_E_NUMERIC: NaN/Inf, or an iteration did not converge."""
    status = -5


class Unsupported(Error):
    """SUBSEL_E_UNSUPPORTED: valid, but not supported by this build."""
    status = -6


class Cancelled(Error):
    """SUBSEL_E_CANCELLED: the progress callback asked to stop."""
    status = -7


class StateError(Error):
    """SUBSEL_E_STATE: the call is not valid in the handle's state."""
    status = -8


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgument, OutOfMemory, IOFailure, FormatError, NumericError,
    Unsupported, Cancelled, StateError)}


def check(status: int, ctx=None) -> int:
    """Returns `status` when it is SUBSEL_OK (or positive), else raises the
    exception of its code with the message of `ctx` (a raw context pointer,
    or None for the thread's message)."""
    if status >= 0:
        return status
    message = _lib.lib.subsel_ctx_last_error(ctx).decode("utf-8", "replace")
    if not message:
        message = _lib.lib.subsel_status_string(status).decode()
    cls = _BY_STATUS.get(status, Error)
    return_exc = cls(message, status)
    raise return_exc
