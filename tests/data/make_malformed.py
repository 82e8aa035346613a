#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write the hand-made .npy / .npz test files under tests/data.

  malformed/  broken files: each must fail with the status and message that
              the table in tests/test_io.c gives (never crash).
  variants/   valid files in less common forms (format 2.0 and 3.0 headers,
              Fortran order, odd header spelling, int64 index arrays,
              float64 data, '<U3' format, ZIP64 end records, data
              descriptors, zip comments, extra members, empty matrices);
              each is checked here with NumPy / SciPy, and must load in C.

Everything is built byte by byte (struct, zlib), not with np.save or
zipfile, so every field can be set, and the output is the same on every
run. NumPy is used only to encode array data and to check the variants.

    /usr/bin/python3 tests/data/make_malformed.py

The small matrix most files hold is the 3 x 4 CSR matrix
    [[1 0 2 0]
     [0 0 0 0]
     [0 3 0 4]]
(the variants' expected values are written out in tests/test_io.c).
"""
import os
import shutil
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MALFORMED = os.path.join(HERE, "malformed")
VARIANTS = os.path.join(HERE, "variants")

BASE = dict(indptr=[0, 2, 2, 4], indices=[0, 2, 1, 3], data=[1, 2, 3, 4],
            shape=(3, 4))
DENSE = np.array([[1, 0, 2, 0], [0, 0, 0, 0], [0, 3, 0, 4]])


# --------------------------------------------------------------------------
# .npy
# --------------------------------------------------------------------------

def header_dict(descr, shape, fortran=False):
    return "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (
        descr, fortran, tuple(shape))


def npy(descr, shape, raw, fortran=False, version=1, text=None, align=64,
        length=None):
    """An .npy file; `text` replaces the header dict, `length` the length
    field."""
    if text is None:
        text = header_dict(descr, shape, fortran)
    hb = text.encode("utf-8" if version == 3 else "latin-1")
    pre = 10 if version == 1 else 12
    pad = (-(pre + len(hb) + 1)) % align
    hb += b" " * pad + b"\n"
    n = len(hb) if length is None else length
    size = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([version, 0]) + size + hb + raw


def arr(values, dtype, shape=None, fortran=False):
    """An .npy file of values as NumPy would write them."""
    a = np.asarray(values, dtype=dtype)
    if shape is not None:
        a = a.reshape(shape)
    raw = a.tobytes(order="F" if fortran else "C")
    return npy(a.dtype.str, a.shape, raw, fortran=fortran)


# --------------------------------------------------------------------------
# zip
# --------------------------------------------------------------------------

class Member:
    """A zip member; the attributes after `data` override what the writer
    would compute."""

    def __init__(self, name, data, method=8, **kw):
        self.name = name
        self.data = data
        self.method = method
        self.flags = 0
        self.crc = None          # CRC-32 to declare
        self.compressed = None   # bytes stored as the member's data
        self.csize = None        # declared compressed size
        self.usize = None        # declared uncompressed size
        self.local_name = None   # name in the local header
        self.local_offset = None # offset the central directory gives
        self.cd_zip64 = False    # sizes and offset in a ZIP64 extra field
        self.cd_saturate = False # 0xFFFFFFFF sizes with no extra field
        self.descriptor = False  # data descriptor after the data (bit 3)
        self.disk = 0
        for k, v in kw.items():
            setattr(self, k, v)


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def build_zip(members, zip64_end=False, comment=b"", disk=0, entries=None,
              cd_offset=None, locator_offset=None):
    out = bytearray()
    cd = bytearray()
    for m in members:
        name = m.name.encode()
        comp = m.compressed
        if comp is None:
            comp = deflate(m.data) if m.method == 8 else m.data
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        usize = len(m.data) if m.usize is None else m.usize
        csize = len(comp) if m.csize is None else m.csize
        offset = len(out)
        lname = name if m.local_name is None else m.local_name.encode()
        # NumPy's savez (force_zip64=True) puts a ZIP64 extra in every
        # local header, with the sizes also in the 32-bit fields.
        lextra = struct.pack("<HHQQ", 1, 16, usize, csize)
        lcrc, lc, lu = (0, 0, 0) if m.descriptor else (crc, csize, usize)
        lc, lu = min(lc, 0xFFFFFFFF), min(lu, 0xFFFFFFFF)
        flags = m.flags | (8 if m.descriptor else 0)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, m.method, 0,
                           0x21, lcrc, lc, lu, len(lname), len(lextra))
        out += lname + lextra + comp
        if m.descriptor:
            out += struct.pack("<IIII", 0x08074B50, crc, csize, usize)
        off = offset if m.local_offset is None else m.local_offset
        cextra = b""
        cu, cc, co = usize, csize, off
        if m.cd_zip64:
            cextra = struct.pack("<HHQQQ", 1, 24, usize, csize, off)
            cu = cc = co = 0xFFFFFFFF
        if m.cd_saturate:
            cu = 0xFFFFFFFF
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, flags,
                          m.method, 0, 0x21, crc, cc, cu, len(name),
                          len(cextra), 0, m.disk, 0, 0o600 << 16, co)
        cd += name + cextra
    cdo = len(out)
    out += cd
    n = len(members) if entries is None else entries
    if zip64_end:
        z64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n,
                           len(cd), cdo)
        out += struct.pack("<IIQI", 0x07064B50, 0,
                           z64 if locator_offset is None else locator_offset,
                           1)
        n16, size32, off32 = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    else:
        n16, size32 = n, len(cd)
        off32 = cdo if cd_offset is None else cd_offset
    out += struct.pack("<IHHHHIIH", 0x06054B50, disk, disk, n16, n16, size32,
                       off32, len(comment)) + comment
    return bytes(out)


def csr_members(indptr=None, indices=None, data=None, shape=None, fmt=b"csr",
                ip_dtype="<i4", ix_dtype="<i4", data_dtype="<f4",
                shape_dtype="<i8", method=8):
    """The five members of scipy.sparse.save_npz, in its order."""
    b = BASE
    indptr = b["indptr"] if indptr is None else indptr
    indices = b["indices"] if indices is None else indices
    data = b["data"] if data is None else data
    shape = b["shape"] if shape is None else shape
    if isinstance(fmt, bytes):
        fmt_npy = npy("|S%d" % len(fmt), (), fmt)
    else:
        fmt_npy = npy("<U%d" % len(fmt), (), fmt.encode("utf-32-le"))
    return [Member("indices.npy", arr(indices, ix_dtype), method),
            Member("indptr.npy", arr(indptr, ip_dtype), method),
            Member("format.npy", fmt_npy, method),
            Member("shape.npy", arr(shape, shape_dtype), method),
            Member("data.npy", arr(data, data_dtype), method)]


def csr_zip(members=None, **kw):
    return build_zip(csr_members() if members is None else members, **kw)


def with_member(name, replace=None, **attrs):
    """The base members with one member's data replaced or attributes
    set."""
    ms = csr_members()
    for m in ms:
        if m.name == name:
            if replace is not None:
                m.data = replace
            for k, v in attrs.items():
                setattr(m, k, v)
    return ms


# --------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------

def malformed_npy():
    f8 = arr([1.5, 2.5, 3.5], "<f8")
    good_dict = header_dict("<f8", (3,))
    raw3 = np.array([1.5, 2.5, 3.5], "<f8").tobytes()
    return {
        "bad_magic.npy": b"\x93NUMPX" + f8[6:],
        "empty.npy": b"",
        "truncated_preamble.npy": f8[:7],
        "truncated_header.npy": f8[:40],
        "truncated_data.npy": npy("<f8", (10,), raw3),
        "shape_too_small.npy": npy("<f8", (2,), raw3),
        "negative_shape.npy": npy("<f8", (-3,), raw3),
        "huge_shape.npy": npy("<f4", (1 << 40, 4), raw3),
        "overflow_shape.npy": npy("<f8", (1 << 32, 1 << 32), raw3),
        "bytes_overflow.npy": npy("<f8", (1 << 62,), raw3),
        "bigint_shape.npy": npy("<f8", None, raw3,
                                text="{'descr': '<f8', 'fortran_order': "
                                "False, 'shape': (99999999999999999999,), }"),
        "complex_dtype.npy": npy("<c16", (3,), raw3 + raw3),
        "big_endian.npy": npy(">f8", (3,), raw3),
        "object_dtype.npy": npy("|O", (3,), raw3),
        "unsigned_dtype.npy": npy("<u4", (6,), raw3),
        "structured_dtype.npy": npy(None, None, raw3,
                                    text="{'descr': [('a', '<f8')], "
                                    "'fortran_order': False, 'shape': (3,), }"),
        "fortran_3d.npy": npy("<f4", (2, 3, 4), b"\0" * 96, fortran=True),
        "missing_comma.npy": npy(None, None, raw3, text=good_dict.replace(
            "'<f8', ", "'<f8' ")),
        "missing_key.npy": npy(None, None, raw3,
                               text="{'descr': '<f8', 'fortran_order': False}"),
        "unknown_key.npy": npy(None, None, raw3, text=good_dict.replace(
            "}", "'order': 'C', }")),
        "duplicate_key.npy": npy(None, None, raw3, text=good_dict.replace(
            "}", "'descr': '<f8', }")),
        "shape_not_tuple.npy": npy(None, None, raw3, text=good_dict.replace(
            "(3,)", "(3)")),
        "bad_bool.npy": npy(None, None, raw3, text=good_dict.replace(
            "False", "false")),
        "unterminated_dict.npy": npy(None, None, raw3,
                                     text=good_dict.replace("}", "")),
        "unterminated_string.npy": npy(None, None, raw3,
                                       text="{'descr': '<f8"),
        "garbage_after_dict.npy": npy(None, None, raw3, text=good_dict + " x"),
        "nul_in_header.npy": npy(None, None, raw3,
                                 text=good_dict.replace(" 'shape'", "\0'shape'")),
        "version_9.npy": f8[:6] + b"\x09\x00" + f8[8:],
        "header_too_long.npy": npy("<f8", (3,), raw3, version=2,
                                   length=1 << 31),
        "header_len_past_eof.npy": npy("<f8", (3,), b"", length=4000),
        "nan.npy": arr([[1, 2], [float("nan"), 4]], "<f4"),
        "inf_f8.npy": arr([[1, 2], [3, float("inf")]], "<f8"),
        "f8_overflow.npy": arr([1.0, 1e300, 2.0], "<f8"),
        "string_dtype.npy": npy("<U3", (2,), "abcdef".encode("utf-32-le")),
    }


def index_out_of_range():
    # 5 x 50, rows of 6, 6, 4, 4, 4 entries; entry 17 is in row 3.
    counts = [6, 6, 4, 4, 4]
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate([np.arange(c) * 5 + r for r, c in
                              enumerate(counts)])
    indices[17] = 60
    return csr_zip(csr_members(indptr, indices, np.ones(indices.size),
                               (5, 50)))


def malformed_npz():
    stored = csr_zip(csr_members(method=0))
    good = csr_zip()
    deflated = deflate(arr(BASE["data"], "<f4"))
    files = {
        "empty.npz": b"",
        "not_a_zip.npz": arr([1.0], "<f8"),
        "truncated.npz": stored[: len(stored) // 2],
        "missing_member.npz": build_zip(
            [m for m in csr_members() if m.name != "indices.npy"]),
        "duplicate_member.npz": build_zip(csr_members() + csr_members()[:1]),
        "bad_crc.npz": build_zip(with_member("data.npy", crc=0x12345678)),
        "eocd_offset_garbage.npz": csr_zip(cd_offset=0x7FFFFF00),
        "eocd_entries_garbage.npz": csr_zip(entries=500),
        "multi_disk.npz": csr_zip(disk=1),
        "local_offset_past_eof.npz": build_zip(
            with_member("indptr.npy", local_offset=1 << 30)),
        "local_header_missing.npz": build_zip(
            with_member("indptr.npy", local_offset=7)),
        "local_name_mismatch.npz": build_zip(
            with_member("indptr.npy", local_name="indptr.npx")),
        "stored_size_mismatch.npz": build_zip(
            with_member("data.npy", method=0, csize=10)),
        "deflate_bomb_size.npz": build_zip(
            with_member("data.npy", usize=1 << 40, cd_zip64=True)),
        "deflate_corrupt.npz": build_zip(
            with_member("data.npy", compressed=b"\x07" + deflated[1:])),
        "deflate_truncated.npz": build_zip(
            with_member("data.npy", compressed=deflated[:-6])),
        "deflate_trailing.npz": build_zip(
            with_member("data.npy", compressed=deflated + b"junk")),
        "declared_size_too_big.npz": build_zip(
            with_member("data.npy", usize=len(arr(BASE["data"], "<f4")) + 8)),
        "encrypted.npz": build_zip(with_member("indices.npy", flags=1)),
        "bzip2_method.npz": build_zip(with_member("indices.npy", method=12,
                                                  compressed=b"BZh9")),
        "zip64_missing_extra.npz": build_zip(
            with_member("indices.npy", cd_saturate=True)),
        "zip64_locator_garbage.npz": csr_zip(zip64_end=True,
                                             locator_offset=1 << 40),
        "unsorted_indices.npz": csr_zip(csr_members(indices=[2, 0, 1, 3])),
        "duplicate_indices.npz": csr_zip(csr_members(indices=[0, 0, 1, 3])),
        "index_out_of_range.npz": index_out_of_range(),
        "negative_index.npz": csr_zip(csr_members(indices=[0, 2, -1, 3])),
        "index_int64_overflow.npz": csr_zip(csr_members(
            indices=[0, 2, 1, 1 << 31], ix_dtype="<i8")),
        "decreasing_indptr.npz": csr_zip(csr_members(indptr=[0, 3, 2, 4])),
        "indptr_start_nonzero.npz": csr_zip(csr_members(indptr=[1, 2, 2, 4])),
        "indptr_length.npz": csr_zip(csr_members(indptr=[0, 2, 2, 4, 4])),
        "indices_length.npz": csr_zip(csr_members(indices=[0, 2, 1])),
        "data_length.npz": csr_zip(csr_members(data=[1, 2, 3, 4, 5])),
        "nan_data.npz": csr_zip(csr_members(data=[1, 2, float("nan"), 4])),
        "data_f8_overflow.npz": csr_zip(csr_members(data=[1, 1e300, 3, 4],
                                                    data_dtype="<f8")),
        "big_endian_data.npz": csr_zip(csr_members(data_dtype=">f4")),
        "shape_three.npz": csr_zip(csr_members(shape=(3, 4, 5))),
        "shape_negative.npz": csr_zip(csr_members(shape=(-3, 4))),
        "shape_float.npz": csr_zip(csr_members(shape=(3.0, 4.0),
                                               shape_dtype="<f8")),
        "shape_too_wide.npz": csr_zip(csr_members(shape=(3, 1 << 33))),
        "csc_format.npz": csr_zip(csr_members(fmt=b"csc")),
        "coo_format.npz": build_zip([
            Member("row.npy", arr([0, 0, 2, 2], "<i4")),
            Member("col.npy", arr([0, 2, 1, 3], "<i4")),
            Member("format.npy", npy("|S3", (), b"coo")),
            Member("shape.npy", arr([3, 4], "<i8")),
            Member("data.npy", arr([1, 2, 3, 4], "<f4"))]),
        "format_not_string.npz": build_zip(
            with_member("format.npy", replace=arr([1], "<i8"))),
        "trailing_in_member.npz": build_zip(
            with_member("data.npy", replace=arr(BASE["data"], "<f4") + b"xxxx")),
        "member_header_garbage.npz": build_zip(
            with_member("indptr.npy", replace=b"\x93NUMPY\x01\x00\x04\x00{x}\n")),
    }
    assert good != stored
    return files


def variants_npy():
    m = DENSE
    raw_f8 = m.astype("<f8").tobytes()
    odd = ('{"shape" :(3 ,4),"fortran_order":False ,\t"descr":"<f8"}')
    return {
        "dense_f4.npy": arr(m, "<f4"),
        "dense_f8.npy": arr(m, "<f8"),
        "dense_i4.npy": arr(m, "<i4"),
        "dense_i8.npy": arr(m, "<i8"),
        "dense_fortran.npy": arr(m, "<f8", fortran=True),
        "dense_v2.npy": npy("<f8", (3, 4), raw_f8, version=2),
        "dense_v3.npy": npy("<f8", (3, 4), raw_f8, version=3),
        "dense_odd_header.npy": npy(None, None, raw_f8, text=odd),
        "dense_python2_long.npy": npy(None, None, raw_f8, text=(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L)}")),
        "dense_align16.npy": npy("<f8", (3, 4), raw_f8, align=16),
        "vector_f8.npy": arr([1.5, -2.25, 1e300, float("inf")], "<f8"),
        "vector_i4.npy": arr([7, -8, 9], "<i4"),
        "vector_i8.npy": arr([1 << 40, -5, 0], "<i8"),
        "vector_row.npy": arr([[1, 2, 3, 4, 5]], "<f4"),
        "vector_column_fortran.npy": arr([[1], [2], [3], [4], [5]], "<f4",
                                         fortran=True),
        "vector_empty.npy": arr([], "<f8"),
        "scalar_0d.npy": npy("<f8", (), np.array(2.5, "<f8").tobytes()),
        "empty_2d.npy": arr(np.zeros((0, 5)), "<f4"),
    }


def variants_npz():
    ms = csr_members()
    shuffled = [ms[4], ms[2], ms[0], ms[3], ms[1]]
    return {
        "csr_deflate.npz": csr_zip(),
        "csr_stored.npz": csr_zip(csr_members(method=0)),
        "csr_mixed_methods.npz": build_zip([
            m if i % 2 else Member(m.name, m.data, 0)
            for i, m in enumerate(csr_members())]),
        "csr_int64_arrays.npz": csr_zip(csr_members(
            ip_dtype="<i8", ix_dtype="<i8", shape_dtype="<i4",
            data_dtype="<f8")),
        "csr_int_data.npz": csr_zip(csr_members(data_dtype="<i8")),
        "csr_unicode_format.npz": csr_zip(csr_members(fmt="csr")),
        "csr_comment.npz": csr_zip(comment=b"a zip comment"),
        "csr_zip64.npz": build_zip([Member(m.name, m.data, m.method,
                                           cd_zip64=True)
                                    for m in csr_members()], zip64_end=True),
        "csr_descriptor.npz": build_zip([Member(m.name, m.data, m.method,
                                               descriptor=True)
                                        for m in csr_members()]),
        "csr_shuffled_extra.npz": build_zip(
            shuffled + [Member("README.txt", b"not an array\n", 0)]),
        "csr_empty_rows.npz": csr_zip(csr_members(
            indptr=[0, 0, 0, 0], indices=[], data=[])),
        "csr_0x0.npz": csr_zip(csr_members(indptr=[0], indices=[], data=[],
                                           shape=(0, 0))),
    }


def check_variants():
    """The variants are valid: NumPy and SciPy read what we expect."""
    import scipy.sparse as sp
    want = sp.csr_matrix(DENSE.astype(np.float32))
    for name in sorted(os.listdir(VARIANTS)):
        path = os.path.join(VARIANTS, name)
        if name.endswith(".npz"):
            m = sp.load_npz(path)
            if "empty" in name or "0x0" in name:
                assert m.nnz == 0, name
            else:
                assert (m != want).nnz == 0, name
        elif name.startswith("dense_"):
            a = np.load(path)
            assert a.shape == (3, 4) and (a == DENSE).all(), name
        else:
            np.load(path)


def write_all(folder, files):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in sorted(files.items()):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def main():
    write_all(MALFORMED, {**malformed_npy(), **malformed_npz()})
    write_all(VARIANTS, {**variants_npy(), **variants_npz()})
    check_variants()
    print("%d malformed, %d variants" % (len(os.listdir(MALFORMED)),
                                         len(os.listdir(VARIANTS))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
