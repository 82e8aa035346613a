# SPDX-License-Identifier: MIT
"""A Python multiprocessing child started with fork (Python's default on
Linux) after a multi-threaded selection in the parent must finish, with the
parent's selection. It used to wait for ever: libgomp's thread pool does not
survive fork. Through the public C API with ctypes, as Python users call it.

    fork_multiprocessing.py LIBSUBSEL_SO
"""
import ctypes
import multiprocessing
import random
import sys

CHILD_SECONDS = 60  # a hang guard, far above the fraction of a second it takes

lib = ctypes.CDLL(sys.argv[1])
handle = ctypes.c_void_p
lib.subsel_ctx_last_error.restype = ctypes.c_char_p
lib.subsel_selection_count.restype = ctypes.c_int64
lib.subsel_selection_indices.restype = ctypes.POINTER(ctypes.c_int64)
lib.subsel_ctx_set_int.argtypes = [handle, ctypes.c_int, ctypes.c_int64]
lib.subsel_optimizer_set_int.argtypes = [handle, ctypes.c_int, ctypes.c_int64]
lib.subsel_csr_create.argtypes = [
    handle, ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_int64),
    ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_float), ctypes.c_int,
    ctypes.POINTER(handle)]
lib.subsel_fb_create.argtypes = [handle, handle, ctypes.c_int, ctypes.c_double,
                                 ctypes.c_void_p, ctypes.POINTER(handle)]
for name in ("subsel_ctx_free", "subsel_csr_free", "subsel_objective_free",
             "subsel_optimizer_free", "subsel_selection_free"):
    getattr(lib, name).argtypes = [handle]

SUBSEL_CTX_THREADS = 1
SUBSEL_COPY = 0
SUBSEL_CONCAVE_LOG1P = 0
SUBSEL_OPT_NAIVE = 0
SUBSEL_OPT_BUDGET = 1
ROWS, COLS, PER_ROW, BUDGET = 20000, 64, 8, 6


def check(ctx, status, what):
    if status != 0:
        raise RuntimeError("%s: %d (%s)" % (what, status, lib.subsel_ctx_last_error(ctx)))


def select(threads):
    """FB with log1p over ROWS x COLS random rows, naive greedy: large enough
    that the gains run in an OpenMP team of `threads`."""
    rng = random.Random(7)
    indptr = (ctypes.c_int64 * (ROWS + 1))(*range(0, (ROWS + 1) * PER_ROW, PER_ROW))
    indices = (ctypes.c_int32 * (ROWS * PER_ROW))(
        *[k * 8 + rng.randrange(8) for _ in range(ROWS) for k in range(PER_ROW)])
    values = (ctypes.c_float * (ROWS * PER_ROW))(
        *[rng.random() for _ in range(ROWS * PER_ROW)])
    ctx, csr, obj, opt, sel = handle(), handle(), handle(), handle(), handle()
    assert lib.subsel_ctx_create(ctypes.byref(ctx)) == 0
    try:
        check(ctx, lib.subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads), "threads")
        check(ctx, lib.subsel_csr_create(ctx, ROWS, COLS, indptr, indices, values,
                                         SUBSEL_COPY, ctypes.byref(csr)), "csr")
        check(ctx, lib.subsel_fb_create(ctx, csr, SUBSEL_CONCAVE_LOG1P, 0.0, None,
                                        ctypes.byref(obj)), "fb")
        check(ctx, lib.subsel_optimizer_create(ctx, SUBSEL_OPT_NAIVE, ctypes.byref(opt)),
              "optimizer")
        check(ctx, lib.subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, BUDGET), "budget")
        check(ctx, lib.subsel_optimizer_run(ctx, opt, obj, ctypes.byref(sel)), "run")
        count = lib.subsel_selection_count(sel)
        return list(lib.subsel_selection_indices(sel)[:count])
    finally:
        lib.subsel_selection_free(sel)
        lib.subsel_optimizer_free(opt)
        lib.subsel_objective_free(obj)
        lib.subsel_csr_free(csr)
        lib.subsel_ctx_free(ctx)


def child(conn):
    try:
        conn.send(select(2))
    except Exception as e:  # report, never hang the parent
        conn.send("child failed: %s" % e)


def main():
    parent = select(2)
    assert len(parent) == BUDGET, parent
    fork = multiprocessing.get_context("fork")
    mine, theirs = fork.Pipe()
    proc = fork.Process(target=child, args=(theirs,))
    proc.start()
    if not mine.poll(CHILD_SECONDS):
        proc.kill()
        proc.join()
        print("FAIL: the forked child did not finish in %d s" % CHILD_SECONDS)
        return 1
    got = mine.recv()
    proc.join(CHILD_SECONDS)
    if got != parent:
        print("FAIL: the forked child selected %s, the parent %s" % (got, parent))
        return 1
    if proc.exitcode != 0:
        print("FAIL: the forked child exited %s" % proc.exitcode)
        return 1
    print("forked child selected %s, as the parent" % got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
