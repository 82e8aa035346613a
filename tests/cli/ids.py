# SPDX-License-Identifier: MIT
"""--ids in every selecting command (issue 16): the output holds the user's
ids of the selected rows in the ids' dtype (integers of every width, bytes
'|S<n>'), in the order selected, sorted and each once with --ids-sorted, or
as DataComp's subset file with --ids-datacomp; positions stay the default;
an ids file of another length than the pool, or of a dtype that is no id,
fails naming both. Exits 77 without NumPy.

    ids.py SUBSEL
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from every_command import POOL, runs  # noqa: E402


def run(subsel, argv, expect=0):
    p = subprocess.run([subsel, *argv], capture_output=True, text=True)
    assert p.returncode == expect, (argv, p.returncode, p.stdout, p.stderr)
    return p


def with_out(argv, out):
    """argv with its output file (after -o / --out) replaced."""
    argv = list(argv)
    i = max(i for i, a in enumerate(argv) if a in ("-o", "--out"))
    argv[i + 1] = out
    return argv


def main():
    subsel = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731
        selecting = [(n, a) for n, a, sel in runs(tmp) if sel]
        assert sorted(n for n, _ in selecting) == sorted(POOL), selecting
        for name, argv in selecting:
            j = json.loads(run(subsel, with_out(argv, p("pos.npy"))).stdout)
            assert j["output"] == "positions", j
            rows = j["input_arrays"][POOL[name]]["shape"][0]
            pos = np.load(p("pos.npy"))
            assert pos.dtype == np.int64 and len(pos) > 0, (name, pos)
            kinds = {
                "u8": (np.arange(rows, dtype=np.uint64) * 7 + (1 << 63)),
                "i2": (rows - 3 * np.arange(rows)).astype(np.int16),
                "u1": (np.arange(rows) % 7).astype(np.uint8),  # repeats
                "S16": np.array([b"id-%06d" % (rows - r) for r in range(rows)], dtype="S16"),
            }
            for kind, ids in kinds.items():
                np.save(p("ids.npy"), ids)
                j = json.loads(run(subsel, [*with_out(argv, p("ids_out.npy")),
                                            "--ids", p("ids.npy")]).stdout)
                assert j["output"] == "ids" and j["ids_dtype"] == ids.dtype.str, (name, j)
                assert j["input_arrays"]["ids"] == {"shape": [rows], "dtype": ids.dtype.str}, j
                got = np.load(p("ids_out.npy"))
                assert got.dtype == ids.dtype, (name, kind, got.dtype)
                np.testing.assert_array_equal(got, ids[pos], err_msg=f"{name} {kind}")
                j = json.loads(run(subsel, [*with_out(argv, p("ids_out.npy")), "--ids",
                                            p("ids.npy"), "--ids-sorted"]).stdout)
                assert j["output"] == "ids-sorted", j
                got = np.load(p("ids_out.npy"))
                assert got.dtype == ids.dtype, (name, kind, got.dtype)
                np.testing.assert_array_equal(got, np.unique(ids[pos]),
                                              err_msg=f"{name} {kind} sorted")
            # DataComp's subset file from 32-hex-digit uids
            uids = np.array(["%032x" % ((r * 0x9E3779B97F4A7C15 + (r << 70)) % (1 << 128))
                             for r in range(rows)], dtype="S32")
            np.save(p("uids.npy"), uids)
            run(subsel, [*with_out(argv, p("subset.npy")), "--ids", p("uids.npy"),
                         "--ids-datacomp"])
            want = np.array([(int(u[:16], 16), int(u[16:32], 16)) for u in uids[pos]],
                            np.dtype("u8,u8"))
            want.sort()
            got = np.load(p("subset.npy"))
            assert got.dtype == np.dtype("u8,u8"), got.dtype
            np.testing.assert_array_equal(got, np.unique(want))
            # errors: the length (naming the ids and the pool), the dtype,
            # the flags without --ids
            np.save(p("short.npy"), np.arange(rows - 1))
            e = run(subsel, [*argv, "--ids", p("short.npy")], expect=1).stderr
            assert f"{rows - 1} ids for the {rows} rows of --{POOL[name]}" in e, (name, e)
            np.save(p("float.npy"), np.zeros(rows, np.float32))
            e = run(subsel, [*argv, "--ids", p("float.npy")], expect=1).stderr
            assert "dtype '<f4' is not an id type" in e, (name, e)
            np.save(p("text.npy"), np.array(["a"] * rows))
            e = run(subsel, [*argv, "--ids", p("text.npy")], expect=1).stderr
            assert "'<U1' is not an id type" in e, (name, e)
            e = run(subsel, [*argv, "--ids-sorted"], expect=2).stderr
            assert "--ids-sorted needs --ids" in e, (name, e)
            np.save(p("u8.npy"), kinds["u8"])
            e = run(subsel, [*argv, "--ids", p("u8.npy"), "--ids-datacomp"], expect=1).stderr
            assert "DataComp uids are 32 hex digits" in e and "'<u8'" in e, (name, e)
            print(f"{name}: --ids ok ({rows} rows)")
        # a part's summary holds no selection to name
        sdm = dict(selecting)["sdm"]
        e = run(subsel, [*sdm, "--summary", "--ids", p("ids.npy")], expect=2).stderr
        assert "--ids goes with the selection" in e, e
        # the merge of parts' summaries names its selection by --ids too
        # (the pool's size is not known there: a position past the ids fails)
        src = sdm[sdm.index("--source") + 1]
        target = ["--target", sdm[sdm.index("--target") + 1]]
        run(subsel, ["sdm", "--source", src, *target, "-k", "4", "--summary",
                     "--out", p("part-0.sss")])
        merge = ["sdm", "--merge-summaries", p("part-*.sss"), *target, "-k", "4"]
        run(subsel, [*merge, "--out", p("merged.npy")])
        pos = np.load(p("merged.npy"))
        ids = np.arange(80, dtype=np.uint32)[::-1].copy()
        np.save(p("ids32.npy"), ids)
        run(subsel, [*merge, "--out", p("merged_ids.npy"), "--ids", p("ids32.npy")])
        np.testing.assert_array_equal(np.load(p("merged_ids.npy")), ids[pos])
        np.save(p("few.npy"), ids[:2])
        e = run(subsel, [*merge, "--out", p("x.npy"), "--ids", p("few.npy")], expect=1).stderr
        assert "outside the 2 ids" in e, e


if __name__ == "__main__":
    main()
