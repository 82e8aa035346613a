# SPDX-License-Identifier: MIT
"""Selections as the user's ids (issue 16): Selection.ids() in memory and
Selection.save(ids=...) through the library's writer, which the CLI's --ids
uses too: the ids' dtype kept, the order chosen, sorted and each once, and
DataComp's subset file (uint64 pairs of the 32-hex-digit uids, sorted)."""
import numpy as np
import pytest

import subsel


@pytest.fixture
def selection(fb_data):
    r = subsel.fb(fb_data[0], budget=12, optimizer="naive")
    assert len(r.indices) == 12
    return r, fb_data[0].shape[0]


@pytest.mark.parametrize("dtype", ["<u8", "<i8", "<i4", "<u2", "|u1", "<i2",
                                   ">u4"])
def test_integer_ids_keep_their_dtype(selection, dtype, tmp_path):
    r, rows = selection
    ids = ((np.arange(rows) * 7919) % 251).astype(dtype)
    np.testing.assert_array_equal(r.ids(ids), ids[r.indices])
    assert r.ids(ids).dtype == ids.dtype
    np.testing.assert_array_equal(r.ids(ids, sort=True),
                                  np.unique(ids[r.indices]))
    r.save(tmp_path / "ids.npy", ids=ids)
    back = np.load(tmp_path / "ids.npy")
    assert back.dtype == ids.dtype.newbyteorder("<")
    np.testing.assert_array_equal(back, ids[r.indices])
    r.save(tmp_path / "sorted.npy", ids=ids, sort=True)
    np.testing.assert_array_equal(np.load(tmp_path / "sorted.npy"),
                                  np.unique(ids[r.indices]))


def test_byte_ids_sort_as_numpy_does(selection, tmp_path):
    r, rows = selection
    words = [b"b", b"ab", b"abc", b"a", b"ba"]
    ids = np.array([words[i % 5] + bytes([65 + i % 3]) for i in range(rows)],
                   dtype="S4")
    r.save(tmp_path / "s.npy", ids=ids, sort=True)
    back = np.load(tmp_path / "s.npy")
    assert back.dtype == np.dtype("S4")
    np.testing.assert_array_equal(back, np.unique(ids[r.indices]))
    np.testing.assert_array_equal(back, r.ids(ids, sort=True))


def test_datacomp_subset_file(selection, tmp_path):
    r, rows = selection
    rng = np.random.default_rng(5)
    uids = np.array(["%032x" % int(v) for v in
                     rng.integers(0, 2**62, rows) * 3 + (1 << 100)], dtype="S32")
    r.save(tmp_path / "subset.npy", ids=uids, datacomp=True)
    got = np.load(tmp_path / "subset.npy")
    # DataComp's own recipe for its --subset_file
    want = np.array([(int(u[:16], 16), int(u[16:32], 16))
                     for u in uids[r.indices]], np.dtype("u8,u8"))
    want.sort()
    want = np.unique(want)
    assert got.dtype == np.dtype("u8,u8")
    np.testing.assert_array_equal(got, want)


def test_bad_ids_are_refused(selection, tmp_path):
    r, rows = selection
    with pytest.raises(TypeError, match="<f8"):
        r.ids(np.zeros(rows))
    with pytest.raises(TypeError, match="<U"):
        r.save(tmp_path / "x.npy", ids=np.array(["a"] * rows))
    with pytest.raises(ValueError, match="ids"):
        r.ids(np.arange(int(r.indices.max())))
    with pytest.raises(ValueError, match="1-D"):
        r.save(tmp_path / "x.npy", ids=np.zeros((rows, 2), np.int64))
    with pytest.raises(ValueError, match="go with ids"):
        r.save(tmp_path / "x.npy", sort=True)
    with pytest.raises(subsel.InvalidArgument, match="hex"):
        r.save(tmp_path / "x.npy", ids=np.array([b"z" * 32] * rows),
               datacomp=True)
    with pytest.raises(subsel.InvalidArgument, match="DataComp"):
        r.save(tmp_path / "x.npy", ids=np.arange(rows), datacomp=True)
