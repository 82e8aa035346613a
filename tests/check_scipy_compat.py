#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""NumPy and SciPy read what subsel's writers write.

Every fixture is read with the library and written back (by subsel-io-tool),
then loaded here with numpy.load / scipy.sparse.load_npz and compared with
the original as NumPy / SciPy read it. The zip archives are also checked
with zipfile (CRCs, member names and order, compression, ZIP64 records).

    check_scipy_compat.py SUBSEL_IO_TOOL FIXTURES_DIR

Exits 77 (skipped) when numpy or scipy cannot be imported.
"""
import os
import subprocess
import sys
import tempfile
import zipfile

try:
    import numpy as np
    import scipy.sparse as sp
except ImportError as e:
    print("skipped: %s" % e)
    sys.exit(77)

MEMBERS = ["indices.npy", "indptr.npy", "format.npy", "shape.npy", "data.npy"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def run(tool, *args):
    r = subprocess.run([tool] + [str(a) for a in args], capture_output=True,
                       text=True)
    check(r.returncode == 0, "%s: %s" % (" ".join(map(str, args)), r.stderr))
    return r.returncode == 0


def check_zip(path, mode):
    with zipfile.ZipFile(path) as z:
        check(z.testzip() is None, path + ": bad CRC")
        infos = z.infolist()
        check([i.filename for i in infos] == MEMBERS, path + ": members")
        want = zipfile.ZIP_STORED if mode == "stored" else zipfile.ZIP_DEFLATED
        check(all(i.compress_type == want for i in infos),
              path + ": compression")
    with open(path, "rb") as f:
        raw = f.read()
    check((b"PK\x06\x06" in raw) == (mode == "zip64"),
          path + ": ZIP64 end record")


def check_csr(got_path, want, label):
    got = sp.load_npz(got_path)
    check(got.format == "csr", label + ": format")
    check(got.shape == want.shape, label + ": shape")
    check(got.dtype == np.float32, label + ": dtype %s" % got.dtype)
    check(got.indices.dtype == np.int32, label + ": indices dtype")
    w = want.astype(np.float32)
    check((got != w).nnz == 0, label + ": values")
    check(np.array_equal(got.indptr, w.indptr) and
          np.array_equal(got.indices, w.indices), label + ": structure")
    with np.load(got_path) as z:
        check(z["format"].item() in (b"csr", "csr"), label + ": format.npy")
        check(z["shape"].dtype == np.int64, label + ": shape.npy dtype")


def main():
    tool, fixtures = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="subsel-scipy-")
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(fixtures)
                   for f in fs if f.endswith((".npy", ".npz")))
    for path in files:
        rel = os.path.relpath(path, fixtures)
        base = os.path.join(tmp, rel.replace("/", "_"))
        if path.endswith(".npz"):
            want = sp.load_npz(path).tocsr()
            for mode in ("stored", "deflate", "zip64"):
                out = base + "." + mode + ".npz"
                if run(tool, "csr", path, out, mode):
                    check_zip(out, mode)
                    check_csr(out, want, rel + " " + mode)
            first, count = want.shape[0] // 4, want.shape[0] // 2
            out = base + ".view.npz"
            if run(tool, "view", path, out, first, count):
                check_csr(out, want[first:first + count], rel + " rows")
            continue
        a = np.load(path)
        out = base + ".dense.npy"
        if run(tool, "dense", path, out):
            b = np.load(out)
            want = a.astype(np.float32).reshape(a.shape[0], -1)
            check(b.dtype == np.dtype("<f4") and b.shape == want.shape and
                  np.array_equal(b, want), rel + ": dense")
        if a.ndim != 1:
            continue
        out = base + ".f64.npy"
        if run(tool, "f64", path, out):
            b = np.load(out)
            check(b.dtype == np.dtype("<f8") and b.shape == a.shape and
                  np.array_equal(b, a.astype(np.float64)), rel + ": f64")
        if a.dtype.kind == "i":
            out = base + ".i64.npy"
            if run(tool, "i64", path, out):
                b = np.load(out)
                check(b.dtype == np.dtype("<i8") and np.array_equal(b, a),
                      rel + ": i64")
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)
    print("%d files checked, %d failures" % (len(files), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
