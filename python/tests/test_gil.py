# SPDX-License-Identifier: MIT
"""The GIL is released while the library works.

A second Python thread increments a counter; the progress callback, which
runs inside the call, records the counter at each report. If the call
holds the GIL, the counter cannot move between the first report (before
any work) and the last; if it releases it, the counter thread runs while
C computes. To make "cannot move" exact rather than likely:
  - the switch interval is made huge, so the interpreter never takes the
    GIL from a thread that holds it: the counter thread runs only when
    the main thread gives the GIL up (a foreign call through CDLL, or a
    blocking wait), and it gives it up itself at every increment (a 0.2
    ms Event.wait), so the main thread is never kept waiting;
  - the garbage collector is off during the calls: a finaliser calling
    the library (through CDLL) would release the GIL.
The same C function called through ctypes.PyDLL, which holds the GIL, is
the control: there the counter must not move at all, so the test shows
that it can tell the two apart. No timing is asserted: the released case
is retried with a larger budget until the counter thread got a turn (a
loaded machine may not schedule it during a short call)."""
import ctypes
import gc
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp

import subsel
from subsel import _lib


class _Counter(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.value = 0
        self.stop = threading.Event()
        self.started = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.value += 1
            self.started.set()
            self.stop.wait(0.0002)  # gives the GIL up


def _counts_during(run_fn, ctx, opt, obj, counter):
    """Counter values seen by the progress callback during one call."""
    seen = []

    def progress(stage, done, total):
        seen.append(counter.value)
        return False

    out = ctypes.c_void_p()
    ctx._call(run_fn, ctx, opt, obj, ctypes.byref(out), progress=progress)
    _lib.lib.subsel_selection_free(out)
    return seen


@pytest.fixture
def quiet_interpreter():
    old = sys.getswitchinterval()
    gc.collect()
    gc.disable()
    sys.setswitchinterval(1000.0)
    counter = _Counter()
    try:
        counter.start()
        counter.started.wait()
        yield counter
    finally:
        counter.stop.set()
        counter.join()
        sys.setswitchinterval(old)
        gc.enable()


def test_gil_is_released_during_a_selection(quiet_interpreter):
    counter = quiet_interpreter
    z = sp.random(20000, 400, density=0.05, format="csr", dtype=np.float32,
                  random_state=0)
    ctx = subsel.Context(threads=1)
    obj = subsel.FB(z, ctx=ctx)

    # Control: the same function through PyDLL keeps the GIL.
    held = ctypes.PyDLL(_lib.path).subsel_optimizer_run
    held.restype = ctypes.c_int
    held.argtypes = _lib.lib.subsel_optimizer_run.argtypes
    with subsel.Optimizer("naive", budget=40, ctx=ctx) as opt:
        seen = _counts_during(held, ctx, opt, obj, counter)
    assert len(seen) >= 2  # the first report is before any work
    assert seen[-1] == seen[0], "the counter moved while the GIL was held"

    # The package's call: the counter thread runs while C computes.
    moved = []
    for budget in (40, 80, 160, 320, 640, 1280):
        with subsel.Optimizer("naive", budget=budget, ctx=ctx) as opt:
            seen = _counts_during(_lib.lib.subsel_optimizer_run, ctx, opt,
                                  obj, counter)
        moved.append(seen[-1] - seen[0])
        if moved[-1] > 0:
            break
    print("counter moves per attempt:", moved)
    assert moved[-1] > 0, f"the counter never moved during a call: {moved}"
