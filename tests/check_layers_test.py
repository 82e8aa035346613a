#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer check (lib/check_layers.py) on scratch lib/ trees.

Three folders, low < mid < top, where mid may use low and top may use mid:
the check passes on the right includes (and writes its stamp and a depfile
naming what it read), and fails, saying why and what to change, on every
way a folder can reach where it may not: a wrong-way include (quoted,
angled or relative), a lower folder it did not declare, a declared use it
does not include or that is not below it, a header outside lib/, and a
computed include.

Usage: check_layers_test.py CHECK_LAYERS_PY
"""
import os
import subprocess
import sys
import tempfile

CHECKER = sys.argv[1]
failures = []


def make_tree(root, extra):
    """A lib/ tree with low/low.h, mid/mid.{h,c} including low, top/top.c
    including mid; `extra` maps relative paths to more (or replaced)
    contents."""
    files = {
        "low/low.h": "int low(void);\n",
        "mid/mid.h": '#include "low/low.h"\nint mid(void);\n',
        "mid/mid.c": '#include <stdio.h>\n#include "subsel.h"\n'
                     '#include "mid/mid.h"\n#include "low/low.h"\n',
        "top/top.c": '#include "mid/mid.h"\n#include "subsel_config.h"\n',
    }
    files.update(extra)
    lib = os.path.join(root, "lib")
    for rel, text in files.items():
        path = os.path.join(lib, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return lib


def check(name, folder, below, uses, extra=None, fails=None):
    """Runs the checker on `folder`; `fails` is None when it must pass, else
    the texts its message must hold."""
    with tempfile.TemporaryDirectory() as root:
        lib = make_tree(root, extra or {})
        stamp = os.path.join(root, "stamp.h")
        depfile = os.path.join(root, "stamp.d")
        r = subprocess.run([sys.executable, CHECKER, lib, folder, stamp,
                            depfile, ",".join(below)] + uses,
                           capture_output=True, text=True)
        if fails is None:
            if r.returncode != 0:
                failures.append("%s: failed: %s" % (name, r.stderr))
                return
            deps = open(depfile).read()
            for f in os.listdir(os.path.join(lib, folder)):
                if f not in deps:
                    failures.append("%s: the depfile lacks %s: %s" % (name, f, deps))
            if not os.path.exists(stamp):
                failures.append("%s: no stamp" % name)
            return
        if r.returncode == 0:
            failures.append("%s: passed, should fail" % name)
            return
        if os.path.exists(stamp):
            failures.append("%s: failed but wrote its stamp" % name)
        for text in fails:
            if text not in r.stderr:
                failures.append("%s: message lacks %r: %s" % (name, text, r.stderr))


check("the right includes", "mid", ["low"], ["low"])
check("the top folder", "top", ["low", "mid"], ["mid"])
check("the lowest folder", "low", [], [])
check("a wrong-way include", "low", [], [],
      {"low/low.c": '#include "mid/mid.h"\n'},
      ["lib/low/low.c:1", '"mid/mid.h"', "lib/low may not use lib/mid",
       "mid is not below low"])
check("a wrong-way angled include", "mid", ["low"], ["low"],
      {"mid/extra.h": "#  include <top/top.h>\n"},
      ["lib/mid/extra.h:1", "lib/mid may not use lib/top"])
check("a wrong-way relative include", "low", [], [],
      {"low/low.c": '#include "../mid/mid.h"\n'},
      ["lib/low may not use lib/mid"])
check("an undeclared lower folder", "top", ["low", "mid"], ["mid"],
      {"top/top.c": '#include "mid/mid.h"\n#include "low/low.h"\n'},
      ["lib/top/top.c:2", "low is below top", "add 'low' to layer_uses"])
check("a declared use never included", "top", ["low", "mid"], ["low", "mid"],
      None, ["layer_uses lists 'low'", "no file of lib/top includes", "remove it"])
check("a declared use above", "mid", ["low"], ["low", "top"],
      None, ["layer_uses lists 'top', which is not below mid"])
check("a header outside lib", "mid", ["low"], ["low"],
      {"mid/mid.c": '#include "low/low.h"\n#include "tests/cut.h"\n'},
      ['"tests/cut.h"', "not a header of a lib/ folder"])
check("a computed include", "mid", ["low"], ["low"],
      {"mid/mid.c": '#include "low/low.h"\n#include HEADER\n'},
      ["lib/mid/mid.c:2", "computed #include"])

for f in failures:
    print("FAIL " + f)
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
