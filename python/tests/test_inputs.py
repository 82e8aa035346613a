# SPDX-License-Identifier: MIT
"""Zero-copy inputs (checked by pointer), conversions, lifetimes."""
import ctypes
import gc

import numpy as np
import pytest
import scipy.sparse as sp

import subsel


@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array])
def test_csr_borrows_scipy_arrays(fb_data, index, kind):
    z = kind(fb_data[0])
    z.indptr, z.indices = z.indptr.astype(index), z.indices.astype(index)
    z.data = z.data.astype(np.float32)
    m = subsel.csr(z)
    assert m.shape == z.shape and m.nnz == z.nnz
    assert m.index_dtype == np.dtype(index)
    row = int(np.argmax(np.diff(z.indptr)))
    idx, val, n = m._row_pointers(row)
    start = int(z.indptr[row])
    assert n == z.indptr[row + 1] - start > 0
    assert idx == z.indices.ctypes.data + start * z.indices.itemsize
    assert val == z.data.ctypes.data + start * 4


def test_csr_float64_values_converted_indices_borrowed(fb_data):
    z = fb_data[0].astype(np.float64)
    m = subsel.csr(z)
    idx, val, n = m._row_pointers(0)
    assert idx == z.indices.ctypes.data
    assert val != z.data.ctypes.data  # converted once to float32
    np.testing.assert_array_equal(m.row(0)[1], z[[0]].data.astype(np.float32))


def _unaligned(a):
    """A copy of `a` that starts one byte into a buffer, as arrays
    deserialised from packed frames (Dask's) can."""
    raw = np.empty(a.nbytes + 1, np.uint8)
    out = raw[1:].view(a.dtype)
    out[:] = a
    assert not out.flags.aligned
    return out


def test_csr_copies_unaligned_arrays(fb_data):
    z = fb_data[0].astype(np.float32)
    u = z.copy()  # set after construction, which would copy them
    u.data, u.indices, u.indptr = (_unaligned(z.data), _unaligned(z.indices),
                                   _unaligned(z.indptr))
    assert not u.indptr.flags.aligned
    m = subsel.csr(u)  # the library refuses unaligned arrays: copied here
    np.testing.assert_array_equal(m.to_scipy().toarray(), z.toarray())
    idx, val, _ = m._row_pointers(0)
    assert idx != u.indices.ctypes.data and val != u.data.ctypes.data


def test_csr_copy_flag_copies(fb_data):
    z = fb_data[0]
    m = subsel.csr(z, copy=True)
    assert m._row_pointers(0)[0] != z.indices.ctypes.data


def test_dense_strided_and_mmap_are_borrowed(tmp_path):
    a = np.arange(60, dtype=np.float32).reshape(6, 10)
    view = a[::2, :7]  # rows 20 floats apart, 7 columns
    d = subsel.dense(view)
    assert d.shape == (3, 7) and d.row_stride == 20
    assert d.data_address == view.ctypes.data
    np.save(tmp_path / "x.npy", a)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    d = subsel.dense(mm)
    assert d.data_address == mm.ctypes.data and d.row_stride == 10
    assert subsel.load_npy(tmp_path / "x.npy").shape == (6, 10)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_dense_other_floats_converted(dtype):
    a = np.ones((4, 3), dtype=dtype)
    d = subsel.dense(a)
    assert d.shape == (4, 3) and d.data_address != a.ctypes.data


def test_drop_the_pool_keep_the_objective(fixtures, fb_data):
    z, w = fb_data
    # Arrays only this function holds: the objective must keep them alive.
    pool = sp.csr_matrix((z.data.copy(), z.indices.copy(), z.indptr.copy()),
                         shape=z.shape)
    obj = subsel.FB(pool, weights=w, concave="sqrt")
    del pool
    gc.collect()
    np.zeros(10**6)  # reuse freed memory if anything was freed
    r = subsel.Optimizer("naive", budget=12).run(obj)
    np.testing.assert_array_equal(
        r.indices, np.load(fixtures / "fb" / "order_sqrt.npy"))


def test_closed_handle_is_refused(fb_data):
    m = subsel.csr(fb_data[0])
    m.close()
    # ctypes wraps the ValueError of the conversion; never reaches C as NULL.
    with pytest.raises(ctypes.ArgumentError, match="closed"):
        m.nnz


def test_no_leaks_under_a_memory_limit(fb_data, sdm_data):
    # The library counts every byte it holds for a context's handles against
    # memory_limit: if the package failed to free matrices, objectives,
    # optimizers or selections, 300 rounds would pass 256 KiB and raise
    # OutOfMemory (a leaking close() fails at round 50, tried by hand).
    ctx = subsel.Context(memory_limit=256 << 10)
    z, w = fb_data
    for _ in range(300):
        m = subsel.csr(z, copy=True, ctx=ctx)
        r = subsel.fb(m, weights=w, budget=12, ctx=ctx)
        s = subsel.sdm(sdm_data["source"], target=sdm_data["target"],
                       budget=12, optimizer="lazy", ctx=ctx)
        del m
    assert len(r) == 12 and len(s) == 12


def test_mapped_loads_match_copies(tmp_path):
    """map_files 1 (mapped, in place where aligned) and 0 (copied) load the
    same matrices, from SciPy's files and subsel's; the mapped matrix
    outlives the file's name, and a damaged byte fails both ways alike."""
    rng = np.random.default_rng(5)
    m = sp.random(300, 50, density=0.2, format="csr", dtype=np.float32,
                  random_state=rng)
    scipy_path, ours_path = tmp_path / "scipy.npz", tmp_path / "ours.npz"
    sp.save_npz(scipy_path, m, compressed=False)
    subsel.load_npz(scipy_path).save_npz(ours_path, compressed=False)
    values = rng.random((40, 7), dtype=np.float32)
    dense_path = tmp_path / "d.npy"
    np.save(dense_path, values)
    mapped, copied = subsel.Context(map_files=1), subsel.Context(map_files=0)
    assert mapped["map_files"] == 1 and copied["map_files"] == 0
    for path in (scipy_path, ours_path):
        for ctx in (mapped, copied):
            got = subsel.load_npz(path, ctx=ctx).to_scipy()
            assert got.shape == m.shape and (got != m).nnz == 0
    d = subsel.load_npy(dense_path, ctx=mapped)
    dense_path.unlink()  # the mapping keeps the data
    assert np.array_equal(d.to_numpy(), values)
    raw = bytearray(ours_path.read_bytes())
    raw[len(raw) // 2] ^= 1  # inside indices.npy or data.npy
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(raw))
    messages = []
    for ctx in (mapped, copied):
        with pytest.raises(subsel.Error) as e:
            subsel.load_npz(bad, ctx=ctx)
        messages.append(str(e.value))
    assert messages[0] == messages[1] and "CRC-32 mismatch" in messages[0]


def test_loaders_report_their_stages_and_can_be_cancelled(tmp_path):
    m = sp.random(3000, 40, density=0.1, format="csr", dtype=np.float32,
                  random_state=0)
    sp.save_npz(tmp_path / "m.npz", m, compressed=False)
    seen = []
    z = subsel.load_npz(tmp_path / "m.npz",
                        progress=lambda *call: seen.append(call))
    assert z.shape == (3000, 40)
    assert ("validate", 3000, 3000) in seen
    loads = [call for call in seen if call[0] == "load"]
    assert loads and loads[-1][1] == loads[-1][2] > 0
    with pytest.raises(subsel.Cancelled):
        subsel.load_npz(tmp_path / "m.npz",
                        progress=lambda stage, done, total: stage == "validate")

    np.save(tmp_path / "x.npy", np.ones((100, 8), np.float32))
    seen = []
    x = subsel.load_npy(tmp_path / "x.npy",
                        progress=lambda *call: seen.append(call))
    assert x.shape == (100, 8)
    assert seen[0] == ("load", 0, 3200) and seen[-1] == ("load", 3200, 3200)
    with pytest.raises(subsel.Cancelled):
        subsel.load_npy(tmp_path / "x.npy", progress=lambda *call: True)
