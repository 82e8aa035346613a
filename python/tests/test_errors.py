# SPDX-License-Identifier: MIT
"""Errors: the class of each status, and the library's messages."""
import ctypes

import numpy as np
import pytest
import scipy.sparse as sp

import subsel


def test_budget_above_pool(sdm_data):
    with pytest.raises(subsel.InvalidArgument, match="budget") as e:
        subsel.sdm(sdm_data["source"], target=sdm_data["target"], budget=1000)
    assert e.value.status == -1 and isinstance(e.value, ValueError)
    assert e.value.message == "budget 1000 is larger than the pool of 80 items"


def test_lambda_out_of_bounds(sdm_data):
    with pytest.raises(subsel.InvalidArgument, match="lambda"):
        subsel.sdm(sdm_data["source"], target=sdm_data["target"], budget=3,
                   lambda_=2)


def test_bin_weights_count(sdm_data):
    with pytest.raises(subsel.InvalidArgument, match="weights"):
        subsel.sdm(sdm_data["source"], target=sdm_data["target"],
                   quality=sdm_data["quality"], bin_weights=[1, 2], budget=3)


def test_missing_file_is_io_error(tmp_path):
    with pytest.raises(subsel.IOFailure, match="none.npz") as e:
        subsel.load_npz(tmp_path / "none.npz")
    assert isinstance(e.value, OSError) and isinstance(e.value, subsel.Error)


def test_malformed_file_is_format_error(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(subsel.FormatError):
        subsel.load_npz(tmp_path / "bad.npz")


def test_nan_value_is_numeric_error():
    m = sp.csr_matrix(np.array([[1.0, np.nan]], dtype=np.float32))
    with pytest.raises(subsel.NumericError):
        subsel.csr(m)


def test_unknown_keyword_and_param_names():
    with pytest.raises(TypeError, match="known: .*budget"):
        subsel.Optimizer("lazy", bugdet=3)
    with pytest.raises(ValueError, match="unknown algorithm"):
        subsel.Optimizer("greedy")
    with pytest.raises(subsel.InvalidArgument, match="epsilon"):
        subsel.Optimizer("stochastic", epsilon=1.5)


def test_memory_limit_from_table(fb_data):
    ctx = subsel.Context(memory_limit=1024)
    assert ctx["memory_limit"] == 1024
    with pytest.raises(subsel.OutOfMemory, match="limit"):
        subsel.csr(fb_data[0], copy=True, ctx=ctx)


def test_params_come_from_library_table():
    p = subsel.Optimizer.params()
    assert set(p) >= {"budget", "runs", "min_runs", "stop_nonpositive",
                      "epsilon"}
    assert p["runs"].default == 1 and p["epsilon"].open_max
    assert "budget" in subsel.sdm.__doc__ and "[1, 1024]" in subsel.sdm.__doc__
    assert subsel.Context.params()["threads"].maximum == 4096


def test_wrong_objects_raise_never_crash(fb_data):
    m = subsel.csr(fb_data[0])
    opt = subsel.Optimizer("lazy", budget=3)
    # ctypes wraps the TypeError of the argument check in ArgumentError;
    # the kind is checked with subsel_handle_kind() before C sees it.
    with pytest.raises(ctypes.ArgumentError, match="expected an objective, not int"):
        opt.run(12345)  # an int would be read as an address by C
    with pytest.raises(ctypes.ArgumentError, match=r"not CSR \(CSR"):
        opt.run(m)  # a matrix where an objective belongs
    with pytest.raises(ctypes.ArgumentError, match="an SDM objective"):
        subsel.SDM.kl(subsel.FB(m), [0])


def test_context_is_freed_by_its_last_reference():
    # No reference cycle: a context (a thread's default one too) is freed
    # when its last reference goes, without the cycle collector (valgrind
    # found contexts alive, so never freed, at exit).
    import gc
    import threading
    import weakref
    gc.disable()
    try:
        ctx = subsel.Context()
        ref = weakref.ref(ctx)
        del ctx
        assert ref() is None
        refs = []
        t = threading.Thread(
            target=lambda: refs.append(weakref.ref(subsel.default_context())))
        t.start()
        t.join()
        assert refs[0]() is None
    finally:
        gc.enable()
