# SPDX-License-Identifier: MIT
"""The library's float16 to float32 conversion against NumPy's, on all
65536 bit patterns: every pattern that is not a NaN must convert to the
same float32 bits (zeros and subnormals included, signs included), and
every NaN pattern to a NaN of the same sign (NumPy may set the quiet bit
where hardware converts, so NaN payloads are not compared).

Usage: check_float16.py FLOAT16_TABLE_PROGRAM
Exits 0 when they agree, 1 on a mismatch, 77 (skip) without NumPy."""
import os
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "table.bin")
        rc = os.spawnv(os.P_WAIT, sys.argv[1], [sys.argv[1], out])
        if rc != 0:
            print("%s failed with %d" % (sys.argv[1], rc))
            return 1
        ours = np.fromfile(out, dtype="<u4")
    if ours.size != 65536:
        print("expected 65536 values, got %d" % ours.size)
        return 1
    halves = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    theirs_f = halves.view(np.float16).astype(np.float32)
    theirs = theirs_f.view(np.uint32)
    ours_f = ours.view(np.float32)
    nan = np.isnan(theirs_f)
    bad = []
    for h in np.nonzero(~nan & (ours != theirs))[0]:
        bad.append("0x%04x: ours 0x%08x, numpy 0x%08x" % (h, ours[h], theirs[h]))
    for h in np.nonzero(nan & ~(np.isnan(ours_f) &
                               (np.signbit(ours_f) == np.signbit(theirs_f))))[0]:
        bad.append("0x%04x: ours 0x%08x, numpy NaN 0x%08x" % (h, ours[h], theirs[h]))
    if bad:
        print("%d of 65536 patterns differ:" % len(bad))
        print("\n".join(bad[:20]))
        return 1
    print("all 65536 float16 patterns agree with numpy %s "
          "(%d finite, %d infinite, %d NaN)" %
          (np.__version__, np.isfinite(theirs_f).sum(),
           np.isinf(theirs_f).sum(), nan.sum()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
