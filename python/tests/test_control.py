# SPDX-License-Identifier: MIT
"""Cancellation (callback and Ctrl-C), progress, and threads."""
import signal
import threading

import numpy as np
import pytest

import subsel


def test_progress_reports_select_stage(fb_data):
    seen = []
    r = subsel.fb(fb_data[0], budget=12, optimizer="naive",
                  progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen[0] == ("select", 0, 12) and seen[-1] == ("select", 12, 12)
    assert len(r) == 12


def test_callback_cancels(fb_data):
    ctx = subsel.Context()
    with pytest.raises(subsel.Cancelled) as e:
        subsel.fb(fb_data[0], budget=12, ctx=ctx,
                  progress=lambda s, d, t: d >= 3)
    assert e.value.status == -7
    # The context still works after a cancelled call.
    assert len(subsel.fb(fb_data[0], budget=12, ctx=ctx)) == 12


def test_ctrl_c_cancels_and_raises_keyboard_interrupt(fb_data):
    calls = []

    def progress(stage, done, total):
        calls.append(done)
        if done == 2:
            # A real SIGINT, as Ctrl-C sends: Python's handler raises
            # KeyboardInterrupt inside the callback, which must cancel.
            # Sent to this (the main) thread: os.kill may deliver it to an
            # idle OpenMP thread, and Python would see it only after the
            # few microseconds the rest of this selection takes.
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        return False

    # Python's own Ctrl-C handler, also when this process was started with
    # SIGINT ignored (a job started in the background by a non-interactive
    # shell: Python then leaves it ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            subsel.fb(fb_data[0], budget=12, optimizer="naive",
                      progress=progress)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert max(calls) < 12  # stopped before the end


def test_exception_in_callback_propagates(fb_data):
    def progress(stage, done, total):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        subsel.fb(fb_data[0], budget=12, progress=progress)


def test_tqdm_bar(fb_data, capsys):
    pytest.importorskip("tqdm")
    r = subsel.fb(fb_data[0], budget=12, progress=True)
    assert len(r) == 12
    assert "select" in capsys.readouterr().err


def test_threads_with_their_own_contexts(fixtures, sdm_data):
    expected = np.load(fixtures / "sdm" / "order.npy")
    obj = subsel.SDM(sdm_data["source"], target=sdm_data["target"],
                     quality=sdm_data["quality"], bins=3)
    results, errors = [], []

    def work():
        try:
            ctx = subsel.Context(threads=1)  # one context per thread
            for _ in range(5):
                opt = subsel.Optimizer("lazy", budget=12, ctx=ctx)
                results.append(opt.run(obj, ctx=ctx).indices)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 20
    for r in results:
        np.testing.assert_array_equal(r, expected)


@pytest.mark.parametrize("budget", [12, 40])
def test_parallel_gains_modes_select_the_same(sdm_data, budget):
    # every mode of parallel_gains on 2 threads: the same selection and
    # gains; lazy greedy's rounds overlapped with its heap (3, pipeline)
    # or not (2, always) are the same batches, so the same evaluations
    obj = subsel.SDM(sdm_data["source"], target=sdm_data["target"],
                     quality=sdm_data["quality"], bins=3)
    runs = {}
    for mode in range(4):
        ctx = subsel.Context(threads=2, parallel_gains=mode)
        runs[mode] = subsel.Optimizer("lazy", budget=budget, ctx=ctx).run(obj, ctx=ctx)
    for mode in (1, 2, 3):
        np.testing.assert_array_equal(runs[mode].indices, runs[0].indices)
        np.testing.assert_array_equal(runs[mode].gains, runs[0].gains)
    assert runs[3].evaluations == runs[2].evaluations == runs[0].evaluations
    with pytest.raises(subsel.InvalidArgument):
        subsel.Context(parallel_gains=4)


def _child_fb(path_and_budget):
    import scipy.sparse as sp
    z = sp.load_npz(path_and_budget[0])
    return subsel.fb(z, budget=path_and_budget[1],
                     ctx=subsel.Context(threads=2)).indices.tolist()


def test_fork_after_parallel_call(fixtures, fb_data):
    import multiprocessing as mp
    # A parallel call first leaves OpenMP workers behind; a forked child must
    # still work (serially, as docs/context.md says), not hang.
    want = subsel.fb(fb_data[0], budget=12, ctx=subsel.Context(threads=2))
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_child_fb, ((str(fixtures / "fb" / "Z.npz"),
                                            12),)).get(timeout=120)
    assert got == want.indices.tolist()
